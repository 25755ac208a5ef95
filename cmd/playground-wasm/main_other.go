//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "playground-wasm runs in a browser: build it with GOOS=js GOARCH=wasm (flowmatch playground does)")
	os.Exit(2)
}
