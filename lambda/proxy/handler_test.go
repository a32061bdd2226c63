package proxy_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxy"
	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// echoContainer is a model server that answers each body with its own call number, so a test can
// tell a cached answer from a fresh one; bodies over 1 KiB are echoed as their size. Bodies
// starting "bad" get a 400, "crash" a 500.
func echoContainer() http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.HasPrefix(string(body), "bad"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"row 0 has 3 features, the model needs 4"}`)
		case strings.HasPrefix(string(body), "crash"):
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "panic: runtime error at /src/model.go:42")
		default:
			if len(body) > 1024 {
				// Large bodies are summarised, so that the answer stays within Lambda's limit.
				body = fmt.Appendf(nil, "%d bytes", len(body))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"call":%d,"body":%q,"accept":%q}`, n.Add(1), body, r.Header.Get("Accept"))
		}
	})
}

func cacheOn() proxyconfig.Config { return proxyconfig.Default(testEndpoint) }

func cacheOff() proxyconfig.Config {
	c := proxyconfig.Default(testEndpoint)
	c.CacheEnabled = false
	return c
}

func TestInvocationPassesBodyContentTypeAndAccept(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	resp := e.do(t, invocation("1,2,3,4", map[string]string{"content-type": "text/csv", "ACCEPT": "application/json"}))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.JSONEq(t, `{"call":1,"body":"1,2,3,4","accept":"application/json"}`, resp.Body)
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])
	assert.Equal(t, "MISS", resp.Headers["X-Cache"])
	assert.NotEmpty(t, resp.Headers["X-Request-Id"])
	assert.Equal(t, testEndpoint, e.fake.lastInvoke.endpoint)
	assert.Equal(t, "text/csv", e.fake.lastInvoke.contentType, "header names are matched case-insensitively")
	assert.Equal(t, "1,2,3,4", string(e.fake.lastInvoke.body))
}

func TestInvocationWithoutContentTypeSendsJSON(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	req := invocation(`{"instances":[[1,2,3,4]]}`, nil)
	delete(req.Headers, "Content-Type")
	resp := e.do(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Equal(t, "application/json", e.fake.lastInvoke.contentType)
}

func TestCacheHitMissAndKeyParts(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	first := e.do(t, invocation(`[1,2,3,4]`, nil))
	second := e.do(t, invocation(`[1,2,3,4]`, nil))
	require.Equal(t, http.StatusOK, second.StatusCode)
	assert.Equal(t, "MISS", first.Headers["X-Cache"])
	assert.Equal(t, "HIT", second.Headers["X-Cache"])
	assert.Equal(t, first.Body, second.Body, "a hit replays the cached body")
	assert.NotEqual(t, first.Headers["X-Request-Id"], second.Headers["X-Request-Id"], "a hit still carries its own request ID")
	assert.EqualValues(t, 1, e.fake.invocations.Load(), "the endpoint is invoked once")

	// Every part of the key separates requests.
	for _, tc := range []struct {
		name string
		req  events.APIGatewayProxyRequest
	}{
		{"another body", invocation(`[1,2,3,5]`, nil)},
		{"another content type", invocation(`[1,2,3,4]`, map[string]string{"Content-Type": "text/csv"})},
		{"another accept", invocation(`[1,2,3,4]`, map[string]string{"Accept": "text/csv"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.fake.invocations.Load()
			resp := e.do(t, tc.req)
			assert.Equal(t, "MISS", resp.Headers["X-Cache"])
			assert.Equal(t, before+1, e.fake.invocations.Load())
		})
	}
}

func TestCacheTTLExpiry(t *testing.T) {
	cfg := cacheOn()
	cfg.CacheTTL = 60 * time.Second
	clock := newFakeClock()
	e := newEnv(t, cfg, echoContainer(), clock)
	require.Equal(t, "MISS", e.do(t, invocation(`[1]`, nil)).Headers["X-Cache"])
	clock.Advance(59 * time.Second)
	assert.Equal(t, "HIT", e.do(t, invocation(`[1]`, nil)).Headers["X-Cache"], "fresh until the TTL")
	clock.Advance(time.Second)
	resp := e.do(t, invocation(`[1]`, nil))
	assert.Equal(t, "MISS", resp.Headers["X-Cache"], "expired at the TTL")
	assert.Contains(t, resp.Body, `"call":2`)
}

func TestCacheControlBypass(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		wantCached   bool // whether the fresh answer replaced the cached one
	}{
		{"no-cache refreshes the entry", "no-cache", true},
		{"directive among others", "max-age=0, No-Cache", true},
		{"no-store leaves the entry alone", "no-store", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cacheOn(), echoContainer(), nil)
			first := e.do(t, invocation(`[7]`, nil))
			bypass := e.do(t, invocation(`[7]`, map[string]string{"Cache-Control": tc.cacheControl}))
			assert.Equal(t, "MISS", bypass.Headers["X-Cache"])
			assert.Contains(t, bypass.Body, `"call":2`, "the bypass reached the endpoint")
			after := e.do(t, invocation(`[7]`, nil))
			assert.Equal(t, "HIT", after.Headers["X-Cache"])
			if tc.wantCached {
				assert.Equal(t, bypass.Body, after.Body)
			} else {
				assert.Equal(t, first.Body, after.Body)
			}
		})
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	for i := 0; i < 2; i++ {
		resp := e.do(t, invocation(`bad row`, nil))
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "MISS", resp.Headers["X-Cache"])
	}
	assert.EqualValues(t, 2, e.fake.invocations.Load())
	assert.Zero(t, e.h.Cache().Len())
}

