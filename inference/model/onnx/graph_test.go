package onnx

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests need no ONNX Runtime: they read the fixtures that testdata/gen.py wrote with
// python3-onnx and torch.onnx.export.

func TestSniff(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/*/model.onnx")
	require.NoError(t, err)
	require.Len(t, fixtures, 13)
	for _, f := range fixtures {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, Sniff(data), f)
		assert.True(t, Sniff(data[:min(len(data), 64)]), "%s: the first 64 bytes", f)
	}
	for name, head := range map[string][]byte{
		"empty":             nil,
		"xgboost json":      []byte(`{"learner": {}}`),
		"lightgbm text":     []byte("tree\nversion=v3\n"),
		"gzip":              {0x1f, 0x8b, 8, 0},
		"ir_version only 1": {0x08, 0x01},
		"unknown field":     {0x08, 0x07, 0x48, 0x01}, // field 9 is not ModelProto's
		"wrong wire type":   {0x08, 0x07, 0x10, 0x01}, // producer_name as a varint
		"pickle":            {0x80, 0x04, 0x95},
	} {
		assert.False(t, Sniff(head), name)
	}
}

func TestInspectReadsClassLabels(t *testing.T) {
	for _, tc := range []struct {
		fixture    string
		classifier string
		classes    []string
		zipMap     bool
	}{
		{"rf_iris", "TreeEnsembleClassifier", []string{"setosa", "versicolor", "virginica"}, false},
		{"rf_breast_cancer_zipmap", "TreeEnsembleClassifier", []string{"benign", "malignant"}, true},
		{"gb_iris", "TreeEnsembleClassifier", []string{"0", "1", "2"}, false},
		{"logreg_iris_zipmap", "LinearClassifier", []string{"0", "1", "2"}, true}, // classlabels_ints
		{"pipeline_wine", "LinearClassifier", []string{"class_0", "class_1", "class_2"}, false},
		{"gbr_diabetes", "", nil, false},
		{"torch_mlp_iris", "", nil, false},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.fixture, "model.onnx"))
			require.NoError(t, err)
			gi, err := inspect(data)
			require.NoError(t, err)
			assert.Equal(t, tc.classifier, gi.classifier)
			assert.Equal(t, tc.classes, gi.classes)
			assert.Equal(t, tc.zipMap, gi.zipMap)
			assert.NotEmpty(t, gi.producer)
		})
	}
}

func TestInspectRefusesTruncatedModel(t *testing.T) {
	data, err := os.ReadFile("testdata/rf_iris/model.onnx")
	require.NoError(t, err)
	_, err = inspect(data[:len(data)/2])
	assert.ErrorContains(t, err, "not a readable ONNX model")
	_, err = inspect([]byte{0x08, 0x07})
	assert.ErrorContains(t, err, "it has no graph")
}

func TestOptionsValidate(t *testing.T) {
	assert.NoError(t, Options{}.Validate())
	assert.NoError(t, Options{IntraOpThreads: 2, GraphOptimization: "basic", MaxBatchSize: 64, MaxDelay: Duration(2e6)}.Validate())
	err := Options{IntraOpThreads: -1, GraphOptimization: "max", MaxBatchSize: -2, MaxDelay: Duration(-1)}.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"onnx.intra_op_threads -1", `onnx.graph_optimization "max": want one of disabled, basic, extended, all`,
		"onnx.max_batch_size -2", "onnx.max_delay -1ns",
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.ErrorContains(t, Options{MaxDelay: Duration(1e6)}.Validate(), "without onnx.max_batch_size")
	assert.ErrorContains(t, Options{MaxBatchSize: 8, MaxDelay: Duration(2e9)}.Validate(), "want at most 1s")
}

func TestOptionsThreadsDefaultToCPUs(t *testing.T) {
	// Go sets GOMAXPROCS from the container's CPU limit; here it is set directly.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	assert.Equal(t, 3, Options{}.threads())
	assert.Equal(t, 5, Options{IntraOpThreads: 5}.threads())
}
