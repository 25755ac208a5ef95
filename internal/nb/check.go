package nb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Update runs the notebook at path and rewrites its outputs, execution counts and missing
// cell ids. On a failure the file is left as it was.
func Update(ctx context.Context, path string, opts Options) error {
	n, err := ReadFile(path)
	if err != nil {
		return err
	}
	got, err := Run(ctx, path, n, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	Normalize(got, filepath.Base(path))
	return writeAtomic(path, got.Marshal())
}

// Normalize gives n what nbformat 4.5 and GoNB write: nbformat_minor 5, GoNB's kernelspec if
// it has none, GoNB's language_info (keeping a stored Go version, so that the file does not
// change with the Go release of whoever runs it), no per-cell timings (the "execution"
// metadata nbconvert records), and an id for every cell (derived from the notebook's name and
// the cell's position, so it is stable).
func Normalize(n *Notebook, name string) {
	if n.NBFormatMinor < 5 {
		n.NBFormatMinor = 5
	}
	if n.Metadata == nil {
		n.Metadata = map[string]any{}
	}
	gonb := GoNBMetadata()
	if _, ok := n.Metadata["kernelspec"]; !ok {
		n.Metadata["kernelspec"] = gonb["kernelspec"]
	}
	info := gonb["language_info"].(map[string]any)
	if old, ok := n.Metadata["language_info"].(map[string]any); ok {
		if v, ok := old["version"].(string); ok && v != "" {
			info["version"] = v
		}
	}
	n.Metadata["language_info"] = info
	seen := map[string]bool{}
	for _, c := range n.Cells {
		seen[c.ID] = true
		if _, ok := c.Metadata["execution"]; ok {
			m := maps.Clone(c.Metadata)
			delete(m, "execution")
			c.Metadata = m
		}
	}
	for i, c := range n.Cells {
		for salt := 0; c.ID == ""; salt++ {
			h := sha256.Sum256(fmt.Appendf(nil, "%s/%d/%d", name, i, salt))
			if id := hex.EncodeToString(h[:4]); !seen[id] {
				c.ID, seen[id] = id, true
			}
		}
	}
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".nbrun-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		_ = os.Chmod(tmp.Name(), fi.Mode())
	}
	return os.Rename(tmp.Name(), path)
}

