package server

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAppendPyFloatIsPythonRepr checks the float form against Python 3's repr and json.dumps,
// run here (python3 -c 'print(repr(v), json.dumps(v))') for each value.
func TestAppendPyFloatIsPythonRepr(t *testing.T) {
	pointOne := 0.1 // a variable: Go folds constant 0.1+0.2 to exactly 0.3
	tests := []struct {
		v          float64
		repr, json string
	}{
		{1e16, "1e+16", "1e+16"},
		{1e-5, "1e-05", "1e-05"},
		{0.0001, "0.0001", "0.0001"},
		{123456789012345680.0, "1.2345678901234568e+17", "1.2345678901234568e+17"},
		{1, "1.0", "1.0"},
		{math.Copysign(0, -1), "-0.0", "-0.0"},
		{1234567890123456.0, "1234567890123456.0", "1234567890123456.0"},
		{pointOne + 0.2, "0.30000000000000004", "0.30000000000000004"},
		{5e-324, "5e-324", "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308", "1.7976931348623157e+308"},
		{-2.5e-7, "-2.5e-07", "-2.5e-07"},
		{100, "100.0", "100.0"},
		{1 - 0.6, "0.4", "0.4"},
		{math.NaN(), "nan", "NaN"},
		{math.Inf(1), "inf", "Infinity"},
		{math.Inf(-1), "-inf", "-Infinity"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.repr, string(appendPyFloat(nil, tc.v, false)), "repr(%v)", tc.v)
		assert.Equal(t, tc.json, string(appendPyFloat(nil, tc.v, true)), "json.dumps(%v)", tc.v)
	}
}

// TestAppendPyFloatRoundTrips: whatever the form, Python (and Go) read back the same float64.
func TestAppendPyFloatRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := math.Float64frombits(r.Uint64())
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		s := string(appendPyFloat(nil, v, true))
		got, err := strconv.ParseFloat(s, 64)
		if !assert.NoError(t, err, s) || !assert.Equal(t, v, got, s) {
			return
		}
		f32 := float64(float32(v))
		if math.IsInf(f32, 0) {
			continue
		}
		s = string(appendPyFloat(nil, f32, false))
		got, _ = strconv.ParseFloat(s, 64)
		if !assert.Equal(t, f32, got, s) {
			return
		}
	}
}
