package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferstack/inferstack/inference/model"
)

// maxFloatLen is the longest number appendJSONFloat and appendCSV write: strconv's shortest
// 'g' form has at most 17 significant digits, so -d.dddddddddddddddde-308 (24 bytes) is the
// longest; fixed notation is used only for exponents -4..20 and is shorter.
const maxFloatLen = len("-2.2250738585072014e-308")

// Response framing that appendJSON writes around the rows.
const (
	jsonHead = `{"predictions":[`
	jsonTail = "]}\n"
)

// maxRowBytes is the most bytes one row's answer takes in format f, separator included: the
// bound against which a request's rows are checked before anything is predicted.
func (e *predictionEncoder) maxRowBytes(f format) int {
	if f == formatCSV {
		return e.width * (maxFloatLen + 1) // a comma or the newline after each value
	}
	label := func(classes int) int { // the longest label of class indices 0..classes-1
		n := 0
		for i := range classes {
			l := len(strconv.Itoa(i))
			if i < len(e.labels) {
				l = len(e.labels[i])
			}
			n = max(n, l)
		}
		return n
	}
	const comma = 1
	switch e.task {
	case model.Binary:
		return len(`{"label":`) + label(2) + len(`,"probability":`) + maxFloatLen + len(`}`) + comma
	case model.MultiProba:
		return len(`{"label":`) + label(e.width) + len(`,"probabilities":[`) + e.width*(maxFloatLen+1) - 1 + len(`]}`) + comma
	case model.MultiClass: // the label is the model's number itself when it is no class index
		return len(`{"label":`) + max(label(len(e.labels)), maxFloatLen) + len(`}`) + comma
	}
	return len(`{"value":`) + maxFloatLen + len(`}`) + comma
}

// rowLimits are the most rows a request may hold for each response format, and why.
type rowLimits struct {
	rows      [2]int // by format
	byMaxRows [2]bool
	rowBytes  [2]int // maxRowBytes, worked out once
}

func newRowLimits(enc *predictionEncoder, maxResponse int64, maxRows int) (rowLimits, error) {
	var l rowLimits
	for _, f := range []format{formatJSON, formatCSV} {
		overhead := int64(0)
		if f == formatJSON {
			overhead = int64(len(jsonHead) + len(jsonTail))
		}
		l.rowBytes[f] = enc.maxRowBytes(f)
		fit := (maxResponse - overhead) / int64(l.rowBytes[f])
		if fit < 1 {
			return l, fmt.Errorf("a response limit of %d bytes cannot hold one row's %s answer (up to %d bytes)",
				maxResponse, f, overhead+int64(enc.maxRowBytes(f)))
		}
		l.rows[f] = int(min(fit, math.MaxInt32))
		if maxRows > 0 && maxRows < l.rows[f] {
			l.rows[f], l.byMaxRows[f] = maxRows, true
		}
	}
	return l, nil
}

// errTooManyRows is what the decoders return once a body holds more rows than allowed;
// the handler turns it into tooManyRows.
var errTooManyRows = errors.New("too many rows")

func (s *Server) tooManyRows(f format) *Error {
	n := s.limits.rows[f]
	if s.limits.byMaxRows[f] {
		return errorf(http.StatusRequestEntityTooLarge, CodeTooManyRows,
			"the request has more than %d rows, this server's limit per request; send at most %d rows per request", n, n)
	}
	msg := fmt.Sprintf("the request has more than %d rows, the most whose %s answer is sure to fit in the %d-byte response limit; send at most %d rows per request",
		n, f, s.opts.MaxResponseBytes, n)
	if other := 1 - f; s.limits.rows[other] > n {
		msg += fmt.Sprintf(" (%d with Accept: %s)", s.limits.rows[other], other)
	}
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooManyRows, Message: msg}
}

// reservation is an upper bound of the memory one /invocations request can need, from what is
// known before its body is read: the body's length (the limit when it is streamed or
// compressed), the row limit and the model's shape. Decoded values take 8 bytes each, and a
// value takes at least one body byte (an empty CSV field and its comma); slices grow by
// doubling, so they count twice; a CSV line or a token longer than the scan buffer grows it to
// the body's size.
func (s *Server) reservation(contentLength int64, in inputFormat, f format, compressed bool) int64 {
	body := s.opts.MaxBodyBytes
	if contentLength >= 0 && !compressed {
		body = min(body, contentLength)
	}
	nf, width := int64(max(s.info.NumFeatures, 1)), int64(s.info.OutputWidth)
	rows, values := in.bound(body, nf, int64(s.limits.rows[f]))
	resp := min(s.opts.MaxResponseBytes, int64(len(jsonHead)+len(jsonTail))+rows*int64(s.limits.rowBytes[f]))
	n := 16*values + 8*rows*width + resp + 2*body + scanBufSize
	if compressed {
		n += gzipStateBytes
	}
	return n
}

