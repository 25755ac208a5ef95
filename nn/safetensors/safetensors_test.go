package safetensors

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5afe)) }

// TestWrite_RoundTrip: tensors come back bit for bit, including
// −0, subnormals, ±Inf, NaN payloads and an empty tensor; metadata too;
// the layout follows the safetensors spec (8-byte header length, JSON
// header padded to 8 bytes, data tiling the rest).
func TestWrite_RoundTrip(t *testing.T) {
	rng := newRNG(10)
	a := autograd.Normal(3, 4, 0, 1, rng)
	special := autograd.FromSlice(1, 6, []float64{math.Copysign(0, -1), 5e-324, math.Inf(1), math.Inf(-1),
		math.Float64frombits(0x7ff8000000000123), math.MaxFloat64})
	params := []Named{{"a", a}, {"special", special}, {"empty", autograd.Zeros(0, 3)}, {"b.bias", autograd.Normal(1, 5, 0, 1, rng)}}
	meta := map[string]string{"step": "1200", "note": `quotes " and ünïcode`}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	require.NoError(t, Write(path, params, meta))

	ck, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, meta, ck.Metadata)
	assert.Equal(t, []string{"a", "special", "empty", "b.bias"}, ck.Names)
	for _, p := range params {
		got := ck.Tensors[p.Name]
		require.NotNil(t, got, p.Name)
		require.Equal(t, p.T.Shape(), got.Shape(), p.Name)
		for i := range p.T.Data {
			require.Equal(t, math.Float64bits(p.T.Data[i]), math.Float64bits(got.Data[i]), "%s[%d]", p.Name, i)
		}
		assert.False(t, got.RequiresGrad())
	}

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(b)
	assert.Zero(t, (8+n)%8, "data is 8-byte aligned")
	assert.Equal(t, uint64(len(b)), 8+n+8*(12+6+0+5))
	assert.Contains(t, string(b[8:8+n]), `"a":{"dtype":"F64","shape":[3,4],"data_offsets":[0,96]}`)
	assert.Equal(t, math.Float64bits(a.Data[0]), binary.LittleEndian.Uint64(b[8+n:]), "raw little-endian data")

	// LoadInto restores into other tensors of the same shapes.
	dst := []Named{{"b.bias", autograd.Zeros(1, 5)}, {"a", autograd.Zeros(3, 4)}, {"special", autograd.Zeros(1, 6)}, {"empty", autograd.Zeros(0, 3)}}
	require.NoError(t, ck.LoadInto(dst))
	assert.Equal(t, a.Data, dst[1].T.Data)
}

func TestWrite_RejectsBadNames(t *testing.T) {
	dir := t.TempDir()
	x := autograd.Zeros(1, 1)
	for _, ps := range [][]Named{{{"", x}}, {{"__metadata__", x}}, {{"a", x}, {"a", x}}, {{"a", nil}}} {
		err := Write(filepath.Join(dir, "bad"), ps, nil)
		var ce *Error
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, err.Error(), filepath.Join(dir, "bad"))
	}
	entries, _ := os.ReadDir(dir)
	assert.Empty(t, entries, "nothing written")
}

// TestWrite_Atomic: a save that fails (missing directory, or an
// fsync error after the data is written) leaves the old file intact and no
// temporary file behind; a successful save replaces the file and leaves
// nothing else in the directory.
func TestWrite_Atomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	old := []Named{{"w", autograd.FromSlice(1, 2, []float64{1, 2})}}
	require.NoError(t, Write(path, old, map[string]string{"v": "old"}))
	oldBytes, err := os.ReadFile(path)
	require.NoError(t, err)

	err = Write(filepath.Join(dir, "missing", "w.safetensors"), old, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "missing", "w.safetensors"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "wraps the I/O error: %v", err)

	syncFile = func(*os.File) error { return errors.New("disk on fire") }
	err = Write(path, []Named{{"w", autograd.FromSlice(1, 2, []float64{3, 4})}}, map[string]string{"v": "new"})
	syncFile = (*os.File).Sync
	require.ErrorContains(t, err, "disk on fire")
	now, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, oldBytes, now, "the old file is not clobbered")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left: %v", entries)

	require.NoError(t, Write(path, []Named{{"w", autograd.FromSlice(1, 2, []float64{3, 4})}}, map[string]string{"v": "new"}))
	ck, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, "new", ck.Metadata["v"])
	entries, _ = os.ReadDir(dir)
	assert.Len(t, entries, 1)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
}

