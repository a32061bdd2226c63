// Package proxy is the Lambda function between API Gateway and the SageMaker endpoint: it checks
// the request, answers repeated requests from an in-memory cache, invokes the endpoint, maps its
// errors to HTTP and leaves one structured log line with CloudWatch metrics per request.
package proxy

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// MaxBodyBytes is the largest request body accepted: the synchronous Lambda payload limit, which
// is also SageMaker's classic real-time payload limit.
const MaxBodyBytes = 6 << 20

// maxResponseBytes is the largest answer body the handler returns as is: Lambda refuses a
// response payload over 6 MB, and API Gateway would turn that into a bare 502. The margin covers
// the headers and JSON framing of the response event.
const maxResponseBytes = MaxBodyBytes - 64<<10

// invokeMargin is kept back from the Lambda deadline so that a slow endpoint gets a 504 with a
// request ID from us rather than a bare Lambda timeout. The API's integration timeout (29 s) is
// usually sooner than the Lambda deadline; Config.InvokeTimeout covers that one.
const invokeMargin = 500 * time.Millisecond

// defaultContentType is sent to the endpoint when the request names none; the inference server
// reads JSON by default.
const defaultContentType = "application/json"

// Invoker is the part of the SageMaker runtime client the handler uses.
type Invoker interface {
	InvokeEndpoint(ctx context.Context, in *sagemakerruntime.InvokeEndpointInput,
		opts ...func(*sagemakerruntime.Options)) (*sagemakerruntime.InvokeEndpointOutput, error)
}

// Describer is the part of the SageMaker client the handler uses.
type Describer interface {
	DescribeEndpoint(ctx context.Context, in *sagemaker.DescribeEndpointInput,
		opts ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointOutput, error)
}

// Deps are the handler's collaborators.
type Deps struct {
	// Runtime invokes the endpoint (required).
	Runtime Invoker
	// SageMaker describes the endpoint for GET /ping (required).
	SageMaker Describer
	// Out receives the JSON log and metric lines (default os.Stdout, which Lambda ships to
	// CloudWatch Logs).
	Out io.Writer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Handler serves API Gateway REST proxy events.
type Handler struct {
	cfg     proxyconfig.Config
	runtime Invoker
	sm      Describer
	cache   *Cache // nil when caching is off: no cache on the path at all
	log     *slog.Logger
	emf     *emfWriter
	now     func() time.Time

	statusMu      sync.Mutex
	status        string
	statusFetched time.Time
}

// NewHandler validates cfg and returns a handler.
func NewHandler(cfg proxyconfig.Config, d Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid proxy configuration:\n%w", err)
	}
	if d.Runtime == nil || d.SageMaker == nil {
		return nil, errors.New("proxy handler: Runtime and SageMaker clients are required")
	}
	if d.Out == nil {
		d.Out = os.Stdout
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("proxy handler: log level %q: %w", cfg.LogLevel, err)
	}
	h := &Handler{
		cfg: cfg, runtime: d.Runtime, sm: d.SageMaker, now: d.Now,
		log: slog.New(slog.NewJSONHandler(d.Out, &slog.HandlerOptions{Level: level})).
			With(slog.String("endpoint_name", cfg.EndpointName)),
		emf: &emfWriter{w: d.Out, endpoint: cfg.EndpointName, now: d.Now},
	}
	if cfg.CacheEnabled {
		h.cache = NewCache(cfg.CacheTTL, cfg.CacheMaxEntries, cfg.CacheMaxBytes, d.Now)
	}
	return h, nil
}

// Cache returns the response cache, nil when caching is off.
func (h *Handler) Cache() *Cache { return h.cache }

// Handle serves one event. It never returns an error: Lambda would turn one into a bare 502
// without the request ID, so every failure becomes a response here.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	resp := h.route(ctx, req)
	// CORS headers go on every answer, cached or not, errors included: a browser drops an answer
	// without them, and the page then cannot even show the error.
	if allow := h.cfg.AllowsOrigin(header(req, "Origin")); allow != "" {
		resp.Headers["Access-Control-Allow-Origin"] = allow
		resp.Headers["Access-Control-Expose-Headers"] = "X-Request-Id, X-Cache"
		if allow != "*" {
			resp.Headers["Vary"] = "Origin"
		}
	}
	return resp, nil
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	reqID := requestID(ctx, req)
	route := req.Resource
	if route == "" {
		route = req.Path
	}
	switch route {
	case "/invocations":
		if req.HTTPMethod != http.MethodPost {
			return h.methodNotAllowed(reqID, http.MethodPost)
		}
		return h.invocations(ctx, reqID, req)
	case "/ping":
		if req.HTTPMethod != http.MethodGet {
			return h.methodNotAllowed(reqID, http.MethodGet)
		}
		return h.ping(ctx, reqID)
	}
	return errorResponse(http.StatusNotFound, "no such route: use GET /ping or POST /invocations", reqID)
}

