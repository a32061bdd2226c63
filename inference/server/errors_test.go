package server_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/server"
)

func TestInvocationsBadInput(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code        string
		mentions    []string // the message must say these
	}{
		{"not JSON", "application/json", `instances`, 400, server.CodeMalformedBody, []string{"JSON object"}},
		{"bare array", "application/json", `[[1,2,3]]`, 400, server.CodeMalformedBody, []string{`{"instances"`}},
		{"truncated", "application/json", `{"instances":[[1,2,3]`, 400, server.CodeMalformedBody, []string{"ends early"}},
		{"trailing data", "application/json", `{"instances":[[1,2,3]]} {}`, 400, server.CodeMalformedBody, []string{"after the end"}},
		{"unknown key", "application/json", `{"instance":[[1,2,3]]}`, 400, server.CodeMalformedBody, []string{`"instance"`}},
		{"no instances", "application/json", `{}`, 400, server.CodeMalformedBody, []string{`"instances" is missing`}},
		{"instances twice", "application/json", `{"instances":[[1,2,3]],"instances":[[1,2,3]]}`, 400, server.CodeMalformedBody, []string{"twice"}},
		{"empty body", "application/json", ``, 400, server.CodeEmptyInput, []string{"empty"}},
		{"empty instances", "application/json", `{"instances":[]}`, 400, server.CodeEmptyInput, []string{"at least one row"}},
		{"too few features", "application/json", `{"instances":[[1,2,3],[1,2]]}`, 400, server.CodeWrongFeatures,
			[]string{"row 2", "expected 3", "got 2"}},
		{"too many features", "application/json", `{"instances":[[1,2,3,4]]}`, 400, server.CodeWrongFeatures,
			[]string{"row 1", "expected 3", "got 4"}},
		{"string value", "application/json", `{"instances":[[1,2,3],[1,"x",3]]}`, 400, server.CodeNonNumeric,
			[]string{"row 2, column 2", "instances[1][1]", "a string"}},
		{"boolean value", "application/json", `{"instances":[[true,2,3]]}`, 400, server.CodeNonNumeric, []string{"row 1, column 1", "a boolean"}},
		{"nested array", "application/json", `{"instances":[[1,[2],3]]}`, 400, server.CodeNonNumeric, []string{"column 2", "an array"}},
		{"bad number", "application/json", `{"instances":[[1,2,3e]]}`, 400, server.CodeNonNumeric, []string{"column 3", `"3e"`}},
		{"out of range number", "application/json", `{"instances":[[1,2,1e999]]}`, 400, server.CodeNonNumeric, []string{"column 3"}},
		{"bad literal", "application/json", `{"instances":[[nul,2,3]]}`, 400, server.CodeMalformedBody, []string{"null"}},
		{"row is a number", "application/json", `{"instances":[1,2,3]}`, 400, server.CodeMalformedBody, []string{"row 1", "array of 3 values"}},
		{"object row without feature names", "application/json", `{"instances":[{"a":1}]}`, 400, server.CodeUnknownFeature,
			[]string{"feature names are unknown", "array of 3"}},
		{"bad escape", "application/json", `{"inst\q":1}`, 400, server.CodeMalformedBody, []string{`\q`}},
		{"csv not a number", "text/csv", "1,2,3\n1,abc,3\n", 400, server.CodeNonNumeric, []string{"line 2, column 2", `"abc"`}},
		{"csv header", "text/csv", "a,b,c\n1,2,3\n", 400, server.CodeNonNumeric, []string{"line 1, column 1"}},
		{"csv wrong count", "text/csv", "1,2,3\n\n1,2\n", 400, server.CodeWrongFeatures, []string{"line 3", "expected 3", "got 2"}},
		{"csv empty", "text/csv", "\n\n", 400, server.CodeEmptyInput, []string{"no rows"}},
		{"no content type", "", `{"instances":[[1,2,3]]}`, 415, server.CodeUnsupportedType, []string{"application/json, text/csv", "text/libsvm", "application/x-recordio-protobuf", "application/jsonlines"}},
		{"unsupported content type", "application/x-www-form-urlencoded", `a=1`, 415, server.CodeUnsupportedType,
			[]string{"application/x-www-form-urlencoded", "text/csv"}},
	}
	s := newServer(t, sumModel(3), server.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := request(s, http.MethodPost, "/invocations", tc.contentType, "", tc.body)
			msg := requireError(t, w, tc.status, tc.code)
			for _, m := range tc.mentions {
				assert.Contains(t, msg, m)
			}
		})
	}
}

