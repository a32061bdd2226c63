package server_test

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/server"
)

// The fixtures in sdkFixtures were written by scripts/sagemaker-fixtures.py with the SageMaker
// Python SDK's own serializer (v2.257.6) and the built-in XGBoost container's own parsing
// functions; the expected rows below are what those programs recorded, not what this server says.
const sdkFixtures = "../internal/recordio/testdata/sdk"

const recordIOType = "application/x-recordio-protobuf"

// nullable is a recorded value: a number, or null for a missing one.
type nullable []*float64

func (r nullable) floats(width int) []float64 {
	out := make([]float64, width)
	for i := range out {
		out[i] = math.NaN()
		if i < len(r) && r[i] != nil {
			out[i] = *r[i]
		}
	}
	return out
}

func recordedRows(rows []nullable, width int) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = r.floats(width)
	}
	return out
}

// sameRows compares rows bit for bit, NaN equal to NaN.
func sameRows(t *testing.T, want, got [][]float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		require.Len(t, got[i], len(want[i]), "%s: row %d", msg, i+1)
		for j := range want[i] {
			w, g := want[i][j], got[i][j]
			if math.IsNaN(w) || math.IsNaN(g) {
				assert.True(t, math.IsNaN(w) && math.IsNaN(g), "%s: row %d, column %d: want %v, got %v", msg, i+1, j+1, w, g)
				continue
			}
			assert.Equal(t, math.Float64bits(w), math.Float64bits(g), "%s: row %d, column %d: want %v, got %v", msg, i+1, j+1, w, g)
		}
	}
}

type sdkCase struct {
	Encoder   string     `json:"encoder"`
	Dtype     string     `json:"dtype"`
	Sparse    bool       `json:"sparse"`
	Rows      []nullable `json:"rows"`
	Container struct {
		Error string     `json:"error"`
		Rows  []nullable `json:"rows"`
	} `json:"container"`
}

func TestRecordIOBodiesFromTheSageMakerSDK(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(sdkFixtures, "*.rec"))
	require.NoError(t, err)
	require.Len(t, files, 9, "the fixtures scripts/sagemaker-fixtures.py writes")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".rec")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(f)
			require.NoError(t, err)
			var c sdkCase
			b, err := os.ReadFile(strings.TrimSuffix(f, ".rec") + ".json")
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &c))
			m := sumModel(4)
			w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", recordIOType, "application/json", string(body))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			want := recordedRows(c.Rows, 4)
			sameRows(t, want, m.rows(), "the rows given to the SDK ("+c.Encoder+", "+c.Dtype+")")
			if c.Container.Error == "" {
				// The container's reader makes the same matrix of the same body.
				sameRows(t, recordedRows(c.Container.Rows, 4), m.rows(), "the rows the container read")
				return
			}
			// Only a sparse matrix with an empty row trips the container's reader (its empty
			// record becomes a 0-column dense row that scipy cannot stack); the SDK meant a row
			// of missing values, and that is what this server reads.
			assert.Equal(t, "sparse_float64", name)
			assert.Contains(t, c.Container.Error, "incompatible column dimensions")
			assert.True(t, math.IsNaN(m.rows()[2][0]))
		})
	}
}

// recordBody frames records built here, for the malformed cases the SDK does not write.
func recordBody(t testing.TB, recs ...*recordpb.Record) string {
	t.Helper()
	var out []byte
	for _, r := range recs {
		b, err := proto.Marshal(r)
		require.NoError(t, err)
		out = recordio.AppendRecord(out, b)
	}
	return string(out)
}

func f32(values []float32, keys, shape []uint64) *recordpb.Record {
	return &recordpb.Record{Features: map[string]*recordpb.Value{"values": {Value: &recordpb.Value_Float32Tensor{
		Float32Tensor: &recordpb.Float32Tensor{Values: values, Keys: keys, Shape: shape}}}}}
}

