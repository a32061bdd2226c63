package model

import (
	"context"

	"github.com/inferstack/inferstack/inference/model/internal/output"
	"github.com/inferstack/inferstack/inference/model/onnx"
)

// parseONNX loads an ONNX model; in the pure-Go build it fails with onnx.ErrNotBuilt, which
// names the image variant that serves it.
func parseONNX(data []byte, opts onnx.Options) (Info, predictor, error) {
	m, err := onnx.Parse(data, opts)
	if err != nil {
		return Info{}, nil, err
	}
	info := Info{Format: formatONNX, Objective: m.Objective(), NumFeatures: m.NumFeatures(),
		OutputWidth: m.OutputWidth(), Classes: nilIfEmpty(m.Classes()), Description: m.Description()}
	for _, in := range m.Inputs() {
		info.Inputs = append(info.Inputs, Input{Name: in.Name, Type: in.Type, Shape: in.Shape})
	}
	switch m.Kind() {
	case output.ClassProbabilities:
		info.Task, info.NumClasses = MultiProba, m.NumClass()
	case output.Values:
		info.Task = Values
	default:
		info.Task = Regression
	}
	return info, m, nil
}

// newLoadedModel wraps a format package's model; one that can wait per request (an ONNX model
// with batching) keeps its PredictContext visible to the server.
func newLoadedModel(info Info, p predictor) Model {
	m := &loadedModel{info: info, p: p}
	if cp, ok := p.(ContextPredictor); ok {
		return &contextModel{loadedModel: m, cp: cp}
	}
	return m
}

// contextModel is a loadedModel whose format package predicts per request.
type contextModel struct {
	*loadedModel
	cp ContextPredictor
}

var _ ContextPredictor = (*contextModel)(nil)

// PredictContext delegates to the format package.
func (m *contextModel) PredictContext(ctx context.Context, x, out []float64) error {
	return m.cp.PredictContext(ctx, x, out)
}
