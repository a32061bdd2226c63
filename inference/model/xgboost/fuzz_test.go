package xgboost_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// fuzzSeeds are model files of every reader path: JSON and UBJSON, DART (both forms), gblinear,
// categorical splits whose JSON holds XGBoost's bare NaN tokens, 3.x category names, vector
// leaves (3.4's leaf_weights), multi-output objectives.
var fuzzSeeds = []string{
	"binary_logistic.json", "multi_softprob.json", "dart_binary_logistic.json", "binary_logistic.ubj",
	"xgb-1.7.4/categorical_partition.json", "xgb-1.7.4/categorical_onehot.ubj", "xgb-1.7.4/gblinear_multi_softprob.json",
	"xgb-1.7.4/dart_multi_softprob.ubj", "xgb-1.7.4/multi_target_per_tree.json",
	"xgb-3.4.1/dart_reg.json", "xgb-3.4.1/multi_target_vector_leaf.ubj", "xgb-3.4.1/categorical_partition.ubj",
	"xgb-3.4.1/expectile_three.json", "xgb-3.4.1/quantile_three.ubj",
}

// fuzzTexts are small models in the non-standard JSON XGBoost writes: NaN, Infinity and
// -Infinity tokens, in numbers and next to strings that contain them.
var fuzzTexts = []string{
	`{"learner": {"objective": {"name": "reg:squarederror"}, "learner_model_param": {"num_feature": "1"},
		"gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{"left_children": [1, -1, -1],
		"right_children": [2, -1, -1], "split_indices": [0, 0, 0], "split_conditions": [0.5, 1, 2],
		"default_left": [true, false, false], "tree_param": {"num_nodes": "3"}}]}}}}`,
	`{"learner": {"objective": {"name": "reg:squarederror"}, "learner_model_param": {"num_feature": "2", "num_target": "2", "base_score": "[0E0,1E0]"},
		"feature_names": ["NaN", "Infinity"], "feature_types": ["c", "float"],
		"gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{"left_children": [1, -1, -1],
		"right_children": [2, 0, 1], "split_indices": [0, 0, 0], "split_conditions": [NaN, -Infinity, Infinity],
		"default_left": [0, 0, 0], "split_type": [1, 0, 0], "categories": [0, 2], "categories_nodes": [0],
		"categories_segments": [0], "categories_sizes": [2], "leaf_weights": [NaN, 1, -Infinity, 2],
		"tree_param": {"num_nodes": "3", "size_leaf_vector": "2"}}]}}}}`,
	`{"learner": {"objective": {"name": "multi:softprob"}, "learner_model_param": {"num_feature": "2", "num_class": "2"},
		"gradient_booster": {"name": "gblinear", "model": {"weights": [NaN, 1, 2, Infinity, 0.5, -0.5]}}}}`,
}

// FuzzParse checks that no model file makes Parse or a later Predict panic or hang: a model
// that loads must predict, for any row, without error.
func FuzzParse(f *testing.F) {
	for _, name := range fuzzSeeds {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(data)
	}
	for _, text := range fuzzTexts {
		f.Add([]byte(text))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := xgboost.Parse(data)
		if err != nil || m.NumFeatures() > 1<<16 {
			return // a mutated num_feature can ask for gigabytes of rows; requests cannot
		}
		x := make([]float64, 3*m.NumFeatures())
		for i := range x {
			x[i] = []float64{math.NaN(), 0, -1e30, 1e30, math.Inf(1), 3, 2.5}[i%7]
		}
		out := make([]float64, 3*m.OutputWidth())
		require.NoError(t, m.Predict(x, out))
	})
}

// TestFuzzTextsLoad keeps the fuzz texts meaningful: each is a model the reader accepts, so
// mutations start from the paths that matter rather than from an early error.
func TestFuzzTextsLoad(t *testing.T) {
	for i, text := range fuzzTexts {
		m, err := xgboost.Parse([]byte(text))
		require.NoError(t, err, "fuzz text %d", i)
		out := make([]float64, m.OutputWidth())
		require.NoError(t, m.Predict(make([]float64, m.NumFeatures()), out))
	}
}
