package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inferstack/inferstack/inference/model"
)

// metrics are the server's Prometheus collectors. They live in a registry of their own, not the
// global one, so that two servers (as in tests) never collide and nothing else leaks into /metrics.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	rows     prometheus.Counter
	reserved prometheus.Gauge // memory reserved by requests in flight
	budget   prometheus.Gauge
}

func newMetrics(info model.Info, loadTime time.Duration) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "inference_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "inference_request_duration_seconds",
			Help: "Time from reading the request to writing the response, by route.",
			// From a single row (tens of microseconds) to a full 6 MB batch near the 60 s limit.
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "inference_rows_predicted_total",
			Help: "Rows predicted by /invocations.",
		}),
	}
	m.reserved = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "inference_memory_reserved_bytes",
		Help: "Memory reserved by the /invocations requests in flight (an upper bound of what they use).",
	})
	m.budget = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "inference_memory_budget_bytes",
		Help: "The memory the /invocations requests in flight may reserve together.",
	})
	load := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "inference_model_load_seconds",
		Help: "Time taken to load the model at start-up.",
	})
	load.Set(loadTime.Seconds())
	modelInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inference_model_info",
		Help: "The loaded model; always 1.",
	}, []string{"format", "objective", "source", "task"})
	modelInfo.WithLabelValues(info.Format, info.Objective, info.Source, info.Task.String()).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.rows, m.reserved, m.budget, load, modelInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrument counts and times every request to h under the label route. The per-route series
// are resolved once here, not on every request.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	observe := m.duration.WithLabelValues(route)
	var byCode sync.Map // status code -> prometheus.Counter
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorderPool.Get().(*statusRecorder)
		rec.ResponseWriter, rec.status = w, 0
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
			if r.Context().Err() != nil {
				// Nothing was written because the client went away (nginx's 499): counting it
				// as a 200 would hide aborted requests among the successful ones.
				status = statusClientClosedRequest
			}
		}
		rec.ResponseWriter = nil
		recorderPool.Put(rec)
		observe.Observe(time.Since(start).Seconds())
		c, ok := byCode.Load(status)
		if !ok {
			c, _ = byCode.LoadOrStore(status, m.requests.WithLabelValues(route, strconv.Itoa(status)))
		}
		c.(prometheus.Counter).Inc()
	})
}

// statusClientClosedRequest is recorded for a request whose client went away before anything
// was written; it is nginx's code, not a standard one, and is never sent.
const statusClientClosedRequest = 499

var recorderPool = sync.Pool{New: func() any { return new(statusRecorder) }}

// statusRecorder remembers the status code a handler sent.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// countRawError counts an answer that net/http wrote itself, before routing (see rawErrorConn).
func (s *Server) countRawError(status int) {
	s.metrics.requests.WithLabelValues("unparsed", strconv.Itoa(status)).Inc()
}