func TestRecordIORefusesWhatIsNotARow(t *testing.T) {
	good := f32([]float32{1, 2, 3}, nil, nil)
	noValues := &recordpb.Record{Features: map[string]*recordpb.Value{"pixels": good.Features["values"]}}
	bytesValue := &recordpb.Record{Features: map[string]*recordpb.Value{"values": {Value: &recordpb.Value_Bytes{Bytes: &recordpb.Bytes{}}}}}
	tests := []struct {
		name     string
		body     string
		code     string
		mentions []string
	}{
		{"not recordio", `{"instances":[[1,2,3]]}`, server.CodeMalformedBody, []string{"not RecordIO", "record 1 (at byte 0)", "magic"}},
		{"cut short", recordBody(t, good, good)[:46], server.CodeMalformedBody, []string{"record 2", "ends"}},
		{"not a Record", string(recordio.AppendRecord(nil, []byte{0xff, 0xff})), server.CodeMalformedBody, []string{"record 1", "not a SageMaker Record protobuf"}},
		{"no values feature", recordBody(t, good, noValues), server.CodeMalformedBody, []string{"record 2", `no feature named "values"`, `"pixels"`}},
		{"bytes", recordBody(t, bytesValue), server.CodeNonNumeric, []string{"record 1", "Bytes"}},
		{"dense too short", recordBody(t, f32([]float32{1, 2}, nil, nil)), server.CodeWrongFeatures, []string{"record 1", "expected 3 features, got 2"}},
		{"keys without values", recordBody(t, f32([]float32{1}, []uint64{0, 1}, []uint64{3})), server.CodeMalformedBody, []string{"2 keys for 1 values"}},
		{"key beyond", recordBody(t, f32([]float32{1}, []uint64{3}, []uint64{3})), server.CodeWrongFeatures, []string{"key 3", "3 columns"}},
		{"key twice", recordBody(t, f32([]float32{1, 2}, []uint64{1, 1}, []uint64{3})), server.CodeMalformedBody, []string{"key 1 appears twice"}},
		{"wide shape", recordBody(t, f32([]float32{1}, []uint64{0}, []uint64{4})), server.CodeWrongFeatures, []string{"shape [4]", "3 features"}},
		{"matrix shape", recordBody(t, f32([]float32{1}, []uint64{0}, []uint64{1, 3})), server.CodeMalformedBody, []string{"shape [1 3]", "one row"}},
		{"infinite", recordBody(t, good, f32([]float32{1, float32(math.Inf(1)), 3}, nil, nil)), server.CodeNonNumeric, []string{"record 2", "+Inf"}},
		{"empty", "", server.CodeEmptyInput, []string{"no records"}},
	}
	s := newServer(t, sumModel(3), server.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := requireError(t, request(s, http.MethodPost, "/invocations", recordIOType, "", tc.body), http.StatusBadRequest, tc.code)
			for _, m := range tc.mentions {
				assert.Contains(t, msg, m)
			}
		})
	}
}

func TestRecordIOReadsSparseRowsAndIgnoresLabels(t *testing.T) {
	m := sumModel(3)
	rec := f32([]float32{2.5}, []uint64{2}, []uint64{3})
	rec.Label = map[string]*recordpb.Value{"values": {Value: &recordpb.Value_Float32Tensor{Float32Tensor: &recordpb.Float32Tensor{Values: []float32{1}}}}}
	narrow := f32([]float32{7}, []uint64{0}, []uint64{1}) // a narrower matrix: the columns beyond are missing
	w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", recordIOType, "text/csv", recordBody(t, rec, narrow))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	nan := math.NaN()
	sameRows(t, [][]float64{{nan, nan, 2.5}, {7, nan, nan}}, m.rows(), "sparse rows")
	assert.Equal(t, "2.5\n7\n", w.Body.String())
}

type libsvmFixture struct {
	Cases map[string]struct {
		Body      string `json:"body"`
		Container struct {
			Rows    []nullable `json:"rows"`
			Columns int        `json:"columns"`
			Error   string     `json:"error"`
		} `json:"container"`
	} `json:"cases"`
}

