package nb

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ModulePath is the module the notebooks use; the runner's temporary module replaces it by
// the repository.
const ModulePath = "github.com/flowmatch/flowmatch"

const (
	gonbModule  = "github.com/janpfeifer/gonb"
	zeroVersion = "v0.0.0-00010101000000-000000000000"
	// displayMarker starts a display record written by the gonbui stand-in to stdout:
	// displayMarker, the length of the JSON payload in decimal, "\n", the payload.
	displayMarker = "\x1enbrun-display:"
	displayEnv    = "NBRUN_DISPLAY"
)

//go:embed gonbui/gonbui.go
var standIn []byte

// Options configure a run.
type Options struct {
	Repo         string        // repository root; found from the notebook's folder if empty
	Timeout      time.Duration // per cell, for running it (default 2 minutes)
	BuildTimeout time.Duration // per cell, for building it (default 10 minutes)
	Log          io.Writer     // progress messages, if not nil
}

// goModEditCell is the first code cell of every notebook (see notebooks/README.md), with or
// without the pin of GoNB's version. The runner's temporary module already requires and
// replaces the repository and GoNB (by the stand-in), so it is a no-op.
var goModEditCell = regexp.MustCompile(`^go mod edit -replace=` + regexp.QuoteMeta(ModulePath) +
	`=\$\{?GONB_DIR\}?/\.\.(?: -require=` + regexp.QuoteMeta(ModulePath+"@"+zeroVersion) + `)?` +
	`(?: -require=` + regexp.QuoteMeta(gonbModule) + `@v[0-9]+\.[0-9]+\.[0-9]+)?\s*$`)

type session struct {
	opts   Options
	nbDir  string
	modDir string
	memory []*decl
	env    []string // from %env
}

// Run executes the code cells of n, the notebook stored at path, in order, with GoNB's cell
// semantics, and returns a copy of n with fresh outputs and execution counts. On the first
// failure it stops and returns the copy (outputs up to the failing cell) and a *CellError.
func Run(ctx context.Context, path string, n *Notebook, opts Options) (*Notebook, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.BuildTimeout <= 0 {
		opts.BuildTimeout = 10 * time.Minute
	}
	nbDir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	if opts.Repo == "" {
		if opts.Repo, err = findRepo(nbDir); err != nil {
			return nil, err
		}
	}
	modDir, err := os.MkdirTemp("", "nbrun-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(modDir)
	s := &session{opts: opts, nbDir: nbDir, modDir: modDir}
	if err := s.writeModule(); err != nil {
		return nil, err
	}

	out := *n
	out.Cells = make([]*Cell, len(n.Cells))
	count := 0
	var runErr error
	for i, c := range n.Cells {
		cc := *c
		out.Cells[i] = &cc
		if c.Type != "code" {
			continue
		}
		cc.Outputs, cc.ExecutionCount = []Output{}, nil
		if runErr != nil || strings.TrimSpace(c.Source) == "" {
			continue
		}
		count++
		k := count // each cell its own number, 1, 2, 3…, as GoNB numbers them
		cc.ExecutionCount = &k
		s.logf("%s: cell %d", path, i+1)
		cc.Outputs, runErr = s.runCell(ctx, i+1, c.Source)
	}
	return &out, runErr
}

func (s *session) logf(format string, args ...any) {
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, format+"\n", args...)
	}
}

// findRepo walks up from dir to the folder whose go.mod declares ModulePath.
func findRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && modulePathOf(b) == ModulePath {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of %s above %s (use -repo)", ModulePath, dir)
		}
	}
}

func modulePathOf(gomod []byte) string {
	for _, l := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "module" {
			return f[1]
		}
	}
	return ""
}

