package server

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// csvPlainCases are fields at the edge of csvPlain's one-pass grammar, each followed by the
// text after it on the line.
var csvPlainCases = []string{
	"", ",", "0", "-0", "0.0", "-0.0", "00", "01", "1", "-1", "+1", "1.", ".5", "-.5", "0.1", "0.3",
	"1e5", "1E5", "1e+5", "1e-5", "1e-0005", "1e00005", "1.5e-300", "1e22", "1e23", "1e-22", "1e-23",
	"123456789012345", "1234567890123456", "0.000000000000000000001", "0.0000000000000000000001",
	"9007199254740993", "1.7976931348623157e308", "1e309", "nan", "NaN", "inf", "0x1p-2", "1_000",
	"-", ".", "e5", "1e", "1e+", "--1", "1.2.3", "1e5.5", " 1", "1 ", `"1"`, "1\r", "12345e-5",
	"0.100000000000000005551", "-0.", "5.1,3.5", "-3,", "1e5,x", "abc,1", "9007199254740992",
	"9007199254740993", "900719925474099.3", "0.9007199254740992", "1234567890123456789", "12345678901234567890",
	"-0.000123456789012345", "4.5e-7,1", "1E+22", "1e-22", "99999999999999999e5", "0.1e1", "1.0e-0",
}

// TestCSVPlainAgreesWithCSVField checks that the one-pass scan either declines a field or
// reads it to the same bits csvField does, and ends it where the line's next ',' is: it is
// only a shortcut, so no value or error may change.
func TestCSVPlainAgreesWithCSVField(t *testing.T) {
	inputs := append([]string(nil), csvPlainCases...)
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		v := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		var f string
		switch rng.IntN(4) {
		case 0:
			f = strconv.FormatFloat(v, 'g', 6, 64)
		case 1:
			f = strconv.FormatFloat(v, 'f', rng.IntN(12), 64)
		case 2:
			f = strconv.FormatFloat(v, 'e', rng.IntN(16), 64)
		default:
			f = strconv.FormatFloat(float64(float32(v)), 'g', -1, 32)
		}
		if rng.IntN(2) == 0 {
			f += ",7"
		}
		inputs = append(inputs, f)
	}
	plain := 0
	for _, in := range inputs {
		checkCSVPlain(t, in)
		if _, _, ok := csvPlain([]byte(in)); ok {
			plain++
		}
	}
	// The shortcut must actually take the common forms, or it is no shortcut.
	assert.Greater(t, plain, len(inputs)*3/4, "csvPlain took %d of %d fields", plain, len(inputs))
}

func checkCSVPlain(t *testing.T, in string) {
	t.Helper()
	v, end, ok := csvPlain([]byte(in))
	if !ok {
		return
	}
	field := in
	wantEnd := len(in)
	for i := range len(in) {
		if in[i] == ',' {
			field, wantEnd = in[:i], i
			break
		}
	}
	require.Equal(t, wantEnd, end, "%q: field end", in)
	want, err := csvField([]byte(field))
	require.NoError(t, err, "%q: csvPlain took a field csvField refuses", in)
	assert.Equal(t, math.Float64bits(want), math.Float64bits(v), "%q: got %v, want %v", in, v, want)
}

// FuzzCSVPlain looks for a field where the one-pass scan and csvField disagree.
func FuzzCSVPlain(f *testing.F) {
	for _, c := range csvPlainCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in string) { checkCSVPlain(t, in) })
}
