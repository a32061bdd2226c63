package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// contextModel is a model that predicts per request with a context, as an ONNX model with
// dynamic batching does; predictCtx decides what it does.
type contextModel struct {
	fakeModel
	predictCtx func(ctx context.Context, x, out []float64) error
}

var _ model.ContextPredictor = (*contextModel)(nil)

func (m *contextModel) PredictContext(ctx context.Context, x, out []float64) error {
	return m.predictCtx(ctx, x, out)
}

func vectorInfo() model.Info {
	return model.Info{Format: "fake", Source: "test", Objective: "tensor", NumFeatures: 2, Task: model.Values, OutputWidth: 3}
}

// TestValuesTaskAnswersVectors: a model with several outputs per row that are not class
// probabilities answers {"values": [...]} in JSON and the numbers in CSV, and says so in the
// OpenAPI document.
func TestValuesTaskAnswersVectors(t *testing.T) {
	m := &fakeModel{info: vectorInfo(), predict: func(x, out []float64) error {
		for r := 0; r < len(x)/2; r++ {
			out[3*r], out[3*r+1], out[3*r+2] = x[2*r], x[2*r+1], x[2*r]+x[2*r+1]
		}
		return nil
	}}
	s := newServer(t, m, server.Options{})
	w := invokeJSON(s, `{"instances":[[1,2],[0.5,-1]]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"predictions":[{"values":[1,2,3]},{"values":[0.5,-1,-0.5]}]}`, w.Body.String())

	w = request(s, http.MethodPost, "/invocations", "text/csv", "text/csv", "1,2\n0.5,-1\n")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "1,2,3\n0.5,-1,-0.5\n", w.Body.String())

	var doc struct {
		Components struct {
			Schemas struct {
				Prediction struct {
					Required   []string                   `json:"required"`
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"Prediction"`
			} `json:"schemas"`
		} `json:"components"`
	}
	w = request(s, http.MethodGet, "/openapi.json", "", "", "")
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.Equal(t, []string{"values"}, doc.Components.Schemas.Prediction.Required)
	assert.Contains(t, string(doc.Components.Schemas.Prediction.Properties["values"]), `"maxItems": 3`)
}

// TestContextPredictorGetsTheDeadline: a model that waits (for a batch) is given the prediction
// deadline as its context and its DeadlineExceeded becomes the 503 prediction_timeout.
func TestContextPredictorGetsTheDeadline(t *testing.T) {
	var got time.Duration
	m := &contextModel{fakeModel: fakeModel{info: vectorInfo()}, predictCtx: func(ctx context.Context, x, out []float64) error {
		d, ok := ctx.Deadline()
		require.True(t, ok, "the model gets a deadline")
		got = time.Until(d)
		<-ctx.Done()
		return ctx.Err()
	}}
	s := newServer(t, m, server.Options{PredictTimeout: 50 * time.Millisecond})
	msg := requireError(t, invokeJSON(s, `{"instances":[[1,2]]}`), http.StatusServiceUnavailable, server.CodeTimeout)
	assert.Contains(t, msg, "took longer than the 50ms limit")
	assert.InDelta(t, 50*time.Millisecond, got, float64(20*time.Millisecond))
	assert.Empty(t, m.rows(), "Predict is not called when the model predicts per request")
}

// TestContextPredictorBadInputIs400: a model's BadInput error is the client's 400, with the
// model's message; any other error stays a 500 that leaks nothing.
func TestContextPredictorBadInputIs400(t *testing.T) {
	m := &contextModel{fakeModel: fakeModel{info: vectorInfo()}, predictCtx: func(ctx context.Context, x, out []float64) error {
		if x[0] < 0 {
			return fakeBadInput("row 1, feature 1: -1 is not allowed")
		}
		return errors.New("secret internal detail")
	}}
	s := newServer(t, m, server.Options{})
	msg := requireError(t, invokeJSON(s, `{"instances":[[-1,2]]}`), http.StatusBadRequest, server.CodeInvalidValue)
	assert.Equal(t, "row 1, feature 1: -1 is not allowed", msg)
	msg = requireError(t, invokeJSON(s, `{"instances":[[1,2]]}`), http.StatusInternalServerError, server.CodeInternal)
	assert.NotContains(t, msg, "secret")
}

type fakeBadInput string

func (e fakeBadInput) Error() string  { return string(e) }
func (e fakeBadInput) BadInput() bool { return true }
