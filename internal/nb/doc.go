// Package nb runs GoNB notebooks headless: it is the engine of cmd/nbrun and of the test
// that checks every notebook in notebooks/.
//
// # Cell model (GoNB's)
//
// Every code cell runs as a whole program: the declarations remembered from earlier cells,
// merged with the cell's own, plus main. A declaration (import, func, method, type, var,
// const) is remembered by its name; a later one with the same name replaces it; a cell's
// declarations are remembered only if the cell compiles. Values do not persist: var
// initializers run again in every later cell.
//
//   - `%%` (or `%main`) makes the rest of the cell the body of func main() { flag.Parse(); … };
//     words after it are the program's arguments. A cell without it runs a stub main.
//   - func init_xxx() becomes an init function, remembered as init_xxx.
//   - `!cmd` runs bash in the notebook's folder, `!*cmd` in the temporary Go module;
//     `%env KEY VALUE` sets an environment variable. A `//gonb:` prefix is dropped.
//     Any other magic is an error: run such notebooks under GoNB.
//   - The first code cell of our notebooks, `!*go mod edit -replace=…=${GONB_DIR}/.. -require=…`
//     (which also pins github.com/janpfeifer/gonb), is a no-op here: the temporary module already
//     requires and replaces the repository, and GoNB by the stand-in.
//
// GoNB runs goimports over each program; the runner does not (it keeps to the standard
// library), so cells import what they use. An import that only earlier cells' code used is
// dropped when the compiler reports it unused, and the build is retried.
//
// # Output
//
// Programs import github.com/janpfeifer/gonb/gonbui, replaced in the temporary module by the
// stand-in in ./gonbui, whose display calls write framed records to stdout. The runner turns
// them into display_data outputs between the program's stdout text, with the MIME types GoNB
// v0.11.4 stores (a PNG is image/png alone). Code cells are numbered 1, 2, 3… as GoNB numbers
// them. Compile errors are reported at cell lines through //line directives in the generated
// main.go.
//
// # Format
//
// Marshal writes what nbformat.write writes (indent 1, sorted keys, non-ASCII unescaped,
// multi-line strings as lists of lines, "outputs": [] never null), so re-serialising a stored
// notebook changes nothing; Check relies on it. A notebook that real GoNB executed in Jupyter
// (`jupyter nbconvert --to notebook --execute`) is in the same layout and passes Check as it
// is; CompareFiles compares such a run with the stored outputs without running anything, and
// Normalize (used by Update) drops the per-cell timings nbconvert adds.
package nb
