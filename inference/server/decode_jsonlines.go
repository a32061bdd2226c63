package server

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// decodeJSONLines appends the rows of an application/jsonlines body to x: one JSON value per
// line (https://jsonlines.org), each one row, in one of three shapes:
//
//	[5.1, 3.5, null, 0.2]                the values in column order, null for a missing value
//	{"features": [5.1, 3.5, null, 0.2]}  SageMaker's JSON lines request for its built-in algorithms
//	{"sepal_length": 5.1, ...}           named features, when the model knows their names; an absent one is missing
//
// A row must not span lines. Blank lines are skipped. The built-in XGBoost container reads no
// JSON lines (aws/sagemaker-xgboost-container@c988a0e:src/sagemaker_xgboost_container/data_utils.py:86-122
// accepts CSV, libsvm, Parquet and recordio-protobuf only); this is for Batch Transform jobs
// whose data is JSON lines and whose answers must come back one line per line.
func decodeJSONLines(s *scanner, nf, maxRows int, features *featureIndex, x []float64, seen []bool) ([]float64, int, []bool, error) {
	d := jsonLinesDecoder{s: s, nf: nf, features: features, x: x, seen: seen, line: 1}
	s.skipBOM()
	rows := 0
	for {
		c, ok := d.nextRow()
		if !ok {
			break
		}
		if rows == maxRows {
			return d.x, 0, d.seen, errTooManyRows
		}
		var err error
		switch c {
		case '[':
			err = d.arrayRow()
		case '{':
			err = d.objectRow()
		default:
			err = d.fail("a row is a JSON array of %d values or an object, found %s", nf, describe(c))
		}
		if err != nil {
			return d.x, 0, d.seen, err
		}
		if c, ok := d.peekInLine(); ok && c != '\n' {
			return d.x, 0, d.seen, d.fail("unexpected %q after the row; each line holds one JSON value", c)
		}
		rows++
	}
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return d.x, 0, d.seen, s.err
	}
	if rows == 0 {
		return d.x, 0, d.seen, badRequest(CodeEmptyInput, "the JSON lines body has no rows; send one JSON array of %d values per line", nf)
	}
	return d.x, rows, d.seen, nil
}

type jsonLinesDecoder struct {
	s        *scanner
	nf       int
	features *featureIndex
	x        []float64
	seen     []bool
	line     int
}

func (d *jsonLinesDecoder) fail(format string, args ...any) error {
	return badRequest(CodeMalformedBody, "line %d: %s", d.line, fmt.Sprintf(format, args...))
}

// nextRow skips blank lines and returns the first byte of the next row.
func (d *jsonLinesDecoder) nextRow() (byte, bool) {
	for {
		c, ok := d.peekInLine()
		if !ok {
			return 0, false
		}
		if c != '\n' {
			return c, true
		}
		d.s.pos++
		d.line++
	}
}

// peekInLine returns the next byte that is not a space, tab or carriage return, without
// consuming it; a newline is returned as such.
func (d *jsonLinesDecoder) peekInLine() (byte, bool) {
	s := d.s
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// next consumes and returns the next byte of the row, which must not end the line.
func (d *jsonLinesDecoder) next(what string) (byte, error) {
	c, ok := d.peekInLine()
	if !ok {
		return 0, d.s.readErr(badRequest(CodeMalformedBody, "line %d: the body ends inside the row, where %s was expected", d.line, what))
	}
	if c == '\n' {
		return 0, d.fail("the line ends inside the row, where %s was expected; each line holds one whole row", what)
	}
	d.s.pos++
	return c, nil
}

func (d *jsonLinesDecoder) arrayRow() error {
	d.s.pos++ // '['
	start := len(d.x)
	if c, ok := d.peekInLine(); ok && c == ']' {
		d.s.pos++
	} else {
		for col := 0; ; col++ {
			v, err := d.value(col, false)
			if err != nil {
				return err
			}
			d.x = append(d.x, v)
			c, err := d.next("',' or ']'")
			if err != nil {
				return err
			}
			if c == ']' {
				break
			}
			if c != ',' {
				return d.fail("expected ',' or ']' after column %d, found %q", col+1, c)
			}
		}
	}
	if got := len(d.x) - start; got != d.nf {
		return badRequest(CodeWrongFeatures, "line %d: expected %d features, got %d", d.line, d.nf, got)
	}
	return nil
}

func (d *jsonLinesDecoder) objectRow() error {
	s := d.s
	s.pos++ // '{'
	if c, err := d.next("a key"); err != nil {
		return err
	} else if c != '"' {
		return d.fail("expected a key, found %q", c)
	}
	s.pos-- // str expects to be at the quote
	if err := s.str(); err != nil {
		return err
	}
	_, named := d.knownFeature(s.tok)
	if string(s.tok) == "features" && !named {
		if c, err := d.next("':'"); err != nil || c != ':' {
			return d.orFail(err, `expected ':' after "features"`)
		}
		if c, err := d.next("'['"); err != nil || c != '[' {
			return d.orFail(err, `"features" must be an array of %d values`, d.nf)
		}
		s.pos--
		if err := d.arrayRow(); err != nil {
			return err
		}
		if c, err := d.next("'}'"); err != nil || c != '}' {
			return d.orFail(err, `expected '}' after the "features" array; the row is {"features": [...]}`)
		}
		return nil
	}
	if d.features == nil || len(d.features.names) == 0 {
		return badRequest(CodeUnknownFeature, `line %d: this model's feature names are unknown, so a row is an array of %d values or {"features": [...]}`, d.line, d.nf)
	}
	start := len(d.x)
	for range d.nf {
		d.x = append(d.x, math.NaN())
	}
	if cap(d.seen) < d.nf {
		d.seen = make([]bool, d.nf)
	}
	d.seen = d.seen[:d.nf]
	clear(d.seen)
	for first := true; ; first = false {
		if !first {
			if c, err := d.next("a key"); err != nil || c != '"' {
				return d.orFail(err, "expected a feature name")
			}
			s.pos--
			if err := s.str(); err != nil {
				return err
			}
		}
		col, ok := d.knownFeature(s.tok)
		if !ok {
			return badRequest(CodeUnknownFeature, "line %d: unknown feature %s; the model's features are: %s", d.line, quoteToken(s.tok), d.features.known())
		}
		if d.seen[col] {
			return d.fail("feature %s appears twice", quoteToken(s.tok))
		}
		d.seen[col] = true
		if c, err := d.next("':'"); err != nil || c != ':' {
			return d.orFail(err, "expected ':' after a feature name")
		}
		v, err := d.value(col, true)
		if err != nil {
			return err
		}
		d.x[start+col] = v
		c, err := d.next("',' or '}'")
		if err != nil {
			return err
		}
		if c == '}' {
			return nil
		}
		if c != ',' {
			return d.fail("expected ',' or '}' after a feature value, found %q", c)
		}
	}
}

func (d *jsonLinesDecoder) knownFeature(name []byte) (int, bool) {
	if d.features == nil {
		return 0, false
	}
	col, ok := d.features.cols[string(name)]
	return col, ok
}

// orFail is err when there is one (the line or body ended), else a syntax error.
func (d *jsonLinesDecoder) orFail(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	return d.fail(format, args...)
}

// value reads one feature value: a number, null for a missing value, or a category name.
func (d *jsonLinesDecoder) value(col int, named bool) (float64, error) {
	s := d.s
	c, ok := d.peekInLine()
	if !ok || c == '\n' {
		_, err := d.next("a value")
		return 0, err
	}
	where := func() string {
		if named {
			return fmt.Sprintf("line %d, feature %q", d.line, d.features.names[col])
		}
		return fmt.Sprintf("line %d, column %d", d.line, col+1)
	}
	return scanValue(s, c, d.features, col, where)
}