func (h *Handler) invocations(ctx context.Context, reqID string, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	start := h.now()
	rec := requestRecord{requestID: reqID, cache: cacheOff}
	if h.cache != nil {
		// Until the cache is consulted there is no outcome: a request rejected before the lookup
		// is neither a hit nor a miss, and counting it would understate the hit rate.
		rec.cache = cacheNone
	}
	finish := func(resp events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
		rec.status = resp.StatusCode
		rec.latency = h.now().Sub(start)
		if rec.hasOutcome() {
			resp.Headers["X-Cache"] = rec.cache
		}
		h.emf.write(rec)
		return resp
	}

	body, bad := decodeBody(req)
	if bad != nil {
		h.log.Info("request rejected", "request_id", reqID, "status", bad.status, "reason", bad.message)
		return finish(errorResponse(bad.status, bad.message, reqID))
	}
	contentType := header(req, "Content-Type")
	if contentType == "" {
		contentType = defaultContentType
	}
	accept := header(req, "Accept")

	var key CacheKey
	noCache, noStore := cacheDirectives(header(req, "Cache-Control"))
	if h.cache != nil {
		key = NewCacheKey(h.cfg.EndpointName, contentType, accept, body)
		if !noCache && !noStore {
			if hit, ok := h.cache.Get(key); ok {
				rec.cache = cacheHit
				return finish(okResponse(hit, reqID))
			}
		}
		// A Cache-Control bypass is a miss too: the request was the cache's to serve and went
		// to the endpoint.
		rec.cache = cacheMiss
	}

	in := &sagemakerruntime.InvokeEndpointInput{
		EndpointName: &h.cfg.EndpointName,
		Body:         body,
		ContentType:  &contentType,
	}
	if accept != "" {
		in.Accept = &accept
	}
	ictx, cancel := invokeContext(ctx, h.cfg.InvokeTimeout)
	defer cancel()
	t0 := h.now()
	out, err := h.runtime.InvokeEndpoint(ictx, in)
	rec.endpointLatency, rec.invoked = h.now().Sub(t0), true
	if err != nil {
		ae := mapInvokeError(err)
		h.log.Warn("invoke endpoint failed", "request_id", reqID, "status", ae.status, "error", err.Error())
		return finish(apiErrorResponse(ae, reqID))
	}
	resp := CachedResponse{Body: out.Body, ContentType: defaultContentType}
	if out.ContentType != nil && *out.ContentType != "" {
		resp.ContentType = *out.ContentType
	}
	if encodedLen(resp.Body) > maxResponseBytes {
		h.log.Warn("answer too large for Lambda", "request_id", reqID, "bytes", len(resp.Body))
		return finish(errorResponse(http.StatusBadGateway,
			fmt.Sprintf("the model's answer is larger than the %d bytes a Lambda response can carry: send fewer rows", maxResponseBytes), reqID))
	}
	// Only successes reach this point, so only successes are cached. no-cache refreshes the
	// entry with the answer just fetched; no-store leaves no trace.
	if h.cache != nil && !noStore {
		h.cache.Put(key, resp)
	}
	return finish(okResponse(resp, reqID))
}

func (h *Handler) ping(ctx context.Context, reqID string) events.APIGatewayProxyResponse {
	status, err := h.endpointStatus(ctx)
	if err != nil {
		h.log.Warn("describe endpoint failed", "request_id", reqID, "error", err.Error())
		return jsonResponse(http.StatusServiceUnavailable,
			`{"status":"UNKNOWN","message":"the endpoint status could not be read","requestId":`+
				string(appendJSONString(nil, reqID))+`}`, reqID)
	}
	code, up := http.StatusServiceUnavailable, "DOWN"
	// Updating endpoints keep serving the old configuration until the new one is in service.
	switch smtypes.EndpointStatus(status) {
	case smtypes.EndpointStatusInService, smtypes.EndpointStatusUpdating, smtypes.EndpointStatusSystemUpdating:
		code, up = http.StatusOK, "UP"
	}
	body := `{"status":"` + up + `","endpointStatus":` + string(appendJSONString(nil, status)) + `}`
	if code != http.StatusOK {
		h.log.Info("endpoint not in service", "request_id", reqID, "endpoint_status", status)
	}
	return jsonResponse(code, body, reqID)
}