// validFile returns the bytes of a small valid file: tensors "w"
// [2, 2] at [0, 32) and "b" [1, 2] at [32, 48).
func validFile(t testing.TB) []byte {
	b, err := encode([]Named{
		{"w", autograd.FromSlice(2, 2, []float64{1, 2, 3, 4})},
		{"b", autograd.FromSlice(1, 2, []float64{5, 6})},
	}, map[string]string{"k": "v"})
	require.NoError(t, err)
	return b
}

// withHeader returns a file with the given JSON header and data length.
func withHeader(header string, dataLen int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, dataLen)...)
}

// corruptFiles are broken files and a fragment of the error each must
// produce; they seed FuzzRead too.
func corruptFiles(t testing.TB) map[string]struct {
	b    []byte
	want string
} {
	valid := validFile(t)
	huge := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	long := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(long, uint64(len(valid)))
	entry := func(name, body string) string { return `{"` + name + `":` + body + `}` }
	return map[string]struct {
		b    []byte
		want string
	}{
		"empty":             {nil, "truncated: 0 bytes"},
		"short":             {valid[:5], "truncated: 5 bytes"},
		"truncated header":  {valid[:20], "truncated: header length"},
		"truncated data":    {valid[:len(valid)-3], "out of range of the 45-byte data section"},
		"trailing data":     {append(append([]byte(nil), valid...), 0), "data section has"},
		"oversized header":  {huge, "exceeds the limit"},
		"header past end":   {long, "truncated: header length"},
		"not json":          {withHeader("{nope", 0), "header JSON"},
		"not an object":     {withHeader("[1,2]", 0), "does not start with '{'"},
		"trailing json":     {withHeader(`{} {}`, 0), "unexpected bytes"},
		"wrong dtype":       {withHeader(entry("w", `{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}`), 8), `dtype "F32"`},
		"rank 3":            {withHeader(entry("w", `{"dtype":"F64","shape":[1,1,1],"data_offsets":[0,8]}`), 8), "rank 3"},
		"negative shape":    {withHeader(entry("w", `{"dtype":"F64","shape":[-1,2],"data_offsets":[0,8]}`), 8), "not a valid size"},
		"fractional shape":  {withHeader(entry("w", `{"dtype":"F64","shape":[1.5],"data_offsets":[0,8]}`), 8), "not a valid size"},
		"huge shape":        {withHeader(entry("w", `{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}`), 8), "needs"},
		"size mismatch":     {withHeader(entry("w", `{"dtype":"F64","shape":[2,2],"data_offsets":[0,8]}`), 8), "needs 4·8 bytes"},
		"out of range":      {withHeader(entry("w", `{"dtype":"F64","shape":[1,1],"data_offsets":[8,16]}`), 8), "out of range"},
		"reversed offsets":  {withHeader(entry("w", `{"dtype":"F64","shape":[0],"data_offsets":[8,0]}`), 8), "out of range"},
		"one offset":        {withHeader(entry("w", `{"dtype":"F64","shape":[1],"data_offsets":[0]}`), 8), "data_offsets has 1"},
		"unknown field":     {withHeader(entry("w", `{"dtype":"F64","shape":[1],"data_offsets":[0,8],"x":1}`), 8), "unknown field"},
		"entry not object":  {withHeader(entry("w", `7`), 8), "header entry"},
		"bad metadata":      {withHeader(entry("__metadata__", `{"a":1}`), 0), "not an object of strings"},
		"duplicate name":    {withHeader(`{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}`, 16), `names "w" twice`},
		"empty name":        {withHeader(entry("", `{"dtype":"F64","shape":[1],"data_offsets":[0,8]}`), 8), "empty name"},
		"overlapping":       {withHeader(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}`, 16), `overlap tensor "a"`},
		"gap":               {withHeader(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}}`, 24), "leave a gap"},
		"unterminated json": {withHeader(`{"a":{"dtype":"F64"`, 0), "header JSON"},
	}
}

// TestRead_Corrupt: each broken file gives a *Error
// naming the file and the problem. Negative control: the valid file the
// broken ones derive from loads.
func TestRead_Corrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	require.NoError(t, os.WriteFile(good, validFile(t), 0o644))
	ck, err := Read(good)
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3, 4}, ck.Tensors["w"].Data)

	for name, c := range corruptFiles(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			require.NoError(t, os.WriteFile(path, c.b, 0o644))
			_, err := Read(path)
			var ce *Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, path, ce.Path)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	_, err = Read(filepath.Join(dir, "absent"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), filepath.Join(dir, "absent"))
}

