package server_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

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

// worstValue is the longest number the server writes: 24 bytes.
const worstValue = -2.2250738585072014e-308

// TestRowLimitKeepsTheAnswerWithinTheResponseLimit: a regression row's JSON answer is at most
// {"value":<24 bytes>}, plus a comma: 35 bytes, and the framing {"predictions":[ ]}\n 19, so a
// 1000-byte limit holds (1000-19)/35 = 28 rows; a CSV row is at most 25 bytes: 40 rows.
func TestRowLimitKeepsTheAnswerWithinTheResponseLimit(t *testing.T) {
	m := sumModel(1)
	m.predict = func(x, out []float64) error {
		for i := range out {
			out[i] = worstValue
		}
		return nil
	}
	s := newServer(t, m, server.Options{MaxResponseBytes: 1000})
	rows := func(n int) string { return strings.Repeat("1\n", n) }
	for _, tc := range []struct {
		accept string
		fit    int
	}{{"application/json", 28}, {"text/csv", 40}} {
		t.Run(tc.accept, func(t *testing.T) {
			w := request(s, http.MethodPost, "/invocations", "text/csv", tc.accept, rows(tc.fit))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.LessOrEqual(t, w.Body.Len(), 1000)
			assert.Greater(t, w.Body.Len(), 1000-35, "the bound is tight for the longest values")

			m.seen = nil
			w = request(s, http.MethodPost, "/invocations", "text/csv", tc.accept, rows(tc.fit+1))
			msg := requireError(t, w, http.StatusRequestEntityTooLarge, server.CodeTooManyRows)
			assert.Contains(t, msg, "send at most "+strconv.Itoa(tc.fit)+" rows per request")
			assert.Contains(t, msg, "1000-byte response limit")
			assert.Empty(t, m.rows(), "nothing is predicted")
		})
	}
	msg := requireError(t, invokeJSON(s, `{"instances":[`+strings.Repeat("[1],", 28)+"[1]]}"), http.StatusRequestEntityTooLarge, server.CodeTooManyRows)
	assert.Contains(t, msg, "(40 with Accept: text/csv)", "the message says that CSV answers fit more")

	limited := newServer(t, sumModel(1), server.Options{MaxRows: 5})
	require.Equal(t, http.StatusOK, request(limited, http.MethodPost, "/invocations", "text/csv", "", rows(5)).Code)
	msg = requireError(t, request(limited, http.MethodPost, "/invocations", "text/csv", "", rows(6)), http.StatusRequestEntityTooLarge, server.CodeTooManyRows)
	assert.Contains(t, msg, "more than 5 rows, this server's limit per request")
}

// TestDefaultLimitsKeepA6MBBodyFromA34MBAnswer is the case: 3 million one-value rows in
// a 6 MB body used to be answered with 34 MB. The default response limit is SageMaker's and
// Lambda's 6 MiB: (6291456-19)/35 = 179755 JSON rows.
func TestDefaultLimitsKeepA6MBBodyFromA34MBAnswer(t *testing.T) {
	s := newServer(t, sumModel(1), server.Options{})
	w := request(s, http.MethodPost, "/invocations", "text/csv", "", strings.Repeat("1\n", 3<<20-1))
	msg := requireError(t, w, http.StatusRequestEntityTooLarge, server.CodeTooManyRows)
	assert.Contains(t, msg, "send at most 179755 rows per request")
	assert.Contains(t, msg, "6291456-byte response limit")
}

// TestMemoryBudgetBoundsConcurrentPredictions gives the server room for one large request at a
// time: of two sent together, the second reaches the model only once the first has finished,
// while a small request passes by.
func TestMemoryBudgetBoundsConcurrentPredictions(t *testing.T) {
	entered := make(chan int, 100) // one per chunk of 256 rows
	release := make(chan struct{})
	m := sumModel(1)
	sum := m.predict
	m.predict = func(x, out []float64) error {
		entered <- len(out)
		if len(out) > 1 {
			<-release
		}
		return sum(x, out)
	}
	// A 20000-byte body of one-value rows reserves about 1.2 MB: 16 bytes a value, 8 an
	// output, up to 35 bytes of answer a row, twice the body for the scan buffer; a 2-byte body
	// about 16 KiB, for the scan buffer.
	s := newServer(t, m, server.Options{MemoryBudget: 1_500_000})
	big := strings.Repeat("1\n", 10000)
	done := make(chan int, 2)
	for range 2 {
		go func() { done <- request(s, http.MethodPost, "/invocations", "text/csv", "", big).Code }()
	}
	first := <-entered
	assert.Equal(t, 256, first, "the first chunk of the first large request")
	select {
	case n := <-entered:
		t.Fatalf("a second large request reached the model (%d rows) while the first held the memory", n)
	case <-time.After(100 * time.Millisecond):
	}
	assert.Equal(t, http.StatusOK, request(s, http.MethodPost, "/invocations", "text/csv", "", "1\n").Code, "a small request fits beside it")
	assert.Equal(t, 1, <-entered)
	close(release)
	assert.Equal(t, http.StatusOK, <-done)
	assert.Equal(t, http.StatusOK, <-done)
}

// TestGzipBodies: a gzip body is decoded, under the same limits as a plain one after
// decompression; another encoding is a 415 that says what is accepted.
func TestGzipBodies(t *testing.T) {
	m := sumModel(2)
	s := newServer(t, m, server.Options{MaxBodyBytes: 1 << 20})
	send := func(encoding string, body []byte, contentType string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if encoding != "" {
			r.Header.Set("Content-Encoding", encoding)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	for _, enc := range []string{"gzip", "GZIP", "x-gzip", "identity, gzip"} {
		m.seen = nil
		w := send(enc, gzipped(t, []byte(`{"instances":[[1,2],[3,4]]}`)), "application/json")
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", enc, w.Body)
		assert.Equal(t, [][]float64{{1, 2}, {3, 4}}, m.rows())
	}
	w := send("gzip", gzipped(t, []byte("1,2\n3,4\n")), "text/csv")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, http.StatusOK, send("identity", []byte("1,2\n"), "text/csv").Code)

	// A bomb: 16 MiB of spaces in about 16 KiB, under a 1 MiB limit.
	bomb := gzipped(t, append([]byte(`{"instances":[[1,2]]`), bytes.Repeat([]byte(" "), 16<<20)...))
	require.Less(t, len(bomb), 64<<10)
	msg := requireError(t, send("gzip", bomb, "application/json"), http.StatusRequestEntityTooLarge, server.CodePayloadTooLarge)
	assert.Contains(t, msg, "decompresses to more than the limit of 1048576 bytes")

	for _, tc := range []struct{ encoding, mentions string }{
		{"br", `"br" is not supported`}, {"deflate", `"deflate"`}, {"gzip, gzip", "more than once"}, {"zstd", "Content-Encoding: gzip"},
	} {
		msg := requireError(t, send(tc.encoding, []byte("1,2\n"), "text/csv"), http.StatusUnsupportedMediaType, server.CodeUnsupportedEncoding)
		assert.Contains(t, msg, tc.mentions)
	}
	for _, tc := range []struct {
		name string
		body []byte
		says string
	}{
		{"not gzip at all", []byte("1,2\n3,4\n5,6\n"), "not valid gzip"},
		{"cut short", gzipped(t, []byte("1,2\n3,4\n"))[:15], "ends early"},
		{"empty", nil, "empty"},
	} {
		msg := requireError(t, send("gzip", tc.body, "text/csv"), http.StatusBadRequest, server.CodeMalformedBody)
		assert.Contains(t, msg, tc.says, tc.name)
	}
}
