package server

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
)

// net/http answers a few requests itself, before any handler runs and in text/plain: a header
// over MaxHeaderBytes (431), a request it cannot parse (400, e.g. a missing Host header) and a
// Transfer-Encoding it does not implement (501). It writes each such answer with one Write of
// a fixed form to the connection and logs nothing (net/http server.go, conn.serve:
// "HTTP/1.1 " + status + errorHeaders + text). rawErrorConn recognises exactly that form and
// writes the same status as this server's JSON error instead, and counts it in /metrics under
// route "unparsed". What stays out of reach: a client that hangs up or times out before its
// header ends gets no answer at all, so there is nothing to rewrite or count but the lack of one.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

type rawErrorConn struct {
	net.Conn
	count func(status int)
}

// Write passes everything through except net/http's own error answers. It checks the status
// line first, so an ordinary response costs a few byte comparisons.
func (c *rawErrorConn) Write(b []byte) (int, error) {
	if len(b) > 12 && (b[9] == '4' || b[9] == '5') && bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		if i := bytes.Index(b, []byte(netHTTPErrorHeaders)); i > 0 {
			if status, err := strconv.Atoi(string(b[9:12])); err == nil {
				if c.count != nil {
					c.count(status)
				}
				if _, err := c.Conn.Write(jsonRawError(status, b[i+len(netHTTPErrorHeaders):])); err != nil {
					return 0, err
				}
				return len(b), nil
			}
		}
	}
	return c.Conn.Write(b)
}

// CloseWrite keeps net/http's half-close before it closes a connection (without it, a client
// still sending gets a reset that can swallow the answer).
func (c *rawErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// jsonRawError is the JSON answer for a status net/http sent with text, its fixed wording
// (such as "400 Bad Request: missing required Host header"), which never repeats the request.
func jsonRawError(status int, text []byte) []byte {
	e := &Error{Status: status, Code: CodeBadRequest}
	detail := string(bytes.TrimPrefix(text, []byte(strconv.Itoa(status)+" "+http.StatusText(status))))
	if len(detail) > 2 && detail[0] == ':' {
		detail = detail[2:]
	}
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		e.Code = CodeHeaderTooLarge
		e.Message = "the request's header is larger than the server accepts (about " + strconv.Itoa(http.DefaultMaxHeaderBytes>>20) + " MiB); send a smaller header"
	case http.StatusNotImplemented:
		e.Code = CodeNotImplemented
		e.Message = "the request's Transfer-Encoding is not supported; send a Content-Length or Transfer-Encoding: chunked"
	default:
		e.Message = "the request is not valid HTTP/1.1"
		if detail != "" {
			e.Message += ": " + clip(detail)
		}
	}
	body := appendErrorBody(nil, e)
	b := make([]byte, 0, 160+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	b = append(b, "\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}
