package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// The golden values of this file are those of SageMaker's built-in XGBoost container,
// aws/sagemaker-xgboost-container@cb8df91cd44c7b01c53ccf321fd3fdf3eb78adae ("ref"), each cited
// by file and line: its unit tests where they pin a value, else its code read.

// echoModel answers its rows' first width features as its outputs, so a test chooses what
// XGBoost would have predicted.
func echoModel(objective string, task model.Task, classes, width int) *fakeModel {
	return &fakeModel{
		info: model.Info{Format: "fake", Source: "test", Objective: objective, NumFeatures: max(width, 1),
			Task: task, NumClasses: classes, OutputWidth: width},
		predict: func(x, out []float64) error { copy(out, x); return nil },
	}
}

func compatRequest(h http.Handler, accept, attrs, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(body))
	r.Header.Set("Content-Type", "text/csv")
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	if attrs != "" {
		r.Header.Set("X-Amzn-SageMaker-Custom-Attributes", attrs)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestCompatSelectableOutputs(t *testing.T) {
	binary := echoModel("binary:logistic", model.Binary, 2, 1)
	tests := []struct {
		name   string
		m      *fakeModel
		keys   string
		accept string
		batch  bool
		body   string
		want   string
	}{
		{ // ref test/unit/algorithm_mode/test_serve_utils.py:107-112, 287-289
			name: "binary JSON", m: binary, keys: "predicted_label,probabilities", accept: "application/json", body: "0.6\n0.1\n",
			want: `{"predictions": [{"predicted_label": 1, "probabilities": [0.4, 0.6]}, {"predicted_label": 0, "probabilities": [0.9, 0.1]}]}`,
		},
		{ // ref test_serve_utils.py:292-300
			name: "binary JSON lines", m: binary, keys: "predicted_label, probabilities", accept: "application/jsonlines", body: "0.6\n0.1\n",
			want: "{\"predicted_label\": 1, \"probabilities\": [0.4, 0.6]}\n{\"predicted_label\": 0, \"probabilities\": [0.9, 0.1]}\n",
		},
		{ // ref test_serve_utils.py:321-323: no newline after the last row outside Batch Transform
			name: "binary CSV", m: binary, keys: "predicted_label,probabilities", body: "0.6\n0.1\n",
			want: "1,\"[0.4, 0.6]\"\n0,\"[0.9, 0.1]\"",
		},
		{ // ref serve_utils.py:528-532: with SAGEMAKER_BATCH a final newline
			name: "binary CSV batch", m: binary, keys: "PREDICTED_LABEL,probability", batch: true, body: "0.6\n0.1\n",
			want: "1,0.6\n0,0.1\n",
		},
		{ // ref serve_utils.py:453-480: CSV follows the requested order; JSON the fixed one (429-449)
			name: "CSV key order", m: binary, keys: "probability,predicted_label,labels", body: "0.6\n",
			want: "0.6,1,\"[0, 1]\"",
		},
		{ // ref test_serve_utils.py:181-188: a key the objective has not is NaN
			name: "regression NaN", m: echoModel("reg:logistic", model.Regression, 0, 1), keys: "predicted_score,predicted_label",
			accept: "application/json", body: "0.6\n32\n",
			want: `{"predictions": [{"predicted_score": 0.6, "predicted_label": NaN}, {"predicted_score": 32.0, "predicted_label": NaN}]}`,
		},
		{ // ref test_serve_utils.py:196-204, 211-221, 228-233, 240-248: argmax, max, labels 0..num_class-1
			name: "softprob", m: echoModel("multi:softprob", model.MultiProba, 3, 3), keys: "predicted_label,labels,probability,probabilities,raw_score,raw_scores",
			accept: "application/json", body: "0.1,0.5,0.4\n",
			want: `{"predictions": [{"predicted_label": 1, "labels": [0, 1, 2], "probability": 0.5, "probabilities": [0.1, 0.5, 0.4], "raw_score": 0.5, "raw_scores": [0.1, 0.5, 0.4]}]}`,
		},
		{ // ref test_serve_utils.py:211-221, 255-264: logitraw's label is margin > 0
			name: "logitraw", m: echoModel("binary:logitraw", model.Regression, 0, 1), keys: "predicted_label,raw_score,probability",
			accept: "application/json", body: "-7.6\n",
			want: `{"predictions": [{"predicted_label": 0, "raw_score": -7.6, "probability": NaN}]}`,
		},
		{ // ref serve_utils.py:306-307, 388-393: hinge's label is its float prediction, raw_scores [1-p, p]
			name: "hinge", m: echoModel("binary:hinge", model.MultiClass, 2, 1), keys: "predicted_label,raw_scores",
			accept: "application/jsonlines", body: "1\n",
			want: "{\"predicted_label\": 1.0, \"raw_scores\": [0.0, 1.0]}\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := server.ParseOutputKeys(tc.keys)
			require.NoError(t, err)
			s := newServer(t, tc.m, server.Options{Compat: &server.Compat{OutputKeys: keys, Batch: tc.batch}})
			w := compatRequest(s, tc.accept, "", tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tc.want, w.Body.String())

			// The same keys asked per request, through the custom attribute, answer the same.
			s = newServer(t, tc.m, server.Options{Compat: &server.Compat{Batch: tc.batch}})
			attrs := "trace=7; inferstack-output=" + tc.keys
			w = compatRequest(s, tc.accept, attrs, tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tc.want, w.Body.String(), "per request")
			assert.Equal(t, attrs, w.Header().Get("X-Amzn-SageMaker-Custom-Attributes"), "echoed for InvokeEndpoint's CustomAttributes")
		})
	}
}

