package notebooks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/internal/nb"
)

// Tests of the runner on small notebooks written to a temporary folder.

func options(t *testing.T) nb.Options {
	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	return nb.Options{Repo: repo, Timeout: time.Minute}
}

// writeNotebook writes a notebook of code cells with the given sources; a source starting
// with "# " becomes a markdown cell.
func writeNotebook(t *testing.T, sources ...string) string {
	t.Helper()
	n := &nb.Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: nb.GoNBMetadata()}
	for _, s := range sources {
		typ := "code"
		if strings.HasPrefix(s, "# ") {
			typ = "markdown"
		}
		n.Cells = append(n.Cells, &nb.Cell{Type: typ, Source: s})
	}
	nb.Normalize(n, "test")
	path := filepath.Join(t.TempDir(), "test.ipynb")
	require.NoError(t, os.WriteFile(path, n.Marshal(), 0o644))
	return path
}

// run runs the notebook and returns each cell's stdout (displays as "[mime types]") and
// stderr, or the error.
func run(t *testing.T, sources ...string) (stdout, stderr []string, err error) {
	t.Helper()
	path := writeNotebook(t, sources...)
	n, err := nb.ReadFile(path)
	require.NoError(t, err)
	got, err := nb.Run(context.Background(), path, n, options(t))
	require.NotNil(t, got)
	for _, c := range got.Cells {
		var out, errOut strings.Builder
		for _, o := range c.Outputs {
			switch {
			case o.Type == "stream" && o.Name == "stderr":
				errOut.WriteString(o.Text)
			case o.Type == "stream":
				out.WriteString(o.Text)
			case o.Type == "display_data":
				out.WriteString("[")
				for _, k := range []string{"image/png", "text/html", "text/markdown", "text/plain"} {
					if v, ok := o.Data[k]; ok {
						out.WriteString(k + "=" + shorten(v.(string)) + ";")
					}
				}
				out.WriteString("]")
			}
		}
		stdout, stderr = append(stdout, out.String()), append(stderr, errOut.String())
	}
	return stdout, stderr, err
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:8] + "…"
	}
	return s
}

func TestRun_DeclarationsPersistAndReplace(t *testing.T) {
	t.Parallel()
	out, _, err := run(t,
		"import \"fmt\"\n\nfunc f() int { return 1 }\n\ntype T struct{ name string }\n\nfunc (t T) String() string { return \"T(\" + t.name + \")\" }",
		"%%\nfmt.Println(f(), T{\"a\"})",
		"# a markdown cell between",
		"// f is replaced; T's method stays.\nfunc f() int { return 2 }\n\nvar v = f() * 10",
		"%%\nfmt.Println(f(), v, T{\"b\"})\nv = 0 // values do not persist",
		"%%\nfmt.Println(v)",
	)
	require.NoError(t, err)
	assert.Equal(t, []string{"", "1 T(a)\n", "", "", "2 20 T(b)\n", "20\n"}, out)
}

func TestRun_CompileErrorStopsAndNamesCellLine(t *testing.T) {
	t.Parallel()
	_, _, err := run(t,
		"import \"fmt\"\n\nfunc f() int { return 1 }\n\n%%\nfmt.Println(f())",
		"func f() int {\n\treturn \"one\"\n}",
	)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cell 2, line 2:")
	assert.Contains(t, err.Error(), `cannot use "one"`)
}

func TestRun_MainArgsInitAndFlags(t *testing.T) {
	t.Parallel()
	out, _, err := run(t,
		"import (\n\t\"flag\"\n\t\"fmt\"\n)\n\nvar n = flag.Int(\"n\", 1, \"count\")\n\nfunc init_hello() { fmt.Print(\"init; \") }",
		"%% -n=3 extra\nfmt.Println(*n, flag.Args())",
		"%main\nfmt.Println(*n)",
	)
	require.NoError(t, err)
	assert.Equal(t, []string{"init; ", "init; 3 [extra]\n", "init; 1\n"}, out)
}

