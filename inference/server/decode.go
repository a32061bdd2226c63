package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// The decoders read the body through a scanner whose buffer is refilled in place: the body is
// never held whole, only the decoded values are. They are written by hand, not with
// encoding/json or encoding/csv, because a single-row request must cost next to nothing, and
// because they must name the row and column of every mistake.

const scanBufSize = 16 << 10

// scanner is a refillable window onto the request body.
type scanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	err      error  // sticky: io.EOF or the body's read error (e.g. *http.MaxBytesError)
	tok      []byte // the current number or decoded string
}

func (s *scanner) reset(r io.Reader) {
	if s.buf == nil {
		s.buf = make([]byte, scanBufSize)
	}
	s.r, s.pos, s.end, s.err = r, 0, 0, nil
}

// fill reads more of the body, keeping unread bytes; it grows the buffer only when the unread
// bytes fill it, which only a CSV line longer than the buffer does.
func (s *scanner) fill() bool {
	if s.err != nil {
		return false
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// readErr is the error for running out of body: the read error if there was one (a 413 is
// reported as such, not as a syntax error), else the given syntax error.
func (s *scanner) readErr(syntax *Error) error {
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return s.err
	}
	return syntax
}

// peek returns the next byte that is not JSON white space, without consuming it.
func (s *scanner) peek() (byte, bool) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
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

var errUnexpectedEnd = badRequest(CodeMalformedBody, "the JSON body ends early")

// expect consumes the next non-space byte, which must be c.
func (s *scanner) expect(c byte, where string) error {
	got, ok := s.peek()
	if !ok {
		return s.readErr(errUnexpectedEnd)
	}
	if got != c {
		return badRequest(CodeMalformedBody, "%s: expected %q, found %q", where, c, got)
	}
	s.pos++
	return nil
}

// number reads the bytes that can make up a number into tok and parses them.
func (s *scanner) number() (float64, error) {
	s.tok = s.tok[:0]
	for {
		i := s.pos
		for i < s.end && isNumberByte(s.buf[i]) {
			i++
		}
		s.tok = append(s.tok, s.buf[s.pos:i]...)
		s.pos = i
		if i < s.end || !s.fill() {
			break
		}
	}
	return parseNumber(s.tok)
}

// parseNumber is the one number grammar of both body formats: JSON's (RFC 8259 §6), so that a
// value means the same in CSV and JSON. Everything else strconv would take (Inf, NaN, hex
// floats, 1_000, +1, .5, 5., 007) is refused with strconv.ErrSyntax, and a value beyond
// float64's range with strconv.ErrRange.
func parseNumber(b []byte) (float64, error) {
	if !isJSONNumber(b) {
		return 0, strconv.ErrSyntax
	}
	return parseFloat(b)
}

// numberGrammar is what the error for a refused number says is allowed.
const numberGrammar = "numbers are written as in JSON: 0.5, -3, 1e-05 (no Inf or NaN, hex, '_', leading '+' or zeros, '.5' or '5.')"

// numberError explains why tok is not a value; missing says how a missing value is written.
func numberError(where string, tok []byte, err error, missing string) *Error {
	if errors.Is(err, strconv.ErrRange) {
		return badRequest(CodeNonNumeric, "%s: %s is out of float64 range (its magnitude is above 1.7976931348623157e308)", where, quoteToken(tok))
	}
	return badRequest(CodeNonNumeric, "%s: %s is not a number; %s; %s", where, quoteToken(tok), numberGrammar, missing)
}

// isJSONNumber checks the JSON number grammar (RFC 8259 §6), which is stricter than strconv:
// no leading '+' or zeros, digits on both sides of the point.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// isNumberByte says c continues a number token. Letters and '_' are taken too, so that
// "Infinity", "0x1p-2" or "1_000" is refused whole, under its own name.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseFloat parses b as strconv.ParseFloat does, with a fast path for the plain decimals
// that make up nearly all model input; strconv, which does not keep its argument, is given b
// without a copy.
func parseFloat(b []byte) (float64, error) {
	if v, ok := fastFloat(b); ok {
		return v, nil
	}
	if len(b) == 0 {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat is Clinger's fast path: a decimal of at most 15 significant digits times a power
// of ten up to 22 is two exactly representable float64s, so one multiplication or division
// rounds correctly and gives ParseFloat's answer. Anything else reports false and goes to strconv.
func fastFloat(b []byte) (float64, bool) {
	i, neg := 0, false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64
	digits, exp, sawDigit := 0, 0, false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sawDigit = true
		if mant == 0 && b[i] == '0' {
			continue // a leading zero
		}
		if digits == 15 {
			return 0, false
		}
		mant = mant*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			sawDigit = true
			exp--
			if mant == 0 && b[i] == '0' {
				continue
			}
			if digits == 15 {
				return 0, false
			}
			mant = mant*10 + uint64(b[i]-'0')
			digits++
		}
	}
	if !sawDigit {
		return 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		e, edigits := 0, 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if edigits == 4 {
				return 0, false
			}
			e = e*10 + int(b[i]-'0')
			edigits++
		}
		if edigits == 0 {
			return 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return 0, false
	}
	f := 0.0
	switch {
	case mant == 0:
	case exp >= 0 && exp < len(pow10):
		f = float64(mant) * pow10[exp]
	case exp < 0 && -exp < len(pow10):
		f = float64(mant) / pow10[-exp]
	default:
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// skipBOM consumes a UTF-8 byte-order mark at the start of the body, which RFC 8259 §8.1
// allows a parser to ignore and which Windows tools write.
func (s *scanner) skipBOM() {
	for s.end-s.pos < 3 && s.fill() {
	}
	if s.end-s.pos >= 3 && s.buf[s.pos] == 0xEF && s.buf[s.pos+1] == 0xBB && s.buf[s.pos+2] == 0xBF {
		s.pos += 3
	}
}

// literal consumes the JSON literal lit (null, true, false) or fails.
func (s *scanner) literal(lit string) bool {
	for i := 0; i < len(lit); i++ {
		if s.pos == s.end && !s.fill() {
			return false
		}
		if s.buf[s.pos] != lit[i] {
			return false
		}
		s.pos++
	}
	return true
}

// str reads a JSON string (the opening quote is next) into tok, decoding escapes.
func (s *scanner) str() error {
	s.pos++ // the opening quote, checked by the caller
	s.tok = s.tok[:0]
	for {
		if s.pos == s.end && !s.fill() {
			return s.readErr(errUnexpectedEnd)
		}
		c := s.buf[s.pos]
		s.pos++
		switch {
		case c == '"':
			return nil
		case c < 0x20:
			return badRequest(CodeMalformedBody, "a JSON string holds a raw control character")
		case c != '\\':
			s.tok = append(s.tok, c)
			continue
		}
		if s.pos == s.end && !s.fill() {
			return s.readErr(errUnexpectedEnd)
		}
		e := s.buf[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			s.tok = append(s.tok, e)
		case 'b':
			s.tok = append(s.tok, '\b')
		case 'f':
			s.tok = append(s.tok, '\f')
		case 'n':
			s.tok = append(s.tok, '\n')
		case 'r':
			s.tok = append(s.tok, '\r')
		case 't':
			s.tok = append(s.tok, '\t')
		case 'u':
			r, err := s.hex4()
			if err != nil {
				return err
			}
			if r >= 0xD800 && r < 0xDC00 { // a surrogate pair spells one rune
				if s.literal(`\u`) {
					lo, err := s.hex4()
					if err != nil {
						return err
					}
					if lo >= 0xDC00 && lo < 0xE000 {
						r = (r-0xD800)<<10 | (lo - 0xDC00) + 0x10000
					} else {
						r = 0xFFFD
					}
				} else {
					r = 0xFFFD
				}
			}
			s.tok = appendRune(s.tok, r)
		default:
			return badRequest(CodeMalformedBody, "a JSON string holds the invalid escape \\%c", e)
		}
	}
}

func (s *scanner) hex4() (rune, error) {
	var r rune
	for i := 0; i < 4; i++ {
		if s.pos == s.end && !s.fill() {
			return 0, s.readErr(errUnexpectedEnd)
		}
		c := s.buf[s.pos]
		s.pos++
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, badRequest(CodeMalformedBody, "a JSON string holds an invalid \\u escape")
		}
	}
	return r, nil
}

func appendRune(b []byte, r rune) []byte {
	return append(b, string(r)...)
}

// featureIndex maps feature names to columns for object-shaped instances, and category names
// to codes for categorical features.
type featureIndex struct {
	cols  map[string]int
	names []string
	cats  []map[string]float64 // per column, category name -> code; nil when none
	// tensors (tensor.go) splits a row among the model's inputs when they are not one
	// [N, features] matrix; nil otherwise.
	tensors *tensorLayout
}

func newFeatureIndex(names []string, categories [][]string) *featureIndex {
	if len(names) == 0 && len(categories) == 0 {
		return nil
	}
	cols := make(map[string]int, len(names))
	for i, n := range names {
		cols[n] = i
	}
	f := &featureIndex{cols: cols, names: names}
	for i, c := range categories {
		if len(c) == 0 {
			continue
		}
		if f.cats == nil {
			f.cats = make([]map[string]float64, len(categories))
		}
		f.cats[i] = make(map[string]float64, len(c))
		for code, name := range c {
			f.cats[i][name] = float64(code)
		}
	}
	return f
}

// category returns the code of the category name in column col.
func (f *featureIndex) category(col int, name []byte) (float64, bool, bool) {
	if f == nil || col >= len(f.cats) || f.cats[col] == nil {
		return 0, false, false
	}
	code, ok := f.cats[col][string(name)]
	return code, ok, true
}

// catNames lists column col's category names in code order.
func (f *featureIndex) catNames(col int) []string {
	names := make([]string, len(f.cats[col]))
	for n, code := range f.cats[col] {
		names[int(code)] = n
	}
	return names
}

// known lists the feature names for an error message, cut short when there are many.
func (f *featureIndex) known() string {
	const show = 20
	if len(f.names) <= show {
		return strings.Join(f.names, ", ")
	}
	return strings.Join(f.names[:show], ", ") + ", … (" + strconv.Itoa(len(f.names)) + " in all; see /openapi.json)"
}

// jsonDecoder decodes {"instances": [...]} into row-major values with NaN for missing.
type jsonDecoder struct {
	s        *scanner
	nf       int
	maxRows  int
	features *featureIndex
	x        []float64
	seen     []bool // features set in the current object-shaped row, to refuse duplicates
}

// decodeJSON appends the rows of the body in s to x and returns them and the row count.
// More than maxRows rows is errTooManyRows, found before the extra row is decoded.
func decodeJSON(s *scanner, nf, maxRows int, features *featureIndex, x []float64, seen []bool) ([]float64, int, []bool, error) {
	d := jsonDecoder{s: s, nf: nf, maxRows: maxRows, features: features, x: x, seen: seen}
	rows, err := d.body()
	return d.x, rows, d.seen, err
}

const bodyShape = `{"instances": [[...], ...]}`

func (d *jsonDecoder) body() (int, error) {
	s := d.s
	s.skipBOM()
	c, ok := s.peek()
	if !ok {
		return 0, s.readErr(badRequest(CodeEmptyInput, "the body is empty; send %s", bodyShape))
	}
	if c != '{' {
		return 0, badRequest(CodeMalformedBody, "the body must be a JSON object %s", bodyShape)
	}
	s.pos++
	rows, seenInstances := 0, false
	if c, ok = s.peek(); ok && c == '}' {
		s.pos++
	} else {
		for {
			if c, ok = s.peek(); !ok {
				return 0, s.readErr(errUnexpectedEnd)
			}
			if c != '"' {
				return 0, badRequest(CodeMalformedBody, "expected a key in the JSON object, found %q", c)
			}
			if err := s.str(); err != nil {
				return 0, err
			}
			if string(s.tok) != "instances" {
				return 0, badRequest(CodeMalformedBody, "unknown key %s; the body is %s", quoteToken(s.tok), bodyShape)
			}
			if seenInstances {
				return 0, badRequest(CodeMalformedBody, `the key "instances" appears twice`)
			}
			seenInstances = true
			if err := s.expect(':', `after "instances"`); err != nil {
				return 0, err
			}
			var err error
			if rows, err = d.instances(); err != nil {
				return 0, err
			}
			if c, ok = s.peek(); !ok {
				return 0, s.readErr(errUnexpectedEnd)
			}
			s.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				return 0, badRequest(CodeMalformedBody, "expected ',' or '}' after the instances, found %q", c)
			}
		}
	}
	if c, ok = s.peek(); ok {
		return 0, badRequest(CodeMalformedBody, "unexpected %q after the end of the JSON object", c)
	}
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return 0, s.err
	}
	if !seenInstances {
		return 0, badRequest(CodeMalformedBody, `the key "instances" is missing; the body is %s`, bodyShape)
	}
	if rows == 0 {
		return 0, badRequest(CodeEmptyInput, "instances is empty; send at least one row")
	}
	return rows, nil
}

