//go:build onnx

package onnx_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/model/onnx"
	"github.com/inferstack/inferstack/inference/server"
)

// BenchmarkConcurrentClients is the comparison: the same model, unbatched and with
// dynamic batching, at 1, 8 and 32 concurrent clients, each sending one-row JSON requests
// through the server's handler (decoding, prediction, encoding; no network, so that the
// model path is what differs). Run both in one go:
//
//	go test -tags onnx ./inference/model/onnx -run XXX -bench ConcurrentClients -benchtime 3s
//
// ns/op is wall time per request over all clients and req/s its inverse; cpu-ns/req is the
// process's CPU time per request, which other load on the machine disturbs less.
func BenchmarkConcurrentClients(b *testing.B) {
	for _, fixture := range []string{"torch_mlp_wide", "rf_iris"} {
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
					cpu0 := cpuTime(b)
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
					b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/req")
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

// cpuTime is the process's user and system time, every thread included (ONNX Runtime's own).
// On a machine shared with other work it is steadier than wall time: it counts only the cycles
// this process used.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

// BenchmarkConcurrentPredict is BenchmarkConcurrentClients without the HTTP handler: clients
// call the model's PredictContext with one row each, so that what batching saves in the
// runtime shows apart from the per-request cost of decoding and encoding. rows/run is the mean
// batch size the batcher reached.
func BenchmarkConcurrentPredict(b *testing.B) {
	noSpin := false
	for _, fixture := range []string{"torch_mlp_wide", "torch_mlp_iris", "rf_iris"} {
		e := readExpected(b, fixture)
		data, err := os.ReadFile(filepath.Join("testdata", fixture, "model.onnx"))
		require.NoError(b, err)
		{
			for _, clients := range []int{1, 8, 32} {
				for _, mode := range []struct {
					name string
					opts onnx.Options
				}{
					{"unbatched", onnx.Options{}},
					{"batched", onnx.Options{MaxBatchSize: 64}},
					{"batched-delay500us", onnx.Options{MaxBatchSize: 64, MaxDelay: onnx.Duration(500 * time.Microsecond)}},
					{"unbatched-nospin", onnx.Options{IntraOpSpinning: &noSpin}},
					{"batched-nospin", onnx.Options{IntraOpSpinning: &noSpin, MaxBatchSize: 64}},
					{"batched-delay500us-nospin", onnx.Options{IntraOpSpinning: &noSpin, MaxBatchSize: 64, MaxDelay: onnx.Duration(500 * time.Microsecond)}},
				} {
					name := fmt.Sprintf("%s/clients=%d/%s", fixture, clients, mode.name)
					b.Run(name, func(b *testing.B) {
						m, err := onnx.Parse(data, mode.opts)
						require.NoError(b, err)
						defer m.Close()
						width := m.OutputWidth()
						var next, failed atomic.Int64
						b.ResetTimer()
						cpu0 := cpuTime(b)
						start := time.Now()
						var wg sync.WaitGroup
						for c := 0; c < clients; c++ {
							wg.Add(1)
							go func() {
								defer wg.Done()
								out := make([]float64, width)
								for {
									i := next.Add(1) - 1
									if i >= int64(b.N) {
										return
									}
									if m.PredictContext(context.Background(), e.Rows[i%int64(len(e.Rows))], out) != nil {
										failed.Add(1)
									}
								}
							}()
						}
						wg.Wait()
						b.StopTimer()
						require.Zero(b, failed.Load(), "failed predictions")
						b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
						b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/req")
						if runs, rows := onnx.BatchStats(m); runs > 0 {
							b.ReportMetric(float64(rows)/float64(runs), "rows/run")
						}
					})
				}
			}
		}
	}
}
