package server_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

func TestPing(t *testing.T) {
	health := &server.Health{}
	s := newServer(t, sumModel(2), server.Options{Health: health})

	w := request(s, http.MethodGet, "/ping", "", "", "")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"status":"UP"}`, w.Body.String())

	health.Drain()
	w = request(s, http.MethodGet, "/ping", "", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.JSONEq(t, `{"status":"DOWN"}`, w.Body.String())
}

func TestInvocationsJSONOutputByTask(t *testing.T) {
	// Each fake writes fixed outputs per row so the test sees exactly how they are served.
	fixed := func(task model.Task, classes []string, numClasses, width int, outs ...float64) *fakeModel {
		return &fakeModel{
			info: model.Info{Format: "fake", NumFeatures: 1, Task: task, NumClasses: numClasses, OutputWidth: width, Classes: classes},
			predict: func(x, out []float64) error {
				copy(out, outs)
				return nil
			},
		}
	}
	tests := []struct {
		name  string
		model *fakeModel
		rows  string
		want  string
	}{
		{"regression", fixed(model.Regression, nil, 0, 1, 1.5, -2e-7), `[[1],[2]]`,
			`{"predictions":[{"value":1.5},{"value":-2e-7}]}`},
		{"regression non-finite is null", fixed(model.Regression, nil, 0, 1, math.Inf(1), math.NaN()), `[[1],[2]]`,
			`{"predictions":[{"value":null},{"value":null}]}`},
		{"binary labels are indices", fixed(model.Binary, nil, 2, 1, 0.75, 0.25, 0.5), `[[1],[2],[3]]`,
			`{"predictions":[{"label":1,"probability":0.75},{"label":0,"probability":0.25},{"label":1,"probability":0.5}]}`},
		{"binary labels are class names", fixed(model.Binary, []string{"ham", "spam"}, 2, 1, 0.9, 0.1), `[[1],[2]]`,
			`{"predictions":[{"label":"spam","probability":0.9},{"label":"ham","probability":0.1}]}`},
		{"multiclass probabilities", fixed(model.MultiProba, []string{"a", "b", "c"}, 3, 3, 0.1, 0.7, 0.2, 0.5, 0.2, 0.3), `[[1],[2]]`,
			`{"predictions":[{"label":"b","probabilities":[0.1,0.7,0.2]},{"label":"a","probabilities":[0.5,0.2,0.3]}]}`},
		{"multiclass label only", fixed(model.MultiClass, nil, 3, 1, 2, 0), `[[1],[2]]`,
			`{"predictions":[{"label":2},{"label":0}]}`},
		{"multiclass label names need escaping", fixed(model.MultiClass, []string{`say "hi"`, "<b>"}, 2, 1, 0, 1), `[[1],[2]]`,
			`{"predictions":[{"label":"say \"hi\""},{"label":"<b>"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := invokeJSON(newServer(t, tc.model, server.Options{}), `{"instances":`+tc.rows+`}`)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.JSONEq(t, tc.want, w.Body.String())
		})
	}
}

func TestInvocationsJSONInputShapes(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		features []string
		body     string
		want     [][]float64
	}{
		{"arrays with null as missing", nil, `{"instances": [[1, null, 3.5], [-1e3, 0, 2E-2]]}`,
			[][]float64{{1, nan, 3.5}, {-1000, 0, 0.02}}},
		{"objects by feature name, absent is missing", []string{"a", "b", "c"},
			`{"instances": [{"c": 3, "a": 1}, {"b": null, "a": 7, "c": 9}]}`,
			[][]float64{{1, nan, 3}, {7, nan, 9}}},
		{"objects and arrays mixed", []string{"a", "b", "c"}, `{"instances":[[1,2,3],{"b":5}]}`,
			[][]float64{{1, 2, 3}, {nan, 5, nan}}},
		{"escaped feature names", []string{"petal length (cm)", "é", "tab\t"},
			`{"instances":[{"petal length (cm)":1,"\u00e9":2,"tab\t":3}]}`,
			[][]float64{{1, 2, 3}}},
		{"white space everywhere", nil, "\n{ \"instances\" :\t[ [ 1 ,2 , 3 ] ]\r\n}\n",
			[][]float64{{1, 2, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sumModel(3, tc.features...)
			w := invokeJSON(newServer(t, m, server.Options{}), tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assertRows(t, tc.want, m.rows())
		})
	}
}

// assertRows compares rows treating NaN as equal to NaN.
func assertRows(t *testing.T, want, got [][]float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Len(t, got[i], len(want[i]), "row %d", i)
		for j := range want[i] {
			if math.IsNaN(want[i][j]) {
				assert.True(t, math.IsNaN(got[i][j]), "row %d col %d: want missing, got %v", i, j, got[i][j])
			} else {
				assert.Equal(t, want[i][j], got[i][j], "row %d col %d", i, j)
			}
		}
	}
}

func TestInvocationsCSV(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		body string
		want [][]float64
	}{
		{"empty field is missing", "1,,3\n4,5,\n", [][]float64{{1, nan, 3}, {4, 5, nan}}},
		{"no final newline, CRLF, blank lines", "1,2,3\r\n\r\n4,5,6", [][]float64{{1, 2, 3}, {4, 5, 6}}},
		{"byte-order mark, spaces and quotes", "\ufeff 1, \"2\" ,3\n", [][]float64{{1, 2, 3}}},
		{"NaN is missing too", "NaN,1e-3,-0\n", [][]float64{{nan, 0.001, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := sumModel(3)
			w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", "text/csv", "", tc.body)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assertRows(t, tc.want, m.rows())
		})
	}
}

