package xgboost_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// mutated returns testdata/<name>.json after edit has changed its decoded form.
func mutated(t *testing.T, name string, edit func(learner map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(data, &doc))
	edit(doc["learner"].(map[string]any))
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

func firstTree(l map[string]any) map[string]any {
	gb := l["gradient_booster"].(map[string]any)["model"].(map[string]any)
	return gb["trees"].([]any)[0].(map[string]any)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edit    func(l map[string]any)
		wantErr string
	}{
		{"unsupported objective", "reg_squarederror", func(l map[string]any) {
			l["objective"].(map[string]any)["name"] = "reg:gompertz"
		}, `unsupported objective "reg:gompertz"`},
		{"unknown booster", "reg_squarederror", func(l map[string]any) {
			l["gradient_booster"].(map[string]any)["name"] = "gbforest"
		}, `unsupported booster "gbforest" (supported: gbtree, dart, gblinear)`},
		{"gblinear weight count", "reg_squarederror", func(l map[string]any) {
			l["gradient_booster"] = map[string]any{"name": "gblinear", "model": map[string]any{"weights": []any{0.1}}}
		}, "gblinear weights: 1 values, want (num_feature 5 + 1) x 1 outputs = 6"},
		{"categorical split without categories", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["split_type"].([]any)[0] = 1
		}, "tree 0: node 0: split_type 1 (categorical) but no categories"},
		{"categorical arrays ragged", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["categories_nodes"] = []any{0}
		}, "tree 0: categories_nodes, categories_segments, categories_sizes differ in length (1, 0, 0)"},
		{"categories of a numerical node", "reg_squarederror", func(l map[string]any) {
			tr := firstTree(l)
			tr["categories_nodes"], tr["categories_segments"], tr["categories_sizes"], tr["categories"] = []any{0}, []any{0}, []any{1}, []any{2}
		}, "tree 0: categories_nodes[0] 0: not a node whose split_type is 1 (categorical)"},
		{"category out of range", "reg_squarederror", func(l map[string]any) {
			tr := firstTree(l)
			tr["split_type"].([]any)[0] = 1
			tr["categories_nodes"], tr["categories_segments"], tr["categories_sizes"], tr["categories"] = []any{0}, []any{0}, []any{1}, []any{-2}
		}, "tree 0: node 0: category -2 outside [0, 16777216)"},
		{"unknown feature type", "reg_squarederror", func(l map[string]any) {
			l["feature_types"] = []any{"float", "x", "float", "float", "float"}
		}, `feature_types[1] "x": want float, int, i, q or c`},
		{"vector leaf size", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["tree_param"].(map[string]any)["size_leaf_vector"] = "3"
		}, "tree 0: size_leaf_vector 3 for a model with 1 outputs"},
		{"multi-label classification", "binary_logistic", func(l map[string]any) {
			l["learner_model_param"].(map[string]any)["num_target"] = "2"
		}, "num_target 2 with objective binary:logistic: multi-target models are supported for regression objectives only"},
		{"unknown tree field", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["leaf_scale"] = []any{2}
		}, `learner.gradient_booster.model.trees[0]: unknown field "leaf_scale"`},
		{"unknown booster field", "reg_squarederror", func(l map[string]any) {
			l["gradient_booster"].(map[string]any)["model"].(map[string]any)["tree_weights"] = []any{2}
		}, `learner.gradient_booster.model: unknown field "tree_weights"`},
		{"unknown learner field", "reg_squarederror", func(l map[string]any) {
			l["output_scale"] = 2
		}, `learner: unknown field "output_scale"`},
		{"weight_drop longer than trees", "reg_squarederror", func(l map[string]any) {
			l["gradient_booster"].(map[string]any)["model"].(map[string]any)["weight_drop"] = slices.Repeat([]any{1.0}, 99)
		}, "weight_drop has 99 entries for 12 trees"},
		{"quantile alpha count", "reg_squarederror", func(l map[string]any) {
			l["objective"] = map[string]any{"name": "reg:quantileerror", "quantile_loss_param": map[string]any{"quantile_alpha": "[0.1,0.9]"}}
		}, "quantile_alpha has 2 values for 1 outputs (num_target 1)"},
		{"cycle", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["left_children"].([]any)[1] = 0
		}, "tree 0: node 0 is reached twice: not a tree"},
		{"child out of range", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["right_children"].([]any)[0] = 999
		}, "tree 0: node 0: children"},
		{"feature out of range", "reg_squarederror", func(l map[string]any) {
			firstTree(l)["split_indices"].([]any)[0] = 5
		}, "tree 0: node 0: split feature 5 outside [0, 5)"},
		{"ragged arrays", "reg_squarederror", func(l map[string]any) {
			tr := firstTree(l)
			tr["split_conditions"] = tr["split_conditions"].([]any)[1:]
		}, "tree 0: node arrays differ in length"},
		{"feature names count", "reg_squarederror", func(l map[string]any) {
			l["feature_names"] = []any{"a"}
		}, "feature_names has 1 names for 5 features"},
		{"base score out of range for logistic", "binary_logistic", func(l map[string]any) {
			l["learner_model_param"].(map[string]any)["base_score"] = "1.5E0"
		}, "base_score 1.5: objective binary:logistic needs a value in [0, 1]"},
		{"base score not a number", "binary_logistic", func(l map[string]any) {
			l["learner_model_param"].(map[string]any)["base_score"] = "half"
		}, `base_score: want a number or a [list] of numbers, got "half"`},
		{"softprob without classes", "multi_softprob", func(l map[string]any) {
			l["learner_model_param"].(map[string]any)["num_class"] = "0"
		}, "objective multi:softprob with num_class 0: want at least 2 classes"},
		{"tree group out of range", "multi_softprob", func(l map[string]any) {
			gb := l["gradient_booster"].(map[string]any)["model"].(map[string]any)
			gb["tree_info"].([]any)[0] = 3
		}, "tree 0: output group 3 outside [0, 3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xgboost.Parse(mutated(t, tc.fixture, tc.edit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestParseRejectsNonModels(t *testing.T) {
	for name, data := range map[string]string{
		"not json":   "tree\nversion=v3\n",
		"no learner": `{"version": [1, 7, 4]}`,
		"empty":      "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := xgboost.Parse([]byte(data))
			assert.Error(t, err)
		})
	}
}

