package tests

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// citedName matches a test, benchmark, fuzz target or example named in prose, with the
// optional "pkg: " prefix the math index uses to say which package's tests hold it:
// "fm: TestTrain_ApproachesFloor", "TestGrad/<Op>" (the subtest part is not checked),
// "TestReadCSV_*" (a family: some test's name starts with it). A capital letter or '_' must follow the prefix word, so "Tests",
// "Examples" and "Benchmarks" in prose are not names.
var citedName = regexp.MustCompile(`(?:\b([a-z][a-z0-9]*):[ \t]*)?\b((?:Test[A-Z]|Benchmark[A-Z_]|Fuzz[A-Z_]|Example[A-Z_])\w*)(\*?)`)

// testFuncs maps every Test/Benchmark/Fuzz/Example function declared in a _test.go file
// under root to the packages that declare it, each package known by its folder's name
// and by its package clause (without "_test").
type testFuncs map[string]map[string]bool

// isPackage reports whether some package with tests is called name.
func (d testFuncs) isPackage(name string) bool {
	for _, ps := range d {
		if ps[name] {
			return true
		}
	}
	return false
}

// citation is one test name found in a comment or a Markdown file.
type citation struct {
	where string // file:line
	pkg   string // the "pkg:" prefix, if it names a package with tests; else ""
	name  string
	stem  bool // name ended in '*': it is a prefix of the names of a family of tests
}

// TestCitedTestsExist checks that every test, benchmark, fuzz target and example named in a
// comment of a Go file, in the math index of tests/doc.go or in a Markdown file of the
// repository is a function of some _test.go file; a "pkg: " prefix (as in the index) must
// name a package that declares it. A doc comment that names a test promises the reader a
// check they can run; this test keeps the promise true.
func TestCitedTestsExist(t *testing.T) {
	root := repoRoot(t)
	defined := collectTestFuncs(t, root)
	cites := collectCitations(t, root, defined)
	missing := checkCitations(cites, defined)
	distinct := map[string]bool{}
	for _, c := range cites {
		distinct[c.name] = true
	}
	t.Logf("%d citations of %d distinct names, checked against %d test functions", len(cites), len(distinct), len(defined))
	assert.Empty(t, missing, "cited tests that do not exist (got %d, want 0):\n%s", len(missing), strings.Join(missing, "\n"))
}

// TestCitedTestsExist_ReportsFakeName is the negative control: a name that no _test.go file
// declares, and a real name under the wrong package, are both reported; a real name is not.
func TestCitedTestsExist_ReportsFakeName(t *testing.T) {
	root := repoRoot(t)
	defined := collectTestFuncs(t, root)
	require.Contains(t, defined, "TestTheorem2_GradientsEqual")
	text := "// Checked by TestTheorem2_GradientsEqual and TestNoSuch_FakeName;\n" +
		"// index row: nn: TestTheorem2_GradientsEqual, and Tests or Examples in prose.\n" +
		"// Families: TestTheorem2_* and TestNoSuchFamily_*.\n"
	cites := citationsIn("fake.go", text, defined)
	missing := checkCitations(cites, defined)
	assert.Len(t, cites, 5, "citations found in %q: %v", text, cites)
	assert.Equal(t, []string{
		"fake.go:1: TestNoSuch_FakeName: no _test.go file declares it",
		"fake.go:2: nn: TestTheorem2_GradientsEqual: package nn declares no such test",
		"fake.go:3: TestNoSuchFamily_*: no _test.go file declares a test whose name starts so",
	}, missing)
}

// repoRoot is the folder holding go.mod, one above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the repository root %s has no go.mod", root)
	return root
}

// walkFiles calls f for every file under root, skipping hidden folders and testdata.
func walkFiles(t *testing.T, root string, f func(path string)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		f(path)
		return nil
	})
	require.NoError(t, err)
}