func TestInvocationsCSVOutputIsTheRawPrediction(t *testing.T) {
	m := &fakeModel{
		info: model.Info{Format: "fake", NumFeatures: 2, Task: model.MultiProba, NumClasses: 3, OutputWidth: 3},
		predict: func(x, out []float64) error {
			copy(out, []float64{0.1, 0.2, 0.7000000000000001, float64(float32(0.3)), 1e-20, 1})
			return nil
		},
	}
	w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", "text/csv; charset=utf-8", "text/csv", "1,2\n3,4\n")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "text/csv", w.Header().Get("Content-Type"))
	// float32 outputs are printed as the float64 they became, so that they round-trip exactly.
	assert.Equal(t, "0.1,0.2,0.7000000000000001\n0.30000001192092896,1e-20,1\n", w.Body.String())
}

func TestInvocationsLargeBatchIsPredictedInChunks(t *testing.T) {
	m := sumModel(2)
	var body strings.Builder
	for i := range 1000 {
		body.WriteString("1,")
		body.WriteString(strings.Repeat("9", i%7+1))
		body.WriteString("\n")
	}
	w := request(newServer(t, m, server.Options{}), http.MethodPost, "/invocations", "text/csv", "text/csv", body.String())
	require.Equal(t, http.StatusOK, w.Code)
	lines := strings.Split(strings.TrimSuffix(w.Body.String(), "\n"), "\n")
	require.Len(t, lines, 1000)
	assert.Equal(t, "10", lines[0])
	assert.Equal(t, "1e+07", lines[6], "shortest round-trip form, strconv 'g' -1")
	assert.Greater(t, len(m.seen), 1, "a large batch is predicted in several chunks")
	assert.Len(t, m.rows(), 1000)
}

func TestInvocationsPredictionDeadline(t *testing.T) {
	m := sumModel(1)
	s := newServer(t, m, server.Options{PredictTimeout: 2500 * time.Millisecond})
	// Every reading of the clock is one second later: the deadline passes after two chunks.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	server.SetClock(s, func() time.Time { now = now.Add(time.Second); return now })

	w := request(s, http.MethodPost, "/invocations", "text/csv", "", strings.Repeat("1\n", 2000))

	msg := requireError(t, w, http.StatusServiceUnavailable, server.CodeTimeout)
	assert.Contains(t, msg, "2.5s")
	assert.Less(t, len(m.rows()), 2000, "prediction stopped before the end")
	assert.NotEmpty(t, m.rows())
}

func TestInvocationsModelFailureDoesNotLeak(t *testing.T) {
	for _, tc := range []struct {
		name    string
		predict func(x, out []float64) error
	}{
		{"error", func(x, out []float64) error { return errors.New("secret path /var/lib/model: corrupt tree 7") }},
		{"panic", func(x, out []float64) error { panic("secret path /var/lib/model: corrupt tree 7") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sumModel(1)
			m.predict = tc.predict
			var logs strings.Builder
			s, err := server.NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), m, server.Options{})
			require.NoError(t, err)
			w := invokeJSON(s, `{"instances":[[1]]}`)
			msg := requireError(t, w, http.StatusInternalServerError, server.CodeInternal)
			assert.NotContains(t, msg, "secret")
			assert.NotContains(t, msg, "tree")
			assert.Contains(t, logs.String(), "corrupt tree 7", "the details are in the log")
		})
	}
}

func TestAcceptNegotiation(t *testing.T) {
	tests := []struct {
		accept string
		want   string // Content-Type of the answer, or "" for a 406
	}{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"text/csv", "text/csv"},
		{"text/csv; charset=utf-8", "text/csv"},
		{"text/*", "text/csv"},
		{"application/*", "application/json"},
		{"text/html, text/csv;q=0.5", "text/csv"},
		{"application/json;q=0.2, text/csv;q=0.9", "text/csv"},
		{"*/*;q=0.1, text/csv", "text/csv"},
		{"text/csv;q=0, */*", "application/json"},
		{"TEXT/CSV", "text/csv"},
		{"text/html", ""},
		{"application/xml, image/*", ""},
		{"application/json;q=0", ""},
	}
	s := newServer(t, sumModel(1), server.Options{})
	for _, tc := range tests {
		t.Run(tc.accept, func(t *testing.T) {
			w := request(s, http.MethodPost, "/invocations", "text/csv", tc.accept, "1\n")
			if tc.want == "" {
				msg := requireError(t, w, http.StatusNotAcceptable, server.CodeNotAcceptable)
				assert.Contains(t, msg, "application/json and text/csv")
				return
			}
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, tc.want, w.Header().Get("Content-Type"))
		})
	}
}

func TestJSONOutputIsValidJSON(t *testing.T) {
	m := &fakeModel{
		info: model.Info{Format: "fake", NumFeatures: 1, Task: model.MultiProba, NumClasses: 2, OutputWidth: 2,
			Classes: []string{"\x00\u2028\xff", "ok"}},
		predict: func(x, out []float64) error { copy(out, []float64{0.9, 0.1}); return nil },
	}
	w := invokeJSON(newServer(t, m, server.Options{}), `{"instances":[[1]]}`)
	require.Equal(t, http.StatusOK, w.Code)
	var got struct {
		Predictions []struct {
			Label         string    `json:"label"`
			Probabilities []float64 `json:"probabilities"`
		} `json:"predictions"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got), w.Body.String())
	assert.Equal(t, "\x00\u2028\ufffd", got.Predictions[0].Label)
	assert.Equal(t, []float64{0.9, 0.1}, got.Predictions[0].Probabilities)
}
