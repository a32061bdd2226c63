package server_test

import (
	"testing"

	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
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
