package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
)

// inputFormat is a request body encoding. JSON and CSV are the server's own; the others are
// those of SageMaker's built-in algorithm containers, read so that their clients work unchanged.
type inputFormat int

const (
	inputJSON inputFormat = iota
	inputCSV
	inputLibSVM
	inputRecordIO
	inputJSONLines
)

// String is the format's media type.
func (in inputFormat) String() string {
	switch in {
	case inputCSV:
		return "text/csv"
	case inputLibSVM:
		return "text/libsvm"
	case inputRecordIO:
		return "application/x-recordio-protobuf"
	case inputJSONLines:
		return "application/jsonlines"
	}
	return "application/json"
}

// acceptedContentTypes is what an unsupported Content-Type's error lists.
const acceptedContentTypes = "application/json, text/csv, text/libsvm (or text/x-libsvm), application/x-recordio-protobuf or application/jsonlines"

// builtinInputFormat maps the media types of SageMaker's built-in XGBoost container to their
// formats (aws/sagemaker-xgboost-container@c988a0e:src/sagemaker_xgboost_container/data_utils.py:86-122).
func builtinInputFormat(mt string) (inputFormat, bool) {
	switch mt {
	case "text/libsvm", "text/x-libsvm":
		return inputLibSVM, true
	case "application/x-recordio-protobuf":
		return inputRecordIO, true
	case "application/jsonlines":
		return inputJSONLines, true
	}
	return 0, false
}

// checkCSVParams validates text/csv's parameters as the built-in container does: label_size,
// the number of label columns SageMaker's CSV convention puts first, must be 1 for XGBoost; it is
// only checked, no column is dropped, because at inference the body holds features only
// (aws/sagemaker-xgboost-container@c988a0e:src/sagemaker_xgboost_container/data_utils.py:105-114).
// Other parameters (charset) are ignored, as before.
func checkCSVParams(ct, params string) error {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "label_size") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if v != "1" {
			return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedType,
				"Content-Type %s: label_size must be 1 (one label column, as SageMaker's XGBoost expects), got %s; at inference the body holds features only, so leave label_size out or set it to 1",
				quoteToken(ct), quoteToken(v))
		}
	}
	return nil
}

// bound is the most rows and decoded values a body of n bytes can give in this format, for the
// memory reservation. In JSON, CSV and JSON lines every value takes at least one body byte; a
// libsvm line or a sparse record names only the values that are present, so a short one stands
// for a whole row of missing values.
func (in inputFormat) bound(n, nf, maxRows int64) (rows, values int64) {
	switch in {
	case inputLibSVM:
		rows = min(maxRows, n/2+1) // "0\n": a label alone
		return rows, rows * nf
	case inputRecordIO:
		rows = min(maxRows, n/minRecordBytes+1)
		return rows, rows * nf
	}
	rows = min(maxRows, n/nf+1)
	return rows, min(n, rows*nf)
}

// decoders is the state of the decoders that JSON and CSV requests do not need, made on the
// first request that does.
type decoders struct {
	rio    recordio.Reader
	record recordpb.Record
	f32    recordpb.Float32Tensor // reused by decodeRecordIO's fast path
	f64    recordpb.Float64Tensor
	i32    recordpb.Int32Tensor
	seen   []bool

	noFastPath bool // for tests: read every record with proto.Unmarshal
}

// decodeBody decodes the body in st.scan in format in, appending to st.x.
func (s *Server) decodeBody(in inputFormat, st *requestState, maxRows int) (int, error) {
	nf := s.info.NumFeatures
	var rows int
	var err error
	switch in {
	case inputCSV:
		st.x, rows, err = decodeCSV(&st.scan, nf, maxRows, st.x[:0])
		return rows, err
	case inputJSON:
		st.x, rows, st.seen, err = decodeJSON(&st.scan, nf, maxRows, s.features, st.x[:0], st.seen)
		return rows, err
	}
	if st.dec == nil {
		st.dec = new(decoders)
	}
	switch in {
	case inputLibSVM:
		st.x, rows, st.dec.seen, err = decodeLibSVM(&st.scan, nf, maxRows, s.opts.LibSVMIndexBase, st.x[:0], st.dec.seen)
	case inputRecordIO:
		st.x, rows, err = decodeRecordIO(st.dec, st.scan.r, nf, maxRows, st.x[:0])
	case inputJSONLines:
		st.x, rows, st.dec.seen, err = decodeJSONLines(&st.scan, nf, maxRows, s.features, st.x[:0], st.dec.seen)
	}
	return rows, err
}

// bytes is the memory the decoders' buffers hold.
func (d *decoders) bytes() int {
	if d == nil {
		return 0
	}
	return d.rio.Cap() + cap(d.seen) + 4*cap(d.f32.Values) + 8*cap(d.f64.Values) + 4*cap(d.i32.Values) +
		8*(cap(d.f32.Keys)+cap(d.f64.Keys)+cap(d.i32.Keys))
}

// dropLarge lets go of buffers a large request grew, as requestState.dropLarge does.
func (d *decoders) dropLarge() {
	if d == nil {
		return
	}
	if d.rio.Cap() > 4*scanBufSize {
		d.rio = recordio.Reader{}
	}
	d.rio.Reset(nil)
	if cap(d.seen) > maxPooledFloats {
		d.seen = nil
	}
	d.record.Reset()
	if d.bytes() > maxPooledBytes {
		d.f32, d.f64, d.i32 = recordpb.Float32Tensor{}, recordpb.Float64Tensor{}, recordpb.Int32Tensor{}
	}
}

// builtinInputContent is the OpenAPI description of the request bodies SageMaker's built-in
// algorithm containers take, beside JSON and CSV.
func builtinInputContent(content obj, nf int, base LibSVMIndexBase) obj {
	libsvm := obj{"schema": obj{"type": "string", "description": fmt.Sprintf(
		"one row per line: \"label index:value ...\"; the label is ignored; %s; an absent index is a missing value", base.describe(nf))}}
	content["text/libsvm"] = libsvm
	content["text/x-libsvm"] = libsvm
	content["application/x-recordio-protobuf"] = obj{"schema": obj{"type": "string", "format": "binary", "description": fmt.Sprintf(
		"MXNet RecordIO records, each a SageMaker aialgs.data.Record protobuf whose features[\"values\"] is one row: a dense float32, float64 or int32 tensor of %d values, or a sparse one (keys are columns from 0; an absent key is a missing value), as the SageMaker Python SDK's RecordSerializer writes it; labels are ignored", nf)}}
	content["application/jsonlines"] = obj{"schema": obj{"type": "string", "description": fmt.Sprintf(
		"one row per line: a JSON array of %d values, {\"features\": [...]}, or an object of feature values by name; null is a missing value", nf)}}
	if csv, ok := content["text/csv"].(obj); ok {
		if schema, ok := csv["schema"].(obj); ok {
			schema["description"] = fmt.Sprint(schema["description"], "; a label_size parameter (SageMaker's) must be 1 and drops no column")
		}
	}
	return content
}
