//go:build !onnx

package onnx_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/model/onnx"
)

// TestPureGoBuildRefusesONNXNamingTheVariant: the default build recognises an ONNX model by
// its content and refuses it at start, saying which image serves it.
func TestPureGoBuildRefusesONNXNamingTheVariant(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/rf_iris/model.onnx")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dir+"/any-name.bin", data, 0o644))
	_, err = model.Load(dir)
	require.ErrorIs(t, err, onnx.ErrNotBuilt)
	assert.NotErrorIs(t, err, model.ErrNoModel)
	assert.ErrorContains(t, err, "any-name.bin")
	assert.ErrorContains(t, err, "onnx image variant")
	assert.ErrorContains(t, err, "--target onnx")
}
