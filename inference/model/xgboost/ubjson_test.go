package xgboost

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUBJSONToJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"scalars", "[ZTFi\xffU\xffI\x01\x00l\x00\x00\x00\x02L\x00\x00\x00\x00\x00\x00\x00\x03C\x41]",
			`[null,true,false,-1,255,256,2,3,"A"]`},
		{"no-op markers", "[NNi\x01N]", `[1]`},
		{"strings and keys", "{i\x01aSi\x02hi}", `{"a":"hi"}`},
		{"float32 keeps its shortest text", "[d\x3e\x99\x99\x9a]", `[0.3]`},
		{"float64", "[D\x3f\xd3\x33\x33\x33\x33\x33\x33]", `[0.3]`},
		{"non-finite floats are quoted tokens", "[d\x7f\xc0\x00\x00d\x7f\x80\x00\x00d\xff\x80\x00\x00]", `["NaN","Infinity","-Infinity"]`},
		{"typed array", "[$d#i\x02\x3f\x80\x00\x00\x40\x00\x00\x00", `[1,2]`},
		{"counted array", "[#i\x02i\x01i\x02", `[1,2]`},
		{"counted object", "{#i\x01i\x01kZ", `{"k":null}`},
		{"empty typed array", "[$l#i\x00", `[]`},
		{"nested", "{i\x01a[{i\x01b[]}]}", `{"a":[{"b":[]}]}`},
		{"quotes escaped", "[Si\x03a\"b]", `["a\"b"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ubjsonToJSON([]byte(tc.in))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
		})
	}
}

func TestUBJSONToJSONRejects(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"empty", "", "truncated"},
		{"unclosed array", "[i\x01", "truncated"},
		{"truncated int", "[l\x00\x00", "truncated"},
		{"unknown marker", "[q]", `unknown marker 'q'`},
		{"negative length", "[Si\xffab]", "length -1 out of range"},
		{"length beyond input", "[SI\x7f\xffab]", "length 32767 out of range"},
		{"count beyond input", "[$i#L\x00\x00\x00\x00\x7f\xff\xff\xff", "out of range"},
		{"dollar without count", "[$ii\x01]", "'$' without '#'"},
		{"key not a string", "{Z}", "is not an integer type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ubjsonToJSON([]byte(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
	deep := make([]byte, 0, 200)
	for i := 0; i < 100; i++ {
		deep = append(deep, '[')
	}
	_, err := ubjsonToJSON(deep)
	assert.ErrorContains(t, err, "nested deeper than 64")
}

func TestUBJSONFixtureStartsAsSniffed(t *testing.T) {
	data, err := os.ReadFile("testdata/binary_logistic.ubj")
	require.NoError(t, err)
	assert.True(t, isUBJSON(data))
	assert.True(t, SniffUBJSON(data[:64]))
	assert.False(t, Sniff(data[:64]))
}
