package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/inferstack/inferstack/inference/model"
)

// A model whose inputs are not one [N, features] matrix (an ONNX graph with an input of shape
// [N, 3, 8, 8], or with several inputs) still takes a row as NumFeatures values: each input's
// values in row-major order, the inputs one after the other. Besides that flat array, a JSON
// instance may then be written in the tensor's own shape:
//
//	one input [N, 2, 3]:          {"instances": [[[1, 2, 3], [4, 5, 6]]]}
//	inputs a [N, 2, 2], b [N, 3]: {"instances": [{"a": [[1, 2], [3, 4]], "b": [5, 6, 7]}]}
//
// Each nested array is checked against the declared dimension, and a mistake is answered with
// a 400 naming the input, the index path and the expected and found counts.

// tensorLayout is how a row's values are split among the model's inputs.
type tensorLayout struct {
	inputs []tensorInput
	byName map[string]int
	list   string // the inputs with their types and shapes, for error messages
}

type tensorInput struct {
	name   string
	int64  bool         // values must be integers
	shape  []int        // after the batch dimension
	offset int          // where the input's values start in a row
	size   int          // the product of shape
	shapes string       // shape as written in errors
	flat   *tensorInput // the same input read as one flat array of size values
}

// newTensorLayout returns the layout of inputs, or nil when a flat row is the only form that
// makes sense: no inputs declared, or one input [N, features].
func newTensorLayout(inputs []model.Input) *tensorLayout {
	if len(inputs) == 0 || len(inputs) == 1 && len(inputs[0].Shape) <= 1 {
		return nil
	}
	l := &tensorLayout{byName: make(map[string]int, len(inputs))}
	names := make([]string, len(inputs))
	offset := 0
	for i, in := range inputs {
		size := 1
		for _, d := range in.Shape {
			size *= d
		}
		shape := shapeString(in.Shape)
		l.inputs = append(l.inputs, tensorInput{name: in.Name, int64: in.Type == "int64",
			shape: in.Shape, offset: offset, size: size, shapes: shape,
			flat: &tensorInput{name: in.Name, int64: in.Type == "int64", shape: []int{size}, size: size,
				shapes: shape + " (as a flat array: " + strconv.Itoa(size) + " values)"}})
		l.byName[in.Name] = i
		names[i] = strconv.Quote(in.Name) + " " + in.Type + " " + shape
		offset += size
	}
	l.list = strings.Join(names, ", ")
	return l
}

// shapeString writes a shape with its batch dimension, as the OpenAPI description does: [N, 2, 3].
func shapeString(shape []int) string {
	b := []byte("[N")
	for _, d := range shape {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(d), 10)
	}
	return string(append(b, ']'))
}

// withInputs adds the tensor layout of inputs to f, making f when the model has no feature names.
func (f *featureIndex) withInputs(inputs []model.Input) *featureIndex {
	l := newTensorLayout(inputs)
	if l == nil {
		return f
	}
	if f == nil {
		f = &featureIndex{}
	}
	f.tensors = l
	return f
}

// tensorLayout returns the model's layout, or nil when rows are only flat.
func (f *featureIndex) tensorLayout() *tensorLayout {
	if f == nil {
		return nil
	}
	return f.tensors
}

// tensorPath is the index path of a value inside instances, for error messages.
type tensorPath struct {
	row   int
	input string // set when the row is an object keyed by input name
	idx   []int
}

func (p *tensorPath) String() string {
	b := []byte("instances[")
	b = strconv.AppendInt(b, int64(p.row), 10)
	b = append(b, ']')
	if p.input != "" {
		b = append(b, '[')
		b = strconv.AppendQuote(b, p.input)
		b = append(b, ']')
	}
	for _, i := range p.idx {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ']')
	}
	return string(b)
}

// nestedRow reads a row written as nested arrays in the shape of the model's one input; the
// row's '[' is consumed and the next byte is the '[' of its first sub-array.
func (d *jsonDecoder) nestedRow(row int) error {
	l := d.features.tensors
	if len(l.inputs) > 1 {
		return badRequest(CodeMalformedBody,
			"row %d (instances[%d]): this model has several inputs (%s): write the instance as an object keyed by input name, or as a flat array of %d values",
			row+1, row, l.list, d.nf)
	}
	start := len(d.x)
	for i := 0; i < d.nf; i++ {
		d.x = append(d.x, 0)
	}
	var idx [8]int
	p := tensorPath{row: row, idx: idx[:0]}
	return d.tensorArray(&l.inputs[0], &p, 0, d.x[start:start+d.nf], true)
}