func (d *jsonDecoder) instances() (int, error) {
	s := d.s
	if err := s.expect('[', `"instances"`); err != nil {
		return 0, err
	}
	c, ok := s.peek()
	if ok && c == ']' {
		s.pos++
		return 0, nil
	}
	for row := 0; ; row++ {
		if row == d.maxRows {
			return 0, errTooManyRows
		}
		if c, ok = s.peek(); !ok {
			return 0, s.readErr(errUnexpectedEnd)
		}
		var err error
		switch c {
		case '[':
			err = d.arrayRow(row)
		case '{':
			err = d.objectRow(row)
		default:
			err = badRequest(CodeMalformedBody,
				"row %d (instances[%d]): an instance must be an array of %d values or an object of feature values, found %s",
				row+1, row, d.nf, describe(c))
		}
		if err != nil {
			return 0, err
		}
		if c, ok = s.peek(); !ok {
			return 0, s.readErr(errUnexpectedEnd)
		}
		s.pos++
		if c == ']' {
			return row + 1, nil
		}
		if c != ',' {
			return 0, badRequest(CodeMalformedBody, "row %d (instances[%d]): expected ',' or ']' after it, found %q", row+1, row, c)
		}
	}
}

func (d *jsonDecoder) arrayRow(row int) error {
	s := d.s
	s.pos++ // '['
	start := len(d.x)
	c, ok := s.peek()
	if ok && c == '[' && d.features.tensorLayout() != nil {
		return d.nestedRow(row)
	}
	if ok && c == ']' {
		s.pos++
	} else {
		for col := 0; ; col++ {
			v, err := d.value(row, col, false)
			if err != nil {
				return err
			}
			d.x = append(d.x, v)
			if c, ok = s.peek(); !ok {
				return s.readErr(errUnexpectedEnd)
			}
			s.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				return badRequest(CodeMalformedBody, "row %d (instances[%d]): expected ',' or ']' after column %d, found %q", row+1, row, col+1, c)
			}
		}
	}
	if got := len(d.x) - start; got != d.nf {
		return badRequest(CodeWrongFeatures, "row %d (instances[%d]): expected %d features, got %d", row+1, row, d.nf, got)
	}
	return nil
}