func isTestFunc(name string) bool {
	for _, p := range []string{"Test", "Benchmark", "Fuzz", "Example"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func collectTestFuncs(t *testing.T, root string) testFuncs {
	t.Helper()
	defined := testFuncs{}
	fset := token.NewFileSet()
	walkFiles(t, root, func(path string) {
		if !strings.HasSuffix(path, "_test.go") {
			return
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !isTestFunc(fn.Name.Name) {
				continue
			}
			if defined[fn.Name.Name] == nil {
				defined[fn.Name.Name] = map[string]bool{}
			}
			defined[fn.Name.Name][filepath.Base(filepath.Dir(path))] = true
			defined[fn.Name.Name][strings.TrimSuffix(f.Name.Name, "_test")] = true
		}
	})
	return defined
}

// collectCitations reads the comments of every Go file (parsed, so string literals are not
// read) and the whole text of every Markdown file.
func collectCitations(t *testing.T, root string, defined testFuncs) []citation {
	t.Helper()
	var cites []citation
	fset := token.NewFileSet()
	walkFiles(t, root, func(path string) {
		rel, err := filepath.Rel(root, path)
		require.NoError(t, err)
		switch {
		case strings.HasSuffix(path, ".go"):
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			require.NoError(t, err)
			for _, g := range f.Comments {
				for _, c := range g.List {
					line := fset.Position(c.Pos()).Line
					for i, l := range strings.Split(c.Text, "\n") {
						cites = append(cites, citationsAtLine(rel, line+i, l, defined)...)
					}
				}
			}
		case strings.HasSuffix(path, ".md"):
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			cites = append(cites, citationsIn(rel, string(b), defined)...)
		}
	})
	return cites
}

func citationsIn(file, text string, defined testFuncs) []citation {
	var cites []citation
	for i, l := range strings.Split(text, "\n") {
		cites = append(cites, citationsAtLine(file, i+1, l, defined)...)
	}
	return cites
}

// citationsAtLine finds the names on one line. A prefix counts as a package only if some
// package declares tests under that name ("fm:", "nn:"), so in "see also: " followed by a name the name is unscoped.
func citationsAtLine(file string, line int, text string, defined testFuncs) []citation {
	var cites []citation
	for _, m := range citedName.FindAllStringSubmatch(text, -1) {
		c := citation{where: file + ":" + strconv.Itoa(line), name: m[2], stem: m[3] == "*"}
		if defined.isPackage(m[1]) {
			c.pkg = m[1]
		}
		cites = append(cites, c)
	}
	return cites
}

func checkCitations(cites []citation, defined testFuncs) []string {
	var missing []string
	for _, c := range cites {
		pkgs := defined[c.name]
		if c.stem {
			pkgs = map[string]bool{}
			for name, ps := range defined {
				if strings.HasPrefix(name, c.name) {
					for p := range ps {
						pkgs[p] = true
					}
				}
			}
			if len(pkgs) == 0 {
				missing = append(missing, c.where+": "+c.name+"*: no _test.go file declares a test whose name starts so")
				continue
			}
		}
		switch {
		case pkgs == nil:
			missing = append(missing, c.where+": "+c.name+": no _test.go file declares it")
		case c.pkg != "" && !pkgs[c.pkg]:
			missing = append(missing, c.where+": "+c.pkg+": "+c.name+": package "+c.pkg+" declares no such test")
		}
	}
	sort.Strings(missing)
	return missing
}

// TestMathIndex_Aligned checks that every table of the math index in doc.go keeps its
// columns: within a table, each line has its three '|' separators at the same character
// positions as the header, and no Code or Test cell of a result row is empty.
func TestMathIndex_Aligned(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	problems, tables := indexProblems(string(b))
	require.Equal(t, 2, tables, "doc.go should hold two index tables")
	assert.Empty(t, problems, "math index rows that break the table:\n%s", strings.Join(problems, "\n"))
}

// TestMathIndex_Aligned_ReportsMisalignedRow is its negative control: a row whose
// separator is one character off, a row with an empty Test cell and one with a placeholder
// Code cell are reported.
func TestMathIndex_Aligned_ReportsMisalignedRow(t *testing.T) {
	text := "//\tResult | Source | Code | Test\n" +
		"//\t-------|--------|------|-----\n" +
		"//\tA      | B      | C    | TestA\n" +
		"//\tA     | B      | C    | TestA\n" +
		"//\tA      | B      | C    |\n" +
		"//\tA      | B      | (tb) | TestA\n"
	problems, tables := indexProblems(text)
	assert.Equal(t, 1, tables)
	assert.Equal(t, []string{
		"doc.go:4: no '|' in column 7, where the header has one",
		`doc.go:5: result row with an empty or placeholder cell ""`,
		`doc.go:6: result row with an empty or placeholder cell "(tb)"`,
	}, problems)
}

// indexProblems returns the rows of the index tables in text that break their table, and
// the number of tables (blocks of "//\t" lines starting with a "Result" header). The header
// fixes the column of each '|' separator; every row must have '|' in those columns ('|'
// elsewhere is mathematics, as in p_t(x|x₁)). A result row (one that does not start with a
// space) must fill its Code and Test cells with names, not leave them empty or put a
// parenthetical placeholder there.
func indexProblems(text string) (problems []string, tables int) {
	var header []int // rune columns of '|' in the current table's header
	for i, line := range strings.Split(text, "\n") {
		row, ok := strings.CutPrefix(line, "//\t")
		if !ok || !strings.Contains(row, "|") {
			header = nil
			continue
		}
		r := []rune(row)
		if strings.HasPrefix(row, "Result") {
			header, tables = nil, tables+1
			for j, c := range r {
				if c == '|' {
					header = append(header, j)
				}
			}
			continue
		}
		if header == nil {
			continue
		}
		var cells []string
		from := 0
		for _, p := range header {
			if p >= len(r) || r[p] != '|' {
				problems = append(problems, fmt.Sprintf("doc.go:%d: no '|' in column %d, where the header has one", i+1, p))
				cells = nil
				break
			}
			cells = append(cells, strings.TrimSpace(string(r[from:p])))
			from = p + 1
		}
		if cells == nil || r[0] == ' ' || r[0] == '-' {
			continue
		}
		cells = append(cells, strings.TrimSpace(string(r[from:])))
		for _, c := range cells[2:] {
			if c == "" || (strings.HasPrefix(c, "(") && strings.HasSuffix(c, ")")) {
				problems = append(problems, fmt.Sprintf("doc.go:%d: result row with an empty or placeholder cell %q", i+1, c))
			}
		}
	}
	return problems, tables
}

// outsideRefs matches text that points outside the repository, where a reader cannot follow:
// the development machine's shared folder, a facts file users do not have, and section
// numbers of an unpublished "seed" article. (Built from pieces so this file does not match.)
var outsideRefs = regexp.MustCompile(`\.\./` + `shared\b|/work/` + `shared\b|REFER` + `ENCE\.md|\bseed ` + `§|\bseed's ` + `(slip|sum|formula|extraction)`)

// TestRepositoryStandsAlone checks that no Go file, Markdown file, notebook, Python or shell
// script of the repository points outside it (outsideRefs): docs cite public papers by
// section and equation, and the PyTorch peer lives in bench/peers.
func TestRepositoryStandsAlone(t *testing.T) {
	root := repoRoot(t)
	var found []string
	walkFiles(t, root, func(path string) {
		switch ext := filepath.Ext(path); {
		case ext == ".go", ext == ".md", ext == ".ipynb", ext == ".py", ext == ".sh":
		case ext == "" && filepath.Base(filepath.Dir(path)) == "scripts":
		default:
			return
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, path)
		found = append(found, outsideRefsIn(rel, string(b))...)
	})
	assert.Empty(t, found, "text that points outside the repository (got %d, want 0):\n%s", len(found), strings.Join(found, "\n"))
}

// TestRepositoryStandsAlone_ReportsOutsideRefs is its negative control.
func TestRepositoryStandsAlone_ReportsOutsideRefs(t *testing.T) {
	text := "// See ../" + "shared/bench/peers and REFER" + "ENCE.md.\n// The seed " + "§5 weight.\n// seed := 7 is fine.\n"
	assert.Equal(t, []string{
		"x.go:1: ../" + "shared",
		"x.go:1: REFER" + "ENCE.md",
		"x.go:2: seed " + "§",
	}, outsideRefsIn("x.go", text))
}

func outsideRefsIn(file, text string) []string {
	var found []string
	for i, line := range strings.Split(text, "\n") {
		for _, m := range outsideRefs.FindAllString(line, -1) {
			found = append(found, file+":"+strconv.Itoa(i+1)+": "+m)
		}
	}
	return found
}
