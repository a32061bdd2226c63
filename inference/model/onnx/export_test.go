//go:build onnx

package onnx

// BatchStats reports the runs and rows of an ONNX model's batcher, for the benchmarks.
func BatchStats(m Model) (runs, rows int64) {
	s := m.(*session)
	if s.batcher == nil {
		return 0, 0
	}
	return s.batcher.Stats()
}
