package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/inferstack/inferstack/inference/internal/recordio"
	"github.com/inferstack/inferstack/inference/internal/recordio/recordpb"
)

// BenchmarkDecoders is each decoder alone on the same 1000 rows (iris values, 4 to 100 features), without HTTP, model or
// answer: per row, what the format costs to read.
func BenchmarkDecoders(b *testing.B) {
	for _, nf := range []int{4, 20, 100} {
		b.Run(fmt.Sprintf("%dfeatures", nf), func(b *testing.B) { benchDecoders(b, nf) })
	}
}

func benchDecoders(b *testing.B, nf int) {
	iris := []float64{5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3, 5.9, 3.0, 4.2, 1.5}
	rows := make([][]float64, 3)
	for i := range rows {
		for j := range nf {
			rows[i] = append(rows[i], iris[(i*4+j)%len(iris)])
		}
	}
	const n = 1000
	var csv, libsvm strings.Builder
	var rio []byte
	for i := range n {
		row := rows[i%len(rows)]
		f32 := make([]float32, len(row))
		libsvm.WriteString("0")
		for j, v := range row {
			if j > 0 {
				csv.WriteString(",")
			}
			fmt.Fprintf(&csv, "%v", v)
			fmt.Fprintf(&libsvm, " %d:%v", j, v)
			f32[j] = float32(v)
		}
		csv.WriteString("\n")
		libsvm.WriteString("\n")
		p, err := proto.Marshal(&recordpb.Record{Features: map[string]*recordpb.Value{"values": {Value: &recordpb.Value_Float32Tensor{Float32Tensor: &recordpb.Float32Tensor{Values: f32}}}}})
		if err != nil {
			b.Fatal(err)
		}
		rio = recordio.AppendRecord(rio, p)
	}
	var s scanner
	x := make([]float64, 0, nf*n)
	d := new(decoders)
	rd := new(bytes.Reader)
	run := func(name string, body []byte, decode func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(body)
				s.reset(rd)
				if err := decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
	run("csv", []byte(csv.String()), func() (err error) { x, _, err = decodeCSV(&s, nf, n, x[:0]); return })
	run("libsvm", []byte(libsvm.String()), func() (err error) { x, _, d.seen, err = decodeLibSVM(&s, nf, n, LibSVMIndex0, x[:0], d.seen); return })
	run("recordio-float32", rio, func() (err error) { x, _, err = decodeRecordIO(d, rd, nf, n, x[:0]); return })
}
