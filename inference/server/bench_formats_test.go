package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/inference/server"
)

// zeroModel answers 0 for every row and records nothing, so that a benchmark measures the
// server's decoding and encoding rather than a model.
type zeroModel struct{ info model.Info }

var _ model.Model = zeroModel{}

func (m zeroModel) Info() model.Info { return m.info }

func (m zeroModel) Predict(x, out []float64) error {
	clear(out)
	return nil
}

var irisValues = [][]float64{{5.1, 3.5, 1.4, 0.2}, {6.7, 3.0, 5.2, 2.3}, {5.9, 3.0, 4.2, 1.5}}

// formatBodies are the same n iris rows in each input format, as its usual client writes them:
// recordio as the SageMaker SDK does (TestOurRecordsAreTheSDKs checks the bytes).
func formatBodies(t testing.TB, n int) map[string][]byte {
	var csv, libsvm, jsonl strings.Builder
	var rio32, rio64 []byte
	for i := range n {
		row := irisValues[i%len(irisValues)]
		f32 := make([]float32, len(row))
		for j, v := range row {
			sep := ","
			if j == 0 {
				sep = ""
				libsvm.WriteString("0")
				jsonl.WriteString("[")
			} else {
				jsonl.WriteString(",")
			}
			fmt.Fprintf(&csv, "%s%v", sep, v)
			fmt.Fprintf(&libsvm, " %d:%v", j, v)
			fmt.Fprintf(&jsonl, "%v", v)
			f32[j] = float32(v)
		}
		csv.WriteString("\n")
		libsvm.WriteString("\n")
		jsonl.WriteString("]\n")
		rio32 = appendRecord(t, rio32, &recordpb.Value{Value: &recordpb.Value_Float32Tensor{Float32Tensor: &recordpb.Float32Tensor{Values: f32}}})
		rio64 = appendRecord(t, rio64, &recordpb.Value{Value: &recordpb.Value_Float64Tensor{Float64Tensor: &recordpb.Float64Tensor{Values: row}}})
	}
	return map[string][]byte{
		"text/csv": []byte(csv.String()), "text/libsvm": []byte(libsvm.String()), "application/jsonlines": []byte(jsonl.String()),
		recordIOType + ";float32": rio32, recordIOType + ";float64": rio64,
	}
}

func appendRecord(t testing.TB, dst []byte, v *recordpb.Value) []byte {
	b, err := proto.Marshal(&recordpb.Record{Features: map[string]*recordpb.Value{"values": v}})
	require.NoError(t, err)
	return recordio.AppendRecord(dst, b)
}

// TestOurRecordsAreTheSDKs: the benchmark's recordio body is byte for byte what the SageMaker
// SDK's RecordSerializer wrote for the same row.
func TestOurRecordsAreTheSDKs(t *testing.T) {
	sdk, err := os.ReadFile(filepath.Join(sdkFixtures, "dense_float64_1row.rec"))
	require.NoError(t, err)
	require.Equal(t, sdk, formatBodies(t, 1)[recordIOType+";float64"])
}

var benchFormats = []string{"text/csv", "text/libsvm", recordIOType + ";float32", recordIOType + ";float64", "application/jsonlines"}

func benchServer(b *testing.B) *server.Server {
	return newServer(b, zeroModel{model.Info{Format: "fake", Source: "bench", Objective: "reg:squarederror",
		NumFeatures: 4, Task: model.Regression, OutputWidth: 1}}, server.Options{})
}

// BenchmarkInputFormats is one /invocations request per iteration in each input format, 1 and
// 1000 iris rows, with a model that does nothing: the cost of each decoder, allocations
// included. BenchmarkInputFormatsVsCSV gives the ratios.
func BenchmarkInputFormats(b *testing.B) {
	s := benchServer(b)
	for _, n := range []int{1, 1000} {
		bodies := formatBodies(b, n)
		for _, ct := range benchFormats {
			name := strings.NewReplacer("application/", "", "text/", "", "x-recordio-protobuf;", "recordio-").Replace(ct)
			b.Run(fmt.Sprintf("%s-%drows", name, n), func(b *testing.B) { benchHandler(b, s, ct, "text/csv", bodies[ct], n) })
		}
	}
}

// BenchmarkInputFormatsVsCSV sends the 1000-row body of every format once per iteration,
// interleaved, so that all see the same machine load, and reports each format's time per row
// as a ratio to CSV's (below 1 is faster than CSV).
func BenchmarkInputFormatsVsCSV(b *testing.B) {
	s := benchServer(b)
	const n = 1000
	bodies := formatBodies(b, n)
	elapsed := make([]time.Duration, len(benchFormats))
	reqs := make([]*http.Request, len(benchFormats))
	for i, ct := range benchFormats {
		reqs[i] = httptest.NewRequest(http.MethodPost, "/invocations", nil)
		reqs[i].Header.Set("Content-Type", ct)
		reqs[i].Header.Set("Accept", "text/csv")
		reqs[i].ContentLength = int64(len(bodies[ct]))
	}
	w := &discardWriter{h: http.Header{}}
	rd := new(bytes.Reader)
	for b.Loop() {
		for i, ct := range benchFormats {
			rd.Reset(bodies[ct])
			reqs[i].Body = io.NopCloser(rd)
			clear(w.h)
			w.status = 0
			start := time.Now()
			s.ServeHTTP(w, reqs[i])
			elapsed[i] += time.Since(start)
			if w.status != 0 && w.status != http.StatusOK {
				b.Fatalf("%s: status %d", ct, w.status)
			}
		}
	}
	for i, ct := range benchFormats {
		name := strings.NewReplacer("application/", "", "text/", "", "x-recordio-protobuf;", "recordio-").Replace(ct)
		b.ReportMetric(float64(elapsed[i])/float64(b.N*n), name+"-ns/row")
		if i > 0 {
			b.ReportMetric(float64(elapsed[i])/float64(elapsed[0]), name+"/csv")
		}
	}
}
