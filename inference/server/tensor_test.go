package server_test

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// tensorModel is sumModel with declared input tensors (as an ONNX graph declares them), so that
// the rows the server hands it can be checked value by value.
func tensorModel(inputs ...model.Input) *fakeModel {
	nf := 0
	for _, in := range inputs {
		n := 1
		for _, d := range in.Shape {
			n *= d
		}
		nf += n
	}
	m := sumModel(nf)
	m.info.Format, m.info.Inputs = "onnx", inputs
	return m
}

var nan = math.NaN()

// assertSameRow compares rows value by value, NaN equal to NaN (a missing value).
func assertSameRow(t *testing.T, want, got []float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		if math.IsNaN(want[i]) {
			assert.True(t, math.IsNaN(got[i]), "value %d: got %v, want a missing value", i, got[i])
			continue
		}
		assert.Equal(t, want[i], got[i], "value %d", i)
	}
}

// TestTensorInstances: nested arrays in the input's declared shape, and objects keyed by input
// name, reach the model as the same row-major flat row as the flat array does.
func TestTensorInstances(t *testing.T) {
	grid := model.Input{Name: "input", Type: "float32", Shape: []int{2, 3}}
	image := model.Input{Name: "image", Type: "float32", Shape: []int{2, 2, 2}}
	meta := model.Input{Name: "meta", Type: "int64", Shape: []int{2}}
	scalar := model.Input{Name: "age", Type: "float64"}
	for _, tc := range []struct {
		name   string
		inputs []model.Input
		body   string
		want   [][]float64
	}{
		{"one input, nested", []model.Input{grid}, `{"instances": [[[1, 2, 3], [4, 5, 6]], [[7,8,9],[10,11,12]]]}`,
			[][]float64{{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}}},
		{"one input, flat as before", []model.Input{grid}, `{"instances": [[1, 2, 3, 4, 5, 6]]}`,
			[][]float64{{1, 2, 3, 4, 5, 6}}},
		{"one input, named", []model.Input{grid}, `{"instances": [{"input": [[1, 2, 3], [4, 5, 6]]}]}`,
			[][]float64{{1, 2, 3, 4, 5, 6}}},
		{"rank 3, nested, null is missing", []model.Input{image}, `{"instances": [[[[1, 2], [3, 4]], [[5, null], [7, 8]]]]}`,
			[][]float64{{1, 2, 3, 4, 5, nan, 7, 8}}},
		{"two inputs, named, in any order", []model.Input{image, meta, scalar},
			`{"instances": [{"meta": [10, -20], "age": 0.5, "image": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}]}`,
			[][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 10, -20, 0.5}}},
		{"two inputs, named, a flat array for a rank-3 input", []model.Input{image, meta},
			`{"instances": [{"image": [1, 2, 3, 4, 5, 6, 7, 8], "meta": [1, 2]}]}`,
			[][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 1, 2}}},
		{"two inputs, flat concatenation", []model.Input{grid, meta}, `{"instances": [[1, 2, 3, 4, 5, 6, 7, 8]]}`,
			[][]float64{{1, 2, 3, 4, 5, 6, 7, 8}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tensorModel(tc.inputs...)
			w := invokeJSON(newServer(t, m, server.Options{}), tc.body)
			require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
			got := m.rows()
			require.Len(t, got, len(tc.want))
			for i := range tc.want {
				assertSameRow(t, tc.want[i], got[i])
			}
		})
	}
}

