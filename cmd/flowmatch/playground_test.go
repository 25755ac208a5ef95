package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command prints the address it serves, and the page, the worker and
// the WebAssembly come from it with their types. (The build itself is run
// by the browser test, web/browsertest, which takes longer.)
func TestPlayground_Serves(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "playground.wasm"), []byte("\x00asm"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wasm_exec.js"), []byte("// go"), 0o644))
	got := map[string]string{}
	saved := servePlayground
	defer func() { servePlayground = saved }()
	servePlayground = func(ln net.Listener, h http.Handler) error {
		go func() { _ = http.Serve(ln, h) }()
		defer ln.Close()
		for _, p := range []string{"/", "/app.js", "/worker.js", "/playground.wasm", "/wasm_exec.js"} {
			r, err := http.Get("http://" + ln.Addr().String() + p)
			require.NoError(t, err)
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			require.Equal(t, 200, r.StatusCode, p)
			got[p] = r.Header.Get("Content-Type") + " " + string(b)
		}
		return nil
	}
	code, out, errs := call("playground", "-addr", "127.0.0.1:0", "-wasm", dir)
	require.Equal(t, 0, code, errs)
	assert.Regexp(t, `^playground: http://127\.0\.0\.1:\d+/ `, out)
	assert.Contains(t, got["/"], "Flow Matching playground")
	assert.Contains(t, got["/worker.js"], "importScripts")
	assert.True(t, strings.HasPrefix(got["/playground.wasm"], "application/wasm"), got["/playground.wasm"])

	code, _, errs = call("playground", "-wasm", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "playground.wasm")
	code, _, errs = call("playground", "-src", "/")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "no flowmatch source")
}
