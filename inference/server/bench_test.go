package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// discardWriter is a ResponseWriter that keeps nothing, so that handler benchmarks measure
// the server's work and not a recorder's.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

func defaultModel(b *testing.B) model.Model {
	b.Helper()
	m, err := model.Default()
	require.NoError(b, err)
	return m
}

// benchHandler runs one /invocations request per iteration straight through the handler
// (routing, metrics, decoding, prediction, encoding), reusing the request and writer.
func benchHandler(b *testing.B, h http.Handler, contentType, accept string, body []byte, rows int) {
	b.Helper()
	r := httptest.NewRequest(http.MethodPost, "/invocations", nil)
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Accept", accept)
	r.ContentLength = int64(len(body))
	rd := bytes.NewReader(body)
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, r)
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func irisRows(n int, csv bool) []byte {
	rows := [][]string{{"5.1", "3.5", "1.4", "0.2"}, {"6.7", "3.0", "5.2", "2.3"}, {"5.9", "3.0", "4.2", "1.5"}}
	var b strings.Builder
	if !csv {
		b.WriteString(`{"instances":[`)
	}
	for i := range n {
		row := rows[i%len(rows)]
		if csv {
			b.WriteString(strings.Join(row, ",") + "\n")
			continue
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[" + strings.Join(row, ",") + "]")
	}
	if !csv {
		b.WriteString("]}")
	}
	return []byte(b.String())
}

// BenchmarkInvocations measures the server's own work per request with the embedded iris
// model: no network, so it is what the server adds on top of net/http.
func BenchmarkInvocations(b *testing.B) {
	s := newServer(b, defaultModel(b), server.Options{})
	for _, tc := range []struct {
		name, contentType, accept string
		rows                      int
	}{
		{"json-1row", "application/json", "application/json", 1},
		{"json-named-1row", "application/json", "application/json", 1},
		{"csv-1row", "text/csv", "text/csv", 1},
		{"json-1000rows", "application/json", "application/json", 1000},
		{"csv-1000rows", "text/csv", "text/csv", 1000},
	} {
		body := irisRows(tc.rows, tc.contentType == "text/csv")
		if tc.name == "json-named-1row" {
			body = []byte(`{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}`)
		}
		b.Run(tc.name, func(b *testing.B) { benchHandler(b, s, tc.contentType, tc.accept, body, tc.rows) })
	}
}

// BenchmarkRoundTripVsNoop measures, interleaved in one loop so that both see the same machine
// load, a loopback keep-alive request to a no-op net/http handler (net/http's own per-request
// cost, client included), a single-row JSON /invocations request the same way, and the same
// request straight through the handler (the server's own work). server-work-ratio is
// handler / noop: the part of a request's cost that is ours. extra-ratio is
// (invocations - noop) / noop over the network; it also counts writing and reading the
// ~150-byte response body that the no-op handler does not send, and is noisier.
func BenchmarkRoundTripVsNoop(b *testing.B) {
	noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer noop.Close()
	inf := httptest.NewServer(newServer(b, defaultModel(b), server.Options{}))
	defer inf.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	body := irisRows(1, false)
	send := func(url string) time.Duration {
		start := time.Now()
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", url, resp.Status)
		}
		return time.Since(start)
	}
	send(noop.URL) // open both connections before timing
	send(inf.URL + "/invocations")
	h := inf.Config.Handler
	r := httptest.NewRequest(http.MethodPost, "/invocations", nil)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = int64(len(body))
	rd := bytes.NewReader(body)
	w := &discardWriter{h: http.Header{}}
	var noopTime, infTime, handlerTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		noopTime += send(noop.URL)
		infTime += send(inf.URL + "/invocations")
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		clear(w.h)
		start := time.Now()
		h.ServeHTTP(w, r)
		handlerTime += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(noopTime.Nanoseconds())/n, "noop-ns/req")
	b.ReportMetric(float64(infTime.Nanoseconds())/n, "invocations-ns/req")
	b.ReportMetric(float64(handlerTime.Nanoseconds())/n, "handler-ns/req")
	b.ReportMetric(float64(handlerTime)/float64(noopTime), "server-work-ratio")
	b.ReportMetric(float64(infTime-noopTime)/float64(noopTime), "extra-ratio")
}

