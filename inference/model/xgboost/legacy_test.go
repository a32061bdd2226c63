package xgboost_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

// legacyCase is a <case>.cases.json written by testdata/legacy/gen_legacy.py.
type legacyCase struct {
	Objective string              `json:"objective"`
	Booster   string              `json:"booster"`
	Forms     map[string][]string `json:"forms"` // file -> the feature names it carries
	Rows      [][]*float64        `json:"rows"`  // nil = missing
	Want      [][]float64         `json:"want"`
}

func legacyCases(t *testing.T) map[string]legacyCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "legacy", "*.cases.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	cases := map[string]legacyCase{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var c legacyCase
		require.NoError(t, json.Unmarshal(data, &c))
		require.NotEmpty(t, c.Rows)
		require.Len(t, c.Want, len(c.Rows))
		cases[strings.TrimSuffix(filepath.Base(p), ".cases.json")] = c
	}
	return cases
}

func (c legacyCase) x() []float64 {
	var x []float64
	for _, row := range c.Rows {
		for _, v := range row {
			if v == nil {
				x = append(x, math.NaN())
			} else {
				x = append(x, *v)
			}
		}
	}
	return x
}

// TestLegacyParity loads every binary model and pickle XGBoost 1.7.4 wrote (and the 0.90 and
// 1.0 layouts the generator built and XGBoost 1.7.4 read back) and checks that each predicts
// what XGBoost's predict() returned, through the same evaluator as the JSON model.
func TestLegacyParity(t *testing.T) {
	boosters := map[string]bool{}
	formsSeen := map[string]bool{}
	for name, c := range legacyCases(t) {
		files := make([]string, 0, len(c.Forms))
		for f := range c.Forms {
			files = append(files, f)
		}
		sort.Strings(files)
		for _, file := range files {
			t.Run(file, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join("testdata", "legacy", file))
				require.NoError(t, err)
				m, err := xgboost.Parse(data)
				require.NoError(t, err)
				boosters[c.Booster] = true
				formsSeen[strings.TrimPrefix(file, name)] = true
				assert.Equal(t, c.Objective, m.Objective())
				assert.Equal(t, c.Booster, m.Booster())
				assert.Equal(t, nilIfEmpty(c.Forms[file]), m.FeatureNames(), "feature names")
				x := c.x()
				w := m.OutputWidth()
				out := make([]float64, len(c.Rows)*w)
				require.NoError(t, m.Predict(x, out))
				for r, want := range c.Want {
					require.Len(t, want, w)
					assert.InDeltaSlice(t, want, out[r*w:(r+1)*w], parityTolerance, "row %d", r)
				}

				// The same booster saved as JSON by XGBoost gives the same numbers exactly.
				fromJSON, err := xgboost.LoadFile(filepath.Join("testdata", "legacy", name+".json"))
				require.NoError(t, err)
				same := make([]float64, len(out))
				require.NoError(t, fromJSON.Predict(x, same))
				if strings.Contains(file, ".v090.") {
					// base_score was stored in margin space and goes through the objective's
					// transform and back, as XGBoost does, which may move its last bit.
					assert.InDeltaSlice(t, same, out, 1e-6)
				} else {
					assert.Equal(t, same, out)
				}
			})
		}
	}
	for _, b := range []string{"gbtree", "dart"} {
		assert.True(t, boosters[b], "no legacy fixture with booster %s", b)
	}
	for _, f := range []string{".model", ".pkl", ".p2.pkl", ".p5.pkl", ".v090.model", ".v090.pkl", ".v100.pkl", ".v140.pkl"} {
		assert.True(t, formsSeen[f], "no legacy fixture of the form %s", f)
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestDetectFormat checks every form is recognised by its content alone.
func TestDetectFormat(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"legacy/binary_logistic.model", xgboost.FormatBinary},
		{"legacy/binary_logistic.v090.model", xgboost.FormatBinary},
		{"legacy/gblinear_squarederror.model", xgboost.FormatBinary},
		{"legacy/binary_logistic.pkl", xgboost.FormatPickle},
		{"legacy/binary_logistic.p2.pkl", xgboost.FormatPickle},
		{"legacy/binary_logistic.p5.pkl", xgboost.FormatPickle},
		{"legacy/binary_logistic.v090.pkl", xgboost.FormatPickle},
		{"legacy/binary_logistic.v100.pkl", xgboost.FormatPickle},
		{"legacy/binary_logistic.v140.pkl", xgboost.FormatPickle},
		{"legacy/binary_logistic.json", xgboost.Format},
		{"binary_logistic.ubj", xgboost.FormatUBJSON},
		{"legacy/gen_legacy.py", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			assert.Equal(t, tc.want, xgboost.DetectFormat(data[:min(len(data), 4096)]))
		})
	}
}
