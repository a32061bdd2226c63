// Package server is the HTTP side of the inference container: the SageMaker contract
// (GET /ping, POST /invocations), the OpenAPI document and its offline page, and Prometheus
// metrics, for one loaded model.
package server

import (
	"log/slog"
	"math"
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
	// DefaultMaxResponseBytes is SageMaker's limit for a real-time response payload and
	// Lambda's for a synchronous response (6 MB).
	DefaultMaxResponseBytes = 6 << 20
)

// Options tunes a server. The zero value gives SageMaker's limits.
type Options struct {
	// MaxBodyBytes (optional) is the largest request body accepted; larger ones get a 413.
	// Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// PredictTimeout (optional) bounds the prediction of one request's rows; it is checked
	// between chunks of rows. Default DefaultPredictTimeout.
	PredictTimeout time.Duration
	// MaxRows (optional) is the most rows one request may hold; more get a 413 that says how
	// many fit. Default 0: only MaxResponseBytes bounds them.
	MaxRows int
	// MaxResponseBytes (optional) bounds the answer: a request with more rows than the limit
	// holds at the largest a row's answer can be in the negotiated format gets a 413 that says
	// how many rows fit, as soon as its body passes that count. Default DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MemoryBudget (optional) is the memory that the /invocations requests in flight may
	// reserve together: each reserves, before reading its body, an upper bound of what a body
	// of its length can need, and waits while the budget is taken. Default half of
	// ContainerMemoryLimit(), unbounded when no limit is known; negative means unbounded.
	MemoryBudget int64
	// ModelLoadTime (optional) is how long loading the model took, for /metrics.
	ModelLoadTime time.Duration
	// Health (optional) turns /ping to 503 once draining starts; nil means never draining.
	Health *Health
	// Compat (optional) answers as SageMaker's built-in XGBoost container does: its default
	// Accept, response shapes and selectable outputs. Nil keeps the server's own formats.
	Compat *Compat
	// LibSVMIndexBase (optional) says how text/libsvm indices name columns. Default
	// LibSVMIndexDefault: per request as SageMaker's current XGBoost container in compat mode,
	// from 0 otherwise.
	LibSVMIndexBase LibSVMIndexBase
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
	limits   rowLimits
	gate     *memoryGate
	trim     memoryTrimmer
	compat   *compatEncoder   // nil outside compat mode
	states   sync.Pool        // *requestState
	now      func() time.Time // the clock for prediction deadlines; tests replace it
}

// NewServer returns the HTTP handler for m. It fails if the response limit cannot hold one
// row's answer or the model's description cannot be rendered into the OpenAPI document.
func NewServer(log *slog.Logger, m model.Model, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.PredictTimeout <= 0 {
		opts.PredictTimeout = DefaultPredictTimeout
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.MemoryBudget == 0 {
		if limit, _ := ContainerMemoryLimit(); limit > 0 {
			opts.MemoryBudget = limit / 2
		}
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = math.MaxInt64
	}
	if opts.LibSVMIndexBase == LibSVMIndexDefault {
		opts.LibSVMIndexBase = LibSVMIndex0
		if opts.Compat != nil {
			opts.LibSVMIndexBase = LibSVMIndexAuto
		}
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
		features: newFeatureIndex(info.Features, info.Categories).withInputs(info.Inputs),
		metrics:  newMetrics(info, opts.ModelLoadTime),
		mux:      http.NewServeMux(),
		now:      time.Now,
	}
	s.states.New = func() any { return new(requestState) }
	var err error
	if opts.Compat != nil {
		c := *opts.Compat
		if err := checkCompat(&c, info); err != nil {
			return nil, err
		}
		s.opts.Compat = &c
		s.compat = &compatEncoder{objective: info.Objective, numClass: info.NumClasses, width: info.OutputWidth}
	}
	if s.limits, err = newRowLimits(s.enc, opts.MaxResponseBytes, opts.MaxRows); err != nil {
		return nil, err
	}
	s.gate = newMemoryGate(opts.MemoryBudget, s.metrics.reserved.Set)
	s.trim.gate = s.gate
	s.metrics.budget.Set(float64(opts.MemoryBudget))
	if s.openAPI, err = openAPIDocument(info, s.opts.MaxBodyBytes, s.opts.MaxResponseBytes, s.opts.Compat, s.opts.LibSVMIndexBase); err != nil {
		return nil, err
	}
	if s.docs, err = docsHTML(info, s.opts.MaxBodyBytes, s.limits, s.openAPI, s.opts.Compat, s.opts.LibSVMIndexBase); err != nil {
		return nil, err
	}
	s.registerRoutes()
	return s, nil
}

// ServeHTTP routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }
