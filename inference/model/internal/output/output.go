// Package output is what the model format packages share about their predictions: the kinds of
// output a model writes per row, and the shape check every Predict makes of its buffers.
package output

import "fmt"

// Kind says what Predict writes per row, independent of the objective's exact name.
type Kind int

const (
	// Value is one number per row: a regression value or an untransformed margin.
	Value Kind = iota
	// Probability is one number per row, the probability of the positive class.
	Probability
	// ClassProbabilities is NumClass probabilities per row.
	ClassProbabilities
	// ClassIndex is one number per row, the index of the most likely class.
	ClassIndex
	// Values is several numbers per row that are not class probabilities: a network's output
	// vector, or a multi-target regression.
	Values
)

// String names the kind for messages.
func (k Kind) String() string {
	switch k {
	case Value:
		return "value"
	case Probability:
		return "probability"
	case ClassProbabilities:
		return "class-probabilities"
	case ClassIndex:
		return "class-index"
	case Values:
		return "values"
	}
	return "unknown"
}

// Rows checks that x holds whole rows of numFeatures values and that out holds width values for
// each, and returns the number of rows.
func Rows(x, out []float64, numFeatures, width int) (int, error) {
	if len(x)%numFeatures != 0 {
		return 0, fmt.Errorf("input has %d values, not a multiple of %d features", len(x), numFeatures)
	}
	rows := len(x) / numFeatures
	if len(out) != rows*width {
		return 0, fmt.Errorf("output has room for %d values, want %d (%d rows x %d)", len(out), rows*width, rows, width)
	}
	return rows, nil
}
