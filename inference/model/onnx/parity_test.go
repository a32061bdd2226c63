//go:build onnx

package onnx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// expected is a fixture's <name>.expected.json, written by testdata/gen.py from the training
// library's own predict_proba / predict / forward.
type expected struct {
	Rows    [][]float64       `json:"rows"`
	Proba   [][]float64       `json:"proba"`   // classifiers
	Predict []json.RawMessage `json:"predict"` // labels for classifiers; values or vectors otherwise
	Classes []any             `json:"classes"`
}

func readExpected(t testing.TB, name string) expected {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".expected.json"))
	require.NoError(t, err)
	var e expected
	require.NoError(t, json.Unmarshal(data, &e))
	require.NotEmpty(t, e.Rows)
	return e
}

// serve loads the fixture directory with model.Load, as the server's start-up does, and serves
// it over HTTP on 127.0.0.1.
func serve(t *testing.T, dir string) (*httptest.Server, model.Info) {
	t.Helper()
	m, err := model.Load(dir)
	require.NoError(t, err)
	srv, err := server.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), m, server.Options{})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, m.Info()
}

func post(t *testing.T, url, contentType, accept string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/invocations", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	return b
}

func jsonBody(t *testing.T, rows [][]float64) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"instances": rows})
	require.NoError(t, err)
	return b
}

func csvBody(rows [][]float64) []byte {
	var b []byte
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, '\n')
	}
	return b
}

func parseCSV(t *testing.T, body []byte) [][]float64 {
	t.Helper()
	var rows [][]float64
	for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		var row []float64
		for _, f := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(f, 64)
			require.NoError(t, err, "CSV answer %q", line)
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

// within is the tolerance: 1e-5 absolute, or 1e-4 relative for float32 networks.
type within func(got, want float64) bool

func abs1e5(got, want float64) bool { return math.Abs(got-want) <= 1e-5 }

func rel1e4(got, want float64) bool { return math.Abs(got-want) <= 1e-4*math.Abs(want)+1e-6 }

func assertRow(t *testing.T, ok within, got, want []float64, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		if !ok(got[i], want[i]) {
			t.Errorf("%s, value %d: got %v, want %v (diff %g)", what, i, got[i], want[i], got[i]-want[i])
		}
	}
}

func labelOf(raw json.RawMessage) any {
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
}

var classifiers = []struct {
	name    string
	classes []string // what the server must take from the graph; nil: labels are indices
}{
	{"rf_iris", []string{"setosa", "versicolor", "virginica"}},
	{"rf_breast_cancer_zipmap", []string{"benign", "malignant"}},
	{"gb_iris", nil},
	{"logreg_iris_zipmap", nil},
	{"pipeline_wine", []string{"class_0", "class_1", "class_2"}},
	{"lightgbm_multiclass", nil}, // LightGBM's own predictions of its own model
}

// TestClassifierParity: every scikit-learn classifier fixture through the HTTP server, JSON and
// CSV, against predict_proba and predict.
func TestClassifierParity(t *testing.T) {
	for _, tc := range classifiers {
		t.Run(tc.name, func(t *testing.T) {
			e := readExpected(t, tc.name)
			ts, info := serve(t, filepath.Join("testdata", tc.name))
			assert.Equal(t, model.MultiProba, info.Task)
			assert.Equal(t, tc.classes, info.Classes)
			assert.Equal(t, len(e.Proba[0]), info.NumClasses)

			var resp struct {
				Predictions []struct {
					Label         any       `json:"label"`
					Probabilities []float64 `json:"probabilities"`
				} `json:"predictions"`
			}
			require.NoError(t, json.Unmarshal(post(t, ts.URL, "application/json", "application/json", jsonBody(t, e.Rows)), &resp))
			require.Len(t, resp.Predictions, len(e.Rows))
			for i, p := range resp.Predictions {
				assertRow(t, abs1e5, p.Probabilities, e.Proba[i], fmt.Sprintf("JSON row %d", i+1))
				want := labelOf(e.Predict[i])
				if n, ok := want.(float64); ok {
					assert.Equal(t, n, p.Label, "JSON row %d label", i+1)
				} else {
					assert.Equal(t, want, p.Label, "JSON row %d label", i+1)
				}
			}

			got := parseCSV(t, post(t, ts.URL, "text/csv", "text/csv", csvBody(e.Rows)))
			require.Len(t, got, len(e.Rows))
			for i := range got {
				assertRow(t, abs1e5, got[i], e.Proba[i], fmt.Sprintf("CSV row %d", i+1))
			}
		})
	}
}

