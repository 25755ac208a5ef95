package safetensors_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "safetensors-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "w.safetensors")
	w := autograd.FromSlice(2, 2, []float64{1, 2, 3, 4})
	err := safetensors.Write(path, []safetensors.Named{{Name: "w", T: w}}, map[string]string{"step": "10"})
	fmt.Println(err)
	f, err := safetensors.Read(path)
	fmt.Println(err, f.Names, f.Tensors["w"], f.Metadata["step"])
	// Output:
	// <nil>
	// <nil> [w] Tensor[2,2][1 2 3 4] 10
}

func ExampleRead() {
	dir, _ := os.MkdirTemp("", "safetensors-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "broken.safetensors")
	os.WriteFile(path, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{'}, 0o644)
	_, err := safetensors.Read(path)
	var e *safetensors.Error
	fmt.Println(errors.As(err, &e), e.Reason)
	// Output: true header length 9223372036854775807 exceeds the limit of 100000000 bytes (corrupt or not a safetensors file)
}

func ExampleFile_LoadInto() {
	dir, _ := os.MkdirTemp("", "safetensors-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "m.safetensors")
	rng := rand.New(rand.NewPCG(1, 2))
	small := nn.NewMLP([]int{2, 4, 1}, autograd.ActTanh, rng)
	safetensors.Write(path, small.NamedParams(), nil)
	f, _ := safetensors.Read(path)

	same := nn.NewMLP([]int{2, 4, 1}, autograd.ActTanh, rng)
	fmt.Println(f.LoadInto(same.NamedParams()))
	other := nn.NewMLP([]int{2, 5, 1}, autograd.ActTanh, rng)
	err := f.LoadInto(other.NamedParams())
	fmt.Println(err.(*safetensors.Error).Reason)
	// Output:
	// <nil>
	// tensors do not match: shape mismatch: layers.0.weight (file [2,4], want [2,5]), layers.0.bias (file [1,4], want [1,5]), layers.1.weight (file [4,1], want [5,1])
}

func ExampleParseFloat() {
	meta := map[string]string{"sigma": safetensors.FormatFloat(1e-4), "bad": "1e-4x"}
	v, err := safetensors.ParseFloat(meta, "sigma")
	fmt.Println(v, err)
	_, err = safetensors.ParseFloat(meta, "bad")
	fmt.Println(err)
	// Output:
	// 0.0001 <nil>
	// metadata bad = "1e-4x": not a finite number
}
