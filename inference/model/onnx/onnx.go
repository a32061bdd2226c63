// Package onnx serves ONNX models (scikit-learn, PyTorch, TensorFlow, LightGBM and CatBoost
// exports) through ONNX Runtime, with optional dynamic batching (package batch).
//
// Running a model needs cgo and libonnxruntime.so: the server's `onnx` build
// (go build -tags onnx, CGO_ENABLED=1) and the Dockerfile's onnx stage. The default pure-Go
// build still recognises an ONNX file (Sniff, and the graph reading in this file) and refuses
// it at start, naming the image variant that serves it. See docs/model-formats.md.
package onnx

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/inferstack/inferstack/inference/model/internal/output"
)

// Format is the model.Info.Format of an ONNX model.
const Format = "onnx"

// Options are the session settings, from the manifest's "onnx" object. The zero value runs
// one session with ONNX Runtime's full graph optimisation, one intra-op thread per CPU the
// container may use, and no batching.
type Options struct {
	// IntraOpThreads (optional) is the threads ONNX Runtime uses within one run; default
	// runtime.GOMAXPROCS(0), which Go sets from the container's CPU limit (cgroup quota).
	IntraOpThreads int `json:"intra_op_threads,omitempty"`
	// IntraOpSpinning (optional) lets ONNX Runtime's intra-op threads spin while waiting for
	// work, as ONNX Runtime does by default (true). Spinning threads take CPU from the server's
	// own goroutines and from batches gathering; false makes them sleep instead.
	IntraOpSpinning *bool `json:"intra_op_spinning,omitempty"`
	// GraphOptimization (optional) is "disabled", "basic", "extended" or "all" (default).
	GraphOptimization string `json:"graph_optimization,omitempty"`
	// MaxBatchSize (optional) turns dynamic batching on: concurrent requests are run together,
	// up to this many rows per run. Default 0: off, each request runs alone.
	MaxBatchSize int `json:"max_batch_size,omitempty"`
	// MaxDelay (optional, with MaxBatchSize) is how long a request waits for others to join its
	// batch, as a Go duration ("2ms"); default "0s": take what is queued, never wait.
	MaxDelay Duration `json:"max_delay,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string ("2ms").
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"2ms\", found %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as \"2ms\": %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// optimizationLevels are the values GraphOptimization takes, as ONNX Runtime names them
// (GraphOptimizationLevel: ORT_DISABLE_ALL, ORT_ENABLE_BASIC, ORT_ENABLE_EXTENDED, ORT_ENABLE_ALL).
var optimizationLevels = []string{"disabled", "basic", "extended", "all"}

// Validate reports every problem with the options at once, each naming its manifest key.
func (o Options) Validate() error {
	var problems []string
	if o.IntraOpThreads < 0 {
		problems = append(problems, fmt.Sprintf("onnx.intra_op_threads %d: want 1 or more (0 or absent: one per CPU)", o.IntraOpThreads))
	}
	if o.GraphOptimization != "" && !contains(optimizationLevels, o.GraphOptimization) {
		problems = append(problems, fmt.Sprintf("onnx.graph_optimization %q: want one of %s", o.GraphOptimization, strings.Join(optimizationLevels, ", ")))
	}
	if o.MaxBatchSize < 0 {
		problems = append(problems, fmt.Sprintf("onnx.max_batch_size %d: want 1 or more rows (0 or absent: no batching)", o.MaxBatchSize))
	}
	if o.MaxDelay < 0 {
		problems = append(problems, fmt.Sprintf("onnx.max_delay %s: want 0s or more", time.Duration(o.MaxDelay)))
	}
	if o.MaxDelay > 0 && o.MaxBatchSize == 0 {
		problems = append(problems, fmt.Sprintf("onnx.max_delay %s without onnx.max_batch_size: set max_batch_size to turn batching on", time.Duration(o.MaxDelay)))
	}
	if time.Duration(o.MaxDelay) > time.Second {
		problems = append(problems, fmt.Sprintf("onnx.max_delay %s: want at most 1s; every request of a batch waits this long", time.Duration(o.MaxDelay)))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func (o Options) threads() int {
	if o.IntraOpThreads > 0 {
		return o.IntraOpThreads
	}
	return runtime.GOMAXPROCS(0)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Model is a loaded ONNX model, in the shape the model package's loader takes from every format.
type Model interface {
	// Predict runs rows of x (row-major, NumFeatures values each) into out (OutputWidth each).
	Predict(x, out []float64) error
	// PredictContext is Predict for one request: with batching on it waits for its batch, and it
	// returns ctx's error when ctx ends first.
	PredictContext(ctx context.Context, x, out []float64) error
	Objective() string
	NumFeatures() int
	NumClass() int
	OutputWidth() int
	FeatureNames() []string
	Kind() output.Kind
	// Classes names the classes as the graph's classifier or ZipMap labels them, or is nil when
	// they are 0..n-1 (served as indices) or the model is not a classifier.
	Classes() []string
	// Inputs are the graph's input tensors, in the order their values sit in a row.
	Inputs() []Input
	// Description names the graph's input and outputs with their types and shapes, for
	// /openapi.json and /docs.
	Description() string
	// Close releases the session.
	Close() error
}

// Input is one input tensor of the graph.
type Input struct {
	Name  string
	Type  string // "float32", "float64" or "int64"
	Shape []int  // after the batch dimension
}

// Parse loads an ONNX model from the bytes of its file.
func Parse(data []byte, opts Options) (Model, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	gi, err := inspect(data)
	if err != nil {
		return nil, err
	}
	return newSession(data, gi, opts)
}

func timeDuration(d Duration) time.Duration { return time.Duration(d) }

// InputError is a value the graph's input cannot take, such as 1.5 or a missing value for an
// int64 input. The server answers it with a 400 (BadInput).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// BadInput marks the error as the client's.
func (e *InputError) BadInput() bool { return true }
