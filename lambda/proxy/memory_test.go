package proxy_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxy"
)

func TestMemoryLimitLeavesRoomBelowTheFunctionMemory(t *testing.T) {
	for _, mb := range []int64{128, 256, 1024, 10240} {
		t.Run(fmt.Sprint(mb), func(t *testing.T) {
			limit, ok := proxy.MemoryLimit(getenvMap(map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": fmt.Sprint(mb)}))
			require.True(t, ok)
			assert.Less(t, limit, mb<<20)
			assert.GreaterOrEqual(t, mb<<20-limit, int64(32<<20), "room for the binary and the kernel")
			assert.GreaterOrEqual(t, limit, (mb<<20)*3/4, "most of the memory is the heap's")
			assert.LessOrEqual(t, mb<<20-limit, int64(256<<20), "a large function keeps most of its memory for the heap")
		})
	}
	for name, env := range map[string]map[string]string{
		"unset":             {},
		"not a number":      {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"},
		"GOMEMLIMIT is set": {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "GOMEMLIMIT": "100MiB"},
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := proxy.MemoryLimit(getenvMap(env))
			assert.False(t, ok)
		})
	}
}

func getenvMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// heapInUse is the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestCacheAccountsWhatEntriesCost: the byte bound holds for the memory the entries really take,
// measured by the Go runtime, for many tiny answers (where the bookkeeping dominates) and for a
// few large ones.
func TestCacheAccountsWhatEntriesCost(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		body  int
		ctype string
	}{
		{"tiny answers", 20000, 8, "application/json"},
		{"large answers", 12, 1 << 20, "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := proxy.NewCache(time.Hour, tc.n, 1<<40, nil)
			filler := strings.Repeat("v", tc.body-8)
			before := heapInUse()
			for i := range tc.n {
				// Each body is built as the handler builds it: a fresh string from the answer.
				body := fmt.Sprintf("%08d", i) + filler
				c.Put(key(i), proxy.CachedResponse{ContentType: strings.Clone(tc.ctype), Body: body})
			}
			used := heapInUse() - before
			require.Equal(t, tc.n, c.Len())
			t.Logf("%d entries: %d bytes in use, %d accounted (%.0f and %.0f per entry)",
				tc.n, used, c.Bytes(), float64(used)/float64(tc.n), float64(c.Bytes())/float64(tc.n))
			assert.GreaterOrEqual(t, c.Bytes(), used, "the accounted size covers the real cost")
			runtime.KeepAlive(c)
		})
	}
}
