// Command flowmatch trains, samples, evaluates and draws flow-matching
// models on 2-D data, on binned 2-D data as tokens (discrete flow matching:
// checkerboard-discrete, 8gaussians-discrete), and on the sphere and the
// flat torus (sphere-vmf, torus-vonmises, torus-checkerboard: demo and
// train take -data, sample, loglik and plot the checkpoint); it also
// serves the browser playground.
//
// Usage:
//
//	flowmatch demo   [-data name|file] [-out dir] [-steps n] [-seed s]
//	flowmatch train  -data name|file [-path condot|ve|vp|cosine|linear-vp|polyN] [-coupling independent|ot|sinkhorn] -out model.safetensors
//	flowmatch sample -checkpoint model.safetensors -n 1000 -out samples.csv
//	flowmatch train  -data mnist14|mnist -cond label -cond-drop 0.1 -out model.safetensors   (images by label; demo -data mnist14 too)
//	flowmatch train  -data mnist14 -model unet -channels 16 -out unet.safetensors           (a U-Net instead of the MLP; sample detects it)
//	flowmatch train  -data mnist -model unet -channels 8 -mult 1,2,4 -out unet.safetensors  (28×28 with three resolutions, 28 → 14 → 7)
//	flowmatch sample -checkpoint model.safetensors -class 3 -guidance 2 -n 64 -out grid.png  (classifier-free guidance)
//	flowmatch loglik -checkpoint model.safetensors -data name|file [-n 1000] [-out logp.csv]
//	flowmatch plot   -checkpoint model.safetensors [-data name|file] -out dir
//	flowmatch datasets
//	flowmatch bench  [-what train,sample,loglik,gemm,scaling] [-batch 256] [-threads 1]
//	flowmatch playground [-addr 127.0.0.1:8090]
//
// Run `flowmatch <command> -h` (or `flowmatch help <command>`) for the flags
// of each command. Images, discrete data and manifolds have their own forms
// of demo and train, chosen by -data, and their checkpoints their own forms
// of sample, loglik and plot, chosen by -checkpoint, each with its own
// flags: `flowmatch train -data mnist14 -h`, `flowmatch sample -checkpoint
// FILE -h`. The time convention is the library's (Lipman et al. 2022,
// arXiv:2210.02747, §2): t = 0 is noise, t = 1 is data.
//
// Every command that does heavy work takes -threads, the number of cores it
// uses; results do not depend on it. Inputs and outputs are checked before
// any work starts: a file's folder must already exist; an output folder
// (plot, demo) is created if it is missing and its parent exists. Progress
// goes to stderr: a bar with rate and ETA on a terminal, plain lines
// otherwise.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/data/mnist"
	"github.com/flowmatch/flowmatch/fm/riemann"
)

// runFunc is the body of a command: it parses args, checks every flag and
// input before any work, and runs.
type runFunc func(args []string, stdout, stderr io.Writer) error

// command is one subcommand: its name, a one-line summary, its body for
// 2-D (Euclidean) data and models, and its other forms.
type command struct {
	name, summary string
	run           runFunc
	forms         []form
}

// form is a form of a command with its own flags, for one family of data
// or models (images, discrete data, manifolds): match reads one flag
// (-data, -checkpoint) before any is parsed, and the first form that
// matches runs instead of the command's body.
type form struct {
	match func(args []string) bool
	run   runFunc
}

var commands = []command{
	{"demo", "train a flow on 8gaussians (or -data), evaluate it (NLL, KL, W2), draw it, report", runDemo,
		[]form{{condDataArg, runMNISTDemo}, {discreteDataArg, runDiscreteDemo}, {manifoldDataArg, runManifoldDemo}}},
	{"train", "train a velocity model and save a checkpoint", runTrain,
		[]form{{condDataArg, runCondTrain}, {discreteDataArg, runDiscreteTrain}, {manifoldDataArg, runManifoldTrain}}},
	{"sample", "draw samples from a checkpoint (ODE from noise to data)", runSample,
		[]form{{discreteCheckpointArg, runDiscreteSample}, {manifoldCheckpointArg, runManifoldSample}, {condSampleArg, runCondSample}}},
	{"loglik", "log-likelihood of data under a checkpoint", runLoglik,
		[]form{{discreteCheckpointArg, runDiscreteLoglik}, {manifoldArg, runManifoldLoglik}}},
	{"plot", "pictures from a checkpoint: samples, trajectories, density, field", runPlot,
		[]form{{discreteCheckpointArg, runDiscretePlot}, {manifoldArg, runManifoldPlot}}},
	{"datasets", "list the built-in datasets and their entropies", runDatasets, nil},
	{"bench", "the PyTorch peer's workload (bench/peers/torch_fm.py): train steps/s, sample and loglik points/s", runBench, nil},
	{"playground", "build the browser playground (WebAssembly) and serve it on localhost", runPlayground, nil},
}

