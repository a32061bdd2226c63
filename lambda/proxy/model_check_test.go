package proxy_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call is the echo container's call number in an answer: a cached answer repeats an old one.
func call(t *testing.T, e *env) (string, string) {
	t.Helper()
	resp := e.do(t, invocation(`[1,2,3,4]`, nil))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	return resp.Headers["X-Cache"], resp.Body
}

// TestRolloutAndRollbackFlushTheCache: SageMaker's DescribeEndpoint names the configuration that
// serves. After a rollout (config-a to config-b) and a rollback (back to config-a) the proxy must
// not answer from what the other model said, however long the cache TTL is.
func TestRolloutAndRollbackFlushTheCache(t *testing.T) {
	cfg := cacheOn()
	cfg.CacheTTL = time.Hour
	cfg.ModelCheck = 30 * time.Second
	clock := newFakeClock()
	e := newEnv(t, cfg, echoContainer(), clock)
	e.fake.set(func(f *fakeSageMaker) { f.configName = "churn-dev-config-a" })

	x, first := call(t, e)
	require.Equal(t, "MISS", x)
	x, again := call(t, e)
	require.Equal(t, "HIT", x)
	require.Equal(t, first, again)

	// Rollout: within one model check the new configuration's answers are the only ones served.
	e.fake.set(func(f *fakeSageMaker) { f.configName = "churn-dev-config-b" })
	clock.Advance(30 * time.Second)
	x, fromB := call(t, e)
	assert.Equal(t, "MISS", x, "the previous model's answer is not served")
	assert.NotEqual(t, first, fromB)
	x, againB := call(t, e)
	assert.Equal(t, "HIT", x)
	assert.Equal(t, fromB, againB)

	// Auto-rollback to config-a: config-b's answers go too.
	e.fake.set(func(f *fakeSageMaker) { f.configName = "churn-dev-config-a" })
	clock.Advance(30 * time.Second)
	x, fromA := call(t, e)
	assert.Equal(t, "MISS", x)
	assert.NotEqual(t, fromB, fromA)
	assert.EqualValues(t, 3, e.fake.describes.Load(), "one DescribeEndpoint per model check, not per request")

	var flushed int
	for _, l := range e.out.lines(t) {
		if l["msg"] == "endpoint configuration changed: cache flushed" {
			flushed++
		}
	}
	assert.Equal(t, 2, flushed)
}

// TestNoStoreWhileTheEndpointUpdates: during a blue/green update traffic can come from either
// fleet, so nothing is stored until the update is over.
func TestNoStoreWhileTheEndpointUpdates(t *testing.T) {
	cfg := cacheOn()
	clock := newFakeClock()
	e := newEnv(t, cfg, echoContainer(), clock)
	e.fake.set(func(f *fakeSageMaker) { f.endpointStatus = "Updating" })
	x, first := call(t, e)
	assert.Equal(t, "MISS", x)
	x, second := call(t, e)
	assert.Equal(t, "MISS", x, "not stored while Updating")
	assert.NotEqual(t, first, second)

	e.fake.set(func(f *fakeSageMaker) { f.endpointStatus = "InService" })
	clock.Advance(cfg.ModelCheck)
	call(t, e)
	x, _ = call(t, e)
	assert.Equal(t, "HIT", x)
}

// TestUnknownModelBypassesTheCache: when DescribeEndpoint fails (throttled, denied), an answer
// could be from either model, so the cache is neither read nor written, and DescribeEndpoint is
// not asked again before the next model check.
func TestUnknownModelBypassesTheCache(t *testing.T) {
	cfg := cacheOn()
	clock := newFakeClock()
	e := newEnv(t, cfg, echoContainer(), clock)
	call(t, e)
	clock.Advance(cfg.ModelCheck)
	e.fake.set(func(f *fakeSageMaker) {
		f.describeErr = &awsError{400, "ThrottlingException", map[string]any{"message": "Rate exceeded"}}
	})
	for range 3 {
		x, _ := call(t, e)
		assert.Equal(t, "MISS", x)
	}
	assert.EqualValues(t, 2, e.fake.describes.Load(), "the failed check is not repeated on every request")

	e.fake.set(func(f *fakeSageMaker) { f.describeErr = nil })
	clock.Advance(cfg.ModelCheck)
	call(t, e)
	x, _ := call(t, e)
	assert.Equal(t, "HIT", x)
}

// TestModelCheckStaysInsideTheInvokeTimeout: the model check and the endpoint call share one
// deadline, so a slow DescribeEndpoint cannot push the answer past API Gateway's 29 s.
func TestModelCheckStaysInsideTheInvokeTimeout(t *testing.T) {
	cfg := cacheOn()
	cfg.InvokeTimeout = time.Second
	e := newEnv(t, cfg, echoContainer(), nil)
	e.fake.set(func(f *fakeSageMaker) { f.describeDelay, f.delay = time.Minute, time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := e.h.Handle(ctx, invocation(`[1]`, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, resp.Body)
	assert.Less(t, time.Since(start), 1500*time.Millisecond)
}
