package xgboost_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// FuzzParse checks that no model file makes Parse or a later Predict panic or hang: a model
// that loads must predict, for any row, without error.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"binary_logistic.json", "multi_softprob.json", "dart_binary_logistic.json", "binary_logistic.ubj"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"learner": {"objective": {"name": "reg:squarederror"}, "learner_model_param": {"num_feature": "1"},
		"gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{"left_children": [1, -1, -1],
		"right_children": [2, -1, -1], "split_indices": [0, 0, 0], "split_conditions": [0.5, 1, 2],
		"default_left": [true, false, false], "tree_param": {"num_nodes": "3"}}]}}}}`))
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
