package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCeilingDecodesWhatTheServerDecodes keeps the benchmark's ceiling building and honest: it
// reads the bodies bench/run sends (JSON with null for missing, CSV with empty fields) and
// refuses what is not a number, so its figures include the decoding work.
func TestCeilingDecodesWhatTheServerDecodes(t *testing.T) {
	h := newHandler()
	tests := []struct {
		name, contentType, body string
		status                  int
		answer                  string
	}{
		{"json", "application/json", `{"instances":[[1.5,null,3]]}`, http.StatusOK, `{"predictions":[0.5]}`},
		{"csv", "text/csv", "1.5,,3\n4,5,6\n", http.StatusOK, "0.5\n0.5\n"},
		{"json not a number", "application/json", `{"instances":[["x"]]}`, http.StatusBadRequest, ""},
		{"csv not a number", "text/csv", "1,x\n", http.StatusBadRequest, ""},
		{"json empty", "application/json", `{"instances":[]}`, http.StatusBadRequest, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.answer != "" {
				assert.Equal(t, tc.answer, w.Body.String())
			}
		})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ping", nil))
	assert.Equal(t, http.StatusOK, w.Code)
}