func TestRun_UnusedImportsOfEarlierCellsAreDropped(t *testing.T) {
	t.Parallel()
	out, _, err := run(t,
		"import (\n\t\"fmt\"\n\t\"strings\"\n\tmr \"math/rand/v2\"\n)\n\n%%\nfmt.Println(strings.ToUpper(\"a\"), mr.N(1))",
		"%%\nfmt.Println(\"b\")",                    // strings and mr are now unused
		"%%\nfmt.Println(strings.Repeat(\"c\", 2))", // and still remembered
	)
	require.NoError(t, err)
	assert.Equal(t, []string{"A 0\n", "b\n", "cc\n"}, out)
}

func TestRun_ShellDisplayAndStderr(t *testing.T) {
	t.Parallel()
	out, errOut, err := run(t,
		goModEditCell,
		"!echo from bash in $(basename $PWD)\n!*ls go.mod\n%env GREETING hello",
		"import (\n\t\"fmt\"\n\t\"image\"\n\t\"os\"\n\n\t\"github.com/janpfeifer/gonb/gonbui\"\n)\n\n%%\n"+
			"fmt.Println(os.Getenv(\"GREETING\"))\nfmt.Fprintln(os.Stderr, \"to stderr\")\n"+
			"gonbui.DisplayMarkdown(\"**md**\")\ngonbui.DisplayHTML(\"<b>x</b>\")\nfmt.Print(\"between \")\n"+
			"if err := gonbui.DisplayImage(image.NewGray(image.Rect(0, 0, 3, 2))); err != nil {\n\tpanic(err)\n}\nfmt.Println(\"end\")",
	)
	require.NoError(t, err)
	assert.Equal(t, "", out[0])
	assert.Regexp(t, `^from bash in \S+\ngo.mod\n$`, out[1])
	assert.Equal(t, "hello\n[text/markdown=**md**;][text/html=<b>x</b>;]between [image/png=iVBORw0K…;]end\n", out[2])
	assert.Equal(t, "to stderr\n", errOut[2])
}

