package autograd

import (
	"fmt"
	"strings"
)

// Activation names an element-wise nonlinearity. It is the one activation
// type of flowmatch: nn's layers, the fused kernels of autograd/fused,
// checkpoints (by name) and the command's -act flag all use it.
//
//	silu     x·σ(x)
//	tanh     tanh x
//	relu     max(x, 0)
//	elu      x if x > 0, eˣ − 1 otherwise
//	softplus ln(1 + eˣ)
type Activation string

// The activations, named as in checkpoints and on the command line.
const (
	ActSiLU     Activation = "silu"
	ActTanh     Activation = "tanh"
	ActReLU     Activation = "relu"
	ActELU      Activation = "elu"
	ActSoftplus Activation = "softplus"
)

// Activations lists every Activation, in the order above.
func Activations() []Activation {
	return []Activation{ActSiLU, ActTanh, ActReLU, ActELU, ActSoftplus}
}

// Valid reports whether a is one of the constants.
func (a Activation) Valid() bool {
	for _, b := range Activations() {
		if a == b {
			return true
		}
	}
	return false
}

// ParseActivation returns the Activation named s (case and surrounding
// space ignored), or an error listing the valid names.
func ParseActivation(s string) (Activation, error) {
	if a := Activation(strings.ToLower(strings.TrimSpace(s))); a.Valid() {
		return a, nil
	}
	names := make([]string, 0, 5)
	for _, b := range Activations() {
		names = append(names, string(b))
	}
	return "", fmt.Errorf("unknown activation %q (want one of %s)", s, strings.Join(names, ", "))
}

// Apply returns the activation of x, element-wise, with the op of that name
// (SiLU, Tanh, ReLU, ELU, Softplus). It panics with a *MisuseError for an
// Activation not among the constants (use ParseActivation on user input).
func (a Activation) Apply(x *Tensor) *Tensor {
	switch a {
	case ActSiLU:
		return SiLU(x)
	case ActTanh:
		return Tanh(x)
	case ActReLU:
		return ReLU(x)
	case ActELU:
		return ELU(x)
	case ActSoftplus:
		return Softplus(x)
	}
	panic(Misuse("Activation.Apply", "unknown activation %q; want one of %v", string(a), Activations()))
}