func TestCacheOffMeansNoCacheOnThePath(t *testing.T) {
	e := newEnv(t, cacheOff(), echoContainer(), nil)
	require.Nil(t, e.h.Cache())
	a := e.do(t, invocation(`[1]`, nil))
	b := e.do(t, invocation(`[1]`, nil))
	assert.NotContains(t, a.Headers, "X-Cache")
	assert.NotContains(t, b.Headers, "X-Cache")
	assert.NotEqual(t, a.Body, b.Body)
	assert.EqualValues(t, 2, e.fake.invocations.Load())
	for _, l := range e.out.lines(t) {
		if l["msg"] == "request" {
			assert.NotContains(t, l, proxy.MetricCacheHits, "no cache metrics without a cache")
			assert.NotContains(t, l, proxy.MetricCacheMisses)
		}
	}
}

// TestErrorMapping sends each error the way AWS sends it and checks what the caller gets.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		err        awsError
		wantStatus int
		wantBody   string // substring of the response body
		notInBody  string
	}{
		{"container 4xx passes through", awsError{424, "ModelError", map[string]any{
			"Message": "Received client error (422) from primary", "OriginalStatusCode": 422,
			"OriginalMessage": `{"error":"feature petal_width missing"}`}}, 422, `{"error":"feature petal_width missing"}`, "primary"},
		{"container 5xx hidden", awsError{424, "ModelError", map[string]any{
			"Message": "Received server error (500) from primary", "OriginalStatusCode": 500,
			"OriginalMessage": "panic at model.go:42"}}, 502, "the model failed to answer", "model.go"},
		{"container timeout", awsError{424, "ModelError", map[string]any{
			"Message": "Your invocation timed out while waiting for a response from container primary."}}, 504, "in time", ""},
		{"validation", awsError{400, "ValidationError", map[string]any{
			"message": "Endpoint x of account 123456789012 not found."}}, 400, "rejected the request", testAccount},
		{"throttling", awsError{400, "ThrottlingException", map[string]any{"message": "Rate exceeded"}}, 429, "too many requests", ""},
		{"model not ready", awsError{429, "ModelNotReadyException", map[string]any{"Message": "model loading"}}, 503, "not available", ""},
		{"service unavailable", awsError{503, "ServiceUnavailable", map[string]any{"Message": "unavailable"}}, 503, "not available", ""},
		{"internal failure", awsError{500, "InternalFailure", map[string]any{"Message": "boom at host i-0abc"}}, 502, "could not be invoked", "i-0abc"},
		{"access denied", awsError{403, "AccessDeniedException", map[string]any{"Message": "User arn:aws:sts::123456789012:assumed-role/x is not authorized"}}, 502, "could not be invoked", testAccount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cacheOn(), echoContainer(), nil)
			e.fake.set(func(f *fakeSageMaker) { f.invokeErr = &tc.err })
			resp := e.do(t, invocation(`[1]`, nil))
			assert.Equal(t, tc.wantStatus, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, tc.wantBody)
			if tc.notInBody != "" {
				assert.NotContains(t, resp.Body, tc.notInBody, "internal details stay in the log")
			}
			reqID := resp.Headers["X-Request-Id"]
			require.NotEmpty(t, reqID)
			if tc.wantStatus >= 500 || tc.wantStatus == 429 {
				assert.Contains(t, resp.Body, reqID, "the caller can quote the request ID")
			}
			if tc.wantStatus == 429 || tc.wantStatus == 503 {
				assert.NotEmpty(t, resp.Headers["Retry-After"])
			}
			assert.Zero(t, e.h.Cache().Len(), "errors are not cached")
		})
	}
}

