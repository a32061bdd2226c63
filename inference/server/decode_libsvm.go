package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// decodeLibSVM appends the rows of a text/libsvm body to x: one row per line,
// "label index:value index:value ...". It reads the body as SageMaker's built-in XGBoost
// container does (aws/sagemaker-xgboost-container@c988a0e:
// src/sagemaker_xgboost_container/algorithm_mode/serve_utils.py:94-115,131-139):
//   - the label (a token without ':') is ignored: at inference it is a placeholder;
//   - an index is the column itself, counted from 0, with no 1-based shift: the container puts
//     it in a scipy CSR matrix as written, as XGBoost's own libsvm reader does when it trains
//     (dmlc-core's indexing_mode defaults to 0), so a model trained on 1-based files has an
//     unused column 0 and reads the same files the same way;
//   - an index that is absent is a missing value, not 0 (a CSR matrix stores only what is present).
//
// Where the container would fail deep inside scipy or XGBoost, or silently sum two values of one
// index, this decoder refuses with the line and token: an index that is not a whole number or
// beyond the model's features, an index given twice, a value that is not a number. A token
// "nan" is an explicit missing value; a "qid:N" token after the label (ranking data) is ignored,
// as XGBoost's reader does; tokens may be separated by tabs too.
//
// Every line between the first row and the last is a row, so that the answers line up with the
// lines (Batch Transform joins them): a blank line, or one with a label alone, is a row of
// missing values, as in the container; blank lines before the first row and after the last are
// ignored, as the container's strip() does. (The container drops a last line that names no
// index, because its CSR matrix is only as tall as the last index it saw; this decoder keeps it.)
func decodeLibSVM(s *scanner, nf, maxRows int, x []float64, seen []bool) ([]float64, int, []bool, error) {
	if cap(seen) < nf {
		seen = make([]bool, nf)
	}
	seen = seen[:nf]
	rows, blank := 0, 0
	for line := 1; ; line++ {
		b, ok := s.line()
		if !ok {
			break
		}
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		tok, rest := nextToken(b)
		if len(tok) == 0 {
			if rows > 0 {
				blank++
			}
			continue
		}
		for ; blank > 0; blank-- { // blank lines between rows are rows of missing values
			if rows == maxRows {
				return x, 0, seen, errTooManyRows
			}
			for range nf {
				x = append(x, math.NaN())
			}
			rows++
		}
		if rows == maxRows {
			return x, 0, seen, errTooManyRows
		}
		start := len(x)
		for range nf {
			x = append(x, math.NaN())
		}
		clear(seen)
		if bytes.IndexByte(tok, ':') < 0 { // the label
			if len(tok) == 1 && tok[0] >= '0' && tok[0] <= '9' { // the usual placeholder, 0 or 1
			} else if _, err := parseNumber(tok); err != nil {
				return x, 0, seen, badRequest(CodeMalformedBody,
					"line %d: the label %s is not a number; a libsvm line is \"label index:value ...\" (the label is ignored at inference, 0 will do)",
					line, quoteToken(tok))
			}
			tok, rest = nextToken(rest)
			if bytes.HasPrefix(tok, []byte("qid:")) {
				tok, rest = nextToken(rest)
			}
		}
		for ; len(tok) > 0; tok, rest = nextToken(rest) {
			i := bytes.IndexByte(tok, ':')
			if i < 0 {
				return x, 0, seen, badRequest(CodeMalformedBody,
					"line %d: %s is not index:value; a libsvm line is \"label index:value ...\" with the label first",
					line, quoteToken(tok))
			}
			col, err := libsvmIndex(tok[:i])
			if err != nil || col >= nf {
				return x, 0, seen, badRequest(CodeWrongFeatures,
					"line %d: index %s in %s is not a feature of this model; indices are the columns 0 to %d, counted from 0 as SageMaker's XGBoost reads them",
					line, quoteToken(tok[:i]), quoteToken(tok), nf-1)
			}
			if seen[col] {
				return x, 0, seen, badRequest(CodeMalformedBody, "line %d: index %d appears twice", line, col)
			}
			seen[col] = true
			f := tok[i+1:]
			v := math.NaN()
			if !(len(f) == 3 && f[0]|0x20 == 'n' && bytes.EqualFold(f, []byte("nan"))) {
				if v, err = parseNumber(f); err != nil {
					return x, 0, seen, numberError(fmt.Sprintf("line %d, index %d", line, col), f, err, "leave the index out (or write nan) for a missing value")
				}
			}
			x[start+col] = v
		}
		rows++
	}
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return x, 0, seen, s.err
	}
	if rows == 0 {
		return x, 0, seen, badRequest(CodeEmptyInput, "the libsvm body has no rows; send one \"label index:value ...\" line per row")
	}
	return x, rows, seen, nil
}

// nextToken splits off the first space- or tab-separated token of b.
func nextToken(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// libsvmIndex parses a column index: decimal digits only.
func libsvmIndex(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 9 {
		return 0, strconv.ErrSyntax
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
