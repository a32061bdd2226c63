package server

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
)

// TestMaxFloatLenBoundsStrconv checks the 24-byte bound on what the encoders write for one
// value, on the longest forms (17 digits, three-digit exponents, fixed notation near its edges)
// and on random float64s and float32s.
func TestMaxFloatLenBoundsStrconv(t *testing.T) {
	longest := "-2.2250738585072014e-308" // the smallest normal float64, negated
	v, err := strconv.ParseFloat(longest, 64)
	require.NoError(t, err)
	assert.Equal(t, longest, string(appendJSONFloat(nil, v)), "it is written in full")
	assert.Len(t, longest, maxFloatLen)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float64frombits(rng.Uint64())
		for _, x := range []float64{f, float64(float32(f)), -rng.Float64() * 1e-4, -rng.Float64() * 1e21} {
			require.LessOrEqual(t, len(appendJSONFloat(nil, x)), maxFloatLen, "%v", x)
		}
	}
}

// TestMaxRowBytesIsTheLongestAnswer encodes, for every task, one row with the longest values
// and label there are and checks that the bound is exactly its size.
func TestMaxRowBytesIsTheLongestAnswer(t *testing.T) {
	worst := -2.2250738585072014e-308
	tests := []struct {
		name    string
		info    model.Info
		out     []float64 // the longest answer's outputs
		csvSame bool
	}{
		{"regression", model.Info{Task: model.Regression, OutputWidth: 1}, []float64{worst}, true},
		{"binary, long positive label", model.Info{Task: model.Binary, NumClasses: 2, OutputWidth: 1, Classes: []string{"no", "a \"quoted\" yes"}},
			[]float64{1 - 1e-16}, false}, // 0.9999999999999999 is shorter than worst; JSON bound is still an upper bound
		{"softprob, label index", model.Info{Task: model.MultiProba, NumClasses: 12, OutputWidth: 12},
			// -2.2250738585072024e-308 is as long and smaller, so class 11 (two digits) wins.
			append(slices.Repeat([]float64{-2.2250738585072024e-308}, 11), worst), true},
		{"softmax, label not a class", model.Info{Task: model.MultiClass, NumClasses: 3, OutputWidth: 1, Classes: []string{"a", "b", "c"}},
			[]float64{worst}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPredictionEncoder(tc.info)
			for i := range tc.out {
				if tc.out[i] == 0 {
					tc.out[i] = worst
				}
			}
			js := e.appendJSON(nil, tc.out, 1)
			framing := len(jsonHead) + len(jsonTail)
			if tc.info.Task == model.Binary {
				assert.LessOrEqual(t, len(js)-framing, e.maxRowBytes(formatJSON)-1)
			} else {
				assert.Equal(t, len(js)-framing, e.maxRowBytes(formatJSON)-1, "%s", js) // the last row has no comma
			}
			csv := appendCSV(nil, tc.out, tc.info.OutputWidth)
			if tc.csvSame {
				assert.Equal(t, len(csv), e.maxRowBytes(formatCSV), "%s", csv)
			}
		})
	}
}

func TestMemoryGate(t *testing.T) {
	var gauge float64
	g := newMemoryGate(3*smallRequest, func(v float64) { gauge = v })
	const mb = smallRequest
	ctx := context.Background()
	a, err := g.acquire(ctx, 2*mb)
	require.NoError(t, err)
	assert.EqualValues(t, 2*mb, a)
	assert.EqualValues(t, 2*mb, gauge)

	second := make(chan int64)
	go func() { n, _ := g.acquire(ctx, 2*mb); second <- n }()
	select {
	case <-second:
		t.Fatal("the second request got memory that the first holds")
	case <-time.After(50 * time.Millisecond):
	}
	// A large request behind a waiting one waits its turn, so that none is starved...
	third := make(chan int64)
	go func() { n, _ := g.acquire(ctx, mb+1); third <- n }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-third:
		t.Fatal("a large request went past a waiting one")
	default:
	}
	// ...a small one that fits goes past.
	small, err := g.acquire(ctx, mb)
	require.NoError(t, err)
	g.release(small)

	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = g.acquire(cctx, 100*mb) // more than the budget: waits for all of it, gives up with its context
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	g.release(a)
	assert.EqualValues(t, 2*mb, <-second)
	select {
	case <-third:
		t.Fatal("the third got memory the second holds")
	case <-time.After(20 * time.Millisecond):
	}
	g.release(2 * mb)
	assert.EqualValues(t, mb+1, <-third)
	g.release(mb + 1)
	assert.Zero(t, g.inUse())
	assert.Zero(t, gauge)
}

func TestMemoryLimit(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		root := t.TempDir()
		for name, body := range files {
			p := filepath.Join(root, name)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		}
		return root
	}
	meminfo := "MemTotal:        2048000 kB\nMemFree:          100000 kB\n"
	tests := []struct {
		name    string
		files   map[string]string
		goLimit int64
		want    int64
		from    string
	}{
		{"cgroup v2", map[string]string{"sys/fs/cgroup/memory.max": "536870912\n", "proc/meminfo": meminfo}, math.MaxInt64, 512 << 20, "cgroup memory.max"},
		{"cgroup v2 unlimited", map[string]string{"sys/fs/cgroup/memory.max": "max\n", "proc/meminfo": meminfo}, math.MaxInt64, 2048000 << 10, "/proc/meminfo MemTotal"},
		{"cgroup v1 unlimited", map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n", "proc/meminfo": meminfo}, math.MaxInt64, 2048000 << 10, "/proc/meminfo MemTotal"},
		{"cgroup v1", map[string]string{"sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n"}, math.MaxInt64, 1 << 30, "cgroup memory.limit_in_bytes"},
		{"GOMEMLIMIT below the cgroup", map[string]string{"sys/fs/cgroup/memory.max": "536870912\n"}, 300 << 20, 300 << 20, "GOMEMLIMIT"},
		{"nothing known", nil, math.MaxInt64, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, from := memoryLimit(write(t, tc.files), tc.goLimit)
			assert.Equal(t, tc.want, n)
			assert.Equal(t, tc.from, from)
		})
	}
}

// TestPooledStateDropsLargeBuffers checks that what a large batch grew is not kept for the
// next request: a pooled buffer lives across garbage collections.
func TestPooledStateDropsLargeBuffers(t *testing.T) {
	st := &requestState{
		x: make([]float64, 4<<20), out: make([]float64, 1<<20), resp: make([]byte, 34<<20), seen: make([]bool, 1<<20),
		scan: scanner{buf: make([]byte, 6<<20), tok: make([]byte, 6<<20)},
	}
	st.dropLarge()
	assert.Nil(t, st.x)
	assert.Nil(t, st.out)
	assert.Nil(t, st.resp)
	assert.Nil(t, st.seen)
	assert.Nil(t, st.scan.buf)
	assert.Nil(t, st.scan.tok)

	small := &requestState{x: make([]float64, 1024), resp: make([]byte, 4096), scan: scanner{buf: make([]byte, scanBufSize)}}
	small.dropLarge()
	assert.Equal(t, 1024, cap(small.x), "small buffers are what pooling is for")
	assert.Equal(t, scanBufSize, cap(small.scan.buf))
}
