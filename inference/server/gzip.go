package server

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
)

// contentEncoding reads Content-Encoding (RFC 9110 §8.4): identity, or gzip (x-gzip is its
// alias, §8.4.1.3) applied once. Anything else is a 415 that says what is accepted, so that a
// compressed body never reaches the decoders to come back as a confusing 400.
func contentEncoding(values []string) (gzipped bool, err error) {
	for _, v := range values {
		for c := range strings.SplitSeq(v, ",") {
			switch c = strings.ToLower(strings.TrimSpace(c)); c {
			case "", "identity":
			case "gzip", "x-gzip":
				if gzipped {
					return false, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedEncoding,
						"Content-Encoding applies gzip more than once; send the body gzip-compressed once, or uncompressed")
				}
				gzipped = true
			default:
				return false, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedEncoding,
					"Content-Encoding %s is not supported; send the body uncompressed or with Content-Encoding: gzip", quoteToken(c))
			}
		}
	}
	return gzipped, nil
}

// gunzipBody decompresses a gzip body and holds what it yields to the body limit, so that a
// small compressed body cannot become an unbounded one (a gzip bomb gets a 413). Its errors
// are typed: a stream that is not gzip is the client's 400, the compressed body's own read
// error (its size limit, a timeout) passes through unchanged.
type gunzipBody struct {
	zr       gzip.Reader
	started  bool
	src      io.Reader
	n, limit int64
}

func (g *gunzipBody) reset(src io.Reader, limit int64) {
	g.src, g.n, g.limit, g.started = src, 0, limit, false
}

func (g *gunzipBody) Read(p []byte) (int, error) {
	if !g.started {
		g.started = true
		if err := g.zr.Reset(g.src); err != nil {
			return 0, gzipError(err)
		}
	}
	if g.n > g.limit {
		return 0, g.tooLarge()
	}
	if room := g.limit + 1 - g.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := g.zr.Read(p)
	g.n += int64(n)
	if g.n > g.limit {
		return n - int(g.n-g.limit), g.tooLarge()
	}
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

func (g *gunzipBody) tooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
		"the gzip-compressed body decompresses to more than the limit of %d bytes", g.limit)
}

// gzipError names what is wrong with a stream that is not gzip; other errors are the
// compressed body's own and pass through.
func gzipError(err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest(CodeMalformedBody, "the body is empty, but Content-Encoding says gzip")
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt):
		return badRequest(CodeMalformedBody, "the body is not valid gzip, as Content-Encoding says it is (%s)", err.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(CodeMalformedBody, "the gzip stream ends early; send the whole compressed body")
	}
	return err
}
