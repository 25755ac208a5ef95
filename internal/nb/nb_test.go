package nb

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustProgram(t *testing.T, cell int, src string) (*code, *program) {
	t.Helper()
	c, err := splitCell(cell, src)
	require.NoError(t, err)
	p, err := parseCode(c)
	require.NoError(t, err)
	return c, p
}

func names(ds []*decl) []string {
	var out []string
	for _, d := range ds {
		out = append(out, strings.Join(d.names, ","))
	}
	return out
}

func TestMerge_LaterReplacesEarlier(t *testing.T) {
	_, p1 := mustProgram(t, 1, "import \"fmt\"\n\ntype T int\n\nfunc (T) M() {}\n\nfunc f() int { return 1 }\n\nvar a, b = 1, 2\n\nconst (\n\tX = iota\n\tY\n)")
	_, p2 := mustProgram(t, 2, "var f = 3\n\nfunc (t *T) M() {}\n\nvar b = 4")
	m := merge(merge(nil, p1.decls), p2.decls)
	// f (a func) is replaced by the var f, T.M by the new method (pointer receiver, same key),
	// and a, b by b alone: a decl sharing any name goes.
	assert.Equal(t, []string{"import  fmt", "T", "X,Y", "f", "T.M", "b"}, names(m))
	assert.Equal(t, "var f = 3", m[3].text)
	assert.Equal(t, 2, m[3].cell)
	assert.Equal(t, 1, m[3].line)
}

func TestParseCode_GroupsAndDocs(t *testing.T) {
	_, p := mustProgram(t, 1, "// T is a type.\ntype T int\n\ntype (\n\tA int\n\tB string\n)\n\nvar _ = 1\nvar _ = 2")
	assert.Equal(t, []string{"T", "A", "B", "_ cell 1 line 9", "_ cell 1 line 10"}, names(p.decls))
	assert.Equal(t, "// T is a type.\ntype T int", p.decls[0].text)
	assert.Equal(t, "type A int", p.decls[1].text)
	assert.Equal(t, 5, p.decls[1].line)
	assert.Equal(t, 6, p.decls[2].line)
}

func TestSplitCell_MainAndSpecials(t *testing.T) {
	src := "!echo a \\\nb\n!*go mod tidy\n%env K V W\n%env L=x y\nfunc f() {}\n%% -n=3 x\nf()\n//gonb:!ls"
	c, p := mustProgram(t, 4, src)
	require.Len(t, c.shell, 3)
	assert.Equal(t, shellCmd{cmd: "echo a \nb", line: 1}, c.shell[0])
	assert.Equal(t, shellCmd{cmd: "go mod tidy", inModule: true, line: 3}, c.shell[1])
	assert.Equal(t, "ls", c.shell[2].cmd)
	assert.Equal(t, [][2]string{{"K", "V W"}, {"L", "x y"}}, c.env)
	assert.Equal(t, []string{"-n=3", "x"}, c.mainArgs)
	assert.Equal(t, []string{"f"}, names(p.decls))
	assert.Equal(t, "\nf()\n\n", p.mainText)
	assert.Equal(t, 7, p.mainLine) // the line of %%; the body starts on the next

	prog := compose(p.decls, p, 4, nil)
	assert.Contains(t, prog, "func main() {\n\tflag.Parse()\n//line cell4.go:7:1\n\nf()\n\n\n}\n")
	assert.Contains(t, prog, "//line cell4.go:6:1\nfunc f() {}\n")
	assert.Contains(t, prog, "import \"flag\"")
}

func TestSplitCell_Errors(t *testing.T) {
	_, err := splitCell(2, "x := 1\n%wasm")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cell 2, line 2: unsupported magic %wasm")
	_, err = splitCell(2, "%%\n%main")
	assert.ErrorContains(t, err, "second %main")

	c, err := splitCell(3, "func f() {\n\treturn 1 +\n}")
	require.NoError(t, err)
	_, err = parseCode(c)
	assert.ErrorContains(t, err, "cell 3, line 3: ")

	c, err = splitCell(3, "x := 1")
	require.NoError(t, err)
	_, err = parseCode(c)
	assert.ErrorContains(t, err, "cell 3, line 1: ")
}

