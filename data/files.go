package data

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
)

// ReadCSV reads a comma-separated file of numbers into an [n, d] tensor, one row per record.
// An optional header line is allowed: the first line is a header when none of its fields
// parses as a number. Fields may be surrounded by spaces; blank lines are skipped. Every row
// must have the same number of fields, every field must parse as a finite float64, and there
// must be at least one data row. Errors name the file, line and field ("f.csv:3: field 2:
// …"). Tested in TestReadCSV_* and FuzzReadCSV.
func ReadCSV(path string) (*autograd.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: ReadCSV: %w", err)
	}
	return parseCSV(path, b)
}

func parseCSV(path string, b []byte) (*autograd.Tensor, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	var vals []float64
	cols, rows := -1, 0
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("data: %s:%d: column %d: %v", path, pe.Line, pe.Column, pe.Err)
			}
			return nil, fmt.Errorf("data: %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if first && isHeader(rec) {
			continue
		}
		if cols < 0 {
			cols = len(rec)
		} else if len(rec) != cols {
			return nil, fmt.Errorf("data: %s:%d: %d fields, want %d like the first data row", path, line, len(rec), cols)
		}
		for j, f := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				what := "is not a number"
				if err == nil || errors.Is(err, strconv.ErrRange) {
					what = "is not finite"
				}
				return nil, fmt.Errorf("data: %s:%d: field %d: %q %s", path, line, j+1, f, what)
			}
			vals = append(vals, v)
		}
		rows++
	}
	if rows == 0 || cols == 0 {
		return nil, fmt.Errorf("data: %s: no data rows", path)
	}
	return autograd.FromSlice(rows, cols, vals), nil
}

// isHeader reports whether no field of rec parses as a number.
func isHeader(rec []string) bool {
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return false
		}
	}
	return true
}

// WriteCSV writes t as comma-separated rows (shortest round-tripping decimal form, so ReadCSV
// gives back the same bits), after an optional header line, atomically: to a temporary file in
// the same directory, renamed to path at the end.
func WriteCSV(path string, t *autograd.Tensor, header ...string) error {
	if len(header) > 0 && len(header) != t.Cols {
		return fmt.Errorf("data: WriteCSV %s: %d header names for %d columns", path, len(header), t.Cols)
	}
	return WriteFileAtomic(path, formatCSV(t, header))
}

func formatCSV(t *autograd.Tensor, header []string) []byte {
	var buf bytes.Buffer
	if len(header) > 0 {
		buf.WriteString(strings.Join(header, ","))
		buf.WriteByte('\n')
	}
	for i := range t.Rows {
		for j, v := range t.Row(i) {
			if j > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// WriteFileAtomic writes b to a temporary file next to path and renames it to path, so a
// reader never sees a half-written file; on failure no temporary file is left behind.
func WriteFileAtomic(path string, b []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("data: writing %s: %w", path, err)
	}
	return nil
}

// npyMagic starts every NumPy .npy file.
const npyMagic = "\x93NUMPY"

// ReadNPY reads a NumPy .npy file (format versions 1.0, 2.0 and 3.0) holding a C-ordered
// ('fortran_order': False) little-endian float64 ('<f8') or float32 ('<f4') array of shape
// (n, d), or (n,) read as [n, 1]. Other dtypes or orders, a malformed header, a data section
// of the wrong length and non-finite values are errors naming the file and the problem.
// Tested in TestReadNPY_* and FuzzReadNPY.
func ReadNPY(path string) (*autograd.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: ReadNPY: %w", err)
	}
	return parseNPY(path, b)
}

func parseNPY(path string, b []byte) (*autograd.Tensor, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("data: %s: not a valid .npy file: %s", path, fmt.Sprintf(format, a...))
	}
	if len(b) < 10 || string(b[:6]) != npyMagic {
		return nil, bad("missing the \\x93NUMPY magic string")
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, bad("truncated header length")
		}
		h := binary.LittleEndian.Uint32(b[8:12])
		if uint64(h) > uint64(len(b)) {
			return nil, bad("header length %d exceeds the file size %d", h, len(b))
		}
		hlen, off = int(h), 12
	default:
		return nil, bad("unsupported format version %d.%d", major, b[7])
	}
	if off+hlen > len(b) {
		return nil, bad("header length %d exceeds the file size %d", hlen, len(b))
	}
	hdr, err := parseNPYHeader(string(b[off : off+hlen]))
	if err != nil {
		return nil, bad("header %q: %v", string(b[off:off+hlen]), err)
	}
	var size int
	switch hdr.descr {
	case "<f8":
		size = 8
	case "<f4":
		size = 4
	default:
		return nil, bad("dtype %q is not supported (want '<f8' or '<f4')", hdr.descr)
	}
	if hdr.fortran {
		return nil, bad("fortran_order True is not supported (save a C-ordered array)")
	}
	var rows, cols int
	switch len(hdr.shape) {
	case 1:
		rows, cols = hdr.shape[0], 1
	case 2:
		rows, cols = hdr.shape[0], hdr.shape[1]
	default:
		return nil, bad("shape %v is not 1-D or 2-D", hdr.shape)
	}
	if rows == 0 || cols == 0 {
		return nil, bad("shape %v holds no data", hdr.shape)
	}
	if rows > (len(b)-off-hlen)/size/cols+1 { // also guards rows·cols·size against overflow
		return nil, bad("shape %v needs %d·%d·%d bytes of data, the file has %d", hdr.shape, rows, cols, size, len(b)-off-hlen)
	}
	body := b[off+hlen:]
	if len(body) != rows*cols*size {
		return nil, bad("shape %v needs %d bytes of data, the file has %d", hdr.shape, rows*cols*size, len(body))
	}
	vals := make([]float64, rows*cols)
	for i := range vals {
		var v float64
		if size == 8 {
			v = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		} else {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:])))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("data: %s: element [%d, %d] is %v (not finite)", path, i/cols, i%cols, v)
		}
		vals[i] = v
	}
	return autograd.FromSlice(rows, cols, vals), nil
}

