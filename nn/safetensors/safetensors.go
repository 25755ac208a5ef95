package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmatch/flowmatch/autograd"
)

// MaxHeaderSize bounds the JSON header a file may declare, as the
// safetensors reference reader does (100 MB), so that a corrupt length
// cannot make Read allocate without limit.
const MaxHeaderSize = 100_000_000

// metadataKey is the header entry that holds the metadata.
const metadataKey = "__metadata__"

// Named is a tensor with a name, such as "layers.0.weight", its key in a
// file.
type Named struct {
	Name string
	T    *autograd.Tensor
}

// Shape is the name and shape a tensor of a file must have (see Match).
type Shape struct {
	Name       string
	Rows, Cols int
}

// Error reports a file that cannot be written, read, or matched to what
// the caller expects: the file, what is wrong, and the underlying error
// (an I/O error or a *MetadataError), if any.
type Error struct {
	Path   string
	Reason string
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return fmt.Sprintf("safetensors file %s: %s", e.Path, e.Reason)
	case e.Reason == "":
		return fmt.Sprintf("safetensors file %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("safetensors file %s: %s: %v", e.Path, e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(path, format string, args ...any) error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// MetadataError reports a metadata value that is missing or malformed: the
// key, the value ("" when missing) and what is wrong with it. Readers of a
// file wrap it in an *Error naming the file.
type MetadataError struct {
	Key, Value string
	Reason     string
}

func (e *MetadataError) Error() string {
	return fmt.Sprintf("metadata %s = %q: %s", e.Key, e.Value, e.Reason)
}

// FormatFloat formats v for metadata, with the fewest digits that
// ParseFloat reads back to the same float64 (TestParseFloat).
func FormatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ParseFloat returns the finite float64 stored under key, or a
// *MetadataError if the key is missing or its value is not a finite number
// (TestParseFloat).
func ParseFloat(meta map[string]string, key string) (float64, error) {
	s, ok := meta[key]
	if !ok {
		return 0, &MetadataError{Key: key, Reason: "missing"}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, &MetadataError{Key: key, Value: s, Reason: "not a finite number"}
	}
	return v, nil
}

// File is the content of a safetensors file.
type File struct {
	Path     string                      // the file it was read from
	Names    []string                    // tensor names in the order of their data
	Tensors  map[string]*autograd.Tensor // by name; leaves requiring no gradient
	Metadata map[string]string           // the "__metadata__" entry (never nil)
}

// Write writes tensors and metadata to path as a safetensors file,
// atomically: the bytes go to a temporary file in the same directory, which
// is fsynced and then renamed over path, so path holds either its old
// content or the complete new one, never a partial file. Names must be
// unique, non-empty and not "__metadata__". TestWrite_RoundTrip,
// TestWrite_Atomic.
func Write(path string, tensors []Named, metadata map[string]string) error {
	b, err := encode(tensors, metadata)
	if err != nil {
		return &Error{Path: path, Reason: err.Error()}
	}
	return writeFileAtomic(path, b)
}

// encode returns the safetensors bytes of tensors and metadata.
func encode(tensors []Named, metadata map[string]string) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return nil, err
		}
		h.WriteString(`"` + metadataKey + `":`)
		h.Write(m)
	}
	seen := make(map[string]bool, len(tensors))
	off := 0
	for i, p := range tensors {
		switch {
		case p.Name == "" || p.Name == metadataKey:
			return nil, fmt.Errorf("tensor %d has the reserved name %q", i, p.Name)
		case seen[p.Name]:
			return nil, fmt.Errorf("duplicate tensor name %q", p.Name)
		case p.T == nil || len(p.T.Data) != p.T.Rows*p.T.Cols:
			return nil, fmt.Errorf("tensor %q has no valid data", p.Name)
		}
		seen[p.Name] = true
		if h.Len() > 1 {
			h.WriteByte(',')
		}
		name, _ := json.Marshal(p.Name)
		end := off + 8*len(p.T.Data)
		fmt.Fprintf(&h, `%s:{"dtype":"F64","shape":[%d,%d],"data_offsets":[%d,%d]}`, name, p.T.Rows, p.T.Cols, off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 { // align the data to 8 bytes, as the reference writer does
		h.WriteByte(' ')
	}
	b := make([]byte, 8, 8+h.Len()+off)
	binary.LittleEndian.PutUint64(b, uint64(h.Len()))
	b = append(b, h.Bytes()...)
	for _, p := range tensors {
		for _, v := range p.T.Data {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	return b, nil
}

// syncFile is f.Sync; a test replaces it to make a write fail midway.
var syncFile = (*os.File).Sync

// writeFileAtomic writes b to a temporary file next to path, fsyncs it,
// renames it to path and fsyncs the directory. On failure the temporary
// file is removed and path is untouched.
func writeFileAtomic(path string, b []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return &Error{Path: path, Reason: "create temporary file", Err: err}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return &Error{Path: path, Reason: "write", Err: err}
	}
	if err = f.Chmod(0o644); err != nil {
		return &Error{Path: path, Reason: "chmod", Err: err}
	}
	if err = syncFile(f); err != nil {
		return &Error{Path: path, Reason: "fsync", Err: err}
	}
	if err = f.Close(); err != nil {
		return &Error{Path: path, Reason: "close", Err: err}
	}
	if err = os.Rename(tmp, path); err != nil {
		return &Error{Path: path, Reason: "rename", Err: err}
	}
	if d, derr := os.Open(dir); derr == nil { // persist the rename; best effort
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Read reads and validates the safetensors file at path. Every problem
// (I/O, truncation, an oversized or malformed header, a dtype other than
// F64, a rank above 2, offsets that overlap, leave gaps or run past the
// data) is returned as an *Error naming the file; it never panics.
// TestRead_Corrupt, FuzzRead.
func Read(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Reason: "open", Err: err}
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, &Error{Path: path, Reason: "read", Err: err}
	}
	return decode(path, b)
}

type entry struct {
	name       string
	rows, cols int
	begin, end int
}

// decode decodes the bytes b of the file named path.
func decode(path string, b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, errorf(path, "truncated: %d bytes, need at least 8 for the header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, errorf(path, "header length %d exceeds the limit of %d bytes (corrupt or not a safetensors file)", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, errorf(path, "truncated: header length %d but only %d bytes follow", n, len(b)-8)
	}
	header, data := b[8:8+n], b[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, errorf(path, "header does not start with '{'")
	}
	f := &File{Path: path, Tensors: map[string]*autograd.Tensor{}, Metadata: map[string]string{}}
	var entries []entry
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, errorf(path, "header JSON: %v", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errorf(path, "header JSON: %v", err)
		}
		name, _ := tok.(string) // object keys are strings
		if seen[name] {
			return nil, errorf(path, "header names %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errorf(path, "header JSON at %q: %v", name, err)
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &f.Metadata); err != nil || f.Metadata == nil {
				return nil, errorf(path, "%s is not an object of strings", metadataKey)
			}
			continue
		}
		e, err := parseEntry(name, raw, len(data))
		if err != nil {
			return nil, errorf(path, "%v", err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, errorf(path, "header JSON: %v", err)
	}
	if rest := bytes.TrimRight(header[dec.InputOffset():], " "); len(rest) != 0 {
		return nil, errorf(path, "header has %d unexpected bytes after the JSON object", len(rest))
	}
	// The tensors must tile the data section: sorted by offset, each starts
	// where the previous one ends and the last ends at the end of the file.
	slices.SortStableFunc(entries, func(x, y entry) int {
		if x.begin != y.begin {
			return x.begin - y.begin
		}
		return x.end - y.end
	})
	pos, prev := 0, ""
	for _, e := range entries {
		if e.begin < pos {
			return nil, errorf(path, "tensor %q data_offsets [%d, %d] overlap tensor %q, which ends at %d", e.name, e.begin, e.end, prev, pos)
		}
		if e.begin > pos {
			return nil, errorf(path, "tensor %q data_offsets [%d, %d] leave a gap: the previous data ends at %d", e.name, e.begin, e.end, pos)
		}
		pos, prev = e.end, e.name
	}
	if pos != len(data) {
		return nil, errorf(path, "data section has %d bytes but the tensors cover %d", len(data), pos)
	}
	for _, e := range entries {
		t := autograd.Zeros(e.rows, e.cols)
		for i := range t.Data {
			t.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[e.begin+8*i:]))
		}
		f.Names = append(f.Names, e.name)
		f.Tensors[e.name] = t
	}
	return f, nil
}

// parseEntry decodes and checks one tensor's header entry; dataLen is the
// size of the data section.
func parseEntry(name string, raw json.RawMessage, dataLen int) (entry, error) {
	var h struct {
		Dtype       string        `json:"dtype"`
		Shape       []json.Number `json:"shape"`
		DataOffsets []json.Number `json:"data_offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&h); err != nil {
		return entry{}, fmt.Errorf("tensor %q: header entry: %v", name, err)
	}
	if name == "" {
		return entry{}, fmt.Errorf("a tensor has an empty name")
	}
	if h.Dtype != "F64" {
		return entry{}, fmt.Errorf("tensor %q: dtype %q, want \"F64\" (float64)", name, h.Dtype)
	}
	ints := func(what string, ns []json.Number) ([]int, error) {
		out := make([]int, len(ns))
		for i, s := range ns {
			v, err := strconv.ParseInt(string(s), 10, 0)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("tensor %q: %s[%d] = %s is not a valid size", name, what, i, s)
			}
			out[i] = int(v)
		}
		return out, nil
	}
	shape, err := ints("shape", h.Shape)
	if err != nil {
		return entry{}, err
	}
	off, err := ints("data_offsets", h.DataOffsets)
	if err != nil {
		return entry{}, err
	}
	e := entry{name: name, rows: 1, cols: 1}
	switch len(shape) {
	case 0:
	case 1:
		e.cols = shape[0]
	case 2:
		e.rows, e.cols = shape[0], shape[1]
	default:
		return e, fmt.Errorf("tensor %q: shape %v has rank %d, want at most 2", name, shape, len(shape))
	}
	if len(off) != 2 {
		return e, fmt.Errorf("tensor %q: data_offsets has %d entries, want [begin, end]", name, len(off))
	}
	e.begin, e.end = off[0], off[1]
	if e.begin > e.end || e.end > dataLen {
		return e, fmt.Errorf("tensor %q: data_offsets [%d, %d] out of range of the %d-byte data section", name, e.begin, e.end, dataLen)
	}
	// e.end − e.begin ≤ dataLen, so a product beyond it is caught without overflow.
	if e.cols != 0 && e.rows > (e.end-e.begin)/8/e.cols || 8*e.rows*e.cols != e.end-e.begin {
		return e, fmt.Errorf("tensor %q: shape [%d, %d] needs %d·8 bytes but data_offsets [%d, %d] hold %d",
			name, e.rows, e.cols, uint64(e.rows)*uint64(e.cols), e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

// LoadInto copies the file's tensors into dst, by name, after Match: every
// tensor of dst must be present with the same shape and every tensor of the
// file must be used (as PyTorch's strict load_state_dict); otherwise nothing
// is copied and the *Error lists the missing, unexpected and mismatched
// names. TestFile_LoadIntoMismatch.
func (f *File) LoadInto(dst []Named) error {
	want := make([]Shape, len(dst))
	for i, p := range dst {
		want[i] = Shape{p.Name, p.T.Rows, p.T.Cols}
	}
	if err := f.Match(want); err != nil {
		return err
	}
	for _, p := range dst {
		copy(p.T.Data, f.Tensors[p.Name].Data)
	}
	return nil
}

// Match returns nil if the file holds exactly the tensors want, with their
// shapes, and otherwise an *Error listing the missing, unexpected and
// mis-shaped tensors and any name want repeats. It allocates nothing in
// proportion to the shapes, so a caller can check shapes taken from
// untrusted metadata before allocating them. TestFile_LoadIntoMismatch.
func (f *File) Match(want []Shape) error {
	var missing, mismatched, dup []string
	used := map[string]bool{}
	for _, w := range want {
		if used[w.Name] {
			dup = append(dup, w.Name)
			continue
		}
		used[w.Name] = true
		t, ok := f.Tensors[w.Name]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s [%d,%d]", w.Name, w.Rows, w.Cols))
		case t.Rows != w.Rows || t.Cols != w.Cols:
			mismatched = append(mismatched, fmt.Sprintf("%s (file [%d,%d], want [%d,%d])", w.Name, t.Rows, t.Cols, w.Rows, w.Cols))
		}
	}
	var unexpected []string
	for _, n := range f.Names {
		if !used[n] {
			unexpected = append(unexpected, n)
		}
	}
	var why []string
	for _, l := range []struct {
		what  string
		names []string
	}{{"missing", missing}, {"unexpected", unexpected}, {"shape mismatch", mismatched}, {"names wanted twice", dup}} {
		if len(l.names) > 0 {
			why = append(why, l.what+": "+strings.Join(l.names, ", "))
		}
	}
	if len(why) > 0 {
		return errorf(f.Path, "tensors do not match: %s", strings.Join(why, "; "))
	}
	return nil
}