func TestCompose_InitAndUserMain(t *testing.T) {
	_, p := mustProgram(t, 1, "import \"flag\"\n\nfunc init_setup() {}\n\nfunc main() {}")
	prog := compose(p.decls, p, 1, map[string]bool{})
	assert.Contains(t, prog, "func init() {}")
	assert.Equal(t, 1, strings.Count(prog, "import \"flag\""))
	assert.Contains(t, prog, "var _ = flag.Parse\n\n//line cell1.go:5:1\nfunc main() {}\n")
	assert.NotContains(t, compose(p.decls, p, 1, map[string]bool{"flag as ": true}), "//line cell1.go:1:1\nimport \"flag\"")
}

func TestUnusedImportsAndErrorMapping(t *testing.T) {
	out := "# nbrun_notebook\ncell2.go:3:2: \"strings\" imported and not used\ncell2.go:4:2: \"math/rand/v2\" imported as mr and not used\n./cell5.go:7:12: undefined: y\n"
	assert.Equal(t, []string{"strings as ", "math/rand/v2 as mr"}, unusedImports(out))
	assert.Equal(t, "math/rand/v2 as ", importKey("math/rand/v2", "rand"))
	assert.Equal(t, "gonum.org/v1/plot as ", importKey("gonum.org/v1/plot", "plot"))
	assert.Equal(t, "cell 2, line 3:2: \"strings\" imported and not used\ncell 2, line 4:2: \"math/rand/v2\" imported as mr and not used\ncell 5, line 7:12: undefined: y",
		mapCompileErrors(out))
}

func TestSplitLines_AsPython(t *testing.T) {
	// Python: "a\nb\r\nc\rd\x0ce\u2028f".splitlines(True)
	assert.Equal(t, []string{"a\n", "b\r\n", "c\r", "d\f", "e\u2028", "f"}, SplitLines("a\nb\r\nc\rd\fe\u2028f"))
	assert.Equal(t, []string{}, SplitLines(""))
	assert.Equal(t, []string{"x\n"}, SplitLines("x\n"))
}

func TestReadDisplay_FramesBetweenText(t *testing.T) {
	rec := func(payload string) string { return displayMarker + strconv.Itoa(len(payload)) + "\n" + payload }
	in := "before " + rec(`{"text/plain":"<HTML>","text/html":"<b>x</b>"}`) + "after\x1e not a marker\n"
	col := &collector{}
	require.NoError(t, readDisplay(strings.NewReader(in), col))
	require.Len(t, col.outs, 3)
	assert.Equal(t, "before ", col.outs[0].Text)
	assert.Equal(t, "<b>x</b>", col.outs[1].Data["text/html"])
	assert.Equal(t, "after\x1e not a marker\n", col.outs[2].Text)
}

// TestSession_FailedCellIsNotRemembered: a cell that does not compile leaves the remembered
// declarations as they were (GoNB keeps a cell's declarations only if it compiles).
func TestSession_FailedCellIsNotRemembered(t *testing.T) {
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	s := &session{opts: Options{Repo: repo, Timeout: time.Minute, BuildTimeout: 5 * time.Minute}, nbDir: t.TempDir(), modDir: t.TempDir()}
	require.NoError(t, s.writeModule())
	ctx := context.Background()
	_, err = s.runCell(ctx, 1, "import \"fmt\"\n\nfunc f() string { return \"kept\" }")
	require.NoError(t, err)
	_, err = s.runCell(ctx, 2, "func f() string { return 1 }\n\nfunc g() {}")
	require.ErrorContains(t, err, "cell 2, line 1:")
	outs, err := s.runCell(ctx, 3, "%%\nfmt.Println(f())")
	require.NoError(t, err)
	require.Len(t, outs, 1)
	assert.Equal(t, "kept\n", outs[0].Text)
	assert.Equal(t, []string{"import  fmt", "f"}, names(s.memory))
}

// testRepo is the repository root, for runs of small notebooks.
func testRepo(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	return repo
}

