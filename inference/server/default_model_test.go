package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// These tests serve the real embedded default model (iris, XGBoost multi:softprob), so that
// the server and the model package are checked together.

func defaultServer(t *testing.T) *server.Server {
	t.Helper()
	m, err := model.Default()
	require.NoError(t, err)
	return newServer(t, m, server.Options{})
}

func TestDefaultModelPredictions(t *testing.T) {
	s := defaultServer(t)
	tests := []struct {
		name, body string
		labels     []string
	}{
		{"arrays", `{"instances":[[5.1,3.5,1.4,0.2],[5.9,3.0,4.2,1.5],[6.7,3.0,5.2,2.3]]}`, []string{"setosa", "versicolor", "virginica"}},
		{"by name", `{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}`, []string{"setosa"}},
		{"all missing", `{"instances":[[null,null,null,null],{"petal_width":null}]}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := invokeJSON(s, tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var got struct {
				Predictions []struct {
					Label         string    `json:"label"`
					Probabilities []float64 `json:"probabilities"`
				} `json:"predictions"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			for i, p := range got.Predictions {
				require.Len(t, p.Probabilities, 3)
				assert.InDelta(t, 1, p.Probabilities[0]+p.Probabilities[1]+p.Probabilities[2], 1e-6, "probabilities sum to 1")
				if tc.labels != nil {
					assert.Equal(t, tc.labels[i], p.Label)
				}
			}
			if tc.labels == nil {
				require.Len(t, got.Predictions, 2)
				assert.Equal(t, got.Predictions[0], got.Predictions[1], "a row of nulls and an object of one null are the same missing row")
			}
		})
	}
}

func TestDefaultModelCSVMatchesJSON(t *testing.T) {
	s := defaultServer(t)
	csv := request(s, http.MethodPost, "/invocations", "text/csv", "text/csv", "6.7,3.0,5.2,2.3\n")
	require.Equal(t, http.StatusOK, csv.Code)
	js := invokeJSON(s, `{"instances":[[6.7,3.0,5.2,2.3]]}`)
	require.Equal(t, http.StatusOK, js.Code)
	var got struct {
		Predictions []struct {
			Probabilities []json.Number `json:"probabilities"`
		} `json:"predictions"`
	}
	require.NoError(t, json.Unmarshal(js.Body.Bytes(), &got))
	p := got.Predictions[0].Probabilities
	assert.Equal(t, string(p[0])+","+string(p[1])+","+string(p[2])+"\n", csv.Body.String())
}

func TestDefaultModelOpenAPI(t *testing.T) {
	w := request(defaultServer(t), http.MethodGet, "/openapi.json", "", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.Equal(t, []any{"sepal_length", "sepal_width", "petal_length", "petal_width"}, at(doc, "x-model.features"))
	assert.Equal(t, []any{"setosa", "versicolor", "virginica"}, at(doc, "components.schemas.Prediction.properties.label.enum"))
	assert.Equal(t, "multi:softprob", at(doc, "x-model.objective"))
}

func TestPingAnswersHead(t *testing.T) {
	w := request(defaultServer(t), http.MethodHead, "/ping", "", "", "")
	assert.Equal(t, http.StatusOK, w.Code)
}

// TestDefaultModelRowLimit: an iris JSON row's answer is at most
// {"label":"versicolor","probabilities":[p,p,p]}, with p up to 24 bytes, plus a comma: 116
// bytes; (6291456-19)/116 = 54236 rows fit in 6 MiB. In CSV a row is 3*25 = 75 bytes: 83886.
// The page at /docs says so, and one row more is refused.
func TestDefaultModelRowLimit(t *testing.T) {
	s := defaultServer(t)
	w := request(s, http.MethodGet, "/docs", "", "", "")
	assert.Contains(t, w.Body.String(), "at most 54236 rows for a JSON answer, 83886 for a CSV one")

	w = request(s, http.MethodPost, "/invocations", "text/csv", "", strings.Repeat("6.7,3.0,5.2,2.3\n", 54236))
	require.Equal(t, http.StatusOK, w.Code)
	assert.LessOrEqual(t, w.Body.Len(), server.DefaultMaxResponseBytes)
	msg := requireError(t, request(s, http.MethodPost, "/invocations", "text/csv", "", strings.Repeat("6.7,3.0,5.2,2.3\n", 54237)),
		http.StatusRequestEntityTooLarge, server.CodeTooManyRows)
	assert.Contains(t, msg, "send at most 54236 rows per request (83886 with Accept: text/csv)")
}