// forestModel writes a binary:logistic XGBoost JSON model of trees full trees of the given
// depth over nf features (random splits and default directions) to a directory and loads it
// the way the server does: the reference size is 100 trees of depth 6.
func forestModel(tb testing.TB, trees, depth, nf int) model.Model {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	jsonTrees := make([]map[string]any, trees)
	for t := range jsonTrees {
		n := 1<<(depth+1) - 1
		left, right, split, dl := make([]int, n), make([]int, n), make([]int, n), make([]int, n)
		cond := make([]float32, n)
		for i := range n {
			if i >= n/2 { // the last level holds the leaves
				left[i], right[i], cond[i] = -1, -1, float32(rng.NormFloat64()*0.1)
				continue
			}
			left[i], right[i], split[i], dl[i] = 2*i+1, 2*i+2, rng.IntN(nf), rng.IntN(2)
			cond[i] = float32(rng.NormFloat64())
		}
		jsonTrees[t] = map[string]any{
			"id": t, "left_children": left, "right_children": right, "split_indices": split,
			"split_conditions": cond, "default_left": dl, "split_type": make([]int, n), "categories_nodes": []int{},
			"tree_param": map[string]string{"num_nodes": strconv.Itoa(n), "num_feature": strconv.Itoa(nf), "size_leaf_vector": "0"},
		}
	}
	doc := map[string]any{"learner": map[string]any{
		"learner_model_param": map[string]string{"base_score": "5E-1", "num_class": "0", "num_feature": strconv.Itoa(nf), "num_target": "1"},
		"objective":           map[string]any{"name": "binary:logistic"},
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"gbtree_model_param": map[string]string{"num_trees": strconv.Itoa(trees), "size_leaf_vector": "0"},
			"tree_info":          make([]int, trees), "trees": jsonTrees,
		}},
	}}
	data, err := json.Marshal(doc)
	require.NoError(tb, err)
	dir := tb.TempDir()
	require.NoError(tb, os.WriteFile(filepath.Join(dir, "model.json"), data, 0o644))
	m, err := model.Load(dir)
	require.NoError(tb, err)
	return m
}

// BenchmarkInvocationsForest is the whole request path for 1000-row CSV batches against a
// 100-tree depth-6 model over 20 features, 5% of values missing.
func BenchmarkInvocationsForest(b *testing.B) {
	const nf, rows = 20, 1000
	s := newServer(b, forestModel(b, 100, 6, nf), server.Options{})
	rng := rand.New(rand.NewPCG(3, 4))
	var body strings.Builder
	for range rows {
		for j := range nf {
			if j > 0 {
				body.WriteByte(',')
			}
			if rng.Float64() >= 0.05 {
				body.WriteString(strconv.FormatFloat(rng.NormFloat64(), 'g', 6, 64))
			}
		}
		body.WriteByte('\n')
	}
	for _, accept := range []string{"text/csv", "application/json"} {
		b.Run("csv-1000rows-to-"+strings.TrimPrefix(strings.TrimPrefix(accept, "text/"), "application/"), func(b *testing.B) {
			benchHandler(b, s, "text/csv", accept, []byte(body.String()), rows)
		})
	}
}

// TestBenchmarkBodiesAreAccepted keeps the benchmarks honest: their bodies are valid requests
// that predict every row.
func TestBenchmarkBodiesAreAccepted(t *testing.T) {
	m, err := model.Default()
	require.NoError(t, err)
	s := newServer(t, m, server.Options{})
	for _, csv := range []bool{false, true} {
		ct := "application/json"
		if csv {
			ct = "text/csv"
		}
		w := request(s, http.MethodPost, "/invocations", ct, ct, string(irisRows(1000, csv)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		if csv {
			require.Equal(t, 1000, strings.Count(w.Body.String(), "\n"), "one CSV line per row")
		}
	}
}