func TestInvocationsUnknownFeatureIsNamed(t *testing.T) {
	s := newServer(t, sumModel(2, "sepal_length", "sepal_width"), server.Options{})
	w := invokeJSON(s, `{"instances":[{"sepal_length":1,"petal_width":2}]}`)
	msg := requireError(t, w, http.StatusBadRequest, server.CodeUnknownFeature)
	assert.Contains(t, msg, `"petal_width"`)
	assert.Contains(t, msg, "sepal_length, sepal_width")

	w = invokeJSON(s, `{"instances":[{"sepal_length":1,"sepal_length":2}]}`)
	assert.Contains(t, requireError(t, w, http.StatusBadRequest, server.CodeMalformedBody), "twice")
}

// chunked hides the length of a body, as a client streaming it would.
type chunked struct{ io.Reader }

func TestInvocationsBodyLimit(t *testing.T) {
	const limit = 1000
	s := newServer(t, sumModel(1), server.Options{MaxBodyBytes: limit})
	atLimit := `{"instances":[` + strings.Repeat("[1],", (limit-len(`{"instances":[[1]]}`))/4) + "[1]]}"
	atLimit += strings.Repeat(" ", limit-len(atLimit))
	require.Len(t, atLimit, limit)

	tests := []struct {
		name   string
		body   string
		stream bool
		status int
	}{
		{"at the limit", atLimit, false, http.StatusOK},
		{"streamed at the limit", atLimit, true, http.StatusOK},
		{"one byte over, declared", atLimit + " ", false, http.StatusRequestEntityTooLarge},
		{"one byte over, streamed", atLimit + " ", true, http.StatusRequestEntityTooLarge},
		{"far over, streamed CSV", strings.Repeat("1\n", 10*limit), true, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.stream {
				body = chunked{body}
			}
			r := httptest.NewRequest(http.MethodPost, "/invocations", body)
			r.Header.Set("Content-Type", "application/json")
			if strings.HasPrefix(tc.body, "1") {
				r.Header.Set("Content-Type", "text/csv")
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if tc.status == http.StatusOK {
				assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
				return
			}
			assert.Contains(t, requireError(t, w, tc.status, server.CodePayloadTooLarge), "1000 bytes")
		})
	}
}

func TestDefaultBodyLimitIsSageMakers(t *testing.T) {
	s := newServer(t, sumModel(1), server.Options{})
	// 6 MiB + 2 bytes in rows of 64 bytes: fewer rows than the response limit allows.
	body := strings.Repeat("1"+strings.Repeat("0", 62)+"\n", (6<<20)/64) + "1\n"
	r := httptest.NewRequest(http.MethodPost, "/invocations", chunked{strings.NewReader(body)})
	r.Header.Set("Content-Type", "text/csv")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	assert.Contains(t, requireError(t, w, http.StatusRequestEntityTooLarge, server.CodePayloadTooLarge), "6291456 bytes")
}

func TestUnroutedRequests(t *testing.T) {
	s := newServer(t, sumModel(1), server.Options{})
	tests := []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/", 404, server.CodeNotFound, ""},
		{http.MethodGet, "/predict", 404, server.CodeNotFound, ""},
		{http.MethodPost, "/ping/", 404, server.CodeNotFound, ""},
		{http.MethodGet, "/invocations", 405, server.CodeMethodNotAllowed, "POST"},
		{http.MethodPost, "/ping", 405, server.CodeMethodNotAllowed, "GET, HEAD"},
		{http.MethodDelete, "/metrics", 405, server.CodeMethodNotAllowed, "GET, HEAD"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := request(s, tc.method, tc.path, "", "", "")
			msg := requireError(t, w, tc.status, tc.code)
			assert.Equal(t, tc.allow, w.Header().Get("Allow"))
			if tc.status == http.StatusNotFound {
				assert.Contains(t, msg, "POST /invocations")
			}
		})
	}
}