// endpointStatus returns the endpoint status, calling DescribeEndpoint at most once per StatusTTL.
// Errors are not remembered, so the next ping tries again.
func (h *Handler) endpointStatus(ctx context.Context) (string, error) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	now := h.now()
	if h.status != "" && now.Sub(h.statusFetched) < h.cfg.StatusTTL {
		return h.status, nil
	}
	ictx, cancel := invokeContext(ctx, h.cfg.InvokeTimeout)
	defer cancel()
	out, err := h.sm.DescribeEndpoint(ictx, &sagemaker.DescribeEndpointInput{EndpointName: &h.cfg.EndpointName})
	if err != nil {
		return "", err
	}
	h.status, h.statusFetched = string(out.EndpointStatus), now
	return h.status, nil
}

func (h *Handler) methodNotAllowed(reqID, allow string) events.APIGatewayProxyResponse {
	resp := errorResponse(http.StatusMethodNotAllowed, "method not allowed: use "+allow, reqID)
	resp.Headers["Allow"] = allow
	return resp
}

// invokeContext stops an AWS call after timeout or invokeMargin before the Lambda deadline,
// whichever is sooner. API Gateway gives up after its integration timeout whatever the Lambda
// timeout is, so without timeout our 504 would come after the caller already had API Gateway's.
func invokeContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-invokeMargin).Before(deadline) {
		deadline = d.Add(-invokeMargin)
	}
	return context.WithDeadline(ctx, deadline)
}

// decodeBody returns the request body, decoding API Gateway's base64 for binary media types.
func decodeBody(req events.APIGatewayProxyRequest) ([]byte, *apiError) {
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge,
		message: fmt.Sprintf("request body too large: the limit is %d bytes", MaxBodyBytes)}
	var body []byte
	if req.IsBase64Encoded {
		// Refuse before decoding what cannot fit.
		if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBodyBytes+2 {
			return nil, tooLarge
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, &apiError{status: http.StatusBadRequest, message: "request body is not valid base64"}
		}
		body = b
	} else {
		body = []byte(req.Body)
	}
	if len(body) > MaxBodyBytes {
		return nil, tooLarge
	}
	if len(body) == 0 {
		return nil, &apiError{status: http.StatusBadRequest, message: "request body is empty: send the rows to predict"}
	}
	return body, nil
}

// cacheDirectives reads no-cache and no-store from a Cache-Control header.
func cacheDirectives(v string) (noCache, noStore bool) {
	for v != "" {
		var d string
		d, v, _ = strings.Cut(v, ",")
		d, _, _ = strings.Cut(d, "=")
		switch strings.ToLower(strings.TrimSpace(d)) {
		case "no-cache":
			noCache = true
		case "no-store":
			noStore = true
		}
	}
	return noCache, noStore
}

// header returns a request header by case-insensitive name; API Gateway keeps the client's case.
func header(req events.APIGatewayProxyRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return strings.Join(vs, ",")
		}
	}
	return ""
}

// requestID prefers API Gateway's request ID, which the caller can quote and which appears in
// the API's access logs; the Lambda request ID is the fallback for direct invocations.
func requestID(ctx context.Context, req events.APIGatewayProxyRequest) string {
	if req.RequestContext.RequestID != "" {
		return req.RequestContext.RequestID
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return "unknown"
}

func okResponse(r CachedResponse, reqID string) events.APIGatewayProxyResponse {
	resp := events.APIGatewayProxyResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": r.ContentType, "X-Request-Id": reqID},
	}
	// API Gateway carries text as is and anything else base64-encoded.
	if utf8.Valid(r.Body) {
		resp.Body = string(r.Body)
	} else {
		resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(r.Body), true
	}
	return resp
}

// encodedLen is the size of body in the response event: as is for UTF-8, else base64.
func encodedLen(body []byte) int {
	if utf8.Valid(body) {
		return len(body)
	}
	return base64.StdEncoding.EncodedLen(len(body))
}

func jsonResponse(status int, body, reqID string) events.APIGatewayProxyResponse {
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "X-Request-Id": reqID},
		Body:       body,
	}
}

func errorResponse(status int, message, reqID string) events.APIGatewayProxyResponse {
	return jsonResponse(status, errorBody(message, reqID), reqID)
}

func apiErrorResponse(e apiError, reqID string) events.APIGatewayProxyResponse {
	resp := errorResponse(e.status, e.message, reqID)
	if e.passthrough != nil {
		resp.Body = string(e.passthrough)
		if !looksLikeJSON(e.passthrough) {
			resp.Headers["Content-Type"] = "text/plain; charset=utf-8"
		}
	}
	if e.retryAfter != "" {
		resp.Headers["Retry-After"] = e.retryAfter
	}
	return resp
}

func looksLikeJSON(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}