// tensorArray reads the array at depth dim of in's shape into x (the values that array
// holds). open says its '[' is already consumed.
func (d *jsonDecoder) tensorArray(in *tensorInput, p *tensorPath, dim int, x []float64, open bool) error {
	s := d.s
	if !open {
		if err := d.tensorOpen(in, p, dim); err != nil {
			return err
		}
	}
	want := in.shape[dim]
	stride := len(x) / want
	p.idx = append(p.idx, 0)
	depth := len(p.idx) - 1
	n := 0
	if c, ok := s.peek(); ok && c == ']' {
		s.pos++
	} else {
		for {
			if n == want {
				return d.tensorCount(in, p, depth, want, "more")
			}
			p.idx[depth] = n
			var err error
			if dim+1 < len(in.shape) {
				err = d.tensorArray(in, p, dim+1, x[n*stride:(n+1)*stride], false)
			} else {
				x[n], err = d.tensorValue(in, p)
			}
			if err != nil {
				return err
			}
			n++
			c, ok := s.peek()
			if !ok {
				return s.readErr(errUnexpectedEnd)
			}
			s.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				return badRequest(CodeMalformedBody, "%s: expected ',' or ']' after it, found %q", p, c)
			}
		}
	}
	if n != want {
		return d.tensorCount(in, p, depth, want, strconv.Itoa(n))
	}
	p.idx = p.idx[:depth]
	return nil
}

// tensorOpen consumes the '[' that starts the array at depth dim, or explains what is there.
func (d *jsonDecoder) tensorOpen(in *tensorInput, p *tensorPath, dim int) error {
	c, ok := d.s.peek()
	if !ok {
		return d.s.readErr(errUnexpectedEnd)
	}
	if c != '[' {
		return badRequest(CodeWrongFeatures, "%s: input %q has shape %s: expected an array of %d values, found %s",
			p, in.name, in.shapes, in.shape[dim], describe(c))
	}
	d.s.pos++
	return nil
}

// tensorCount is the error for an array at p with got values instead of want.
func (d *jsonDecoder) tensorCount(in *tensorInput, p *tensorPath, depth, want int, got string) error {
	p.idx = p.idx[:depth]
	return badRequest(CodeWrongFeatures, "%s: input %q has shape %s: expected %d values here, got %s",
		p, in.name, in.shapes, want, got)
}

// tensorValue reads one number (or null, a missing value) at p.
func (d *jsonDecoder) tensorValue(in *tensorInput, p *tensorPath) (float64, error) {
	s := d.s
	c, ok := s.peek()
	if !ok {
		return 0, s.readErr(errUnexpectedEnd)
	}
	switch c {
	case 'n':
		if !s.literal("null") {
			return 0, s.readErr(badRequest(CodeMalformedBody, "%s: invalid literal; a missing value is null", p))
		}
		if in.int64 {
			return 0, badRequest(CodeNonNumeric, "%s: null (a missing value) for input %q, which is int64 and has no missing values", p, in.name)
		}
		return math.NaN(), nil
	case '[', '{', '"', 't', 'f':
		return 0, badRequest(CodeNonNumeric, "%s: input %q has shape %s: expected a number here, found %s",
			p, in.name, in.shapes, describe(c))
	}
	v, err := s.number()
	if err != nil {
		return 0, s.readErr(numberError(p.String(), s.tok, err, "a missing value is null"))
	}
	if in.int64 && (v != math.Trunc(v) || math.Abs(v) >= 1<<63) {
		return 0, badRequest(CodeNonNumeric, "%s: %s is not an integer; input %q is int64", p, quoteToken(s.tok), in.name)
	}
	return v, nil
}