// TestRun_ExecutionCountsPerCell: GoNB numbers the executed code cells 1, 2, 3…; each cell
// holds its own number, also in the written file (not the last number in every cell).
func TestRun_ExecutionCountsPerCell(t *testing.T) {
	n := &Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: GoNBMetadata()}
	for _, src := range []string{"# title", "!true", "# between", "!true", "!true"} {
		typ := "code"
		if strings.HasPrefix(src, "# ") {
			typ = "markdown"
		}
		n.Cells = append(n.Cells, &Cell{Type: typ, Source: src})
	}
	path := filepath.Join(t.TempDir(), "counts.ipynb")
	got, err := Run(context.Background(), path, n, Options{Repo: testRepo(t)})
	require.NoError(t, err)
	var counts []int
	for _, c := range got.Cells {
		if c.Type == "code" {
			require.NotNil(t, c.ExecutionCount)
			counts = append(counts, *c.ExecutionCount)
		} else {
			assert.Nil(t, c.ExecutionCount)
		}
	}
	assert.Equal(t, []int{1, 2, 3}, counts)
	again, err := Parse(got.Marshal())
	require.NoError(t, err)
	assert.Equal(t, 1, *again.Cells[1].ExecutionCount)
	assert.Equal(t, 3, *again.Cells[4].ExecutionCount)
}

// TestStandIn_MIMETypesAsGoNB: each display call of the gonbui stand-in stores exactly the MIME
// types GoNB v0.11.4 stores (gonbui/gonbui.go there): DisplayPng only image/png, DisplayHTML
// only text/html, DisplayMarkdown only text/markdown, DisplaySvg as HTML; no text/plain.
func TestStandIn_MIMETypesAsGoNB(t *testing.T) {
	s := &session{opts: Options{Repo: testRepo(t), Timeout: time.Minute, BuildTimeout: 5 * time.Minute}, nbDir: t.TempDir(), modDir: t.TempDir()}
	require.NoError(t, s.writeModule())
	outs, err := s.runCell(context.Background(), 1, `import (
	"bytes"
	"image"
	"image/png"

	"github.com/janpfeifer/gonb/gonbui"
)

%%
var b bytes.Buffer
if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {
	panic(err)
}
gonbui.DisplayPNG(b.Bytes())
gonbui.DisplayPng(b.Bytes())
if err := gonbui.DisplayImage(image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
	panic(err)
}
gonbui.DisplayHTML("<b>x</b>")
gonbui.DisplayMarkdown("**x**")
gonbui.DisplaySVG("<svg></svg>")`)
	require.NoError(t, err)
	var got [][]string
	for i := range outs {
		require.Equal(t, "display_data", outs[i].Type)
		got = append(got, mimeTypes(&outs[i]))
	}
	want := [][]string{{"image/png"}, {"image/png"}, {"image/png"}, {"text/html"}, {"text/markdown"}, {"text/html"}}
	assert.Equal(t, want, got)
	assert.Equal(t, "<div><svg></svg></div>", outs[5].Data["text/html"])
}

// TestNormalize_AsGoNBWrites: Normalize writes GoNB's language_info (keeping a stored Go
// version), drops nbconvert's per-cell timings and gives every cell an id.
func TestNormalize_AsGoNBWrites(t *testing.T) {
	n := &Notebook{NBFormat: 4, NBFormatMinor: 4, Metadata: map[string]any{
		"language_info": map[string]any{"name": "go", "pygments_lexer": "go", "version": "go1.0"},
	}}
	timing := map[string]any{"iopub.status.busy": "2026-01-01T00:00:00.000000Z"}
	n.Cells = []*Cell{{Type: "code", Source: "!true", Metadata: map[string]any{"execution": timing, "tags": []any{"x"}}}}
	Normalize(n, "x")
	assert.Equal(t, 5, n.NBFormatMinor)
	info := n.Metadata["language_info"].(map[string]any)
	assert.Equal(t, "", info["pygments_lexer"])
	assert.Equal(t, "go1.0", info["version"])
	assert.Equal(t, "text/x-go", info["mimetype"])
	assert.Equal(t, "gonb", n.Metadata["kernelspec"].(map[string]any)["name"])
	assert.Equal(t, map[string]any{"tags": []any{"x"}}, n.Cells[0].Metadata)
	assert.NotEmpty(t, n.Cells[0].ID)

	fresh := &Notebook{NBFormat: 4, NBFormatMinor: 5}
	Normalize(fresh, "y")
	assert.Equal(t, GoNBMetadata(), fresh.Metadata)
}

