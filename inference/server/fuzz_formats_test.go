package server_test

import (
	"math"
	"net/http"
	"testing"

	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/server"
)

// Fuzz targets for the SageMaker input formats, through the handler as fuzzInvoke drives the
// JSON and CSV ones: any body gives a known status, a JSON error, or one answer per row the
// model saw. `go test -fuzz FuzzDecodeLibSVM ./inference/server/` explores further.

func FuzzDecodeLibSVM(f *testing.F) {
	for _, seed := range []string{"0 0:1 1:2 2:3\n", "1 qid:2 1:0.5\n\n0\n", "0 2:nan\r\n0\t1:1e-05", "0 3:1", "0 1:1 1:2", "x 1:1", "0 1:Infinity"} {
		f.Add([]byte(seed))
	}
	s, m := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzInvoke(t, s, m, "text/libsvm", body) })
}

func FuzzDecodeJSONLines(f *testing.F) {
	for _, seed := range []string{"[1,2,3]\n", "{\"features\":[1,null,3]}\r\n\n{\"a\":1}", "[1,2]\n", "[1,\n2,3]", "{\"features\":3}", "\ufeff[1e5,-0,0.5]"} {
		f.Add([]byte(seed))
	}
	s, m := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzInvoke(t, s, m, "application/jsonlines", body) })
}

func FuzzDecodeRecordIO(f *testing.F) {
	f.Add([]byte(recordBody(f, f32([]float32{1, 2, 3}, nil, nil))))
	f.Add([]byte(recordBody(f, f32([]float32{1}, []uint64{2}, []uint64{3}), f32(nil, nil, []uint64{3}))))
	f.Add([]byte(recordBody(f, &recordpb.Record{Features: map[string]*recordpb.Value{"values": {Value: &recordpb.Value_Float64Tensor{
		Float64Tensor: &recordpb.Float64Tensor{Values: []float64{1, 2, 3}}}}}, Uid: new("x")})))
	f.Add([]byte{0x0a, 0x23, 0xd7, 0xce, 1, 0, 0, 0x20})
	s, m := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzInvoke(t, s, m, recordIOType, body) })
}

// FuzzLibSVMIndexBases reads each body with the three index bases: whatever auto answers with
// rows, base 0 or base 1 answers with the same rows (it is one of them per request, never a mix).
func FuzzLibSVMIndexBases(f *testing.F) {
	for _, seed := range []string{"0 1:1 3:3\n", "0 0:1\n0 3:3\n", "0 3:1\n", "\n0\n0 2:2\n\n", "0 1:1 1:2", "0 0:nan 4:1"} {
		f.Add([]byte(seed))
	}
	type target struct {
		s *server.Server
		m *fakeModel
	}
	var ts []target
	for _, base := range []server.LibSVMIndexBase{server.LibSVMIndexAuto, server.LibSVMIndex0, server.LibSVMIndex1} {
		m := sumModel(3, "a", "b", "c")
		ts = append(ts, target{newServer(f, m, server.Options{MaxBodyBytes: fuzzLimit, LibSVMIndexBase: base}), m})
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		codes := make([]int, len(ts))
		rows := make([][][]float64, len(ts))
		for i, tg := range ts {
			codes[i] = fuzzInvoke(t, tg.s, tg.m, "text/libsvm", body).Code
			rows[i] = tg.m.rows()
		}
		if codes[0] != http.StatusOK {
			return
		}
		for _, i := range []int{1, 2} {
			if codes[i] == http.StatusOK && sameNaN(rows[0], rows[i]) {
				return
			}
		}
		t.Fatalf("auto read %q as %v; base 0 gave %d %v, base 1 %d %v", body, rows[0], codes[1], rows[1], codes[2], rows[2])
	})
}

// sameNaN compares rows bit for bit, NaN equal to NaN.
func sameNaN(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) && !(math.IsNaN(a[i][j]) && math.IsNaN(b[i][j])) {
				return false
			}
		}
	}
	return true
}
