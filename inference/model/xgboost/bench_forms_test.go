package xgboost_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// syntheticGeneral returns XGBoost JSON for a reg:squarederror ensemble of full depth-deep
// trees over nf features of which the first catFeatures are categorical (codes 0-15, each split
// sending a random subset right), with vector leaves of targets values when targets > 1 (the
// 2.x base_weights form). It exercises Predict's general path.
func syntheticGeneral(tb testing.TB, trees, depth, nf, catFeatures, targets int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(uint64(trees), uint64(catFeatures+targets)))
	jsonTrees := make([]map[string]any, trees)
	leafSize := max(targets, 1)
	for t := range jsonTrees {
		n := 1<<(depth+1) - 1
		left, right := make([]int, n), make([]int, n)
		split, dl, st := make([]int, n), make([]int, n), make([]int, n)
		cond := make([]float32, n)
		weights := make([]float32, n*leafSize)
		var cats, catNodes, catSegs, catSizes []int
		for i := 0; i < n; i++ {
			if i >= n/2 {
				left[i], right[i] = -1, -1
				cond[i] = float32(rng.NormFloat64() * 0.1)
				for k := 0; k < leafSize; k++ {
					weights[i*leafSize+k] = float32(rng.NormFloat64() * 0.1)
				}
				continue
			}
			left[i], right[i] = 2*i+1, 2*i+2
			split[i] = rng.IntN(nf)
			dl[i] = rng.IntN(2)
			if split[i] < catFeatures {
				st[i] = 1
				catNodes = append(catNodes, i)
				catSegs = append(catSegs, len(cats))
				size := 0
				for c := 0; c < 16; c++ {
					if rng.IntN(2) == 0 {
						cats = append(cats, c)
						size++
					}
				}
				if size == 0 {
					cats, size = append(cats, 3), 1
				}
				catSizes = append(catSizes, size)
				continue
			}
			cond[i] = float32(rng.NormFloat64())
		}
		jsonTrees[t] = map[string]any{
			"id": t, "left_children": left, "right_children": right, "split_indices": split,
			"split_conditions": cond, "default_left": dl, "split_type": st, "base_weights": weights,
			"categories": cats, "categories_nodes": catNodes, "categories_segments": catSegs, "categories_sizes": catSizes,
			"tree_param": map[string]string{"num_nodes": fmt.Sprint(n), "num_feature": fmt.Sprint(nf), "size_leaf_vector": fmt.Sprint(leafSize)},
		}
	}
	types := make([]string, nf)
	for i := range types {
		types[i] = "float"
		if i < catFeatures {
			types[i] = "c"
		}
	}
	doc := map[string]any{"learner": map[string]any{
		"feature_types":       types,
		"learner_model_param": map[string]string{"base_score": "5E-1", "num_class": "0", "num_feature": fmt.Sprint(nf), "num_target": fmt.Sprint(leafSize)},
		"objective":           map[string]any{"name": "reg:squarederror"},
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"gbtree_model_param": map[string]string{"num_trees": fmt.Sprint(trees), "size_leaf_vector": fmt.Sprint(leafSize)},
			"tree_info":          make([]int, trees), "trees": jsonTrees,
		}},
	}}
	data, err := json.Marshal(doc)
	require.NoError(tb, err)
	return data
}

// categoricalRows is benchRows with the first catFeatures columns replaced by codes 0-17
// (two beyond every split's set) or missing.
func categoricalRows(rows, nf, catFeatures int) []float64 {
	x := benchRows(rows, nf)
	rng := rand.New(rand.NewPCG(5, 6))
	for r := 0; r < rows; r++ {
		for j := 0; j < catFeatures; j++ {
			if x[r*nf+j] == x[r*nf+j] {
				x[r*nf+j] = float64(rng.IntN(18))
			}
		}
	}
	return x
}

type benchForm struct {
	name                 string
	catFeatures, targets int
	nf, trees, depth     int
}

var benchForms = []benchForm{
	{name: "categorical", catFeatures: 5, targets: 1, nf: 20, trees: 100, depth: 6},
	{name: "vector-leaf-3-targets", catFeatures: 0, targets: 3, nf: 20, trees: 100, depth: 6},
}