func TestContainerErrorsThroughTheFake(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	resp := e.do(t, invocation(`bad row`, nil))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.JSONEq(t, `{"error":"row 0 has 3 features, the model needs 4"}`, resp.Body)
	assert.Equal(t, "application/json", resp.Headers["Content-Type"])

	resp = e.do(t, invocation(`crash`, nil))
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.NotContains(t, resp.Body, "panic")
}

func TestEndpointTimeoutIs504(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	e.fake.set(func(f *fakeSageMaker) { f.delay = time.Minute })
	// A Lambda deadline closer than the handler's safety margin: the endpoint call's own deadline
	// has already passed, so the handler answers 504 at once, with time left to deliver it.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	resp, err := e.h.Handle(ctx, invocation(`[1]`, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, resp.Body)
	assert.Contains(t, resp.Body, resp.Headers["X-Request-Id"])
	assert.Zero(t, e.fake.invocations.Load(), "the call was not even sent: its deadline had passed")
}

func TestMalformedAndOversizeEvents(t *testing.T) {
	big := strings.Repeat("1", proxy.MaxBodyBytes+1)
	exact := strings.Repeat("1", proxy.MaxBodyBytes)
	tests := []struct {
		name       string
		body       string
		base64     bool
		wantStatus int
		wantInvoke bool
	}{
		{"base64 body decoded", base64.StdEncoding.EncodeToString([]byte(`[1,2]`)), true, 200, true},
		{"malformed base64", "not*base64!", true, 400, false},
		{"empty body", "", false, 400, false},
		{"body at the limit", exact, false, 200, true},
		{"body over the limit", big, false, 413, false},
		{"base64 body over the limit", base64.StdEncoding.EncodeToString([]byte(big)), true, 413, false},
		{"base64 body at the limit", base64.StdEncoding.EncodeToString([]byte(exact)), true, 200, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cacheOn(), echoContainer(), nil)
			req := invocation(tc.body, nil)
			req.IsBase64Encoded = tc.base64
			resp := e.do(t, req)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, tc.wantInvoke, e.fake.invocations.Load() == 1)
			if tc.wantStatus != 200 {
				assert.Contains(t, resp.Body, resp.Headers["X-Request-Id"])
			}
		})
	}
	t.Run("base64 body reaches the endpoint decoded", func(t *testing.T) {
		e := newEnv(t, cacheOn(), echoContainer(), nil)
		req := invocation(base64.StdEncoding.EncodeToString([]byte("1,2,3,4")), map[string]string{"Content-Type": "text/csv"})
		req.IsBase64Encoded = true
		require.Equal(t, http.StatusOK, e.do(t, req).StatusCode)
		assert.Equal(t, "1,2,3,4", string(e.fake.lastInvoke.body))
	})
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	tests := []struct {
		name       string
		method     string
		resource   string
		wantStatus int
		wantAllow  string
	}{
		{"unknown route", http.MethodGet, "/admin", 404, ""},
		{"GET invocations", http.MethodGet, "/invocations", 405, "POST"},
		{"POST ping", http.MethodPost, "/ping", 405, "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, events.APIGatewayProxyRequest{HTTPMethod: tc.method, Resource: tc.resource, Path: tc.resource})
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, tc.wantAllow, resp.Headers["Allow"])
			assert.Contains(t, resp.Body, `"requestId":"unknown"`)
		})
	}
	assert.Zero(t, e.fake.invocations.Load())
}