// TestLibSVMAsTheBuiltInContainerReadsIt replays each body through the released container's
// own libsvm parser (recorded in libsvm.json) and through this server. Where they differ, the
// container fails or drops a row and this server answers with the line and the reason.
func TestLibSVMAsTheBuiltInContainerReadsIt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sdkFixtures, "libsvm.json"))
	require.NoError(t, err)
	var fx libsvmFixture
	require.NoError(t, json.Unmarshal(b, &fx))
	const nf = 5
	same := []string{"one_based", "zero_based", "absent_is_missing", "nan_value", "blank_line_between"}
	for _, name := range same {
		t.Run(name, func(t *testing.T) {
			c, ok := fx.Cases[name]
			require.True(t, ok)
			require.Empty(t, c.Container.Error)
			for _, ct := range []string{"text/libsvm", "text/x-libsvm", "TEXT/LIBSVM; charset=utf-8"} {
				m := sumModel(nf)
				w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", ct, "", c.Body)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				sameRows(t, recordedRows(c.Container.Rows, nf), m.rows(), ct)
			}
		})
	}
	differ := []struct {
		name      string
		container string // what the container's parser says
		status    int
		code      string
		rows      [][]float64 // this server's rows, when it answers 200
		mentions  []string
	}{
		{name: "label_with_qid", container: "invalid literal for int() with base 10: 'qid'", status: 200,
			rows: [][]float64{{math.NaN(), 2, math.NaN(), math.NaN(), math.NaN()}}},
		{name: "tab_separated", container: "invalid literal for int()", status: 200,
			rows: [][]float64{{math.NaN(), 1, 2, math.NaN(), math.NaN()}}},
		{name: "duplicate_index", container: "", status: 400, code: server.CodeMalformedBody, mentions: []string{"line 1", "index 1 appears twice"}},
		{name: "negative_index", container: "negative column index found", status: 400, code: server.CodeWrongFeatures, mentions: []string{"line 1", `"-1"`, "columns 0 to 4"}},
		{name: "not_a_number", container: "could not convert string to float: 'abc'", status: 400, code: server.CodeNonNumeric, mentions: []string{"line 1, index 1", `"abc"`}},
		{name: "label_only_last_line", container: "", status: 200,
			rows: [][]float64{{math.NaN(), 1, math.NaN(), math.NaN(), math.NaN()}, {math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}}},
	}
	for _, tc := range differ {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := fx.Cases[tc.name]
			require.True(t, ok)
			if tc.container != "" {
				assert.Contains(t, c.Container.Error, tc.container)
			} else {
				// It answers, but not what was sent: a duplicate index is summed (1+2), a last
				// line with no index is dropped.
				require.Empty(t, c.Container.Error)
				assert.Len(t, c.Container.Rows, 1)
			}
			m := sumModel(nf)
			w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", "text/libsvm", "", c.Body)
			if tc.status == http.StatusOK {
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				sameRows(t, tc.rows, m.rows(), tc.name)
				return
			}
			msg := requireError(t, w, tc.status, tc.code)
			for _, s := range tc.mentions {
				assert.Contains(t, msg, s)
			}
		})
	}
	assert.Len(t, fx.Cases, len(same)+len(differ), "every recorded case is checked")
}

