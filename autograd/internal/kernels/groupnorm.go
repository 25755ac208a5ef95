package kernels

import "math"

/*
Group normalization in two passes over the data.

x [n, C·P] holds n samples of C channel planes of P pixels; G groups split
the C channels into runs of C/G, so group (s, i) is the m = (C/G)·P
contiguous values x[s, i·m : (i+1)·m]. GroupNorm (Wu & He 2018,
arXiv:1803.08494, §3.1) with per-channel scale γ and shift β, optionally
followed by SiLU (z·σ(z), as every normalization of a U-Net block is):

	μ = (1/m) Σ x,  σ² = (1/m) Σ (x − μ)²,  r = 1/√(σ² + eps)
	x̂ = (x − μ)·r,  z = γ_c·x̂ + β_c,  y = z or SiLU(z)

Its backward pass, with g = ∂L/∂y, g_z = g (or g ⊙ SiLU′(z)) and
h = γ_c·g_z, is the usual one for a normalization:

	∂L/∂β_c = Σ_{s,p} g_z,  ∂L/∂γ_c = Σ_{s,p} g_z·x̂
	∂L/∂x   = r·(h − mean(h) − x̂·mean(h·x̂))   (means over the group)

The forward pass keeps only μ and r per group (stats); the backward pass
recomputes x̂ and z from x, so no [n, C·P] intermediate survives the
forward pass. The autograd op GroupNorm (ops_conv.go) uses these kernels
for a first-order backward pass and differentiates the composition of ops
otherwise.
*/

// GroupNorm sets y [n, c·p] to the group normalization of x with scale
// gamma [c] and shift beta [c] over groups groups, followed by SiLU when
// silu is true, and stats [2·n·groups] to each group's mean μ and
// r = 1/√(σ² + eps) (at 2·(s·groups + i) and 2·(s·groups + i) + 1):
//
//	m := c / groups * p
//	for s := 0; s < n; s++ {
//		for i := 0; i < groups; i++ {
//			seg := x[(s*groups+i)*m : (s*groups+i+1)*m]
//			mu, v := 0.0, 0.0
//			for _, a := range seg {
//				mu += a
//			}
//			mu /= float64(m)
//			for _, a := range seg {
//				v += (a - mu) * (a - mu)
//			}
//			r := 1 / math.Sqrt(v/float64(m)+eps)
//			stats[2*(s*groups+i)], stats[2*(s*groups+i)+1] = mu, r
//			for k, a := range seg {
//				ch := i*(c/groups) + k/p
//				z := gamma[ch]*((a-mu)*r) + beta[ch]
//				if silu {
//					z *= 1 / (1 + math.Exp(-z))
//				}
//				y[(s*groups+i)*m+k] = z
//			}
//		}
//	}
//
// The SiLU runs the SiLU kernel over each channel plane, within a few ulp
// of the loop (TestActivations_ULP); without it the result is the loop's
// bit for bit. TestGroupNormKernel_MatchesLoop.
func GroupNorm(y, stats, x, gamma, beta []float64, n, c, groups, p int, eps float64, silu bool) {
	cg := c / groups
	m := cg * p
	y, x = y[:n*c*p], x[:n*c*p]
	stats = stats[:2*n*groups]
	for s := 0; s < n; s++ {
		for i := 0; i < groups; i++ {
			j := s*groups + i
			seg, out := x[j*m:(j+1)*m], y[j*m:(j+1)*m]
			mu, r := meanRstd(seg, eps)
			stats[2*j], stats[2*j+1] = mu, r
			for cc := 0; cc < cg; cc++ {
				gm, bt := gamma[i*cg+cc], beta[i*cg+cc]
				src, dst := seg[cc*p:(cc+1)*p], out[cc*p:(cc+1)*p]
				for k, a := range src {
					dst[k] = gm*((a-mu)*r) + bt
				}
				if silu {
					SiLU(dst, dst)
				}
			}
		}
	}
}