func TestPing(t *testing.T) {
	tests := []struct {
		status     string
		wantStatus int
		wantBody   string
	}{
		{"InService", 200, `{"status":"UP","endpointStatus":"InService"}`},
		{"Updating", 200, `{"status":"UP","endpointStatus":"Updating"}`},
		{"Creating", 503, `{"status":"DOWN","endpointStatus":"Creating"}`},
		{"Failed", 503, `{"status":"DOWN","endpointStatus":"Failed"}`},
	}
	for _, tc := range tests {
		t.Run(tc.status, func(t *testing.T) {
			e := newEnv(t, cacheOn(), echoContainer(), nil)
			e.fake.set(func(f *fakeSageMaker) { f.endpointStatus = tc.status })
			resp := e.do(t, ping())
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.JSONEq(t, tc.wantBody, resp.Body)
			assert.NotEmpty(t, resp.Headers["X-Request-Id"])
		})
	}
}

func TestPingRemembersStatusForStatusTTL(t *testing.T) {
	cfg := cacheOn()
	cfg.StatusTTL = 5 * time.Second
	clock := newFakeClock()
	e := newEnv(t, cfg, echoContainer(), clock)
	e.fake.set(func(f *fakeSageMaker) { f.endpointStatus = "Creating" })
	assert.Equal(t, 503, e.do(t, ping()).StatusCode)
	e.fake.set(func(f *fakeSageMaker) { f.endpointStatus = "InService" })
	clock.Advance(4 * time.Second)
	assert.Equal(t, 503, e.do(t, ping()).StatusCode, "remembered")
	assert.EqualValues(t, 1, e.fake.describes.Load())
	clock.Advance(time.Second)
	assert.Equal(t, 200, e.do(t, ping()).StatusCode, "asked again after the TTL")
	assert.EqualValues(t, 2, e.fake.describes.Load())
}

func TestPingDescribeFailureIs503AndNotRemembered(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), newFakeClock())
	e.fake.set(func(f *fakeSageMaker) {
		f.describeErr = &awsError{400, "ThrottlingException", map[string]any{"message": "Rate exceeded"}}
	})
	resp := e.do(t, ping())
	assert.Equal(t, 503, resp.StatusCode)
	assert.Contains(t, resp.Body, resp.Headers["X-Request-Id"])
	assert.NotContains(t, resp.Body, "Rate exceeded")
	e.fake.set(func(f *fakeSageMaker) { f.describeErr = nil })
	assert.Equal(t, 200, e.do(t, ping()).StatusCode, "the failure was not remembered")
}