// BenchmarkPredictForms measures the general path: categorical splits, and vector leaves.
func BenchmarkPredictForms(b *testing.B) {
	for _, f := range benchForms {
		m, err := xgboost.Parse(syntheticGeneral(b, f.trees, f.depth, f.nf, f.catFeatures, f.targets))
		require.NoError(b, err)
		for _, rows := range []int{1, 1000} {
			b.Run(fmt.Sprintf("%s/trees=%d/depth=%d/rows=%d", f.name, f.trees, f.depth, rows), func(b *testing.B) {
				x := categoricalRows(rows, f.nf, f.catFeatures)
				out := make([]float64, rows*m.OutputWidth())
				b.ReportAllocs()
				for b.Loop() {
					if err := m.Predict(x, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// TestPredictAllocatesNothing checks the single-row path of every evaluation path allocates
// nothing: numerical trees, categorical splits, vector leaves, gblinear.
func TestPredictAllocatesNothing(t *testing.T) {
	models := map[string][]byte{
		"numerical":   syntheticModel(t, 100, 6, 20),
		"multi-class": syntheticMulti(t, 30, 4, 20, 3),
	}
	for _, f := range benchForms {
		models[f.name] = syntheticGeneral(t, 20, 4, f.nf, f.catFeatures, f.targets)
	}
	for name, data := range models {
		t.Run(name, func(t *testing.T) {
			m, err := xgboost.Parse(data)
			require.NoError(t, err)
			x := categoricalRows(1, m.NumFeatures(), 5)
			out := make([]float64, m.OutputWidth())
			assert.Zero(t, testing.AllocsPerRun(100, func() { _ = m.Predict(x, out) }))
		})
	}
	t.Run("gblinear", func(t *testing.T) {
		for _, c := range loadVersionCases(t) {
			if c.name != "gblinear_multi_softprob" {
				continue
			}
			m, err := xgboost.LoadFile(c.path(".json"))
			require.NoError(t, err)
			out := make([]float64, m.OutputWidth())
			x := c.x[:m.NumFeatures()]
			assert.Zero(t, testing.AllocsPerRun(100, func() { _ = m.Predict(x, out) }))
		}
	})
}

// TestGeneralPathMatchesReference checks the general path against the obvious walk of the JSON
// trees (generalReference) on shapes the fixtures do not have: deeper trees, a partial block,
// three categorical features with codes beyond every set.
func TestGeneralPathMatchesReference(t *testing.T) {
	data := syntheticGeneral(t, 13, 5, 12, 3, 1)
	m, err := xgboost.Parse(data)
	require.NoError(t, err)
	const rows = 64
	x := categoricalRows(rows, 12, 3)
	out := make([]float64, rows)
	require.NoError(t, m.Predict(x, out))
	for r := 0; r < rows; r++ {
		want := generalReference(t, data, x[r*12:(r+1)*12])
		assert.InDelta(t, want, out[r], 1e-6, "row %d", r)
	}
}

// generalReference evaluates a syntheticGeneral model with scalar leaves the way XGBoost's
// documentation describes, independently of the package's flattened layout.
func generalReference(t *testing.T, model []byte, row []float64) float64 {
	t.Helper()
	var doc struct {
		Learner struct {
			GradientBooster struct {
				Model struct {
					Trees []struct {
						Left        []int     `json:"left_children"`
						Right       []int     `json:"right_children"`
						Split       []int     `json:"split_indices"`
						Cond        []float32 `json:"split_conditions"`
						DefaultLeft []int     `json:"default_left"`
						SplitType   []int     `json:"split_type"`
						Cats        []int     `json:"categories"`
						CatNodes    []int     `json:"categories_nodes"`
						CatSegs     []int     `json:"categories_segments"`
						CatSizes    []int     `json:"categories_sizes"`
					} `json:"trees"`
				} `json:"model"`
			} `json:"gradient_booster"`
		} `json:"learner"`
	}
	require.NoError(t, json.Unmarshal(model, &doc))
	sum := float32(0.5)
	for _, tr := range doc.Learner.GradientBooster.Model.Trees {
		i := 0
		for tr.Left[i] != -1 {
			v := row[tr.Split[i]]
			goLeft := false
			switch {
			case v != v:
				goLeft = tr.DefaultLeft[i] == 1
			case tr.SplitType[i] == 1:
				k := 0
				for tr.CatNodes[k] != i {
					k++
				}
				goLeft = true
				for _, c := range tr.Cats[tr.CatSegs[k] : tr.CatSegs[k]+tr.CatSizes[k]] {
					if float64(c) == float64(int(v)) && v >= 0 {
						goLeft = false
					}
				}
			default:
				goLeft = float32(v) < tr.Cond[i]
			}
			if goLeft {
				i = tr.Left[i]
			} else {
				i = tr.Right[i]
			}
		}
		sum += tr.Cond[i] // a scalar leaf's value is in split_conditions
	}
	return float64(sum)
}
