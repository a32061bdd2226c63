package server

import (
	"net/http"
	"strconv"
	"strings"
)

// format is a body encoding the server reads and writes.
type format int

const (
	formatJSON format = iota
	formatCSV
)

// String is the format's media type.
func (f format) String() string {
	if f == formatCSV {
		return "text/csv"
	}
	return "application/json"
}

// requestFormat reads Content-Type; parameters such as charset=utf-8 are accepted and ignored,
// except text/csv's label_size, which is checked.
func requestFormat(r *http.Request) (inputFormat, error) {
	ct := r.Header.Get("Content-Type")
	switch ct { // the common exact values, without parsing
	case "application/json":
		return inputJSON, nil
	case "text/csv":
		return inputCSV, nil
	}
	mt, params, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "application/json":
		return inputJSON, nil
	case "text/csv":
		return inputCSV, checkCSVParams(ct, params)
	case "":
		return 0, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedType,
			Message: "Content-Type is missing; send " + acceptedContentTypes}
	}
	if in, ok := builtinInputFormat(mt); ok {
		return in, nil
	}
	return 0, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedType,
		"Content-Type %s is not supported; send %s", quoteToken(mt), acceptedContentTypes)
}

// responseFormat picks the response encoding from Accept (RFC 9110 §12.5.1): the acceptable
// type with the highest quality, JSON on ties and when Accept is absent.
func responseFormat(r *http.Request) (format, error) {
	accept := r.Header.Get("Accept")
	switch accept {
	case "", "*/*", "application/json":
		return formatJSON, nil
	case "text/csv":
		return formatCSV, nil
	}
	// -1 means not mentioned. A specific type outranks a wildcard that also covers it.
	jsonExact, csvExact, appAny, textAny, anyAny := -1.0, -1.0, -1.0, -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "application/json":
			jsonExact = q
		case "text/csv":
			csvExact = q
		case "application/*":
			appAny = q
		case "text/*":
			textAny = q
		case "*/*":
			anyAny = q
		}
	}
	jsonQ, csvQ := firstSet(jsonExact, appAny, anyAny), firstSet(csvExact, textAny, anyAny)
	switch {
	case jsonQ > 0 && jsonQ >= csvQ:
		return formatJSON, nil
	case csvQ > 0:
		return formatCSV, nil
	}
	return 0, errorf(http.StatusNotAcceptable, CodeNotAcceptable,
		"Accept %s allows no type this server writes; it writes application/json and text/csv", quoteToken(accept))
}

func firstSet(qs ...float64) float64 {
	for _, q := range qs {
		if q >= 0 {
			return q
		}
	}
	return -1
}
