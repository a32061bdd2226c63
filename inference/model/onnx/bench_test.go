//go:build onnx

package onnx_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// BenchmarkConcurrentClients is the comparison: the same model, unbatched and with
// dynamic batching, at 1, 8 and 32 concurrent clients, each sending one-row JSON requests
// through the server's handler (decoding, prediction, encoding; no network, so that the
// model path is what differs). Run both in one go:
//
//	go test -tags onnx ./inference/model/onnx -run XXX -bench ConcurrentClients -benchtime 3s
//
// ns/op is wall time per request over all clients; req/s is its inverse.
func BenchmarkConcurrentClients(b *testing.B) {
	for _, fixture := range []string{"torch_mlp_iris", "rf_iris"} {
		e := readExpected(b, fixture)
		for _, clients := range []int{1, 8, 32} {
			for _, mode := range []struct {
				name     string
				manifest map[string]any
			}{
				{"unbatched", nil},
				{"batched", map[string]any{"onnx": map[string]any{"max_batch_size": 64}}},
			} {
				b.Run(fixture+"/clients="+strconv.Itoa(clients)+"/"+mode.name, func(b *testing.B) {
					h := benchServer(b, fixture, mode.manifest)
					bodies := make([][]byte, len(e.Rows))
					for i, r := range e.Rows {
						bodies[i] = []byte(`{"instances":[[` + joinFloats(r) + `]]}`)
					}
					var next atomic.Int64
					var failed atomic.Int64
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for c := 0; c < clients; c++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for {
								i := next.Add(1) - 1
								if i >= int64(b.N) {
									return
								}
								req := httptest.NewRequest(http.MethodPost, "/invocations", bytes.NewReader(bodies[i%int64(len(bodies))]))
								req.Header.Set("Content-Type", "application/json")
								w := httptest.NewRecorder()
								h.ServeHTTP(w, req)
								if w.Code != http.StatusOK {
									failed.Add(1)
								}
							}
						}()
					}
					wg.Wait()
					b.StopTimer()
					require.Zero(b, failed.Load(), "failed requests")
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
				})
			}
		}
	}
}

func benchServer(b *testing.B, fixture string, manifest map[string]any) http.Handler {
	b.Helper()
	dir := filepath.Join("testdata", fixture)
	if manifest != nil {
		dir = withManifest(b, fixture, manifest)
	}
	m, err := model.Load(dir)
	require.NoError(b, err)
	srv, err := server.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)), m, server.Options{})
	require.NoError(b, err)
	return srv
}

func joinFloats(r []float64) string {
	var b []byte
	for i, v := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return string(b)
}
