package main

import "testing"

// TestFlagArg: the one scanner the routes use (dataArgIn, checkpointArg,
// benchCondArg) reads -name=v, --name=v and -name v, and ignores positional
// words, other flags and a trailing flag without a value.
func TestFlagArg(t *testing.T) {
	for _, c := range []struct {
		args []string
		v    string
		ok   bool
	}{
		{[]string{"-data=mnist14"}, "mnist14", true},
		{[]string{"--data", "sphere-vmf", "-steps", "3"}, "sphere-vmf", true},
		{[]string{"-steps", "3", "-data", "moons"}, "moons", true},
		{[]string{"data=moons"}, "", false},          // not a flag
		{[]string{"-database=x"}, "", false},         // another flag
		{[]string{"-steps", "data", "x"}, "", false}, // a value, not a flag
		{[]string{"-data"}, "", false},               // no value follows
		{nil, "", false},
	} {
		v, ok := flagArg(c.args, "data")
		if v != c.v || ok != c.ok {
			t.Errorf("flagArg(%q, data) = %q, %v; want %q, %v", c.args, v, ok, c.v, c.ok)
		}
	}
	if !benchCondArg([]string{"-what", "train-cond"}) || benchCondArg([]string{"-what", "train"}) {
		t.Error("benchCondArg does not route -what train-cond alone")
	}
	if checkpointArg([]string{"-n", "3", "--checkpoint=m.safetensors"}) != "m.safetensors" {
		t.Error("checkpointArg misses --checkpoint=…")
	}
}
