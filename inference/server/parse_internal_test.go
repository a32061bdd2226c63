package server

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseFloatMatchesStrconv checks the fast path against strconv.ParseFloat, bit for bit,
// on edge cases and on many random decimals in the forms clients send.
func TestParseFloatMatchesStrconv(t *testing.T) {
	inputs := []string{
		"0", "-0", "+0", "0.0", "-0.0", "00", "1", "-1", "+1", "1.", ".5", "-.5", "0.1", "0.3",
		"1e5", "1E5", "1e+5", "1e-5", "1.5e-300", "1e22", "1e23", "1e-22", "1e-23", "123456789012345",
		"1234567890123456", "0.000000000000000000001", "9007199254740993", "1.7976931348623157e308",
		"1e309", "4.9e-324", "1e-400", "0e999999", "inf", "-Inf", "NaN", "0x1p-2", "1_000", "", "-",
		".", "e5", "1e", "1e+", "--1", "1.2.3", "1e5.5", "12345e-5", "0.100000000000000005551",
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		v := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		switch rng.IntN(4) {
		case 0:
			inputs = append(inputs, strconv.FormatFloat(v, 'g', -1, 64))
		case 1:
			inputs = append(inputs, strconv.FormatFloat(v, 'f', rng.IntN(12), 64))
		case 2:
			inputs = append(inputs, strconv.FormatFloat(v, 'e', rng.IntN(16), 64))
		default:
			inputs = append(inputs, strconv.FormatFloat(float64(float32(v)), 'g', -1, 32))
		}
	}
	for _, in := range inputs {
		want, wantErr := strconv.ParseFloat(in, 64)
		got, err := parseFloat([]byte(in))
		if wantErr != nil {
			require.Error(t, err, "%q", in)
			continue
		}
		require.NoError(t, err, "%q", in)
		if math.IsNaN(want) {
			assert.True(t, math.IsNaN(got), "%q", in)
			continue
		}
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%q: want %v, got %v", in, want, got)
	}
}

// FuzzParseFloat holds the fast path to strconv's answer for any input.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0", "-1.5e-3", "123456789012345", "1e22", ".5", "1.", "9.999999999999999e22"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want, wantErr := strconv.ParseFloat(in, 64)
		got, err := parseFloat([]byte(in))
		if wantErr != nil {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		if !math.IsNaN(want) {
			require.Equal(t, math.Float64bits(want), math.Float64bits(got), "%q", in)
		}
	})
}