// TestMetricsAndLogs checks the EMF contract the Monitoring dashboard reads and that every line
// carries the request ID.
func TestMetricsAndLogs(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	miss := e.do(t, invocation(`[1]`, nil))
	hit := e.do(t, invocation(`[1]`, nil))
	bad := e.do(t, invocation(`crash`, nil))

	lines := e.out.lines(t)
	byID := map[string][]map[string]any{}
	for _, l := range lines {
		id, ok := l["request_id"].(string)
		require.True(t, ok, "every line carries the request ID: %v", l)
		byID[id] = append(byID[id], l)
	}
	emf := func(resp events.APIGatewayProxyResponse) map[string]any {
		t.Helper()
		for _, l := range byID[resp.Headers["X-Request-Id"]] {
			if _, ok := l["_aws"]; ok {
				return l
			}
		}
		require.Fail(t, "no EMF line", "request %s", resp.Headers["X-Request-Id"])
		return nil
	}

	m := emf(miss)
	aws := m["_aws"].(map[string]any)
	assert.NotZero(t, aws["Timestamp"])
	directive := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	assert.Equal(t, proxy.MetricNamespace, directive["Namespace"])
	assert.Equal(t, "Inferstack/Proxy", directive["Namespace"])
	assert.Equal(t, []any{[]any{"EndpointName"}}, directive["Dimensions"])
	units := map[string]string{}
	for _, mt := range directive["Metrics"].([]any) {
		mm := mt.(map[string]any)
		units[mm["Name"].(string)] = mm["Unit"].(string)
	}
	assert.Equal(t, map[string]string{"CacheHits": "Count", "CacheMisses": "Count", "Latency": "Milliseconds",
		"EndpointLatency": "Milliseconds"}, units)
	assert.Equal(t, testEndpoint, m["EndpointName"])
	assert.EqualValues(t, 0, m["CacheHits"])
	assert.EqualValues(t, 1, m["CacheMisses"])
	assert.Contains(t, m, "Latency")
	assert.GreaterOrEqual(t, m["Latency"].(float64), m["EndpointLatency"].(float64))
	assert.EqualValues(t, 200, m["status"])

	h := emf(hit)
	assert.EqualValues(t, 1, h["CacheHits"])
	assert.EqualValues(t, 0, h["CacheMisses"])
	assert.NotContains(t, h, "EndpointLatency", "a hit never calls the endpoint")
	assert.Equal(t, "HIT", h["cache"])

	b := emf(bad)
	assert.EqualValues(t, 502, b["status"])
	assert.Len(t, byID[bad.Headers["X-Request-Id"]], 2, "the failure is logged with the same request ID")
}

func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t, cacheOn(), echoContainer(), nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				resp, err := e.h.Handle(context.Background(), invocation(fmt.Sprintf(`[%d]`, i%5), nil))
				if !assert.NoError(t, err) || !assert.Equal(t, http.StatusOK, resp.StatusCode) {
					return
				}
				assert.Contains(t, resp.Body, fmt.Sprintf(`"body":"[%d]"`, i%5), "never another request's answer")
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 5, e.h.Cache().Len())
	// Each key misses at least once; concurrent first requests may each miss.
	assert.GreaterOrEqual(t, e.fake.invocations.Load(), int64(5))
	assert.Less(t, e.fake.invocations.Load(), int64(200))
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	cfg := cacheOn()
	cfg.EndpointName = ""
	_, err := proxy.NewHandler(cfg, proxy.Deps{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), proxyconfig.EnvEndpointName)
}

