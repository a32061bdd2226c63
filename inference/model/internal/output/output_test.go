package output

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRows(t *testing.T) {
	tests := []struct {
		name      string
		x, out    int
		nf, width int
		rows      int
		err       string
	}{
		{"two rows of three", 6, 2, 3, 1, 2, ""},
		{"multi-class", 4, 6, 2, 3, 2, ""},
		{"empty", 0, 0, 4, 1, 0, ""},
		{"partial row", 7, 2, 3, 1, 0, "input has 7 values, not a multiple of 3 features"},
		{"short output", 6, 1, 3, 1, 0, "output has room for 1 values, want 2 (2 rows x 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Rows(make([]float64, tc.x), make([]float64, tc.out), tc.nf, tc.width)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.rows, rows)
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Value: "value", Probability: "probability",
		ClassProbabilities: "class-probabilities", ClassIndex: "class-index", Kind(9): "unknown"} {
		assert.Equal(t, want, k.String())
	}
}
