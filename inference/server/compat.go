package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/model"
)

// The reference for this file is SageMaker's built-in XGBoost container,
// aws/sagemaker-xgboost-container@cb8df91cd44c7b01c53ccf321fd3fdf3eb78adae (ref below):
// src/sagemaker_xgboost_container/algorithm_mode/serve.py (serve.py) and serve_utils.py, with the
// CSV encoder of aws/sagemaker-containers@526dda9:src/sagemaker_containers/_encoders.py:129-151.

// Compat makes the server answer as SageMaker's built-in XGBoost container does. The zero
// value is that container's defaults.
type Compat struct {
	// DefaultAccept is the response type when Accept is absent or */*
	// (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT; serve.py:172-174). Default text/csv.
	DefaultAccept string
	// OutputKeys (SAGEMAKER_INFERENCE_OUTPUT, serve_utils.py:269-279) selects the content of each
	// prediction; nil answers the raw scores.
	OutputKeys []string
	// Batch (SAGEMAKER_BATCH, set by Batch Transform) writes one line per prediction whatever
	// the Accept, as serve.py:241-242 does.
	Batch bool
}

// CompatAccepts are the response types of the built-in container (serve.py:31).
var CompatAccepts = []string{"application/json", "application/jsonlines", "application/x-recordio-protobuf", "text/csv"}

// OutputKeys are the SAGEMAKER_INFERENCE_OUTPUT keys, in the order a prediction lists them
// (serve_utils.py:59-75, 429-449).
var OutputKeys = []string{"predicted_label", "labels", "probability", "probabilities", "raw_score", "raw_scores", "predicted_score"}

// validKeys is serve_utils.py:78-89: what each objective can answer.
var validKeys = map[string][]string{
	"reg:squarederror": {"predicted_score"}, "reg:logistic": {"predicted_score"}, "reg:gamma": {"predicted_score"},
	"reg:absoluteerror": {"predicted_score"}, "reg:tweedie": {"predicted_score"},
	"binary:logistic": {"predicted_label", "labels", "probability", "probabilities", "raw_score", "raw_scores"},
	"binary:logitraw": {"predicted_label", "labels", "raw_score", "raw_scores"},
	"binary:hinge":    {"predicted_label", "labels", "raw_score", "raw_scores"},
	"multi:softmax":   {"predicted_label", "labels", "raw_score", "raw_scores"},
	"multi:softprob":  {"predicted_label", "labels", "probability", "probabilities", "raw_score", "raw_scores"},
}

// ParseOutputKeys reads SAGEMAKER_INFERENCE_OUTPUT as the container does: spaces removed,
// lower case, comma-separated (serve_utils.py:275). Unknown keys are an error here, where the
// container answers NaN for them, because a typo would otherwise go unnoticed.
func ParseOutputKeys(v string) ([]string, error) {
	keys := strings.Split(strings.ToLower(strings.ReplaceAll(v, " ", "")), ",")
	for _, k := range keys {
		if !isOutputKey(k) {
			return nil, fmt.Errorf("output key %q is not one of %s", k, strings.Join(OutputKeys, ", "))
		}
	}
	return keys, nil
}

func isOutputKey(k string) bool {
	for _, o := range OutputKeys {
		if k == o {
			return true
		}
	}
	return false
}

// checkCompat validates c against the model at start-up, where the container fails per request.
func checkCompat(c *Compat, info model.Info) error {
	if c.DefaultAccept == "" {
		c.DefaultAccept = "text/csv"
	}
	if _, ok := compatFormatOf(strings.ToLower(c.DefaultAccept)); !ok {
		return fmt.Errorf("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT %q is not one of %s", c.DefaultAccept, strings.Join(CompatAccepts, ", "))
	}
	if c.OutputKeys != nil {
		if _, ok := validKeys[info.Objective]; !ok {
			// serve_utils.py:416-417 refuses it on every request with a 500.
			return fmt.Errorf("SAGEMAKER_INFERENCE_OUTPUT: objective %q has no selectable outputs; the objectives that have are binary:logistic, binary:logitraw, binary:hinge, multi:softmax, multi:softprob and the reg: objectives reg:squarederror, reg:logistic, reg:gamma, reg:absoluteerror, reg:tweedie", info.Objective)
		}
	}
	return nil
}

