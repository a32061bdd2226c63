package proxy

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/inferstack/inferstack/internal/contract"
)

// The metrics contract with the Monitoring component (internal/contract): its dashboard computes
// the hit rate from exactly these names.
const (
	MetricNamespace       = contract.ProxyMetricNamespace
	DimensionEndpointName = contract.ProxyDimensionEndpointName
	MetricCacheHits       = contract.ProxyMetricCacheHits
	MetricCacheMisses     = contract.ProxyMetricCacheMisses
	MetricLatency         = contract.ProxyMetricLatency
	MetricEndpointLatency = contract.ProxyMetricEndpointLatency
)

// Cache outcomes, as sent in X-Cache and logged.
const (
	cacheHit  = "HIT"
	cacheMiss = "MISS"
	cacheOff  = "OFF"
	// cacheNone is a request rejected before the cache lookup: logged, but neither a hit nor a
	// miss in the metrics.
	cacheNone = "NONE"
)

// requestRecord is what one POST /invocations leaves behind: one CloudWatch Embedded Metric Format
// line that is also the request's access log, so a request costs one log line, not two.
type requestRecord struct {
	requestID string
	status    int
	cache     string // cacheHit, cacheMiss, cacheNone or cacheOff
	latency   time.Duration
	// endpointLatency is the InvokeEndpoint call alone; invoked says whether there was one.
	endpointLatency time.Duration
	invoked         bool
}

// hasOutcome reports whether the cache was consulted: only then does the request count as a hit
// or a miss and carry X-Cache.
func (r requestRecord) hasOutcome() bool { return r.cache == cacheHit || r.cache == cacheMiss }

// emfWriter writes EMF lines. Lines are built in a pooled buffer and written with one Write, so
// concurrent requests never interleave within a line.
type emfWriter struct {
	w        io.Writer
	endpoint string
	now      func() time.Time
	mu       sync.Mutex
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (m *emfWriter) write(r requestRecord) {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, m.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":"`+MetricNamespace+`","Dimensions":[["`+DimensionEndpointName+`"]],"Metrics":[`...)
	if r.hasOutcome() {
		b = append(b, `{"Name":"`+MetricCacheHits+`","Unit":"Count"},{"Name":"`+MetricCacheMisses+`","Unit":"Count"},`...)
	}
	b = append(b, `{"Name":"`+MetricLatency+`","Unit":"Milliseconds"}`...)
	if r.invoked {
		b = append(b, `,{"Name":"`+MetricEndpointLatency+`","Unit":"Milliseconds"}`...)
	}
	b = append(b, `]}]},"level":"INFO","msg":"request","`+DimensionEndpointName+`":`...)
	b = appendJSONString(b, m.endpoint)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, r.requestID)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.status), 10)
	b = append(b, `,"cache":"`...)
	b = append(b, r.cache...)
	b = append(b, '"')
	if r.hasOutcome() {
		hit, miss := 0, 1
		if r.cache == cacheHit {
			hit, miss = 1, 0
		}
		b = append(b, `,"`+MetricCacheHits+`":`...)
		b = strconv.AppendInt(b, int64(hit), 10)
		b = append(b, `,"`+MetricCacheMisses+`":`...)
		b = strconv.AppendInt(b, int64(miss), 10)
	}
	b = append(b, `,"`+MetricLatency+`":`...)
	b = appendMillis(b, r.latency)
	if r.invoked {
		b = append(b, `,"`+MetricEndpointLatency+`":`...)
		b = appendMillis(b, r.endpointLatency)
	}
	b = append(b, "}\n"...)
	m.mu.Lock()
	// A failed write of a log line has nowhere better to be reported.
	_, _ = m.w.Write(b)
	m.mu.Unlock()
	*bp = b
	bufPool.Put(bp)
}

// appendMillis writes d in milliseconds with microsecond precision.
func appendMillis(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', -1, 64)
}

// appendJSONString writes s as a JSON string. Request IDs and endpoint names are plain ASCII, but
// request IDs come from the event, so anything else is escaped rather than trusted.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		i++
	}
	return append(b, '"')
}
