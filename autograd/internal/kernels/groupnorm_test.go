package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// groupNormRef and groupNormBackwardRef are the doc comments' loops;
// dropProj leaves out the backward's −x̂·mean(h·x̂) (the negative control).
func groupNormRef(y, stats, x, gamma, beta []float64, n, c, groups, p int, eps float64, silu bool) {
	m := c / groups * p
	for s := 0; s < n; s++ {
		for i := 0; i < groups; i++ {
			seg := x[(s*groups+i)*m : (s*groups+i+1)*m]
			mu, v := 0.0, 0.0
			for _, a := range seg {
				mu += a
			}
			mu /= float64(m)
			for _, a := range seg {
				v += (a - mu) * (a - mu)
			}
			r := 1 / math.Sqrt(v/float64(m)+eps)
			stats[2*(s*groups+i)], stats[2*(s*groups+i)+1] = mu, r
			for k, a := range seg {
				ch := i*(c/groups) + k/p
				z := gamma[ch]*((a-mu)*r) + beta[ch]
				if silu {
					z *= 1 / (1 + math.Exp(-z))
				}
				y[(s*groups+i)*m+k] = z
			}
		}
	}
}

func groupNormBackwardRef(dx, dgamma, dbeta, g, x, gamma, beta, stats []float64, n, c, groups, p int, silu, dropProj bool) {
	m := c / groups * p
	for s := 0; s < n; s++ {
		for i := 0; i < groups; i++ {
			j := s*groups + i
			mu, r := stats[2*j], stats[2*j+1]
			sh, shx := 0.0, 0.0
			for k := 0; k < m; k++ {
				ch := i*(c/groups) + k/p
				xh := (x[j*m+k] - mu) * r
				gz := g[j*m+k]
				if silu {
					z := gamma[ch]*xh + beta[ch]
					sg := 1 / (1 + math.Exp(-z))
					gz *= sg * (1 + z*(1-sg))
				}
				dbeta[ch] += gz
				dgamma[ch] += gz * xh
				sh += gamma[ch] * gz
				shx += gamma[ch] * gz * xh
				dx[j*m+k] = gz
			}
			if dropProj {
				shx = 0
			}
			for k := 0; k < m; k++ {
				ch := i*(c/groups) + k/p
				xh := (x[j*m+k] - mu) * r
				dx[j*m+k] = r * (gamma[ch]*dx[j*m+k] - sh/float64(m) - xh*(shx/float64(m)))
			}
		}
	}
}

