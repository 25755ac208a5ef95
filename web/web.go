// Package web serves the browser playground: the static page in static/
// (HTML, CSS, the page's script app.js and the Web Worker worker.js,
// embedded in the binary) and the WebAssembly build of cmd/playground-wasm
// with the toolchain's wasm_exec.js, both built by BuildWasm from source
// with the user's Go toolchain when the server starts.
//
// The page trains a flow-matching model (Lipman et al. 2022,
// arXiv:2210.02747) in a Web Worker and draws it; see web/playground for
// what is computed. `flowmatch playground` calls BuildWasm and Handler.
// TestPlayground_Serves (cmd/flowmatch) checks the files and their types; the browser test
// (web/browsertest, its own module) drives the page in headless Chromium.
package web

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed static
var static embed.FS

// Static returns the page's static files (index.html, style.css, app.js,
// worker.js).
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

// ModuleRoot returns the folder of the flowmatch module's go.mod at or
// above dir, where BuildWasm finds the source of cmd/playground-wasm.
func ModuleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/flowmatch/flowmatch\n") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no flowmatch source at or above %s: run from a clone of the repository (the playground's WebAssembly is built from source), or pass -wasm", dir)
		}
		d = parent
	}
}

// BuildWasm builds cmd/playground-wasm of the module at root with
// GOOS=js GOARCH=wasm into outDir/playground.wasm and copies the toolchain's
// $(go env GOROOT)/lib/wasm/wasm_exec.js (the loader that matches that
// build) beside it. It runs the go command on PATH.
func BuildWasm(root, outDir string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go command is not on PATH: the playground builds its WebAssembly with it")
	}
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(outDir, "playground.wasm"), "./cmd/playground-wasm")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the WebAssembly (GOOS=js GOARCH=wasm go build ./cmd/playground-wasm in %s): %v\n%s", root, err, out)
	}
	goroot, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("the toolchain's wasm_exec.js: %v", err)
	}
	return os.WriteFile(filepath.Join(outDir, "wasm_exec.js"), b, 0o644)
}

// Handler serves the static page and, from wasmDir, playground.wasm and
// wasm_exec.js. Nothing is cached by the browser (Cache-Control: no-store),
// so a rebuilt .wasm is always the one loaded.
func Handler(wasmDir string) http.Handler {
	files := http.FileServerFS(Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/playground.wasm":
			w.Header().Set("Content-Type", "application/wasm")
			http.ServeFile(w, r, filepath.Join(wasmDir, "playground.wasm"))
		case "/wasm_exec.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			http.ServeFile(w, r, filepath.Join(wasmDir, "wasm_exec.js"))
		default:
			files.ServeHTTP(w, r)
		}
	})
}