// namedInputsRow reads a row written as an object keyed by input name; the next byte is its '{'.
// Each value is the input's tensor for the row: nested arrays in its shape, a flat array of its
// values, or a number when the input has one value per row.
func (d *jsonDecoder) namedInputsRow(row int) error {
	s := d.s
	l := d.features.tensors
	s.pos++ // '{'
	start := len(d.x)
	for i := 0; i < d.nf; i++ {
		d.x = append(d.x, 0)
	}
	if cap(d.seen) < len(l.inputs) {
		d.seen = make([]bool, len(l.inputs))
	}
	d.seen = d.seen[:len(l.inputs)]
	clear(d.seen)
	var idx [8]int
	p := tensorPath{row: row, idx: idx[:0]}
	if c, ok := s.peek(); ok && c == '}' {
		s.pos++
	} else {
		for {
			c, ok := s.peek()
			if !ok {
				return s.readErr(errUnexpectedEnd)
			}
			if c != '"' {
				return badRequest(CodeMalformedBody, "row %d (instances[%d]): expected an input name, found %s", row+1, row, describe(c))
			}
			if err := s.str(); err != nil {
				return err
			}
			k, known := l.byName[string(s.tok)]
			if !known {
				return badRequest(CodeUnknownFeature, "row %d (instances[%d]): unknown input %s; the model's inputs are %s",
					row+1, row, quoteToken(s.tok), l.list)
			}
			if d.seen[k] {
				return badRequest(CodeMalformedBody, "row %d (instances[%d]): input %s appears twice", row+1, row, quoteToken(s.tok))
			}
			d.seen[k] = true
			if err := s.expect(':', "after an input name"); err != nil {
				return err
			}
			in := &l.inputs[k]
			p.input, p.idx = in.name, p.idx[:0]
			if err := d.inputValue(in, &p, d.x[start+in.offset:start+in.offset+in.size]); err != nil {
				return err
			}
			if c, ok = s.peek(); !ok {
				return s.readErr(errUnexpectedEnd)
			}
			s.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				return badRequest(CodeMalformedBody, "row %d (instances[%d]): expected ',' or '}' after input %q, found %q", row+1, row, in.name, c)
			}
		}
	}
	for k, seen := range d.seen {
		if !seen {
			return badRequest(CodeWrongFeatures, "row %d (instances[%d]): input %q is missing; the model's inputs are %s",
				row+1, row, l.inputs[k].name, l.list)
		}
	}
	return nil
}

// inputValue reads one input's value in an object row into x.
func (d *jsonDecoder) inputValue(in *tensorInput, p *tensorPath, x []float64) error {
	s := d.s
	if len(in.shape) == 0 { // one value per row
		v, err := d.tensorValue(in, p)
		x[0] = v
		return err
	}
	if err := d.tensorOpen(in, p, 0); err != nil {
		return err
	}
	if c, ok := s.peek(); ok && c != '[' && len(in.shape) > 1 {
		return d.tensorArray(in.flat, p, 0, x, true) // a flat array of the input's values, row-major
	}
	return d.tensorArray(in, p, 0, x, true)
}

// tensorRowSchemas are the OpenAPI schemas of the tensor forms of an instance, or none when the
// model takes flat rows only (the rule of newTensorLayout).
func tensorRowSchemas(inputs []model.Input, value obj) []any {
	if newTensorLayout(inputs) == nil {
		return nil
	}
	nested := func(in model.Input) obj {
		s := obj{}
		for k, v := range value { // a copy: the description below must not land in the shared value schema
			s[k] = v
		}
		for i := len(in.Shape) - 1; i >= 0; i-- {
			s = obj{"type": "array", "items": s, "minItems": in.Shape[i], "maxItems": in.Shape[i]}
		}
		s["description"] = fmt.Sprintf("input %q, %s %s, as nested arrays", in.Name, in.Type, shapeString(in.Shape))
		return s
	}
	var out []any
	if len(inputs) == 1 {
		out = append(out, nested(inputs[0]))
	}
	props, names := obj{}, make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
		props[in.Name] = nested(in)
		if len(in.Shape) > 1 {
			size := 1
			for _, d := range in.Shape {
				size *= d
			}
			props[in.Name] = obj{"oneOf": []any{nested(in), obj{"type": "array", "items": value, "minItems": size, "maxItems": size,
				"description": fmt.Sprintf("input %q as a flat array of its %d values, row-major", in.Name, size)}}}
		}
	}
	return append(out, obj{"type": "object", "properties": props, "required": names, "additionalProperties": false,
		"description": "the model's inputs by name, each in its own shape"})
}
