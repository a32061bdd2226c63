//go:build onnx

package onnx_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkBatchingRatio prints the table: the same model through the server's handler,
// unbatched and batched, at 1, 8 and 32 concurrent clients of one-row JSON requests, as ratios.
// It is built to give the same answer on a loaded shared machine:
//
//   - the measure is CPU time per request (getrusage, every thread of the process, ONNX
//     Runtime's included), which other processes' load barely moves, beside wall time;
//   - unbatched and batched runs alternate (u, b, u, b, ...), so that a change in the machine's
//     load hits both alike, and each pair is repeated; the table gives the median of each and
//     the ratio of the medians, with the spread of the per-pair ratios.
//
// Run it once (it ignores b.N):
//
//	go test -tags onnx ./inference/model/onnx -run XXX -bench BatchingRatio -benchtime 1x
//
// INFERSTACK_RATIO_REPS (default 7) and INFERSTACK_RATIO_REQUESTS (default 3000 per run) tune it.
func BenchmarkBatchingRatio(b *testing.B) {
	reps, requests := envInt(b, "INFERSTACK_RATIO_REPS", 7), envInt(b, "INFERSTACK_RATIO_REQUESTS", 3000)
	const fixture = "torch_mlp_wide"
	e := readExpected(b, fixture)
	bodies := make([][]byte, len(e.Rows))
	for i, r := range e.Rows {
		bodies[i] = []byte(`{"instances":[[` + joinFloats(r) + `]]}`)
	}
	configs := []struct {
		name    string
		session map[string]any // both servers
		batch   map[string]any // the batched one's batching options
	}{
		{"spinning (ONNX Runtime's default), max_delay 0", map[string]any{}, map[string]any{"max_batch_size": 32}},
		{"intra_op_spinning: false, max_delay 0", map[string]any{"intra_op_spinning": false}, map[string]any{"max_batch_size": 32}},
		{"intra_op_spinning: false, max_delay 500µs", map[string]any{"intra_op_spinning": false},
			map[string]any{"max_batch_size": 32, "max_delay": "500us"}},
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nmodel %s, one-row JSON requests through the handler, %d requests per run, %d alternated pairs per cell;\n", fixture, requests, reps)
	fmt.Fprintf(&out, "batched: max_batch_size 32. Figures are medians; ratio = unbatched / batched (>1: batching is cheaper/faster),\n")
	fmt.Fprintf(&out, "with the lowest and highest per-pair ratio in brackets.\n\n")
	fmt.Fprintf(&out, "| session | clients | CPU µs/req unbatched | CPU µs/req batched | CPU ratio | req/s unbatched | req/s batched | throughput ratio |\n")
	fmt.Fprintf(&out, "|---|---|---|---|---|---|---|---|\n")
	for _, cfg := range configs {
		unbatched := map[string]any{"onnx": cfg.session}
		batchedOpts := map[string]any{}
		for k, v := range cfg.batch {
			batchedOpts[k] = v
		}
		for k, v := range cfg.session {
			batchedOpts[k] = v
		}
		hu := benchServer(b, fixture, unbatched)
		hb := benchServer(b, fixture, map[string]any{"onnx": batchedOpts})
		for _, clients := range []int{1, 8, 32} {
			var cpuU, cpuB, rpsU, rpsB, cpuRatio, rpsRatio []float64
			for r := 0; r < reps; r++ {
				cu, wu := drive(b, hu, bodies, clients, requests)
				cb, wb := drive(b, hb, bodies, clients, requests)
				cpuU, cpuB = append(cpuU, cu), append(cpuB, cb)
				rpsU, rpsB = append(rpsU, wu), append(rpsB, wb)
				cpuRatio, rpsRatio = append(cpuRatio, cu/cb), append(rpsRatio, wb/wu)
			}
			fmt.Fprintf(&out, "| %s | %d | %.1f | %.1f | %.2f [%.2f–%.2f] | %.0f | %.0f | %.2f [%.2f–%.2f] |\n",
				cfg.name, clients, median(cpuU), median(cpuB), median(cpuU)/median(cpuB), slices.Min(cpuRatio), slices.Max(cpuRatio),
				median(rpsU), median(rpsB), median(rpsB)/median(rpsU), slices.Min(rpsRatio), slices.Max(rpsRatio))
		}
	}
	fmt.Print(out.String()) // not b.Log, which cuts a benchmark's log short
}

// drive sends requests one-row requests from clients goroutines through h and returns the CPU
// microseconds per request and the requests per second.
func drive(b *testing.B, h http.Handler, bodies [][]byte, clients, requests int) (cpuMicros, perSecond float64) {
	b.Helper()
	var next, failed atomic.Int64
	cpu0 := cpuTime(b)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(requests) {
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
	wall := time.Since(start)
	cpu := cpuTime(b) - cpu0
	require.Zero(b, failed.Load(), "failed requests")
	return float64(cpu.Microseconds()) / float64(requests), float64(requests) / wall.Seconds()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var n int
	_, err := fmt.Sscan(v, &n)
	require.NoError(b, err, "%s=%q: want a number", name, v)
	require.Positive(b, n, "%s", name)
	return n
}
