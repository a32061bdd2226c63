package lightgbm_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/lightgbm"
)

// BenchmarkPredict measures the parity models: a binary DART model (10 trees) and a 5-class
// model (10 iterations, 50 trees of up to 31 leaves), on their own test rows, repeated.
func BenchmarkPredict(b *testing.B) {
	for _, bc := range []struct{ name, model, rows string }{
		{"binary-dart", "lg_dart_breast_cancer.model", "breast_cancer_test.tsv"},
		{"multiclass-5", "lgmulticlass.model.gz", "multiclass_test_first100.tsv"},
	} {
		m, err := lightgbm.Parse(bytes.NewReader(readModelFile(b, bc.model)))
		require.NoError(b, err)
		skip := 0
		if bc.name == "multiclass-5" {
			skip = 1 // the label column
		}
		src := readMatrix(b, bc.rows, skip)
		for _, rows := range []int{1, 1000} {
			b.Run(fmt.Sprintf("%s/rows=%d", bc.name, rows), func(b *testing.B) {
				x := make([]float64, 0, rows*m.NumFeatures())
				for i := 0; i < rows; i++ {
					x = append(x, src[i%len(src)]...)
				}
				out := make([]float64, rows*m.OutputWidth())
				b.ReportAllocs()
				for b.Loop() {
					if err := m.Predict(x, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