func TestRun_Errors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"magic", "%wasm", "cell 1, line 1: unsupported magic %wasm"},
		{"syntax", "func f() {\n\tx :=\n}", "cell 1, line 3:"},
		{"panic", "%%\npanic(\"boom\")", "exit status 2"},
		{"shell", "!exit 3", "cell 1, line 1: !exit 3: exit status 3"},
		{"undefined", "%%\n\n\nundefinedName()", "cell 1, line 4:1: undefined: undefinedName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := run(t, tc.src)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRun_Timeout(t *testing.T) {
	t.Parallel()
	path := writeNotebook(t, "import \"time\"\n\n%%\ntime.Sleep(time.Minute)")
	n, err := nb.ReadFile(path)
	require.NoError(t, err)
	opts := options(t)
	opts.Timeout = 500 * time.Millisecond
	start := time.Now()
	_, err = nb.Run(context.Background(), path, n, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timed out after 500ms")
	assert.Less(t, time.Since(start), 30*time.Second)
}

// TestCheck_NegativeControl: the quickstart with one stored line changed, or its picture
// removed, fails the check, with a message naming the cell and the line.
func TestCheck_NegativeControl(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("00-quickstart.ipynb")
	require.NoError(t, err)
	n, err := nb.Parse(raw)
	require.NoError(t, err)
	dir := t.TempDir()

	// Update writes what Check accepts (the positive control).
	good := filepath.Join(dir, "good.ipynb")
	require.NoError(t, os.WriteFile(good, raw, 0o644))
	require.NoError(t, nb.Update(context.Background(), good, options(t)))
	require.NoError(t, nb.Check(context.Background(), good, options(t)))
	got, err := os.ReadFile(good)
	require.NoError(t, err)
	assert.Equal(t, string(raw), string(got), "-update of a current notebook changes nothing")

	var gradCell, pngCell int
	for i, c := range n.Cells {
		for j, o := range c.Outputs {
			if strings.Contains(o.Text, "∂L/∂x = [2 -4 1]") {
				gradCell = i
				c.Outputs[j].Text = strings.Replace(o.Text, "[2 -4 1]", "[2 4 1]", 1) // a flipped sign
			}
			if o.Data["image/png"] != nil {
				pngCell = i
			}
		}
	}
	require.NotZero(t, gradCell)
	require.NotZero(t, pngCell)
	pngOutputs := n.Cells[pngCell].Outputs
	var withoutPNG []nb.Output
	for _, o := range pngOutputs {
		if o.Data["image/png"] == nil {
			withoutPNG = append(withoutPNG, o)
		}
	}
	n.Cells[pngCell].Outputs = withoutPNG
	bad := filepath.Join(dir, "bad.ipynb")
	require.NoError(t, os.WriteFile(bad, n.Marshal(), 0o644))
	err = nb.Check(context.Background(), bad, options(t))
	require.Error(t, err)
	id := n.Cells[gradCell].ID
	assert.Contains(t, err.Error(), "bad.ipynb: cell 5 (id \""+id+"\"): stdout differs:")
	assert.Contains(t, err.Error(), "- line 2: want \"∂L/∂x = [2 4 1]\\n\"\n+ line 2: got  \"∂L/∂x = [2 -4 1]\\n\"")
	assert.Contains(t, err.Error(), "cell 7 (id \""+n.Cells[pngCell].ID+"\"): stdout line 3: unexpected display image/png")

	// A file not in nbformat's layout fails too.
	layout := writeNotebook(t, "# markdown only")
	b, err := os.ReadFile(layout)
	require.NoError(t, err)
	require.NoError(t, nb.Check(context.Background(), layout, options(t)))
	require.NoError(t, os.WriteFile(layout, []byte(strings.Replace(string(b), "\n ", "\n  ", 1)), 0o644))
	assert.ErrorContains(t, nb.Check(context.Background(), layout, options(t)), "test.ipynb: not in nbformat's layout (first difference at line 2, column 2)")
}

// TestMarshal_RoundTrip: Parse then Marshal reproduces nbformat's layout, for tricky strings
// and for a notebook whose multi-line strings were stored as single strings.
func TestMarshal_RoundTrip(t *testing.T) {
	n := &nb.Notebook{NBFormat: 4, NBFormatMinor: 5, Metadata: nb.GoNBMetadata()}
	count := 1
	n.Cells = []*nb.Cell{
		{Type: "markdown", ID: "m", Source: "# Title — ∂L/∂x <b>&</b>\n\ttab \"quote\" back\\slash\x01\r\nend"},
		{Type: "code", ID: "c", Source: "", Outputs: nil},
		{Type: "code", ID: "d", Source: "%%\nfmt.Println()", ExecutionCount: &count, Outputs: []nb.Output{
			{Type: "stream", Name: "stdout", Text: "a\nb\n"},
			{Type: "display_data", Data: map[string]any{"image/png": "iVBORw0KGgo=", "text/plain": "<PNG image 1×1>"}},
		}},
	}
	b := n.Marshal()
	assert.Contains(t, string(b), "\"outputs\": []", "a nil outputs slice is written as []")
	assert.Contains(t, string(b), "\"execution_count\": null")
	assert.Contains(t, string(b), "\"# Title — ∂L/∂x <b>&</b>\\n\",\n")
	assert.Contains(t, string(b), "\"\\ttab \\\"quote\\\" back\\\\slash\\u0001\\r\\n\",\n")
	assert.Contains(t, string(b), "\"image/png\": \"iVBORw0KGgo=\",")
	n2, err := nb.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(n2.Marshal()))

	// nbformat also reads sources stored as one string; Marshal splits them.
	single := `{"cells": [{"cell_type": "code", "execution_count": null, "id": "x", "metadata": {}, "outputs": [], "source": "a\nb"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`
	n3, err := nb.Parse([]byte(single))
	require.NoError(t, err)
	assert.Contains(t, string(n3.Marshal()), "\"source\": [\n    \"a\\n\",\n    \"b\"\n   ]")
}
