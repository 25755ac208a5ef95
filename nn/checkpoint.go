package nn

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

// Checkpoints use the safetensors layout (https://github.com/huggingface/safetensors):
//
//	bytes [0, 8)        N, the header length, uint64 little-endian
//	bytes [8, 8+N)      JSON header, padded with spaces:
//	                    {"__metadata__": {"key": "value", …},
//	                     "name": {"dtype": "F64", "shape": [r, c], "data_offsets": [b, e]}, …}
//	bytes [8+N, end)    data: tensor "name" is bytes [b, e) of this section,
//	                    r·c float64 values, row-major, little-endian
//
// The reader accepts what the safetensors reference reader accepts for F64
// tensors of rank ≤ 2 (rank 0 is read as [1, 1] and rank 1 as [1, n]): a
// header of at most MaxHeaderSize bytes starting with '{', no duplicate
// names, e − b = 8·r·c, and tensors that tile the data section exactly, with
// no gap, overlap or trailing byte.

// MaxHeaderSize bounds the JSON header a checkpoint may declare, as the
// safetensors reference reader does (100 MB), so that a corrupt length
// cannot make LoadCheckpoint allocate without limit.
const MaxHeaderSize = 100_000_000

const metadataKey = "__metadata__"

// CheckpointError reports a checkpoint that cannot be written, read or
// loaded into a model: the file and what is wrong with it.
type CheckpointError struct {
	Path   string
	Reason string
	Err    error // the underlying I/O error, if any
}

