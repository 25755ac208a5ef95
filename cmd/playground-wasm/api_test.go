package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flowmatch/flowmatch/web/playground"
)

func TestAPI(t *testing.T) {
	_, err := train("5")
	require.ErrorContains(t, err, "fmNew first")
	_, err = newSession(`{"dataset":"8gaussians","size":"small","seed":1}`)
	require.NoError(t, err)
	out, err := train("5")
	require.NoError(t, err)
	assert.Len(t, out.(trained).Losses, 5)
	assert.Equal(t, 5, out.(trained).Steps)
	f, err := frame(`{"t":0.5,"n":10,"grid":3,"res":4}`)
	require.NoError(t, err)
	assert.Len(t, f.(*playground.Frame).Samples, 20)
	for _, bad := range []string{"0", "x", "10001"} {
		_, err = train(bad)
		assert.Error(t, err, bad)
	}
	l, err := logLik(`{"res":4,"steps":2,"lo":-6,"hi":6}`)
	require.NoError(t, err)
	assert.Len(t, l.(*playground.LogLik).LogP, 16)
	_, err = logLik(`{"res":1,"steps":2,"lo":-6,"hi":6}`)
	assert.Error(t, err)
	_, err = frame(`{"t":2}`)
	assert.Error(t, err)
	_, err = newSession(`{"dataset":"nope"}`)
	assert.Error(t, err)
	assert.Contains(t, strings.Join(func() []string {
		var s []string
		for _, d := range datasets().([]any) {
			s = append(s, d.(string))
		}
		return s
	}(), ","), "8gaussians")
}