// ref test_serve_utils.py:303-318: one Record per row, each key a float32 tensor under label.
func TestCompatSelectableRecordIO(t *testing.T) {
	keys, err := server.ParseOutputKeys("predicted_label,probabilities")
	require.NoError(t, err)
	s := newServer(t, echoModel("binary:logistic", model.Binary, 2, 1), server.Options{Compat: &server.Compat{OutputKeys: keys}})
	w := compatRequest(s, "application/x-recordio-protobuf", "", "0.6\n0.1\n")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/x-recordio-protobuf", w.Header().Get("Content-Type"))
	rd := recordio.NewReader(w.Body)
	for i, want := range []struct{ label, probs []float32 }{{[]float32{1}, []float32{0.4, 0.6}}, {[]float32{0}, []float32{0.9, 0.1}}} {
		payload, err := rd.Next()
		require.NoError(t, err)
		var rec recordpb.Record
		require.NoError(t, proto.Unmarshal(payload, &rec))
		assert.Equal(t, want.label, rec.Label["predicted_label"].GetFloat32Tensor().GetValues(), "record %d", i)
		assert.InDeltaSlice(t, want.probs, rec.Label["probabilities"].GetFloat32Tensor().GetValues(), 1e-7, "record %d", i)
	}
}

func TestCompatAcceptAndStatus(t *testing.T) {
	m := echoModel("binary:logistic", model.Binary, 2, 1)
	def := newServer(t, m, server.Options{Compat: &server.Compat{}})
	jsonDefault := newServer(t, m, server.Options{Compat: &server.Compat{DefaultAccept: "application/json"}})
	tests := []struct {
		name     string
		h        http.Handler
		accept   string
		body     string
		status   int
		wantType string
		want     string
	}{
		// ref serve.py:172-174: no Accept or */* is SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else text/csv
		{"default CSV", def, "", "0.43861907720565796\n", http.StatusOK, "text/csv", "0.43861907720565796\n"},
		{"*/* is the default", def, "*/*", "0.25\n", http.StatusOK, "text/csv", "0.25\n"},
		// ref test_serve.py:46-50
		{"default from the environment", jsonDefault, "", "0.43861907720565796\n0.4533972144126892\n", http.StatusOK, "application/json",
			// ref test_serve_utils.py:350-352
			`{"predictions": [{"score": 0.43861907720565796}, {"score": 0.4533972144126892}]}`},
		// ref test_serve.py:40-43: parameters after ';' are ignored
		{"JSON with parameters", def, "application/json;verbose=True", "0.5\n", http.StatusOK, "application/json", `{"predictions": [{"score": 0.5}]}`},
		{"JSON lines", def, "application/jsonlines", "0.5\n0.25\n", http.StatusOK, "application/jsonlines", "{\"score\": 0.5}\n{\"score\": 0.25}\n"},
		// ref test_serve.py:53-57, serve.py:231-235: an unsupported Accept is 406
		{"libsvm is not an answer type", def, "text/libsvm", "0.5\n", http.StatusNotAcceptable, "application/json", ""},
		{"a list is one unknown type (cgi.parse_header)", def, "text/csv, application/json", "0.5\n", http.StatusNotAcceptable, "application/json", ""},
		// ref serve.py:209-211: an empty body is 204
		{"empty body", def, "", "", http.StatusNoContent, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := compatRequest(tc.h, tc.accept, "", tc.body)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.wantType, w.Header().Get("Content-Type"))
			if tc.status == http.StatusNotAcceptable {
				requireError(t, w, tc.status, server.CodeNotAcceptable)
				return
			}
			assert.Equal(t, tc.want, w.Body.String())
		})
	}
}

