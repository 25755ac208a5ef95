package discrete

import (
	"fmt"
	"math"
)

// A Scheduler is the mixing weight κ_t of a mixture path (Gat et al. 2024,
// arXiv:2407.15595, §2.2; Lipman et al. 2024, arXiv:2412.06264, §7.4):
// κ increases from κ₀ = 0 (all source) to κ₁ = 1 (all data). DKappa is
// κ̇_t = dκ/dt, and Inverse maps κ back to t (the exact simulation draws
// its candidate jump times in κ). TestScheduler_Derivative checks DKappa
// against a central difference of Kappa, and Inverse against Kappa.
type Scheduler interface {
	Kappa(t float64) float64
	DKappa(t float64) float64
	Inverse(kappa float64) float64
	String() string
}

// Linear is κ_t = t, κ̇_t = 1.
type Linear struct{}

// Kappa returns t.
func (Linear) Kappa(t float64) float64 { return t }

// DKappa returns 1.
func (Linear) DKappa(float64) float64 { return 1 }

// Inverse returns κ.
func (Linear) Inverse(k float64) float64 { return k }

func (Linear) String() string { return "linear" }

// Polynomial is κ_t = tⁿ, κ̇_t = n·tⁿ⁻¹ (Gat et al. 2024, §2.2), n > 0.
type Polynomial struct{ N float64 }

// Kappa returns tⁿ.
func (p Polynomial) Kappa(t float64) float64 { return math.Pow(t, p.N) }

// DKappa returns n·tⁿ⁻¹.
func (p Polynomial) DKappa(t float64) float64 { return p.N * math.Pow(t, p.N-1) }

// Inverse returns κ^(1/n).
func (p Polynomial) Inverse(k float64) float64 { return math.Pow(k, 1/p.N) }

func (p Polynomial) String() string { return fmt.Sprintf("polynomial(%g)", p.N) }

// Cosine is κ_t = 1 − cos²(πt/2) = sin²(πt/2), κ̇_t = (π/2)·sin(πt)
// (Lipman et al. 2024, arXiv:2412.06264, §7.4).
type Cosine struct{}

// Kappa returns sin²(πt/2).
func (Cosine) Kappa(t float64) float64 { s := math.Sin(math.Pi * t / 2); return s * s }

// DKappa returns (π/2)·sin(πt).
func (Cosine) DKappa(t float64) float64 { return math.Pi / 2 * math.Sin(math.Pi*t) }

// Inverse returns (2/π)·asin(√κ).
func (Cosine) Inverse(k float64) float64 { return 2 / math.Pi * math.Asin(math.Sqrt(k)) }

func (Cosine) String() string { return "cosine" }

// JumpCoef returns the jump coefficient κ̇_t/(1 − κ_t) of the mixture
// path's rate (Gat et al. 2024, eq. 9). It is +Inf at κ_t = 1.
func JumpCoef(s Scheduler, t float64) float64 { return s.DKappa(t) / (1 - s.Kappa(t)) }