// TestTensorInstanceErrors: a shape mistake is a 400 naming the input, the index path, and the
// expected and found counts or kinds.
func TestTensorInstanceErrors(t *testing.T) {
	grid := model.Input{Name: "input", Type: "float32", Shape: []int{2, 3}}
	image := model.Input{Name: "image", Type: "float32", Shape: []int{2, 2, 2}}
	meta := model.Input{Name: "meta", Type: "int64", Shape: []int{2}}
	for _, tc := range []struct {
		name   string
		inputs []model.Input
		body   string
		code   string
		want   string
	}{
		{"too few in the inner dimension", []model.Input{grid}, `{"instances": [[[1, 2, 3], [4, 5]]]}`, "wrong_feature_count",
			`instances[0][1]: input "input" has shape [N, 2, 3]: expected 3 values here, got 2`},
		{"too many in the inner dimension", []model.Input{grid}, `{"instances": [[[1, 2, 3, 4], [4, 5, 6]]]}`, "wrong_feature_count",
			`instances[0][0]: input "input" has shape [N, 2, 3]: expected 3 values here, got more`},
		{"too many in the outer dimension", []model.Input{grid}, `{"instances": [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]}`, "wrong_feature_count",
			`instances[0]: input "input" has shape [N, 2, 3]: expected 2 values here, got more`},
		{"a number where an array belongs", []model.Input{image}, `{"instances": [[[[1, 2], [3, 4]], [5, 6]]]}`, "wrong_feature_count",
			`instances[0][1][0]: input "image" has shape [N, 2, 2, 2]: expected an array of 2 values, found a number`},
		{"an array where a number belongs", []model.Input{grid}, `{"instances": [[[1, 2, [3]], [4, 5, 6]]]}`, "non_numeric_value",
			`instances[0][0][2]: input "input" has shape [N, 2, 3]: expected a number here, found an array`},
		{"a string", []model.Input{grid}, `{"instances": [[[1, 2, 3], [4, "5", 6]]]}`, "non_numeric_value",
			`instances[0][1][1]: input "input" has shape [N, 2, 3]: expected a number here, found a string`},
		{"not a number", []model.Input{grid}, `{"instances": [[[1, 2, 3], [4, 5, NaN]]]}`, "non_numeric_value",
			`instances[0][1][2]: "NaN" is not a number`},
		{"int64 input given a fraction", []model.Input{image, meta},
			`{"instances": [{"image": [1, 2, 3, 4, 5, 6, 7, 8], "meta": [1, 2.5]}]}`, "non_numeric_value",
			`instances[0]["meta"][1]: "2.5" is not an integer; input "meta" is int64`},
		{"int64 input given null", []model.Input{image, meta},
			`{"instances": [{"image": [1, 2, 3, 4, 5, 6, 7, 8], "meta": [null, 2]}]}`, "non_numeric_value",
			`instances[0]["meta"][0]: null (a missing value) for input "meta", which is int64`},
		{"a named input's flat array too short", []model.Input{image, meta},
			`{"instances": [{"image": [1, 2, 3], "meta": [1, 2]}]}`, "wrong_feature_count",
			`instances[0]["image"]: input "image" has shape [N, 2, 2, 2] (as a flat array: 8 values): expected 8 values here, got 3`},
		{"a missing input", []model.Input{image, meta}, `{"instances": [{"meta": [1, 2]}]}`, "wrong_feature_count",
			`row 1 (instances[0]): input "image" is missing`},
		{"an unknown input", []model.Input{image, meta}, `{"instances": [{"pixels": [1]}]}`, "unknown_feature",
			`row 1 (instances[0]): unknown input "pixels"; the model's inputs are "image" float32 [N, 2, 2, 2], "meta" int64 [N, 2]`},
		{"an input twice", []model.Input{grid, meta}, `{"instances": [{"meta": [1, 2], "meta": [1, 2]}]}`, "malformed_body",
			`input "meta" appears twice`},
		{"nested arrays for a model of several inputs", []model.Input{grid, meta}, `{"instances": [[[1, 2, 3], [4, 5, 6]]]}`, "malformed_body",
			`this model has several inputs ("input" float32 [N, 2, 3], "meta" int64 [N, 2]): write the instance as an object keyed by input name`},
		{"the second row wrong", []model.Input{grid}, `{"instances": [[[1, 2, 3], [4, 5, 6]], [[1, 2, 3]]]}`, "wrong_feature_count",
			`instances[1]: input "input" has shape [N, 2, 3]: expected 2 values here, got 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := invokeJSON(newServer(t, tensorModel(tc.inputs...), server.Options{}), tc.body)
			msg := requireError(t, w, http.StatusBadRequest, tc.code)
			assert.Contains(t, msg, tc.want)
		})
	}
}

// TestNestedRowsNeedDeclaredInputs: a model without declared tensors (XGBoost, LightGBM, a
// one-matrix ONNX graph) keeps refusing a nested array as before.
func TestNestedRowsNeedDeclaredInputs(t *testing.T) {
	m := sumModel(6)
	msg := requireError(t, invokeJSON(newServer(t, m, server.Options{}), `{"instances": [[[1, 2, 3], [4, 5, 6]]]}`), http.StatusBadRequest, "non_numeric_value")
	assert.Contains(t, msg, "row 1, column 1 (instances[0][0]): expected a number or null, found an array")
	one := tensorModel(model.Input{Name: "input", Type: "float32", Shape: []int{6}})
	msg = requireError(t, invokeJSON(newServer(t, one, server.Options{}), `{"instances": [[[1, 2, 3], [4, 5, 6]]]}`), http.StatusBadRequest, "non_numeric_value")
	assert.Contains(t, msg, "row 1, column 1 (instances[0][0]): expected a number or null, found an array")
}

// FuzzTensorInstances drives the tensor forms through the handler, for a model of one input
// [N, 3, 1] (nested rows) and one of two inputs (rows by input name): no panic, a 200 with three
// values per row or a JSON 400. `go test -fuzz FuzzTensorInstances ./inference/server/` explores.
func FuzzTensorInstances(f *testing.F) {
	one := tensorModel(model.Input{Name: "g", Type: "float32", Shape: []int{3, 1}})
	two := tensorModel(model.Input{Name: "g", Type: "float32", Shape: []int{1, 2}}, model.Input{Name: "k", Type: "int64"})
	servers := []struct {
		h http.Handler
		m *fakeModel
	}{
		{newServer(f, one, server.Options{MaxBodyBytes: fuzzLimit}), one},
		{newServer(f, two, server.Options{MaxBodyBytes: fuzzLimit}), two},
	}
	for _, seed := range []string{
		`{"instances": [[[1], [2], [3]]]}`,
		`{"instances": [[[1], [2], [3]], [1, 2, 3]]}`,
		`{"instances": [{"g": [[1, 2]], "k": 3}]}`,
		`{"instances": [{"k": 3, "g": [1, 2]}]}`,
		`{"instances": [{"g": [[1, [2]]], "k": 3.5}]}`,
		`{"instances": [[[1], [2], [3], [4]]]}`,
		`{"instances": [[[[1]], [2], [3]]]}`,
		`{"instances": [{"g": [[1, 2]], "k": null}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range servers {
			fuzzInvoke(t, s.h, s.m, "application/json", body)
		}
	})
}

// TestOpenAPIDescribesTensorForms: /openapi.json offers the nested and the by-name forms of an
// instance, with each dimension's count, beside the flat array.
func TestOpenAPIDescribesTensorForms(t *testing.T) {
	m := tensorModel(model.Input{Name: "image", Type: "float32", Shape: []int{2, 3}})
	w := request(newServer(t, m, server.Options{}), http.MethodGet, "/openapi.json", "", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties struct {
							Instances struct {
								Items struct {
									OneOf []map[string]any `json:"oneOf"`
								} `json:"items"`
							} `json:"instances"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	forms := doc.Paths["/invocations"]["post"].RequestBody.Content["application/json"].Schema.Properties.Instances.Items.OneOf
	require.Len(t, forms, 3, "flat, nested, by input name")
	assert.EqualValues(t, 6, forms[0]["minItems"], "flat: 2 x 3 values")
	nested := forms[1]
	assert.EqualValues(t, 2, nested["minItems"])
	assert.EqualValues(t, 3, nested["items"].(map[string]any)["minItems"])
	assert.Contains(t, nested["description"], `input "image", float32 [N, 2, 3]`)
	assert.Equal(t, []any{"image"}, forms[2]["required"])
	assert.Equal(t, []string{"number", "null"}, toStrings(nested["items"].(map[string]any)["items"].(map[string]any)["type"]))
	// The flat form's value schema is not touched by the nested ones.
	assert.Equal(t, "a feature value; null is a missing value", forms[0]["items"].(map[string]any)["description"])
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