// TestEquivalentForms checks forms of the same model that XGBoost versions write differently
// predict the same: base_score as "[5E-1]" (3.x), default_left as booleans, the reg:linear alias.
func TestEquivalentForms(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edit    func(l map[string]any)
	}{
		{"base score vector", "binary_logistic", func(l map[string]any) {
			p := l["learner_model_param"].(map[string]any)
			p["base_score"] = "[" + p["base_score"].(string) + "]"
		}},
		{"per-class base score vector", "multi_softprob", func(l map[string]any) {
			l["learner_model_param"].(map[string]any)["base_score"] = "[5E-1,5E-1,5E-1]"
		}},
		{"boolean default_left", "binary_logistic", func(l map[string]any) {
			for _, tr := range l["gradient_booster"].(map[string]any)["model"].(map[string]any)["trees"].([]any) {
				dl := tr.(map[string]any)["default_left"].([]any)
				for i, v := range dl {
					dl[i] = v.(float64) == 1
				}
			}
		}},
		{"reg:linear alias", "reg_squarederror", func(l map[string]any) {
			l["objective"].(map[string]any)["name"] = "reg:linear"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig, x, _ := loadFixture(t, tc.fixture)
			m, err := xgboost.Parse(mutated(t, tc.fixture, tc.edit))
			require.NoError(t, err)
			rows := len(x) / orig.NumFeatures()
			want := make([]float64, rows*orig.OutputWidth())
			got := make([]float64, rows*m.OutputWidth())
			require.NoError(t, orig.Predict(x, want))
			require.NoError(t, m.Predict(x, got))
			assert.Equal(t, want, got)
		})
	}
}

func TestBaseScoreShiftsMargin(t *testing.T) {
	// A changed base_score must move every binary:logitraw output by the same amount: the
	// evaluator adds it in margin space.
	orig, x, _ := loadFixture(t, "binary_logitraw")
	m, err := xgboost.Parse(mutated(t, "binary_logitraw", func(l map[string]any) {
		l["learner_model_param"].(map[string]any)["base_score"] = "1.3E0"
	}))
	require.NoError(t, err)
	rows := len(x) / orig.NumFeatures()
	a, b := make([]float64, rows), make([]float64, rows)
	require.NoError(t, orig.Predict(x, a))
	require.NoError(t, m.Predict(x, b))
	for i := range a {
		assert.InDelta(t, 1.0, b[i]-a[i], 1e-6, "row %d", i)
	}
}