// TestFile_LoadIntoMismatch: LoadInto names every missing,
// unexpected and mis-shaped tensor and copies nothing when any is wrong.
func TestFile_LoadIntoMismatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck")
	require.NoError(t, os.WriteFile(path, validFile(t), 0o644))
	ck, err := Read(path)
	require.NoError(t, err)
	w := autograd.Zeros(2, 3)
	err = ck.LoadInto([]Named{{"w", w}, {"c", autograd.Zeros(1, 1)}})
	require.Error(t, err)
	for _, s := range []string{path, "missing: c [1,1]", "unexpected: b", "shape mismatch: w (file [2,2], want [2,3])"} {
		assert.Contains(t, err.Error(), s)
	}
	assert.Equal(t, make([]float64, 6), w.Data, "nothing copied")
	err = ck.LoadInto([]Named{{"w", autograd.Zeros(2, 2)}, {"b", autograd.Zeros(1, 2)}, {"b", autograd.Zeros(1, 2)}})
	require.ErrorContains(t, err, "names wanted twice: b")
}

// FuzzRead: no input makes the reader panic; a file it accepts
// has consistent tensors and survives a write–read round trip unchanged.
func FuzzRead(f *testing.F) {
	f.Add(validFile(f))
	for _, c := range corruptFiles(f) {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ck, err := decode("fuzz.safetensors", b)
		if err != nil {
			require.Contains(t, err.Error(), "fuzz.safetensors")
			return
		}
		params := make([]Named, len(ck.Names))
		for i, n := range ck.Names {
			tt := ck.Tensors[n]
			require.Len(t, tt.Data, tt.Rows*tt.Cols)
			params[i] = Named{n, tt}
		}
		again, err := encode(params, ck.Metadata)
		require.NoError(t, err)
		ck2, err := decode("again", again)
		require.NoError(t, err)
		require.Equal(t, ck.Names, ck2.Names)
		for _, n := range ck.Names {
			a, b := ck.Tensors[n], ck2.Tensors[n]
			for i := range a.Data {
				require.Equal(t, math.Float64bits(a.Data[i]), math.Float64bits(b.Data[i]))
			}
		}
	})
}

// TestParseFloat: FormatFloat then ParseFloat returns the same float64 to
// the bit (−0, subnormals, 1/3, the extremes); a missing key, a non-number,
// NaN and ±Inf are *MetadataErrors naming the key and the value. Negative
// control: six significant digits (%g) would not round-trip 1/3.
func TestParseFloat(t *testing.T) {
	rng := newRNG(3)
	vals := []float64{0, math.Copysign(0, -1), 5e-324, 1.0 / 3, 1e-4, math.MaxFloat64, -math.SmallestNonzeroFloat64}
	for range 100 {
		vals = append(vals, math.Float64frombits(rng.Uint64()&^(0x7ff<<52)|uint64(rng.IntN(0x7ff))<<52))
	}
	for _, v := range vals {
		got, err := ParseFloat(map[string]string{"k": FormatFloat(v)}, "k")
		require.NoError(t, err)
		require.Equal(t, math.Float64bits(v), math.Float64bits(got), "%v via %q", v, FormatFloat(v))
	}
	short, err := ParseFloat(map[string]string{"k": strconv.FormatFloat(1.0/3, 'g', 6, 64)}, "k")
	require.NoError(t, err)
	assert.NotEqual(t, 1.0/3, short, "negative control: 6 digits lose bits")

	for _, c := range []struct{ meta map[string]string }{
		{map[string]string{}}, {map[string]string{"k": ""}}, {map[string]string{"k": "abc"}},
		{map[string]string{"k": "1e-4x"}}, {map[string]string{"k": "NaN"}}, {map[string]string{"k": "-Inf"}}, {map[string]string{"k": "1e999"}},
	} {
		_, err := ParseFloat(c.meta, "k")
		var me *MetadataError
		require.ErrorAs(t, err, &me, "%v", c.meta)
		assert.Equal(t, "k", me.Key)
		assert.Equal(t, c.meta["k"], me.Value)
		assert.Contains(t, err.Error(), `metadata k = "`+c.meta["k"]+`"`)
	}
}

// TestError_Message: an *Error names the file, the reason and the wrapped
// error, and errors.As finds a wrapped *MetadataError.
func TestError_Message(t *testing.T) {
	me := &MetadataError{Key: "nn.sizes", Value: "3,x", Reason: "not a list of positive sizes"}
	err := error(&Error{Path: "m.safetensors", Err: me})
	assert.Equal(t, `safetensors file m.safetensors: metadata nn.sizes = "3,x": not a list of positive sizes`, err.Error())
	var got *MetadataError
	require.ErrorAs(t, err, &got)
	assert.Same(t, me, got)
	assert.Equal(t, "safetensors file f: open: boom", (&Error{Path: "f", Reason: "open", Err: errors.New("boom")}).Error())
}