func TestAnswerTooLargeForLambdaIs502AndNotCached(t *testing.T) {
	huge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"predictions":"%s"}`, strings.Repeat("x", proxy.MaxBodyBytes))
	})
	e := newEnv(t, cacheOn(), huge, nil)
	resp := e.do(t, invocation(`[1]`, nil))
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, resp.Body, "send fewer rows", "log: %.2000s", e.out.buf.String())
	assert.Less(t, len(resp.Body), 1000)
	assert.Zero(t, e.h.Cache().Len())
}

func TestCORSHeadersOnEveryAnswerForAllowedOrigins(t *testing.T) {
	cfg := cacheOn()
	cfg.CORSAllowOrigins = []string{"https://app.example.com"}
	e := newEnv(t, cfg, echoContainer(), nil)
	from := func(origin string, req events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
		if req.Headers == nil {
			req.Headers = map[string]string{}
		}
		req.Headers["origin"] = origin // API Gateway passes headers as the client spelled them
		return req
	}
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		cache  string
	}{
		{"miss", from("https://app.example.com", invocation(`[1,2,3,4]`, nil)), http.StatusOK, "MISS"},
		{"hit", from("https://app.example.com", invocation(`[1,2,3,4]`, nil)), http.StatusOK, "HIT"},
		{"model error", from("https://app.example.com", invocation(`bad row`, nil)), http.StatusBadRequest, "MISS"},
		{"unknown route", from("https://app.example.com", events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Resource: "/x"}), http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, tc.req)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.cache, resp.Headers["X-Cache"])
			assert.Equal(t, "https://app.example.com", resp.Headers["Access-Control-Allow-Origin"])
			assert.Equal(t, "Origin", resp.Headers["Vary"])
		})
	}

	other := e.do(t, from("https://evil.example.com", invocation(`[1,2,3,4]`, nil)))
	assert.Equal(t, "HIT", other.Headers["X-Cache"], "the origin is not part of the cache key")
	assert.NotContains(t, other.Headers, "Access-Control-Allow-Origin")

	off := newEnv(t, cacheOn(), echoContainer(), nil)
	resp := off.do(t, from("https://app.example.com", invocation(`[1,2,3,4]`, nil)))
	assert.NotContains(t, resp.Headers, "Access-Control-Allow-Origin", "no CORS unless configured")
}

// blockingRuntime is an endpoint that never answers: InvokeEndpoint waits until its context is
// done. After giveUp it fails with a plain error instead, so a test whose deadline never comes
// fails quickly rather than hanging.
type blockingRuntime struct {
	giveUp time.Duration
}

var _ proxy.Invoker = (*blockingRuntime)(nil)

func (b *blockingRuntime) InvokeEndpoint(ctx context.Context, _ *sagemakerruntime.InvokeEndpointInput,
	_ ...func(*sagemakerruntime.Options)) (*sagemakerruntime.InvokeEndpointOutput, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(b.giveUp):
		return nil, errors.New("the invoke timeout never stopped the call")
	}
}

// TestInvokeTimeoutIs504BeforeAPIGatewayGivesUp: with a Lambda deadline 30 s away (the default
// function timeout) the call must still stop at INVOKE_TIMEOUT_SECONDS, so our 504 with its
// request ID reaches the caller before API Gateway's own 29 s timeout answers for us.
func TestInvokeTimeoutIs504BeforeAPIGatewayGivesUp(t *testing.T) {
	cfg := cacheOn()
	cfg.InvokeTimeout = time.Second
	h, err := proxy.NewHandler(cfg, proxy.Deps{
		Runtime: &blockingRuntime{giveUp: 5 * time.Second}, SageMaker: sagemaker.New(sagemaker.Options{}), Out: io.Discard,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	start := time.Now()
	resp, err := h.Handle(ctx, invocation(`[1]`, nil))
	require.NoError(t, err)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, resp.Body)
	require.NotEmpty(t, resp.Headers["X-Request-Id"])
	assert.Contains(t, resp.Body, resp.Headers["X-Request-Id"], "the caller can quote the request ID")
	assert.Less(t, time.Since(start), 3*time.Second, "stopped by the invoke timeout, not the Lambda deadline")
}

// TestRejectedRequestsHaveNoCacheOutcome: only a request that reached the cache lookup counts as
// a hit or a miss; counting rejected ones as misses would understate the dashboard's hit rate.
func TestRejectedRequestsHaveNoCacheOutcome(t *testing.T) {
	tests := []struct {
		name       string
		req        events.APIGatewayProxyRequest
		wantStatus int
		wantCache  string // X-Cache and the log's cache field; "" for no header
		wantMisses any    // CacheMisses in the EMF line, nil for absent
	}{
		{"empty body", invocation(``, nil), http.StatusBadRequest, "", nil},
		{"body over the limit", invocation(strings.Repeat("1", proxy.MaxBodyBytes+1), nil), http.StatusRequestEntityTooLarge, "", nil},
		{"malformed base64", func() events.APIGatewayProxyRequest {
			r := invocation("not*base64!", nil)
			r.IsBase64Encoded = true
			return r
		}(), http.StatusBadRequest, "", nil},
		{"container 4xx after a real miss", invocation(`bad row`, nil), http.StatusBadRequest, "MISS", float64(1)},
		{"no-cache bypass", invocation(`[1]`, map[string]string{"Cache-Control": "no-cache"}), http.StatusOK, "MISS", float64(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cacheOn(), echoContainer(), nil)
			resp := e.do(t, tc.req)
			require.Equal(t, tc.wantStatus, resp.StatusCode, resp.Body)
			assert.Equal(t, tc.wantCache, resp.Headers["X-Cache"])
			var line map[string]any
			for _, l := range e.out.lines(t) {
				if _, ok := l["_aws"]; ok && l["request_id"] == resp.Headers["X-Request-Id"] {
					line = l
				}
			}
			require.NotNil(t, line, "every request leaves an EMF line")
			assert.Equal(t, tc.wantMisses, line[proxy.MetricCacheMisses])
			if tc.wantMisses == nil {
				assert.NotContains(t, line, proxy.MetricCacheHits)
				assert.Equal(t, "NONE", line["cache"])
				assert.NotContains(t, fmt.Sprint(line["_aws"]), proxy.MetricCacheMisses, "no cache metric declared")
			}
		})
	}
}

// attributesContainer answers with its call number and the custom attributes it was given,
// and sets its own in the response, as a model that reads and writes them would.
func attributesContainer() http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs := r.Header.Get(proxy.CustomAttributesHeader)
		if attrs != "" {
			w.Header().Set(proxy.CustomAttributesHeader, "seen="+attrs)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"call":%d,"attrs":%q}`, n.Add(1), attrs)
	})
}