// TestLibSVMAsTheCurrentContainerReadsIt replays each body through the container's current
// libsvm parser (aws/sagemaker-xgboost-container@cb8df91: algorithm_mode/serve_utils.py:111-113,
// recorded in libsvm_head.json), which shifts a request down by one when none of its indices
// is 0. The server reads them so in compat mode, or with LibSVMIndexAuto; outside compat mode
// it keeps the released container's 0-based reading (TestLibSVMAsTheBuiltInContainerReadsIt).
func TestLibSVMAsTheCurrentContainerReadsIt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sdkFixtures, "libsvm_head.json"))
	require.NoError(t, err)
	var fx libsvmFixture
	require.NoError(t, json.Unmarshal(b, &fx))
	const nf = 5
	modes := map[string]server.Options{
		"compat":      {Compat: &server.Compat{}},
		"auto":        {LibSVMIndexBase: server.LibSVMIndexAuto},
		"compat+auto": {Compat: &server.Compat{}, LibSVMIndexBase: server.LibSVMIndexAuto},
	}
	same := []string{"one_based", "zero_based", "absent_is_missing", "nan_value", "blank_line_between",
		"one_based_to_last_feature", "zero_in_a_later_row", "zero_based_without_zero", "index_zero_only"}
	for _, name := range same {
		for mode, opts := range modes {
			t.Run(name+"/"+mode, func(t *testing.T) {
				c, ok := fx.Cases[name]
				require.True(t, ok)
				require.Empty(t, c.Container.Error)
				m := sumModel(nf)
				w := request(newServer(t, m, opts), http.MethodPost, "/invocations", "text/libsvm", "application/json", c.Body)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				sameRows(t, recordedRows(c.Container.Rows, nf), m.rows(), name)
			})
		}
	}
	nan := math.NaN()
	differ := []struct {
		name      string
		container string // what the container's parser says
		status    int
		code      string
		rows      [][]float64 // this server's rows, when it answers 200
		mentions  []string
	}{
		{name: "label_with_qid", container: "invalid literal for int() with base 10: 'qid'", status: 200,
			rows: [][]float64{{2, nan, nan, nan, nan}}},
		{name: "tab_separated", container: "invalid literal for int()", status: 200,
			rows: [][]float64{{1, 2, nan, nan, nan}}},
		{name: "duplicate_index", status: 400, code: server.CodeMalformedBody, mentions: []string{"line 1", "index 1 appears twice"}},
		{name: "negative_index", container: "negative column index found", status: 400, code: server.CodeWrongFeatures,
			mentions: []string{"line 1", `"-1"`, "columns 0 to 4, or 1 to 5 in a request that never uses index 0"}},
		{name: "not_a_number", container: "could not convert string to float: 'abc'", status: 400, code: server.CodeNonNumeric, mentions: []string{"line 1, index 1", `"abc"`}},
		{name: "label_only_last_line", status: 200,
			rows: [][]float64{{1, nan, nan, nan, nan}, {nan, nan, nan, nan, nan}}},
		{name: "label_only", container: "cannot infer dimensions from zero sized index arrays", status: 200,
			rows: [][]float64{{nan, nan, nan, nan, nan}}},
		// The container builds a 6-column matrix (index 0 is used, so nothing shifts), which a
		// 5-feature model cannot take; this server names the line.
		{name: "shifted_beyond_after_zero", status: 400, code: server.CodeWrongFeatures,
			mentions: []string{"line 2", "index 5", "uses index 0", "columns 0 to 4"}},
	}
	for _, tc := range differ {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := fx.Cases[tc.name]
			require.True(t, ok)
			if tc.container != "" {
				assert.Contains(t, c.Container.Error, tc.container)
			} else {
				require.Empty(t, c.Container.Error)
			}
			m := sumModel(nf)
			w := request(newServer(t, m, modes["compat"]), http.MethodPost, "/invocations", "text/libsvm", "application/json", c.Body)
			if tc.status == http.StatusOK {
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				sameRows(t, tc.rows, m.rows(), tc.name)
				return
			}
			msg := requireError(t, w, tc.status, tc.code)
			for _, s := range tc.mentions {
				assert.Contains(t, msg, s)
			}
		})
	}
	assert.Len(t, fx.Cases, len(same)+len(differ), "every recorded case is checked")
}

// TestLibSVMIndexBaseSettings reads one body under each setting: a request that never uses
// index 0 is the hazard of the per-request rule (a 0-based client whose rows skip column 0 is
// read shifted), so 0 and 1 pin the base for every request.
func TestLibSVMIndexBaseSettings(t *testing.T) {
	nan := math.NaN()
	const body = "0 1:1 2:2\n0 3:3\n"
	tests := []struct {
		name string
		opts server.Options
		rows [][]float64
	}{
		{"default outside compat: 0", server.Options{}, [][]float64{{nan, 1, 2, nan}, {nan, nan, nan, 3}}},
		{"0 in compat mode", server.Options{Compat: &server.Compat{}, LibSVMIndexBase: server.LibSVMIndex0}, [][]float64{{nan, 1, 2, nan}, {nan, nan, nan, 3}}},
		{"default in compat mode: auto", server.Options{Compat: &server.Compat{}}, [][]float64{{1, 2, nan, nan}, {nan, nan, 3, nan}}},
		{"1", server.Options{LibSVMIndexBase: server.LibSVMIndex1}, [][]float64{{1, 2, nan, nan}, {nan, nan, 3, nan}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sumModel(4)
			w := request(newServer(t, m, tc.opts), http.MethodPost, "/invocations", "text/libsvm", "application/json", body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			sameRows(t, tc.rows, m.rows(), tc.name)
		})
	}

	refusals := []struct {
		name, body, code string
		base             server.LibSVMIndexBase
		mentions         []string
	}{
		{"index 0 when 1-based", "0 0:1\n", server.CodeWrongFeatures, server.LibSVMIndex1, []string{"line 1", `"0"`, "columns 1 to 4, counted from 1", "INFERSTACK_LIBSVM_INDEX_BASE=1"}},
		{"index 4 when 0-based", "0 4:1\n", server.CodeWrongFeatures, server.LibSVMIndex0, []string{"line 1", `"4"`, "columns 0 to 3", "INFERSTACK_LIBSVM_INDEX_BASE=0"}},
		{"index 5 when auto", "0 5:1\n", server.CodeWrongFeatures, server.LibSVMIndexAuto, []string{"line 1", `"5"`, "columns 0 to 3, or 1 to 4"}},
		{"index 4 twice when 1-based", "0 4:1 4:2\n", server.CodeMalformedBody, server.LibSVMIndex1, []string{"line 1", "index 4 appears twice"}},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, sumModel(4), server.Options{LibSVMIndexBase: tc.base})
			msg := requireError(t, request(s, http.MethodPost, "/invocations", "text/libsvm", "", tc.body), http.StatusBadRequest, tc.code)
			for _, m := range tc.mentions {
				assert.Contains(t, msg, m)
			}
		})
	}
}

