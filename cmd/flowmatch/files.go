package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	ag "github.com/flowmatch/flowmatch/autograd"
	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/fm"
)

// Every command checks its inputs and outputs before it starts working, and
// follows one policy for outputs (outputPolicy, printed in the usage text):
// a file's folder must already exist; an output folder (-out of plot and
// demo) is created if missing, but only if its parent exists, and only after
// every other flag and input has been checked. Files are written atomically
// (a temporary file in the same folder, renamed at the end).
const outputPolicy = `Outputs: a file's folder must already exist; an output folder (plot, demo) is
created if it is missing and its parent exists. Both are checked before any
work starts. Files are written atomically (a temporary file, then a rename).`

// maxPoints bounds -n of every command (and sample's -n·d at 2·maxPoints
// values): the points are held in memory (16 bytes a 2-D point, and about 40
// bytes of CSV text) and each costs hundreds of network evaluations.
const maxPoints = 2_000_000

// maxSteps and maxBatch bound -steps and -batch of every training
// command, whatever the data (the discrete and manifold commands allowed
// 10⁶ steps, the others 10⁸).
const (
	maxSteps = 100_000_000
	maxBatch = 1 << 16
)

// checkCount rejects a count flag outside [lo, hi] with a one-line usage error.
func checkCount(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return usagef("-%s %d: want %d to %d", name, v, lo, hi)
	}
	return nil
}

// checkOutFile checks before any work that the file output path (flag -name)
// has one of the extensions exts and that its folder exists and is writable.
func checkOutFile(name, path string, exts ...string) error {
	ext := strings.ToLower(filepath.Ext(path))
	ok := false
	for _, e := range exts {
		ok = ok || ext == e
	}
	if !ok {
		return usagef("-%s %s: want a file name ending in %s", name, path, strings.Join(exts, " or "))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("-%s %s: is a folder; want a file name", name, path)
	}
	return checkWritableDir(name, path, filepath.Dir(path))
}

// checkWritableDir checks that dir exists, is a folder and can hold a new file.
func checkWritableDir(name, out, dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return usagef("-%s %s: folder %s does not exist (create it first)", name, out, dir)
	}
	if err != nil {
		return fmt.Errorf("-%s %s: %w", name, out, err)
	}
	if !st.IsDir() {
		return usagef("-%s %s: %s is not a folder", name, out, dir)
	}
	f, err := os.CreateTemp(dir, ".flowmatch-check*")
	if err != nil {
		return fmt.Errorf("-%s %s: cannot write in %s: %w", name, out, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkOutDir checks before any work that the output folder dir (flag -name)
// can be made: it is a writable folder, or it is missing and its parent is a
// writable folder. makeOutDir creates it once every other check has passed.
func checkOutDir(name, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return usagef("-%s %s: is a file; want a folder", name, dir)
	case err == nil:
		return checkWritableDir(name, dir, dir)
	case errors.Is(err, fs.ErrNotExist):
		return checkWritableDir(name, dir, filepath.Dir(filepath.Clean(dir)))
	}
	return fmt.Errorf("-%s %s: %w", name, dir, err)
}

// makeOutDir creates the output folder checked by checkOutDir (its parent
// exists, so no other folder is made) and says so on w.
func makeOutDir(dir string, w io.Writer) error {
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		fmt.Fprintf(w, "created folder %s\n", dir)
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	return nil
}

// writeReportJSON writes a demo's report r as report.json in dir (indented,
// atomically) and returns the file.
func writeReportJSON(dir string, r any) (string, error) {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, "report.json")
	return file, data.WriteFileAtomic(file, append(js, '\n'))
}

// dataSource is the -data of a command: a built-in dataset or the rows of a
// .csv or .npy file.
type dataSource struct {
	Spec string     // the flag's value
	Toy  data.Toy   // the built-in set, or nil for a file
	Rows *ag.Tensor // the file's rows, or nil for a built-in set
}

