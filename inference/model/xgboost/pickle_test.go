package xgboost_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model/xgboost"
)

func readLegacy(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "legacy", name))
	require.NoError(t, err)
	return data
}

// TestPickleBytesHandle reads Boosters whose handle CPython pickled as bytes rather than
// bytearray: protocol 2 spells that as a call to _codecs.encode, protocol 3 as BINBYTES.
func TestPickleBytesHandle(t *testing.T) {
	var fx struct {
		Rows [][]*float64 `json:"rows"`
		Want [][]float64  `json:"want"`
	}
	require.NoError(t, json.Unmarshal(readLegacy(t, "shape_bytes.want.json"), &fx))
	c := legacyCase{Rows: fx.Rows}
	for _, name := range []string{"shape_bytes_p2.pkl", "shape_bytes_p3.pkl"} {
		t.Run(name, func(t *testing.T) {
			m, err := xgboost.Parse(readLegacy(t, name))
			require.NoError(t, err)
			out := make([]float64, len(fx.Rows))
			require.NoError(t, m.Predict(c.x(), out))
			for r, want := range fx.Want {
				assert.InDelta(t, want[0], out[r], parityTolerance, "row %d", r)
			}
		})
	}
}

// TestPickleRefusals checks that the pickle reader accepts only a Booster's shapes and says
// what it found instead. The files come from CPython's pickler (gen_legacy.py) or are written
// here opcode by opcode (CPython Lib/pickle.py names them).
func TestPickleRefusals(t *testing.T) {
	const booster2 = "\x80\x02cxgboost.core\nBooster\n)\x81" // GLOBAL, EMPTY_TUPLE, NEWOBJ
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"a call to os.system", readLegacy(t, "shape_reduce.pkl"),
			"the pickle refers to posix.system: only a pickled xgboost.core.Booster is read (nothing in the file is executed)"},
		{"an XGBClassifier", readLegacy(t, "shape_sklearn.pkl"), "the pickle refers to xgboost.sklearn.XGBClassifier"},
		{"an empty Booster", readLegacy(t, "shape_none.pkl"), `the pickled Booster's "handle" is None: it holds no model`},
		{"no handle", []byte(booster2 + "}b."), `the pickled Booster's state has no "handle"`},
		{"handle of another type", []byte(booster2 + "}X\x06\x00\x00\x00handleK\x05sb."), `"handle" is a int, want bytearray`},
		{"feature_names not a list", []byte(booster2 + "}(X\x06\x00\x00\x00handleC\x01xX\x0d\x00\x00\x00feature_namesK\x01ub."),
			"feature_names is a int, want a list of str or None"},
		{"the Booster called", []byte("\x80\x02cxgboost.core\nBooster\n)R."), "calls xgboost.core.Booster(...)"},
		{"a dict", []byte("\x80\x02}."), "the pickle holds a dict, not an xgboost.core.Booster"},
		{"BUILD of a dict", []byte("\x80\x02}}b."), "BUILD of a dict"},
		{"two states", []byte(booster2 + "}b}b."), "want one dict"},
		{"an opcode Booster pickles never use", []byte("\x80\x02\x82\x01."), "is not one a pickled Booster uses"},
		{"protocol 0 INST", []byte("\x80\x02(ios\nsystem\n."), "is not one a pickled Booster uses"},
		{"an out-of-band buffer", []byte("\x80\x05\x97."), "is not one a pickled Booster uses"},
		{"a memo never stored", []byte("\x80\x02h\x05."), "memo entry 5 was never stored"},
		{"a length past the end", []byte("\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f"), "truncated"},
		{"a str that is not UTF-8", []byte("\x80\x04\x8c\x02\xff\xfe."), "not valid UTF-8"},
		{"nested marks", []byte("\x80\x02" + strings.Repeat("(", 100)), "nested MARKs"},
		{"stack underflow", []byte("\x80\x02\x85."), "stack underflow"},
		{"no STOP", []byte("\x80\x02N"), "no STOP"},
		{"leftovers at STOP", []byte("\x80\x02NN."), "more than one object"},
		{"truncated", readLegacy(t, "binary_logistic.pkl")[:4000], "truncated"},
		{"a handle that is no model", []byte(booster2 + "}X\x06\x00\x00\x00handleC\x03abcsb."), "pickled Booster: not an XGBoost binary model"},
		{"a CONFIG-offset past the end", []byte(booster2 + "}X\x06\x00\x00\x00handleC\x16CONFIG-offset:\x99\x00\x00\x00\x00\x00\x00\x00sb."),
			"CONFIG-offset: 153 outside the 0 bytes that follow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xgboost.Parse(tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestPickleHint checks the message for a pickle that is not a Booster names what it holds.
func TestPickleHint(t *testing.T) {
	assert.Equal(t, ` is a Python pickle of xgboost.sklearn.XGBClassifier, not of an xgboost.core.Booster: `+
		`load it in Python and save its booster with model.get_booster().save_model("model.json")`,
		xgboost.PickleHint(readLegacy(t, "shape_sklearn.pkl")))
	assert.Equal(t, " is a Python pickle of posix.system; only a pickled xgboost.core.Booster is read",
		xgboost.PickleHint(readLegacy(t, "shape_reduce.pkl")))
	assert.Contains(t, xgboost.PickleHint([]byte("ccopy_reg\n_reconstructor\np0\n(cxgboost.core\nBooster\np1\nc__builtin__\nobject\n")),
		"at protocol 0 or 1, which is not read: pickle it again with protocol 2 or later")
	assert.Empty(t, xgboost.PickleHint(readLegacy(t, "binary_logistic.pkl")), "a Booster needs no hint")
	assert.Empty(t, xgboost.PickleHint([]byte(`{"learner": {}}`)), "not a pickle")
	assert.False(t, xgboost.SniffPickle(readLegacy(t, "shape_sklearn.pkl")))
}

// TestBinaryRefusals checks malformed binary models fail with the field that is wrong, before
// anything is allocated for a size the file cannot hold.
func TestBinaryRefusals(t *testing.T) {
	good := readLegacy(t, "binary_logistic.model")
	// Offsets in good: "binf", 136 bytes of parameters, the two names, then GBTreeModelParam.
	params := 4
	objLen := params + 136
	gbtree := objLen + 8 + len("binary:logistic") + 8 + len("gbtree")
	firstTree := gbtree + 160
	patch := func(off int, b ...byte) []byte {
		d := append([]byte(nil), good...)
		copy(d[off:], b)
		return d
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-3], "truncated"},
		{"only a header", []byte("binf"), "not an XGBoost binary model"},
		{"a booster name not known", patch(gbtree-6, 'g', 'b', 'x', 'x', 'x', 'x'), "not an XGBoost binary model"},
		{"num_feature 0", patch(params+4, 0, 0, 0, 0), "num_feature 0"},
		{"num_class absurd", patch(params+8, 0xff, 0xff, 0xff, 0x7f), "num_class 2147483647, num_target 1: more output groups than the 65536"},
		{"num_trees absurd", patch(gbtree, 0xff, 0xff, 0xff, 0x7f), "num_trees 2147483647, but"},
		{"num_trees negative", patch(gbtree, 0xff, 0xff, 0xff, 0xff), "num_trees -1"},
		{"num_nodes absurd", patch(firstTree+4, 0xff, 0xff, 0xff, 0x7f), "tree 0: num_nodes 2147483647, but"},
		{"num_nodes 0", patch(firstTree+4, 0, 0, 0, 0), "tree 0: num_nodes 0"},
		{"num_deleted wrong", patch(firstTree+8, 1), "tree 0: num_deleted 1, but 0 nodes"},
		{"vector leaves", patch(firstTree+20, 2), "size_leaf_vector 2"},
		{"a NaN leaf", nanLeaf(t, good, firstTree), "leaf value is NaN"},
		{"attributes absurd", append(append([]byte(nil), good[:len(good)-lenAttributes(t, good)]...),
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "attributes: 9223372036854775807 entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xgboost.Parse(tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// nanLeaf returns good with its first tree's first leaf value set to NaN.
func nanLeaf(t *testing.T, good []byte, firstTree int) []byte {
	t.Helper()
	d := append([]byte(nil), good...)
	nodes := firstTree + 148
	for i := 0; ; i++ {
		o := nodes + 20*i
		if int32(uint32(d[o+4])|uint32(d[o+5])<<8|uint32(d[o+6])<<16|uint32(d[o+7])<<24) == -1 { // cleft_
			bits := math.Float32bits(float32(math.NaN()))
			d[o+16], d[o+17], d[o+18], d[o+19] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
			return d
		}
	}
}

// lenAttributes is the size of the attribute block that ends a 1.x binary model: its count,
// then the pairs sorted by name, of which xgb.train's best_iteration comes first here.
func lenAttributes(t *testing.T, good []byte) int {
	t.Helper()
	i := strings.Index(string(good), "\x0e\x00\x00\x00\x00\x00\x00\x00best_iteration") - 8
	require.Greater(t, i, 0)
	return len(good) - i
}
