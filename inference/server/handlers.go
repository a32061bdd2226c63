package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/inferstack/inferstack/inference/model"
)

var (
	pingUp   = []byte(`{"status":"UP"}` + "\n")
	pingDown = []byte(`{"status":"DOWN"}` + "\n")
)

// handlePing answers SageMaker's health check, which must answer within 2 s: it does no work.
func (s *Server) handlePing() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, status := pingUp, http.StatusOK
		if s.opts.Health.Draining() {
			body, status = pingDown, http.StatusServiceUnavailable
		}
		h := w.Header()
		h["Content-Type"] = jsonContentType
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(status)
		_, _ = w.Write(body) // the client is gone if this fails
	})
}

// handleStatic serves a document built at start-up.
func (s *Server) handleStatic(contentType []string, body []byte) http.Handler {
	length := []string{strconv.Itoa(len(body))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = contentType
		h["Content-Length"] = length
		h["X-Content-Type-Options"] = nosniff
		_, _ = w.Write(body) // the client is gone if this fails
	})
}

// requestState is the memory one /invocations request needs; it is pooled so that a steady
// stream of requests allocates next to nothing.
type requestState struct {
	scan scanner
	gz   *gunzipBody // made on the first gzip body
	x    []float64   // decoded rows
	out  []float64   // model outputs
	seen []bool
	resp []byte
	dec  *decoders // libsvm, recordio and JSON lines state; made on the first such body
}

// Pooled buffers larger than these are dropped rather than kept, so that one large batch does
// not pin its memory for the life of the process: sync.Pool keeps what it is given across a
// garbage collection.
const (
	maxPooledFloats = 1 << 18 // 2 MiB of float64
	maxPooledBytes  = 2 << 20
)

func (s *Server) putState(st *requestState) {
	st.dropLarge()
	s.states.Put(st)
}

// bytes is the memory the state's buffers hold.
func (st *requestState) bytes() int {
	return 8*cap(st.x) + 8*cap(st.out) + cap(st.resp) + cap(st.seen) + cap(st.scan.buf) + cap(st.scan.tok) + st.dec.bytes()
}

// dropLarge lets go of the buffers a large batch grew, and of the body reader.
func (st *requestState) dropLarge() {
	if cap(st.x) > maxPooledFloats {
		st.x = nil
	}
	if cap(st.out) > maxPooledFloats {
		st.out = nil
	}
	if cap(st.resp) > maxPooledBytes {
		st.resp = nil
	}
	if cap(st.seen) > maxPooledFloats {
		st.seen = nil
	}
	if cap(st.scan.buf) > 4*scanBufSize { // grown by a long CSV line
		st.scan.buf = nil
	}
	if cap(st.scan.tok) > 4*scanBufSize { // grown by a long token
		st.scan.tok = nil
	}
	st.scan.r = nil
	st.dec.dropLarge()
	if st.gz != nil {
		st.gz.src = nil
	}
}

// predictChunkRows is how many rows are predicted between two deadline checks: small enough
// that a deadline is noticed within a few milliseconds, large enough to cost nothing.
const predictChunkRows = 256

