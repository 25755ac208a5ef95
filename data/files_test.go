package data

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmatch/flowmatch/autograd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeTemp(t testing.TB, name string, b []byte) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestReadCSV_Valid(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"plain", "1,2\n3,4.5\n-6e-1,7\n"},
		{"header", "x,y\n1,2\n3,4.5\n-6e-1,7\n"},
		{"quoted header, CRLF, spaces, blank lines", "\"x\", \"y\"\r\n1, 2\r\n\r\n3 ,4.5\r\n-6e-1,7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ReadCSV(writeTemp(t, "a.csv", []byte(tc.text)))
			require.NoError(t, err)
			assert.Equal(t, [2]int{3, 2}, x.Shape())
			assert.Equal(t, []float64{1, 2, 3, 4.5, -0.6, 7}, x.Data)
		})
	}
}

func TestReadCSV_Errors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"ragged", "1,2\n3\n", "a.csv:2: 1 fields, want 2"},
		{"non-numeric", "x,y\n1,2\n3,abc\n", `a.csv:3: field 2: "abc" is not a number`},
		{"NaN", "1,2\nNaN,3\n", `a.csv:2: field 1: "NaN" is not finite`},
		{"Inf", "1,-Inf\n", `a.csv:1: field 2: "-Inf" is not finite`},
		{"overflow", "1e999,1\n", `a.csv:1: field 1: "1e999" is not finite`},
		{"empty", "", "a.csv: no data rows"},
		{"header only", "x,y\n", "a.csv: no data rows"},
		{"bare quote", "1,2\n3,\"4\n", "a.csv:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(writeTemp(t, "a.csv", []byte(tc.text)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := ReadCSV("/nonexistent/b.csv")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/nonexistent/b.csv")
}

func TestWriteCSV_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	x := autograd.FromSlice(2, 3, []float64{0.1, -2, math.Pi, 1e-300, 5e300, math.SmallestNonzeroFloat64})
	p := filepath.Join(dir, "x.csv")
	require.NoError(t, WriteCSV(p, x, "a", "b", "c"))
	y, err := ReadCSV(p)
	require.NoError(t, err)
	assert.Equal(t, x.Data, y.Data)
	assert.Error(t, WriteCSV(p, x, "a"), "wrong number of header names")
	err = WriteCSV(filepath.Join(dir, "no", "such", "x.csv"), x)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "no", "such", "x.csv"))
	ents, _ := os.ReadDir(dir)
	require.Len(t, ents, 1, "no temporary files left behind")
}

// npyBytes builds a .npy file of format version major with the given header dict and body.
func npyBytes(major byte, dict string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.Write([]byte{major, 0})
	h := dict + "\n"
	if major == 1 {
		b.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(h))))
	} else {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(h))))
	}
	b.WriteString(h)
	b.Write(body)
	return b.Bytes()
}

