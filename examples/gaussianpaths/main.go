// Command gaussianpaths measures two things on 8gaussians with package fm's
// affine-Gaussian toolbox (Lipman et al. 2024, arXiv:2412.06264, §4.8), and
// prints two tables:
//
//  1. NFE against quality on one trained CondOT (σ_min = 0) model: W₂² to a
//     data sample for Euler, Heun, RK4, the exponential integrator
//     fm.SampleExpInt of order 1 and 2 (DPM-Solver++(2M), Lu et al. 2022,
//     arXiv:2211.01095) and Dopri5, beside the converged value (RK4, 200
//     steps) and the data-vs-data floor; then the held-out NLL − H of the
//     same model against the NFE of the likelihood solve (exact divergence);
//
//  2. flow matching against denoising score matching (Vincent 2011; Song et
//     al. 2021, arXiv:2011.13456) on the VP path at equal training steps and
//     equal NFE: the same MLP trained as a velocity (CFM loss) or as a score
//     (λ = σ_t², fm.DSMWeight), sampled by the probability-flow ODE (RK4)
//     and by the reverse SDE g_t = √β(1 − t) (fm.SampleSDE), W₂² and the
//     held-out NLL − H (cnf.LogLikelihood through the probability-flow ODE,
//     RK4 50 steps, exact divergence, n fresh points; H of 8gaussians from
//     data.Entropy) as mean ± standard error over seeds.
//
//     go run ./examples/gaussianpaths                 # 3000 steps, 3 seeds
//     go run ./examples/gaussianpaths -steps 300 -seeds 2 -n 300
//
// W₂² is exact (fm.Assignment) between n model samples and n data points.
//
// Measured with the defaults (3000 steps, 3 seeds, n = 1000; 8 min 57 s wall
// on a 2-core AMD EPYC (Zen 5, family 26), shared with other work, load
// average 25–38; 4 min 17 s without the NLLs at load ~15):
// converged W₂² 0.1299, data-vs-data floor 0.0970;
//
//	NFE   Euler    Heun     RK4      ExpInt1  ExpInt2
//	 4    0.3483   0.6452   0.5229   0.3483   0.2420
//	 8    0.1726   0.1363   0.1301   0.1726   0.1374
//	12    0.1488   0.1313   0.1292   0.1488   0.1328
//	16    0.1407   0.1304   0.1296   0.1407   0.1315
//	20    0.1370   0.1302   0.1298   0.1370   0.1309
//	40    0.1318   0.1299   0.1299   0.1318   0.1302
//	Dopri5: NFE 20 at tol 1e-2 (0.1306), NFE 20 at 1e-3 (0.1301), NFE 56 at 1e-5 (0.1299)
//
// (ExpInt1 equals Euler, up to rounding, on CondOT with σ_min = 0: there
// (σ_t/σ_s)x + α_t(1 − e^{−h})x̂₁ = x + (t − s)·u, DDIM's step is Euler's.)
// Held-out NLL − H of that model (1000 points, ± s.e. over points, H =
// 2.8313 ± 0.0022): RK4 NFE 8 0.1597 ± 0.0282, NFE 20 0.1769 ± 0.0314,
// NFE 40 0.1783 ± 0.0316, NFE 200 0.1784 ± 0.0316, Dopri5 (tol 1e-5) NFE 62
// 0.1784 ± 0.0316; the coarse solve's lower value is its error, not a
// better model. FM vs DSM, mean ± SE over 3 seeds at NFE 200:
//
//	FM ODE   W₂² 0.1319 ± 0.0105   NLL − H 0.1485 ± 0.0076
//	FM SDE   W₂² 0.1519 ± 0.0362
//	DSM ODE  W₂² 0.3856 ± 0.0539   NLL − H 0.7490 ± 0.2172
//	DSM SDE  W₂² 0.2497 ± 0.0225
//
// (the SDE has no likelihood of its own). At 1000 steps (W₂² only): FM ODE
// 0.1753 ± 0.0251, FM SDE 0.2146 ± 0.0279, DSM ODE 0.5068 ± 0.1601, DSM SDE
// 0.2763 ± 0.0505.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/cnf"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/internal/stats"
	"github.com/flowmatch/flowmatch/nn"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gaussianpaths:", err)
		os.Exit(1)
	}
}

