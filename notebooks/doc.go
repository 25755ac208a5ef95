// Package notebooks holds the GoNB notebooks of flowmatch (*.ipynb, with stored outputs) and
// the tests that run each of them with cmd/nbrun's engine and compare the outputs. See
// README.md.
package notebooks