func f8(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func f4(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestReadNPY_Versions(t *testing.T) {
	d := "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"
	for _, tc := range []struct {
		name  string
		b     []byte
		shape [2]int
		want  []float64
	}{
		{"v1", npyBytes(1, d, f8(1, 2, 3, 4)), [2]int{2, 2}, []float64{1, 2, 3, 4}},
		{"v2", npyBytes(2, d, f8(1, 2, 3, 4)), [2]int{2, 2}, []float64{1, 2, 3, 4}},
		{"v3", npyBytes(3, d, f8(1, 2, 3, 4)), [2]int{2, 2}, []float64{1, 2, 3, 4}},
		{"f4", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", f4(0.5, -1, 2)), [2]int{1, 3}, []float64{0.5, -1, 2}},
		{"1-D", npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8(1, 2, 3)), [2]int{3, 1}, []float64{1, 2, 3}},
		{"key order, double quotes", npyBytes(1, `{"shape": (1, 1), "fortran_order": False, "descr": "<f8"}`, f8(7)), [2]int{1, 1}, []float64{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ReadNPY(writeTemp(t, "a.npy", tc.b))
			require.NoError(t, err)
			assert.Equal(t, tc.shape, x.Shape())
			assert.Equal(t, tc.want, x.Data)
		})
	}
}

func TestReadNPY_Errors(t *testing.T) {
	hd := func(descr, fo, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + fo + ", 'shape': " + shape + ", }"
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"magic", []byte("NUMPY\x01\x00\x00\x00{}"), "magic"},
		{"version", npyBytes(4, hd("<f8", "False", "(1, 1)"), f8(1)), "version 4.0"},
		{"big-endian", npyBytes(1, hd(">f8", "False", "(1, 1)"), f8(1)), `dtype ">f8"`},
		{"int", npyBytes(1, hd("<i8", "False", "(1, 1)"), f8(1)), `dtype "<i8"`},
		{"fortran", npyBytes(1, hd("<f8", "True", "(1, 2)"), f8(1, 2)), "fortran_order True"},
		{"3-D", npyBytes(1, hd("<f8", "False", "(1, 1, 1)"), f8(1)), "not 1-D or 2-D"},
		{"scalar", npyBytes(1, hd("<f8", "False", "()"), f8(1)), "not 1-D or 2-D"},
		{"empty", npyBytes(1, hd("<f8", "False", "(0, 2)"), nil), "holds no data"},
		{"short", npyBytes(1, hd("<f8", "False", "(2, 2)"), f8(1, 2, 3)), "needs 32 bytes of data, the file has 24"},
		{"long", npyBytes(1, hd("<f8", "False", "(1, 1)"), f8(1, 2)), "needs 8 bytes of data, the file has 16"},
		{"huge shape", npyBytes(1, hd("<f8", "False", "(999999999999, 999999999999)"), f8(1)), "needs"},
		{"NaN", npyBytes(1, hd("<f8", "False", "(1, 2)"), f8(1, math.NaN())), "element [0, 1] is NaN"},
		{"missing key", npyBytes(1, "{'descr': '<f8', 'shape': (1, 1), }", f8(1)), "exactly the keys"},
		{"extra key", npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,1), 'x': 1}", f8(1)), `unexpected key "x"`},
		{"garbage", npyBytes(1, "hello", nil), "does not start with '{'"},
		{"header too long", append([]byte(npyMagic+"\x01\x00\xff\xff"), "{}"...), "exceeds the file size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNPY(writeTemp(t, "a.npy", tc.b))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "a.npy")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWriteNPY_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	x := autograd.FromSlice(3, 2, []float64{1, -2, 3.25, 1e-310, math.Copysign(0, -1), 6})
	p := filepath.Join(dir, "x.npy")
	require.NoError(t, WriteNPY(p, x))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	// NumPy's layout: magic, version 1.0, header padded with spaces to a multiple of 64 bytes
	// ending in '\n', then the data.
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	assert.Zero(t, (10+hl)%64)
	assert.True(t, strings.HasPrefix(string(b[10:]), "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }"))
	assert.Equal(t, byte('\n'), b[10+hl-1])
	y, err := ReadNPY(p)
	require.NoError(t, err)
	assert.Equal(t, x.Shape(), y.Shape())
	assert.Equal(t, x.Data, y.Data)
	err = WriteNPY(filepath.Join(dir, "missing", "x.npy"), x)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "missing", "x.npy"))
	ents, _ := os.ReadDir(dir)
	require.Len(t, ents, 1, "no temporary files left behind")
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"1,2\n3,4\n", "x,y\n1,2\n", "1\n", "a,b\n1,c\n", "1,2\n3\n", "\"1\",2\n", "1e999,0\n", "0x1p-2,1_0\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := parseCSV("fuzz.csv", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, v := range x.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite value accepted: %v", v)
			}
		}
		y, err := parseCSV("again.csv", formatCSV(x, nil))
		if err != nil {
			t.Fatalf("written CSV does not read back: %v", err)
		}
		if x.Rows != y.Rows || x.Cols != y.Cols {
			t.Fatalf("shape %v, read back %v", x.Shape(), y.Shape())
		}
		for i := range x.Data {
			if math.Float64bits(x.Data[i]) != math.Float64bits(y.Data[i]) {
				t.Fatalf("element %d: %v read back as %v", i, x.Data[i], y.Data[i])
			}
		}
	})
}

func FuzzReadNPY(f *testing.F) {
	d := "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }"
	f.Add(npyBytes(1, d, f8(1, 2)))
	f.Add(npyBytes(3, d, f8(1, 2)))
	f.Add(npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4(1, 2)))
	f.Add(formatNPY(autograd.FromSlice(1, 2, []float64{3, 4})))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := parseNPY("fuzz.npy", b)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.npy") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		y, err := parseNPY("again.npy", formatNPY(x))
		if err != nil {
			t.Fatalf("written .npy does not read back: %v", err)
		}
		if x.Rows != y.Rows || x.Cols != y.Cols {
			t.Fatalf("shape %v, read back %v", x.Shape(), y.Shape())
		}
		for i := range x.Data {
			if math.IsNaN(x.Data[i]) || math.IsInf(x.Data[i], 0) || math.Float64bits(x.Data[i]) != math.Float64bits(y.Data[i]) {
				t.Fatalf("element %d: %v read back as %v", i, x.Data[i], y.Data[i])
			}
		}
	})
}