func (s *Server) handleInvocations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Compat != nil && r.ContentLength == 0 {
			// serve.py:209-211: an empty body is answered 204 before anything else is looked at.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		in, err := requestFormat(r)
		if err != nil {
			writeError(s.log, w, r, err)
			return
		}
		attrs, err := customAttributes(r)
		if err != nil {
			writeError(s.log, w, r, err)
			return
		}
		var outFormat format
		var compatOut compatFormat
		compat := s.opts.Compat
		if compat != nil {
			if compat, err = compat.forRequest(attrs, s.info.Objective); err == nil {
				compatOut, err = compat.accept(r)
			}
		} else {
			outFormat, err = responseFormat(r)
		}
		if err != nil {
			writeError(s.log, w, r, err)
			return
		}
		var gzipped bool
		if ce := r.Header["Content-Encoding"]; len(ce) > 0 {
			if gzipped, err = contentEncoding(ce); err != nil {
				writeError(s.log, w, r, err)
				return
			}
		}
		if r.ContentLength > s.opts.MaxBodyBytes {
			// Refuse before reading; the server closes the connection rather than drain the body.
			writeError(s.log, w, r, &http.MaxBytesError{Limit: s.opts.MaxBodyBytes})
			return
		}
		reserved, err := s.gate.acquire(r.Context(), s.reservation(r.ContentLength, in, outFormat, gzipped))
		if err != nil {
			return // the client went away while the request waited for memory
		}
		defer s.gate.release(reserved)
		st := s.states.Get().(*requestState)
		defer func() {
			// What the buffers hold, not the reservation: a small streamed body reserves for
			// the largest one but uses little.
			if st.bytes() >= largeBatchBytes {
				s.trim.afterLargeBatch()
			}
			s.putState(st)
		}()
		var body io.Reader = http.MaxBytesReader(unwrap(w), r.Body, s.opts.MaxBodyBytes)
		if gzipped {
			if st.gz == nil {
				st.gz = new(gunzipBody)
			}
			st.gz.reset(body, s.opts.MaxBodyBytes)
			body = st.gz
		}
		st.scan.reset(body)
		maxRows := s.limits.rows[outFormat]
		if compat != nil {
			// The compat answers are bounded after encoding instead.
			maxRows = max(s.limits.rows[formatJSON], s.limits.rows[formatCSV])
		}
		rows, err := s.decodeBody(in, st, maxRows)
		if err != nil {
			if errors.Is(err, errTooManyRows) {
				err = s.tooManyRows(outFormat)
			}
			writeError(s.log, w, r, classifyDecodeError(err))
			return
		}
		width := s.info.OutputWidth
		if n := rows * width; cap(st.out) < n {
			st.out = make([]float64, n)
		}
		st.out = st.out[:rows*width]
		if err := s.predict(r.Context(), st.x, st.out, rows); err != nil {
			if r.Context().Err() != nil {
				return // the client went away; there is no one to answer
			}
			writeError(s.log, w, r, err)
			return
		}
		s.metrics.rows.Add(float64(rows))
		// One allocation of the largest the answer can be, rather than a chain of doublings
		// that together take twice that.
		st.resp = slices.Grow(st.resp[:0], len(jsonHead)+len(jsonTail)+rows*s.limits.rowBytes[outFormat])
		h := w.Header()
		if attrs != "" {
			// SageMaker returns this response header to the caller as CustomAttributes.
			h["X-Amzn-Sagemaker-Custom-Attributes"] = []string{attrs}
		}
		if id := r.Header.Get(inferenceIDHeader); id != "" {
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "invocation", slog.String("inference_id", clip(id)),
				slog.Int("status", http.StatusOK), slog.String("content_type", in.String()), slog.Int("rows", rows))
		}
		if compat != nil {
			st.resp = s.compat.encode(st.resp[:0], compat, compatOut, st.out, rows)
			if int64(len(st.resp)) > s.opts.MaxResponseBytes {
				writeError(s.log, w, r, errorf(http.StatusRequestEntityTooLarge, CodeTooManyRows,
					"the answer for %d rows takes %d bytes, over the %d-byte response limit; send fewer rows per request",
					rows, len(st.resp), s.opts.MaxResponseBytes))
				return
			}
			h["Content-Type"] = compatContentTypes[compatOut]
		} else if outFormat == formatCSV {
			st.resp = appendCSV(st.resp, st.out, width)
			h["Content-Type"] = csvContentType
		} else {
			st.resp = s.enc.appendJSON(st.resp, st.out, rows)
			h["Content-Type"] = jsonContentType
		}
		h["Content-Length"] = []string{strconv.Itoa(len(st.resp))}
		if _, err := w.Write(st.resp); err != nil && s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "response not delivered", slog.String("error", err.Error()))
		}
	})
}

// predict runs the model over rows in chunks, stopping between chunks once the prediction
// deadline has passed or the client has gone. The deadline starts with the prediction (reading
// the body is bounded by the server's read timeout) and a single-chunk request never reads the
// clock. A panic in the model becomes an internal error for this request alone, logged with its
// stack.
func (s *Server) predict(ctx context.Context, x, out []float64, rows int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the model panicked: %v\n%s", p, debug.Stack())
		}
	}()
	nf, width := s.info.NumFeatures, s.info.OutputWidth
	if cp, ok := s.model.(model.ContextPredictor); ok {
		// A model that may wait (for a batch) gets the deadline as a context, so that it can
		// leave a batch it would miss.
		return s.predictContext(ctx, cp, x, out, rows)
	}
	var deadline time.Time
	if rows > predictChunkRows {
		deadline = s.now().Add(s.opts.PredictTimeout)
	}
	for start := 0; start < rows; start += predictChunkRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		if start > 0 && s.now().After(deadline) {
			return errorf(http.StatusServiceUnavailable, CodeTimeout,
				"the prediction of %d rows took longer than the %s limit; send fewer rows per request", rows, s.opts.PredictTimeout)
		}
		end := min(start+predictChunkRows, rows)
		if err := s.model.Predict(x[start*nf:end*nf], out[start*width:end*width]); err != nil {
			return fmt.Errorf("predicting rows %d to %d: %w", start+1, end, err)
		}
	}
	return nil
}

// predictContext is predict for a model.ContextPredictor: the whole request under one deadline.
func (s *Server) predictContext(ctx context.Context, cp model.ContextPredictor, x, out []float64, rows int) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.PredictTimeout)
	defer cancel()
	if err := cp.PredictContext(ctx, x, out); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return errorf(http.StatusServiceUnavailable, CodeTimeout,
				"the prediction of %d rows took longer than the %s limit; send fewer rows per request", rows, s.opts.PredictTimeout)
		}
		return fmt.Errorf("predicting %d rows: %w", rows, err)
	}
	return nil
}

// unwrap returns the connection's own ResponseWriter under any wrappers, because
// http.MaxBytesReader can only tell that one to close the connection after an oversized body.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// classifyDecodeError classifies a decoding failure: the decoders return either a typed error or
// the body's own read error. The size limit is reported as such by writeError; any other read
// error (the client stalled past the read timeout or hung up mid-body) is the client's, not a 500.
func classifyDecodeError(err error) error {
	var e *Error
	var tooBig *http.MaxBytesError
	if errors.As(err, &e) || errors.As(err, &tooBig) {
		return err
	}
	return &bodyReadError{err: err}
}