func TestCompatRefusesAtStartWhatTheContainerRefusesPerRequest(t *testing.T) {
	_, err := server.NewServer(quietLog(), echoModel("binary:logistic", model.Binary, 2, 1),
		server.Options{Compat: &server.Compat{DefaultAccept: "text/libsvm"}})
	require.ErrorContains(t, err, "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
	// ref serve_utils.py:416-417 and test_serve_utils.py:191-193: rank:pairwise has no selectable outputs
	_, err = server.NewServer(quietLog(), echoModel("rank:pairwise", model.Regression, 0, 1),
		server.Options{Compat: &server.Compat{OutputKeys: []string{"predicted_score"}}})
	require.ErrorContains(t, err, `objective "rank:pairwise"`)
	_, err = server.ParseOutputKeys("predicted_label,foo")
	require.ErrorContains(t, err, `"foo"`)
}

func TestOutsideCompatTheFormatsStay(t *testing.T) {
	s := newServer(t, echoModel("binary:logistic", model.Binary, 2, 1), server.Options{})
	w := compatRequest(s, "", "", "0.6\n")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"predictions":[{"label":1,"probability":0.6}]}`, w.Body.String())
}

func TestExecutionParameters(t *testing.T) {
	for _, tc := range []struct {
		maxBody int64
		wantMB  int
	}{{0, 6}, {19 << 20, 19}, {100 << 20, 100}} { // ref test_serve.py:23-37
		s := newServer(t, sumModel(2), server.Options{MaxBodyBytes: tc.maxBody})
		w := request(s, http.MethodGet, "/execution-parameters", "", "", "")
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
		// ref serve.py:145-160, written by json.dumps
		assert.Equal(t, `{"MaxConcurrentTransforms": `+strconv.Itoa(runtime.NumCPU())+`, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": `+strconv.Itoa(tc.wantMB)+`}`, w.Body.String())
		var p map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	}
}

func TestCustomAttributes(t *testing.T) {
	s := newServer(t, sumModel(2), server.Options{})
	w := compatRequest(s, "text/csv", "a=b", "1,2\n")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "a=b", w.Header().Get("X-Amzn-SageMaker-Custom-Attributes"))
	assert.Equal(t, "3\n", w.Body.String())

	for name, attrs := range map[string]string{"1025 characters": strings.Repeat("x", 1025), "not visible ASCII": "a=\x01", "not ASCII": "a=é"} {
		w := compatRequest(s, "text/csv", attrs, "1,2\n")
		msg := requireError(t, w, http.StatusBadRequest, server.CodeBadRequest)
		assert.Contains(t, msg, "X-Amzn-SageMaker-Custom-Attributes", name)
	}
	w = compatRequest(s, "text/csv", strings.Repeat("x", 1024), "1,2\n")
	assert.Equal(t, http.StatusOK, w.Code, "1024 characters are allowed")

	c := newServer(t, echoModel("binary:logistic", model.Binary, 2, 1), server.Options{Compat: &server.Compat{}})
	w = compatRequest(c, "", "inferstack-output=predicted_lable", "0.6\n")
	msg := requireError(t, w, http.StatusBadRequest, server.CodeBadRequest)
	assert.Contains(t, msg, `"predicted_lable"`)

	rank := newServer(t, echoModel("rank:pairwise", model.Regression, 0, 1), server.Options{Compat: &server.Compat{}})
	w = compatRequest(rank, "", "inferstack-output=predicted_score", "0.6\n")
	msg = requireError(t, w, http.StatusBadRequest, server.CodeBadRequest)
	assert.Contains(t, msg, `"rank:pairwise"`)

	// ref serve.py:209-211: an empty body is 204 before its Content-Type is looked at.
	r := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(""))
	r.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	c.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusNoContent, rec.Code)
}

