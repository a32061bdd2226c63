// Package model defines what the inference server needs of a trained model, and loads models
// from a directory (XGBoost JSON, LightGBM text, ONNX) or from the embedded default.
package model

import "context"

// Task says how a model's outputs are to be read.
type Task int

const (
	// Regression outputs one number per row: regression, reg:logistic, count:poisson,
	// binary:logitraw margins. Served as {"value": x}.
	Regression Task = iota
	// Binary outputs one number per row, the probability of the positive class (binary:logistic).
	// Served as {"label": L, "probability": p}; L is class 1 when p >= 0.5.
	Binary
	// MultiProba outputs NumClasses probabilities per row (multi:softprob). Served as
	// {"label": L, "probabilities": [...]}; L is the argmax.
	MultiProba
	// MultiClass outputs one class index per row (multi:softmax). Served as {"label": L}.
	MultiClass
	// Values outputs OutputWidth numbers per row that are not class probabilities: a neural
	// network's output vector or a multi-target regression. Served as {"values": [...]}.
	Values
)

// String names the task as it appears in logs and in the OpenAPI document.
func (t Task) String() string {
	switch t {
	case Regression:
		return "regression"
	case Binary:
		return "binary"
	case MultiProba:
		return "multiclass-probabilities"
	case MultiClass:
		return "multiclass-label"
	case Values:
		return "values"
	}
	return "unknown"
}

// Info describes a loaded model.
type Info struct {
	Format      string   // "xgboost-json", "xgboost-ubjson", "xgboost-binary", "xgboost-pickle", "lightgbm-text" or "onnx"
	Source      string   // the file it was loaded from, or "embedded:<name>"
	Objective   string   // the training objective as the library names it, e.g. "binary:logistic"
	NumFeatures int      // columns per input row
	Task        Task     // how outputs are read
	NumClasses  int      // classes for Binary (2), MultiProba and MultiClass; 0 for Regression
	OutputWidth int      // numbers per row that Predict writes: NumClasses for MultiProba, else 1
	Features    []string // feature names, from the model or the manifest; nil when unknown
	// FeatureTypes are the model's feature types (XGBoost's feature_types: "float", "int",
	// "q", "c" for categorical); nil when the model does not say.
	FeatureTypes []string
	// Categories names, per feature, the categories of a categorical feature in code order
	// (input code k is Categories[f][k]), from the manifest or, for XGBoost 3.x models trained
	// on string categories, from the model; nil entries for other features, nil when none.
	Categories  [][]string
	Classes     []string // class names from the manifest; nil when unknown (labels are then indices)
	Description string   // free text from the manifest
	// Inputs are the model's input tensors (ONNX graphs), in the order their values are laid
	// out in a row of NumFeatures values; nil for models that take one [N, NumFeatures] matrix
	// (XGBoost, LightGBM). With several inputs, or one of more than two dimensions, a JSON
	// instance may also be written as nested arrays or as an object keyed by input name.
	Inputs []Input
	// Builtin says the model is SageMaker's built-in XGBoost algorithm artifact (xgboost-model or
	// k-fold xgboost-model-0 .. -k), so the server answers as that container does.
	Builtin bool
	// Ensemble is how many k-fold models Predict combines; 0 or 1 for a single model.
	Ensemble int
}

// Input is one input tensor of a model: its values for a row are Shape's product of numbers.
type Input struct {
	Name  string // the graph's input name
	Type  string // element type: "float32", "float64" or "int64"
	Shape []int  // the dimensions after the batch dimension; empty for one value per row
}

// Model predicts. Implementations are safe for concurrent use.
type Model interface {
	Info() Info
	// Predict computes outputs for the rows of x, row-major with Info().NumFeatures values per row
	// and NaN marking a missing value, into out, which holds rows*Info().OutputWidth values. What it
	// writes for a row is what the training library's predict() returns for that row.
	Predict(x []float64, out []float64) error
}

// ContextPredictor is implemented by models whose prediction of one request may wait, as
// dynamic batching does: PredictContext is Predict for one request's rows, returning ctx's
// error when ctx ends first (the request's deadline or its client gone). The server calls it
// instead of Predict when the model has it.
type ContextPredictor interface {
	PredictContext(ctx context.Context, x []float64, out []float64) error
}
