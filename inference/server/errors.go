package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"unicode/utf8"
)

// Error is a failure the client can act on: it carries the HTTP status, a stable machine-readable
// code and a message that says what was wrong and what is allowed. Anything that is not an *Error
// is an internal failure and is answered with a 500 that does not repeat its details.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error returns the user-facing message.
func (e *Error) Error() string { return e.Message }

// Error codes: stable strings clients may switch on.
const (
	CodeMalformedBody       = "malformed_body"
	CodeWrongFeatures       = "wrong_feature_count"
	CodeNonNumeric          = "non_numeric_value"
	CodeUnknownFeature      = "unknown_feature"
	CodeEmptyInput          = "empty_input"
	CodeEmptyRow            = "empty_row"
	CodeBodyRead            = "body_read_failed"
	CodeBodyReadTimeout     = "body_read_timeout"
	CodePayloadTooLarge     = "payload_too_large"
	CodeTooManyRows         = "too_many_rows"
	CodeUnsupportedEncoding = "unsupported_content_encoding"
	CodeHeaderTooLarge      = "header_too_large"
	CodeBadRequest          = "bad_request"
	CodeNotImplemented      = "not_implemented"
	CodeUnsupportedType     = "unsupported_media_type"
	CodeNotAcceptable       = "not_acceptable"
	CodeNotFound            = "not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeTimeout             = "prediction_timeout"
	CodeInvalidValue        = "invalid_value"
	CodeInternal            = "internal_error"
)

// maxQuoted is how much of a client's token an error message repeats: enough to recognise it,
// never so much that a 6 MB token makes a 6 MB answer.
const maxQuoted = 64

// quoteToken quotes b for an error message, cut to maxQuoted bytes at a rune boundary; a cut
// token ends in … and its length is given.
func quoteToken[T string | []byte](b T) string {
	if len(b) <= maxQuoted {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(clip(b)) + " (" + strconv.Itoa(len(b)) + " bytes)"
}

// clip cuts b to maxQuoted bytes at a rune boundary, ending in … when cut, for messages that
// repeat a path or method unquoted.
func clip[T string | []byte](b T) string {
	if len(b) <= maxQuoted {
		return string(b)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "…"
}

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, code, format, args...)
}

// bodyReadError is a failure to read the request body other than its size limit: the client
// stalled past the read timeout or hung up mid-body. Its error names addresses and is logged,
// never sent.
// badInput is an error from a model about a value it cannot take (an ONNX int64 input given
// 1.5 or a missing value): the client's mistake, reported as such. Models say so by a method,
// so that the server imports none of them.
type badInput interface {
	error
	BadInput() bool
}

type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *bodyReadError) Unwrap() error { return e.err }

// asHTTPError is the one place that maps an error to a response: typed errors pass through,
// the body-size limit becomes a 413, a body read failure a 408 (timeout) or 400 with a fixed
// message, and everything else is an internal error. Details of the last two are logged here
// and never sent.
func asHTTPError(log *slog.Logger, r *http.Request, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"the request body is larger than the limit of %d bytes", tooBig.Limit)
	}
	var bad badInput
	if errors.As(err, &bad) && bad.BadInput() {
		return badRequest(CodeInvalidValue, "%s", bad.Error())
	}
	var readErr *bodyReadError
	if errors.As(err, &readErr) {
		log.LogAttrs(r.Context(), slog.LevelWarn, "request body not read",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", readErr.err.Error()))
		var ne net.Error
		if errors.Is(readErr.err, os.ErrDeadlineExceeded) || errors.As(readErr.err, &ne) && ne.Timeout() {
			return errorf(http.StatusRequestTimeout, CodeBodyReadTimeout,
				"the request body stopped arriving before its end and the server's read timeout passed; send the whole body without pausing")
		}
		return badRequest(CodeBodyRead, "the request body could not be read to its end; the connection failed mid-body")
	}
	log.LogAttrs(r.Context(), slog.LevelError, "request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error; see the server log"}
}

// writeError sends err as {"error": {"code": ..., "message": ...}}.
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	e := asHTTPError(log, r, err)
	if id := r.Header.Get(inferenceIDHeader); id != "" {
		// SageMaker data capture records carry the inference id; so does this line.
		log.LogAttrs(r.Context(), slog.LevelInfo, "invocation", slog.String("inference_id", clip(id)),
			slog.Int("status", e.Status), slog.String("code", e.Code))
	}
	b := appendErrorBody(make([]byte, 0, 64+len(e.Message)), e)
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = nosniff
	w.WriteHeader(e.Status)
	_, _ = w.Write(b) // the client is gone if this fails; nothing left to tell it
}

// appendErrorBody appends {"error": {"code": ..., "message": ...}} and a newline.
func appendErrorBody(b []byte, e *Error) []byte {
	b = append(b, `{"error":{"code":`...)
	b = appendJSONString(b, e.Code)
	b = append(b, `,"message":`...)
	b = appendJSONString(b, e.Message)
	return append(b, "}}\n"...)
}
