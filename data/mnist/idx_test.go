package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// idxBytes encodes an unsigned-byte IDX array with the given sizes and data.
func idxBytes(dims []int32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		_ = binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	_, _ = w.Write(b)
	_ = w.Close()
	return out.Bytes()
}

// TestParseIDX_HandExample: a 2×3 array written by hand (magic 0x00000802, sizes 2 and 3,
// six bytes) parses to its sizes and bytes, raw and gzip-compressed; MNIST's own magic
// numbers are those of three- and one-dimensional byte arrays.
func TestParseIDX_HandExample(t *testing.T) {
	raw := []byte{0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255}
	require.Equal(t, raw, idxBytes([]int32{2, 3}, []byte{1, 2, 3, 4, 5, 255}))
	for name, in := range map[string][]byte{"raw": raw, "gzip": gz(raw)} {
		a, err := ParseIDX(bytes.NewReader(in))
		require.NoError(t, err, name)
		require.Equal(t, []int{2, 3}, a.Dims, name)
		require.Equal(t, []byte{1, 2, 3, 4, 5, 255}, a.Data, name)
	}
	require.Equal(t, uint32(0x0803), binary.BigEndian.Uint32([]byte{0, 0, 8, 3}))
	require.Equal(t, MagicImages, 0x0803)
	require.Equal(t, MagicLabels, 0x0801)
}

// TestParseIDX_Errors: corrupt headers, truncated data, trailing data and absurd sizes are
// errors that say what is wrong, never panics; ReadIDX names the file and checks the number
// of dimensions against the expected magic.
func TestParseIDX_Errors(t *testing.T) {
	good := idxBytes([]int32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"short magic", []byte{0, 0, 8}, "magic"},
		{"not idx", []byte{'P', 'K', 3, 4, 0, 0, 0, 1, 0}, "not an IDX file"},
		{"int32 elements", []byte{0, 0, 0x0c, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "element type"},
		{"zero dims", []byte{0, 0, 8, 0}, "dimensions"},
		{"five dims", []byte{0, 0, 8, 5}, "dimensions"},
		{"short size", []byte{0, 0, 8, 1, 0, 0}, "size 1"},
		{"negative size", idxBytes([]int32{-1}, nil), "non-negative"},
		{"absurd sizes", idxBytes([]int32{1 << 30, 1 << 30, 1 << 30}, nil), "MaxIDXBytes"},
		{"just above the bound", idxBytes([]int32{MaxIDXBytes + 1}, nil), "MaxIDXBytes"},
		{"truncated data", good[:len(good)-1], "truncated"},
		{"trailing data", append(append([]byte{}, good...), 7), "trailing"},
		{"truncated gzip", gz(good)[:20], "unexpected EOF"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, "gzip"},
	}
	for _, c := range cases {
		_, err := ParseIDX(bytes.NewReader(c.in))
		require.Error(t, err, c.name)
		require.Contains(t, err.Error(), c.want, c.name)
	}
	// The same bytes with a correct checksum parse; a corrupted gzip checksum is an error.
	z := gz(good)
	_, err := ParseIDX(bytes.NewReader(z))
	require.NoError(t, err)
	z[len(z)-6] ^= 0xff // CRC-32 of the uncompressed data
	_, err = ParseIDX(bytes.NewReader(z))
	require.Error(t, err, "corrupted CRC")

	dir := t.TempDir()
	p := filepath.Join(dir, "labels.gz")
	require.NoError(t, os.WriteFile(p, gz(good), 0o644))
	_, err = ReadIDX(p, MagicLabels)
	require.ErrorContains(t, err, p)
	require.ErrorContains(t, err, "2 dimensions, want 1")
	a, err := ReadIDX(p, 0)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, a.Dims)
	_, err = ReadIDX(filepath.Join(dir, "missing.gz"), MagicImages)
	require.ErrorContains(t, err, "missing.gz")
}

// FuzzParseIDX: for any input ParseIDX returns an error or an array whose data length is the
// product of its sizes, at most MaxIDXBytes, without panicking; the seed corpus holds valid
// arrays (raw and gzip), MNIST-shaped headers with missing data, and corrupt headers.
func FuzzParseIDX(f *testing.F) {
	good := idxBytes([]int32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	f.Add(good)
	f.Add(gz(good))
	f.Add(idxBytes([]int32{4}, []byte{5, 0, 4, 1}))
	f.Add(idxBytes([]int32{60000, 28, 28}, []byte{0, 0, 0}))
	f.Add(gz(idxBytes([]int32{10000}, []byte{7, 2, 1})))
	f.Add(idxBytes([]int32{0, 28, 28}, nil))
	f.Add(idxBytes([]int32{1 << 30, 1 << 30, 1 << 30}, nil))
	f.Add(idxBytes([]int32{-5, 2}, nil))
	f.Add([]byte{0, 0, 8, 4, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := ParseIDX(bytes.NewReader(in))
		if err != nil {
			if a != nil {
				t.Fatalf("error %v with a non-nil result", err)
			}
			return
		}
		n := 1
		for _, d := range a.Dims {
			if d < 0 {
				t.Fatalf("negative size in %v", a.Dims)
			}
			n *= d
		}
		if n != len(a.Data) || n > MaxIDXBytes || len(a.Dims) < 1 || len(a.Dims) > 4 {
			t.Fatalf("sizes %v, %d data bytes (bound %d)", a.Dims, len(a.Data), MaxIDXBytes)
		}
		if !strings.HasPrefix(string(in), "\x1f\x8b") && len(in) != 4+4*len(a.Dims)+n {
			t.Fatalf("raw input of %d bytes parsed as sizes %v", len(in), a.Dims)
		}
	})
}
