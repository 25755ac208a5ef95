package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is an unsigned-byte array read from an IDX file (LeCun et al. 1998, the format of the
// MNIST files): its dimensions, outermost first, and its elements in row-major order,
// len(Data) = Π Dims.
type IDX struct {
	Dims []int
	Data []byte
}

// MaxIDXBytes bounds the elements an IDX file may declare (Π Dims): 64 MiB, above MNIST's
// largest file (60,000·28·28 = 47,040,000 bytes). A header declaring more is refused before
// anything is allocated, so a corrupt or hostile header cannot make ParseIDX allocate
// gigabytes.
const MaxIDXBytes = 64 << 20

// Magic numbers of the two MNIST file kinds: 0x00000803 (unsigned bytes, three dimensions:
// images × rows × columns) and 0x00000801 (unsigned bytes, one dimension: labels).
const (
	MagicImages = 0x00000803
	MagicLabels = 0x00000801
)

// ParseIDX reads one IDX array of unsigned bytes from r, gzip-compressed or not (a gzip
// stream is recognized by its first two bytes 0x1f 0x8b). The format is
//
//	magic   4 bytes, big-endian: 0x00 0x00 type ndims   (type 0x08 = unsigned byte)
//	dims    ndims big-endian int32 sizes, outermost first
//	data    Π dims bytes, row-major
//
// ParseIDX returns an error, never panics, on a wrong magic, an element type other than
// unsigned byte, zero or more than four dimensions, a negative size, a total above
// MaxIDXBytes, data shorter than the header declares, or bytes after the data. It allocates
// at most what the stream really holds (bounded by MaxIDXBytes), whatever the header claims.
// TestParseIDX_HandExample, TestParseIDX_Errors, FuzzParseIDX.
func ParseIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip header: %w", err)
		}
		defer z.Close()
		br = bufio.NewReader(z)
	}
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, fmt.Errorf("reading the 4-byte magic number: %w", eofToUnexpected(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("magic number %#08x: the first two bytes must be 0 (not an IDX file)", binary.BigEndian.Uint32(magic[:]))
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("element type %#02x: only unsigned bytes (0x08) are supported", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("%d dimensions: want 1 to 4", nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("reading size %d of %d: %w", i+1, nd, eofToUnexpected(err))
		}
		d := int32(binary.BigEndian.Uint32(b[:]))
		if d < 0 {
			return nil, fmt.Errorf("size %d is %d: want a non-negative size", i+1, d)
		}
		dims[i] = int(d)
		if d > 0 && total > MaxIDXBytes/int(d) {
			return nil, fmt.Errorf("sizes %v declare more than %d bytes (MaxIDXBytes)", dims[:i+1], MaxIDXBytes)
		}
		total *= int(d)
	}
	// Read what is there, at most total bytes plus one to detect trailing data: the buffer grows
	// with the data actually present, not with the size the header declares.
	var buf bytes.Buffer
	buf.Grow(min(total+1, 1<<20))
	n, err := io.Copy(&buf, io.LimitReader(br, int64(total)+1))
	if err != nil {
		return nil, fmt.Errorf("reading %d data bytes: %w", total, err)
	}
	if n < int64(total) {
		return nil, fmt.Errorf("truncated: sizes %v declare %d data bytes, the file holds %d", dims, total, n)
	}
	if n > int64(total) {
		return nil, fmt.Errorf("trailing data after the %d bytes declared by sizes %v", total, dims)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

func eofToUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadIDX reads the IDX file at path with ParseIDX and checks its magic number (MagicImages
// or MagicLabels; 0 accepts any unsigned-byte array). Errors name the file.
// TestParseIDX_Errors.
func ReadIDX(path string, magic uint32) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	a, err := ParseIDX(f)
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: %w", path, err)
	}
	if magic != 0 {
		if want := int(magic & 0xff); len(a.Dims) != want {
			return nil, fmt.Errorf("mnist: %s: %d dimensions, want %d (magic %#08x)", path, len(a.Dims), want, magic)
		}
	}
	return a, nil
}
