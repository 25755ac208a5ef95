package playground

import "testing"

// BenchmarkTrain is the page's run (8gaussians, CondOT, batch 128, LR 3e-3,
// as app.js asks) for the small and medium models: one op is one training
// step. Run it natively and under GOOS=js GOARCH=wasm with
// -exec $(go env GOROOT)/lib/wasm/go_js_wasm_exec to compare.
func BenchmarkTrain(b *testing.B) {
	for _, size := range []string{"small", "medium"} {
		b.Run(size, func(b *testing.B) {
			s, err := New(Config{Dataset: "8gaussians", Size: size, Batch: 128, LR: 3e-3, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Train(1); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if _, err := s.Train(b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkFrame is one frame at t = 1 as the page asks for it.
func BenchmarkFrame(b *testing.B) {
	s, err := New(Config{Dataset: "8gaussians", Size: "small", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := s.Frame(View{T: 1, N: 200, Traj: 40, Grid: 17, Res: 48}); err != nil {
			b.Fatal(err)
		}
	}
}
