package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flowmatch/flowmatch/web"
)

// servePlayground serves h on ln until the server fails; tests replace it.
var servePlayground = func(ln net.Listener, h http.Handler) error { return http.Serve(ln, h) }

// runPlayground builds the playground's WebAssembly from source with the Go
// toolchain on PATH (web.BuildWasm: GOOS=js GOARCH=wasm go build
// ./cmd/playground-wasm, plus the toolchain's wasm_exec.js), serves web/ on
// localhost and prints the address. -wasm serves an already built folder
// instead. TestPlayground_Serves.
func runPlayground(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("playground", "[-addr 127.0.0.1:8090] [-src .] [-wasm dir]", stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on (port 0: any free port)")
	src := fs.String("src", ".", "a folder inside a clone of flowmatch: the WebAssembly is built from its source")
	wasmDir := fs.String("wasm", "", "serve playground.wasm and wasm_exec.js from this folder instead of building them")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir := *wasmDir
	if dir == "" {
		root, err := web.ModuleRoot(*src)
		if err != nil {
			return err
		}
		if dir, err = os.MkdirTemp("", "flowmatch-playground-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintf(stderr, "building the WebAssembly (GOOS=js GOARCH=wasm go build ./cmd/playground-wasm in %s)\n", root)
		if err := web.BuildWasm(root, dir); err != nil {
			return err
		}
	}
	for _, f := range []string{"playground.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("-wasm %s: %v", dir, err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "playground.wasm")); err == nil {
		fmt.Fprintf(stderr, "playground.wasm: %.1f MB\n", float64(st.Size())/1e6)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %v", *addr, err)
	}
	fmt.Fprintf(stdout, "playground: http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	// Ctrl-C closes the listener, so that the built folder is removed.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	interrupted := make(chan struct{})
	go func() {
		if _, ok := <-stop; ok {
			close(interrupted)
			ln.Close()
		}
	}()
	err = servePlayground(ln, web.Handler(dir))
	select {
	case <-interrupted:
		fmt.Fprintln(stderr, "playground: stopped")
		return nil
	default:
		return err
	}
}
