package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/flowmatch/flowmatch/fm"
	"github.com/flowmatch/flowmatch/nn"
	"github.com/flowmatch/flowmatch/nn/safetensors"
)

// A checkpoint written by train or demo holds the velocity model with nn's
// architecture keys (nn.MetaSizes, …), the probability path with fm's keys
// (fm.MetaPath, …) and the command's own keys below.
const (
	metaData  = "flowmatch.data"  // the -data the model was trained on: a dataset name or a file
	metaSteps = "flowmatch.steps" // train's -steps
	metaSeed  = "flowmatch.seed"  // train's -seed
)

// pathMeta returns the metadata that train and demo write next to the
// model: the path's keys (fm.PathMetadata) and metaData.
func pathMeta(ps pathSpec, dataSpec string) (map[string]string, error) {
	p, err := ps.build()
	if err != nil {
		return nil, err
	}
	meta, err := fm.PathMetadata(p)
	if err != nil {
		return nil, err
	}
	meta[metaData] = dataSpec
	return meta, nil
}

// checkCheckpoint checks that the -checkpoint path is a file, with an
// error that says how to make one when it is missing or a folder (the
// loaders' own error would say "open: open …: no such file or directory").
func checkCheckpoint(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("-checkpoint %s: no such file (train or demo writes one: flowmatch train -data NAME -out %s)", path, path)
	case err != nil:
		return fmt.Errorf("-checkpoint %s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("-checkpoint %s: is a folder; want the .safetensors file that train or demo wrote", path)
	}
	return nil
}

// loadModel reads a checkpoint written by train or demo: the model
// (nn.LoadVelocityMLP) and the path it was trained with
// (fm.PathFromMetadata; a paramPath when the model predicts something other
// than the velocity, fm.MetaParam). A metadata value that is missing or does not parse
// is an error naming the file, the key and the value
// (TestLoadModel_CorruptCheckpoint).
func loadModel(path string) (*nn.VelocityMLP, fm.Path, map[string]string, error) {
	if err := checkCheckpoint(path); err != nil {
		return nil, nil, nil, err
	}
	m, meta, err := nn.LoadVelocityMLP(path)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := fm.PathFromMetadata(meta)
	if err != nil {
		e := &safetensors.Error{Path: path, Err: err}
		if _, ok := meta[fm.MetaPath]; !ok && meta["flowmatch.path"] != "" {
			e.Reason = fmt.Sprintf("written by an older flowmatch, which recorded the path as flowmatch.path = %q; train it again", meta["flowmatch.path"])
		}
		return nil, nil, nil, e
	}
	if p, err = withParam(path, p, meta); err != nil { // gaussian.go: -param
		return nil, nil, nil, err
	}
	return m, p, meta, nil
}