// Check runs the notebook at path and compares the outputs with the stored ones: stream text
// exactly (stdout with the displays between its lines in order, stderr on its own, since its
// interleaving with stdout is not deterministic) and displays by their MIME types and their
// text/plain and text/markdown values. It also checks that the file is written as nbformat
// writes it and that execution counts run 1, 2, 3… as after "Restart & Run All".
// The error lists every difference, naming the notebook, the cell and the line.
func Check(ctx context.Context, path string, opts Options) error {
	n, layout, err := readChecked(path)
	if err != nil {
		return err
	}
	var problems []string
	if layout != "" {
		problems = append(problems, layout)
	}
	got, runErr := Run(ctx, path, n, opts)
	if got != nil {
		want := *n
		var ce *CellError
		if errors.As(runErr, &ce) && ce.Cell-1 < len(want.Cells) {
			// Compare only the cells before the failure.
			want.Cells, got.Cells = want.Cells[:ce.Cell-1], got.Cells[:ce.Cell-1]
		}
		problems = append(problems, Compare(path, &want, got)...)
	}
	if runErr != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", path, runErr))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// CompareFiles compares the notebook at executed, the notebook stored at stored as another
// engine ran it (GoNB in Jupyter: `jupyter nbconvert --to notebook --execute`), with the
// stored one, as Check compares a run of nbrun: the same cells and sources, execution counts
// 1, 2, 3…, no error outputs, stream text exactly, displays by MIME type (and text/plain and
// text/markdown values). Both files must be in nbformat's layout. The error lists every
// difference.
func CompareFiles(stored, executed string) error {
	want, wantLayout, err := readChecked(stored)
	if err != nil {
		return err
	}
	got, gotLayout, err := readChecked(executed)
	if err != nil {
		return err
	}
	var problems []string
	for _, p := range []string{wantLayout, gotLayout} {
		if p != "" {
			problems = append(problems, p)
		}
	}
	if len(got.Cells) != len(want.Cells) {
		problems = append(problems, fmt.Sprintf("%s: %d cells, %s has %d", executed, len(got.Cells), stored, len(want.Cells)))
	}
	for i := range min(len(got.Cells), len(want.Cells)) {
		if g, w := got.Cells[i], want.Cells[i]; g.Type != w.Type || g.Source != w.Source {
			problems = append(problems, fmt.Sprintf("%s: cell %d: not the cell of %s (type or source differs)", executed, i+1, stored))
		}
	}
	if len(problems) == 0 {
		for _, n := range []*Notebook{want, got} {
			for i := range n.Cells {
				n.Cells[i].Outputs = byChannel(n.Cells[i].Outputs)
			}
		}
		problems = Compare(stored, want, got)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s against %s:\n%s", executed, stored, strings.Join(problems, "\n"))
	}
	return nil
}

// byChannel returns a cell's outputs with all of its stdout first (one stream, in order), then
// its displays in order, then the rest (stderr, errors) in order. GoNB sends a program's stdout
// through a pipe and its displays through a separate channel, so in Jupyter the interleaving of
// the two depends on timing (a picture can arrive before the line printed just before it);
// within each channel the order is the program's. CompareFiles compares channel by channel;
// nbrun's own runs keep the exact interleaving, which Check compares.
func byChannel(outs []Output) []Output {
	var stdout *Output
	var displays, rest []Output
	for _, o := range outs {
		switch {
		case o.Type == "stream" && o.Name == "stdout":
			if stdout == nil {
				c := o
				stdout = &c
			} else {
				stdout.Text += o.Text
			}
		case o.Type == "display_data" || o.Type == "execute_result":
			displays = append(displays, o)
		default:
			rest = append(rest, o)
		}
	}
	var res []Output
	if stdout != nil {
		res = append(res, *stdout)
	}
	return append(append(res, displays...), rest...)
}

// readChecked reads a notebook and says, if it is not in nbformat's layout, where it differs.
func readChecked(path string) (n *Notebook, layout string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	if n, err = Parse(raw); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	if canon := n.Marshal(); !bytes.Equal(canon, raw) {
		layout = fmt.Sprintf("%s: not in nbformat's layout (first difference at %s); run nbrun -update",
			path, firstDiff(string(raw), string(canon)))
	}
	return n, layout, nil
}

// Compare lists the differences between the stored notebook want and the fresh run got.
func Compare(path string, want, got *Notebook) []string {
	var problems []string
	for i, wc := range want.Cells {
		if wc.Type != "code" || i >= len(got.Cells) {
			continue
		}
		gc := got.Cells[i]
		where := fmt.Sprintf("%s: cell %d", path, i+1)
		if wc.ID != "" {
			where += fmt.Sprintf(" (id %q)", wc.ID)
		}
		if !sameCount(wc.ExecutionCount, gc.ExecutionCount) {
			problems = append(problems, fmt.Sprintf("%s: execution_count %s, want %s (as after Restart & Run All)",
				where, countString(wc.ExecutionCount), countString(gc.ExecutionCount)))
		}
		problems = append(problems, compareOutputs(where, wc.Outputs, gc.Outputs)...)
	}
	return problems
}

func sameCount(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func countString(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// item is a piece of a cell's stdout: text or a display.
type item struct {
	text    string
	display *Output
}

func splitOutputs(outs []Output) (main []item, stderr string, other []string) {
	for i := range outs {
		o := &outs[i]
		switch {
		case o.Type == "stream" && o.Name == "stderr":
			stderr += o.Text
		case o.Type == "stream":
			if k := len(main) - 1; k >= 0 && main[k].display == nil {
				main[k].text += o.Text
			} else {
				main = append(main, item{text: o.Text})
			}
		case o.Type == "display_data" || o.Type == "execute_result":
			main = append(main, item{display: o})
		default:
			other = append(other, o.Type+": "+o.EName+": "+o.EValue)
		}
	}
	return main, stderr, other
}

func compareOutputs(where string, want, got []Output) []string {
	wm, we, wo := splitOutputs(want)
	gm, ge, gotOther := splitOutputs(got)
	var problems []string
	for _, o := range wo {
		problems = append(problems, fmt.Sprintf("%s: stored output %s (nbrun never stores failures)", where, o))
	}
	for _, o := range gotOther {
		problems = append(problems, fmt.Sprintf("%s: got output %s", where, o))
	}
	if d := diffText(ge, we); d != "" {
		problems = append(problems, fmt.Sprintf("%s: stderr differs:\n%s", where, d))
	}
	line := 1 // line of stdout where the current item starts
	for k := 0; k < max(len(wm), len(gm)); k++ {
		switch {
		case k >= len(wm):
			problems = append(problems, fmt.Sprintf("%s: stdout line %d: unexpected %s", where, line, describe(gm[k])))
			return problems
		case k >= len(gm):
			problems = append(problems, fmt.Sprintf("%s: stdout line %d: missing %s", where, line, describe(wm[k])))
			return problems
		}
		w, g := wm[k], gm[k]
		switch {
		case (w.display == nil) != (g.display == nil):
			problems = append(problems, fmt.Sprintf("%s: stdout line %d: got %s, want %s", where, line, describe(g), describe(w)))
			return problems
		case w.display == nil:
			if d := diffTextAt(g.text, w.text, line); d != "" {
				problems = append(problems, fmt.Sprintf("%s: stdout differs:\n%s", where, d))
				return problems
			}
			line += strings.Count(w.text, "\n")
		default:
			if d := compareDisplay(g.display, w.display); d != "" {
				problems = append(problems, fmt.Sprintf("%s: display after stdout line %d: %s", where, line-1, d))
			}
		}
	}
	return problems
}

func describe(it item) string {
	if it.display != nil {
		return "display " + strings.Join(mimeTypes(it.display), ", ")
	}
	return fmt.Sprintf("text %q", firstLine(it.text))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func mimeTypes(o *Output) []string {
	var ts []string
	for k := range o.Data {
		ts = append(ts, k)
	}
	sort.Strings(ts)
	return ts
}

// compareDisplay compares two displays by MIME types, and by value for text/plain and
// text/markdown (images and HTML are compared by presence only).
func compareDisplay(got, want *Output) string {
	gt, wt := mimeTypes(got), mimeTypes(want)
	if strings.Join(gt, ",") != strings.Join(wt, ",") {
		return fmt.Sprintf("MIME types %v, want %v", gt, wt)
	}
	for _, m := range []string{"text/plain", "text/markdown"} {
		g, _ := got.Data[m].(string)
		w, _ := want.Data[m].(string)
		if g != w {
			return fmt.Sprintf("%s differs:\n%s", m, diffText(g, w))
		}
	}
	return ""
}

func diffText(got, want string) string { return diffTextAt(got, want, 1) }

// diffTextAt describes the first differing line of got and want (numbered from first), with
// a line of context before it, or returns "" if they are equal.
func diffTextAt(got, want string, first int) string {
	if got == want {
		return ""
	}
	gl, wl := lines(got), lines(want)
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	var sb strings.Builder
	if i > 0 {
		fmt.Fprintf(&sb, "  line %d:   %q\n", first+i-1, wl[i-1])
	}
	if i < len(wl) {
		fmt.Fprintf(&sb, "- line %d: want %q\n", first+i, wl[i])
	} else {
		fmt.Fprintf(&sb, "- line %d: want end of output\n", first+i)
	}
	if i < len(gl) {
		fmt.Fprintf(&sb, "+ line %d: got  %q", first+i, gl[i])
	} else {
		fmt.Fprintf(&sb, "+ line %d: got  end of output", first+i)
	}
	return sb.String()
}

func firstDiff(a, b string) string {
	line, col := 1, 1
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			break
		}
		if a[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// lines splits s after each newline, without an empty last element.
func lines(s string) []string {
	l := strings.SplitAfter(s, "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}
