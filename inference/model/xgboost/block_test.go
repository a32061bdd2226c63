package xgboost_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// TestBatchBlocksMatchRowByRow checks the batch path (eight rows per tree walk, predict.go)
// bit for bit against one row at a time (the single-row path), for row counts around the block
// size, binary and multi-class, rows on and off the stack buffers.
func TestBatchBlocksMatchRowByRow(t *testing.T) {
	for _, tc := range []struct{ trees, depth, features, classes, rows int }{
		{100, 6, 20, 0, 1003},
		{30, 3, 4, 3, 17},
		{12, 4, 300, 0, 16}, // a row wider than the stack buffer
		{80, 2, 6, 40, 9},   // more classes than the stack buffer
		{7, 5, 5, 0, 8},
	} {
		t.Run(fmt.Sprintf("trees=%d/classes=%d/rows=%d", tc.trees, tc.classes, tc.rows), func(t *testing.T) {
			m, err := xgboost.Parse(syntheticMulti(t, tc.trees, tc.depth, tc.features, tc.classes))
			require.NoError(t, err)
			w, nf := m.OutputWidth(), m.NumFeatures()
			x := benchRows(tc.rows, tc.features)
			batch := make([]float64, tc.rows*w)
			require.NoError(t, m.Predict(x, batch))
			one := make([]float64, w)
			for r := range tc.rows {
				require.NoError(t, m.Predict(x[r*nf:(r+1)*nf], one))
				for k := range one {
					assert.Equal(t, math.Float64bits(one[k]), math.Float64bits(batch[r*w+k]), "row %d output %d", r, k)
				}
			}
		})
	}
}
