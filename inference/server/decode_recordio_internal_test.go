package server

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
)

func decodeBoth(t *testing.T, body []byte, nf int) {
	t.Helper()
	fast, slow := new(decoders), &decoders{noFastPath: true}
	xf, rf, ef := decodeRecordIO(fast, bytes.NewReader(body), nf, 1000, nil)
	xs, rs, es := decodeRecordIO(slow, bytes.NewReader(body), nf, 1000, nil)
	require.Equal(t, rs, rf, "rows")
	if es != nil || ef != nil {
		require.Error(t, ef)
		require.Error(t, es)
		require.Equal(t, es.Error(), ef.Error())
		return
	}
	require.Equal(t, len(xs), len(xf))
	for i := range xs {
		require.Equal(t, math.Float64bits(xs[i]), math.Float64bits(xf[i]), "value %d", i)
	}
}

func seedRecord(v *recordpb.Value, label bool) []byte {
	r := &recordpb.Record{Features: map[string]*recordpb.Value{"values": v}}
	if label {
		r.Label = map[string]*recordpb.Value{"values": v}
	}
	b, err := proto.Marshal(r)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzRecordIOFastPath checks that the allocation-free reading of SDK-shaped records gives the
// same rows and the same errors as proto.Unmarshal into a Record, for any record payload.
func FuzzRecordIOFastPath(f *testing.F) {
	f.Add(seedRecord(&recordpb.Value{Value: &recordpb.Value_Float32Tensor{Float32Tensor: &recordpb.Float32Tensor{Values: []float32{1, 2, 3}}}}, false))
	f.Add(seedRecord(&recordpb.Value{Value: &recordpb.Value_Float64Tensor{Float64Tensor: &recordpb.Float64Tensor{Values: []float64{1, 2}, Keys: []uint64{0, 2}, Shape: []uint64{3}}}}, false))
	f.Add(seedRecord(&recordpb.Value{Value: &recordpb.Value_Int32Tensor{Int32Tensor: &recordpb.Int32Tensor{Values: []int32{1, -2, 3}}}}, true))
	f.Add(seedRecord(&recordpb.Value{Value: &recordpb.Value_Float32Tensor{Float32Tensor: &recordpb.Float32Tensor{Values: []float32{1}, Keys: []uint64{5}, Shape: []uint64{3}}}}, false))
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, payload []byte) {
		// Twice in one body, so that a tensor reused from the first record must not leak into the second.
		body := recordio.AppendRecord(recordio.AppendRecord(nil, payload), payload)
		decodeBoth(t, body, 3)
	})
}

// TestRecordIOFastPathAllocatesOncePerRecord: what is left is the packed values' slice, which
// google.golang.org/protobuf v1.36 allocates anew for every decode (impl.pointer.growFloat32Slice);
// proto.Unmarshal into a Record made 9 allocations per record.
func TestRecordIOFastPathAllocatesOncePerRecord(t *testing.T) {
	v := &recordpb.Value{Value: &recordpb.Value_Float32Tensor{Float32Tensor: &recordpb.Float32Tensor{Values: []float32{1, 2, 3, 4}}}}
	var body []byte
	for range 1000 {
		body = recordio.AppendRecord(body, seedRecord(v, false))
	}
	d := new(decoders)
	x := make([]float64, 0, 4000)
	rd := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(10, func() {
		rd.Reset(body)
		var err error
		x, _, err = decodeRecordIO(d, rd, 4, 1000, x[:0])
		require.NoError(t, err)
	})
	require.LessOrEqual(t, allocs, 1010.0, "allocations per 1000-record body")
}
