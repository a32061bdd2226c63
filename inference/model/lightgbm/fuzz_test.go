package lightgbm_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/lightgbm"
)

// FuzzParse checks that no model text makes Parse or a later Predict panic: a model that loads
// must predict, for any row, without error.
func FuzzParse(f *testing.F) {
	f.Add(readModelFile(f, "lg_dart_breast_cancer.model"))
	f.Add(readModelFile(f, "lg_rf_iris.model"))
	f.Add([]byte("tree\nversion=v3\nnum_class=1\nnum_tree_per_iteration=1\nmax_feature_idx=0\nobjective=regression\ntree_sizes=1\n\n" +
		"Tree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\nthreshold=0.5\ndecision_type=2\nleft_child=-1\nright_child=-2\nleaf_value=1 2\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := lightgbm.Parse(bytes.NewReader(data))
		if err != nil || m.NumFeatures() > 1<<16 {
			return
		}
		x := make([]float64, 3*m.NumFeatures())
		for i := range x {
			x[i] = []float64{math.NaN(), 0, -1e30, 1e30, math.Inf(1)}[i%5]
		}
		out := make([]float64, 3*m.OutputWidth())
		require.NoError(t, m.Predict(x, out))
	})
}
