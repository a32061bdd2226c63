package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxy"
	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

const (
	testEndpoint = "churn-dev"
	testRegion   = "eu-central-1"
	testAccount  = "123456789012"
)

// awsError is an error response the way the AWS services send it: a status, the error type in
// X-Amzn-ErrorType and a JSON body.
type awsError struct {
	status int
	typ    string
	body   map[string]any
}

// fakeSageMaker speaks the two wire protocols the handler's clients use: the SageMaker runtime's
// restJson1 InvokeEndpoint (POST /endpoints/{name}/invocations) and SageMaker's awsJson1_1
// DescribeEndpoint (POST / with X-Amz-Target). Invocations go to container, the model server,
// and its non-2xx answers come back as SageMaker's ModelError, as on AWS.
type fakeSageMaker struct {
	t         testing.TB
	container http.Handler

	mu sync.Mutex
	// invokeErr, when set, answers InvokeEndpoint instead of the container.
	invokeErr *awsError
	// delay is slept before answering InvokeEndpoint, honouring the request's cancellation.
	delay time.Duration
	// endpointStatus is DescribeEndpoint's EndpointStatus; describeErr overrides it.
	endpointStatus string
	describeErr    *awsError
	// configName is DescribeEndpoint's EndpointConfigName (default "<endpoint>-config").
	configName string
	// describeDelay is slept before answering DescribeEndpoint, honouring cancellation.
	describeDelay time.Duration

	invocations atomic.Int64
	describes   atomic.Int64
	// lastInvoke is the last InvokeEndpoint request as the fake received it.
	lastInvoke struct {
		endpoint, contentType, accept string
		body                          []byte
		// header is every header of the request as the SDK sent it.
		header http.Header
	}
}

func (f *fakeSageMaker) set(fn func(f *fakeSageMaker)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSageMaker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeAWSError(w, awsError{403, "MissingAuthenticationTokenException", map[string]any{"message": "Missing Authentication Token"}})
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/" && r.Header.Get("X-Amz-Target") == "SageMaker.DescribeEndpoint":
		f.describe(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/endpoints/") && strings.HasSuffix(r.URL.Path, "/invocations"):
		f.invoke(w, r, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/endpoints/"), "/invocations"))
	default:
		writeAWSError(w, awsError{404, "UnknownOperationException", map[string]any{"message": "unknown operation " + r.Method + " " + r.URL.Path}})
	}
}

func (f *fakeSageMaker) invoke(w http.ResponseWriter, r *http.Request, endpoint string) {
	f.invocations.Add(1)
	body, err := io.ReadAll(r.Body)
	require.NoError(f.t, err)
	f.mu.Lock()
	f.lastInvoke.endpoint, f.lastInvoke.contentType, f.lastInvoke.accept = endpoint, r.Header.Get("Content-Type"), r.Header.Get("Accept")
	f.lastInvoke.body = body
	f.lastInvoke.header = r.Header.Clone()
	injected, delay := f.invokeErr, f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if injected != nil {
		writeAWSError(w, *injected)
		return
	}
	if endpoint != testEndpoint {
		writeAWSError(w, awsError{400, "ValidationError", map[string]any{
			"message": fmt.Sprintf("Endpoint %s of account %s not found.", endpoint, testAccount)}})
		return
	}
	req := httptest.NewRequestWithContext(r.Context(), http.MethodPost, "/invocations", bytes.NewReader(body))
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	if a := r.Header.Get("Accept"); a != "" {
		req.Header.Set("Accept", a)
	}
	// SageMaker passes the custom attributes on to the container, and the container's back.
	if a := r.Header.Get(proxy.CustomAttributesHeader); a != "" {
		req.Header.Set(proxy.CustomAttributesHeader, a)
	}
	rec := httptest.NewRecorder()
	f.container.ServeHTTP(rec, req)
	res := rec.Result()
	out, err := io.ReadAll(res.Body)
	require.NoError(f.t, err)
	if res.StatusCode/100 != 2 {
		// What SageMaker does with a container error: 424 ModelError carrying the original.
		writeAWSError(w, awsError{424, "ModelError", map[string]any{
			"ErrorCode":          "CLIENT_ERROR_FROM_MODEL",
			"Message":            fmt.Sprintf("Received client error (%d) from primary with message %q.", res.StatusCode, out),
			"OriginalStatusCode": res.StatusCode,
			"OriginalMessage":    string(out),
			"LogStreamArn":       "arn:aws:logs:" + testRegion + ":" + testAccount + ":log-group:/aws/sagemaker/Endpoints/" + endpoint,
		}})
		return
	}
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.Header().Set("X-Amzn-Invoked-Production-Variant", "primary")
	if a := res.Header.Get(proxy.CustomAttributesHeader); a != "" {
		w.Header().Set(proxy.CustomAttributesHeader, a)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func (f *fakeSageMaker) describe(w http.ResponseWriter, r *http.Request) {
	f.describes.Add(1)
	var in struct{ EndpointName string }
	require.NoError(f.t, json.NewDecoder(r.Body).Decode(&in))
	f.mu.Lock()
	status, injected, configName, delay := f.endpointStatus, f.describeErr, f.configName, f.describeDelay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if configName == "" {
		configName = in.EndpointName + "-config"
	}
	if injected != nil {
		writeAWSError(w, *injected)
		return
	}
	if in.EndpointName != testEndpoint {
		writeAWSError(w, awsError{400, "ValidationException", map[string]any{"message": "Could not find endpoint \"" + in.EndpointName + "\"."}})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"EndpointName":       in.EndpointName,
		"EndpointArn":        "arn:aws:sagemaker:" + testRegion + ":" + testAccount + ":endpoint/" + in.EndpointName,
		"EndpointConfigName": configName,
		"EndpointStatus":     status,
		"CreationTime":       1.7e9,
		"LastModifiedTime":   1.7e9,
	})
}

func writeAWSError(w http.ResponseWriter, e awsError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.Header().Set("X-Amzn-RequestId", "fake-aws-request-id")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(e.body)
}

// syncBuffer collects the handler's log and metric lines from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns every line written, decoded as JSON objects.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "every log line is JSON: %s", l)
		out = append(out, m)
	}
	return out
}