type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNPYHeader parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }, padded with spaces and '\n'.
// Exactly the three keys must be present.
func parseNPYHeader(s string) (npyHeader, error) {
	var h npyHeader
	p := &pyLex{s: s}
	if !p.eat('{') {
		return h, errors.New("does not start with '{'")
	}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("key: %v", err)
		}
		if seen[key] {
			return h, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return h, fmt.Errorf("missing ':' after %q", key)
		}
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, fmt.Errorf("descr: %v", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return h, errors.New("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, fmt.Errorf("shape: %v", err)
			}
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return h, errors.New("expected ',' or '}'")
			}
			break
		}
	}
	if len(seen) != 3 {
		return h, errors.New("want exactly the keys 'descr', 'fortran_order' and 'shape'")
	}
	if strings.TrimRight(p.s[p.i:], " \t\n\x00") != "" {
		return h, errors.New("trailing characters after '}'")
	}
	return h, nil
}

// pyLex is a minimal lexer for the Python literals of a .npy header.
type pyLex struct {
	s string
	i int
}

func (p *pyLex) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *pyLex) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyLex) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *pyLex) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("expected a quoted string")
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, nil
}

func (p *pyLex) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("expected '('")
	}
	var dims []int
	for {
		if p.eat(')') {
			return dims, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 12 {
			return nil, errors.New("expected a dimension (a non-negative integer below 10¹²)")
		}
		n, _ := strconv.Atoi(p.s[p.i:j])
		p.i = j
		p.word("L") // Python 2 long suffix
		dims = append(dims, n)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, errors.New("expected ',' or ')'")
			}
			return dims, nil
		}
	}
}

// WriteNPY writes t as a NumPy .npy file (version 1.0, '<f8', C order, shape (Rows, Cols)),
// atomically (temporary file, then rename). np.load reads it back.
func WriteNPY(path string, t *autograd.Tensor) error { return WriteFileAtomic(path, formatNPY(t)) }

func formatNPY(t *autograd.Tensor) []byte {
	hdr := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }", t.Rows, t.Cols)
	total := len(npyMagic) + 4 + len(hdr) + 1
	pad := (64 - total%64) % 64
	hdr += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString(npyMagic)
	buf.Write([]byte{1, 0})
	buf.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(hdr))))
	buf.WriteString(hdr)
	var w [8]byte
	for _, v := range t.Data[:t.Rows*t.Cols] {
		binary.LittleEndian.PutUint64(w[:], math.Float64bits(v))
		buf.Write(w[:])
	}
	return buf.Bytes()
}