func TestOpenAPIAndDocsNameTheMode(t *testing.T) {
	m := echoModel("binary:logistic", model.Binary, 2, 1)
	for _, tc := range []struct {
		compat *server.Compat
		mode   string
		types  []string
	}{
		{nil, "inferstack", []string{"application/json", "text/csv"}},
		{&server.Compat{}, "sagemaker-xgboost", server.CompatAccepts},
	} {
		s := newServer(t, m, server.Options{Compat: tc.compat})
		w := request(s, http.MethodGet, "/openapi.json", "", "", "")
		require.Equal(t, http.StatusOK, w.Code)
		var doc struct {
			Mode  string `json:"x-mode"`
			Paths map[string]map[string]struct {
				RequestBody struct{ Content map[string]any } `json:"requestBody"`
				Responses   map[string]struct{ Content map[string]any }
			}
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
		assert.Equal(t, tc.mode, doc.Mode)
		inv := doc.Paths["/invocations"]["post"]
		for _, ct := range tc.types {
			assert.Contains(t, inv.Responses["200"].Content, ct, "mode %s", tc.mode)
		}
		assert.Len(t, inv.Responses["200"].Content, len(tc.types))
		for _, ct := range []string{"application/json", "text/csv", "text/libsvm", "text/x-libsvm", "application/x-recordio-protobuf", "application/jsonlines"} {
			assert.Contains(t, inv.RequestBody.Content, ct)
		}
		assert.Contains(t, doc.Paths, "/execution-parameters")
		w = request(s, http.MethodGet, "/docs", "", "", "")
		assert.Contains(t, w.Body.String(), "<code>"+tc.mode+"</code>")
		assert.Contains(t, w.Body.String(), "/execution-parameters")
	}
}

// TestBatchTransformOneLinePerRecord: with SplitType=Line, AssembleWith=Line and
// JoinSource=Input, SageMaker joins the n-th answer line to the n-th input line, so every mode
// answers exactly one line per input line, in order.
func TestBatchTransformOneLinePerRecord(t *testing.T) {
	const n = 1000
	var csvIn, jsonlIn, want strings.Builder
	for i := range n {
		csvIn.WriteString(strconv.Itoa(i) + ",0.5\n")
		jsonlIn.WriteString("[" + strconv.Itoa(i) + ",0.5]\n")
		want.WriteString(strconv.FormatFloat(float64(i)+0.5, 'g', -1, 64) + "\n")
	}
	own := newServer(t, sumModel(2), server.Options{})
	batch := newServer(t, sumModel(2), server.Options{Compat: &server.Compat{Batch: true}})
	for _, tc := range []struct {
		name        string
		h           http.Handler
		contentType string
		accept      string
		body        string
	}{
		{"own mode, CSV", own, "text/csv", "text/csv", csvIn.String()},
		{"own mode, JSON lines", own, "application/jsonlines", "text/csv", jsonlIn.String()},
		{"SAGEMAKER_BATCH, CSV, Accept JSON", batch, "text/csv", "application/json", csvIn.String()},
		{"SAGEMAKER_BATCH, JSON lines, Accept JSON lines", batch, "application/jsonlines", "application/jsonlines", jsonlIn.String()},
	} {
		w := request(tc.h, http.MethodPost, "/invocations", tc.contentType, tc.accept, tc.body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		// Every sum here has a fraction, so Go's shortest form and Python's str() agree.
		assert.Equal(t, want.String(), w.Body.String(), tc.name)
	}
}

func TestInferenceIDIsLogged(t *testing.T) {
	var logs strings.Builder
	s, err := server.NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), sumModel(2), server.Options{})
	require.NoError(t, err)
	for _, body := range []string{"1,2\n", "1,2,3\n"} {
		r := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(body))
		r.Header.Set("Content-Type", "text/csv")
		r.Header.Set("X-Amzn-SageMaker-Inference-Id", "id-"+strconv.Itoa(len(body)))
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		if m["msg"] == "invocation" {
			lines = append(lines, m)
		}
	}
	require.Len(t, lines, 2, logs.String())
	assert.Equal(t, "id-4", lines[0]["inference_id"])
	assert.EqualValues(t, 200, lines[0]["status"])
	assert.EqualValues(t, 1, lines[0]["rows"])
	assert.Equal(t, "id-6", lines[1]["inference_id"])
	assert.EqualValues(t, 400, lines[1]["status"])
	assert.Equal(t, server.CodeWrongFeatures, lines[1]["code"])
}