func (d *jsonDecoder) objectRow(row int) error {
	s := d.s
	if d.features.tensorLayout() != nil {
		return d.namedInputsRow(row)
	}
	if d.features == nil || len(d.features.names) == 0 {
		return badRequest(CodeUnknownFeature,
			"row %d (instances[%d]): this model's feature names are unknown, so an instance must be an array of %d values",
			row+1, row, d.nf)
	}
	s.pos++ // '{'
	start := len(d.x)
	for i := 0; i < d.nf; i++ {
		d.x = append(d.x, math.NaN()) // an absent feature is a missing value
	}
	if cap(d.seen) < d.nf {
		d.seen = make([]bool, d.nf)
	}
	d.seen = d.seen[:d.nf]
	clear(d.seen)
	c, ok := s.peek()
	if ok && c == '}' {
		// {} is far likelier a client bug (a row built from an empty map) than a wish to
		// predict a row of nothing but missing values; null values say that explicitly.
		return badRequest(CodeEmptyRow, "row %d (instances[%d]) has no features; the model's features are: %s",
			row+1, row, d.features.known())
	}
	for {
		if c, ok = s.peek(); !ok {
			return s.readErr(errUnexpectedEnd)
		}
		if c != '"' {
			return badRequest(CodeMalformedBody, "row %d (instances[%d]): expected a feature name, found %s", row+1, row, describe(c))
		}
		if err := s.str(); err != nil {
			return err
		}
		col, known := d.features.cols[string(s.tok)]
		if !known {
			return badRequest(CodeUnknownFeature, "row %d (instances[%d]): unknown feature %s; the model's features are: %s",
				row+1, row, quoteToken(s.tok), d.features.known())
		}
		if d.seen[col] {
			return badRequest(CodeMalformedBody, "row %d (instances[%d]): feature %s appears twice", row+1, row, quoteToken(s.tok))
		}
		d.seen[col] = true
		if err := s.expect(':', "after a feature name"); err != nil {
			return err
		}
		v, err := d.value(row, col, true)
		if err != nil {
			return err
		}
		d.x[start+col] = v
		if c, ok = s.peek(); !ok {
			return s.readErr(errUnexpectedEnd)
		}
		s.pos++
		if c == '}' {
			return nil
		}
		if c != ',' {
			return badRequest(CodeMalformedBody, "row %d (instances[%d]): expected ',' or '}' after a feature value, found %q", row+1, row, c)
		}
	}
}

