package server_test

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// builtinCase is one <case>.cases.json of testdata/builtin, written by gen_builtin.py with real
// XGBoost: the rows, each fold's predict(), their combination as the built-in container makes it,
// and the response bodies Python's json and csv modules write for it.
type builtinCase struct {
	XGBoost   string       `json:"xgboost"`
	Objective string       `json:"objective"`
	Files     []string     `json:"files"`
	Rows      [][]*float64 `json:"rows"`
	PerFold   [][]any      `json:"per_fold"`
	Combined  []any        `json:"combined"`
	Bodies    map[string]string
}

// extractTarGz unpacks a model.tar.gz into a new directory, as SageMaker does into /opt/ml/model.
func extractTarGz(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	dir := t.TempDir()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(h.Name)), data, 0o644))
	}
}

func csvBody(rows [][]*float64) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteByte(',')
			}
			if v != nil {
				b.WriteString(strconv.FormatFloat(*v, 'g', -1, 64))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func libsvmBody(t *testing.T, rows [][]*float64) string {
	t.Helper()
	var b strings.Builder
	zero := false
	for _, r := range rows {
		b.WriteString("0")
		for i, v := range r {
			if v != nil {
				zero = zero || i == 0
				b.WriteString(" " + strconv.Itoa(i) + ":" + strconv.FormatFloat(*v, 'g', -1, 64))
			}
		}
		b.WriteByte('\n')
	}
	require.True(t, zero, "some row must name column 0")
	return b.String()
}

// recordIOBody writes each row as the SDK's RecordSerializer does for a float64 numpy array:
// a dense float64 tensor under features["values"], NaN for a missing value.
func recordIOBody(t *testing.T, rows [][]*float64) string {
	t.Helper()
	var b []byte
	for _, r := range rows {
		vals := make([]float64, len(r))
		for i, v := range r {
			vals[i] = math.NaN()
			if v != nil {
				vals[i] = *v
			}
		}
		payload, err := proto.Marshal(&recordpb.Record{Features: map[string]*recordpb.Value{
			"values": {Value: &recordpb.Value_Float64Tensor{Float64Tensor: &recordpb.Float64Tensor{Values: vals}}}}})
		require.NoError(t, err)
		b = recordio.AppendRecord(b, payload)
	}
	return string(b)
}

func jsonLinesBody(rows [][]*float64) string {
	var b strings.Builder
	for _, r := range rows {
		line, _ := json.Marshal(r) // nil is null, a missing value
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func post(t *testing.T, url, contentType, accept, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/invocations", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// TestBuiltinArtifactServesAsTheBuiltinContainer serves each built-in-style model.tar.gz
// (k-fold and single, XGBoost 1.7.4's legacy binary and 3.4.1's UBJSON) through the HTTP server
// and requires the bytes the built-in container answers.
func TestBuiltinArtifactServesAsTheBuiltinContainer(t *testing.T) {
	cases, err := filepath.Glob("testdata/builtin/xgb-*/*.cases.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 10)
	for _, path := range cases {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(path, "testdata/builtin/"), ".cases.json"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			var tc builtinCase
			require.NoError(t, json.Unmarshal(data, &tc))
			dir := extractTarGz(t, strings.TrimSuffix(path, ".cases.json")+".model.tar.gz")
			m, err := model.Load(dir)
			require.NoError(t, err)
			info := m.Info()
			require.True(t, info.Builtin, "xgboost-model files switch compat mode on")
			require.Equal(t, len(tc.Files), info.Ensemble)
			require.Equal(t, tc.Objective, info.Objective)

			body := csvBody(tc.Rows)
			ts := httptest.NewServer(newServer(t, m, server.Options{Compat: &server.Compat{}}))
			defer ts.Close()
			for _, accept := range []string{"", "*/*", "text/csv", "application/json", "application/json; verbose=True"} {
				want, wantType := tc.Bodies["text/csv"], "text/csv"
				if strings.HasPrefix(accept, "application/json") {
					want, wantType = tc.Bodies["application/json"], "application/json"
				}
				resp, got := post(t, ts.URL, "text/csv", accept, body)
				require.Equal(t, http.StatusOK, resp.StatusCode, got)
				assert.Equal(t, wantType, resp.Header.Get("Content-Type"), "Accept %q", accept)
				assertBody(t, tc.Objective, want, got, "Accept %q", accept)
			}

			// The same rows in the built-in container's other request types answer the same. The
			// libsvm body names column 0 somewhere, so the container's 1-based shift
			// (serve_utils.py:111-113) does not apply and both read indices from 0.
			for _, in := range []struct{ contentType, body string }{
				{"text/libsvm", libsvmBody(t, tc.Rows)}, {"text/x-libsvm", libsvmBody(t, tc.Rows)},
				{"application/jsonlines", jsonLinesBody(tc.Rows)}, {"application/x-recordio-protobuf", recordIOBody(t, tc.Rows)}, {"text/csv; label_size=1", body},
			} {
				resp, got := post(t, ts.URL, in.contentType, "", in.body)
				require.Equal(t, http.StatusOK, resp.StatusCode, got)
				assertBody(t, tc.Objective, tc.Bodies["text/csv"], got, "Content-Type %s", in.contentType)
			}

			// recordio-protobuf: one Record per row, the score under label "score".
			resp, got := post(t, ts.URL, "text/csv", "application/x-recordio-protobuf", body)
			require.Equal(t, http.StatusOK, resp.StatusCode, got)
			rd := recordio.NewReader(strings.NewReader(got))
			for i, want := range tc.Combined {
				payload, err := rd.Next()
				require.NoError(t, err, "record %d", i)
				var rec recordpb.Record
				require.NoError(t, proto.Unmarshal(payload, &rec))
				gotScores := rec.Label["score"].GetFloat32Tensor().GetValues()
				assertFloats(t, tc.Objective, float32s(want), gotScores, "record %d", i)
			}

			batch := httptest.NewServer(newServer(t, m, server.Options{Compat: &server.Compat{Batch: true}}))
			defer batch.Close()
			for _, accept := range []string{"text/csv", "application/json"} {
				resp, got := post(t, batch.URL, "text/csv", accept, body)
				require.Equal(t, http.StatusOK, resp.StatusCode, got)
				assertBody(t, tc.Objective, tc.Bodies["batch"], got, "SAGEMAKER_BATCH, Accept %s: one line per row", accept)
			}

			// SAGEMAKER_INFERENCE_ENSEMBLE=false serves the first fold alone.
			first, err := model.LoadWith(dir, model.LoadOptions{NoEnsemble: true})
			require.NoError(t, err)
			require.Equal(t, 1, first.Info().Ensemble)
			one := httptest.NewServer(newServer(t, first, server.Options{Compat: &server.Compat{DefaultAccept: "application/json"}}))
			defer one.Close()
			resp, got = post(t, one.URL, "text/csv", "", body)
			require.Equal(t, http.StatusOK, resp.StatusCode, got)
			var js struct {
				Predictions []struct{ Score any } `json:"predictions"`
			}
			require.NoError(t, json.Unmarshal([]byte(got), &js), got)
			require.Len(t, js.Predictions, len(tc.Rows))
			for i, p := range js.Predictions {
				assertFloats(t, tc.Objective, float32s(tc.PerFold[0][i]), float32s(p.Score), "row %d", i)
			}
		})
	}
}

// softmaxULPs is how far the server's multi:softprob probabilities may be from XGBoost's: its
// softmax rounds differently in the last bit of a float32 for a few values (the per-version
// parity tests of inference/model/xgboost allow 1e-5). Every other objective must match to the byte.
const softmaxTolerance = 3e-7

var number = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?(e[-+][0-9]+)?`)

// assertBody requires got to be want byte for byte, or for multi:softprob the same text with
// every number within softmaxTolerance.
func assertBody(t *testing.T, objective, want, got string, msgAndArgs ...any) {
	t.Helper()
	if objective != "multi:softprob" {
		assert.Equal(t, want, got, msgAndArgs...)
		return
	}
	assert.Equal(t, number.ReplaceAllString(want, "N"), number.ReplaceAllString(got, "N"), msgAndArgs...)
	w, g := number.FindAllString(want, -1), number.FindAllString(got, -1)
	require.Len(t, g, len(w))
	for i := range w {
		a, _ := strconv.ParseFloat(w[i], 64)
		b, _ := strconv.ParseFloat(g[i], 64)
		assert.InDelta(t, a, b, softmaxTolerance, msgAndArgs...)
	}
}

func assertFloats(t *testing.T, objective string, want, got []float32, msgAndArgs ...any) {
	t.Helper()
	if objective != "multi:softprob" {
		assert.Equal(t, want, got, msgAndArgs...)
		return
	}
	require.Len(t, got, len(want), msgAndArgs...)
	for i := range want {
		assert.InDelta(t, want[i], got[i], softmaxTolerance, msgAndArgs...)
	}
}

func float32s(v any) []float32 {
	switch x := v.(type) {
	case float64:
		return []float32{float32(x)}
	case []any:
		out := make([]float32, len(x))
		for i, e := range x {
			out[i] = float32(e.(float64))
		}
		return out
	}
	return []float32{float32(math.NaN())}
}
