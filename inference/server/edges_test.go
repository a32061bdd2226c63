package server_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/server"
)

// TestErrorsNeverEchoAHugeToken sends a 6 MB token wherever a message quotes what the client
// sent: the answer stays small and says the token was cut.
func TestErrorsNeverEchoAHugeToken(t *testing.T) {
	huge := strings.Repeat("7", 6_000_000)
	letters := strings.Repeat("x", 6_000_000)
	tests := []struct {
		name, contentType, body string
		code                    string
	}{
		{"JSON number", "application/json", `{"instances":[[1,` + huge + `e]]}`, server.CodeNonNumeric},
		{"JSON unknown key", "application/json", `{"` + letters + `":1}`, server.CodeMalformedBody},
		{"JSON unknown feature", "application/json", `{"instances":[{"` + letters + `":1}]}`, server.CodeUnknownFeature},
		{"CSV field", "text/csv", "1," + letters + "\n", server.CodeNonNumeric},
	}
	s := newServer(t, sumModel(2, "a", "b"), server.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Less(t, len(tc.body), server.DefaultMaxBodyBytes)
			w := request(s, http.MethodPost, "/invocations", tc.contentType, "", tc.body)
			msg := requireError(t, w, http.StatusBadRequest, tc.code)
			assert.Less(t, w.Body.Len(), 1024, "the answer repeats at most a short prefix")
			assert.Contains(t, msg, "…")
			assert.Regexp(t, `\(600000[01] bytes\)`, msg, "the length of what was cut")
		})
	}
	t.Run("Content-Type", func(t *testing.T) {
		w := request(s, http.MethodPost, "/invocations", "application/"+letters[:100000], "", "1,2\n")
		requireError(t, w, http.StatusUnsupportedMediaType, server.CodeUnsupportedType)
		assert.Less(t, w.Body.Len(), 1024)
	})
	t.Run("path", func(t *testing.T) {
		w := request(s, http.MethodGet, "/"+letters[:100000], "", "", "")
		requireError(t, w, http.StatusNotFound, server.CodeNotFound)
		assert.Less(t, w.Body.Len(), 1024)
	})
}

// TestOneNumberGrammar holds CSV and JSON to the same number grammar, JSON's (RFC 8259 §6):
// each form is accepted by both with the same value, or refused by both, and a number beyond
// float64 is called out of range rather than not a number.
func TestOneNumberGrammar(t *testing.T) {
	accepted := map[string]float64{
		"0": 0, "-0": 0, "0.5": 0.5, "-3": -3, "1e-5": 1e-5, "1E+5": 1e5, "2.5e3": 2500,
		"123456789012345678": 123456789012345678, "1e-400": 0, // underflow rounds to zero, as strconv does
	}
	refused := []string{"Inf", "-Inf", "+Inf", "inf", "Infinity", "-Infinity", "0x1p-2", "0X1P+3", "1_000",
		".5", "-.5", "5.", "+1", "007", "-01", "1e", "1e+", "--1", "1.2.3"}
	s := func(m *fakeModel) *server.Server { return newServer(t, m, server.Options{}) }
	for in, want := range accepted {
		for _, csv := range []bool{false, true} {
			m := sumModel(1)
			w := invokeOne(s(m), csv, in)
			require.Equal(t, http.StatusOK, w.Code, "%q (csv %v): %s", in, csv, w.Body)
			assert.Equal(t, [][]float64{{want}}, m.rows(), "%q (csv %v)", in, csv)
		}
	}
	for _, in := range refused {
		for _, csv := range []bool{false, true} {
			w := invokeOne(s(sumModel(1)), csv, in)
			msg := requireError(t, w, http.StatusBadRequest, server.CodeNonNumeric)
			assert.Contains(t, msg, `"`+in+`" is not a number`, "csv %v", csv)
			assert.Contains(t, msg, "written as in JSON", "csv %v", csv)
		}
	}
	for _, in := range []string{"1e400", "-1e400", "1.8e308"} {
		for _, csv := range []bool{false, true} {
			msg := requireError(t, invokeOne(s(sumModel(1)), csv, in), http.StatusBadRequest, server.CodeNonNumeric)
			assert.Contains(t, msg, `"`+in+`" is out of float64 range`, "csv %v", csv)
		}
	}
	// Missing values keep their format's own spelling.
	msg := requireError(t, invokeOne(s(sumModel(1)), false, "NaN"), http.StatusBadRequest, server.CodeNonNumeric)
	assert.Contains(t, msg, "a missing value is null")
}

// invokeOne sends a one-value row as CSV or JSON.
func invokeOne(s http.Handler, csv bool, value string) *httptest.ResponseRecorder {
	if csv {
		return request(s, http.MethodPost, "/invocations", "text/csv", "", value+"\n")
	}
	return invokeJSON(s, `{"instances":[[`+value+`]]}`)
}

// TestJSONMayStartWithAByteOrderMark accepts a UTF-8 BOM before JSON as before CSV (RFC 8259
// §8.1 lets a parser ignore it); a BOM anywhere else is still refused.
func TestJSONMayStartWithAByteOrderMark(t *testing.T) {
	m := sumModel(2)
	w := invokeJSON(newServer(t, m, server.Options{}), "\ufeff{\"instances\":[[1,2]]}")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, [][]float64{{1, 2}}, m.rows())

	w = invokeJSON(newServer(t, sumModel(2), server.Options{}), "{\ufeff\"instances\":[[1,2]]}")
	requireError(t, w, http.StatusBadRequest, server.CodeMalformedBody)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}
