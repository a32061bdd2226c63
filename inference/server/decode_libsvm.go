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
//   - with base LibSVMIndex0, an index is the column itself, counted from 0, with no 1-based
//     shift: the released container (v3.0-5 and earlier) puts it in a scipy CSR matrix as
//     written, as XGBoost's own libsvm reader does when it trains (dmlc-core's indexing_mode
//     defaults to 0), so a model trained on 1-based files has an unused column 0 and reads the
//     same files the same way. With LibSVMIndex1 index i is column i-1 and 0 is refused. With
//     LibSVMIndexAuto the body is read as the container's current parser reads it
//     (aws/sagemaker-xgboost-container@cb8df91:
//     src/sagemaker_xgboost_container/algorithm_mode/serve_utils.py:111-113, since 7eefe63):
//     when no index of the whole request is 0 (and there is at least one), every index is
//     shifted down by one, else none is;
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
func decodeLibSVM(s *scanner, nf, maxRows int, base LibSVMIndexBase, x []float64, seen []bool) ([]float64, int, []bool, error) {
	if cap(seen) < nf+1 {
		seen = make([]bool, nf+1)
	}
	seen = seen[:nf+1] // by the index as written, which may be nf when it is 1-based
	first := len(x)
	minIndex := -1
	// In auto mode index nf is a feature only if the request turns out 1-based; its values wait
	// here until the end of the body says so.
	var last []libsvmPending
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
			idx, err := libsvmIndex(tok[:i])
			lo, hi := 0, nf-1 // the indices this base accepts
			switch base {
			case LibSVMIndex1:
				lo, hi = 1, nf
			case LibSVMIndexAuto:
				hi = nf
			}
			if err != nil || idx < lo || idx > hi {
				return x, 0, seen, badRequest(CodeWrongFeatures,
					"line %d: index %s in %s is not a feature of this model; %s",
					line, quoteToken(tok[:i]), quoteToken(tok), base.describe(nf))
			}
			if seen[idx] {
				return x, 0, seen, badRequest(CodeMalformedBody, "line %d: index %d appears twice", line, idx)
			}
			seen[idx] = true
			if minIndex < 0 || idx < minIndex {
				minIndex = idx
			}
			f := tok[i+1:]
			v := math.NaN()
			if !(len(f) == 3 && f[0]|0x20 == 'n' && bytes.EqualFold(f, []byte("nan"))) {
				if v, err = parseNumber(f); err != nil {
					return x, 0, seen, numberError(fmt.Sprintf("line %d, index %d", line, idx), f, err, "leave the index out (or write nan) for a missing value")
				}
			}
			switch {
			case base == LibSVMIndex1:
				x[start+idx-1] = v
			case idx == nf: // auto: only a 1-based request reaches it
				last = append(last, libsvmPending{row: rows, line: line, v: v})
			default:
				x[start+idx] = v
			}
		}
		rows++
	}
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return x, 0, seen, s.err
	}
	if rows == 0 {
		return x, 0, seen, badRequest(CodeEmptyInput, "the libsvm body has no rows; send one \"label index:value ...\" line per row")
	}
	if base == LibSVMIndexAuto && minIndex >= 1 { // serve_utils.py:112-113: col.min() >= 1
		for r := range rows {
			row := x[first+r*nf : first+(r+1)*nf]
			copy(row, row[1:])
			row[nf-1] = math.NaN()
		}
		for _, p := range last {
			x[first+p.row*nf+nf-1] = p.v
		}
	} else if len(last) > 0 {
		return x, 0, seen, badRequest(CodeWrongFeatures,
			"line %d: index %d is not a feature of this model; this request uses index 0, so its indices are read as the columns 0 to %d (only a request that never uses index 0 is read 1-based, as SageMaker's XGBoost container does)",
			last[0].line, nf, nf-1)
	}
	return x, rows, seen, nil
}

// libsvmPending is a value at index nf in auto mode, placed once the body is known to be 1-based.
type libsvmPending struct {
	row, line int
	v         float64
}

// LibSVMIndexBase says how text/libsvm indices name the model's columns.
type LibSVMIndexBase int

const (
	// LibSVMIndexDefault is LibSVMIndexAuto in SageMaker compat mode, LibSVMIndex0 otherwise.
	LibSVMIndexDefault LibSVMIndexBase = iota
	// LibSVMIndex0 reads index i as column i, as XGBoost's libsvm reader and SageMaker's
	// XGBoost container up to v3.0-5 do.
	LibSVMIndex0
	// LibSVMIndex1 reads index i as column i-1 and refuses index 0.
	LibSVMIndex1
	// LibSVMIndexAuto shifts a request down by one when none of its indices is 0, as
	// SageMaker's XGBoost container does since aws/sagemaker-xgboost-container@7eefe63.
	LibSVMIndexAuto
)

// ParseLibSVMIndexBase reads the value of INFERSTACK_LIBSVM_INDEX_BASE: "0", "1", "auto", or
// "" for LibSVMIndexDefault.
func ParseLibSVMIndexBase(s string) (LibSVMIndexBase, error) {
	switch s {
	case "":
		return LibSVMIndexDefault, nil
	case "0":
		return LibSVMIndex0, nil
	case "1":
		return LibSVMIndex1, nil
	case "auto":
		return LibSVMIndexAuto, nil
	}
	return 0, fmt.Errorf("want 0 (indices are columns counted from 0), 1 (counted from 1), auto (1-based when a request never uses index 0, as SageMaker's XGBoost container since 2026-05) or unset (auto in SageMaker compat mode, else 0)")
}

// String is the setting's value.
func (b LibSVMIndexBase) String() string {
	switch b {
	case LibSVMIndex0:
		return "0"
	case LibSVMIndex1:
		return "1"
	case LibSVMIndexAuto:
		return "auto"
	}
	return ""
}

func (b LibSVMIndexBase) describe(nf int) string {
	switch b {
	case LibSVMIndex1:
		return fmt.Sprintf("indices are the columns 1 to %d, counted from 1 (INFERSTACK_LIBSVM_INDEX_BASE=1)", nf)
	case LibSVMIndexAuto:
		return fmt.Sprintf("indices are the columns 0 to %d, or 1 to %d in a request that never uses index 0 (INFERSTACK_LIBSVM_INDEX_BASE=auto, as SageMaker's XGBoost container reads them)", nf-1, nf)
	}
	return fmt.Sprintf("indices are the columns 0 to %d, counted from 0 as XGBoost reads them (INFERSTACK_LIBSVM_INDEX_BASE=0)", nf-1)
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
