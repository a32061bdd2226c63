package server

import (
	"bytes"
	"log/slog"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/model"
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

type wideModel struct{ nf int }

func (m wideModel) Info() model.Info {
	return model.Info{Format: "fake", Source: "test", Objective: "reg:squarederror", NumFeatures: m.nf, Task: model.Regression, OutputWidth: 1}
}

func (m wideModel) Predict(x, out []float64) error { clear(out); return nil }

// TestReservationCoversSparseBodies: a libsvm line or a sparse record that names no value still
// stands for a whole row, so the memory reserved before the body is read must count rows, not
// body bytes, as it does for JSON and CSV, where each value takes a byte at least.
func TestReservationCoversSparseBodies(t *testing.T) {
	const nf = 1000
	s, err := NewServer(slog.New(slog.DiscardHandler), wideModel{nf}, Options{})
	require.NoError(t, err)
	var rio []byte
	for range 100 {
		rio = recordio.AppendRecord(rio, seedRecord(&recordpb.Value{Value: &recordpb.Value_Float32Tensor{
			Float32Tensor: &recordpb.Float32Tensor{Shape: []uint64{nf}}}}, false))
	}
	for in, body := range map[inputFormat][]byte{inputLibSVM: bytes.Repeat([]byte("0\n"), 500), inputRecordIO: rio} {
		st := new(requestState)
		st.scan.reset(bytes.NewReader(body))
		rows, err := s.decodeBody(in, st, s.limits.rows[formatCSV])
		require.NoError(t, err, in.String())
		require.Equal(t, rows*nf, len(st.x))
		decoded := int64(8 * len(st.x))
		require.Greater(t, decoded, 16*int64(len(body)), "%s: more than the bound that counts body bytes", in)
		assert.LessOrEqual(t, decoded, s.reservation(int64(len(body)), in, formatCSV, false), in.String())
	}
}
