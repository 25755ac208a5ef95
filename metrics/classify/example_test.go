package classify_test

import (
	"fmt"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data/mnist"
	"github.com/flowmatch/flowmatch/metrics/classify"
)

// Train a small classifier on 2,000 images of mnist14 (300 steps), then measure it on 1,000
// others: its accuracy, and the Fréchet distance of its features between real images and real
// images (small) and between real images and the same images turned upside down (large).
func ExampleTrain() {
	set, err := mnist.Load("mnist14", mnist.Test)
	if err != nil {
		fmt.Println(err)
		return
	}
	train, held := set.Head(2000), set.Subset(seq(2000, 3000))
	c, err := classify.Train(train.X, train.Labels, classify.Config{Steps: 300, Batch: 64, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	acc, _, _ := c.Accuracy(held.X, held.Labels)
	fmt.Println("accuracy above 0.85:", acc > 0.85)

	flipped := autograd.Zeros(held.Len(), 196)
	for i := range held.Len() {
		for p, v := range held.X.Row(i) {
			flipped.Row(i)[195-p] = v
		}
	}
	real, _ := c.FrechetDistance(held.X, train.X)
	upside, _ := c.FrechetDistance(held.X, flipped)
	fmt.Println("real vs real closer than real vs upside down:", real < upside)
	// Output:
	// accuracy above 0.85: true
	// real vs real closer than real vs upside down: true
}

func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// Class 0 holds the features (0, 0) and (2, 0): one pair at squared distance 4, and
// 2 tr Σ₀ = 2·(2 + 0) = 4. Class 1 holds one row: NaN. Class 2 holds two equal rows: 0.
func ExampleClassDiversity() {
	f := autograd.FromRows([][]float64{{0, 0}, {2, 0}, {5, 5}, {1, 1}, {1, 1}})
	fmt.Println(classify.ClassDiversity(f, []int{0, 0, 1, 2, 2}, 3))
	// Output:
	// [4 NaN 0]
}