// TestSageMakerHeadersOnTheWire sends the two SageMaker request headers through the real
// aws-sdk-go-v2 client: the fake sees them as InvokeEndpoint's X-Amzn-SageMaker-* headers, and
// the endpoint's custom attributes come back under the same name.
func TestSageMakerHeadersOnTheWire(t *testing.T) {
	e := newEnv(t, cacheOn(), attributesContainer(), nil)
	resp := e.do(t, invocation(`[1]`, map[string]string{
		"x-amzn-sagemaker-custom-attributes": "inferstack-output=probability; trace=abc 1",
		"X-Amzn-SageMaker-Inference-Id":      "order-4711 retry 2",
	}))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	wire := e.fake.lastInvoke.header
	assert.Equal(t, "inferstack-output=probability; trace=abc 1", wire.Get("X-Amzn-SageMaker-Custom-Attributes"))
	assert.Equal(t, "order-4711 retry 2", wire.Get("X-Amzn-SageMaker-Inference-Id"))
	assert.Equal(t, "seen=inferstack-output=probability; trace=abc 1", resp.Headers["X-Amzn-SageMaker-Custom-Attributes"])
	assert.JSONEq(t, `{"call":1,"attrs":"inferstack-output=probability; trace=abc 1"}`, resp.Body)

	// Without them, the SDK sends neither header and the answer carries none.
	resp = e.do(t, invocation(`[2]`, nil))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.NotContains(t, e.fake.lastInvoke.header, "X-Amzn-Sagemaker-Custom-Attributes")
	assert.NotContains(t, e.fake.lastInvoke.header, "X-Amzn-Sagemaker-Inference-Id")
	assert.NotContains(t, resp.Headers, "X-Amzn-SageMaker-Custom-Attributes")
}

