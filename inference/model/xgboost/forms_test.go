package xgboost_test

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// editVersioned returns testdata/xgb-<version>/<name>.json after edit has changed its decoded
// form, with the case's rows and XGBoost's predictions.
func editVersioned(t *testing.T, version, name string, edit func(learner map[string]any)) ([]byte, versionCase) {
	t.Helper()
	var c versionCase
	for _, vc := range loadVersionCases(t) {
		if vc.version == version && vc.name == name {
			c = vc
		}
	}
	require.NotEmpty(t, c.name, "no fixture %s/%s", version, name)
	data, err := os.ReadFile(c.path(".json"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	edit(doc["learner"].(map[string]any))
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out, c
}

func predictAll(t *testing.T, m *xgboost.Model, x []float64) []float64 {
	t.Helper()
	out := make([]float64, len(x)/m.NumFeatures()*m.OutputWidth())
	require.NoError(t, m.Predict(x, out))
	return out
}

// TestDARTAsSaved34 rewrites 1.7.4 DART models in the form XGBoost 3.4 saves them ("gbtree"
// with weight_drop inside gradient_booster.model, src/gbm/gbtree_model.cc SaveModel at v3.4.1):
// they must predict what XGBoost predicted for the original. Before issue 11 the weights were
// ignored and the answers were silently wrong.
func TestDARTAsSaved34(t *testing.T) {
	for _, name := range []string{"dart_reg", "dart_binary_logistic", "dart_multi_softprob"} {
		t.Run(name, func(t *testing.T) {
			data, c := editVersioned(t, "1.7.4", name, func(l map[string]any) {
				gb := l["gradient_booster"].(map[string]any)
				inner := gb["gbtree"].(map[string]any)["model"].(map[string]any)
				inner["weight_drop"] = gb["weight_drop"]
				l["gradient_booster"] = map[string]any{"name": "gbtree", "model": inner}
			})
			m, err := xgboost.Parse(data)
			require.NoError(t, err)
			assert.Equal(t, "gbtree", m.Booster())
			assertOutputs(t, c.fx.Want, predictAll(t, m, c.x), m.OutputWidth(), "3.4 form")
		})
	}
	t.Run("weights shorter than trees weigh 1", func(t *testing.T) {
		// XGBoost 3.4 pads a missing trailing weight with 1 (GBTree::CommitModel).
		full, c := editVersioned(t, "1.7.4", "dart_reg", func(l map[string]any) {
			gb := l["gradient_booster"].(map[string]any)
			w := gb["weight_drop"].([]any)
			w[len(w)-1] = 1.0
		})
		short, _ := editVersioned(t, "1.7.4", "dart_reg", func(l map[string]any) {
			gb := l["gradient_booster"].(map[string]any)
			inner := gb["gbtree"].(map[string]any)["model"].(map[string]any)
			w := gb["weight_drop"].([]any)
			inner["weight_drop"] = w[:len(w)-1]
			l["gradient_booster"] = map[string]any{"name": "gbtree", "model": inner}
		})
		a, err := xgboost.Parse(full)
		require.NoError(t, err)
		b, err := xgboost.Parse(short)
		require.NoError(t, err)
		assert.Equal(t, predictAll(t, a, c.x), predictAll(t, b, c.x))
	})
}

// TestNonFiniteTokens checks the JSON reader takes XGBoost's bare NaN and Infinity tokens,
// which XGBoost (1.7.4 and 2.1.4 here) writes for categorical split conditions and statistics,
// and leaves strings alone.
func TestNonFiniteTokens(t *testing.T) {
	var c versionCase
	for _, vc := range loadVersionCases(t) {
		if vc.version == "1.7.4" && vc.name == "categorical_partition" {
			c = vc
		}
	}
	data, err := os.ReadFile(c.path(".json"))
	require.NoError(t, err)
	require.Contains(t, string(data), ",NaN,", "XGBoost wrote NaN split conditions")
	require.False(t, json.Valid(data), "so the file is not standard JSON")
	s := strings.Replace(string(data), `"loss_changes":[`, `"loss_changes":[-Infinity,Infinity,`, 1)
	s = strings.Replace(s, `"attributes":{`, `"attributes":{"note":"NaN, Infinity and -Infinity stay text",`, 1)
	m, err := xgboost.Parse([]byte(s))
	require.NoError(t, err)
	assertOutputs(t, c.fx.Want, predictAll(t, m, c.x), 1, "with NaN tokens")

	t.Run("NaN numerical threshold is refused", func(t *testing.T) {
		d, _ := editVersioned(t, "1.7.4", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["split_conditions"].([]any)[0] = "@NAN@"
		})
		_, err := xgboost.Parse([]byte(strings.ReplaceAll(string(d), `"@NAN@"`, "NaN")))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "tree 0: node 0: split condition is NaN")
	})
}

