package proxy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxy"
	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// lambdaResponseLimit is what the Runtime Interface Emulator accepts from a function, 6 MiB + 100
// bytes (aws-lambda-runtime-interface-emulator@v0.0.0-20261030222936-bef5c4ba774d,
// internal/lambda/interop/model.go MaxPayloadSize); a larger response is refused with
// Function.ResponseSizeTooLarge.
const lambdaResponseLimit = 6291556

// cloudWatchEventLimit is the largest log event CloudWatch Logs takes from Lambda's log shipping
// (PutLogEvents: "Each log event can be no larger than 256 KB").
const cloudWatchEventLimit = 256 << 10

// postedBytes is what aws-lambda-go itself makes of resp for the Runtime API: the real library's
// handler, not the code under test.
func postedBytes(t *testing.T, resp events.APIGatewayProxyResponse) []byte {
	t.Helper()
	h := lambda.NewHandler(func(context.Context, json.RawMessage) (events.APIGatewayProxyResponse, error) { return resp, nil })
	b, err := h.Invoke(context.Background(), []byte(`{}`))
	require.NoError(t, err)
	return b
}

// largeBodies is cacheOn with room to move a body of Lambda's 6 MB limit: under the race
// detector on 2 cores that takes 25 s or more (2.5 s without), and the default 28 s invoke
// timeout would turn a size check into a 504.
func largeBodies() proxyconfig.Config {
	c := cacheOn()
	c.InvokeTimeout = proxyconfig.MaxInvokeTimeout
	return c
}

func TestResponseSizeIsWhatAWSLambdaGoPosts(t *testing.T) {
	tests := map[string]events.APIGatewayProxyResponse{
		"plain":               {StatusCode: 200, Headers: map[string]string{"Content-Type": "text/csv"}, Body: "1,2\n3,4\n"},
		"quotes and html":     {StatusCode: 200, Headers: map[string]string{"X-Request-Id": "r"}, Body: `{"a":"<b>&\"c\""}`},
		"control and unicode": {StatusCode: 400, Headers: map[string]string{}, Body: "\x00\x01\t\u2028é\U0001F600\\"},
		"base64":              {StatusCode: 200, Body: "AAEC/w==", IsBase64Encoded: true, MultiValueHeaders: map[string][]string{"A": {"1", "2"}}},
	}
	for name, resp := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, len(postedBytes(t, resp)), proxy.ResponseSize(resp))
		})
	}
}

// sizedContainer answers every request with answer, a 200 of JSON.
func sizedContainer(answer string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, answer)
	})
}

// TestLargeAnswerWithEscapesNeverExceedsLambdasLimit: a 6.08 MB JSON answer passed the old guard
// (raw length against 6 MiB - 64 KiB), but each quote doubles inside the response JSON, so the
// response was 6.45 MB and Lambda refused it. Now it is a clear 502 that Lambda accepts.
func TestLargeAnswerWithEscapesNeverExceedsLambdasLimit(t *testing.T) {
	labels := strings.Repeat(`"versicolor",`, 6_080_000/13)
	answer := `{"predictions":[` + labels + `"setosa"]}`
	require.Less(t, len(answer), 6<<20-64<<10, "within the old raw-length guard")
	e := newEnv(t, largeBodies(), sizedContainer(answer), nil)
	resp := e.do(t, invocation(`[1]`, nil))
	assert.LessOrEqual(t, len(postedBytes(t, resp)), lambdaResponseLimit, "Lambda accepts the response")
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.True(t, strings.Contains(resp.Body, "send fewer rows"), "%.200s", resp.Body)
	assert.True(t, strings.Contains(resp.Body, resp.Headers["X-Request-Id"]), "%.200s", resp.Body)
	assert.Equal(t, "MISS", resp.Headers["X-Cache"])
	assert.Zero(t, e.h.Cache().Len(), "an answer that cannot be returned is not cached")
}

