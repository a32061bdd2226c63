package proxy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// inferenceServer is the real container server serving the embedded default model.
func inferenceServer(t *testing.T) (http.Handler, model.Info) {
	t.Helper()
	m, err := model.Default()
	require.NoError(t, err)
	s, err := server.NewServer(slog.New(slog.NewJSONHandler(io.Discard, nil)), m, server.Options{})
	require.NoError(t, err)
	return s, m.Info()
}

// direct asks the inference server itself, for comparison with what came through the proxy.
func direct(t *testing.T, h http.Handler, contentType, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestPredictionEndToEnd sends API Gateway events through the handler, the real AWS SDK clients,
// a fake of the SageMaker APIs and the real inference server: a real prediction comes out.
func TestPredictionEndToEnd(t *testing.T) {
	srv, info := inferenceServer(t)
	require.Equal(t, 4, info.NumFeatures, "the default model is iris")
	e := newEnv(t, cacheOn(), srv, nil)

	tests := []struct {
		name, contentType, body string
	}{
		{"json", "application/json", `{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}`},
		{"csv", "text/csv", "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, invocation(tc.body, map[string]string{"Content-Type": tc.contentType}))
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
			assert.Equal(t, "MISS", resp.Headers["X-Cache"])
			code, want := direct(t, srv, tc.contentType, tc.body)
			require.Equal(t, http.StatusOK, code)
			assert.Equal(t, want, resp.Body, "the proxy returns the model's answer unchanged")

			var got struct {
				Predictions []struct {
					Label         any       `json:"label"`
					Probabilities []float64 `json:"probabilities"`
				} `json:"predictions"`
			}
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
			require.Len(t, got.Predictions, 2)
			assert.Equal(t, "setosa", got.Predictions[0].Label, "a textbook setosa")
			assert.Equal(t, "virginica", got.Predictions[1].Label, "a textbook virginica")
			assert.Greater(t, got.Predictions[0].Probabilities[0], 0.5)

			again := e.do(t, invocation(tc.body, map[string]string{"Content-Type": tc.contentType}))
			assert.Equal(t, "HIT", again.Headers["X-Cache"])
			assert.Equal(t, resp.Body, again.Body)
		})
	}
}

func TestModelRejectionPassesThroughEndToEnd(t *testing.T) {
	srv, _ := inferenceServer(t)
	e := newEnv(t, cacheOn(), srv, nil)
	body := `{"instances":[[1,2,3]]}`
	resp := e.do(t, invocation(body, nil))
	code, want := direct(t, srv, "application/json", body)
	require.GreaterOrEqual(t, code, 400)
	require.Less(t, code, 500)
	assert.Equal(t, code, resp.StatusCode, "the container's own status")
	assert.Equal(t, want, resp.Body, "and its own explanation")
	assert.Zero(t, e.h.Cache().Len())
}

func TestPingEndToEnd(t *testing.T) {
	srv, _ := inferenceServer(t)
	e := newEnv(t, cacheOn(), srv, nil)
	resp := e.do(t, ping())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"UP","endpointStatus":"InService"}`, resp.Body)
}

// TestCustomAttributesEndToEnd: the real inference server in SageMaker compat mode selects its
// outputs by the inferstack-output custom attribute, so the same body answers differently with
// and without it; through the proxy each gets its own cache entry.
func TestCustomAttributesEndToEnd(t *testing.T) {
	m, err := model.Default()
	require.NoError(t, err)
	srv, err := server.NewServer(slog.New(slog.NewJSONHandler(io.Discard, nil)), m, server.Options{Compat: &server.Compat{DefaultAccept: "application/json"}})
	require.NoError(t, err)
	e := newEnv(t, cacheOn(), srv, nil)
	const body = "5.1,3.5,1.4,0.2\n"
	csv := map[string]string{"Content-Type": "text/csv"}
	withAttr := map[string]string{"Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "inferstack-output=predicted_label"}

	plain := e.do(t, invocation(body, csv))
	require.Equal(t, http.StatusOK, plain.StatusCode, plain.Body)
	selected := e.do(t, invocation(body, withAttr))
	require.Equal(t, http.StatusOK, selected.StatusCode, selected.Body)
	assert.Equal(t, "MISS", selected.Headers["X-Cache"], "the attribute is part of the key")
	assert.NotEqual(t, plain.Body, selected.Body)
	assert.JSONEq(t, `{"predictions":[{"predicted_label":0.0}]}`, selected.Body, "setosa is class 0")

	again := e.do(t, invocation(body, withAttr))
	assert.Equal(t, "HIT", again.Headers["X-Cache"])
	assert.Equal(t, selected.Body, again.Body)
	assert.Equal(t, "HIT", e.do(t, invocation(body, csv)).Headers["X-Cache"])
}
