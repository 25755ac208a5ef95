package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/data"
	"github.com/flowmatch/flowmatch/nn"
)

// TestCondCommands_UNet trains a tiny label-conditioned U-Net (train -model
// unet) on mnist14 for a few steps, checks that the checkpoint is a U-Net
// (nn.LoadUNet) with the label context and the dropout, and samples it
// (sample detects the U-Net from the metadata) at w = 2 and unconditionally;
// a bad -model or -channels is a usage error.
func TestCondCommands_UNet(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "u.safetensors")
	code, out, errs := call("train", "-data", "mnist14", "-model", "unet", "-channels", "4", "-steps", "3", "-batch", "4", "-threads", "1", "-out", ckpt)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "train: wrote "+ckpt)
	u, meta, err := nn.LoadUNet(ckpt)
	require.NoError(t, err)
	assert.Equal(t, nn.UNetConfig{C: 1, H: 14, W: 14, Ch: 4, Groups: 4, Emb: 64, Ctx: 11, Classes: 10}, u.Cfg)
	assert.Equal(t, "0.1", meta[metaCondDrop])
	assert.Equal(t, "mnist14", meta[metaData])

	csv := filepath.Join(dir, "s.csv")
	code, out, errs = call("sample", "-checkpoint", ckpt, "-class", "7", "-guidance", "2", "-n", "3", "-ode-steps", "2", "-out", csv)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "class 7, guidance w = 2")
	x, err := data.ReadCSV(csv)
	require.NoError(t, err)
	assert.Equal(t, [2]int{3, 196}, x.Shape())

	plain := filepath.Join(dir, "plain.safetensors")
	code, _, errs = call("train", "-data", "mnist14", "-cond", "none", "-cond-drop", "0", "-model", "unet", "-channels", "4", "-steps", "2", "-batch", "4", "-threads", "1", "-out", plain)
	require.Equal(t, 0, code, errs)
	code, out, errs = call("sample", "-checkpoint", plain, "-n", "2", "-ode-steps", "2", "-out", csv)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "unconditional")

	code, _, errs = call("train", "-data", "mnist14", "-model", "cnn", "-out", ckpt)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "-model \"cnn\"")
	code, _, errs = call("train", "-data", "mnist14", "-model", "unet", "-channels", "6", "-out", ckpt)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "-channels 6")
}

// TestCondCommands_UNetMult trains a three-level U-Net on 28×28 MNIST
// (train -model unet -mult 1,2,4) for one step and checks that the
// checkpoint records the multipliers (nn.LoadUNet) and samples; -mult on
// mnist14 (14 is not a multiple of 4), with the MLP, or with one level is a
// usage error naming -mult.
func TestCondCommands_UNetMult(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "u3.safetensors")
	code, _, errs := call("train", "-data", "mnist", "-model", "unet", "-channels", "4", "-mult", "1,2,4", "-steps", "1", "-batch", "2", "-threads", "1", "-out", ckpt)
	require.Equal(t, 0, code, errs)
	u, _, err := nn.LoadUNet(ckpt)
	require.NoError(t, err)
	assert.Equal(t, nn.UNetConfig{C: 1, H: 28, W: 28, Ch: 4, Groups: 4, Emb: 64, Ctx: 11, Classes: 10, Mult: []int{1, 2, 4}}, u.Cfg)
	csv := filepath.Join(dir, "s.csv")
	code, _, errs = call("sample", "-checkpoint", ckpt, "-class", "3", "-n", "2", "-ode-steps", "1", "-out", csv)
	require.Equal(t, 0, code, errs)

	for _, args := range [][]string{
		{"-data", "mnist14", "-model", "unet", "-mult", "1,2,4"},
		{"-data", "mnist", "-mult", "1,2,4"},
		{"-data", "mnist", "-model", "unet", "-mult", "2"},
		{"-data", "mnist", "-model", "unet", "-mult", "1,x"},
	} {
		code, _, errs = call(append(append([]string{"train"}, args...), "-out", ckpt)...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, errs, "-mult", args)
	}
}
