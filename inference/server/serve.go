package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ServeConfig holds the HTTP server's timeouts and its shutdown schedule.
type ServeConfig struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // the whole request, body included
	WriteTimeout      time.Duration // from the end of the headers to the end of the response
	IdleTimeout       time.Duration // a kept-alive connection between requests
	// DrainDelay is how long the server goes on accepting and serving after shutdown starts,
	// with /ping answering 503 and every response saying Connection: close, so that health
	// checks see the server leave and kept-alive clients move off before it refuses connections.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests; connections still busy after it
	// are closed.
	ShutdownTimeout time.Duration
}

// DefaultServeConfig fits SageMaker: a request may predict for predictTimeout, and the process
// must be gone 30 s after SIGTERM, so draining and shutdown together take at most 22 s.
func DefaultServeConfig(predictTimeout time.Duration) ServeConfig {
	return ServeConfig{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30*time.Second + predictTimeout,
		IdleTimeout:       120 * time.Second,
		DrainDelay:        2 * time.Second,
		ShutdownTimeout:   20 * time.Second,
	}
}

// acceptQuiet is how long the accept queue must stay empty, once new connection requests are
// refused, before the listener is closed: far above a handshake's round trip inside a region.
const acceptQuiet = 50 * time.Millisecond

// Serve serves h on ln until ctx is done, then shuts down without losing a request:
//
//  1. /ping answers 503 (health) and every response says Connection: close, so that each
//     kept-alive client is told on its next answer to open a new connection, while the server
//     goes on accepting and serving as usual for DrainDelay. Idle connections are left open:
//     closing one races with a request the client may be sending on it.
//  2. New connection requests are refused at the socket (Linux; see refuseNewConnections) and
//     the connections already queued are accepted and served, until the queue stays empty.
//  3. Shutdown closes the listener and the idle connections and waits for in-flight requests
//     (up to ShutdownTimeout).
//
// It returns nil after a clean shutdown. Requests do not inherit ctx, so cancelling it never
// cancels a request in flight.
func Serve(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler, health *Health, cfg ServeConfig) error {
	var draining atomic.Bool
	dl := newDrainListener(ln, acceptQuiet)
	if c, ok := h.(interface{ countRawError(status int) }); ok {
		dl.rawError = c.countRawError
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				// net/http closes the connection after this response, and the client's
				// transport will not reuse it (RFC 9112 §9.6).
				w.Header()["Connection"] = connectionClose
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(dl) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	log.Info("shutting down", slog.String("drain_delay", cfg.DrainDelay.String()), slog.String("shutdown_timeout", cfg.ShutdownTimeout.String()))
	health.Drain()
	draining.Store(true)
	if cfg.DrainDelay > 0 {
		t := time.NewTimer(cfg.DrainDelay)
		select {
		case <-t.C:
		case err := <-served:
			t.Stop()
			return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if refused, err := dl.stopAccepting(min(time.Second, cfg.ShutdownTimeout/2)); !refused && err != nil {
		log.Warn("new connections cannot be refused before the listener closes; a connection that arrives as it closes is reset",
			slog.String("error", err.Error()))
	}
	err := srv.Shutdown(sctx)
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", ln.Addr(), serveErr)
	}
	if err != nil {
		closeErr := srv.Close()
		return errors.Join(fmt.Errorf("in-flight requests did not finish within %s; their connections were closed: %w", cfg.ShutdownTimeout, err), closeErr)
	}
	log.Info("stopped")
	return nil
}

var connectionClose = []string{"close"}