func (e *CheckpointError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("nn: checkpoint %s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("nn: checkpoint %s: %s", e.Path, e.Reason)
}

func (e *CheckpointError) Unwrap() error { return e.Err }

func ckErr(path, format string, args ...any) error {
	return &CheckpointError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Checkpoint is the content of a checkpoint file.
type Checkpoint struct {
	Path     string                      // the file it was read from
	Names    []string                    // tensor names in the order of their data
	Tensors  map[string]*autograd.Tensor // by name; leaves requiring no gradient
	Metadata map[string]string           // the "__metadata__" entry (never nil)
}

// SaveCheckpoint writes params and metadata to path as a safetensors file,
// atomically: the bytes go to a temporary file in the same directory, which
// is fsynced and then renamed over path, so path holds either its old
// content or the complete new one, never a partial file. Names must be
// unique, non-empty and not "__metadata__". TestCheckpoint_RoundTrip,
// TestCheckpoint_AtomicWrite.
func SaveCheckpoint(path string, params []Named, metadata map[string]string) error {
	b, err := encodeCheckpoint(params, metadata)
	if err != nil {
		return &CheckpointError{Path: path, Reason: err.Error()}
	}
	return writeFileAtomic(path, b)
}

// encodeCheckpoint returns the safetensors bytes of params and metadata.
func encodeCheckpoint(params []Named, metadata map[string]string) ([]byte, error) {
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
	seen := make(map[string]bool, len(params))
	off := 0
	for i, p := range params {
		switch {
		case p.Name == "" || p.Name == metadataKey:
			return nil, fmt.Errorf("parameter %d has the reserved name %q", i, p.Name)
		case seen[p.Name]:
			return nil, fmt.Errorf("duplicate parameter name %q", p.Name)
		case p.T == nil || len(p.T.Data) != p.T.Rows*p.T.Cols:
			return nil, fmt.Errorf("parameter %q has no valid tensor", p.Name)
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
	for _, p := range params {
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
		return &CheckpointError{Path: path, Reason: "create temporary file", Err: err}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return &CheckpointError{Path: path, Reason: "write", Err: err}
	}
	if err = f.Chmod(0o644); err != nil {
		return &CheckpointError{Path: path, Reason: "chmod", Err: err}
	}
	if err = syncFile(f); err != nil {
		return &CheckpointError{Path: path, Reason: "fsync", Err: err}
	}
	if err = f.Close(); err != nil {
		return &CheckpointError{Path: path, Reason: "close", Err: err}
	}
	if err = os.Rename(tmp, path); err != nil {
		return &CheckpointError{Path: path, Reason: "rename", Err: err}
	}
	if d, derr := os.Open(dir); derr == nil { // persist the rename; best effort
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// LoadCheckpoint reads and validates the safetensors file at path. Every
// problem (I/O, truncation, an oversized or malformed header, a dtype other
// than F64, a rank above 2, offsets that overlap, leave gaps or run past the
// data) is returned as a *CheckpointError naming the file; it never panics.
// TestLoadCheckpoint_Corrupt, FuzzLoadCheckpoint.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &CheckpointError{Path: path, Reason: "open", Err: err}
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, &CheckpointError{Path: path, Reason: "read", Err: err}
	}
	return parseCheckpoint(path, b)
}

type tensorEntry struct {
	name       string
	rows, cols int
	begin, end int
}

// parseCheckpoint decodes the bytes b of the checkpoint named path.
func parseCheckpoint(path string, b []byte) (*Checkpoint, error) {
	if len(b) < 8 {
		return nil, ckErr(path, "truncated: %d bytes, need at least 8 for the header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, ckErr(path, "header length %d exceeds the limit of %d bytes (corrupt or not a safetensors file)", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, ckErr(path, "truncated: header length %d but only %d bytes follow", n, len(b)-8)
	}
	header, data := b[8:8+n], b[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, ckErr(path, "header does not start with '{'")
	}
	ck := &Checkpoint{Path: path, Tensors: map[string]*autograd.Tensor{}, Metadata: map[string]string{}}
	var entries []tensorEntry
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, ckErr(path, "header JSON: %v", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, ckErr(path, "header JSON: %v", err)
		}
		name, _ := tok.(string) // object keys are strings
		if seen[name] {
			return nil, ckErr(path, "header names %q twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, ckErr(path, "header JSON at %q: %v", name, err)
		}
		if name == metadataKey {
			if err := json.Unmarshal(raw, &ck.Metadata); err != nil || ck.Metadata == nil {
				return nil, ckErr(path, "%s is not an object of strings", metadataKey)
			}
			continue
		}
		e, err := parseEntry(name, raw, len(data))
		if err != nil {
			return nil, ckErr(path, "%v", err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, ckErr(path, "header JSON: %v", err)
	}
	if rest := bytes.TrimRight(header[dec.InputOffset():], " "); len(rest) != 0 {
		return nil, ckErr(path, "header has %d unexpected bytes after the JSON object", len(rest))
	}
	// The tensors must tile the data section: sorted by offset, each starts
	// where the previous one ends and the last ends at the end of the file.
	slices.SortStableFunc(entries, func(x, y tensorEntry) int {
		if x.begin != y.begin {
			return x.begin - y.begin
		}
		return x.end - y.end
	})
	pos, prev := 0, ""
	for _, e := range entries {
		if e.begin < pos {
			return nil, ckErr(path, "tensor %q data_offsets [%d, %d] overlap tensor %q, which ends at %d", e.name, e.begin, e.end, prev, pos)
		}
		if e.begin > pos {
			return nil, ckErr(path, "tensor %q data_offsets [%d, %d] leave a gap: the previous data ends at %d", e.name, e.begin, e.end, pos)
		}
		pos, prev = e.end, e.name
	}
	if pos != len(data) {
		return nil, ckErr(path, "data section has %d bytes but the tensors cover %d", len(data), pos)
	}
	for _, e := range entries {
		t := autograd.Zeros(e.rows, e.cols)
		for i := range t.Data {
			t.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[e.begin+8*i:]))
		}
		ck.Names = append(ck.Names, e.name)
		ck.Tensors[e.name] = t
	}
	return ck, nil
}

// parseEntry decodes and checks one tensor's header entry; dataLen is the
// size of the data section.
func parseEntry(name string, raw json.RawMessage, dataLen int) (tensorEntry, error) {
	var h struct {
		Dtype       string        `json:"dtype"`
		Shape       []json.Number `json:"shape"`
		DataOffsets []json.Number `json:"data_offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&h); err != nil {
		return tensorEntry{}, fmt.Errorf("tensor %q: header entry: %v", name, err)
	}
	if name == "" {
		return tensorEntry{}, fmt.Errorf("a tensor has an empty name")
	}
	if h.Dtype != "F64" {
		return tensorEntry{}, fmt.Errorf("tensor %q: dtype %q, want \"F64\" (float64)", name, h.Dtype)
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
		return tensorEntry{}, err
	}
	off, err := ints("data_offsets", h.DataOffsets)
	if err != nil {
		return tensorEntry{}, err
	}
	e := tensorEntry{name: name, rows: 1, cols: 1}
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

// LoadInto copies the checkpoint's tensors into params, by name. Every
// parameter must be present with the same shape and every tensor of the
// checkpoint must be used (as PyTorch's strict load_state_dict); otherwise
// nothing is copied and the *CheckpointError lists the missing, unexpected
// and mismatched names. TestCheckpoint_LoadIntoMismatch.
func (c *Checkpoint) LoadInto(params []Named) error {
	want := make([]namedShape, len(params))
	for i, p := range params {
		want[i] = namedShape{p.Name, p.T.Rows, p.T.Cols}
	}
	if err := c.match(want); err != nil {
		return err
	}
	for _, p := range params {
		copy(p.T.Data, c.Tensors[p.Name].Data)
	}
	return nil
}

type namedShape struct {
	name       string
	rows, cols int
}

// match checks that the checkpoint holds exactly the tensors want, with
// their shapes.
func (c *Checkpoint) match(want []namedShape) error {
	var missing, mismatched, dup []string
	used := map[string]bool{}
	for _, w := range want {
		if used[w.name] {
			dup = append(dup, w.name)
			continue
		}
		used[w.name] = true
		t, ok := c.Tensors[w.name]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%s [%d,%d]", w.name, w.rows, w.cols))
		case t.Rows != w.rows || t.Cols != w.cols:
			mismatched = append(mismatched, fmt.Sprintf("%s (file [%d,%d], model [%d,%d])", w.name, t.Rows, t.Cols, w.rows, w.cols))
		}
	}
	var unexpected []string
	for _, n := range c.Names {
		if !used[n] {
			unexpected = append(unexpected, n)
		}
	}
	var why []string
	for _, l := range []struct {
		what  string
		names []string
	}{{"missing", missing}, {"unexpected", unexpected}, {"shape mismatch", mismatched}, {"duplicate model names", dup}} {
		if len(l.names) > 0 {
			why = append(why, l.what+": "+strings.Join(l.names, ", "))
		}
	}
	if len(why) > 0 {
		return ckErr(c.Path, "does not match the model: %s", strings.Join(why, "; "))
	}
	return nil
}

// Metadata keys under which SaveMLP and SaveVelocityMLP record the
// architecture; extra metadata may not use them.
const (
	MetaModel      = "nn.model"      // "MLP" or "VelocityMLP"
	MetaSizes      = "nn.sizes"      // layer widths, e.g. "3,256,256,256,2"
	MetaActivation = "nn.activation" // e.g. "silu"
)

// SaveMLP writes m's parameters (NamedParams) and its architecture
// (MetaModel "MLP", MetaSizes, MetaActivation) plus extraMeta to path with
// SaveCheckpoint. TestCheckpoint_ModelRoundTrip.
func SaveMLP(path string, m *MLP, extraMeta map[string]string) error {
	return saveModel(path, "MLP", m, extraMeta)
}

// SaveVelocityMLP is SaveMLP for v_θ, with MetaModel "VelocityMLP".
func SaveVelocityMLP(path string, v *VelocityMLP, extraMeta map[string]string) error {
	return saveModel(path, "VelocityMLP", v.Net, extraMeta)
}

func saveModel(path, kind string, m *MLP, extra map[string]string) error {
	meta := map[string]string{}
	for k, v := range extra {
		if k == MetaModel || k == MetaSizes || k == MetaActivation {
			return ckErr(path, "extra metadata key %q is reserved for the architecture", k)
		}
		meta[k] = v
	}
	sizes := m.Sizes()
	s := make([]string, len(sizes))
	for i, n := range sizes {
		s[i] = strconv.Itoa(n)
	}
	meta[MetaModel], meta[MetaSizes], meta[MetaActivation] = kind, strings.Join(s, ","), string(m.Activation())
	return SaveCheckpoint(path, m.NamedParams(), meta)
}

// LoadMLP reads an MLP saved by SaveMLP: it rebuilds the architecture from
// the metadata, checks every tensor's name and shape against it and returns
// the model (parameters requiring gradients) and the extra metadata (without
// the architecture keys).
func LoadMLP(path string) (*MLP, map[string]string, error) {
	m, meta, err := loadModel(path, "MLP")
	if err != nil {
		return nil, nil, err
	}
	return m, extraMeta(meta), nil
}

// LoadVelocityMLP reads a VelocityMLP saved by SaveVelocityMLP, as LoadMLP.
func LoadVelocityMLP(path string) (*VelocityMLP, map[string]string, error) {
	m, meta, err := loadModel(path, "VelocityMLP")
	if err != nil {
		return nil, nil, err
	}
	sizes := m.Sizes()
	dim := sizes[len(sizes)-1]
	if sizes[0] != dim+1 {
		return nil, nil, ckErr(path, "%s %q: a velocity field on ℝ^%d needs %d inputs", MetaSizes, meta[MetaSizes], dim, dim+1)
	}
	return &VelocityMLP{Net: m, dim: dim}, extraMeta(meta), nil
}

func extraMeta(meta map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range meta {
		if k != MetaModel && k != MetaSizes && k != MetaActivation {
			out[k] = v
		}
	}
	return out
}

// loadModel reads an MLP of the given kind and returns it with all of the
// checkpoint's metadata.
func loadModel(path, kind string) (*MLP, map[string]string, error) {
	ck, err := LoadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	if got := ck.Metadata[MetaModel]; got != kind {
		return nil, nil, ckErr(path, "metadata %s = %q, want %q", MetaModel, got, kind)
	}
	act := autograd.Activation(ck.Metadata[MetaActivation])
	if !act.Valid() {
		return nil, nil, ckErr(path, "metadata %s = %q is not a known activation", MetaActivation, string(act))
	}
	var sizes []int
	for s := range strings.SplitSeq(ck.Metadata[MetaSizes], ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return nil, nil, ckErr(path, "metadata %s = %q is not a list of positive sizes", MetaSizes, ck.Metadata[MetaSizes])
		}
		sizes = append(sizes, n)
	}
	if len(sizes) < 2 {
		return nil, nil, ckErr(path, "metadata %s = %q needs at least two sizes", MetaSizes, ck.Metadata[MetaSizes])
	}
	// Check shapes before allocating anything, so that sizes in corrupt
	// metadata cannot demand more memory than the file holds.
	var want []namedShape
	for i := 0; i+1 < len(sizes); i++ {
		want = append(want,
			namedShape{fmt.Sprintf("layers.%d.weight", i), sizes[i], sizes[i+1]},
			namedShape{fmt.Sprintf("layers.%d.bias", i), 1, sizes[i+1]})
	}
	if err := ck.match(want); err != nil {
		return nil, nil, err
	}
	m := &MLP{act: act}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, &Linear{
			W: ck.Tensors[want[2*i].name].SetRequiresGrad(true),
			B: ck.Tensors[want[2*i+1].name].SetRequiresGrad(true),
		})
	}
	return m, ck.Metadata, nil
}
