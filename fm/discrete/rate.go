package discrete

// Rate writes the factorized CTMC rate of a posterior (Gat et al. 2024,
// arXiv:2407.15595, eq. 11; Campbell et al. 2024, arXiv:2402.04997;
// Lipman et al. 2024, arXiv:2412.06264, §7.5) into dst [D·S] (S =
// p.States()):
//
//	uⁱ_t(y, x) = κ̇_t/(1 − κ_t)·[p(x₁ⁱ = y | x) − δ(y, xⁱ)]
//
// for the state x at time t, with post[i·V + y] = p(x₁ⁱ = y | x) (the mask
// M = V has posterior probability 0). For y ≠ xⁱ it is the rate of the jump
// xⁱ → y, and uⁱ(xⁱ, x) = −Σ_{y≠xⁱ} uⁱ(y, x). Under the mask source an
// unmasked position never moves: its exact posterior is δ(xⁱ), so its rate
// is 0, and Rate sets it to 0 whatever post says (a trained model's
// posterior only approximates δ there). Checked by TestKolmogorov_ExactRates.
func Rate(dst []float64, p Path, t float64, x []int, post []float64) {
	c := JumpCoef(p.Sched, t)
	S, V := p.States(), p.V
	for i := 0; i < p.D; i++ {
		row := dst[i*S : (i+1)*S]
		for y := range row {
			row[y] = 0
		}
		if p.Source == Mask && x[i] != V {
			continue
		}
		out := 0.0
		for y := 0; y < V; y++ {
			if y != x[i] {
				row[y] = c * post[i*V+y]
				out += row[y]
			}
		}
		row[x[i]] = -out
	}
}