// meanRstd returns the mean μ of seg and 1/√(σ² + eps), σ² the mean of
// (seg − μ)², in two passes as GroupNorm's loop.
func meanRstd(seg []float64, eps float64) (mu, r float64) {
	for _, a := range seg {
		mu += a
	}
	mu /= float64(len(seg))
	var v float64
	for _, a := range seg {
		d := a - mu
		v += d * d
	}
	return mu, 1 / math.Sqrt(v/float64(len(seg))+eps)
}

// GroupNormBackward sets dx [n, c·p] to ∂L/∂x and adds ∂L/∂γ and ∂L/∂β to
// dgamma [c] and dbeta [c], for g = ∂L/∂y [n, c·p] and GroupNorm's x,
// gamma, beta, silu and stats (see the top of groupnorm.go):
//
//	m := c / groups * p
//	for s := 0; s < n; s++ {
//		for i := 0; i < groups; i++ {
//			j := s*groups + i
//			mu, r := stats[2*j], stats[2*j+1]
//			sh, shx := 0.0, 0.0
//			for k := 0; k < m; k++ {
//				ch := i*(c/groups) + k/p
//				xh := (x[j*m+k] - mu) * r
//				gz := g[j*m+k]
//				if silu {
//					z := gamma[ch]*xh + beta[ch]
//					sg := 1 / (1 + math.Exp(-z))
//					gz *= sg * (1 + z*(1-sg))
//				}
//				dbeta[ch] += gz
//				dgamma[ch] += gz * xh
//				sh += gamma[ch] * gz
//				shx += gamma[ch] * gz * xh
//				dx[j*m+k] = gz
//			}
//			for k := 0; k < m; k++ {
//				ch := i*(c/groups) + k/p
//				xh := (x[j*m+k] - mu) * r
//				dx[j*m+k] = r * (gamma[ch]*dx[j*m+k] - sh/float64(m) - xh*(shx/float64(m)))
//			}
//		}
//	}
//
// The SiLU′ runs the SiLUGrad kernel over each channel plane (within a few
// ulp of the loop) and the sums over a plane are accumulated before they
// are added to dbeta, dgamma, sh and shx, so the sums are rounded
// differently from the loop's. TestGroupNormKernel_MatchesLoop.
func GroupNormBackward(dx, dgamma, dbeta, g, x, gamma, beta, stats []float64, n, c, groups, p int, silu bool) {
	cg := c / groups
	m := cg * p
	dx, g, x = dx[:n*c*p], g[:n*c*p], x[:n*c*p]
	dgamma, dbeta = dgamma[:c], dbeta[:c]
	inv := 1 / float64(m)
	for s := 0; s < n; s++ {
		for i := 0; i < groups; i++ {
			j := s*groups + i
			mu, r := stats[2*j], stats[2*j+1]
			var sh, shx float64
			for cc := 0; cc < cg; cc++ {
				ch := i*cg + cc
				gm := gamma[ch]
				src, gr, dst := x[(j*cg+cc)*p:(j*cg+cc+1)*p], g[(j*cg+cc)*p:(j*cg+cc+1)*p], dx[(j*cg+cc)*p:(j*cg+cc+1)*p]
				if silu {
					bt := beta[ch]
					for k, a := range src {
						dst[k] = gm*((a-mu)*r) + bt
					}
					SiLUGrad(dst, gr, dst)
				} else {
					copy(dst, gr)
				}
				var sb, sgx float64
				for k, a := range src {
					xh := (a - mu) * r
					gz := dst[k]
					sb += gz
					sgx += gz * xh
				}
				dbeta[ch] += sb
				dgamma[ch] += sgx
				sh += gm * sb
				shx += gm * sgx
			}
			a, b := sh*inv, shx*inv
			for cc := 0; cc < cg; cc++ {
				gm := gamma[i*cg+cc]
				src, dst := x[(j*cg+cc)*p:(j*cg+cc+1)*p], dx[(j*cg+cc)*p:(j*cg+cc+1)*p]
				for k, v := range src {
					xh := (v - mu) * r
					dst[k] = r * (gm*dst[k] - a - xh*b)
				}
			}
		}
	}
}
