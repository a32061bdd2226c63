package xgboost

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuoteNonFinite(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[NaN,1,Infinity,-Infinity]`, `["NaN",1,"Infinity","-Infinity"]`},
		{`{"a":"NaN","b":NaN}`, `{"a":"NaN","b":"NaN"}`},
		{`{"k\"NaN":[ -Infinity ]}`, `{"k\"NaN":[ "-Infinity" ]}`},
		{`[1,-2,"-Infinity\\",NaN]`, `[1,-2,"-Infinity\\","NaN"]`},
		{`{"plain":[1,2]}`, `{"plain":[1,2]}`},
		{`[Na]`, `[Na]`}, // not a token: left for the JSON decoder to refuse
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, string(quoteNonFinite([]byte(tc.in))), tc.in)
	}
}

// FuzzQuoteNonFinite checks the rewrite never touches standard JSON and quotes every token
// in one pass.
func FuzzQuoteNonFinite(f *testing.F) {
	for _, s := range []string{`[NaN,1,Infinity,-Infinity]`, `{"a":"NaN","b":NaN}`, `{"k\"NaN":[ -Infinity ]}`,
		`{"split_conditions":[NaN,-1.5E0,NaN],"loss_changes":[Infinity]}`, `"\\"`, `[-I]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out := quoteNonFinite(data)
		if json.Valid(data) && !bytes.Equal(out, data) {
			t.Fatalf("standard JSON %q rewritten to %q", data, out)
		}
		// Every token is quoted in one pass: a second pass finds nothing left.
		if again := quoteNonFinite(out); !bytes.Equal(again, out) {
			t.Fatalf("%q: second pass rewrote %q to %q", data, out, again)
		}
	})
}