// value reads one feature value: a number, or null for a missing value.
// named says the row is an object, so the path names the feature rather than its index.
func (d *jsonDecoder) value(row, col int, named bool) (float64, error) {
	s := d.s
	c, ok := s.peek()
	if !ok {
		return 0, s.readErr(errUnexpectedEnd)
	}
	where := func() string {
		path := fmt.Sprintf("instances[%d][%d]", row, col)
		if named {
			path = fmt.Sprintf("instances[%d][%q]", row, d.features.names[col])
		}
		return fmt.Sprintf("row %d, column %d (%s)", row+1, col+1, path)
	}
	return scanValue(s, c, d.features, col, where)
}

// scanValue reads the feature value starting with c, for column col: a number, null for a
// missing value, or a category name of a categorical feature. where names the value's place for
// error messages (it is called only on an error). The JSON and JSON-lines decoders share it, so
// that both read one grammar and say the same things.
func scanValue(s *scanner, c byte, features *featureIndex, col int, where func() string) (float64, error) {
	// A value cut short by a read error (the size limit, most often) is reported as that error.
	switch {
	case c == 'n':
		if !s.literal("null") {
			return 0, s.readErr(badRequest(CodeMalformedBody, "%s: invalid literal; a missing value is null", where()))
		}
		return math.NaN(), nil
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' || c != 't' && c != 'f' && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
		v, err := s.number()
		if err != nil {
			return 0, s.readErr(numberError(where(), s.tok, err, "a missing value is null"))
		}
		return v, nil
	case c == '"':
		if err := s.str(); err != nil {
			return 0, err
		}
		code, ok, categorical := features.category(col, s.tok)
		if !categorical {
			break
		}
		if !ok {
			return 0, badRequest(CodeNonNumeric, "%s: unknown category %q; the categories are: %s",
				where(), s.tok, strings.Join(features.catNames(col), ", "))
		}
		return code, nil
	}
	return 0, badRequest(CodeNonNumeric, "%s: expected a number or null, found %s", where(), describe(c))
}

