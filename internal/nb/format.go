package nb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Notebook is an nbformat 4 notebook. Multi-line strings (sources, stream text, text MIME
// values) are held joined; Marshal splits them into lists of lines as nbformat does.
type Notebook struct {
	Cells         []*Cell
	Metadata      map[string]any
	NBFormat      int
	NBFormatMinor int
}

// Cell is one notebook cell. Outputs and ExecutionCount are used by code cells only.
type Cell struct {
	Type           string // "code", "markdown" or "raw"
	ID             string
	Source         string
	Metadata       map[string]any
	ExecutionCount *int
	Outputs        []Output
	extra          map[string]any // other keys (e.g. attachments), kept as read
}

// Output is one output of a code cell, with text MIME values and stream text joined.
type Output struct {
	Type      string         // "stream", "display_data", "execute_result" or "error"
	Name      string         // stream: "stdout" or "stderr"
	Text      string         // stream
	Data      map[string]any // display_data, execute_result: MIME type → value
	Metadata  map[string]any // display_data, execute_result
	ExecCount *int           // execute_result
	EName     string         // error
	EValue    string         // error
	Traceback []string       // error
}

// GoNBMetadata is the notebook metadata a notebook executed by GoNB v0.11.4 in Jupyter carries:
// GoNB's kernelspec and the language_info GoNB reports, whose version is the Go release GoNB
// was built with (here, the one running this code).
func GoNBMetadata() map[string]any {
	return map[string]any{
		"kernelspec": map[string]any{"display_name": "Go (gonb)", "language": "go", "name": "gonb"},
		"language_info": map[string]any{
			"codemirror_mode": "", "file_extension": ".go", "mimetype": "text/x-go", "name": "go",
			"nbconvert_exporter": "", "pygments_lexer": "", "version": runtime.Version(),
		},
	}
}

// ReadFile reads and parses a notebook file.
func ReadFile(path string) (*Notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	n, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// Parse decodes an nbformat 4 notebook.
func Parse(b []byte) (*Notebook, error) {
	var raw struct {
		Cells         []map[string]any `json:"cells"`
		Metadata      map[string]any   `json:"metadata"`
		NBFormat      int              `json:"nbformat"`
		NBFormatMinor int              `json:"nbformat_minor"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if raw.NBFormat != 4 {
		return nil, fmt.Errorf("nbformat %d, want 4", raw.NBFormat)
	}
	n := &Notebook{Metadata: raw.Metadata, NBFormat: raw.NBFormat, NBFormatMinor: raw.NBFormatMinor}
	if n.Metadata == nil {
		n.Metadata = map[string]any{}
	}
	for i, rc := range raw.Cells {
		c, err := parseCell(rc)
		if err != nil {
			return nil, fmt.Errorf("cell %d: %w", i+1, err)
		}
		n.Cells = append(n.Cells, c)
	}
	return n, nil
}

func parseCell(m map[string]any) (*Cell, error) {
	c := &Cell{extra: map[string]any{}}
	for k, v := range m {
		switch k {
		case "cell_type":
			c.Type, _ = v.(string)
		case "id":
			c.ID, _ = v.(string)
		case "source":
			c.Source = joinLines(v)
		case "metadata":
			c.Metadata, _ = v.(map[string]any)
		case "execution_count":
			c.ExecutionCount = intPtr(v)
		case "outputs":
			list, _ := v.([]any)
			for _, o := range list {
				om, ok := o.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("output is %T, want an object", o)
				}
				c.Outputs = append(c.Outputs, parseOutput(om))
			}
		default:
			c.extra[k] = v
		}
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	switch c.Type {
	case "code", "markdown", "raw":
	default:
		return nil, fmt.Errorf("unknown cell_type %q", c.Type)
	}
	return c, nil
}

func parseOutput(m map[string]any) Output {
	o := Output{}
	o.Type, _ = m["output_type"].(string)
	o.Name, _ = m["name"].(string)
	o.Text = joinLines(m["text"])
	o.Metadata, _ = m["metadata"].(map[string]any)
	o.ExecCount = intPtr(m["execution_count"])
	o.EName, _ = m["ename"].(string)
	o.EValue, _ = m["evalue"].(string)
	if tb, ok := m["traceback"].([]any); ok {
		for _, l := range tb {
			s, _ := l.(string)
			o.Traceback = append(o.Traceback, s)
		}
	}
	if d, ok := m["data"].(map[string]any); ok {
		o.Data = map[string]any{}
		for k, v := range d {
			if _, isList := v.([]any); isList && !isJSONMime(k) {
				v = joinLines(v)
			}
			o.Data[k] = v
		}
	}
	return o
}

func intPtr(v any) *int {
	num, ok := v.(json.Number)
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(string(num))
	if err != nil {
		return nil
	}
	return &i
}

// joinLines accepts a string or a list of strings (nbformat's multiline string).
func joinLines(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var sb strings.Builder
		for _, l := range v {
			s, _ := l.(string)
			sb.WriteString(s)
		}
		return sb.String()
	}
	return ""
}

func isJSONMime(m string) bool {
	return m == "application/json" || strings.HasPrefix(m, "application/") && strings.HasSuffix(m, "+json")
}

// splitMime reports whether nbformat stores a string value of MIME type m as a list of lines.
func splitMime(m string) bool {
	return strings.HasPrefix(m, "text/") || m == "image/svg+xml" || m == "application/javascript"
}

// SplitLines splits s after each line boundary, as Python's str.splitlines(keepends=True)
// does (which is what nbformat uses): \n, \r, \r\n, \v, \f, \x1c–\x1e, \x85, U+2028, U+2029.
func SplitLines(s string) []string {
	lines := []string{}
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch r {
		case '\r':
			end = i + 1
			if end < len(s) && s[end] == '\n' {
				end++
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end = i + size
		}
		if end >= 0 {
			lines = append(lines, s[start:end])
			start, i = end, end
			continue
		}
		i += size
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

func lineList(s string) []any {
	ls := SplitLines(s)
	out := make([]any, len(ls))
	for i, l := range ls {
		out[i] = l
	}
	return out
}

// Marshal writes the notebook exactly as nbformat.write does: JSON with indent 1, sorted keys,
// non-ASCII characters unescaped, multi-line strings as lists of lines, a final newline.
func (n *Notebook) Marshal() []byte {
	cells := make([]any, len(n.Cells))
	for i, c := range n.Cells {
		cells[i] = c.toJSON()
	}
	meta := n.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	doc := map[string]any{
		"cells":          cells,
		"metadata":       meta,
		"nbformat":       json.Number(strconv.Itoa(n.NBFormat)),
		"nbformat_minor": json.Number(strconv.Itoa(n.NBFormatMinor)),
	}
	var buf bytes.Buffer
	writeJSON(&buf, doc, 0)
	buf.WriteByte('\n')
	return buf.Bytes()
}

func (c *Cell) toJSON() map[string]any {
	m := map[string]any{}
	for k, v := range c.extra {
		m[k] = v
	}
	m["cell_type"] = c.Type
	if c.ID != "" {
		m["id"] = c.ID
	}
	m["metadata"] = orEmpty(c.Metadata)
	m["source"] = lineList(c.Source)
	if c.Type == "code" {
		m["execution_count"] = numOrNil(c.ExecutionCount)
		outs := make([]any, 0, len(c.Outputs)) // never null
		for _, o := range c.Outputs {
			outs = append(outs, o.toJSON())
		}
		m["outputs"] = outs
	}
	return m
}

func (o Output) toJSON() map[string]any {
	m := map[string]any{"output_type": o.Type}
	switch o.Type {
	case "stream":
		m["name"] = o.Name
		m["text"] = lineList(o.Text)
	case "display_data", "execute_result":
		data := map[string]any{}
		for k, v := range o.Data {
			if s, ok := v.(string); ok && splitMime(k) {
				v = lineList(s)
			}
			data[k] = v
		}
		m["data"] = data
		m["metadata"] = orEmpty(o.Metadata)
		if o.Type == "execute_result" {
			m["execution_count"] = numOrNil(o.ExecCount)
		}
	case "error":
		m["ename"] = o.EName
		m["evalue"] = o.EValue
		tb := make([]any, len(o.Traceback))
		for i, l := range o.Traceback {
			tb[i] = l
		}
		m["traceback"] = tb
	}
	return m
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func numOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return json.Number(strconv.Itoa(*p))
}

// writeJSON is Python's json.dumps(v, indent=1, sort_keys=True, ensure_ascii=False).
func writeJSON(b *bytes.Buffer, v any, depth int) {
	nl := func(d int) {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", d))
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(string(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		writeString(b, v)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSON(b, e, depth+1)
		}
		nl(depth)
		b.WriteByte(']')
	case map[string]any:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeString(b, k)
			b.WriteString(": ")
			writeJSON(b, v[k], depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("nb: cannot write %T as JSON", v))
	}
}

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
