//go:build js && wasm

package main

import (
	"encoding/json"
	"syscall/js"
)

func main() {
	g := js.Global()
	g.Set("fmNew", js.FuncOf(func(_ js.Value, args []js.Value) any { return call(newSession, args) }))
	g.Set("fmTrain", js.FuncOf(func(_ js.Value, args []js.Value) any { return call(train, args) }))
	g.Set("fmFrame", js.FuncOf(func(_ js.Value, args []js.Value) any { return call(frame, args) }))
	g.Set("fmLogLik", js.FuncOf(func(_ js.Value, args []js.Value) any { return call(logLik, args) }))
	g.Set("fmDatasets", js.FuncOf(func(js.Value, []js.Value) any { return datasets() }))
	if cb := g.Get("fmReady"); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {}
}

// call runs f on the first argument (a JSON string) and returns its result
// as JSON: {"ok": result} or {"error": message}.
func call(f func(string) (any, error), args []js.Value) any {
	in := ""
	if len(args) > 0 {
		in = args[0].String()
	}
	out, err := f(in)
	var b []byte
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	} else {
		b, err = json.Marshal(map[string]any{"ok": out})
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": err.Error()})
		}
	}
	return string(b)
}