// describe names the JSON value that starts with c, for error messages.
func describe(c byte) string {
	switch c {
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 'n':
		return "null"
	}
	if c == '-' || c >= '0' && c <= '9' {
		return "a number"
	}
	return strconv.QuoteRune(rune(c))
}

// decodeCSV appends the rows of a headerless CSV body to x: one row per line, an empty field is
// a missing value. Blank lines are skipped, a UTF-8 byte-order mark and CRLF line ends are
// accepted, and fields may be quoted or padded with spaces. More than maxRows rows is
// errTooManyRows, found before the extra row is decoded.
func decodeCSV(s *scanner, nf, maxRows int, x []float64) ([]float64, int, error) {
	rows := 0
	for line := 1; ; line++ {
		b, ok := s.line()
		if !ok {
			break
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if rows == maxRows {
			return x, 0, errTooManyRows
		}
		start := len(x)
		for col := 1; ; col++ {
			if v, n, ok := csvPlain(b); ok {
				x = append(x, v)
				if n == len(b) {
					break
				}
				b = b[n+1:]
				continue
			}
			i := bytes.IndexByte(b, ',')
			f := b
			if i >= 0 {
				f = b[:i]
			}
			v, err := csvField(f)
			if err != nil {
				return x, 0, numberError(fmt.Sprintf("line %d, column %d", line, col), f, err, "an empty field or NaN is a missing value")
			}
			x = append(x, v)
			if i < 0 {
				break
			}
			b = b[i+1:]
		}
		if got := len(x) - start; got != nf {
			return x, 0, badRequest(CodeWrongFeatures, "line %d: expected %d features, got %d", line, nf, got)
		}
		rows++
	}
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return x, 0, s.err
	}
	if rows == 0 {
		return x, 0, badRequest(CodeEmptyInput, "the CSV body has no rows; send one row of %d values per line", nf)
	}
	return x, rows, nil
}