// writeModule creates the temporary module: go.mod requiring the repository and GoNB (both
// replaced by local folders: the repository and the embedded gonbui stand-in), the
// repository's go.sum, so that builds need nothing beyond the module cache.
func (s *session) writeModule() error {
	repoMod, err := os.ReadFile(filepath.Join(s.opts.Repo, "go.mod"))
	if err != nil {
		return err
	}
	goLine := "go 1.26"
	for _, l := range strings.Split(string(repoMod), "\n") {
		if strings.HasPrefix(l, "go ") {
			goLine = strings.TrimSpace(l)
		}
	}
	gonbDir := filepath.Join(s.modDir, "_gonb")
	gomod := fmt.Sprintf("module nbrun_notebook\n\n%s\n\nrequire (\n\t%s %s\n\t%s %s\n)\n\nreplace %s => %s\n\nreplace %s => %s\n",
		goLine, ModulePath, zeroVersion, gonbModule, zeroVersion, ModulePath, s.opts.Repo, gonbModule, gonbDir)
	files := map[string][]byte{
		"go.mod":                  []byte(gomod),
		"_gonb/go.mod":            []byte("module " + gonbModule + "\n\ngo 1.21\n"),
		"_gonb/gonbui/gonbui.go":  standIn,
		"main.go":                 []byte("package main\n\nfunc main() {}\n"),
		".nbrun-keep-this-folder": nil,
	}
	if sum, err := os.ReadFile(filepath.Join(s.opts.Repo, "go.sum")); err == nil {
		files["go.sum"] = sum
	}
	for name, b := range files {
		p := filepath.Join(s.modDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// baseEnv is the environment of builds, shell commands and programs.
func (s *session) baseEnv() []string {
	env := append(os.Environ(),
		"GOFLAGS=-mod=mod -buildvcs=false", // go.mod may gain requirements already in the module graph
		"GOPROXY=off",                      // never download: everything is in the module cache
		"GOWORK=off",
		"GOTOOLCHAIN=local",
		"GONB_DIR="+s.nbDir,
		"GONB_TMP_DIR="+s.modDir,
	)
	return append(env, s.env...)
}

// runCell runs the special commands of a cell, then its Go code.
func (s *session) runCell(ctx context.Context, cell int, source string) ([]Output, error) {
	c, err := splitCell(cell, source)
	if err != nil {
		return nil, err
	}
	col := &collector{}
	for _, kv := range c.env {
		s.env = append(s.env, kv[0]+"="+kv[1]) // later entries win in exec's environment
	}
	for _, sh := range c.shell {
		if sh.inModule && goModEditCell.MatchString(sh.cmd) {
			continue
		}
		dir := s.nbDir
		if sh.inModule {
			dir = s.modDir
		}
		cmd := exec.Command("bash", "-c", sh.cmd)
		cmd.Dir, cmd.Env = dir, s.baseEnv()
		if err := s.execute(ctx, cmd, col, false); err != nil {
			return col.outs, cellErrorf(cell, sh.line, "!%s: %v", sh.cmd, err)
		}
	}
	if !c.hasGo {
		return col.outs, nil
	}
	p, err := parseCode(c)
	if err != nil {
		return col.outs, err
	}
	decls := merge(s.memory, p.decls)
	bin, err := s.build(ctx, cell, decls, p)
	if err != nil {
		return col.outs, err
	}
	s.memory = decls // kept because the cell compiled
	cmd := exec.Command(bin, c.mainArgs...)
	cmd.Dir, cmd.Env = s.nbDir, append(s.baseEnv(), displayEnv+"=1")
	if err := s.execute(ctx, cmd, col, true); err != nil {
		return col.outs, cellErrorf(cell, 0, "%v", err)
	}
	return col.outs, nil
}

// build writes main.go and builds it, dropping imports the compiler reports as unused
// (those only earlier cells' code used) and retrying.
func (s *session) build(ctx context.Context, cell int, decls []*decl, p *program) (string, error) {
	drop := map[string]bool{}
	bin := filepath.Join(s.modDir, "cell.bin")
	for attempt := 0; ; attempt++ {
		src := compose(decls, p, cell, drop)
		if err := os.WriteFile(filepath.Join(s.modDir, "main.go"), []byte(src), 0o644); err != nil {
			return "", err
		}
		bctx, cancel := context.WithTimeout(ctx, s.opts.BuildTimeout)
		cmd := exec.CommandContext(bctx, "go", "build", "-ldflags=-w", "-o", bin, ".")
		cmd.Dir, cmd.Env = s.modDir, s.baseEnv()
		out, err := cmd.CombinedOutput()
		timedOut := errors.Is(bctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			return bin, nil
		}
		progress := false
		for _, key := range unusedImports(string(out)) {
			if !drop[key] {
				drop[key], progress = true, true
			}
		}
		if !progress || attempt > 5 {
			if timedOut {
				return "", cellErrorf(cell, 0, "build exceeded %v", s.opts.BuildTimeout)
			}
			return "", cellErrorf(cell, 0, "compile error:\n%s", mapCompileErrors(string(out)))
		}
	}
}

// execute runs cmd under the cell timeout, collecting its stdout (with display records, if
// display) and stderr into col.
func (s *session) execute(ctx context.Context, cmd *exec.Cmd, col *collector, display bool) error {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var derr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		if display {
			derr = readDisplay(stdout, col)
		} else {
			copyStream(stdout, col, "stdout")
		}
	}()
	go func() {
		defer wg.Done()
		copyStream(stderr, col, "stderr")
	}()
	timer := time.AfterFunc(s.opts.Timeout, func() { _ = cmd.Process.Kill() })
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	wg.Wait()
	err = cmd.Wait()
	close(done)
	if !timer.Stop() {
		return fmt.Errorf("timed out after %v", s.opts.Timeout)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	return derr
}

func copyStream(r io.Reader, col *collector, name string) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			col.text(name, buf[:n])
		}
		if err != nil {
			return
		}
	}
}