// openData resolves -data (flag -name): a .csv/.npy file is read whole, any
// other value must be a built-in dataset. A bad name is a usage error naming
// `flowmatch datasets`; an unreadable or malformed file is an error naming
// the file.
func openData(name, spec string) (*dataSource, error) {
	switch strings.ToLower(filepath.Ext(spec)) {
	case ".csv", ".npy":
		var x *ag.Tensor
		var err error
		if strings.EqualFold(filepath.Ext(spec), ".csv") {
			x, err = data.ReadCSV(spec)
		} else {
			x, err = data.ReadNPY(spec)
		}
		if err != nil {
			return nil, err
		}
		if x.Rows == 0 {
			return nil, fmt.Errorf("data file %s has no rows", spec)
		}
		return &dataSource{Spec: spec, Rows: x}, nil
	}
	toy, err := data.Lookup(spec)
	if err != nil {
		if _, statErr := os.Stat(spec); statErr == nil {
			return nil, usagef("-%s %s: unknown file format (want .csv or .npy)", name, spec)
		}
		return nil, usagef("-%s %q: not a built-in dataset (run 'flowmatch datasets' for the list) nor a .csv/.npy file", name, spec)
	}
	return &dataSource{Spec: spec, Toy: toy}, nil
}

// Dim is the dimension of a point.
func (d *dataSource) Dim() int {
	if d.Toy != nil {
		return d.Toy.Dim()
	}
	return d.Rows.Cols
}

// Sampler draws from the built-in set, or rows of the file with replacement.
func (d *dataSource) Sampler() fm.Sampler {
	if d.Toy != nil {
		return d.Toy.Sample
	}
	x := d.Rows
	return func(n int, rng *rand.Rand) *ag.Tensor {
		out := ag.Zeros(n, x.Cols)
		for i := range n {
			copy(out.Row(i), x.Row(rng.IntN(x.Rows)))
		}
		return out
	}
}

// Points returns n fresh draws of a built-in set, or the first n rows of the
// file (n ≤ 0 or more than the file holds: every row).
func (d *dataSource) Points(n int, rng *rand.Rand) *ag.Tensor {
	if d.Toy != nil {
		return d.Toy.Sample(n, rng)
	}
	if n <= 0 || n >= d.Rows.Rows {
		return d.Rows
	}
	return ag.FromSlice(n, d.Rows.Cols, d.Rows.Data[:n*d.Rows.Cols])
}

// Entropy starts computing the data's differential entropy H and its
// standard error (data.Entropy: exact, or a Monte-Carlo estimate that takes
// up to a few seconds) in the background, and returns a function that waits
// for them; ok is false when H is unknown (a user's file). Callers start it
// before a long phase, whose progress then covers it.
func (d *dataSource) Entropy() func() (h, se float64, ok bool) {
	if d.Toy == nil {
		return func() (float64, float64, bool) { return 0, 0, false }
	}
	var h, se float64
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		h, se, err = data.Entropy(d.Spec)
	}()
	return func() (float64, float64, bool) {
		<-done
		return h, se, err == nil
	}
}

// holdOut shuffles the file's rows with rng and splits them into training
// rows and k = min(want, ⌊rows/5⌋) held-out rows, so evaluation never sees
// a training row. It needs at least 10 rows.
func (d *dataSource) holdOut(want int, rng *rand.Rand) (train, held *ag.Tensor, err error) {
	x := d.Rows
	if x.Rows < 10 {
		return nil, nil, fmt.Errorf("data file %s has %d rows; demo needs at least 10 (a fifth is held out for evaluation)", d.Spec, x.Rows)
	}
	k := min(want, x.Rows/5)
	perm := rng.Perm(x.Rows)
	sh := ag.Zeros(x.Rows, x.Cols)
	for i, j := range perm {
		copy(sh.Row(i), x.Row(j))
	}
	c := x.Cols
	return ag.FromSlice(x.Rows-k, c, sh.Data[k*c:]), ag.FromSlice(k, c, sh.Data[:k*c]), nil
}
