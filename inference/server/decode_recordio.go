package server

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
)

// minRecordBytes is the fewest body bytes one recordio-protobuf row takes: an 8-byte header and
// a payload that names the "values" feature (8 bytes at least).
const minRecordBytes = 16

// decodeRecordIO appends the rows of an application/x-recordio-protobuf body to x: RecordIO
// records, each a Record protobuf, one row each, as the SageMaker Python SDK's RecordSerializer
// and write_spmatrix_to_sparse_tensor write them
// (aws/sagemaker-python-sdk@v2.257.6:src/sagemaker/serializer_utils.py). The row is the
// features["values"] tensor (float32, float64 or int32): dense when it has no keys, else
// sparse, keys being the columns of the values and an absent column a missing value, as the
// built-in container reads it into a CSR matrix
// (aws/sagemaker-xgboost-container@cb8df91:src/sagemaker_xgboost_container/recordio_protobuf.py:46-141).
// Labels, uid, metadata and configuration are ignored. NaN is a missing value.
//
// Where the container skips a record, fails inside scipy, or would misalign its answers with
// the rows, this decoder refuses and names the record: no "values" feature, a Bytes tensor, a
// dense row of the wrong length, keys and values of different lengths, a key beyond the model's
// features or given twice, a shape other than one row, an infinite value.
func decodeRecordIO(d *decoders, body io.Reader, nf, maxRows int, x []float64) ([]float64, int, error) {
	d.rio.Reset(body)
	if cap(d.seen) < nf {
		d.seen = make([]bool, nf)
	}
	seen := d.seen[:nf]
	rows, ok := 0, false
	for {
		payload, err := d.rio.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var fe *recordio.FormatError
			if errors.As(err, &fe) {
				return x, 0, badRequest(CodeMalformedBody, "the application/x-recordio-protobuf body is not RecordIO: %s", fe.Error())
			}
			return x, 0, err
		}
		if rows == maxRows {
			return x, 0, errTooManyRows
		}
		rec := rows + 1
		start := len(x)
		if !d.noFastPath {
			if x, ok = d.fastRecord(payload, x, nf, seen); ok {
				rows++
				continue
			}
			x = x[:start]
		}
		if err := proto.Unmarshal(payload, &d.record); err != nil {
			return x, 0, badRequest(CodeMalformedBody, "record %d: the payload is not a SageMaker Record protobuf (aialgs.data.Record): %v", rec, err)
		}
		v, ok := d.record.GetFeatures()["values"]
		if !ok {
			return x, 0, badRequest(CodeMalformedBody, "record %d has no feature named \"values\" (it has %s); the SageMaker SDK's RecordSerializer writes each row there", rec, featureKeys(d.record.GetFeatures()))
		}
		switch t := v.GetValue().(type) {
		case *recordpb.Value_Float32Tensor:
			x, err = appendTensor(x, t.Float32Tensor.GetValues(), t.Float32Tensor.GetKeys(), t.Float32Tensor.GetShape(), nf, seen)
		case *recordpb.Value_Float64Tensor:
			x, err = appendTensor(x, t.Float64Tensor.GetValues(), t.Float64Tensor.GetKeys(), t.Float64Tensor.GetShape(), nf, seen)
		case *recordpb.Value_Int32Tensor:
			x, err = appendTensor(x, t.Int32Tensor.GetValues(), t.Int32Tensor.GetKeys(), t.Int32Tensor.GetShape(), nf, seen)
		case *recordpb.Value_Bytes:
			err = badRequest(CodeNonNumeric, "a Bytes value; send a float32, float64 or int32 tensor")
		default:
			err = badRequest(CodeMalformedBody, "an empty Value; send a float32, float64 or int32 tensor")
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Message = fmt.Sprintf("record %d, features[\"values\"]: %s", rec, e.Message)
			}
			return x[:start], 0, err
		}
		rows++
	}
	// Unknown fields merged into the reused tensors are dropped once per body, not per record.
	d.f32.ProtoReflect().SetUnknown(nil)
	d.f64.ProtoReflect().SetUnknown(nil)
	d.i32.ProtoReflect().SetUnknown(nil)
	if rows == 0 {
		return x, 0, badRequest(CodeEmptyInput, "the application/x-recordio-protobuf body has no records; send one Record per row")
	}
	return x, rows, nil
}