// readDisplay splits a program's stdout into text and the display records of the gonbui
// stand-in. Text is handed on whenever the pipe has nothing more buffered, so that it keeps
// its place relative to stderr.
func readDisplay(r io.Reader, col *collector) error {
	br := bufio.NewReaderSize(r, 64<<10)
	marker := []byte(displayMarker)
	var text []byte
	flush := func(hold int) {
		col.text("stdout", text[:len(text)-hold])
		text = append(text[:0], text[len(text)-hold:]...)
	}
	for {
		b, err := br.ReadByte()
		if err != nil {
			flush(0)
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		text = append(text, b)
		if bytes.HasSuffix(text, marker) {
			text = text[:len(text)-len(marker)]
			flush(0)
			header, err := br.ReadString('\n')
			size, cerr := strconv.Atoi(strings.TrimSpace(header))
			if err != nil || cerr != nil || size < 0 {
				return fmt.Errorf("bad display record header %q", header)
			}
			payload := make([]byte, size)
			if _, err := io.ReadFull(br, payload); err != nil {
				return fmt.Errorf("truncated display record: %v", err)
			}
			var data map[string]any
			if err := json.Unmarshal(payload, &data); err != nil {
				return fmt.Errorf("bad display record: %v", err)
			}
			col.display(data)
			continue
		}
		if br.Buffered() == 0 {
			hold := 0 // keep back what may be the beginning of a marker
			if i := bytes.LastIndexByte(text, marker[0]); i >= 0 && bytes.HasPrefix(marker, text[i:]) {
				hold = len(text) - i
			}
			flush(hold)
		}
	}
}

// collector gathers a cell's outputs in arrival order, merging consecutive text of a stream.
type collector struct {
	mu   sync.Mutex
	outs []Output
}

func (c *collector) text(name string, b []byte) {
	if len(b) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k := len(c.outs) - 1; k >= 0 && c.outs[k].Type == "stream" && c.outs[k].Name == name {
		c.outs[k].Text += string(b)
		return
	}
	c.outs = append(c.outs, Output{Type: "stream", Name: name, Text: string(b)})
}

func (c *collector) display(data map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outs = append(c.outs, Output{Type: "display_data", Data: data, Metadata: map[string]any{}})
}