func TestLibSVMRefusals(t *testing.T) {
	tests := []struct {
		name, body, code string
		mentions         []string
	}{
		{"index beyond the model", "0 1:1\n0 3:1\n", server.CodeWrongFeatures, []string{"line 2", `"3"`, "columns 0 to 2"}},
		{"label not a number", "yes 1:1\n", server.CodeMalformedBody, []string{"line 1", `"yes"`, "label"}},
		{"token without colon", "0 1:1 2\n", server.CodeMalformedBody, []string{"line 1", `"2"`, "index:value"}},
		{"infinite value", "0 1:Infinity\n", server.CodeNonNumeric, []string{"line 1, index 1", `"Infinity"`}},
		{"empty", "\n \n", server.CodeEmptyInput, []string{"no rows"}},
	}
	s := newServer(t, sumModel(3), server.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := requireError(t, request(s, http.MethodPost, "/invocations", "text/libsvm", "", tc.body), http.StatusBadRequest, tc.code)
			for _, m := range tc.mentions {
				assert.Contains(t, msg, m)
			}
		})
	}
}

// TestContentTypesAsTheBuiltInContainerNamesThem replays the released container's
// get_content_type verdicts (content_types.json): what it accepts this server reads, and a
// label_size other than 1 is refused with 415, as the container answers a failed parse.
func TestContentTypesAsTheBuiltInContainerNamesThem(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sdkFixtures, "content_types.json"))
	require.NoError(t, err)
	var fx struct {
		Cases map[string]struct {
			Format string `json:"format"`
			Error  string `json:"error"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &fx))
	bodies := map[string]string{"csv": "1,2,3\n", "libsvm": "0 0:1 1:2 2:3\n",
		"recordio-protobuf": recordBody(t, f32([]float32{1, 2, 3}, nil, nil))}
	require.Len(t, fx.Cases, 12)
	for ct, c := range fx.Cases {
		t.Run(ct, func(t *testing.T) {
			if ct == "application/jsonlines" {
				// The container reads no JSON lines; this server does (see decode_jsonlines.go).
				assert.Contains(t, c.Error, "not an accepted ContentType")
				w := request(newServer(t, sumModel(3), server.Options{}), http.MethodPost, "/invocations", ct, "text/csv", "[1,2,3]\n")
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				return
			}
			m := sumModel(3)
			body := bodies[c.Format]
			if c.Error != "" {
				body = bodies["csv"]
			}
			w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", ct, "text/csv", body)
			if c.Error != "" {
				assert.Contains(t, c.Error, "label_size must be equal to 1")
				msg := requireError(t, w, http.StatusUnsupportedMediaType, server.CodeUnsupportedType)
				assert.Contains(t, msg, "label_size must be 1")
				return
			}
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "6\n", w.Body.String())
			assert.Equal(t, [][]float64{{1, 2, 3}}, m.rows(), "label_size strips no column")
		})
	}
}

func TestJSONLines(t *testing.T) {
	nan := math.NaN()
	ok := []struct {
		name string
		body string
		rows [][]float64
	}{
		{"arrays", "[1, 2, 3]\n[4,null,6]\n", [][]float64{{1, 2, 3}, {4, nan, 6}}},
		{"features objects, CRLF, no final newline", "{\"features\": [1,2,3]}\r\n{\"features\":[0.5,0,-1]}", [][]float64{{1, 2, 3}, {0.5, 0, -1}}},
		{"named features, absent is missing", `{"b": 2, "a": 1}` + "\n\n" + `{"c": 3}` + "\n", [][]float64{{1, 2, nan}, {nan, nan, 3}}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			m := sumModel(3, "a", "b", "c")
			w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", "application/jsonlines", "text/csv", tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			sameRows(t, tc.rows, m.rows(), tc.name)
			assert.Equal(t, len(tc.rows), strings.Count(w.Body.String(), "\n"), "one answer per line")
		})
	}
	bad := []struct {
		name, body, code string
		mentions         []string
	}{
		{"two rows on one line", "[1,2,3] [4,5,6]\n", server.CodeMalformedBody, []string{"line 1", "one JSON value"}},
		{"row across lines", "[1,2,3]\n[4,\n5,6]\n", server.CodeMalformedBody, []string{"line 2", "line ends inside the row"}},
		{"wrong count", "[1,2,3]\n\n[1,2]\n", server.CodeWrongFeatures, []string{"line 3", "expected 3 features, got 2"}},
		{"not a number", "[1,\"x\",3]\n", server.CodeNonNumeric, []string{"line 1, column 2", "a string"}},
		{"unknown feature", `{"d": 1}`, server.CodeUnknownFeature, []string{"line 1", `"d"`, "a, b, c"}},
		{"scalar", "3\n", server.CodeMalformedBody, []string{"line 1", "array of 3 values or an object"}},
		{"features not an array", `{"features": 3}`, server.CodeMalformedBody, []string{"line 1", "must be an array"}},
		{"empty", "\n\n", server.CodeEmptyInput, []string{"no rows"}},
	}
	s := newServer(t, sumModel(3, "a", "b", "c"), server.Options{})
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			msg := requireError(t, request(s, http.MethodPost, "/invocations", "application/jsonlines", "", tc.body), http.StatusBadRequest, tc.code)
			for _, m := range tc.mentions {
				assert.Contains(t, msg, m)
			}
		})
	}
}

// TestNewFormatsKeepTheBodyLimit: a body over MaxBodyBytes is a 413 in every new format, as in CSV.
func TestNewFormatsKeepTheBodyLimit(t *testing.T) {
	bodies := map[string]string{
		"text/libsvm":           strings.Repeat("0 0:1 1:2 2:3\n", 100),
		"application/jsonlines": strings.Repeat("[1,2,3]\n", 100),
		recordIOType:            strings.Repeat(recordBody(t, f32([]float32{1, 2, 3}, nil, nil)), 100),
	}
	s := newServer(t, sumModel(3), server.Options{MaxBodyBytes: 512})
	for ct, body := range bodies {
		t.Run(ct, func(t *testing.T) {
			r := request(s, http.MethodPost, "/invocations", ct, "", body)
			requireError(t, r, http.StatusRequestEntityTooLarge, server.CodePayloadTooLarge)
		})
	}
}

// TestOpenAPIListsEveryInputFormat: the document names each Content-Type the server reads, and
// the server reads each one it names.
func TestOpenAPIListsEveryInputFormat(t *testing.T) {
	s := newServer(t, sumModel(3), server.Options{})
	w := request(s, http.MethodGet, "/openapi.json", "", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]any `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	content := doc.Paths["/invocations"]["post"].RequestBody.Content
	var listed []string
	for ct := range content {
		listed = append(listed, ct)
	}
	assert.ElementsMatch(t, []string{"application/json", "text/csv", "text/libsvm", "text/x-libsvm", recordIOType, "application/jsonlines"}, listed)
	bodies := map[string]string{"application/json": `{"instances":[[1,2,3]]}`, "text/csv": "1,2,3", "text/libsvm": "0 0:1", "text/x-libsvm": "0 0:1",
		recordIOType: recordBody(t, f32([]float32{1, 2, 3}, nil, nil)), "application/jsonlines": "[1,2,3]"}
	for _, ct := range listed {
		assert.Equal(t, http.StatusOK, request(s, http.MethodPost, "/invocations", ct, "", bodies[ct]).Code, ct)
	}
}