// TestValueParity: regressors and networks, whose outputs are one value ({"value"}) or a vector
// ({"values"}) per row.
func TestValueParity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		task  model.Task
		width int
		ok    within
	}{
		{"gbr_diabetes", model.Regression, 1, abs1e5},
		{"torch_mlp_iris", model.Values, 3, rel1e4},
		{"torch_mlp_wide", model.Values, 8, rel1e4},
		{"torch_conv_grid", model.Regression, 1, rel1e4},
		{"int64_linear", model.Regression, 1, abs1e5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := readExpected(t, tc.name)
			ts, info := serve(t, filepath.Join("testdata", tc.name))
			assert.Equal(t, tc.task, info.Task)
			assert.Equal(t, tc.width, info.OutputWidth)
			want := make([][]float64, len(e.Predict))
			for i, raw := range e.Predict {
				var v any
				require.NoError(t, json.Unmarshal(raw, &v))
				switch v := v.(type) {
				case float64:
					want[i] = []float64{v}
				case []any:
					for _, x := range v {
						want[i] = append(want[i], x.(float64))
					}
				}
			}

			body := post(t, ts.URL, "application/json", "application/json", jsonBody(t, e.Rows))
			var resp struct {
				Predictions []struct {
					Value  *float64  `json:"value"`
					Values []float64 `json:"values"`
				} `json:"predictions"`
			}
			require.NoError(t, json.Unmarshal(body, &resp))
			require.Len(t, resp.Predictions, len(e.Rows))
			for i, p := range resp.Predictions {
				got := p.Values
				if tc.width == 1 {
					require.NotNil(t, p.Value, "JSON row %d: %s", i+1, body)
					got = []float64{*p.Value}
				}
				assertRow(t, tc.ok, got, want[i], fmt.Sprintf("JSON row %d", i+1))
			}
			csv := parseCSV(t, post(t, ts.URL, "text/csv", "text/csv", csvBody(e.Rows)))
			require.Len(t, csv, len(e.Rows))
			for i := range csv {
				assertRow(t, tc.ok, csv[i], want[i], fmt.Sprintf("CSV row %d", i+1))
			}
		})
	}
}

