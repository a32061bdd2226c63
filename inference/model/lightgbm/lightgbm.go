// Package lightgbm serves LightGBM text models (Booster.save_model("model.txt")) through
// github.com/dmitryikh/leaves, which walks the trees. This package reads the model header
// itself to learn the objective, feature names and class count, and applies the objective's
// output transform itself, so that predicting allocates nothing per row.
package lightgbm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dmitryikh/leaves"

	"github.com/inferstack/inferstack/inference/model/internal/output"
)

// Format is the name of the format this package reads.
const Format = "lightgbm-text"

// Kind says what Predict writes per row.
type Kind = output.Kind

// The kinds of output a LightGBM objective produces.
const (
	Value              = output.Value
	Probability        = output.Probability
	ClassProbabilities = output.ClassProbabilities
)

// transform is what LightGBM applies to a row's raw scores.
type transform int

const (
	rawTransform     transform = iota // regression objectives, and random forests
	sigmoidTransform                  // binary: 1 / (1 + exp(-sigmoid * score))
	expTransform                      // poisson, gamma, tweedie: the model predicts log(mean)
	softmaxTransform                  // multiclass
)

// identityObjectives output the raw score; LightGBM writes these canonical names.
var identityObjectives = map[string]bool{
	"regression": true, "regression_l1": true, "huber": true, "fair": true, "quantile": true, "mape": true,
}

// SupportedObjectives lists the objective names Parse accepts.
func SupportedObjectives() []string {
	return []string{"regression", "regression_l1", "huber", "fair", "quantile", "mape",
		"poisson", "gamma", "tweedie", "binary", "multiclass"}
}

// Model is a loaded LightGBM model. It is immutable and safe for concurrent use.
type Model struct {
	ens         *leaves.Ensemble // without leaves' transform: this package applies it
	objective   string           // the objective's name, e.g. "binary"
	kind        Kind
	transform   transform
	sigmoid     float64
	numFeatures int
	numClass    int
	features    []string
}

// Sniff reports whether head, the first bytes of a file, looks like a LightGBM text model: a
// first line "tree" followed by a "version=" line.
func Sniff(head []byte) bool {
	line, rest, ok := bytes.Cut(head, []byte("\n"))
	return ok && string(bytes.TrimSpace(line)) == "tree" && bytes.HasPrefix(rest, []byte("version="))
}

// LoadFile reads and parses the LightGBM text model in path.
func LoadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse reads a LightGBM text model. It fails, naming the cause, for an objective it cannot
// serve exactly (e.g. lambdarank, multiclassova, cross_entropy) and for a model leaves rejects.
func Parse(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	header, err := readHeader(data)
	if err != nil {
		return nil, err
	}
	switch v := header["version"]; v {
	case "v2", "v3":
	case "v4":
		// LightGBM 4 writes "v4" but the same text trees as 3.x for the models served here
		// (linear trees, which differ, are refused below); leaves reads up to v3.
		data = bytes.Replace(data, []byte("\nversion=v4\n"), []byte("\nversion=v3\n"), 1)
	default:
		return nil, fmt.Errorf("LightGBM model format version %q: supported v2, v3 and v4", v)
	}
	if bytes.Contains(data, []byte("\nis_linear=1")) {
		// leaves would ignore the linear models in the leaves and predict something else.
		return nil, errors.New("the model has linear trees (linear_tree=true), which are not supported")
	}
	m := &Model{}
	if err := m.configure(header); err != nil {
		return nil, err
	}
	if err := checkTrees(string(data), m.numFeatures); err != nil {
		return nil, err
	}
	ens, err := readEnsemble(data)
	if err != nil {
		return nil, fmt.Errorf("lightgbm model: %w", err)
	}
	if ens.NRawOutputGroups() != m.OutputWidth() {
		return nil, fmt.Errorf("lightgbm model has %d output groups, want %d for objective %s", ens.NRawOutputGroups(), m.OutputWidth(), m.objective)
	}
	m.ens = ens
	return m, nil
}

// readEnsemble has leaves read the trees, turning a panic on a malformed file (leaves trusts
// its input) into an error.
func readEnsemble(data []byte) (ens *leaves.Ensemble, err error) {
	defer func() {
		if r := recover(); r != nil {
			ens, err = nil, fmt.Errorf("malformed model: %v", r)
		}
	}()
	return leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(data)), false)
}

// readHeader returns the key=value lines before the first blank line, as leaves reads them.
func readHeader(data []byte) (map[string]string, error) {
	if !Sniff(data) {
		return nil, fmt.Errorf(`not a LightGBM text model: want a first line "tree" and then "version="`)
	}
	header := map[string]string{}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, "=")
		header[k] = v
	}
	return header, nil
}