// appendTensor appends one row of nf values from a tensor's values, keys and shape.
func appendTensor[T float32 | float64 | int32](x []float64, values []T, keys, shape []uint64, nf int, seen []bool) ([]float64, error) {
	if len(keys) == 0 && (len(values) > 0 || len(shape) == 0) { // dense
		if len(values) != nf {
			return x, badRequest(CodeWrongFeatures, "expected %d features, got %d dense values", nf, len(values))
		}
		for i, v := range values {
			f := float64(v)
			if math.IsInf(f, 0) {
				return x, badRequest(CodeNonNumeric, "value %d is %v; send finite numbers, NaN for a missing value", i, f)
			}
			x = append(x, f)
		}
		return x, nil
	}
	// Sparse: the SDK writes shape [columns] beside the keys; a row with no values is all missing.
	if len(shape) > 1 {
		return x, badRequest(CodeMalformedBody, "shape %v is not one row; a record holds one row of shape [columns]", shape)
	}
	cols := uint64(nf)
	if len(shape) == 1 {
		if shape[0] > cols {
			return x, badRequest(CodeWrongFeatures, "shape [%d] is wider than this model's %d features", shape[0], nf)
		}
		cols = shape[0]
	}
	if len(keys) != len(values) {
		return x, badRequest(CodeMalformedBody, "%d keys for %d values; a sparse tensor has one key per value", len(keys), len(values))
	}
	start := len(x)
	x = slices.Grow(x, nf)
	for range nf {
		x = append(x, math.NaN())
	}
	clear(seen)
	for i, k := range keys {
		if k >= cols {
			return x, badRequest(CodeWrongFeatures, "key %d (value %d) is beyond the row's %d columns (keys count from 0)", k, i, cols)
		}
		if seen[k] {
			return x, badRequest(CodeMalformedBody, "key %d appears twice", k)
		}
		seen[k] = true
		f := float64(values[i])
		if math.IsInf(f, 0) {
			return x, badRequest(CodeNonNumeric, "the value of key %d is %v; send finite numbers, NaN for a missing value", k, f)
		}
		x[start+int(k)] = f
	}
	return x, nil
}

// featureKeys lists a record's feature names for an error message.
func featureKeys(m map[string]*recordpb.Value) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, quoteToken(k))
	}
	slices.Sort(keys)
	if len(keys) > 10 {
		keys = append(keys[:10], "…")
	}
	return strings.Join(keys, ", ")
}

// Field numbers of the Record schema, from the generated descriptors rather than written out.
var (
	recordFields   = (&recordpb.Record{}).ProtoReflect().Descriptor().Fields()
	featuresField  = recordFields.ByName("features")
	entryKeyNum    = featuresField.MapKey().Number()
	entryValueNum  = featuresField.MapValue().Number()
	valueFields    = (&recordpb.Value{}).ProtoReflect().Descriptor().Fields()
	float32Num     = valueFields.ByName("float32_tensor").Number()
	float64Num     = valueFields.ByName("float64_tensor").Number()
	int32Num       = valueFields.ByName("int32_tensor").Number()
	mergeUnmarshal = proto.UnmarshalOptions{Merge: true}
)

// fastRecord reads the one shape that the SageMaker SDK writes, a Record whose only field is a
// single features entry "values" holding a float32, float64 or int32 tensor, without most of
// the allocations of proto.Unmarshal into a Record (9 per record: the map, its entry, key and
// Value are made anew each time): it finds the tensor's bytes and unmarshals them, with
// google.golang.org/protobuf, into a tensor reused from record to record, which leaves one
// allocation per record (the packed values' slice, which protobuf-go allocates on every decode). Anything else (labels, other features, other
// fields, a wire error) reports false, and the record is read again by proto.Unmarshal into a
// Record, which gives the answer and the error; FuzzRecordIOFastPath checks that the two agree.
func (d *decoders) fastRecord(payload []byte, x []float64, nf int, seen []bool) ([]float64, bool) {
	entry, ok := onlyBytesField(payload, featuresField.Number())
	if !ok {
		return x, false
	}
	num, typ, n := protowire.ConsumeTag(entry)
	if n < 0 || num != entryKeyNum || typ != protowire.BytesType {
		return x, false
	}
	key, m := protowire.ConsumeBytes(entry[n:])
	if m < 0 || string(key) != "values" {
		return x, false
	}
	value, ok := onlyBytesField(entry[n+m:], entryValueNum)
	if !ok {
		return x, false
	}
	num, typ, n = protowire.ConsumeTag(value)
	if n < 0 || typ != protowire.BytesType {
		return x, false
	}
	tensor, m := protowire.ConsumeBytes(value[n:])
	if m < 0 || n+m != len(value) {
		return x, false
	}
	var err error
	switch num {
	case float32Num:
		t := &d.f32
		t.Values, t.Keys, t.Shape = t.Values[:0], t.Keys[:0], t.Shape[:0]
		if mergeUnmarshal.Unmarshal(tensor, t) != nil {
			return x, false
		}
		x, err = appendTensor(x, t.Values, t.Keys, t.Shape, nf, seen)
	case float64Num:
		t := &d.f64
		t.Values, t.Keys, t.Shape = t.Values[:0], t.Keys[:0], t.Shape[:0]
		if mergeUnmarshal.Unmarshal(tensor, t) != nil {
			return x, false
		}
		x, err = appendTensor(x, t.Values, t.Keys, t.Shape, nf, seen)
	case int32Num:
		t := &d.i32
		t.Values, t.Keys, t.Shape = t.Values[:0], t.Keys[:0], t.Shape[:0]
		if mergeUnmarshal.Unmarshal(tensor, t) != nil {
			return x, false
		}
		x, err = appendTensor(x, t.Values, t.Keys, t.Shape, nf, seen)
	default:
		return x, false
	}
	return x, err == nil
}

// onlyBytesField returns the contents of b's one field if that is a length-delimited field
// number num and nothing follows it.
func onlyBytesField(b []byte, num protowire.Number) ([]byte, bool) {
	got, typ, n := protowire.ConsumeTag(b)
	if n < 0 || got != num || typ != protowire.BytesType {
		return nil, false
	}
	v, m := protowire.ConsumeBytes(b[n:])
	if m < 0 || n+m != len(b) {
		return nil, false
	}
	return v, true
}