// TestCompareFiles: a notebook as GoNB ran it (nbconvert's timings in the cell metadata)
// matches the stored one; each kind of difference is reported (the negative controls).
func TestCompareFiles(t *testing.T) {
	one, two := 1, 2
	png := map[string]any{"image/png": "iVBORw0KGgo="}
	stored := func() *Notebook {
		n := &Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: GoNBMetadata(), Cells: []*Cell{
			{Type: "markdown", ID: "m", Source: "# t"},
			{Type: "code", ID: "a", Source: "!true", ExecutionCount: &one},
			{Type: "code", ID: "b", Source: "%%\nshow()", ExecutionCount: &two, Outputs: []Output{
				{Type: "stream", Name: "stdout", Text: "a\nb\n"},
				{Type: "display_data", Data: png, Metadata: map[string]any{}},
				{Type: "stream", Name: "stderr", Text: "warn\n"},
			}},
		}}
		return n
	}
	dir := t.TempDir()
	write := func(name string, n *Notebook) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, n.Marshal(), 0o644))
		return p
	}
	want := write("stored.ipynb", stored())

	ran := stored()
	ran.Cells[1].Metadata = map[string]any{"execution": map[string]any{"shell.execute_reply": "2026-01-01T00:00:01.000000Z"}}
	// GoNB may split a stream in several outputs: the text is compared, not the pieces.
	ran.Cells[2].Outputs = append([]Output{{Type: "stream", Name: "stdout", Text: "a\n"}, {Type: "stream", Name: "stdout", Text: "b\n"}}, ran.Cells[2].Outputs[1:]...)
	require.NoError(t, CompareFiles(want, write("ran.ipynb", ran)))
	// GoNB's stdout and displays travel on two channels, so the picture may arrive before the
	// line printed ahead of it: accepted, as long as each channel is the same.
	early := stored()
	o := early.Cells[2].Outputs
	early.Cells[2].Outputs = []Output{o[1], o[0], o[2]}
	require.NoError(t, CompareFiles(want, write("early.ipynb", early)))

	for _, tc := range []struct {
		name   string
		change func(n *Notebook)
		msg    string
	}{
		{"text/plain beside the picture", func(n *Notebook) {
			n.Cells[2].Outputs[1].Data = map[string]any{"image/png": "iVBORw0KGgo=", "text/plain": "<PNG>"}
		}, "cell 3 (id \"b\"): display after stdout line 2: MIME types [image/png text/plain], want [image/png]"},
		{"one count in every cell", func(n *Notebook) { n.Cells[1].ExecutionCount = &two }, "cell 2 (id \"a\"): execution_count 1, want 2"},
		{"a stdout line", func(n *Notebook) { n.Cells[2].Outputs[0].Text = "a\nB\n" }, "- line 2: want \"b\\n\"\n+ line 2: got  \"B\\n\""},
		{"stderr", func(n *Notebook) { n.Cells[2].Outputs[2].Text = "" }, "cell 3 (id \"b\"): stderr differs"},
		{"an error output", func(n *Notebook) {
			n.Cells[1].Outputs = []Output{{Type: "error", EName: "ERROR", EValue: "failed", Traceback: []string{}}}
		}, "cell 2 (id \"a\"): got output error: ERROR: failed"},
		{"another source", func(n *Notebook) { n.Cells[2].Source = "%%\nother()" }, "cell 3: not the cell of"},
		{"a missing cell", func(n *Notebook) { n.Cells = n.Cells[:2] }, "2 cells"},
		{"a missing picture", func(n *Notebook) {
			o := n.Cells[2].Outputs
			n.Cells[2].Outputs = []Output{o[0], o[2]}
		}, "missing display image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := stored()
			tc.change(bad)
			err := CompareFiles(want, write("bad.ipynb", bad))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}

	// A file not in nbformat's layout fails too.
	b, err := os.ReadFile(want)
	require.NoError(t, err)
	loose := filepath.Join(dir, "loose.ipynb")
	require.NoError(t, os.WriteFile(loose, []byte(strings.Replace(string(b), "\n ", "\n  ", 1)), 0o644))
	assert.ErrorContains(t, CompareFiles(want, loose), "loose.ipynb: not in nbformat's layout")
}