// csvPlain reads the field at the start of b in one pass when it is what nearly every CSV
// writer produces: empty (missing), or a JSON-grammar number (isJSONNumber) whose digits make
// an integer below 2^53 and whose power of ten is at most 22, ended by ',' or the end of b.
// Those are Clinger's fast path (see fastFloat): two exact float64s and one correctly rounded
// operation, so the value is ParseFloat's. It returns the value, where the field ends, and
// false for anything else (spaces, quotes, NaN, long numbers, a mistake), which csvField then
// reads, so it changes no result or error.
func csvPlain(b []byte) (v float64, end int, ok bool) {
	if len(b) == 0 || b[0] == ',' {
		return math.NaN(), 0, true
	}
	i := 0
	neg := b[0] == '-'
	if neg {
		i++
	}
	var mant uint64
	start := i
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		mant = mant*10 + uint64(c)
	}
	digits := i - start
	if digits == 0 || digits > 1 && b[start] == '0' {
		return 0, 0, false // no digit, or a leading zero: csvField names the mistake
	}
	exp := 0
	if i < len(b) && b[i] == '.' {
		i++
		frac := i
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			mant = mant*10 + uint64(c)
		}
		if i == frac {
			return 0, 0, false
		}
		exp = frac - i
		digits += i - frac
	}
	// Nineteen digits cannot overflow mant; beyond 2^53 it is not exact in a float64.
	if digits > 19 || mant > 1<<53 {
		return 0, 0, false
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		e, first := 0, i
		for ; i < len(b); i++ {
			c := b[i] - '0'
			if c > 9 {
				break
			}
			if i-first == 4 {
				return 0, 0, false
			}
			e = e*10 + int(c)
		}
		if i == first {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i < len(b) && b[i] != ',' {
		return 0, 0, false
	}
	switch {
	case mant == 0:
	case exp >= 0 && exp < len(pow10):
		v = float64(mant) * pow10[exp]
	case exp < 0 && -exp < len(pow10):
		v = float64(mant) / pow10[-exp]
	default:
		return 0, 0, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

func csvField(f []byte) (float64, error) {
	f = bytes.Trim(f, " \t")
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		f = bytes.Trim(f[1:len(f)-1], " \t")
	}
	if len(f) == 0 || len(f) == 3 && bytes.EqualFold(f, []byte("nan")) {
		return math.NaN(), nil
	}
	return parseNumber(f)
}

// line returns the next line without its line end; false at the end of the body or on a read error.
func (s *scanner) line() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			b := s.buf[s.pos : s.pos+i]
			s.pos += i + 1
			return bytes.TrimSuffix(b, []byte{'\r'}), true
		}
		if !s.fill() {
			if s.err != nil && !errors.Is(s.err, io.EOF) || s.pos == s.end {
				return nil, false
			}
			b := s.buf[s.pos:s.end]
			s.pos = s.end
			return bytes.TrimSuffix(b, []byte{'\r'}), true
		}
	}
}
