//go:build onnx

package onnx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/inferstack/inferstack/inference/model/internal/output"
	"github.com/inferstack/inferstack/inference/model/onnx/batch"
)

// LibraryPathEnv names the environment variable that gives libonnxruntime.so's path; without
// it the dynamic loader's search path is used (the image puts the library on it).
const LibraryPathEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

const defaultLibrary = "libonnxruntime.so.1"

var (
	initOnce sync.Once
	errInit  error
)

// initRuntime loads ONNX Runtime once per process.
func initRuntime() error {
	initOnce.Do(func() {
		lib := os.Getenv(LibraryPathEnv)
		if lib == "" {
			lib = defaultLibrary
		}
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
			errInit = fmt.Errorf("loading ONNX Runtime from %s (set %s to libonnxruntime.so's path): %w", lib, LibraryPathEnv, err)
		}
	})
	return errInit
}

// inputKind is the element type the graph takes.
type inputKind int

const (
	inFloat32 inputKind = iota
	inFloat64
	inInt64
)

// outputForm is how the value the server reads leaves the graph.
type outputForm int

const (
	outTensor outputForm = iota // a float32 or float64 tensor [N, ...]
	outZipMap                   // a sequence of maps, one per row, class label -> probability
)

// inputSpec is one graph input: its values for a row are the nf values from offset on.
type inputSpec struct {
	info   ort.InputOutputInfo
	kind   inputKind
	dims   []int64 // the input shape after the batch dimension
	nf     int     // their product
	offset int
}

// session is an ONNX Runtime session and what the server needs to know of its graph.
type session struct {
	sess       *ort.DynamicAdvancedSession
	ins        []inputSpec // the graph's inputs, in the order their values sit in a row
	nf         int         // values per row, all inputs together
	out        ort.InputOutputInfo
	form       outputForm
	outFloat64 bool
	width      int
	kind       output.Kind
	classes    []string       // class names read from the graph; nil when they are 0..n-1
	classIndex map[string]int // ZipMap key -> class index
	objective  string
	desc       string
	batcher    *batch.Batcher
}

var _ Model = (*session)(nil)

func newSession(data []byte, gi graphInfo, opts Options) (Model, error) {
	if err := initRuntime(); err != nil {
		return nil, err
	}
	inputs, outputs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime cannot read the model: %w", err)
	}
	s := &session{}
	if err := s.describeInputs(inputs); err != nil {
		return nil, err
	}
	if err := s.describeOutput(outputs, gi); err != nil {
		return nil, err
	}
	s.desc = describe(inputs, outputs, s.out.Name, gi.producer)

	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime session options: %w", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(opts.threads()); err != nil {
		return nil, fmt.Errorf("onnx.intra_op_threads %d: %w", opts.threads(), err)
	}
	if opts.IntraOpSpinning != nil && !*opts.IntraOpSpinning {
		// The key is ONNX Runtime's kOrtSessionOptionsConfigAllowIntraOpSpinning
		// (include/onnxruntime/core/session/onnxruntime_session_options_config_keys.h).
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return nil, fmt.Errorf("onnx.intra_op_spinning: %w", err)
		}
	}
	if err := so.SetGraphOptimizationLevel(optimizationLevel(opts.GraphOptimization)); err != nil {
		return nil, fmt.Errorf("onnx.graph_optimization %q: %w", opts.GraphOptimization, err)
	}
	// Only the output the server answers with is computed and copied; a classifier's label
	// output is the argmax of its probabilities, which the server takes itself.
	names := make([]string, len(s.ins))
	for i, in := range s.ins {
		names[i] = in.info.Name
	}
	s.sess, err = ort.NewDynamicAdvancedSessionWithONNXData(data, names, []string{s.out.Name}, so)
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime cannot load the model: %w", err)
	}
	if opts.MaxBatchSize > 0 {
		s.batcher, err = batch.New(batch.Config{MaxRows: opts.MaxBatchSize, MaxDelay: timeDuration(opts.MaxDelay),
			NumFeatures: s.nf, OutputWidth: s.width}, s.run)
		if err != nil {
			_ = s.sess.Destroy()
			return nil, err
		}
	}
	return s, nil
}

