package main

import (
	"flag"
	"fmt"
)

// flagCheck parses a command line and runs the command's checks of its
// flags and inputs, in order and before any work, keeping the first
// failure: a usage error naming the flag (usagef), or an error naming the
// file. A command writes its checks one a line and returns err once:
//
//	c := checkFlags(fs, args)
//	c.required("checkpoint", "out")
//	c.count("n", *n, 1, maxPoints)
//	c.threads(*threads)
//	opts := checkValue(c, solverFlags.options, solver)
//	c.outFile("out", *out, ".csv", ".npy")
//	if c.err != nil {
//		return c.err
//	}
//
// After a failure the later checks do nothing, so the first bad flag is the
// one reported and no check past it has an effect (-threads sets the
// threads of the matrix products; an output check writes and removes a
// probe file). TestUsageErrors, TestUsageErrors_Variants.
type flagCheck struct {
	fs  *flag.FlagSet
	err error
}

// checkFlags parses args into fs (parse: a bad flag or a stray argument is
// a usage error, -h prints the usage and is flag.ErrHelp) and returns the
// checks that follow.
func checkFlags(fs *flag.FlagSet, args []string) *flagCheck {
	return &flagCheck{fs: fs, err: parse(fs, args)}
}

// checkFormFlags is checkFlags for a form of a command (on a manifold, for
// a discrete model) that lacks some of the 2-D form's flags: it first
// declares the flags of why, so that giving one is a usage error saying
// that it does not apply where and why (the first given, in the order of
// their names) rather than "flag provided but not defined".
func checkFormFlags(fs *flag.FlagSet, args []string, where string, why map[string]string) *flagCheck {
	for name := range why {
		fs.String(name, "", "does not apply "+where+": giving it is an error that says why")
	}
	c := checkFlags(fs, args)
	c.then(func() (err error) {
		fs.Visit(func(f *flag.Flag) {
			if r, ok := why[f.Name]; ok && err == nil {
				err = usagef("-%s %s: does not apply %s: %s", f.Name, f.Value, where, r)
			}
		})
		return err
	})
	return c
}

// then runs check unless a check has failed.
func (c *flagCheck) then(check func() error) {
	if c.err == nil {
		c.err = check()
	}
}

// required checks that the named flags were given (required).
func (c *flagCheck) required(names ...string) {
	c.then(func() error { return required(c.fs, names...) })
}

// count checks that the count flag -name is in [lo, hi] (checkCount).
func (c *flagCheck) count(name string, v, lo, hi int) {
	c.then(func() error { return checkCount(name, v, lo, hi) })
}

// threads checks -threads and sets the threads of the matrix products
// (checkThreads).
func (c *flagCheck) threads(n int) {
	c.then(func() error { return checkThreads(n) })
}

// outFile checks the output file of flag -name: one of the extensions
// exts, in a folder that exists and is writable (checkOutFile).
func (c *flagCheck) outFile(name, path string, exts ...string) {
	c.then(func() error { return checkOutFile(name, path, exts...) })
}

// outDir checks that the output folder of flag -name can be made
// (checkOutDir); makeOutDir makes it once every check has passed.
func (c *flagCheck) outDir(name, dir string) {
	c.then(func() error { return checkOutDir(name, dir) })
}

// usage records the usage error format (which names the flag) when bad.
func (c *flagCheck) usage(bad bool, format string, a ...any) {
	if bad && c.err == nil {
		c.err = usageError{fmt.Sprintf(format, a...)}
	}
}

// checkValue runs the check read(v) of a flag whose value the command
// uses (parseSizes, parseTimes, solverFlags.options, …) unless a check has
// failed, and returns the value (the zero value after a failure).
func checkValue[A, T any](c *flagCheck, read func(A) (T, error), v A) T {
	var t T
	if c.err == nil {
		t, c.err = read(v)
	}
	return t
}
