package xgboost_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// referenceTree is one tree straight from the JSON, walked the obvious way.
type referenceTree struct {
	Left, Right []int
	Split       []int
	Cond        []float32
	DefaultLeft []int
}

func (t referenceTree) leaf(row []float64) float32 {
	i := 0
	for t.Left[i] != -1 {
		v := row[t.Split[i]]
		switch {
		case math.IsNaN(v):
			if t.DefaultLeft[i] == 1 {
				i = t.Left[i]
			} else {
				i = t.Right[i]
			}
		case float32(v) < t.Cond[i]:
			i = t.Left[i]
		default:
			i = t.Right[i]
		}
	}
	return t.Cond[i]
}

// referencePredict evaluates a syntheticMulti model (base_score 0.5) the way XGBoost's
// documentation describes, independently of the package's flattened layout.
func referencePredict(t *testing.T, model []byte, classes int, row []float64) []float64 {
	t.Helper()
	var doc struct {
		Learner struct {
			GradientBooster struct {
				Model struct {
					TreeInfo []int `json:"tree_info"`
					Trees    []struct {
						Left        []int     `json:"left_children"`
						Right       []int     `json:"right_children"`
						Split       []int     `json:"split_indices"`
						Cond        []float32 `json:"split_conditions"`
						DefaultLeft []int     `json:"default_left"`
					} `json:"trees"`
				} `json:"model"`
			} `json:"gradient_booster"`
		} `json:"learner"`
	}
	require.NoError(t, json.Unmarshal(model, &doc))
	gb := doc.Learner.GradientBooster.Model
	groups := max(classes, 1)
	margins := make([]float32, groups)
	for g := range margins {
		margins[g] = 0.5
	}
	if classes == 0 {
		margins[0] = 0 // logit(0.5)
	}
	for i, tr := range gb.Trees {
		margins[gb.TreeInfo[i]] += referenceTree(tr).leaf(row)
	}
	if classes == 0 {
		return []float64{1 / (1 + math.Exp(-float64(margins[0])))}
	}
	out := make([]float64, classes)
	var sum float64
	for g, m := range margins {
		out[g] = math.Exp(float64(m))
		sum += out[g]
	}
	for g := range out {
		out[g] /= sum
	}
	return out
}

// TestMatchesReference covers shapes the fixtures do not: deeper trees, tree counts that do not
// fill the last block, more features and classes than fit Predict's stack buffers.
func TestMatchesReference(t *testing.T) {
	tests := []struct{ trees, depth, features, classes int }{
		{1, 0, 1, 0},    // a single leaf
		{3, 2, 4, 0},    // fewer trees than one block
		{13, 9, 30, 0},  // a partial last block, deep trees
		{20, 3, 300, 0}, // a row too wide for the stack buffer
		{80, 2, 6, 40},  // more classes than the stack buffer
		{15, 4, 10, 3},  // a partial block across classes
	}
	for _, tc := range tests {
		name := fmt.Sprintf("trees=%d/depth=%d/features=%d/classes=%d", tc.trees, tc.depth, tc.features, tc.classes)
		t.Run(name, func(t *testing.T) {
			data := syntheticMulti(t, tc.trees, tc.depth, tc.features, tc.classes)
			m, err := xgboost.Parse(data)
			require.NoError(t, err)
			const rows = 50
			x := benchRows(rows, tc.features)
			out := make([]float64, rows*m.OutputWidth())
			require.NoError(t, m.Predict(x, out))
			for r := 0; r < rows; r++ {
				want := referencePredict(t, data, tc.classes, x[r*tc.features:(r+1)*tc.features])
				got := out[r*m.OutputWidth() : (r+1)*m.OutputWidth()]
				assert.InDeltaSlice(t, want, got, 1e-6, "row %d", r)
			}
		})
	}
}