func optimizationLevel(name string) ort.GraphOptimizationLevel {
	switch name {
	case "disabled":
		return ort.GraphOptimizationLevelDisableAll
	case "basic":
		return ort.GraphOptimizationLevelEnableBasic
	case "extended":
		return ort.GraphOptimizationLevelEnableExtended
	}
	return ort.GraphOptimizationLevelEnableAll
}

// describeInputs takes the graph's inputs: float32, float64 or int64 tensors whose first
// dimension is the batch and whose other dimensions are fixed. A row is their values one input
// after the other, each input's in row-major order (the server's JSON tensor forms and the
// flat form both arrive so).
func (s *session) describeInputs(inputs []ort.InputOutputInfo) error {
	if len(inputs) == 0 {
		return errors.New("the graph has no inputs")
	}
	for _, in := range inputs {
		spec, err := describeInput(in)
		if err != nil {
			return err
		}
		spec.offset = s.nf
		s.nf += spec.nf
		s.ins = append(s.ins, spec)
	}
	return nil
}

func describeInput(in ort.InputOutputInfo) (inputSpec, error) {
	spec := inputSpec{info: in}
	if in.OrtValueType != ort.ONNXTypeTensor {
		return spec, fmt.Errorf("input %q is a %s; want a tensor", in.Name, in.OrtValueType)
	}
	switch in.DataType {
	case ort.TensorElementDataTypeFloat:
		spec.kind = inFloat32
	case ort.TensorElementDataTypeDouble:
		spec.kind = inFloat64
	case ort.TensorElementDataTypeInt64:
		spec.kind = inInt64
	default:
		return spec, fmt.Errorf("input %q has element type %s; the server feeds float32, float64 or int64", in.Name, in.DataType)
	}
	dims := in.Dimensions
	if len(dims) == 0 {
		return spec, fmt.Errorf("input %q is a scalar; want a tensor [N, features] with N the batch", in.Name)
	}
	if dims[0] > 0 {
		return spec, fmt.Errorf("input %q has a fixed batch dimension %d (shape %s); export it with a dynamic first dimension "+
			"(torch.onnx.export(..., dynamic_axes={%q: {0: \"batch\"}}))", in.Name, dims[0], dims, in.Name)
	}
	spec.nf = 1
	for i, d := range dims[1:] {
		if d <= 0 {
			return spec, fmt.Errorf("input %q: dimension %d of shape %s is dynamic; only the first (batch) dimension may be", in.Name, i+1, dims)
		}
		spec.nf *= int(d)
	}
	spec.dims = append([]int64(nil), dims[1:]...)
	return spec, nil
}

// Inputs describes the graph's inputs for the server's JSON tensor forms.
func (s *session) Inputs() []Input {
	out := make([]Input, len(s.ins))
	for i, in := range s.ins {
		shape := make([]int, len(in.dims))
		for j, d := range in.dims {
			shape[j] = int(d)
		}
		out[i] = Input{Name: in.info.Name, Type: elemName(in.info.DataType), Shape: shape}
	}
	return out
}

