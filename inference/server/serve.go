package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeConfig holds the HTTP server's timeouts and its shutdown schedule.
type ServeConfig struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration // the whole request, body included
	WriteTimeout      time.Duration // from the end of the headers to the end of the response
	IdleTimeout       time.Duration // a kept-alive connection between requests
	// DrainDelay is how long the listener stays open after shutdown starts, with /ping
	// answering 503, so that health checks see the server leave before it refuses connections.
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

// Serve serves h on ln until ctx is done, then shuts down gracefully: health turns /ping to
// 503, the listener stays open for DrainDelay, then no new connections are accepted and
// in-flight requests finish (up to ShutdownTimeout). It returns nil after a clean shutdown.
// Requests do not inherit ctx, so cancelling it never cancels a request in flight.
func Serve(ctx context.Context, log *slog.Logger, ln net.Listener, h http.Handler, health *Health, cfg ServeConfig) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	log.Info("shutting down", slog.String("drain_delay", cfg.DrainDelay.String()), slog.String("shutdown_timeout", cfg.ShutdownTimeout.String()))
	health.Drain()
	// From now on every response says Connection: close, so that no client is still reusing a
	// kept-alive connection when Shutdown closes the idle ones (a POST sent on a connection
	// as it closes would be lost, and clients do not retry a POST).
	srv.SetKeepAlivesEnabled(false)
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
