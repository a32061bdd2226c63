package lightgbm_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/lightgbm"
)

// parityTolerance is how far a prediction may be from LightGBM's own (issue 2), relative to
// the prediction's size when that is above 1 (the gamma model predicts claim amounts ~1e3).
const parityTolerance = 1e-5

// readModelFile returns testdata/name, decompressed when it ends in .gz.
func readModelFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		require.NoError(t, err)
		data, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return data
}

// readMatrix reads whitespace-separated numbers, one row per line, dropping the first skip
// columns. Entries "i:v" (libsvm) put v in column i.
func readMatrix(t testing.TB, name string, skip int) [][]float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var rows [][]float64
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Fields(line)[skip:]
		row := make([]float64, 0, len(fields))
		for _, f := range fields {
			if i, v, ok := strings.Cut(f, ":"); ok {
				col, err := strconv.Atoi(i)
				require.NoError(t, err)
				require.Equal(t, len(row), col, "libsvm columns in order, none skipped")
				f = v
			}
			v, err := strconv.ParseFloat(f, 64)
			require.NoError(t, err)
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func TestParityWithLightGBM(t *testing.T) {
	tests := []struct {
		name       string
		model      string
		rows       string
		skip       int // label columns in rows
		want       string
		objective  string
		kind       lightgbm.Kind
		numClass   int
		firstNames []string
	}{
		{"binary dart", "lg_dart_breast_cancer.model", "breast_cancer_test.tsv", 0,
			"lg_dart_breast_cancer_true_predictions.txt", "binary", lightgbm.Probability, 2, []string{"Column_0", "Column_1"}},
		{"binary random forest", "lg_rf_iris.model", "iris_test.libsvm", 1,
			"lg_rf_iris_true_predictions.txt", "binary", lightgbm.Probability, 2, []string{"Column_0", "Column_1"}},
		{"multiclass", "lgmulticlass.model.gz", "multiclass_test_first100.tsv", 1,
			"lgmulticlass_true_predictions_first100.txt", "multiclass", lightgbm.ClassProbabilities, 5, []string{"Column_0", "Column_1"}},
		{"gamma regression", "genlin_fmtp_gamma_AvgClaimAmount.model.gz", "genlin_fmtp_gamma_AvgClaimAmount_features.tsv", 0,
			"genlin_fmtp_gamma_AvgClaimAmount_true_predictions.txt", "gamma", lightgbm.Value, 0, []string{"VehBrand", "VehPower"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := lightgbm.Parse(bytes.NewReader(readModelFile(t, tc.model)))
			require.NoError(t, err)
			assert.Equal(t, tc.objective, m.Objective())
			assert.Equal(t, tc.kind, m.Kind())
			assert.Equal(t, tc.numClass, m.NumClass())
			assert.Equal(t, tc.firstNames, m.FeatureNames()[:2])

			rows := readMatrix(t, tc.rows, tc.skip)
			want := readMatrix(t, tc.want, 0)
			require.Len(t, want, len(rows))
			x := make([]float64, 0, len(rows)*m.NumFeatures())
			for _, r := range rows {
				require.Len(t, r, m.NumFeatures())
				x = append(x, r...)
			}
			out := make([]float64, len(rows)*m.OutputWidth())
			require.NoError(t, m.Predict(x, out))
			for r, w := range want {
				require.Len(t, w, m.OutputWidth())
				for k, v := range w {
					got := out[r*m.OutputWidth()+k]
					assert.InDelta(t, v, got, parityTolerance*math.Max(1, math.Abs(v)), "row %d output %d", r, k)
				}
			}
		})
	}
}

// withObjective returns the DART breast-cancer model with its objective line replaced.
func withObjective(t *testing.T, objective string) []byte {
	t.Helper()
	data := readModelFile(t, "lg_dart_breast_cancer.model")
	const line = "objective=binary sigmoid:1\n"
	require.True(t, bytes.Contains(data, []byte(line)), "fixture has %q", line)
	return bytes.Replace(data, []byte(line), []byte("objective="+objective+"\n"), 1)
}

// edited returns the DART breast-cancer model with the first old replaced by repl.
func edited(t *testing.T, old, repl string) []byte {
	t.Helper()
	data := readModelFile(t, "lg_dart_breast_cancer.model")
	require.True(t, bytes.Contains(data, []byte(old)), "fixture has %q", old)
	return bytes.Replace(data, []byte(old), []byte(repl), 1)
}

// TestFormatVersions checks a model written as LightGBM 4 labels it (version=v4) predicts as
// the same trees written by LightGBM 3 (version=v3) do.
func TestFormatVersions(t *testing.T) {
	v3, err := lightgbm.Parse(bytes.NewReader(readModelFile(t, "lg_dart_breast_cancer.model")))
	require.NoError(t, err)
	v4, err := lightgbm.Parse(bytes.NewReader(edited(t, "\nversion=v2\n", "\nversion=v4\n")))
	require.NoError(t, err)
	rows := readMatrix(t, "breast_cancer_test.tsv", 0)
	var x []float64
	for _, r := range rows {
		x = append(x, r...)
	}
	want, got := make([]float64, len(rows)), make([]float64, len(rows))
	require.NoError(t, v3.Predict(x, want))
	require.NoError(t, v4.Predict(x, got))
	assert.Equal(t, want, got)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"lambdarank", withObjective(t, "lambdarank"), `unsupported objective "lambdarank"`},
		{"multiclassova", withObjective(t, "multiclassova num_class:1 sigmoid:1"), `unsupported objective "multiclassova"`},
		{"cross entropy", withObjective(t, "cross_entropy"), `unsupported objective "cross_entropy"`},
		{"no objective", withObjective(t, ""), `no "objective" line in the model header`},
		{"bad sigmoid", withObjective(t, "binary sigmoid:-2"), `objective "binary sigmoid:-2": sigmoid must be a positive number`},
		{"xgboost json", []byte(`{"learner": {}}`), `not a LightGBM text model`},
		{"empty", nil, `not a LightGBM text model`},
		{"unknown version", edited(t, "\nversion=v2\n", "\nversion=v9\n"), `LightGBM model format version "v9": supported v2, v3 and v4`},
		{"linear trees", edited(t, "\nshrinkage=", "\nis_linear=1\nshrinkage="), "the model has linear trees (linear_tree=true), which are not supported"},
		{"truncated trees", readModelFile(t, "lg_dart_breast_cancer.model")[:3000], "tree 1: leaf_value has 1 values, want 15"},
		{"cycle", edited(t, "\nleft_child=1 2 3 5 -2 6 8 -6 -1\n", "\nleft_child=1 2 3 5 -2 6 8 -6 0\n"), "tree 0: node 0 is reached twice: not a tree"},
		{"child out of range", edited(t, "\nleft_child=1 2 3 5 -2 6 8 -6 -1\n", "\nleft_child=1 2 3 5 -2 6 8 -6 9\n"), "tree 0: node 8: child 9 outside [0, 9)"},
		{"leaf out of range", edited(t, "\nleft_child=1 2 3 5 -2 6 8 -6 -1\n", "\nleft_child=1 2 3 5 -2 6 8 -6 -11\n"), "tree 0: node 8: leaf 10 outside [0, 10)"},
		{"leaf twice", edited(t, "\nleft_child=1 2 3 5 -2 6 8 -6 -1\n", "\nleft_child=1 2 3 5 -2 6 8 -6 -10\n"), "tree 0: leaf 9 is reached twice: not a tree"},
		{"feature out of range", edited(t, "\nsplit_feature=22 27 22 27 5 10 21 0 0\n", "\nsplit_feature=22 27 22 27 5 10 21 0 30\n"), "tree 0: node 8: split feature 30 outside [0, 30)"},
		{"ragged arrays", edited(t, "\nright_child=4 -3 -4 -5 7 -7 -8 -9 -10\n", "\nright_child=4 -3 -4 -5 7 -7 -8 -9\n"), "tree 0: right_child has 8 values, want 9"},
		{"cycle in a tree without a Tree= line", bytes.Replace(edited(t, "\nleft_child=1 2 3 5 -2 6 8 -6 -1\n", "\nleft_child=1 2 3 5 -2 6 8 -6 0\n"),
			[]byte("\nTree=0\n"), []byte("\n"), 1), "tree block 1: node 0 is reached twice: not a tree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lightgbm.Parse(bytes.NewReader(tc.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

// TestObjectiveTransforms checks, on one set of trees, that each objective's transform is
// the one LightGBM applies to the raw score.
func TestObjectiveTransforms(t *testing.T) {
	raw, err := lightgbm.Parse(bytes.NewReader(withObjective(t, "regression")))
	require.NoError(t, err)
	rows := readMatrix(t, "breast_cancer_test.tsv", 0)
	var x []float64
	for _, r := range rows {
		x = append(x, r...)
	}
	scores := make([]float64, len(rows))
	require.NoError(t, raw.Predict(x, scores))

	tests := []struct {
		objective string
		kind      lightgbm.Kind
		want      func(s float64) float64
	}{
		{"huber", lightgbm.Value, func(s float64) float64 { return s }},
		{"poisson", lightgbm.Value, math.Exp},
		{"binary sigmoid:1", lightgbm.Probability, func(s float64) float64 { return 1 / (1 + math.Exp(-s)) }},
		{"binary sigmoid:2", lightgbm.Probability, func(s float64) float64 { return 1 / (1 + math.Exp(-2*s)) }},
	}
	for _, tc := range tests {
		t.Run(tc.objective, func(t *testing.T) {
			m, err := lightgbm.Parse(bytes.NewReader(withObjective(t, tc.objective)))
			require.NoError(t, err)
			assert.Equal(t, tc.kind, m.Kind())
			out := make([]float64, len(rows))
			require.NoError(t, m.Predict(x, out))
			for i, s := range scores {
				assert.InDelta(t, tc.want(s), out[i], 1e-12, "row %d", i)
			}
		})
	}
}

func TestPredictChecksShapes(t *testing.T) {
	m, err := lightgbm.LoadFile(filepath.Join("testdata", "lg_dart_breast_cancer.model"))
	require.NoError(t, err)
	assert.EqualError(t, m.Predict(make([]float64, 31), make([]float64, 1)), "input has 31 values, not a multiple of 30 features")
	assert.EqualError(t, m.Predict(make([]float64, 60), make([]float64, 1)), "output has room for 1 values, want 2 (2 rows x 1)")
	assert.NoError(t, m.Predict(nil, nil))

	_, err = lightgbm.LoadFile(filepath.Join("testdata", "missing.model"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestPredictMissingValues(t *testing.T) {
	m, err := lightgbm.LoadFile(filepath.Join("testdata", "lg_dart_breast_cancer.model"))
	require.NoError(t, err)
	x := make([]float64, m.NumFeatures())
	for i := range x {
		x[i] = math.NaN()
	}
	out := make([]float64, 1)
	require.NoError(t, m.Predict(x, out))
	assert.True(t, out[0] > 0 && out[0] < 1, "an all-missing row still gets a probability, got %v", out[0])
}

func TestSniff(t *testing.T) {
	assert.True(t, lightgbm.Sniff(readModelFile(t, "lg_rf_iris.model")[:64]))
	assert.True(t, lightgbm.Sniff([]byte("tree\r\nversion=v3\r\n")))
	assert.False(t, lightgbm.Sniff([]byte("tree\nnum_class=1\n")))
	assert.False(t, lightgbm.Sniff([]byte(`{"learner": {}}`)))
	assert.False(t, lightgbm.Sniff(nil))
}