// TestTensorInputParity: torch networks whose inputs are images ([N, 3, 8, 8]) or several
// tensors, through the HTTP server in every body form: JSON nested in the input's shape, JSON
// objects keyed by input name, flat JSON rows and CSV, against torch's own forward().
func TestTensorInputParity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inputs []model.Input
		nested bool // one input: instances may be the tensors themselves
	}{
		{"torch_conv_image", []model.Input{{Name: "image", Type: "float32", Shape: []int{3, 8, 8}}}, true},
		{"torch_two_inputs", []model.Input{{Name: "image", Type: "float32", Shape: []int{2, 4, 4}},
			{Name: "meta", Type: "float32", Shape: []int{3}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.name+".expected.json"))
			require.NoError(t, err)
			var e struct {
				Rows    [][]float64                `json:"rows"`
				Inputs  map[string]json.RawMessage `json:"inputs"`
				Predict [][]float64                `json:"predict"`
			}
			require.NoError(t, json.Unmarshal(data, &e))
			ts, info := serve(t, filepath.Join("testdata", tc.name))
			assert.Equal(t, tc.inputs, info.Inputs)
			assert.Equal(t, len(e.Rows[0]), info.NumFeatures)

			perInput := map[string][]json.RawMessage{}
			for name, raw := range e.Inputs {
				var rows []json.RawMessage
				require.NoError(t, json.Unmarshal(raw, &rows))
				perInput[name] = rows
			}
			named := make([]map[string]json.RawMessage, len(e.Rows))
			for i := range named {
				named[i] = map[string]json.RawMessage{}
				for name, rows := range perInput {
					named[i][name] = rows[i]
				}
			}
			bodies := map[string][]byte{"flat JSON": jsonBody(t, e.Rows)}
			b, err := json.Marshal(map[string]any{"instances": named})
			require.NoError(t, err)
			bodies["JSON objects by input name"] = b
			if tc.nested {
				b, err := json.Marshal(map[string]any{"instances": perInput[tc.inputs[0].Name]})
				require.NoError(t, err)
				bodies["nested JSON"] = b
			}
			for form, body := range bodies {
				var resp struct {
					Predictions []struct {
						Values []float64 `json:"values"`
					} `json:"predictions"`
				}
				require.NoError(t, json.Unmarshal(post(t, ts.URL, "application/json", "application/json", body), &resp), form)
				require.Len(t, resp.Predictions, len(e.Predict), form)
				for i, p := range resp.Predictions {
					assertRow(t, rel1e4, p.Values, e.Predict[i], fmt.Sprintf("%s, row %d", form, i+1))
				}
			}
			got := parseCSV(t, post(t, ts.URL, "text/csv", "text/csv", csvBody(e.Rows)))
			require.Len(t, got, len(e.Predict))
			for i := range got {
				assertRow(t, rel1e4, got[i], e.Predict[i], fmt.Sprintf("CSV row %d", i+1))
			}
		})
	}
}

// TestTensorInputShapeError: a nested instance that does not match the graph's declared input
// shape is a 400 naming the input, the index path and the counts.
func TestTensorInputShapeError(t *testing.T) {
	ts, _ := serve(t, filepath.Join("testdata", "torch_conv_image"))
	row := make([][][]float64, 3)
	for c := range row {
		row[c] = make([][]float64, 8)
		for y := range row[c] {
			row[c][y] = make([]float64, 8)
		}
	}
	row[2][5] = row[2][5][:7]
	body, err := json.Marshal(map[string]any{"instances": [][][][]float64{row}})
	require.NoError(t, err)
	resp, err := http.Post(ts.URL+"/invocations", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(msg), `instances[0][2][5]: input \"image\" has shape [N, 3, 8, 8]: expected 8 values here, got 7`)
}

// TestTensorInputsBatched: with batching on, concurrent requests of the two-input network, each
// one row written by input name, share batches (2ms to gather, up to 8 rows) and each gets its
// own row's torch output: the batcher splits and joins rows of several inputs correctly.
func TestTensorInputsBatched(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "torch_two_inputs.expected.json"))
	require.NoError(t, err)
	var e struct {
		Inputs  map[string][]json.RawMessage `json:"inputs"`
		Predict [][]float64                  `json:"predict"`
	}
	require.NoError(t, json.Unmarshal(data, &e))
	ts, _ := serve(t, withManifest(t, "torch_two_inputs", map[string]any{"onnx": map[string]any{"max_batch_size": 8, "max_delay": "2ms"}}))
	var wg sync.WaitGroup
	for i := range e.Predict {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := json.Marshal(map[string]any{"instances": []map[string]json.RawMessage{{"meta": e.Inputs["meta"][i], "image": e.Inputs["image"][i]}}})
			require.NoError(t, err)
			var resp struct {
				Predictions []struct {
					Values []float64 `json:"values"`
				} `json:"predictions"`
			}
			require.NoError(t, json.Unmarshal(post(t, ts.URL, "application/json", "application/json", body), &resp))
			require.Len(t, resp.Predictions, 1)
			assertRow(t, rel1e4, resp.Predictions[0].Values, e.Predict[i], fmt.Sprintf("row %d", i+1))
		}()
	}
	wg.Wait()
}
