package server

import (
	"net/http"
	"strings"
)

// route is one entry of the route table. Paths that match no route get a JSON 404, and known
// paths asked with another method a JSON 405, from the same table.
type route struct {
	method, path string
	handler      http.Handler
}

func (s *Server) routes() []route {
	return []route{
		{http.MethodGet, "/ping", s.handlePing()},
		{http.MethodPost, "/invocations", s.handleInvocations()},
		{http.MethodGet, "/openapi.json", s.handleStatic(jsonContentType, s.openAPI)},
		{http.MethodGet, "/docs", s.handleStatic(htmlContentType, s.docs)},
		{http.MethodGet, "/metrics", s.metrics.handler()},
		{http.MethodGet, "/execution-parameters", s.handleExecutionParameters()},
	}
}

func (s *Server) registerRoutes() {
	table := s.routes()
	for _, rt := range table {
		s.mux.Handle(rt.method+" "+rt.path, s.metrics.instrument(rt.path, rt.handler))
	}
	s.mux.Handle("/", s.metrics.instrument("other", s.handleUnrouted(table)))
}

// handleUnrouted answers what the table does not route: 405 with Allow for a known path, else 404.
func (s *Server) handleUnrouted(table []route) http.Handler {
	allowed := map[string][]string{}
	for _, rt := range table {
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet { // the mux serves HEAD for every GET route
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if methods, ok := allowed[r.URL.Path]; ok {
			allow := strings.Join(methods, ", ")
			w.Header().Set("Allow", allow)
			writeError(s.log, w, r, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				"%s %s is not allowed; use %s", clip(r.Method), clip(r.URL.Path), allow))
			return
		}
		writeError(s.log, w, r, errorf(http.StatusNotFound, CodeNotFound,
			"no route %s; the routes are GET /ping, POST /invocations, GET /openapi.json, GET /docs, GET /metrics, GET /execution-parameters", clip(r.URL.Path)))
	})
}