func run(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("gaussianpaths", flag.ContinueOnError)
	steps := fs.Int("steps", 3000, "training steps of every model (batch 256, Adam)")
	seeds := fs.Int("seeds", 3, "seeds of the FM-vs-DSM comparison (≥ 2 for a standard error)")
	n := fs.Int("n", 1000, "samples and data points of each W₂², and held-out points of each NLL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *steps < 1 || *seeds < 2 || *n < 2 {
		return fmt.Errorf("want -steps ≥ 1, -seeds ≥ 2, -n ≥ 2; got %d, %d, %d", *steps, *seeds, *n)
	}
	h, hse, err := data.Entropy("8gaussians")
	if err != nil {
		return err
	}
	var derr error
	sampler := func(k int, r *rand.Rand) *autograd.Tensor {
		x, err := data.Sample("8gaussians", k, r)
		if err != nil {
			derr = err
			return autograd.Zeros(k, 2)
		}
		return x
	}
	ref := sampler(*n, fm.NewRand(3))
	floor := w2(sampler(*n, fm.NewRand(4)), ref)
	held := sampler(*n, fm.NewRand(5)) // held-out points of every NLL
	if derr != nil {
		return derr
	}

	// 1. NFE against W₂² on one CondOT model.
	p := fm.CondOT{}
	model := nn.NewVelocityMLP(2, []int{64, 64, 64}, autograd.ActSiLU, fm.NewRand(1))
	if _, err := fm.Train(model, fm.TrainConfig{Path: p, Data: sampler, BatchSize: 256, Steps: *steps, LR: 2e-3, Seed: 1, Fused: true, LRSchedule: fm.CosineSchedule}); err != nil {
		return err
	}
	v := fm.Velocity(model.Forward)
	x0 := autograd.Normal(*n, 2, 0, 1, fm.NewRand(2))
	solve := func(o cnf.SolveOptions) (float64, int, error) {
		x, st, err := cnf.Integrate(cnf.FieldOf(v), x0.NoGraph(), 0, 1, o)
		if err != nil {
			return 0, 0, err
		}
		return w2(x, ref), st.NFE, nil
	}
	conv, _, err := solve(cnf.SolveOptions{Method: cnf.RK4, Steps: 200})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "NFE vs W₂² (8gaussians, CondOT σ_min = 0, %d steps, n = %d): converged %.4f (RK4, 200 steps), data-vs-data floor %.4f\n", *steps, *n, conv, floor)
	frozen := fm.Velocity(model.Frozen().Forward)
	fmt.Fprintf(w, "%4s %8s %8s %8s %8s %8s\n", "NFE", "Euler", "Heun", "RK4", "ExpInt1", "ExpInt2")
	for _, nfe := range []int{4, 8, 12, 16, 20, 40} {
		row := []float64{}
		for _, o := range []cnf.SolveOptions{{Method: cnf.Euler, Steps: nfe}, {Method: cnf.Heun, Steps: nfe / 2}, {Method: cnf.RK4, Steps: nfe / 4}} {
			e, _, err := solve(o)
			if err != nil {
				return err
			}
			row = append(row, e)
		}
		for _, order := range []int{1, 2} {
			x, err := fm.SampleExpInt(v, p, x0, nfe, order)
			if err != nil {
				return err
			}
			row = append(row, w2(x, ref))
		}
		fmt.Fprintf(w, "%4d %8.4f %8.4f %8.4f %8.4f %8.4f\n", nfe, row[0], row[1], row[2], row[3], row[4])
	}
	for _, tol := range []float64{1e-2, 1e-3, 1e-5} {
		e, nfe, err := solve(cnf.SolveOptions{Method: cnf.Dopri5, RTol: tol, ATol: tol})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Dopri5 tol %g: NFE %d, W₂² %.4f\n", tol, nfe, e)
	}
	fmt.Fprintf(w, "NFE vs held-out NLL − H ± s.e. over points (same model, exact divergence, %d points, H = %.4f ± %.4f):", *n, h, hse)
	for _, o := range []cnf.SolveOptions{{Method: cnf.RK4, Steps: 2}, {Method: cnf.RK4, Steps: 5}, {Method: cnf.RK4, Steps: 10}, {Method: cnf.RK4, Steps: 50}, {Method: cnf.Dopri5, RTol: 1e-5, ATol: 1e-5}} {
		nll, se, nfe, err := heldOutNLL(frozen, p, held, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, " %s NFE %d: %.4f ± %.4f;", o.Method, nfe, nll-h, se)
	}
	fmt.Fprintln(w)

	// 2. FM against DSM on the VP path.
	vp := fm.VP{}
	g := func(t float64) float64 { return math.Sqrt(0.1 + 19.9*(1-t)) }
	res := map[string][]float64{}
	for seed := uint64(1); seed <= uint64(*seeds); seed++ {
		for _, c := range []struct {
			name   string
			param  fm.Param
			weight func(float64) float64
		}{{"FM", fm.ParamVelocity, nil}, {"DSM", fm.ParamScore, fm.DSMWeight(vp)}} {
			m := nn.NewVelocityMLP(2, []int{64, 64, 64}, autograd.ActSiLU, fm.NewRand(10+seed))
			if _, err := fm.TrainParam(m, fm.ParamTrainConfig{Path: vp, Param: c.param, Weight: c.weight, Data: sampler, BatchSize: 256, Steps: *steps, LR: 2e-3, Seed: seed}); err != nil {
				return err
			}
			mv := fm.AsVelocity(m.Forward, vp, c.param)
			x0 := fm.SampleSource(vp, *n, 2, fm.NewRand(100+seed))
			xo, _, err := cnf.Integrate(cnf.FieldOf(mv), x0.NoGraph(), 0, 1, cnf.SolveOptions{Method: cnf.RK4, Steps: 50})
			if err != nil {
				return err
			}
			xs, err := fm.SampleSDE(mv, vp, g, x0, 200, fm.NewRand(200+seed))
			if err != nil {
				return err
			}
			nll, _, _, err := heldOutNLL(fm.AsVelocity(m.Frozen().Forward, vp, c.param), vp, held, cnf.SolveOptions{Method: cnf.RK4, Steps: 50})
			if err != nil {
				return err
			}
			res[c.name+" NLL"] = append(res[c.name+" NLL"], nll-h)
			res[c.name+" ODE"] = append(res[c.name+" ODE"], w2(xo, ref))
			res[c.name+" SDE"] = append(res[c.name+" SDE"], w2(xs, ref))
		}
	}
	fmt.Fprintf(w, "FM vs DSM (8gaussians, VP β 0.1–20, MLP 2→64→64→64→2, %d steps, %d seeds, NFE 200 each, n = %d; W₂² floor %.4f; held-out NLL − H by the probability-flow ODE, H = %.4f ± %.4f):\n", *steps, *seeds, *n, floor, h, hse)
	for _, k := range []string{"FM ODE", "FM SDE", "DSM ODE", "DSM SDE"} {
		m, se := stats.MeanStdErr(res[k])
		fmt.Fprintf(w, "%-8s W₂² = %.4f ± %.4f", k, m, se)
		if k[len(k)-3:] == "ODE" {
			nk := k[:len(k)-3] + "NLL"
			m, se := stats.MeanStdErr(res[nk])
			fmt.Fprintf(w, "   NLL − H = %.4f ± %.4f", m, se)
		}
		fmt.Fprintln(w)
	}
	return derr
}

// heldOutNLL returns the mean negative log-likelihood of the rows of x
// under the flow of v from N(0, s²I) at t = 0 (s = p.SourceStd()) to t = 1,
// its standard error and the NFE, by cnf.LogLikelihood from t = 1 back to
// t = 0 with the exact divergence (Chen et al. 2018, arXiv:1806.07366,
// Theorem 1).
func heldOutNLL(v fm.Velocity, p fm.Path, x *autograd.Tensor, o cnf.SolveOptions) (nll, se float64, nfe int, err error) {
	lk, st, err := cnf.LogLikelihood(cnf.FieldOf(v), x.NoGraph(), 1, 0, cnf.NormalLogProb(p.SourceStd()), nil, o)
	if err != nil {
		return 0, 0, 0, err
	}
	nlls := make([]float64, x.Rows)
	for i, l := range lk.LogP1.Data {
		nlls[i] = -l
	}
	nll, se = stats.MeanStdErr(nlls)
	return nll, se, st.NFE, nil
}

// w2 returns W₂² between two equal-size samples by exact assignment.
func w2(a, b *autograd.Tensor) float64 {
	_, tot := fm.Assignment(fm.SquaredDistances(a, b))
	return tot / float64(a.Rows)
}