// compatFormat is a response type of the built-in container.
type compatFormat int

const (
	compatCSV compatFormat = iota
	compatJSON
	compatJSONLines
	compatRecordIO
)

var compatContentTypes = [...][]string{
	compatCSV: {"text/csv"}, compatJSON: {"application/json"},
	compatJSONLines: {"application/jsonlines"}, compatRecordIO: {"application/x-recordio-protobuf"},
}

func compatFormatOf(mt string) (compatFormat, bool) {
	switch mt {
	case "text/csv":
		return compatCSV, true
	case "application/json":
		return compatJSON, true
	case "application/jsonlines":
		return compatJSONLines, true
	case "application/x-recordio-protobuf":
		return compatRecordIO, true
	}
	return 0, false
}

// compatAccept reads Accept as serve.py:163-179 does: the media type before the first ';'
// (cgi.parse_header), the default when empty or */*, else one of CompatAccepts or a 406. Unlike
// RFC 9110 negotiation, a list ("a, b") is one unknown type.
func (c *Compat) accept(r *http.Request) (compatFormat, error) {
	mt, _, _ := strings.Cut(r.Header.Get("Accept"), ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" || mt == "*/*" {
		mt = strings.ToLower(c.DefaultAccept)
	}
	if f, ok := compatFormatOf(mt); ok {
		return f, nil
	}
	return 0, errorf(http.StatusNotAcceptable, CodeNotAcceptable,
		"Accept type %s is not supported. Please use supported accept types: %s", quoteToken(mt), strings.Join(CompatAccepts, ", "))
}

// compatEncoder writes predictions as the built-in container does.
type compatEncoder struct {
	objective string
	numClass  int
	width     int
}

// value is one entry of a selected prediction: a Python int, float, list of either, or NaN.
type value struct {
	nums  []float64
	ints  bool // integers, written without a decimal point
	list  bool
	isNaN bool
}

// selected builds one row's entries for keys, as get_selected_predictions
// (serve_utils.py:397-450): the valid keys in their fixed order, then the invalid ones as NaN.
func (e *compatEncoder) selected(o []float64, keys []string, dst []value) []value {
	dst = dst[:0]
	valid := validKeys[e.objective]
	has := func(k string) bool {
		for _, v := range valid {
			if v == k {
				for _, s := range keys {
					if s == k {
						return true
					}
				}
			}
		}
		return false
	}
	obj := e.objective
	num := func(v float64) value { return value{nums: []float64{v}} }
	integer := func(v float64) value { return value{nums: []float64{v}, ints: true} }
	for _, k := range OutputKeys {
		if !has(k) {
			continue
		}
		switch k {
		case "predicted_label": // _get_predicted_label, serve_utils.py:299-314
			switch obj {
			case "binary:hinge", "multi:softmax":
				dst = append(dst, num(o[0]))
			case "binary:logistic":
				dst = append(dst, integer(b2f(o[0] > 0.5)))
			case "binary:logitraw":
				dst = append(dst, integer(b2f(o[0] > 0)))
			case "multi:softprob":
				dst = append(dst, integer(float64(argmaxFirst(o))))
			}
		case "labels": // _get_labels, serve_utils.py:282-296
			n := 2
			if strings.HasPrefix(obj, "multi:") {
				n = e.numClass
			}
			l := value{ints: true, list: true, nums: make([]float64, n)}
			for i := range l.nums {
				l.nums[i] = float64(i)
			}
			dst = append(dst, l)
		case "probability", "raw_score": // serve_utils.py:317-332, 351-370
			if obj == "multi:softprob" {
				dst = append(dst, num(o[argmaxFirst(o)]))
			} else {
				dst = append(dst, num(o[0]))
			}
		case "probabilities", "raw_scores": // serve_utils.py:335-348, 373-394: [1-p, p] for one score
			if obj == "multi:softprob" {
				dst = append(dst, value{list: true, nums: o})
			} else {
				dst = append(dst, value{list: true, nums: []float64{1 - o[0], o[0]}})
			}
		case "predicted_score":
			dst = append(dst, num(o[0]))
		}
	}
	for _, k := range keys {
		if !has(k) {
			dst = append(dst, value{isNaN: true})
		}
	}
	return dst
}

// selectedKeys is the key order of selected's entries.
func (e *compatEncoder) selectedKeys(keys []string) []string {
	valid := validKeys[e.objective]
	var out, invalid []string
	for _, k := range OutputKeys {
		for _, v := range valid {
			if v == k && contains(keys, k) {
				out = append(out, k)
			}
		}
	}
	for _, k := range keys {
		if !contains(valid, k) && !contains(invalid, k) {
			invalid = append(invalid, k)
		}
	}
	return append(out, invalid...)
}

func contains(s []string, k string) bool {
	for _, v := range s {
		if v == k {
			return true
		}
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// argmaxFirst is np.argmax: the first of the largest values.
func argmaxFirst(o []float64) int {
	best := 0
	for i := 1; i < len(o); i++ {
		if o[i] > o[best] {
			best = i
		}
	}
	return best
}

// encode appends the answer for rows predictions to b.
func (e *compatEncoder) encode(b []byte, c *Compat, f compatFormat, out []float64, rows int) []byte {
	if c.OutputKeys != nil {
		return e.encodeSelected(b, c, f, out, rows)
	}
	w := e.width
	row := func(r int) []float64 { return out[r*w : (r+1)*w] }
	switch {
	case c.Batch: // serve.py:241-242: "\n".join(map(str, preds_list)) + "\n", whatever the Accept
		for r := range rows {
			b = appendPyScore(b, row(r), w, false)
			b = append(b, '\n')
		}
	case f == compatJSON: // encode_predictions_as_json, serve_utils.py:536-548
		b = append(b, `{"predictions": [`...)
		for r := range rows {
			if r > 0 {
				b = append(b, ", "...)
			}
			b = append(b, `{"score": `...)
			b = appendPyScore(b, row(r), w, true)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	case f == compatJSONLines: // the JSON answer one entry a line, as json_to_jsonlines would
		for r := range rows {
			b = append(b, `{"score": `...)
			b = appendPyScore(b, row(r), w, true)
			b = append(b, "}\n"...)
		}
	case f == compatRecordIO:
		for r := range rows {
			b = appendRecord(b, []string{"score"}, []value{{nums: row(r), list: true}})
		}
	default: // array_to_csv: csv.writer rows of str(float)
		for r := range rows {
			for i, v := range row(r) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendPyFloat(b, v, false)
			}
			b = append(b, '\n')
		}
	}
	return b
}

func (e *compatEncoder) encodeSelected(b []byte, c *Compat, f compatFormat, out []float64, rows int) []byte {
	keys := e.selectedKeys(c.OutputKeys)
	var vals []value
	w := e.width
	switch f {
	case compatJSON, compatJSONLines: // json.dumps({"predictions": ...}) / json_to_jsonlines
		if f == compatJSON {
			b = append(b, `{"predictions": [`...)
		}
		for r := range rows {
			vals = e.selected(out[r*w:(r+1)*w], c.OutputKeys, vals)
			if r > 0 && f == compatJSON {
				b = append(b, ", "...)
			}
			b = append(b, '{')
			for i, v := range vals {
				if i > 0 {
					b = append(b, ", "...)
				}
				b = appendJSONString(b, keys[i])
				b = append(b, ": "...)
				b = appendPyValue(b, v, true)
			}
			b = append(b, '}')
			if f == compatJSONLines {
				b = append(b, '\n')
			}
		}
		if f == compatJSON {
			b = append(b, "]}"...)
		}
	case compatRecordIO: // _encode_selected_predictions_recordio_protobuf, serve_utils.py:487-507
		for r := range rows {
			vals = e.selected(out[r*w:(r+1)*w], c.OutputKeys, vals)
			b = appendRecord(b, keys, vals)
		}
	default: // _encode_selected_predictions_csv, serve_utils.py:453-480: the requested key order
		order := make([]int, len(c.OutputKeys))
		for i, k := range c.OutputKeys {
			for j, s := range keys {
				if s == k {
					order[i] = j
				}
			}
		}
		for r := range rows {
			if r > 0 {
				b = append(b, '\n')
			}
			vals = e.selected(out[r*w:(r+1)*w], c.OutputKeys, vals)
			for i, j := range order {
				if i > 0 {
					b = append(b, ',')
				}
				if vals[j].list {
					b = append(b, '"')
					b = appendPyValue(b, vals[j], false)
					b = append(b, '"')
				} else {
					b = appendPyValue(b, vals[j], false)
				}
			}
		}
		if c.Batch && rows > 0 { // serve_utils.py:530-531
			b = append(b, '\n')
		}
	}
	return b
}

// appendRecord writes one Record whose label map holds each value as a float32 tensor, framed
// as one RecordIO record. The container writes each record's payload after all earlier ones
// (its record buffer is never reset, serve_utils.py:497-506); protobuf reads that concatenation
// as the last record, so each record here holds only its own, which reads the same.
func appendRecord(b []byte, keys []string, vals []value) []byte {
	rec := &recordpb.Record{Label: make(map[string]*recordpb.Value, len(keys))}
	for i, k := range keys {
		t := &recordpb.Float32Tensor{}
		if vals[i].isNaN {
			t.Values = []float32{float32(math.NaN())}
		} else {
			t.Values = make([]float32, len(vals[i].nums))
			for j, v := range vals[i].nums {
				t.Values[j] = float32(v)
			}
		}
		rec.Label[k] = &recordpb.Value{Value: &recordpb.Value_Float32Tensor{Float32Tensor: t}}
	}
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil { // a Record of float32 tensors always marshals
		panic(err)
	}
	return recordio.AppendRecord(b, payload)
}

// appendPyScore writes one prediction as Python's str or json.dumps writes preds.tolist()'s
// element: a float, or a list of floats for a multi-output model.
func appendPyScore(b []byte, o []float64, width int, json bool) []byte {
	if width == 1 {
		return appendPyFloat(b, o[0], json)
	}
	return appendPyValue(b, value{nums: o, list: true}, json)
}

func appendPyValue(b []byte, v value, json bool) []byte {
	if v.isNaN {
		return appendPyFloat(b, math.NaN(), json)
	}
	if v.list {
		b = append(b, '[')
	}
	for i, x := range v.nums {
		if i > 0 {
			b = append(b, ", "...)
		}
		if v.ints {
			b = strconv.AppendInt(b, int64(x), 10)
		} else {
			b = appendPyFloat(b, x, json)
		}
	}
	if v.list {
		b = append(b, ']')
	}
	return b
}

// appendPyFloat writes v as Python's repr (str) does: the shortest digits that round-trip,
// fixed notation with at least one decimal for exponents -4..15, else d.ddde+XX. json selects
// json.dumps's names for NaN and the infinities.
func appendPyFloat(b []byte, v float64, json bool) []byte {
	switch {
	case math.IsNaN(v):
		if json {
			return append(b, "NaN"...)
		}
		return append(b, "nan"...)
	case math.IsInf(v, 1):
		if json {
			return append(b, "Infinity"...)
		}
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		if json {
			return append(b, "-Infinity"...)
		}
		return append(b, "-inf"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], v, 'e', -1, 64) // -d.ddde±XX, without allocating
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	ei := 0
	for e[ei] != 'e' {
		ei++
	}
	exp := 0
	for _, c := range e[ei+2:] {
		exp = exp*10 + int(c-'0')
	}
	if e[ei+1] == '-' {
		exp = -exp
	}
	// The significant digits, without the point: e[0] and e[2:ei].
	var dbuf [20]byte
	digits := append(dbuf[:0], e[0])
	if ei > 1 {
		digits = append(digits, e[2:ei]...)
	}
	if exp < -4 || exp >= 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	if exp < 0 {
		b = append(b, "0."...)
		for range -exp - 1 {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	if len(digits) <= exp+1 {
		b = append(b, digits...)
		for range exp + 1 - len(digits) {
			b = append(b, '0')
		}
		return append(b, ".0"...)
	}
	b = append(b, digits[:exp+1]...)
	b = append(b, '.')
	return append(b, digits[exp+1:]...)
}
