package xgboost

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBinaryMatchesXGBoostJSON checks the binary reader field by field: for each fixture, the
// JSON it makes from <case>.model must equal what XGBoost 1.7.4 itself saved for the same
// booster as <case>.json, every node statistic included. That covers the fields prediction does
// not use too, which pins every offset of every struct. What the binary format does not store
// is left out of the comparison: feature names and types, the patch version and gblinear's
// boosted_rounds.
func TestBinaryMatchesXGBoostJSON(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "legacy", "*.model"))
	require.NoError(t, err)
	n := 0
	for _, p := range paths {
		if strings.Contains(p, ".v090.") {
			continue
		}
		n++
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			got, err := binaryToJSON(data)
			require.NoError(t, err)
			want, err := os.ReadFile(strings.TrimSuffix(p, ".model") + ".json")
			require.NoError(t, err)

			g, w := decodeNumbers(t, got), decodeNumbers(t, want)
			for _, doc := range []map[string]any{g, w} {
				l := doc["learner"].(map[string]any)
				delete(l, "feature_names")
				delete(l, "feature_types")
				doc["version"] = doc["version"].([]any)[:2]
				if gb := l["gradient_booster"].(map[string]any); gb["name"] == "gblinear" {
					delete(gb["model"].(map[string]any), "boosted_rounds")
				}
			}
			assert.Equal(t, w, g)
		})
	}
	assert.Equal(t, 6, n, "one binary model per generated case")
}

// decodeNumbers decodes JSON with every number as the float32 it stands for (XGBoost writes
// float32 values), so that two spellings of one float32 compare equal. XGBoost writes its
// integer parameters as strings; those are compared as written.
func decodeNumbers(t *testing.T, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v map[string]any
	require.NoError(t, d.Decode(&v))
	var walk func(any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = walk(e)
			}
		case []any:
			for i, e := range v {
				v[i] = walk(e)
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 32)
			require.NoError(t, err)
			return float32(f)
		case string:
			// base_score: "5E-1" from XGBoost, "0.5" from the reader.
			if f, err := strconv.ParseFloat(v, 32); err == nil && strings.ContainsAny(v, ".eE") {
				return float32(f)
			}
		}
		return v
	}
	walk(v)
	return v
}