// gzipStateBytes is about what a gzip reader holds: flate's 32 KiB window and its tables.
const gzipStateBytes = 64 << 10

// memoryGate bounds the memory that requests in flight reserve together. Large requests are
// let in first come, first served, so that none is starved; a small one (up to smallRequest,
// which is what most requests are) goes past waiting large ones when it fits, so that one large
// batch waiting does not hold up single rows. One that needs more than the whole budget waits
// until it has the budget to itself. The fast path, with room to spare, is one mutex.
type memoryGate struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters []*gateWaiter
	gauge   func(float64) // reports used, for /metrics
}

// smallRequest is the largest reservation that may go past waiting ones.
const smallRequest = 1 << 20

type gateWaiter struct {
	n     int64
	ready chan struct{}
}

func newMemoryGate(size int64, gauge func(float64)) *memoryGate {
	return &memoryGate{size: size, gauge: gauge}
}

// acquire reserves n bytes (at most the whole budget) and returns what it reserved, waiting
// while others hold the memory; it gives up when ctx ends.
func (g *memoryGate) acquire(ctx context.Context, n int64) (int64, error) {
	n = min(n, g.size)
	g.mu.Lock()
	if (len(g.waiters) == 0 || n <= smallRequest) && g.used+n <= g.size {
		g.used += n
		g.gauge(float64(g.used))
		g.mu.Unlock()
		return n, nil
	}
	w := &gateWaiter{n: n, ready: make(chan struct{})}
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		for i, o := range g.waiters {
			if o == w {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				g.grant() // those behind it may fit now
				return 0, ctx.Err()
			}
		}
		// Granted as the context ended: give it back.
		g.used -= n
		g.grant()
		g.gauge(float64(g.used))
		return 0, ctx.Err()
	}
}

func (g *memoryGate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	g.grant()
	g.gauge(float64(g.used))
	g.mu.Unlock()
}

// grant lets in waiters in order while the first of them fits; g.mu is held.
func (g *memoryGate) grant() {
	for len(g.waiters) > 0 && g.used+g.waiters[0].n <= g.size {
		w := g.waiters[0]
		g.waiters = g.waiters[1:]
		g.used += w.n
		close(w.ready)
	}
}

func (g *memoryGate) inUse() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// Large batches leave their memory to the Go heap, which returns it to the system only slowly
// and an idle server never collects: after one (a request whose buffers grew to
// largeBatchBytes), once the burst it belongs to is over, the server collects and returns the
// memory itself, at most once every trimInterval.
const (
	largeBatchBytes = 4 << 20
	trimDelay       = 250 * time.Millisecond
	trimInterval    = 2 * time.Second
)

type memoryTrimmer struct {
	pending atomic.Bool
	last    atomic.Int64 // unix nanoseconds of the last trim
	gate    *memoryGate
}

func (t *memoryTrimmer) afterLargeBatch() {
	if !t.pending.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer t.pending.Store(false)
		time.Sleep(max(trimDelay, time.Until(time.Unix(0, t.last.Load()).Add(trimInterval))))
		if t.gate.inUse() >= largeBatchBytes {
			return // still busy with large requests: the one that ends last trims
		}
		debug.FreeOSMemory()
		t.last.Store(time.Now().UnixNano())
	}()
}

// ContainerMemoryLimit returns the memory the process may use and where that figure comes
// from: the smallest of the Go runtime's soft limit (GOMEMLIMIT or debug.SetMemoryLimit), the
// cgroup's limit (v2 memory.max, v1 memory.limit_in_bytes) and the machine's memory
// (/proc/meminfo MemTotal), or 0 and "" when none is known.
func ContainerMemoryLimit() (int64, string) {
	return memoryLimit("/", debug.SetMemoryLimit(-1))
}

func memoryLimit(root string, goLimit int64) (int64, string) {
	limit, from := int64(0), ""
	consider := func(n int64, what string) {
		// Unlimited cgroups report "max" (v2) or a page-rounded near-MaxInt64 (v1).
		if n > 0 && n < 1<<60 && (limit == 0 || n < limit) {
			limit, from = n, what
		}
	}
	if goLimit != math.MaxInt64 {
		consider(goLimit, "GOMEMLIMIT")
	}
	read := func(path string) string {
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if n, err := strconv.ParseInt(read("sys/fs/cgroup/memory.max"), 10, 64); err == nil {
		consider(n, "cgroup memory.max")
	}
	if n, err := strconv.ParseInt(read("sys/fs/cgroup/memory/memory.limit_in_bytes"), 10, 64); err == nil {
		consider(n, "cgroup memory.limit_in_bytes")
	}
	for line := range strings.SplitSeq(read("proc/meminfo"), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				consider(kb<<10, "/proc/meminfo MemTotal")
			}
		}
	}
	return limit, from
}
