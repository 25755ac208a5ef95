package nb

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"regexp"
	"strconv"
	"strings"
)

// A code cell, as GoNB reads it: special lines (`!cmd`, `!*cmd`, `%%`, `%main`, `%env`,
// optionally behind a `//gonb:` prefix) and Go code. Lines after `%%` are the body of main;
// the Go code before it holds declarations.
type code struct {
	cell     int        // 1-based position of the cell in the notebook
	shell    []shellCmd // in the order they appear
	env      [][2]string
	hasMain  bool     // the cell has `%%` or `%main`
	mainAt   int      // its line
	mainArgs []string // arguments after `%%`
	src      string   // the Go code to parse, line-aligned with the cell's lines
	hasGo    bool     // src holds more than blanks
}

type shellCmd struct {
	cmd      string
	inModule bool // `!*`: run in the temporary Go module instead of the notebook folder
	line     int
}

// parsePrefix is the line put before a cell's Go code to parse it as a file: line l of the
// file is line l-1 of the cell.
const parsePrefix = "package main\n"

// splitCell separates the special lines of a code cell from its Go code.
func splitCell(cell int, source string) (*code, error) {
	c := &code{cell: cell}
	lines := strings.Split(source, "\n")
	goLines := make([]string, len(lines))
	for i := 0; i < len(lines); i++ {
		l := strings.TrimPrefix(lines[i], "//gonb:")
		switch {
		case strings.HasPrefix(l, "!"):
			start := i
			cmd := strings.TrimPrefix(l, "!")
			for strings.HasSuffix(cmd, `\`) && i+1 < len(lines) { // continuation lines
				i++
				cmd = strings.TrimSuffix(cmd, `\`) + "\n" + lines[i]
			}
			inModule := strings.HasPrefix(cmd, "*")
			c.shell = append(c.shell, shellCmd{cmd: strings.TrimPrefix(cmd, "*"), inModule: inModule, line: start + 1})
		case strings.HasPrefix(l, "%"):
			f := strings.Fields(l)
			switch f[0] {
			case "%%", "%main":
				if c.hasMain {
					return nil, cellErrorf(cell, i+1, "second %s in one cell", f[0])
				}
				c.hasMain, c.mainArgs, c.mainAt = true, f[1:], i+1
				goLines[i] = "func main() {"
			case "%env":
				rest := strings.TrimSpace(strings.TrimPrefix(l, "%env"))
				key, value, ok := strings.Cut(rest, " ")
				if k, v, eq := strings.Cut(rest, "="); eq && !strings.Contains(k, " ") {
					key, value, ok = k, v, true
				}
				if !ok || key == "" {
					return nil, cellErrorf(cell, i+1, "%%env wants KEY VALUE or KEY=VALUE, got %q", l)
				}
				c.env = append(c.env, [2]string{key, strings.TrimSpace(value)})
			default:
				return nil, cellErrorf(cell, i+1, "unsupported magic %s (nbrun runs %%%%, %%main, %%env, !cmd and !*cmd; "+
					"run the notebook under GoNB for the others)", f[0])
			}
		default:
			goLines[i] = lines[i]
			if strings.TrimSpace(lines[i]) != "" {
				c.hasGo = true
			}
		}
	}
	if c.hasMain {
		c.hasGo = true
		goLines = append(goLines, "}")
	}
	c.src = parsePrefix + strings.Join(goLines, "\n")
	return c, nil
}

// A decl is a package-level declaration remembered across cells, with the cell line it
// came from so that compile errors point into the notebook.
type decl struct {
	names       []string // package-scope identifiers it declares ("T.m" for methods)
	text        string   // Go source, starting with its keyword (or doc comment)
	cell        int
	line, col   int
	importPath  string // imports only
	importAlias string
}

// A program is what one cell contributes: its declarations and the body of main.
type program struct {
	decls    []*decl
	mainText string // body of func main (from `%%`), or a whole user-written func main
	mainDecl bool   // mainText is a complete func main declaration
	mainLine int
	mainCol  int
}

// parseCode parses the Go part of a cell into declarations and main.
func parseCode(c *code) (*program, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "cell.go", c.src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
			return nil, cellErrorf(c.cell, list[0].Pos.Line-1, "%s", list[0].Msg)
		}
		return nil, cellErrorf(c.cell, 0, "%v", err)
	}
	p := &program{}
	text := func(from, to token.Pos) string {
		return c.src[fset.Position(from).Offset:fset.Position(to).Offset]
	}
	at := func(d *decl, pos token.Pos) *decl {
		ps := fset.Position(pos)
		d.cell, d.line, d.col = c.cell, ps.Line-1, ps.Column
		return d
	}
	for _, dd := range f.Decls {
		switch d := dd.(type) {
		case *ast.FuncDecl:
			start := d.Pos()
			if d.Doc != nil {
				start = d.Doc.Pos()
			}
			if d.Recv == nil && d.Name.Name == "main" {
				if c.hasMain && fset.Position(d.Pos()).Line-1 == c.mainAt {
					// The body of `%%`: the lines after it, up to the brace splitCell added.
					p.mainText = text(d.Body.Lbrace+1, d.Body.Rbrace)
					p.mainLine, p.mainCol = c.mainAt, 1
					continue
				}
				if c.hasMain {
					return nil, cellErrorf(c.cell, fset.Position(start).Line-1, "func main in a cell with %%%% (use one or the other)")
				}
				p.mainText, p.mainDecl = text(start, d.End()), true
				ps := fset.Position(start)
				p.mainLine, p.mainCol = ps.Line-1, ps.Column
				continue
			}
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) > 0 {
				name = recvName(d.Recv.List[0].Type) + "." + name
			}
			p.decls = append(p.decls, at(&decl{names: []string{name}, text: text(start, d.End())}, start))
		case *ast.GenDecl:
			switch d.Tok {
			case token.IMPORT:
				for _, s := range d.Specs {
					is := s.(*ast.ImportSpec)
					path, _ := strconv.Unquote(is.Path.Value)
					alias := ""
					if is.Name != nil {
						alias = is.Name.Name
					}
					p.decls = append(p.decls, at(&decl{
						names: []string{"import " + alias + " " + path}, text: "import " + text(s.Pos(), s.End()),
						importPath: path, importAlias: alias,
					}, s.Pos()))
				}
			case token.CONST:
				// A const block stays whole: iota counts within it.
				var names []string
				for _, s := range d.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						names = append(names, blankKey(n.Name, fset.Position(n.Pos()).Line-1, c.cell))
					}
				}
				start := d.Pos()
				if d.Doc != nil {
					start = d.Doc.Pos()
				}
				p.decls = append(p.decls, at(&decl{names: names, text: text(start, d.End())}, start))
			case token.TYPE, token.VAR:
				for _, s := range d.Specs {
					var names []string
					switch s := s.(type) {
					case *ast.TypeSpec:
						names = []string{s.Name.Name}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names = append(names, blankKey(n.Name, fset.Position(n.Pos()).Line-1, c.cell))
						}
					}
					start, kw := s.Pos(), d.Tok.String()+" "
					if len(d.Specs) == 1 && !d.Lparen.IsValid() {
						start, kw = d.Pos(), ""
						if d.Doc != nil {
							start = d.Doc.Pos()
						}
					}
					p.decls = append(p.decls, at(&decl{names: names, text: kw + text(start, s.End())}, start))
				}
			}
		}
	}
	return p, nil
}

// blankKey gives each `_` declaration its own key, so that it never replaces another.
func blankKey(name string, line, cell int) string {
	if name == "_" {
		return fmt.Sprintf("_ cell %d line %d", cell, line)
	}
	return name
}

func recvName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return fmt.Sprintf("%T", e)
		}
	}
}

// merge returns the remembered declarations updated by a cell's: a new declaration removes
// every remembered one that shares a name with it, and goes at the end.
func merge(memory, cell []*decl) []*decl {
	replaced := map[string]bool{}
	for _, d := range cell {
		for _, n := range d.names {
			replaced[n] = true
		}
	}
	out := make([]*decl, 0, len(memory)+len(cell))
	for _, d := range memory {
		keep := true
		for _, n := range d.names {
			if replaced[n] {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return append(out, cell...)
}

// lineDirective makes the compiler report the following text at a cell's line and column.
func lineDirective(cell, line, col int) string {
	return fmt.Sprintf("//line cell%d.go:%d:%d\n", cell, line, col)
}

// compose writes the program of one cell: the remembered declarations merged with the
// cell's (decls), without the imports in drop, and main.
func compose(decls []*decl, p *program, cell int, drop map[string]bool) string {
	var sb strings.Builder
	sb.WriteString("// Code generated by nbrun. DO NOT EDIT.\n\npackage main\n\n")
	hasFlag := false
	for _, d := range decls {
		if d.importPath == "" || drop[importKey(d.importPath, d.importAlias)] {
			continue
		}
		if d.importPath == "flag" && (d.importAlias == "" || d.importAlias == "flag") {
			hasFlag = true
		}
		sb.WriteString(lineDirective(d.cell, d.line, d.col) + d.text + "\n")
	}
	if !hasFlag {
		sb.WriteString("//line nbrun.go:1:1\nimport \"flag\"\n")
	}
	for _, d := range decls {
		if d.importPath != "" {
			continue
		}
		name := d.names[0]
		text := d.text
		if strings.HasPrefix(name, "init_") && strings.HasPrefix(text, "func "+name+"(") {
			// GoNB's convention: func init_xxx() is an init function remembered by its name.
			text = "func init" + strings.TrimPrefix(text, "func "+name)
		}
		sb.WriteString("\n" + lineDirective(d.cell, d.line, d.col) + text + "\n")
	}
	sb.WriteString("\n//line nbrun.go:1:1\n")
	switch {
	case p == nil || p.mainText == "" && !p.mainDecl:
		sb.WriteString("func main() { flag.Parse() }\n")
	case p.mainDecl:
		sb.WriteString("var _ = flag.Parse\n\n" + lineDirective(cell, p.mainLine, p.mainCol) + p.mainText + "\n")
	default:
		sb.WriteString("func main() {\n\tflag.Parse()\n" + lineDirective(cell, p.mainLine, p.mainCol) + p.mainText + "\n}\n")
	}
	return sb.String()
}

var (
	unusedImport = regexp.MustCompile(`"([^"]+)" imported (?:as (\S+) )?and not used`)
	cellPos      = regexp.MustCompile(`(?m)^(?:\./)?cell(\d+)\.go:(\d+)(?::(\d+))?: `)
)

// unusedImports lists the imports a compiler output reports as unused, as importKey values.
func unusedImports(out string) []string {
	var keys []string
	for _, m := range unusedImport.FindAllStringSubmatch(out, -1) {
		keys = append(keys, importKey(m[1], m[2]))
	}
	return keys
}

// importKey identifies an import by path and the name it binds. The compiler names an alias
// only when it differs from the package's name, so an alias equal to the last element of the
// path (skipping a /vN suffix), the usual package name, is keyed as no alias.
func importKey(path, alias string) string {
	base := path[strings.LastIndex(path, "/")+1:]
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" && strings.Contains(path, "/") {
		rest := path[:strings.LastIndex(path, "/")]
		base = rest[strings.LastIndex(rest, "/")+1:]
	}
	if alias == base {
		alias = ""
	}
	return path + " as " + alias
}

// mapCompileErrors rewrites "cell4.go:3:5: msg" into "cell 4, line 3:5: msg" and drops the
// go command's "# package" header lines.
func mapCompileErrors(out string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "# ") {
			continue
		}
		keep = append(keep, cellPos.ReplaceAllString(l, "cell $1, line $2:$3: "))
	}
	return strings.Join(keep, "\n")
}

// CellError is a failure while running a notebook, located at a cell (1-based position in
// the notebook) and, when known, a line of that cell.
type CellError struct {
	Cell int
	Line int
	Msg  string
}

func (e *CellError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("cell %d, line %d: %s", e.Cell, e.Line, e.Msg)
	}
	return fmt.Sprintf("cell %d: %s", e.Cell, e.Msg)
}

func cellErrorf(cell, line int, format string, args ...any) *CellError {
	return &CellError{Cell: cell, Line: line, Msg: fmt.Sprintf(format, args...)}
}
