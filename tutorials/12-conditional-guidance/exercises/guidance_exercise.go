//go:build exercises

package exercises

import (
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/nn"
)

// GuidedField returns the classifier-free guided field at one point,
//
//	ṽ = (1 − w)·vNull + w·vCond,
//
// where vNull = v(t, x, ∅) is the model's unconditional field (the null
// label) and vCond = v(t, x, c) its field for the class c (tutorial 12
// README, "The guided field"; Ho & Salimans 2022, arXiv:2207.12598, eq. 6,
// whose weight w_HS is our w − 1). w = 1 must give vCond and w = 0 vNull.
// vNull and vCond have the same length; return a new slice.
func GuidedField(vNull, vCond []float64, w float64) []float64 {
	panic("exercise: GuidedField is not written yet — see its doc comment and tutorial 12 README (The guided field)")
}

// NullLabel is the null label ∅ (nn.NullLabel, −1).
const NullLabel = nn.NullLabel

// DropLabels returns the label-dropout batch of classifier-free guidance
// training (tutorial 12 README, "Label dropout"; Ho & Salimans 2022,
// Algorithm 1): a copy of labels in which each label, independently with
// probability p, is replaced by NullLabel. Leave labels itself unchanged.
//
// So that your batch can be compared with the library's for the same random
// numbers, draw exactly one u = rng.Float64() per label, in order, and drop
// the label when u < p.
func DropLabels(labels []int, p float64, rng *rand.Rand) []int {
	panic("exercise: DropLabels is not written yet — see its doc comment and tutorial 12 README (Label dropout)")
}
