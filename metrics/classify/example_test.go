package classify_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/metrics/classify"
)

// Class 0 holds the features (0, 0) and (2, 0): one pair at squared distance 4, and
// 2 tr Σ₀ = 2·(2 + 0) = 4. Class 1 holds one row: NaN. Class 2 holds two equal rows: 0.
func ExampleClassDiversity() {
	f := autograd.FromRows([][]float64{{0, 0}, {2, 0}, {5, 5}, {1, 1}, {1, 1}})
	fmt.Println(classify.ClassDiversity(f, []int{0, 0, 1, 2, 2}, 3))
	// Output:
	// [4 NaN 0]
}