// fakeClock is a settable clock shared by the handler and the cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one handler wired to a fake SageMaker through the real AWS SDK clients.
type env struct {
	h     *proxy.Handler
	fake  *fakeSageMaker
	out   *syncBuffer
	clock *fakeClock
}

// newEnv starts the fake with container as the model server and returns a handler for cfg;
// now nil means the real clock.
func newEnv(t testing.TB, cfg proxyconfig.Config, container http.Handler, clock *fakeClock) *env {
	t.Helper()
	fake := &fakeSageMaker{t: t, container: container, endpointStatus: "InService"}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	awsCfg := aws.Config{
		Region: testRegion,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Source: "test"}, nil
		}),
		HTTPClient: srv.Client(),
		// One attempt: the mapping of each AWS error is under test, not the SDK's retries.
		RetryMaxAttempts: 1,
	}
	out := &syncBuffer{}
	deps := proxy.Deps{
		Runtime: sagemakerruntime.NewFromConfig(awsCfg, func(o *sagemakerruntime.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
		}),
		SageMaker: sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		Out:       out,
	}
	if clock != nil {
		deps.Now = clock.Now
	}
	h, err := proxy.NewHandler(cfg, deps)
	require.NoError(t, err)
	return &env{h: h, fake: fake, out: out, clock: clock}
}

// do sends one API Gateway event through the handler.
func (e *env) do(t testing.TB, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	require.NoError(t, err, "the handler answers every failure with a response, never an error")
	return resp
}

var reqSeq atomic.Int64

// invocation is a POST /invocations event as API Gateway's REST proxy integration sends it.
func invocation(body string, headers map[string]string) events.APIGatewayProxyRequest {
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		if strings.EqualFold(k, "Content-Type") {
			delete(h, "Content-Type")
		}
		h[k] = v
	}
	return events.APIGatewayProxyRequest{
		Resource: "/invocations", Path: "/invocations", HTTPMethod: http.MethodPost, Headers: h, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID: fmt.Sprintf("req-%d", reqSeq.Add(1)), Stage: "v1",
		},
	}
}

func ping() events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		Resource: "/ping", Path: "/ping", HTTPMethod: http.MethodGet,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: fmt.Sprintf("req-%d", reqSeq.Add(1))},
	}
}