func (m *Model) configure(h map[string]string) error {
	maxIdx, err := strconv.Atoi(h["max_feature_idx"])
	if err != nil || maxIdx < 0 {
		return fmt.Errorf("max_feature_idx %q: want a non-negative integer", h["max_feature_idx"])
	}
	m.numFeatures = maxIdx + 1
	if names := strings.Fields(h["feature_names"]); len(names) > 0 {
		if len(names) != m.numFeatures {
			return fmt.Errorf("feature_names has %d names for %d features", len(names), m.numFeatures)
		}
		m.features = names
	}
	numClass, err := strconv.Atoi(h["num_class"])
	if err != nil || numClass < 1 {
		return fmt.Errorf("num_class %q: want a positive integer", h["num_class"])
	}

	// The objective line is the name then space-separated key:value parameters, e.g.
	// "binary sigmoid:1" or "multiclass num_class:5".
	fields := strings.Fields(h["objective"])
	if len(fields) == 0 {
		return fmt.Errorf(`no "objective" line in the model header`)
	}
	m.objective = fields[0]
	params := map[string]string{}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, ":")
		params[k] = v
	}
	_, forest := h["average_output"]
	switch {
	case identityObjectives[m.objective]:
		m.kind, m.transform = Value, rawTransform
	case m.objective == "poisson" || m.objective == "gamma" || m.objective == "tweedie":
		m.kind, m.transform = Value, expTransform
	case m.objective == "binary":
		m.kind, m.transform, m.numClass = Probability, sigmoidTransform, 2
		m.sigmoid = 1
		if s, ok := params["sigmoid"]; ok {
			if m.sigmoid, err = strconv.ParseFloat(s, 64); err != nil || !(m.sigmoid > 0) {
				return fmt.Errorf("objective %q: sigmoid must be a positive number", h["objective"])
			}
		}
	case m.objective == "multiclass" || m.objective == "softmax":
		m.kind, m.transform, m.numClass = ClassProbabilities, softmaxTransform, numClass
		if numClass < 2 {
			return fmt.Errorf("objective %q with num_class %d: want at least 2 classes", h["objective"], numClass)
		}
	default:
		return fmt.Errorf("unsupported objective %q (supported: %s)", m.objective, strings.Join(SupportedObjectives(), ", "))
	}
	if m.kind != ClassProbabilities && numClass != 1 {
		return fmt.Errorf("objective %s with num_class %d: want 1", m.objective, numClass)
	}
	if forest {
		// A random forest averages its trees' outputs and LightGBM applies no transform to
		// that average (leaves, and its parity test lg_rf_iris, agree).
		m.transform = rawTransform
	}
	return nil
}

// NumFeatures is the number of values per input row.
func (m *Model) NumFeatures() int { return m.numFeatures }

// NumClass is 2 for binary models, the class count for multiclass models, else 0.
func (m *Model) NumClass() int { return m.numClass }

// Objective is the training objective's name, e.g. "binary" or "multiclass".
func (m *Model) Objective() string { return m.objective }

// Kind says what Predict writes per row.
func (m *Model) Kind() Kind { return m.kind }

// OutputWidth is the number of values Predict writes per row: NumClass for multiclass, else 1.
func (m *Model) OutputWidth() int {
	if m.kind == ClassProbabilities {
		return m.numClass
	}
	return 1
}

// FeatureNames returns the model's feature_names, or nil when the header has none.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.features...) }

// Predict writes the predictions for the rows of x (row-major, NumFeatures values per row,
// NaN for a missing value) into out, which must hold rows*OutputWidth values: what LightGBM's
// predict() returns for each row.
func (m *Model) Predict(x []float64, out []float64) error {
	width := m.OutputWidth()
	rows, err := output.Rows(x, out, m.numFeatures, width)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	// One thread: the server runs requests in parallel already.
	if err := m.predictDense(x, rows, out); err != nil {
		return fmt.Errorf("lightgbm predict: %w", err)
	}
	for r := 0; r < rows; r++ {
		m.apply(out[r*width : (r+1)*width])
	}
	return nil
}

// predictDense runs leaves, turning a panic (a malformed categorical split that passed
// checkTrees, say) into an error rather than a crashed request.
func (m *Model) predictDense(x []float64, rows int, out []float64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed model: %v", r)
		}
	}()
	return m.ens.PredictDense(x, rows, m.numFeatures, out, 0, 1)
}

// apply turns one row's raw scores into predictions in place, as LightGBM's objective does.
func (m *Model) apply(v []float64) {
	switch m.transform {
	case sigmoidTransform:
		v[0] = 1 / (1 + math.Exp(-m.sigmoid*v[0]))
	case expTransform:
		v[0] = math.Exp(v[0])
	case softmaxTransform:
		hi := v[0]
		for _, s := range v[1:] {
			hi = max(hi, s)
		}
		var sum float64
		for i, s := range v {
			v[i] = math.Exp(s - hi)
			sum += v[i]
		}
		for i := range v {
			v[i] /= sum
		}
	}
}
