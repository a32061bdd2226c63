package server

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/inferstack/inferstack/inference/model"
)

// Header values are shared slices so that setting them on the hot path allocates nothing;
// net/http only reads them.
var (
	jsonContentType = []string{"application/json"}
	csvContentType  = []string{"text/csv"}
	htmlContentType = []string{"text/html; charset=utf-8"}
	nosniff         = []string{"nosniff"}
)

// predictionEncoder writes a batch of model outputs in the response formats. Labels are encoded
// once at start-up, because they are the same for every request.
type predictionEncoder struct {
	task   model.Task
	width  int
	labels [][]byte // JSON encoding of each class's label: its name when known, else its index
}

func newPredictionEncoder(info model.Info) *predictionEncoder {
	n := info.NumClasses
	if n < len(info.Classes) {
		n = len(info.Classes)
	}
	labels := make([][]byte, n)
	for i := range labels {
		if i < len(info.Classes) {
			labels[i] = appendJSONString(nil, info.Classes[i])
		} else {
			labels[i] = strconv.AppendInt(nil, int64(i), 10)
		}
	}
	width := info.OutputWidth
	if width < 1 {
		width = 1
	}
	return &predictionEncoder{task: info.Task, width: width, labels: labels}
}

// appendJSON appends {"predictions":[...]} for the outputs of rows rows.
func (e *predictionEncoder) appendJSON(b []byte, out []float64, rows int) []byte {
	b = append(b, `{"predictions":[`...)
	for r := 0; r < rows; r++ {
		if r > 0 {
			b = append(b, ',')
		}
		o := out[r*e.width : (r+1)*e.width]
		switch e.task {
		case model.Binary:
			cls := 0
			if o[0] >= 0.5 {
				cls = 1
			}
			b = append(b, `{"label":`...)
			b = e.appendLabel(b, float64(cls))
			b = append(b, `,"probability":`...)
			b = appendJSONFloat(b, o[0])
			b = append(b, '}')
		case model.MultiProba:
			b = append(b, `{"label":`...)
			b = e.appendLabel(b, float64(argmax(o)))
			b = append(b, `,"probabilities":[`...)
			for i, v := range o {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONFloat(b, v)
			}
			b = append(b, "]}"...)
		case model.MultiClass:
			b = append(b, `{"label":`...)
			b = e.appendLabel(b, o[0])
			b = append(b, '}')
		case model.Values:
			b = appendValues(b, o)
		default:
			if e.width > 1 { // multi-target regression, several quantiles: one value per output
				b = appendValues(b, o)
				break
			}
			b = append(b, `{"value":`...)
			b = appendJSONFloat(b, o[0])
			b = append(b, '}')
		}
	}
	return append(b, "]}\n"...)
}

// appendLabel writes the label of class index v; a value that is not a known class index is
// written as the number itself, so that nothing the model says is hidden.
func (e *predictionEncoder) appendLabel(b []byte, v float64) []byte {
	if i := int(v); float64(i) == v && i >= 0 && i < len(e.labels) {
		return append(b, e.labels[i]...)
	}
	return appendJSONFloat(b, v)
}

// argmax returns the index of the largest value, the first one on ties; NaNs never win.
func argmax(o []float64) int {
	best := 0
	for i := 1; i < len(o); i++ {
		if o[i] > o[best] || math.IsNaN(o[best]) {
			best = i
		}
	}
	return best
}

// appendCSV writes one line per row with exactly the model's outputs, comma-separated.
func appendCSV(b []byte, out []float64, width int) []byte {
	for i, v := range out {
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
		if (i+1)%width == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ',')
		}
	}
	return b
}

// appendJSONFloat writes v in the shortest form that round-trips; JSON has no NaN or infinity,
// so those become null.
func appendJSONFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendValues writes a row of several outputs that are not class probabilities.
func appendValues(b []byte, o []float64) []byte {
	b = append(b, `{"values":[`...)
	for i, v := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONFloat(b, v)
	}
	return append(b, "]}"...)
}
