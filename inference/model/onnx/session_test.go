//go:build onnx

package onnx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
)

// withManifest copies a fixture's model into a new directory with the given manifest.json.
func withManifest(t testing.TB, fixture string, manifest map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", fixture, "model.onnx"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), data, 0o644))
	if manifest != nil {
		b, err := json.Marshal(manifest)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, model.ManifestName), b, 0o644))
	}
	return dir
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}

// TestOpenAPIDescribesTheGraph: /openapi.json and /docs name the graph's real input and
// outputs, with their types and shapes, and the prediction schema follows the task.
func TestOpenAPIDescribesTheGraph(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    []string
		schema  string
	}{
		{"rf_breast_cancer_zipmap", []string{"from inferstack gen.py", "Input: input float64 [N, 30]", "label string [N]", "output_probability sequence (served)"}, "probabilities"},
		{"torch_mlp_iris", []string{"from pytorch", "Input: input float32 [N, 4]", "Outputs: output float32 [N, 3] (served)"}, "values"},
		{"torch_conv_grid", []string{"from pytorch", "Input: input float32 [N, 2, 3]", "output float32 [N, 1] (served)"}, "value"},
		{"int64_linear", []string{"from inferstack gen.py", "Input: counts int64 [N, 3]", "y float32 [N, 1] (served)"}, "value"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			ts, _ := serve(t, withManifest(t, tc.fixture, map[string]any{"description": "Made by gen.py."}))
			var doc struct {
				Info struct {
					Description string `json:"description"`
				} `json:"info"`
				Components struct {
					Schemas struct {
						Prediction struct {
							Required []string `json:"required"`
						} `json:"Prediction"`
					} `json:"schemas"`
				} `json:"components"`
				XModel map[string]any `json:"x-model"`
			}
			require.NoError(t, json.Unmarshal([]byte(get(t, ts.URL+"/openapi.json")), &doc))
			assert.True(t, strings.HasPrefix(doc.Info.Description, "Made by gen.py. ONNX model from "), doc.Info.Description)
			for _, w := range tc.want {
				assert.Contains(t, doc.Info.Description, w)
			}
			assert.Contains(t, doc.Components.Schemas.Prediction.Required, tc.schema)
			assert.Equal(t, "onnx", doc.XModel["format"])
			assert.Contains(t, get(t, ts.URL+"/metrics"), `inference_model_info{format="onnx"`)
			page := get(t, ts.URL+"/docs")
			assert.True(t, strings.Contains(page, tc.want[1]), "/docs does not name the input %q", tc.want[1])
		})
	}
}

// TestInt64InputRefusesNonIntegers: a value an int64 input cannot take is the client's 400,
// naming the row and feature, not a 500.
func TestInt64InputRefusesNonIntegers(t *testing.T) {
	ts, _ := serve(t, filepath.Join("testdata", "int64_linear"))
	for _, tc := range []struct{ body, want string }{
		{`{"instances":[[1,2,3],[4,5.5,6]]}`, `row 2, feature 2: 5.5 is not an integer; the model's input \"counts\" is int64`},
		{`{"instances":[[1,null,3]]}`, `row 1, feature 2: a missing value is not an integer`},
	} {
		resp, err := http.Post(ts.URL+"/invocations", "application/json", strings.NewReader(tc.body))
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
		assert.Contains(t, string(b), `"code":"invalid_value"`)
		assert.Contains(t, string(b), tc.want)
	}
}

func TestManifestSessionOptions(t *testing.T) {
	for _, opts := range []map[string]any{
		{"intra_op_threads": 1, "graph_optimization": "disabled"},
		{"graph_optimization": "basic", "max_batch_size": 32, "max_delay": "1ms"},
		{"graph_optimization": "extended", "intra_op_spinning": false},
	} {
		t.Run(fmt.Sprint(opts), func(t *testing.T) {
			e := readExpected(t, "rf_iris")
			m, err := model.Load(withManifest(t, "rf_iris", map[string]any{"onnx": opts}))
			require.NoError(t, err)
			out := make([]float64, 3)
			require.NoError(t, m.Predict(e.Rows[70], out))
			assertRow(t, abs1e5, out, e.Proba[70], "row 71")
		})
	}
	_, err := model.Load(withManifest(t, "rf_iris", map[string]any{"onnx": map[string]any{"graph_optimization": "max", "max_batch_size": -1}}))
	assert.ErrorContains(t, err, `onnx.graph_optimization "max": want one of disabled, basic, extended, all; onnx.max_batch_size -1`)
	_, err = model.Load(withManifest(t, "rf_iris", map[string]any{"onnx": map[string]any{"max_delay": 5}}))
	assert.ErrorContains(t, err, `want a duration string such as "2ms", found 5`)
}

