package xgboost_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// syntheticModel returns XGBoost JSON for a binary:logistic ensemble of full binary trees of
// the given depth over nf features, with random thresholds and default directions. Generated
// rather than committed: a 100-tree depth-6 model is over a megabyte of JSON.
func syntheticModel(tb testing.TB, trees, depth, nf int) []byte {
	tb.Helper()
	return syntheticMulti(tb, trees, depth, nf, 0)
}

// syntheticMulti is syntheticModel for multi:softprob with classes classes when classes > 0;
// tree t then belongs to class t % classes.
func syntheticMulti(tb testing.TB, trees, depth, nf, classes int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(uint64(trees), uint64(nf)))
	jsonTrees := make([]map[string]any, trees)
	info := make([]int, trees)
	for t := range jsonTrees {
		n := 1<<(depth+1) - 1
		left, right := make([]int, n), make([]int, n)
		split, dl := make([]int, n), make([]int, n)
		cond := make([]float32, n)
		for i := 0; i < n; i++ {
			if i >= n/2 { // the last level holds the leaves
				left[i], right[i] = -1, -1
				cond[i] = float32(rng.NormFloat64() * 0.1)
				continue
			}
			left[i], right[i] = 2*i+1, 2*i+2
			split[i] = rng.IntN(nf)
			cond[i] = float32(rng.NormFloat64())
			dl[i] = rng.IntN(2)
		}
		if classes > 0 {
			info[t] = t % classes
		}
		jsonTrees[t] = map[string]any{
			"id": t, "left_children": left, "right_children": right, "split_indices": split,
			"split_conditions": cond, "default_left": dl, "split_type": make([]int, n),
			"categories_nodes": []int{},
			"tree_param":       map[string]string{"num_nodes": fmt.Sprint(n), "num_feature": fmt.Sprint(nf), "size_leaf_vector": "0"},
		}
	}
	objective := "binary:logistic"
	if classes > 0 {
		objective = "multi:softprob"
	}
	doc := map[string]any{"learner": map[string]any{
		"learner_model_param": map[string]string{"base_score": "5E-1", "num_class": fmt.Sprint(classes), "num_feature": fmt.Sprint(nf), "num_target": "1"},
		"objective":           map[string]any{"name": objective},
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"gbtree_model_param": map[string]string{"num_trees": fmt.Sprint(trees), "size_leaf_vector": "0"},
			"tree_info":          info, "trees": jsonTrees,
		}},
	}}
	data, err := json.Marshal(doc)
	require.NoError(tb, err)
	return data
}

// benchRows returns rows of standard normal features with 5% missing.
func benchRows(rows, nf int) []float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, rows*nf)
	for i := range x {
		x[i] = rng.NormFloat64()
		if rng.IntN(20) == 0 {
			x[i] = math.NaN()
		}
	}
	return x
}

func TestSyntheticModelLoads(t *testing.T) {
	m, err := xgboost.Parse(syntheticModel(t, 100, 6, 20))
	require.NoError(t, err)
	require.Equal(t, 100, m.NumTrees())
	out := make([]float64, 10)
	require.NoError(t, m.Predict(benchRows(10, 20), out))
	for _, p := range out {
		require.True(t, p > 0 && p < 1, "probability %v", p)
	}
}

// BenchmarkPredict measures the 100-tree depth-6 model of issue 2's performance target.
func BenchmarkPredict(b *testing.B) {
	const nf = 20
	m, err := xgboost.Parse(syntheticModel(b, 100, 6, nf))
	require.NoError(b, err)
	for _, rows := range []int{1, 1000} {
		b.Run(fmt.Sprintf("trees=100/depth=6/rows=%d", rows), func(b *testing.B) {
			x := benchRows(rows, nf)
			out := make([]float64, rows)
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