// TestLargestAnswerThatFits: the byte budget is exact. The framing (status, headers with this
// request ID, X-Cache) is measured by aws-lambda-go on the expected response with an empty body;
// an answer of plain letters adds exactly its length.
func TestLargestAnswerThatFits(t *testing.T) {
	const reqID = "0123456789abcdef-fits"
	framing := len(postedBytes(t, events.APIGatewayProxyResponse{StatusCode: 200, Headers: map[string]string{
		"Content-Type": "application/json", "X-Request-Id": reqID, "X-Cache": "MISS"}}))
	largest := lambdaResponseLimit - framing
	for _, tc := range []struct {
		name   string
		size   int
		status int
	}{
		{"largest that fits", largest, http.StatusOK},
		{"one byte more", largest + 1, http.StatusBadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, largeBodies(), sizedContainer(strings.Repeat("a", tc.size)), nil)
			req := invocation(`[1]`, nil)
			req.RequestContext.RequestID = reqID
			resp := e.do(t, req)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.LessOrEqual(t, len(postedBytes(t, resp)), lambdaResponseLimit)
			if tc.status == http.StatusOK {
				assert.Equal(t, lambdaResponseLimit, len(postedBytes(t, resp)), "exactly at the limit")
				assert.Equal(t, 1, e.h.Cache().Len())
			}
		})
	}
}

// rejectingContainer answers 400 with body, as a model that explains at length.
func rejectingContainer(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, body)
	})
}

func TestPassedThroughRejectionObeysTheSameLimit(t *testing.T) {
	explanation := `{"errors":[` + strings.Repeat(`"row has 3 features, the model needs 4",`, 160_000) + `""]}`
	e := newEnv(t, largeBodies(), rejectingContainer(explanation), nil)
	resp := e.do(t, invocation(`[1,2,3]`, nil))
	assert.LessOrEqual(t, len(postedBytes(t, resp)), lambdaResponseLimit)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "still the model's own status")
	var body struct{ Message, RequestID string }
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &body))
	assert.True(t, strings.Contains(body.Message, "too large to pass on"), "%.200s", body.Message)
	assert.Equal(t, resp.Headers["X-Request-Id"], body.RequestID)

	t.Run("a small rejection still passes through unchanged", func(t *testing.T) {
		e := newEnv(t, cacheOn(), rejectingContainer(`{"error":"row 0 has 3 features"}`), nil)
		resp := e.do(t, invocation(`[1,2,3]`, nil))
		assert.Equal(t, `{"error":"row 0 has 3 features"}`, resp.Body)
	})
}

// TestLogLinesFitACloudWatchEvent: the SDK's ModelError message quotes the container's answer;
// a 5 MB rejection must not become a 5 MB log line, which CloudWatch would cut.
func TestLogLinesFitACloudWatchEvent(t *testing.T) {
	e := newEnv(t, largeBodies(), rejectingContainer(strings.Repeat("x", 5<<20)), nil)
	req := invocation(`[1,2,3]`, nil)
	req.RequestContext.RequestID = strings.Repeat("i", 1<<20) // a direct invocation can send anything
	e.do(t, req)
	e.do(t, ping())
	lines := e.out.lines(t) // every line is still JSON
	require.NotEmpty(t, lines)
	for _, l := range strings.Split(strings.TrimSpace(e.out.buf.String()), "\n") {
		assert.Less(t, len(l), cloudWatchEventLimit, "line starting %.120s", l)
	}
	var warned bool
	for _, l := range lines {
		if l["msg"] == "invoke endpoint failed" {
			warned = true
			msg, _ := l["error"].(string)
			assert.True(t, strings.Contains(msg, "bytes in all"), "the cut is visible: %.200s", msg)
		}
	}
	assert.True(t, warned)
}

func TestPayloadLimitFollowsTheEndpointType(t *testing.T) {
	serverless := cacheOn()
	serverless.MaxPayloadBytes = 4 << 20 // https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-invoke.html
	for _, tc := range []struct {
		name   string
		body   int
		status int
	}{
		{"4 MiB fits", 4 << 20, http.StatusOK},
		{"one byte over 4 MiB", 4<<20 + 1, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, serverless, echoContainer(), nil)
			resp := e.do(t, invocation(strings.Repeat("1", tc.body), nil))
			assert.Equal(t, tc.status, resp.StatusCode, "%.200s", resp.Body)
			if tc.status == http.StatusRequestEntityTooLarge {
				assert.Contains(t, resp.Body, "at most 4194304 bytes")
				assert.Zero(t, e.fake.invocations.Load())
			}
		})
	}
}