// TestBodyLimitCutsAValue checks that a body cut by the limit in the middle of a value is
// reported as too large, not as the broken value the cut leaves behind.
func TestBodyLimitCutsAValue(t *testing.T) {
	for _, tc := range []struct{ name, body, contentType string }{
		{"inside an exponent", `{"instances":[[1,2,1e5]]}`, "application/json"},
		{"inside null", `{"instances":[[1,2,null]]}`, "application/json"},
		{"inside a key", `{"instances":[{"abcdef":1}]}`, "application/json"},
		{"inside a CSV line", "1,2,3\n4,5,6e7\n", "text/csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for limit := 1; limit < len(tc.body); limit++ {
				s := newServer(t, sumModel(3, "abcdef"), server.Options{MaxBodyBytes: int64(limit)})
				r := httptest.NewRequest(http.MethodPost, "/invocations", chunked{strings.NewReader(tc.body)})
				r.Header.Set("Content-Type", tc.contentType)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				require.Equal(t, http.StatusRequestEntityTooLarge, w.Code, "limit %d: %s", limit, w.Body)
			}
		})
	}
}

// failingBody is a request body that yields prefix and then fails with err, as a connection that
// stalls past the read timeout or is reset mid-body does.
type failingBody struct {
	prefix io.Reader
	err    error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if n, _ := b.prefix.Read(p); n > 0 {
		return n, nil
	}
	return 0, b.err
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "proxy read from 10.1.2.3:443 timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// TestInvocationsBodyReadError checks that a body that cannot be read is answered with a fixed
// message (408 for a timeout) while the read error, which names addresses, goes to the log only.
func TestInvocationsBodyReadError(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp",
			Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 42077},
			Addr:   &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 49518}, Err: err}
	}
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		logged string // in the log, never in the answer
	}{
		{"read deadline passed", opErr(os.ErrDeadlineExceeded), http.StatusRequestTimeout, server.CodeBodyReadTimeout, "127.0.0.1:42077"},
		{"another net timeout", timeoutError{}, http.StatusRequestTimeout, server.CodeBodyReadTimeout, "10.1.2.3:443"},
		{"connection reset", opErr(syscall.ECONNRESET), http.StatusBadRequest, server.CodeBodyRead, "127.0.0.1:42077"},
		{"body cut short", io.ErrUnexpectedEOF, http.StatusBadRequest, server.CodeBodyRead, "unexpected EOF"},
	}
	for _, tc := range tests {
		for _, contentType := range []string{"application/json", "text/csv"} {
			t.Run(tc.name+" "+contentType, func(t *testing.T) {
				var logs strings.Builder
				s, err := server.NewServer(slog.New(slog.NewJSONHandler(&logs, nil)), sumModel(1), server.Options{})
				require.NoError(t, err)
				prefix := `{"instances":[[1],`
				if contentType == "text/csv" {
					prefix = "1\n2\n"
				}
				r := httptest.NewRequest(http.MethodPost, "/invocations", &failingBody{strings.NewReader(prefix), tc.err})
				r.Header.Set("Content-Type", contentType)
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)

				msg := requireError(t, w, tc.status, tc.code)
				assert.NotContains(t, w.Body.String(), tc.logged)
				assert.NotContains(t, msg, tc.err.Error())
				assert.Contains(t, logs.String(), `"msg":"request body not read"`)
				assert.Contains(t, logs.String(), tc.logged)
			})
		}
	}
}

// TestInvocationsEmptyObjectRow checks that {} is refused with a message naming the row and the
// features, while an object naming only some features still leaves the others missing.
func TestInvocationsEmptyObjectRow(t *testing.T) {
	m := sumModel(2, "sepal_length", "sepal_width")
	s := newServer(t, m, server.Options{})
	w := invokeJSON(s, `{"instances":[[1,2],{ }]}`)
	msg := requireError(t, w, http.StatusBadRequest, server.CodeEmptyRow)
	assert.Contains(t, msg, "row 2 (instances[1])")
	assert.Contains(t, msg, "sepal_length, sepal_width")
	assert.Empty(t, m.rows(), "nothing is predicted")

	w = invokeJSON(s, `{"instances":[{"sepal_width":2}]}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, `{"predictions":[{"value":2}]}`+"\n", w.Body.String())
}
