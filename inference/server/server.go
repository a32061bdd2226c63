// Package server is the HTTP side of the inference container: the SageMaker contract
// (GET /ping, POST /invocations), the OpenAPI document and its offline page, and Prometheus
// metrics, for one loaded model.
package server

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferstack/inferstack/inference/model"
)

// Defaults for Options.
const (
	// DefaultMaxBodyBytes is SageMaker's limit for a synchronous invocation payload.
	DefaultMaxBodyBytes = 6 << 20
	// DefaultPredictTimeout is SageMaker's limit for a synchronous invocation.
	DefaultPredictTimeout = 60 * time.Second
)

// Options tunes a server. The zero value gives SageMaker's limits.
type Options struct {
	// MaxBodyBytes (optional) is the largest request body accepted; larger ones get a 413.
	// Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// PredictTimeout (optional) bounds the prediction of one request's rows; it is checked
	// between chunks of rows. Default DefaultPredictTimeout.
	PredictTimeout time.Duration
	// ModelLoadTime (optional) is how long loading the model took, for /metrics.
	ModelLoadTime time.Duration
	// Health (optional) turns /ping to 503 once draining starts; nil means never draining.
	Health *Health
}

// Health is the readiness that /ping reports.
type Health struct{ draining atomic.Bool }

// Drain makes /ping answer 503 from now on, so that a load balancer stops sending requests.
// It does nothing on a nil Health.
func (h *Health) Drain() {
	if h != nil {
		h.draining.Store(true)
	}
}

// Draining reports whether Drain was called.
func (h *Health) Draining() bool { return h != nil && h.draining.Load() }

// Server serves one model. Build it with NewServer.
type Server struct {
	log      *slog.Logger
	model    model.Model
	info     model.Info
	opts     Options
	enc      *predictionEncoder
	features *featureIndex
	metrics  *metrics
	openAPI  []byte
	docs     []byte
	mux      *http.ServeMux
	states   sync.Pool        // *requestState
	now      func() time.Time // the clock for prediction deadlines; tests replace it
}

// NewServer returns the HTTP handler for m. It fails only if the model's description cannot be
// rendered into the OpenAPI document.
func NewServer(log *slog.Logger, m model.Model, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.PredictTimeout <= 0 {
		opts.PredictTimeout = DefaultPredictTimeout
	}
	info := m.Info()
	if info.OutputWidth < 1 {
		info.OutputWidth = 1
	}
	s := &Server{
		log:      log,
		model:    m,
		info:     info,
		opts:     opts,
		enc:      newPredictionEncoder(info),
		features: newFeatureIndex(info.Features, info.Categories),
		metrics:  newMetrics(info, opts.ModelLoadTime),
		mux:      http.NewServeMux(),
		now:      time.Now,
	}
	s.states.New = func() any { return new(requestState) }
	var err error
	if s.openAPI, err = openAPIDocument(info, opts.MaxBodyBytes); err != nil {
		return nil, err
	}
	if s.docs, err = docsHTML(info, opts.MaxBodyBytes, s.openAPI); err != nil {
		return nil, err
	}
	s.registerRoutes()
	return s, nil
}

// ServeHTTP routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }
