package proxy_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// BenchmarkHandleCacheHit measures a cache hit through the whole handler: event in, response and
// EMF line out. The endpoint is never called.
func BenchmarkHandleCacheHit(b *testing.B) {
	e := newEnv(b, cacheOn(), echoContainer(), nil)
	req := invocation(`{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}`, nil)
	resp, err := e.h.Handle(context.Background(), req)
	require.NoError(b, err)
	require.Equal(b, http.StatusOK, resp.StatusCode)
	e.out.buf.Reset()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, _ := e.h.Handle(ctx, req)
		if resp.Headers["X-Cache"] != "HIT" {
			b.Fatal("not a hit")
		}
		if i%1024 == 0 {
			e.out.mu.Lock()
			e.out.buf.Reset()
			e.out.mu.Unlock()
		}
	}
}

// BenchmarkHandleMissLocal is the same request with the cache off, through the real SDK clients
// to the local SageMaker fake and the real inference server: the floor of a miss, before any
// network or SageMaker overhead, for comparison with a hit.
func BenchmarkHandleMissLocal(b *testing.B) {
	m, err := model.Default()
	require.NoError(b, err)
	srv, err := server.NewServer(slog.New(slog.NewJSONHandler(io.Discard, nil)), m, server.Options{})
	require.NoError(b, err)
	e := newEnv(b, cacheOff(), srv, nil)
	req := invocation(`{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}`, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, _ := e.h.Handle(ctx, req)
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Body)
		}
		if i%1024 == 0 {
			e.out.mu.Lock()
			e.out.buf.Reset()
			e.out.mu.Unlock()
		}
	}
}