// TestCategoricalDecision checks the edge cases of common::Decision that fixture rows do not
// reach: codes beyond the set, negative, fractional and huge codes go left; a code in the set
// goes right; a missing value takes the default direction.
func TestCategoricalDecision(t *testing.T) {
	// One split on feature 0: codes {1, 40} go right (leaf 2), everything else left (leaf 1);
	// missing values go right (default_left false).
	model := `{"learner": {"objective": {"name": "reg:squarederror"}, "learner_model_param": {"num_feature": "2", "base_score": "0E0", "num_class": "0"},
		"feature_types": ["c", "float"],
		"gradient_booster": {"name": "gbtree", "model": {"gbtree_model_param": {"num_trees": "1"}, "tree_info": [0], "trees": [{
			"tree_param": {"num_nodes": "3", "size_leaf_vector": "1"}, "left_children": [1, -1, -1], "right_children": [2, -1, -1],
			"split_indices": [0, 0, 0], "split_conditions": [NaN, 1, 2], "default_left": [0, 0, 0], "split_type": [1, 0, 0],
			"categories": [1, 40], "categories_nodes": [0], "categories_segments": [0], "categories_sizes": [2]}]}}}}`
	m, err := xgboost.Parse([]byte(model))
	require.NoError(t, err)
	assert.Equal(t, []string{"c", "float"}, m.FeatureTypes())
	tests := []struct {
		code float64
		want float64
	}{
		{1, 2}, {40, 2}, {1.7, 2}, // truncated to 1
		{0, 1}, {2, 1}, {39, 1}, {41, 1}, {1000, 1}, {-1, 1}, {-0.5, 1}, {16777216, 1}, {math.Inf(1), 1}, {math.Inf(-1), 1},
		{math.NaN(), 2},
	}
	for _, tc := range tests {
		out := make([]float64, 1)
		require.NoError(t, m.Predict([]float64{tc.code, 0}, out))
		assert.Equal(t, tc.want, out[0], "code %v", tc.code)
	}
}

// TestVectorLeafForms checks both ways XGBoost stores vector leaves give the same model: 2.x's
// base_weights per node and 3.4's leaf_weights indexed by the leaf's right child.
func TestVectorLeafForms(t *testing.T) {
	tree := func(extra string) string {
		return `{"learner": {"objective": {"name": "reg:squarederror"}, "learner_model_param": {"num_feature": "1", "base_score": "[1E0,2E0]", "num_class": "0", "num_target": "2"},
		"gradient_booster": {"name": "gbtree", "model": {"gbtree_model_param": {"num_trees": "1", "size_leaf_vector": "2"}, "tree_info": [0], "trees": [{
			"tree_param": {"num_nodes": "3", "size_leaf_vector": "2"}, "left_children": [1, -1, -1], ` + extra + `,
			"split_indices": [0, 0, 0], "split_conditions": [0.5, 0, 0], "default_left": [1, 0, 0]}]}}}}`
	}
	v2 := tree(`"right_children": [2, -1, -1], "base_weights": [0, 0, 10, 20, 30, 40]`)
	v34 := tree(`"right_children": [2, 0, 1], "base_weights": [0, 0], "leaf_weights": [10, 20, 30, 40]`)
	for name, text := range map[string]string{"2.x": v2, "3.4": v34} {
		t.Run(name, func(t *testing.T) {
			m, err := xgboost.Parse([]byte(text))
			require.NoError(t, err)
			require.Equal(t, 2, m.OutputWidth())
			out := make([]float64, 6)
			require.NoError(t, m.Predict([]float64{0, 1, math.NaN()}, out))
			assert.Equal(t, []float64{11, 22, 31, 42, 11, 22}, out)
		})
	}
}

func TestQuoteNonFiniteLeavesStrings(t *testing.T) {
	m, err := xgboost.Parse([]byte(`{"learner": {"objective": {"name": "reg:squarederror"}, "feature_names": ["NaN", "-Infinity\"x"],
		"learner_model_param": {"num_feature": "2", "base_score": "5E-1", "num_class": "0"},
		"gradient_booster": {"name": "gbtree", "model": {"gbtree_model_param": {"num_trees": "1"}, "tree_info": [0], "trees": [{
		"tree_param": {"num_nodes": "1"}, "left_children": [-1], "right_children": [-1], "split_indices": [0],
		"split_conditions": [Infinity], "default_left": [0]}]}}}}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"NaN", `-Infinity"x`}, m.FeatureNames())
	out := make([]float64, 1)
	require.NoError(t, m.Predict([]float64{0, 0}, out))
	assert.True(t, math.IsInf(out[0], 1))
}