// describeOutput picks what the server answers with. A classifier, as skl2onnx and onnxmltools
// export it, has outputs label and probabilities; the probabilities are a float tensor
// [N, classes] (ZipMap off) or a sequence of maps from label to probability (ZipMap on). Any
// other graph answers with its first output, a float tensor [N, ...] of fixed other dimensions.
func (s *session) describeOutput(outputs []ort.InputOutputInfo, gi graphInfo) error {
	if len(outputs) == 0 {
		return errors.New("the graph has no outputs")
	}
	prob := -1
	if len(outputs) == 2 && isLabel(outputs[0]) {
		prob = 1
	}
	if prob >= 0 {
		out := outputs[prob]
		s.out, s.kind = out, output.ClassProbabilities
		switch out.OrtValueType {
		case ort.ONNXTypeSequence:
			if len(gi.classes) == 0 {
				return fmt.Errorf("output %q is a sequence of maps (ZipMap), but the graph names no classes in a ZipMap node", out.Name)
			}
			s.form, s.width = outZipMap, len(gi.classes)
			s.classIndex = make(map[string]int, len(gi.classes))
			for i, c := range gi.classes {
				s.classIndex[c] = i
			}
		case ort.ONNXTypeTensor:
			if err := s.tensorOutput(out); err != nil {
				return err
			}
			if gi.classes != nil && len(gi.classes) != s.width {
				return fmt.Errorf("output %q has %d probabilities per row, but the graph's %s names %d classes",
					out.Name, s.width, gi.classifier, len(gi.classes))
			}
		default:
			return fmt.Errorf("output %q is a %s; want the probabilities as a tensor [N, classes] or a sequence of maps (ZipMap)", out.Name, out.OrtValueType)
		}
		s.classes = gi.classes
		if isIndexLabels(gi.classes) {
			s.classes = nil // labels 0..n-1 are served as indices, as sklearn's predict() returns them
		}
		s.objective = "classifier"
		if gi.classifier != "" {
			s.objective = mlDomain + "." + gi.classifier
		}
		return nil
	}
	out := outputs[0]
	if out.OrtValueType != ort.ONNXTypeTensor {
		return fmt.Errorf("output %q is a %s; want a tensor [N, ...]", out.Name, out.OrtValueType)
	}
	s.out = out
	if err := s.tensorOutput(out); err != nil {
		return err
	}
	s.kind = output.Value
	if s.width > 1 {
		s.kind = output.Values
	}
	s.objective = "tensor"
	return nil
}

func (s *session) tensorOutput(out ort.InputOutputInfo) error {
	switch out.DataType {
	case ort.TensorElementDataTypeFloat:
	case ort.TensorElementDataTypeDouble:
		s.outFloat64 = true
	default:
		return fmt.Errorf("output %q has element type %s; the server reads float32 or float64 outputs", out.Name, out.DataType)
	}
	dims := out.Dimensions
	if len(dims) == 0 {
		return fmt.Errorf("output %q is a scalar; want one value or vector per row, [N] or [N, ...]", out.Name)
	}
	s.width = 1
	for i, d := range dims[1:] {
		if d <= 0 {
			return fmt.Errorf("output %q: dimension %d of shape %s is not fixed; the server needs the same number of values for each row", out.Name, i+1, dims)
		}
		s.width *= int(d)
	}
	return nil
}

func isLabel(o ort.InputOutputInfo) bool {
	return o.OrtValueType == ort.ONNXTypeTensor && len(o.Dimensions) == 1 &&
		(o.DataType == ort.TensorElementDataTypeInt64 || o.DataType == ort.TensorElementDataTypeString)
}

func isIndexLabels(classes []string) bool {
	for i, c := range classes {
		if c != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

func describe(inputs, outputs []ort.InputOutputInfo, served, producer string) string {
	var b strings.Builder
	b.WriteString("ONNX model")
	if producer != "" {
		fmt.Fprintf(&b, " from %s", producer)
	}
	b.WriteString(". Input: ")
	for i, in := range inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ioString(in))
	}
	b.WriteString(". Outputs: ")
	for i, o := range outputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ioString(o))
		if o.Name == served {
			b.WriteString(" (served)")
		}
	}
	b.WriteString(".")
	return b.String()
}