// body returns the form of c that serves args: the first form that
// matches, else c.run.
func (c command) body(args []string) runFunc {
	for _, f := range c.forms {
		if f.match(args) {
			return f.run
		}
	}
	return c.run
}

// help is the command line that shows the flags of the form of c that
// args chose: 'flowmatch CMD -h', and for another form than c.run, followed
// by the flags that choose one (-data, -checkpoint, -class, -guidance) that
// args hold (-h comes first: parsing stops there, so a choosing flag the
// form does not have is no error). TestUsageErrors_Variants.
func (c command) help(args []string) string {
	h := "flowmatch " + c.name + " -h"
	if slices.ContainsFunc(c.forms, func(f form) bool { return f.match(args) }) {
		for _, name := range []string{"data", "checkpoint", "class", "guidance"} {
			if v, ok := flagArg(args, name); ok {
				h += " -" + name + " " + v
			}
		}
	}
	return h
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes the command line args and returns the process exit code:
// 0 on success, 1 on failure, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" {
		args = []string{args[1], "-h"} // help CMD: the command's flags
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.body(args[1:])(args[1:], stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, new(usageError)):
				fmt.Fprintf(stderr, "flowmatch %s: %v (see '%s')\n", c.name, err, c.help(args[1:]))
				return 2
			default:
				fmt.Fprintf(stderr, "flowmatch %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "flowmatch: unknown command %q; run 'flowmatch -h' for the list\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "flowmatch trains, samples, evaluates and draws flow-matching models (t = 0 noise, t = 1 data).")
	fmt.Fprintln(w, "\nUsage: flowmatch <command> [flags]\n\nCommands:")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'flowmatch <command> -h' (or 'flowmatch help <command>') for a command's flags. Start with: flowmatch demo")
	fmt.Fprintln(w, "\n"+outputPolicy)
	fmt.Fprintln(w, "Progress goes to stderr (a bar on a terminal, plain lines otherwise); results to stdout.")
}

// usageError marks errors in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// newFlagSet returns a flag set that prints its usage to stderr when asked
// (-h) and reports errors instead of exiting. The usage ends with where the
// command's other forms are (formsNote) and, for a command with -out, the
// output policy.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("flowmatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: flowmatch %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
		if note := formsNote(name); note != "" {
			fmt.Fprintln(fs.Output(), "\n"+note)
		}
		if fs.Lookup("out") != nil {
			fmt.Fprintln(fs.Output(), "\n"+outputPolicy)
		}
	}
	return fs
}

// formsNote says, in the usage of every form of a command that has several
// (commands), that each form has its own flags and how to see them.
// TestUsage_Forms.
func formsNote(name string) string {
	switch name {
	case "demo", "train":
		return fmt.Sprintf(`Each kind of data has flags of its own: 2-D data (a dataset or a file),
images (%s), discrete data (%s)
and manifolds (%s).
'flowmatch %s -data NAME -h' shows those of NAME.`, strings.Join(mnist.Names(), ", "), strings.Join(data.DiscreteNames(), ", "),
			strings.Join(riemann.DatasetNames(), ", "), name)
	case "sample":
		return `Each kind of checkpoint (2-D, image, discrete, manifold) has flags of its own:
'flowmatch sample -checkpoint FILE -h' shows those of FILE.`
	case "loglik", "plot":
		return fmt.Sprintf(`Each kind of checkpoint (2-D, discrete, manifold) has flags of its own:
'flowmatch %s -checkpoint FILE -h' shows those of FILE.`, name)
	}
	return ""
}

// parse parses args and rejects stray positional arguments. A bad flag is
// a one-line usage error (the flag package's own message and usage dump are
// silenced); -h prints the usage.
func parse(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q: every input is a flag (-name value)", fs.Arg(0))
	}
	return nil
}

// required reports the first of the named flags that was not set.
func required(fs *flag.FlagSet, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, n := range names {
		if !set[n] {
			missing = append(missing, "-"+n)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return usagef("missing required flag(s) %s", strings.Join(missing, ", "))
	}
	return nil
}
