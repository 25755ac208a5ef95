// Command nbrun runs GoNB notebooks headless, with GoNB's cell semantics, and either rewrites
// their stored outputs or checks them.
//
// Usage:
//
//	go run ./cmd/nbrun -update notebooks/00-quickstart.ipynb   # rewrite outputs
//	go run ./cmd/nbrun -check notebooks/*.ipynb                # compare with stored outputs
//	go run ./cmd/nbrun notebooks/00-quickstart.ipynb           # run, print outputs
//	go run ./cmd/nbrun -compare stored.ipynb executed.ipynb    # compare a run by GoNB
//
// -check exits with status 1 and a message naming notebook, cell and line for every
// difference. -compare runs nothing: it compares the outputs of executed.ipynb, the notebook
// stored.ipynb as real GoNB ran it (`jupyter nbconvert --to notebook --execute`), with the
// stored ones, the way -check compares nbrun's own run. See package internal/nb for the cell model and notebooks/README.md for how to
// write a notebook.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/flowmatch/flowmatch/internal/nb"
)

func main() {
	update := flag.Bool("update", false, "run the notebooks and rewrite their outputs")
	check := flag.Bool("check", false, "run the notebooks and compare with their stored outputs")
	compare := flag.Bool("compare", false, "compare the outputs of executed.ipynb (run by GoNB) with those stored in stored.ipynb")
	timeout := flag.Duration("timeout", 2*time.Minute, "time limit for running one cell")
	repo := flag.String("repo", "", "repository root (default: found above each notebook)")
	verbose := flag.Bool("v", false, "log each cell as it runs")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: nbrun [-update | -check] [-timeout d] [-repo dir] [-v] notebook.ipynb...\n"+
			"       nbrun -compare stored.ipynb executed.ipynb\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	modes := 0
	for _, on := range []bool{*update, *check, *compare} {
		if on {
			modes++
		}
	}
	if flag.NArg() == 0 || modes > 1 || *compare && flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	if *compare {
		if err := nb.CompareFiles(flag.Arg(0), flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "ok  %s = %s\n", flag.Arg(1), flag.Arg(0))
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := nb.Options{Repo: *repo, Timeout: *timeout}
	if *verbose {
		opts.Log = os.Stderr
	}
	failed := false
	for _, path := range flag.Args() {
		start := time.Now()
		var err error
		switch {
		case *update:
			err = nb.Update(ctx, path, opts)
		case *check:
			err = nb.Check(ctx, path, opts)
		default:
			err = show(ctx, path, opts)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		fmt.Fprintf(os.Stderr, "ok  %s  %.1fs\n", path, time.Since(start).Seconds())
	}
	if failed {
		os.Exit(1)
	}
}

// show runs a notebook and prints its outputs, images as a placeholder.
func show(ctx context.Context, path string, opts nb.Options) error {
	n, err := nb.ReadFile(path)
	if err != nil {
		return err
	}
	got, runErr := nb.Run(ctx, path, n, opts)
	if got != nil {
		for i, c := range got.Cells {
			if c.Type != "code" || len(c.Outputs) == 0 {
				continue
			}
			fmt.Printf("── cell %d\n", i+1)
			for _, o := range c.Outputs {
				switch o.Type {
				case "stream":
					fmt.Print(o.Text)
				case "display_data":
					var types []string
					for k := range o.Data {
						types = append(types, k)
					}
					sort.Strings(types)
					for _, k := range types {
						s, _ := o.Data[k].(string)
						if k == "image/png" {
							b, _ := base64.StdEncoding.DecodeString(s)
							fmt.Printf("[%s, %d bytes]\n", k, len(b))
						} else if k == "text/plain" {
							fmt.Printf("[%s] %s\n", k, s)
						}
					}
				}
			}
		}
	}
	if runErr != nil {
		return fmt.Errorf("%s: %w", path, runErr)
	}
	return nil
}