func ioString(o ort.InputOutputInfo) string {
	if o.OrtValueType == ort.ONNXTypeTensor {
		dims := make([]string, len(o.Dimensions))
		for i, d := range o.Dimensions {
			if d < 0 {
				dims[i] = "N"
			} else {
				dims[i] = strconv.FormatInt(d, 10)
			}
		}
		return fmt.Sprintf("%s %s [%s]", o.Name, elemName(o.DataType), strings.Join(dims, ", "))
	}
	return fmt.Sprintf("%s %s", o.Name, strings.ToLower(strings.TrimPrefix(o.OrtValueType.String(), "ONNX_TYPE_")))
}

// elemName names an element type as numpy and the ONNX spec's tensor(float) do.
func elemName(t ort.TensorElementDataType) string {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return "float32"
	case ort.TensorElementDataTypeDouble:
		return "float64"
	case ort.TensorElementDataTypeInt64:
		return "int64"
	case ort.TensorElementDataTypeString:
		return "string"
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}

func (s *session) Objective() string      { return s.objective }
func (s *session) NumFeatures() int       { return s.nf }
func (s *session) NumClass() int          { return s.numClass() }
func (s *session) OutputWidth() int       { return s.width }
func (s *session) FeatureNames() []string { return nil }
func (s *session) Kind() output.Kind      { return s.kind }
func (s *session) Description() string    { return s.desc }

// Classes returns the class names the graph gives, or nil when they are the indices 0..n-1.
func (s *session) Classes() []string { return append([]string(nil), s.classes...) }

func (s *session) numClass() int {
	if s.kind == output.ClassProbabilities {
		return s.width
	}
	return 0
}

// Close stops the batcher and frees the session.
func (s *session) Close() error {
	if s.batcher != nil {
		s.batcher.Close()
	}
	return s.sess.Destroy()
}

// Predict runs the rows without a context, bypassing the batcher.
func (s *session) Predict(x, out []float64) error { return s.run(context.Background(), x, out) }

// PredictContext runs the rows as one request: through the batcher when batching is on.
func (s *session) PredictContext(ctx context.Context, x, out []float64) error {
	if s.batcher != nil {
		return s.batcher.Predict(ctx, x, out)
	}
	return s.run(ctx, x, out)
}

// run is one session run over the rows of x. A cancelled ctx terminates the run.
func (s *session) run(ctx context.Context, x, out []float64) error {
	rows, err := output.Rows(x, out, s.nf, s.width)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	ins := make([]ort.Value, len(s.ins))
	for i := range s.ins {
		v, err := s.inputTensor(&s.ins[i], x, rows)
		if err != nil {
			return err
		}
		defer v.Destroy()
		ins[i] = v
	}

	var opts *ort.RunOptions
	if ctx.Done() != nil {
		if opts, err = ort.NewRunOptions(); err != nil {
			return fmt.Errorf("ONNX Runtime run options: %w", err)
		}
		defer opts.Destroy()
		stop := context.AfterFunc(ctx, func() { _ = opts.Terminate() })
		defer stop()
	}
	outs := []ort.Value{nil}
	err = s.sess.RunWithOptions(ins, outs, opts)
	if outs[0] != nil {
		defer outs[0].Destroy()
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ONNX Runtime: %w", err)
	}
	return s.readOutput(outs[0], rows, out)
}

// inputTensor is the tensor of one input over the rows of x. A graph with one float64 input
// reads x in place; otherwise the input's values are gathered from each row.
func (s *session) inputTensor(in *inputSpec, x []float64, rows int) (ort.Value, error) {
	shape := ort.NewShape(append([]int64{int64(rows)}, in.dims...)...)
	switch in.kind {
	case inFloat64:
		if len(s.ins) == 1 {
			return ort.NewTensor(shape, x) // ONNX Runtime reads x in place, during the run only
		}
		return ort.NewTensor(shape, gather(s, in, x, rows, func(f float64) float64 { return f }))
	case inFloat32:
		return ort.NewTensor(shape, gather(s, in, x, rows, func(f float64) float32 { return float32(f) }))
	default:
		v := gather(s, in, x, rows, func(f float64) int64 { return int64(f) })
		for r := 0; r < rows; r++ {
			for j, f := range x[r*s.nf+in.offset : r*s.nf+in.offset+in.nf] {
				if f != math.Trunc(f) || math.Abs(f) >= 1<<63 { // also NaN: a missing value
					what := strconv.FormatFloat(f, 'g', -1, 64)
					if math.IsNaN(f) {
						what = "a missing value"
					}
					return nil, &InputError{Msg: fmt.Sprintf("row %d, feature %d: %s is not an integer; the model's input %q is int64, which has no missing values",
						r+1, in.offset+j+1, what, in.info.Name)}
				}
			}
		}
		return ort.NewTensor(shape, v)
	}
}

