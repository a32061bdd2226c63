package server_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/server"
)

// The fuzz targets drive the decoders through the handler, as a client would. Their seed
// corpora live in testdata/fuzz and run with every `go test`; `go test -fuzz FuzzDecodeJSON
// ./inference/server/` explores further.

const fuzzLimit = 4096

// fuzzInvoke sends body and checks what must hold for any input: no panic, a known status,
// a JSON error body for every failure, and for a success one answer per row the model saw.
func fuzzInvoke(t *testing.T, s http.Handler, m *fakeModel, contentType string, body []byte) *httptest.ResponseRecorder {
	m.seen = nil // the fuzz function runs one input at a time in each worker
	r := httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Accept", "text/csv")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	switch w.Code {
	case http.StatusOK:
		rows := m.rows()
		require.NotEmpty(t, rows)
		require.Equal(t, len(rows), strings.Count(w.Body.String(), "\n"), "one output line per row")
		for _, row := range rows {
			require.Len(t, row, 3)
		}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		var e apiError
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
		require.NotEmpty(t, e.Error.Code)
		require.NotEmpty(t, e.Error.Message)
		require.True(t, utf8.ValidString(e.Error.Message))
	default:
		t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
	}
	return w
}

// fuzzServer is built once per fuzz target: building one per input would dominate the run.
func fuzzServer(f *testing.F) (*server.Server, *fakeModel) {
	m := sumModel(3, "a", "b", "c")
	return newServer(f, m, server.Options{MaxBodyBytes: fuzzLimit}), m
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"instances":[[1,2,3]]}`,
		`{"instances":[[1,null,-3.5e-2],[0,0,0]]}`,
		`{"instances":[{"a":1,"c":2},{"b":null}]}`,
		`{"instances":[{"\u0061":1}]}`,
		"\ufeff{\"instances\":[[1e400,Infinity,0x1p3]]}",
	} {
		f.Add([]byte(seed))
	}
	s, m := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := fuzzInvoke(t, s, m, "application/json", body)
		// Differential check against encoding/json: whatever we accept, it accepts with the
		// same values; and what it accepts we accept too, unless a duplicate key could hide
		// in escapes (we refuse duplicates, encoding/json keeps the last).
		want, objects, refErr := referenceDecode(body)
		if w.Code == http.StatusOK {
			require.NoError(t, refErr, "we accepted what encoding/json refuses: %q", body)
			assertRows(t, want, m.rows())
			return
		}
		unambiguous := !objects && bytes.Count(body, []byte(`"instances"`)) == 1 && !bytes.Contains(body, []byte(`\`))
		if refErr == nil && unambiguous && len(body) <= fuzzLimit {
			t.Fatalf("encoding/json accepts %q but we said %d %s", body, w.Code, w.Body)
		}
	})
}

// referenceDecode decodes {"instances": [...]} with encoding/json, rows as arrays of 3 or objects
// over the features a, b, c; objects says whether any row was an object.
func referenceDecode(body []byte) (rows [][]float64, objects bool, err error) {
	body = bytes.TrimPrefix(body, []byte("\ufeff")) // which we ignore, as RFC 8259 §8.1 allows
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, false, err
	}
	var raw []json.RawMessage
	if len(top) != 1 || top["instances"] == nil {
		return nil, false, assert.AnError
	}
	if err := json.Unmarshal(top["instances"], &raw); err != nil || len(raw) == 0 {
		return nil, false, assert.AnError
	}
	cols := map[string]int{"a": 0, "b": 1, "c": 2}
	for _, r := range raw {
		row := []float64{math.NaN(), math.NaN(), math.NaN()}
		switch bytes.TrimSpace(r)[0] {
		case '[':
			var vs []*float64
			if err := json.Unmarshal(r, &vs); err != nil || len(vs) != 3 {
				return nil, false, assert.AnError
			}
			for i, v := range vs {
				if v != nil {
					row[i] = *v
				}
			}
		case '{':
			objects = true
			var vs map[string]*float64
			if err := json.Unmarshal(r, &vs); err != nil {
				return nil, true, err
			}
			for k, v := range vs {
				i, ok := cols[k]
				if !ok {
					return nil, true, assert.AnError
				}
				if v != nil {
					row[i] = *v
				}
			}
		default:
			return nil, false, assert.AnError
		}
		rows = append(rows, row)
	}
	return rows, objects, nil
}

func FuzzDecodeCSV(f *testing.F) {
	for _, seed := range []string{"1,2,3\n", "1,,3\r\n4,5,6", "\ufeff\"1\", 2 ,3\n\n"} {
		f.Add([]byte(seed))
	}
	s, m := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := fuzzInvoke(t, s, m, "text/csv", body)
		if w.Code != http.StatusOK {
			return
		}
		nonBlank := 0
		for _, line := range strings.Split(string(body), "\n") {
			if len(strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))) > 0 {
				nonBlank++
			}
		}
		assert.Len(t, m.rows(), nonBlank, "one row per non-blank line")
	})
}

// FuzzOneNumberGrammar holds CSV and JSON to one number grammar: a value is accepted by both,
// with the same bits, or refused by both.
func FuzzOneNumberGrammar(f *testing.F) {
	for _, seed := range []string{"1", "-0.5e-3", ".5", "5.", "+1", "Inf", "0x1p-2", "1_000", "1e400", "007", "1e-400"} {
		f.Add(seed)
	}
	m := sumModel(1)
	s := newServer(f, m, server.Options{})
	f.Fuzz(func(t *testing.T, tok string) {
		// Only a token that is one value in both formats: no separators, quotes or spaces, and
		// not a spelling of a missing value, which each format has its own of.
		if tok == "" || strings.ContainsAny(tok, ",\n\r\"[]{}: \t\\") || strings.EqualFold(tok, "nan") || !utf8.ValidString(tok) {
			return
		}
		m.seen = nil
		csv := request(s, http.MethodPost, "/invocations", "text/csv", "", tok+"\n")
		csvRows := m.rows()
		m.seen = nil
		js := invokeJSON(s, `{"instances":[[`+tok+`]]}`)
		require.Equal(t, csv.Code, js.Code, "%q: CSV said %s, JSON %s", tok, csv.Body, js.Body)
		if csv.Code == http.StatusOK {
			require.Equal(t, math.Float64bits(csvRows[0][0]), math.Float64bits(m.rows()[0][0]), "%q", tok)
		}
	})
}