// TestSageMakerHeadersAreValidated checks the limits of the SageMaker runtime's API model
// (botocore 1.43.11 sagemaker-runtime service-2.json) before anything is sent.
func TestSageMakerHeadersAreValidated(t *testing.T) {
	tests := []struct {
		name, header, value string
		mentions            []string
	}{
		{"custom attributes too long", "X-Amzn-SageMaker-Custom-Attributes", strings.Repeat("a", 1025), []string{"X-Amzn-SageMaker-Custom-Attributes", "1025 bytes", "at most 1024"}},
		{"custom attributes not ASCII", "X-Amzn-SageMaker-Custom-Attributes", "user=Zoë", []string{"X-Amzn-SageMaker-Custom-Attributes", "0xc3", "offset 7", "visible US-ASCII"}},
		{"custom attributes with a control character", "X-Amzn-SageMaker-Custom-Attributes", "a\x01b", []string{"X-Amzn-SageMaker-Custom-Attributes", "0x01"}},
		{"custom attributes with a tab", "X-Amzn-SageMaker-Custom-Attributes", "a\tb", []string{"X-Amzn-SageMaker-Custom-Attributes", "0x09", "offset 1"}},
		{"inference ID too long", "X-Amzn-SageMaker-Inference-Id", strings.Repeat("i", 65), []string{"X-Amzn-SageMaker-Inference-Id", "65 characters", "1 to 64"}},
		{"inference ID starting with a space", "X-Amzn-SageMaker-Inference-Id", " id", []string{"X-Amzn-SageMaker-Inference-Id", "0x20", "offset 0"}},
		{"inference ID not printable", "X-Amzn-SageMaker-Inference-Id", "id\tx", []string{"X-Amzn-SageMaker-Inference-Id", "0x09"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cacheOn(), attributesContainer(), nil)
			resp := e.do(t, invocation(`[1]`, map[string]string{tc.header: tc.value}))
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, resp.Body)
			for _, m := range tc.mentions {
				assert.Contains(t, resp.Body, m)
			}
			assert.EqualValues(t, 0, e.fake.invocations.Load(), "nothing reaches SageMaker")
		})
	}
	// The limits themselves pass.
	e := newEnv(t, cacheOn(), attributesContainer(), nil)
	resp := e.do(t, invocation(`[1]`, map[string]string{
		"X-Amzn-SageMaker-Custom-Attributes": strings.Repeat("~", 1024),
		"X-Amzn-SageMaker-Inference-Id":      strings.Repeat("i", 64),
	}))
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	assert.Len(t, e.fake.lastInvoke.header.Get("X-Amzn-SageMaker-Custom-Attributes"), 1024)
	assert.Len(t, e.fake.lastInvoke.header.Get("X-Amzn-SageMaker-Inference-Id"), 64)
}

// TestCacheAndSageMakerHeaders: custom attributes are part of the key (a model may answer
// differently by them) and the endpoint's custom attributes are replayed on a hit; a request
// with an inference ID always reaches the endpoint, so that data capture records it, and its
// answer refreshes the entry.
func TestCacheAndSageMakerHeaders(t *testing.T) {
	e := newEnv(t, cacheOn(), attributesContainer(), nil)
	attrs := func(v string) map[string]string { return map[string]string{"X-Amzn-SageMaker-Custom-Attributes": v} }

	plain := e.do(t, invocation(`[1]`, nil))
	withA := e.do(t, invocation(`[1]`, attrs("inferstack-output=probability")))
	assert.Equal(t, "MISS", withA.Headers["X-Cache"], "other custom attributes, another entry")
	assert.Contains(t, withA.Body, `"call":2`)
	hitA := e.do(t, invocation(`[1]`, attrs("inferstack-output=probability")))
	assert.Equal(t, "HIT", hitA.Headers["X-Cache"])
	assert.Equal(t, withA.Body, hitA.Body)
	assert.Equal(t, "seen=inferstack-output=probability", hitA.Headers["X-Amzn-SageMaker-Custom-Attributes"], "replayed on a hit")
	withB := e.do(t, invocation(`[1]`, attrs("inferstack-output=predicted_label")))
	assert.Equal(t, "MISS", withB.Headers["X-Cache"])
	hitPlain := e.do(t, invocation(`[1]`, nil))
	assert.Equal(t, "HIT", hitPlain.Headers["X-Cache"])
	assert.Equal(t, plain.Body, hitPlain.Body)
	assert.NotContains(t, hitPlain.Headers, "X-Amzn-SageMaker-Custom-Attributes")
	require.EqualValues(t, 3, e.fake.invocations.Load())

	withID := e.do(t, invocation(`[1]`, map[string]string{"X-Amzn-SageMaker-Inference-Id": "capture-me"}))
	assert.Equal(t, "MISS", withID.Headers["X-Cache"], "an inference ID is never answered from the cache")
	assert.EqualValues(t, 4, e.fake.invocations.Load())
	assert.Equal(t, "capture-me", e.fake.lastInvoke.header.Get("X-Amzn-SageMaker-Inference-Id"))
	after := e.do(t, invocation(`[1]`, nil))
	assert.Equal(t, "HIT", after.Headers["X-Cache"])
	assert.Equal(t, withID.Body, after.Body, "its answer refreshed the entry")
}
