package xgboost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/inferstack/inferstack/inference/model/internal/output"
)

// Kind says what Predict writes per row, independent of the objective's exact name.
type Kind = output.Kind

// The kinds of output an XGBoost objective produces.
const (
	Value              = output.Value
	Probability        = output.Probability
	ClassProbabilities = output.ClassProbabilities
	ClassIndex         = output.ClassIndex
)

// objective describes how an XGBoost objective turns summed tree outputs into predictions.
type objective struct {
	kind Kind
	// toMargin maps the user-facing base_score into the space trees add up in, as the
	// objective's ProbToMargin does in XGBoost.
	toMargin func(name string, base float64) (float32, error)
	// transform maps one row's margins (one per output group) into its outputs.
	transform transform
	multi     bool // needs num_class >= 2 output groups
}

var objectives = map[string]objective{
	"reg:squarederror":     {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"reg:linear":           {kind: Value, toMargin: identityMargin, transform: identityTransform}, // pre-1.0 alias
	"reg:absoluteerror":    {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"reg:pseudohubererror": {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"reg:squaredlogerror":  {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"reg:logistic":         {kind: Value, toMargin: logitMargin, transform: sigmoidTransform},
	"binary:logistic":      {kind: Probability, toMargin: logitMargin, transform: sigmoidTransform},
	// binary:logitraw outputs margins; XGBoost 1.x adds base_score to them unchanged.
	"binary:logitraw": {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"count:poisson":   {kind: Value, toMargin: logMargin, transform: expTransform},
	"reg:gamma":       {kind: Value, toMargin: logMargin, transform: expTransform},
	"reg:tweedie":     {kind: Value, toMargin: logMargin, transform: expTransform},
	"multi:softprob":  {kind: ClassProbabilities, toMargin: identityMargin, transform: softmaxTransform, multi: true},
	"multi:softmax":   {kind: ClassIndex, toMargin: identityMargin, transform: argmaxTransform, multi: true},
	// binary:hinge predicts the class: 1 when the margin is positive (src/objective/hinge.cu).
	"binary:hinge": {kind: ClassIndex, toMargin: identityMargin, transform: hingeTransform},
	// One output per quantile_alpha; 3.4 sorts them (build sets Model.sortOutputs).
	"reg:quantileerror": {kind: Value, toMargin: identityMargin, transform: identityTransform},
	// Both survival objectives predict exp(margin): a hazard ratio (cox) or the predicted
	// survival time (aft), base_score mapped by log (src/objective/regression_obj.cu, aft_obj.cu).
	"survival:cox": {kind: Value, toMargin: logMargin, transform: expTransform},
	"survival:aft": {kind: Value, toMargin: logMargin, transform: expTransform},
	// reg:expectileerror (3.4): output 0 is the margin, output j adds a positive step to output
	// j-1, so expectiles cannot cross (ExpectileRegression in src/objective/regression_obj.cu).
	// build maps base_score into margins with the inverse, for the whole vector at once.
	"reg:expectileerror": {kind: Value, toMargin: identityMargin, transform: cumSoftplusTransform},
	// Ranking objectives predict the raw score (src/objective/lambdarank_obj.cc).
	"rank:pairwise": {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"rank:ndcg":     {kind: Value, toMargin: identityMargin, transform: identityTransform},
	"rank:map":      {kind: Value, toMargin: identityMargin, transform: identityTransform},
}

// SupportedObjectives lists the objectives Parse accepts, sorted.
func SupportedObjectives() []string {
	names := make([]string, 0, len(objectives))
	for n := range objectives {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookupObjective(name string) (objective, error) {
	o, ok := objectives[name]
	if !ok {
		return objective{}, fmt.Errorf("unsupported objective %q (supported: %s)", name,
			strings.Join(SupportedObjectives(), ", "))
	}
	return o, nil
}

func identityMargin(_ string, base float64) (float32, error) { return float32(base), nil }

func logitMargin(name string, base float64) (float32, error) {
	// XGBoost 3 accepts 0 and 1 (all training labels equal); the margin is then infinite.
	if !(base >= 0 && base <= 1) {
		return 0, fmt.Errorf("base_score %g: objective %s needs a value in [0, 1]", base, name)
	}
	b := float32(base)
	return float32(-math.Log(float64(1/b - 1))), nil
}

func logMargin(name string, base float64) (float32, error) {
	if !(base > 0) {
		return 0, fmt.Errorf("base_score %g: objective %s needs a positive value", base, name)
	}
	return float32(math.Log(float64(float32(base)))), nil
}

// transform names an objective's prediction transform. A switch rather than a func value
// lets the compiler keep the per-block margins on the stack.
type transform int

const (
	identityTransform transform = iota
	sigmoidTransform
	expTransform
	softmaxTransform
	argmaxTransform
	hingeTransform
	cumSoftplusTransform
)

// apply maps one row's margins (one per output group) into its outputs. Element-wise
// transforms apply to every output (multi-target regression, several quantiles).
func (t transform) apply(m []float32, out []float64) {
	switch t {
	case identityTransform:
		for i, v := range m {
			out[i] = float64(v)
		}
	case sigmoidTransform:
		for i, v := range m {
			out[i] = sigmoid(v)
		}
	case expTransform:
		for i, v := range m {
			out[i] = float64(float32(math.Exp(float64(v))))
		}
	case softmaxTransform:
		softmax(m, out)
	case argmaxTransform:
		argmax(m, out)
	case cumSoftplusTransform:
		pred := m[0]
		out[0] = float64(pred)
		for j := 1; j < len(m); j++ {
			pred += rtEps + softplus(m[j])
			out[j] = float64(pred)
		}
	case hingeTransform:
		out[0] = 0
		if m[0] > 0 {
			out[0] = 1
		}
	}
}

// sigmoid follows XGBoost's common::Sigmoid, computed in float32 like the library.
func sigmoid(m float32) float64 {
	return float64(float32(1) / (float32(1) + float32(math.Exp(-float64(m)))))
}

// softmax follows XGBoost's common::Softmax: subtract the maximum, exponentiate, normalise,
// in float32.
func softmax(m []float32, out []float64) {
	wmax := m[0]
	for _, v := range m[1:] {
		if v > wmax {
			wmax = v
		}
	}
	var sum float32
	for i, v := range m {
		e := float32(math.Exp(float64(v - wmax)))
		out[i] = float64(e)
		sum += e
	}
	for i := range m {
		out[i] = float64(float32(out[i]) / sum)
	}
}

// argmax returns the first index of the largest margin, as XGBoost's multi:softmax does.
func argmax(m []float32, out []float64) {
	best := 0
	for i, v := range m {
		if v > m[best] {
			best = i
		}
	}
	out[0] = float64(best)
}

// rtEps is XGBoost's kRtEps (include/xgboost/base.h).
const rtEps float32 = 1e-6

// softplus is common::SoftPlus (src/common/math.h) for float: each libm call rounded to float32.
func softplus(x float32) float32 {
	if x > 0 {
		return x + float32(math.Log1p(float64(float32(math.Exp(float64(-x))))))
	}
	return float32(math.Log1p(float64(float32(math.Exp(float64(x))))))
}

// softplusInv is common::SoftPlusInv for float.
func softplusInv(x float32) float32 {
	x = max(x, rtEps)
	return x + float32(math.Log(float64(float32(-math.Expm1(float64(-x))))))
}

// expectileMargins maps reg:expectileerror's base_score vector into margins as
// ExpectileRegression::ProbToMargin does: from the last output down, each becomes the inverse
// soft-plus of its gap to the one before.
func expectileMargins(margin []float32) {
	for j := len(margin) - 1; j > 0; j-- {
		gap := margin[j] - margin[j-1]
		margin[j] = softplusInv(gap - rtEps)
	}
}