// TestGroupNormKernel_MatchesLoop compares GroupNorm and GroupNormBackward
// with their reference loops, with and without SiLU, on odd plane sizes
// (tails of the vector kernels) and one to four groups. The forward pass
// without SiLU and the statistics are the loop's bit for bit; with SiLU each
// value is within 8 ulp of the loop's (the SiLU kernel's few ulp). The
// backward pass sums in another order: a value of ∂L/∂x, r·(h − Σh/m −
// x̂·Σhx̂/m), is within 4·(m + 8)·u·r·(|h| + Σ|h|/m + |x̂|·Σ|hx̂|/m) (each sum
// of m terms rounds at most m·u of its magnitude, plus the SiLU′ kernel's
// ulps), and ∂L/∂γ, ∂L/∂β, sums of n·p terms, within 4·(n·p + 8)·u·Σ|terms|.
// Negative control: the loop without the projection term −x̂·mean(h·x̂)
// is farther than that from GroupNormBackward.
func TestGroupNormKernel_MatchesLoop(t *testing.T) {
	const u = 0x1p-53
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range []struct{ n, c, groups, p int }{{1, 1, 1, 1}, {2, 4, 2, 7}, {3, 6, 3, 13}, {2, 8, 4, 49}, {1, 4, 1, 196}} {
		for _, silu := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/silu=%v", sh, silu), func(t *testing.T) {
				n, c, groups, p := sh.n, sh.c, sh.groups, sh.p
				size := n * c * p
				x, g := randSlice(rng, size), randSlice(rng, size)
				for i := range x {
					x[i] = 3 + 2*x[i]
				}
				gamma, beta := randSlice(rng, c), randSlice(rng, c)
				y, yw := randSlice(rng, size), randSlice(rng, size)
				st, stw := make([]float64, 2*n*groups), make([]float64, 2*n*groups)
				GroupNorm(y, st, x, gamma, beta, n, c, groups, p, 1e-5, silu)
				groupNormRef(yw, stw, x, gamma, beta, n, c, groups, p, 1e-5, silu)
				for i := range st {
					if st[i] != stw[i] {
						t.Fatalf("stats[%d] = %v, want %v (bit for bit)", i, st[i], stw[i])
					}
				}
				for i := range y {
					tol := 8 * u * math.Abs(yw[i])
					if !silu {
						tol = 0
					}
					if d := math.Abs(y[i] - yw[i]); d > tol {
						t.Fatalf("y[%d] = %v, want %v (diff %g, tol %g)", i, y[i], yw[i], d, tol)
					}
				}
				dx, dxw, dxc := randSlice(rng, size), make([]float64, size), make([]float64, size)
				dgamma, dbeta := make([]float64, c), make([]float64, c)
				dgw, dbw := make([]float64, c), make([]float64, c)
				GroupNormBackward(dx, dgamma, dbeta, g, x, gamma, beta, st, n, c, groups, p, silu)
				groupNormBackwardRef(dxw, dgw, dbw, g, x, gamma, beta, st, n, c, groups, p, silu, false)
				groupNormBackwardRef(dxc, make([]float64, c), make([]float64, c), g, x, gamma, beta, st, n, c, groups, p, silu, true)
				// Magnitudes for the bounds: g_z as in the loop.
				m := c / groups * p
				gzs := make([]float64, size)
				copy(gzs, g)
				if silu {
					for k := range gzs {
						ch := (k / p) % c
						j := k / m
						z := gamma[ch]*((x[k]-st[2*j])*st[2*j+1]) + beta[ch]
						sg := 1 / (1 + math.Exp(-z))
						gzs[k] *= sg * (1 + z*(1-sg))
					}
				}
				worst, control := 0.0, 0.0
				for j := 0; j < n*groups; j++ {
					mu, r := st[2*j], st[2*j+1]
					var ah, ahx float64
					for k := j * m; k < (j+1)*m; k++ {
						ch := (k / p) % c
						xh := (x[k] - mu) * r
						ah += math.Abs(gamma[ch] * gzs[k])
						ahx += math.Abs(gamma[ch] * gzs[k] * xh)
					}
					for k := j * m; k < (j+1)*m; k++ {
						ch := (k / p) % c
						xh := (x[k] - mu) * r
						tol := 4 * float64(m+8) * u * r * (math.Abs(gamma[ch]*gzs[k]) + ah/float64(m) + math.Abs(xh)*ahx/float64(m))
						worst = max(worst, math.Abs(dx[k]-dxw[k])/tol)
						control = max(control, math.Abs(dxc[k]-dx[k])/tol)
					}
				}
				if worst > 1 {
					t.Fatalf("∂L/∂x off by %.3g of the bound", worst)
				}
				if m > 1 && control <= 1 {
					t.Fatalf("control: ∂L/∂x without the projection term is within the bound (%.3g)", control)
				}
				for ch := 0; ch < c; ch++ {
					var ag, ab float64
					for k := range x {
						if (k/p)%c == ch {
							j := k / m
							ab += math.Abs(gzs[k])
							ag += math.Abs(gzs[k] * (x[k] - st[2*j]) * st[2*j+1])
						}
					}
					tg, tb := 4*float64(n*p+8)*u*ag, 4*float64(n*p+8)*u*ab
					if d := math.Abs(dgamma[ch] - dgw[ch]); d > tg {
						t.Fatalf("∂L/∂γ[%d] = %v, want %v (diff %g, tol %g)", ch, dgamma[ch], dgw[ch], d, tg)
					}
					if d := math.Abs(dbeta[ch] - dbw[ch]); d > tb {
						t.Fatalf("∂L/∂β[%d] = %v, want %v (diff %g, tol %g)", ch, dbeta[ch], dbw[ch], d, tb)
					}
				}
			})
		}
	}
}
