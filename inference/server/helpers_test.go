package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// fakeModel is a model.Model whose behaviour each test chooses; it records the rows it saw.
type fakeModel struct {
	info    model.Info
	predict func(x, out []float64) error

	mu   sync.Mutex
	seen [][]float64 // the x of every Predict call
}

var _ model.Model = (*fakeModel)(nil)

func (f *fakeModel) Info() model.Info { return f.info }

func (f *fakeModel) Predict(x, out []float64) error {
	f.mu.Lock()
	f.seen = append(f.seen, append([]float64(nil), x...))
	f.mu.Unlock()
	return f.predict(x, out)
}

// rows returns every row the model was asked to predict, in order.
func (f *fakeModel) rows() [][]float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	nf := f.info.NumFeatures
	var rows [][]float64
	for _, x := range f.seen {
		for i := 0; i+nf <= len(x); i += nf {
			rows = append(rows, x[i:i+nf])
		}
	}
	return rows
}

// sumModel is a regression model with nf features that predicts the sum of a row, NaN as 0.
func sumModel(nf int, features ...string) *fakeModel {
	return &fakeModel{
		info: model.Info{Format: "fake", Source: "test", Objective: "reg:squarederror", NumFeatures: nf,
			Task: model.Regression, OutputWidth: 1, Features: features},
		predict: func(x, out []float64) error {
			for r := range out {
				s := 0.0
				for _, v := range x[r*nf : (r+1)*nf] {
					if !math.IsNaN(v) {
						s += v
					}
				}
				out[r] = s
			}
			return nil
		},
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func newServer(t testing.TB, m model.Model, opts server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(quietLog(), m, opts)
	require.NoError(t, err)
	return s
}

// request sends one request through h and returns the recorded response.
func request(h http.Handler, method, path, contentType, accept, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func invokeJSON(h http.Handler, body string) *httptest.ResponseRecorder {
	return request(h, http.MethodPost, "/invocations", "application/json", "", body)
}

// apiError is the body of every error response.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// requireError checks that w is a JSON error with the given status and code and returns its message.
func requireError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) string {
	t.Helper()
	require.Equal(t, status, w.Code, "body: %s", w.Body.String())
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var e apiError
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "body: %s", w.Body.String())
	require.Equal(t, code, e.Error.Code, "message: %s", e.Error.Message)
	require.NotEmpty(t, e.Error.Message)
	return e.Error.Message
}