// gather copies one input's values out of the rows of x, converted to the input's type.
func gather[T float32 | float64 | int64](s *session, in *inputSpec, x []float64, rows int, conv func(float64) T) []T {
	v := make([]T, rows*in.nf)
	for r := 0; r < rows; r++ {
		src := x[r*s.nf+in.offset : r*s.nf+in.offset+in.nf]
		dst := v[r*in.nf : (r+1)*in.nf]
		for j, f := range src {
			dst[j] = conv(f)
		}
	}
	return v
}

func (s *session) readOutput(v ort.Value, rows int, out []float64) error {
	switch s.form {
	case outZipMap:
		seq, ok := v.(*ort.Sequence)
		if !ok {
			return fmt.Errorf("output %q: want a sequence of maps, ONNX Runtime gave %T", s.out.Name, v)
		}
		maps, err := seq.GetValues()
		if err != nil {
			return err
		}
		if len(maps) != rows {
			return fmt.Errorf("output %q: %d maps for %d rows", s.out.Name, len(maps), rows)
		}
		for r, mv := range maps {
			if err := s.readZipMapRow(mv, out[r*s.width:(r+1)*s.width]); err != nil {
				return fmt.Errorf("output %q, row %d: %w", s.out.Name, r+1, err)
			}
		}
		return nil
	default:
		switch t := v.(type) {
		case *ort.Tensor[float32]:
			d := t.GetData()
			if len(d) != len(out) {
				return fmt.Errorf("output %q: %d values for %d rows of %d", s.out.Name, len(d), rows, s.width)
			}
			for i, f := range d {
				out[i] = float64(f)
			}
		case *ort.Tensor[float64]:
			d := t.GetData()
			if len(d) != len(out) {
				return fmt.Errorf("output %q: %d values for %d rows of %d", s.out.Name, len(d), rows, s.width)
			}
			copy(out, d)
		default:
			return fmt.Errorf("output %q: want a float tensor, ONNX Runtime gave %T", s.out.Name, v)
		}
		return nil
	}
}

func (s *session) readZipMapRow(mv ort.Value, out []float64) error {
	m, ok := mv.(*ort.Map)
	if !ok {
		return fmt.Errorf("want a map, ONNX Runtime gave %T", mv)
	}
	keys, values, err := m.GetKeysAndValues()
	if err != nil {
		return err
	}
	vals, ok := values.(*ort.Tensor[float32])
	if !ok {
		return fmt.Errorf("want float32 probabilities, ONNX Runtime gave %T", values)
	}
	p := vals.GetData()
	var names []string
	switch k := keys.(type) {
	case *ort.Tensor[int64]:
		for _, v := range k.GetData() {
			names = append(names, strconv.FormatInt(v, 10))
		}
	case *ort.StringTensor:
		if names, err = k.GetContents(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("want int64 or string class labels, ONNX Runtime gave %T", keys)
	}
	if len(names) != len(p) || len(p) != len(out) {
		return fmt.Errorf("%d labels and %d probabilities for %d classes", len(names), len(p), len(out))
	}
	for i, n := range names {
		c, ok := s.classIndex[n]
		if !ok {
			return fmt.Errorf("class %q is not one of the ZipMap's classes", n)
		}
		out[c] = float64(p[i])
	}
	return nil
}
