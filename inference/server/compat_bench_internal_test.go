package server

import "testing"

// BenchmarkCompatEncodeCSV is the sagemaker-xgboost default answer for 1000 rows of one score.
func BenchmarkCompatEncodeCSV(b *testing.B) {
	e := &compatEncoder{objective: "binary:logistic", numClass: 2, width: 1}
	out := make([]float64, 1000)
	for i := range out {
		out[i] = float64(float32(i) / 1001)
	}
	c := &Compat{DefaultAccept: "text/csv"}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = e.encode(buf[:0], c, compatCSV, out, len(out))
	}
}