// TestClassesFromManifestOverrideTheGraph: the manifest may rename classes, but not change
// their number.
func TestClassesFromManifestOverrideTheGraph(t *testing.T) {
	m, err := model.Load(withManifest(t, "gb_iris", map[string]any{"classes": []string{"a", "b", "c"}}))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, m.Info().Classes)
	_, err = model.Load(withManifest(t, "gb_iris", map[string]any{"classes": []string{"a", "b"}}))
	assert.ErrorContains(t, err, "classes has 2 names, but the model has 3 classes")
	_, err = model.Load(withManifest(t, "torch_mlp_iris", map[string]any{"classes": []string{"a", "b", "c"}}))
	assert.ErrorContains(t, err, "is not a classifier")
}

// TestBatchedServingUnderConcurrency is the issue's -race test with the real runtime: many
// clients at once through the HTTP server with batching on, each getting exactly the answers the
// unbatched model gives for its rows, to float32 rounding: ONNX Runtime sums trees and matrix
// products in an order that depends on the batch size (1.0000001 where a 1-row run gives 1).
// A row mixed up with another would be off by far more.
func TestBatchedServingUnderConcurrency(t *testing.T) {
	for _, fixture := range []string{"rf_iris", "torch_mlp_iris"} {
		t.Run(fixture, func(t *testing.T) {
			e := readExpected(t, fixture)
			plain, err := model.Load(filepath.Join("testdata", fixture))
			require.NoError(t, err)
			info := plain.Info()
			want := make([]float64, len(e.Rows)*info.OutputWidth)
			var flat []float64
			for _, r := range e.Rows {
				flat = append(flat, r...)
			}
			require.NoError(t, plain.Predict(flat, want))

			ts, _ := serve(t, withManifest(t, fixture, map[string]any{"onnx": map[string]any{"max_batch_size": 16, "max_delay": "1ms"}}))
			const clients, perClient = 24, 12
			var wg sync.WaitGroup
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perClient; i++ {
						first := (c*perClient + i*7) % (len(e.Rows) - 3)
						n := 1 + (c+i)%3
						rows := e.Rows[first : first+n]
						got := parseCSV(t, post(t, ts.URL, "text/csv", "text/csv", csvBody(rows)))
						for j, g := range got {
							w := want[(first+j)*info.OutputWidth : (first+j+1)*info.OutputWidth]
							assertRow(t, float32Rounding, g, w, fmt.Sprintf("client %d request %d row %d", c, i, first+j+1))
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestBatchedPredictKeepsItsDeadline: with batching on, a request whose context ends first gets
// its context's error, and the model keeps serving.
func TestBatchedPredictKeepsItsDeadline(t *testing.T) {
	m, err := model.Load(withManifest(t, "rf_iris", map[string]any{"onnx": map[string]any{"max_batch_size": 64, "max_delay": "200ms"}}))
	require.NoError(t, err)
	cp, ok := m.(model.ContextPredictor)
	require.True(t, ok, "an ONNX model predicts per request")
	e := readExpected(t, "rf_iris")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = cp.PredictContext(ctx, e.Rows[0], make([]float64, 3))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 150*time.Millisecond, "the request waited for max_delay instead of its deadline")
	out := make([]float64, 3)
	require.NoError(t, cp.PredictContext(context.Background(), e.Rows[0], out))
	assertRow(t, abs1e5, out, e.Proba[0], "row 1")
}

func float32Rounding(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want))
}
