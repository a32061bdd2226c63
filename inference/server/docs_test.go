package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

func irisLike() *fakeModel {
	m := sumModel(4, "sepal_length", "sepal_width", "petal_length", "petal_width")
	m.info.Task, m.info.NumClasses, m.info.OutputWidth = model.MultiProba, 3, 3
	m.info.Classes = []string{"setosa", "versicolor", "virginica"}
	m.info.Description = "Iris species from flower measurements."
	return m
}

func TestOpenAPIDescribesTheModel(t *testing.T) {
	s := newServer(t, irisLike(), server.Options{MaxBodyBytes: 12345})
	w := request(s, http.MethodGet, "/openapi.json", "", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))

	assert.Equal(t, "3.1.0", doc["openapi"])
	assert.Equal(t, "Iris species from flower measurements.", at(doc, "info.description"))
	for _, p := range []string{"/ping", "/invocations", "/openapi.json", "/docs", "/metrics"} {
		assert.Contains(t, doc["paths"], p)
	}
	rows := "paths./invocations.post.requestBody.content.application/json.schema.properties.instances.items.oneOf"
	arrayRow := lookup(t, doc, rows+".0")
	assert.EqualValues(t, 4, arrayRow["minItems"])
	assert.EqualValues(t, 4, arrayRow["maxItems"])
	objectRow := lookup(t, doc, rows+".1")
	assert.ElementsMatch(t, []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}, keys(objectRow["properties"]))
	assert.Contains(t, lookup(t, doc, "paths./invocations.post.requestBody")["description"], "12345 bytes")

	prediction := lookup(t, doc, "components.schemas.Prediction")
	assert.ElementsMatch(t, []string{"label", "probabilities"}, prediction["required"])
	assert.Equal(t, []any{"setosa", "versicolor", "virginica"}, at(prediction, "properties.label.enum"))
	assert.EqualValues(t, 3, at(prediction, "properties.probabilities.maxItems"))
	for _, status := range []string{"200", "400", "406", "413", "415", "500", "503"} {
		assert.Contains(t, at(doc, "paths./invocations.post.responses"), status)
	}
}

func TestOpenAPIOutputShapeFollowsTheTask(t *testing.T) {
	tests := []struct {
		task     model.Task
		required []any
	}{
		{model.Regression, []any{"value"}},
		{model.Binary, []any{"label", "probability"}},
		{model.MultiClass, []any{"label"}},
	}
	for _, tc := range tests {
		t.Run(tc.task.String(), func(t *testing.T) {
			m := sumModel(2) // no feature names: array rows only
			m.info.Task = tc.task
			w := request(newServer(t, m, server.Options{}), http.MethodGet, "/openapi.json", "", "", "")
			var doc map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
			assert.Equal(t, tc.required, at(doc, "components.schemas.Prediction.required"))
			oneOf := at(doc, "paths./invocations.post.requestBody.content.application/json.schema.properties.instances.items.oneOf")
			assert.Len(t, oneOf, 1, "without feature names only array rows are accepted")
		})
	}
}

func TestDocsPageWorksOffline(t *testing.T) {
	s := newServer(t, irisLike(), server.Options{})
	w := request(s, http.MethodGet, "/docs", "", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
	page := w.Body.String()
	for _, want := range []string{"multiclass-probabilities", "setosa, versicolor, virginica", "petal_width",
		"POST /invocations", "text/csv", "&#34;openapi&#34;: &#34;3.1.0&#34;"} {
		assert.Contains(t, page, want)
	}
	// Nothing is fetched from elsewhere: no external scripts, styles, images or fonts.
	assert.Empty(t, regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindAllString(page, -1))
	assert.NotContains(t, strings.ToLower(page), "@import")
}

func TestMetrics(t *testing.T) {
	s := newServer(t, sumModel(2), server.Options{ModelLoadTime: 1500 * time.Millisecond})
	require.Equal(t, http.StatusOK, request(s, http.MethodPost, "/invocations", "text/csv", "", "1,2\n3,4\n5,6\n").Code)
	require.Equal(t, http.StatusOK, request(s, http.MethodPost, "/invocations", "text/csv", "", "1,2\n").Code)
	require.Equal(t, http.StatusBadRequest, request(s, http.MethodPost, "/invocations", "text/csv", "", "x\n").Code)
	require.Equal(t, http.StatusNotFound, request(s, http.MethodGet, "/nope", "", "", "").Code)

	w := request(s, http.MethodGet, "/metrics", "", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	text := w.Body.String()
	for _, want := range []string{
		`inference_requests_total{code="200",route="/invocations"} 2`,
		`inference_requests_total{code="400",route="/invocations"} 1`,
		`inference_requests_total{code="404",route="other"} 1`,
		`inference_request_duration_seconds_count{route="/invocations"} 3`,
		`inference_request_duration_seconds_bucket{route="/invocations",le="0.0001"}`,
		`inference_rows_predicted_total 4`,
		`inference_model_load_seconds 1.5`,
		`inference_model_info{format="fake",objective="reg:squarederror",source="test",task="regression"} 1`,
		`go_goroutines`,
	} {
		assert.Contains(t, text, want)
	}
}

// at walks a decoded JSON document along a dotted path of keys and array indices.
func at(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

func lookup(t *testing.T, doc map[string]any, path string) map[string]any {
	t.Helper()
	v, ok := at(doc, path).(map[string]any)
	require.True(t, ok, "%s is not an object in the document", path)
	return v
}

func keys(v any) []string {
	var ks []string
	for k := range v.(map[string]any) {
		ks = append(ks, k)
	}
	return ks
}

// TestMetricsCountAbortedRequests checks that a request whose client goes away mid-prediction,
// and so gets no answer, is counted as 499 rather than as a success.
func TestMetricsCountAbortedRequests(t *testing.T) {
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	m := sumModel(1)
	sum := m.predict
	m.predict = func(x, out []float64) error {
		hangUp() // the client disconnects while the first chunk of rows is predicted
		return sum(x, out)
	}
	s := newServer(t, m, server.Options{})
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/invocations", strings.NewReader(strings.Repeat("1\n", 1000)))
	r.Header.Set("Content-Type", "text/csv")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	require.Empty(t, w.Body.String(), "no one is left to answer")

	text := request(s, http.MethodGet, "/metrics", "", "", "").Body.String()
	assert.Contains(t, text, `inference_requests_total{code="499",route="/invocations"} 1`)
	assert.NotContains(t, text, `inference_requests_total{code="200",route="/invocations"}`)
	assert.Contains(t, text, `inference_rows_predicted_total 0`)
}