func TestModelDescribesItself(t *testing.T) {
	tests := []struct {
		fixture   string
		objective string
		kind      xgboost.Kind
		width     int
		classes   int
		booster   string
	}{
		{"reg_squarederror", "reg:squarederror", xgboost.Value, 1, 0, "gbtree"},
		{"binary_logistic", "binary:logistic", xgboost.Probability, 1, 0, "gbtree"},
		{"binary_logitraw", "binary:logitraw", xgboost.Value, 1, 0, "gbtree"},
		{"multi_softprob", "multi:softprob", xgboost.ClassProbabilities, 3, 3, "gbtree"},
		{"multi_softmax", "multi:softmax", xgboost.ClassIndex, 1, 3, "gbtree"},
		{"dart_binary_logistic", "binary:logistic", xgboost.Probability, 1, 0, "dart"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			m, err := xgboost.LoadFile(filepath.Join("testdata", tc.fixture+".json"))
			require.NoError(t, err)
			assert.Equal(t, tc.objective, m.Objective())
			assert.Equal(t, tc.kind, m.Kind())
			assert.Equal(t, tc.width, m.OutputWidth())
			assert.Equal(t, tc.classes, m.NumClass())
			assert.Equal(t, tc.booster, m.Booster())
			assert.Equal(t, 5, m.NumFeatures())
			assert.Equal(t, []string{"f_0", "f_1", "f_2", "f_3", "f_4"}, m.FeatureNames())
			assert.Positive(t, m.NumTrees())
		})
	}
}

func TestPredictChecksShapes(t *testing.T) {
	m, err := xgboost.LoadFile(filepath.Join("testdata", "multi_softprob.json"))
	require.NoError(t, err)
	err = m.Predict(make([]float64, 7), make([]float64, 3))
	assert.EqualError(t, err, "input has 7 values, not a multiple of 5 features")
	err = m.Predict(make([]float64, 10), make([]float64, 3))
	assert.EqualError(t, err, "output has room for 3 values, want 6 (2 rows x 3)")
	require.NoError(t, m.Predict(nil, nil), "zero rows is not an error")
}

func TestPredictProbabilitiesSumToOne(t *testing.T) {
	m, x, _ := loadFixture(t, "multi_softprob")
	out := make([]float64, len(x)/m.NumFeatures()*3)
	require.NoError(t, m.Predict(x, out))
	for r := 0; r < len(out); r += 3 {
		assert.InDelta(t, 1.0, out[r]+out[r+1]+out[r+2], 1e-6)
	}
	assert.False(t, math.IsNaN(out[0]), "an all-missing row still predicts")
}

func TestSniff(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "binary_logistic.json"))
	require.NoError(t, err)
	assert.True(t, xgboost.Sniff(data[:64]))
	assert.True(t, xgboost.Sniff([]byte(" \n{ \"learner\": {")))
	assert.True(t, xgboost.Sniff([]byte(`{"version": [1,7,4], "learner": {}}`)))
	assert.False(t, xgboost.Sniff([]byte(`{"features": ["a"]}`)))
	assert.False(t, xgboost.Sniff([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x07learner{")))
	assert.True(t, xgboost.SniffUBJSON([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x07learner{")))
	assert.False(t, xgboost.SniffUBJSON(data[:64]))
	assert.False(t, xgboost.Sniff([]byte("tree\nversion=v3")))
	assert.False(t, xgboost.Sniff(nil))
	config := []byte(`{"learner":{"generic_param":{"nthread":"0"},"gradient_booster":{"name":"gbtree"}}}`)
	assert.False(t, xgboost.Sniff(config), "a save_config() file is not a model")
	assert.True(t, xgboost.SniffConfig(config))
	assert.False(t, xgboost.SniffConfig(data[:64]))
}

func TestSupportedObjectivesAreSorted(t *testing.T) {
	objs := xgboost.SupportedObjectives()
	assert.IsIncreasing(t, objs)
	assert.Contains(t, objs, "count:poisson")
}

func TestDegenerateBaseScore(t *testing.T) {
	// A model trained on labels that are all 0 or all 1 has base_score 0 or 1; XGBoost 3 saves
	// it and predicts exactly that probability.
	for _, base := range []string{"0E0", "1E0"} {
		t.Run(base, func(t *testing.T) {
			m, err := xgboost.Parse(mutated(t, "binary_logistic", func(l map[string]any) {
				l["learner_model_param"].(map[string]any)["base_score"] = base
			}))
			require.NoError(t, err)
			out := make([]float64, 1)
			require.NoError(t, m.Predict([]float64{0.1, 0.2, 0.3, 0.4, 0.5}, out))
			want := 0.0
			if base == "1E0" {
				want = 1
			}
			assert.Equal(t, want, out[0])
		})
	}
}
