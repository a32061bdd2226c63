package xgboost_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// parityTolerance is how far a prediction may be from XGBoost's own (issue 2).
const parityTolerance = 1e-5

// fixture is a <case>.cases.json file written by testdata/gen.py.
type fixture struct {
	Objective string       `json:"objective"`
	Rows      [][]*float64 `json:"rows"` // nil = missing
	Want      [][]float64  `json:"want"`
}

func loadFixture(t *testing.T, name string) (*xgboost.Model, []float64, fixture) {
	t.Helper()
	m, err := xgboost.LoadFile(filepath.Join("testdata", name+".json"))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join("testdata", name+".cases.json"))
	require.NoError(t, err)
	var fx fixture
	require.NoError(t, json.Unmarshal(data, &fx))
	require.NotEmpty(t, fx.Rows)
	x := make([]float64, 0, len(fx.Rows)*m.NumFeatures())
	for _, row := range fx.Rows {
		require.Len(t, row, m.NumFeatures())
		for _, v := range row {
			if v == nil {
				x = append(x, math.NaN())
			} else {
				x = append(x, *v)
			}
		}
	}
	return m, x, fx
}

func TestParityWithXGBoost(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.cases.json"))
	require.NoError(t, err)
	covered := map[string]bool{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".cases.json")
		t.Run(name, func(t *testing.T) {
			m, x, fx := loadFixture(t, name)
			assert.Equal(t, fx.Objective, m.Objective())
			covered[m.Objective()] = true
			out := make([]float64, len(fx.Rows)*m.OutputWidth())
			require.NoError(t, m.Predict(x, out))
			for r, want := range fx.Want {
				require.Len(t, want, m.OutputWidth())
				for k, w := range want {
					assert.InDelta(t, w, out[r*m.OutputWidth()+k], parityTolerance, "row %d output %d", r, k)
				}
			}
			// One row at a time must give the same numbers as the batch.
			one := make([]float64, m.OutputWidth())
			for r := range fx.Rows {
				require.NoError(t, m.Predict(x[r*m.NumFeatures():(r+1)*m.NumFeatures()], one))
				assert.Equal(t, out[r*m.OutputWidth():(r+1)*m.OutputWidth()], one, "row %d alone", r)
			}
		})
	}
	for _, obj := range []string{"reg:squarederror", "reg:logistic", "binary:logistic", "binary:logitraw",
		"multi:softmax", "multi:softprob", "count:poisson"} {
		assert.True(t, covered[obj], "no parity fixture for %s", obj)
	}
}

func TestParityFixturesHaveMissingValues(t *testing.T) {
	_, x, _ := loadFixture(t, "binary_logistic")
	missing := 0
	for _, v := range x {
		if math.IsNaN(v) {
			missing++
		}
	}
	assert.Greater(t, missing, 5, "the parity rows must exercise default directions")
}

// TestUBJSONParity checks models saved as UBJSON predict exactly what the same models saved as
// JSON do, and so what XGBoost does.
func TestUBJSONParity(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.ubj"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".ubj")
		t.Run(name, func(t *testing.T) {
			fromJSON, x, fx := loadFixture(t, name)
			m, err := xgboost.LoadFile(p)
			require.NoError(t, err)
			assert.Equal(t, fromJSON.Objective(), m.Objective())
			assert.Equal(t, fromJSON.Booster(), m.Booster())
			assert.Equal(t, fromJSON.FeatureNames(), m.FeatureNames())
			want := make([]float64, len(fx.Rows)*m.OutputWidth())
			got := make([]float64, len(want))
			require.NoError(t, fromJSON.Predict(x, want))
			require.NoError(t, m.Predict(x, got))
			assert.Equal(t, want, got)
			for r, w := range fx.Want {
				assert.InDeltaSlice(t, w, got[r*m.OutputWidth():(r+1)*m.OutputWidth()], parityTolerance, "row %d", r)
			}
		})
	}
}
