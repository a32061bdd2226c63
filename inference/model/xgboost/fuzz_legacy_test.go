package xgboost_test

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// fuzzLegacy seeds f with the fixtures matching pattern and checks that no input makes Parse or
// a later Predict panic or hang: a model that loads must predict any row without error.
func fuzzLegacy(f *testing.F, pattern string) {
	paths, err := filepath.Glob(filepath.Join("testdata", "legacy", pattern))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xgboost.Parse(data)
		if err != nil || m.NumFeatures() > 1<<16 {
			return // a mutated num_feature can ask for gigabytes of rows; requests cannot
		}
		x := make([]float64, 3*m.NumFeatures())
		for i := range x {
			x[i] = []float64{math.NaN(), 0, -1e30, 1e30, math.Inf(1)}[i%5]
		}
		out := make([]float64, 3*m.OutputWidth())
		require.NoError(t, m.Predict(x, out))
	})
}

// FuzzParseBinary covers the legacy binary reader.
func FuzzParseBinary(f *testing.F) { fuzzLegacy(f, "*.model") }

// FuzzParsePickle covers the pickle reader and, through the handles, the binary, JSON and
// UBJSON readers behind it.
func FuzzParsePickle(f *testing.F) { fuzzLegacy(f, "*.pkl") }

// TestRefusalsAllocateLittle checks that sizes a file cannot hold are refused before anything
// is allocated for them.
func TestRefusalsAllocateLittle(t *testing.T) {
	model := readLegacy(t, "binary_logistic.model")
	gbtree := 4 + 136 + 8 + len("binary:logistic") + 8 + len("gbtree")
	absurd := func(off int) []byte {
		d := append([]byte(nil), model...)
		copy(d[off:], []byte{0xff, 0xff, 0xff, 0x7f})
		return d
	}
	for name, data := range map[string][]byte{
		"num_trees":   absurd(gbtree),
		"num_nodes":   absurd(gbtree + 160 + 4),
		"bytes8":      []byte("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f"),
		"bytearray8":  []byte("\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\x7f"),
		"binunicode8": []byte("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\x7f"),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := xgboost.Parse(data)
		runtime.ReadMemStats(&after)
		require.Error(t, err, name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "%s: allocated for a size the input cannot hold", name)
	}
}
