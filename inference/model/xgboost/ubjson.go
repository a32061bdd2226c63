package xgboost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// XGBoost also saves its JSON schema in UBJSON (Universal Binary JSON, ubjson.org), for
// "*.ubj" names and, from XGBoost 2.1, for any name that does not end in ".json". Rather than
// keep a second decoder in step with the schema, Parse transcodes UBJSON to JSON text and
// decodes that.

// maxUBJSONDepth bounds nesting, so that a hostile file cannot exhaust the stack.
const maxUBJSONDepth = 64

// isUBJSON reports whether data starts like a UBJSON object: '{' then the type marker of the
// first key's length (JSON would have whitespace or '"').
func isUBJSON(data []byte) bool {
	return len(data) > 1 && data[0] == '{' && bytes.IndexByte([]byte("iUIlL}"), data[1]) >= 0
}

type ubjDecoder struct {
	in  []byte
	pos int
	out bytes.Buffer
}

// ubjsonToJSON transcodes one UBJSON value to JSON text. Non-finite floats, which JSON cannot
// hold, become the strings "NaN", "Infinity" and "-Infinity", which the JSON reader's float
// arrays accept as XGBoost's JSON reader accepts the bare tokens (categorical splits hold NaN
// split conditions).
func ubjsonToJSON(data []byte) ([]byte, error) {
	d := &ubjDecoder{in: data}
	d.out.Grow(len(data) * 2)
	if err := d.value(d.next(), 0); err != nil {
		return nil, fmt.Errorf("UBJSON at byte %d: %w", d.pos, err)
	}
	return d.out.Bytes(), nil
}

var errTruncated = errors.New("truncated")

// next returns the next marker, skipping no-op markers; 0 at the end of input.
func (d *ubjDecoder) next() byte {
	for d.pos < len(d.in) {
		c := d.in[d.pos]
		d.pos++
		if c != 'N' {
			return c
		}
	}
	return 0
}

func (d *ubjDecoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.in)-d.pos {
		return nil, errTruncated
	}
	b := d.in[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

// integer reads an integer of the type marker t.
func (d *ubjDecoder) integer(t byte) (int64, error) {
	size := map[byte]int{'i': 1, 'U': 1, 'I': 2, 'l': 4, 'L': 8}[t]
	if size == 0 {
		return 0, fmt.Errorf("marker %q is not an integer type", t)
	}
	b, err := d.take(size)
	if err != nil {
		return 0, err
	}
	switch t {
	case 'i':
		return int64(int8(b[0])), nil
	case 'U':
		return int64(b[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// length reads a length: an integer with its own marker, which must be non-negative.
func (d *ubjDecoder) length() (int, error) {
	n, err := d.integer(d.next())
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(d.in)) {
		return 0, fmt.Errorf("length %d out of range", n)
	}
	return int(n), nil
}

func (d *ubjDecoder) float(t byte) error {
	var f float64
	bits := 64
	if t == 'd' {
		b, err := d.take(4)
		if err != nil {
			return err
		}
		f, bits = float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32
	} else {
		b, err := d.take(8)
		if err != nil {
			return err
		}
		f = math.Float64frombits(binary.BigEndian.Uint64(b))
	}
	switch {
	case math.IsNaN(f):
		d.out.WriteString(`"NaN"`)
		return nil
	case math.IsInf(f, 1):
		d.out.WriteString(`"Infinity"`)
		return nil
	case math.IsInf(f, -1):
		d.out.WriteString(`"-Infinity"`)
		return nil
	}
	// The shortest text that reads back as the same float32 or float64.
	d.out.Write(strconv.AppendFloat(d.out.AvailableBuffer(), f, 'g', -1, bits))
	return nil
}

func (d *ubjDecoder) str() error {
	n, err := d.length()
	if err != nil {
		return err
	}
	b, err := d.take(n)
	if err != nil {
		return err
	}
	d.out.WriteString(strconv.Quote(string(b)))
	return nil
}

// value transcodes the value whose marker is t.
func (d *ubjDecoder) value(t byte, depth int) error {
	switch t {
	case 0:
		return errTruncated
	case 'Z':
		d.out.WriteString("null")
	case 'T':
		d.out.WriteString("true")
	case 'F':
		d.out.WriteString("false")
	case 'i', 'U', 'I', 'l', 'L':
		n, err := d.integer(t)
		if err != nil {
			return err
		}
		d.out.Write(strconv.AppendInt(d.out.AvailableBuffer(), n, 10))
	case 'd', 'D':
		return d.float(t)
	case 'C':
		b, err := d.take(1)
		if err != nil {
			return err
		}
		d.out.WriteString(strconv.Quote(string(b)))
	case 'S', 'H': // H: a high-precision number, kept as its text
		return d.str()
	case '[', '{':
		if depth >= maxUBJSONDepth {
			return fmt.Errorf("nested deeper than %d", maxUBJSONDepth)
		}
		return d.container(t == '{', depth+1)
	default:
		return fmt.Errorf("unknown marker %q", t)
	}
	return nil
}

// container transcodes an array or object, in either the plain form (values until ']' or '}')
// or the optimised one ('$' element type, '#' count), which XGBoost uses for numeric arrays.
func (d *ubjDecoder) container(object bool, depth int) error {
	open, closing := byte('['), byte(']')
	if object {
		open, closing = '{', '}'
	}
	d.out.WriteByte(open)
	var elem byte
	count := -1
	if d.pos < len(d.in) && d.in[d.pos] == '$' {
		d.pos++
		b, err := d.take(1)
		if err != nil {
			return err
		}
		elem = b[0]
	}
	if d.pos < len(d.in) && d.in[d.pos] == '#' {
		d.pos++
		n, err := d.length()
		if err != nil {
			return err
		}
		count = n
	} else if elem != 0 {
		return errors.New("'$' without '#'")
	}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			for d.pos < len(d.in) && d.in[d.pos] == 'N' {
				d.pos++
			}
			if d.pos < len(d.in) && d.in[d.pos] == closing {
				d.pos++
				break
			}
		}
		if i > 0 {
			d.out.WriteByte(',')
		}
		if object {
			if err := d.str(); err != nil { // keys are strings without the 'S' marker
				return err
			}
			d.out.WriteByte(':')
		}
		t := elem
		if t == 0 {
			t = d.next()
		}
		if err := d.value(t, depth); err != nil {
			return err
		}
	}
	d.out.WriteByte(closing)
	return nil
}
