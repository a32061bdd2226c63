// Package proxy is the Lambda function between API Gateway and the SageMaker endpoint: it checks
// the request, answers repeated requests from an in-memory cache, invokes the endpoint, maps its
// errors to HTTP and leaves one structured log line with CloudWatch metrics per request.
package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
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

	"github.com/inferstack/inferstack/internal/contract"
	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// MaxBodyBytes is the largest request body a real-time endpoint accepts (6 MiB, SageMaker's
// real-time payload limit); Config.MaxPayloadBytes lowers it, to 4 MiB for a serverless endpoint.
// A request this large never reaches a Lambda function in practice: Lambda refuses an event over
// 6 MB, and the event carries the body along with headers and request context.
const MaxBodyBytes = proxyconfig.RealTimePayloadBytes

// MaxResponseBytes is the largest response Lambda accepts from a function: the payload the
// runtime posts to the Runtime API, here the JSON of the APIGatewayProxyResponse. Lambda documents
// "6 MB" for synchronous invocations (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
// the Runtime Interface Emulator enforces exactly 6 MiB + 100 bytes (MaxPayloadSize in
// aws-lambda-runtime-interface-emulator@v0.0.0-20261030222936-bef5c4ba774d internal/lambda/interop/model.go)
// and answers a larger one with Function.ResponseSizeTooLarge, after which aws-lambda-go exits.
const MaxResponseBytes = 6*1024*1024 + 100

// maxLogValueBytes caps each string a log line carries (an AWS error message quotes the
// container's whole answer): with a handful of values, a line stays far below the 256 KB that
// CloudWatch Logs takes per event (PutLogEvents).
const maxLogValueBytes = 8 << 10

// maxRequestIDBytes caps the request ID taken from the event; API Gateway's are 36 bytes, a
// direct invocation can send anything, and the ID goes into headers, bodies and log lines.
const maxRequestIDBytes = 128

// describeTimeout bounds the DescribeEndpoint call a request may make, so that the model check
// cannot use up the time the endpoint call needs.
const describeTimeout = 2 * time.Second

// invokeMargin is kept back from the Lambda deadline so that a slow endpoint gets a 504 with a
// request ID from us rather than a bare Lambda timeout. The API's integration timeout (29 s) is
// usually sooner than the Lambda deadline; Config.InvokeTimeout covers that one.
const invokeMargin = 500 * time.Millisecond

// defaultContentType is sent to the endpoint when the request names none; the inference server
// reads JSON by default.
const defaultContentType = "application/json"

// The SageMaker runtime's request headers the proxy passes on, named as InvokeEndpoint names
// them on the wire (aws-sdk-go-v2 service/sagemakerruntime v1.50.4 schemas/schemas.go:434,442,458).
const (
	// CustomAttributesHeader carries InvokeEndpointInput.CustomAttributes, and back the
	// endpoint's InvokeEndpointOutput.CustomAttributes.
	CustomAttributesHeader = contract.HeaderCustomAttributes
	// InferenceIDHeader carries InvokeEndpointInput.InferenceId, which data capture records.
	InferenceIDHeader = contract.HeaderInferenceID
)

// The limits of those two values in the SageMaker runtime's API model (botocore 1.43.11
// data/sagemaker-runtime/2017-05-13/service-2.json: CustomAttributesHeader max 1024;
// InferenceId min 1, max 64, pattern \A\S[\p{Print}]*\z) and its documentation ("no more than
// 1024 visible US-ASCII characters as specified in Section 3.3.6 ... of HTTP/1.1"). Checking them
// here answers a 400 naming the header rather than SageMaker's ValidationError.
const (
	maxCustomAttributes = 1024
	maxInferenceID      = 64
)

// checkCustomAttributes accepts visible US-ASCII and spaces (0x20-0x7E), as the inference
// server does (inference/server/sagemaker.go customAttributes).
func checkCustomAttributes(v string) string {
	if len(v) > maxCustomAttributes {
		return fmt.Sprintf("%s is %d bytes; SageMaker takes at most %d visible US-ASCII characters", CustomAttributesHeader, len(v), maxCustomAttributes)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%s has byte 0x%02x at offset %d; SageMaker takes only visible US-ASCII characters and spaces (0x20-0x7E)", CustomAttributesHeader, c, i)
		}
	}
	return ""
}

// checkInferenceID applies the API's pattern: a first character that is not white space, then
// printable characters (Java's \p{Print}: ASCII 0x20-0x7E), 1 to 64 of them.
func checkInferenceID(v string) string {
	if len(v) > maxInferenceID {
		return fmt.Sprintf("%s is %d characters; SageMaker takes 1 to %d", InferenceIDHeader, len(v), maxInferenceID)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || (i == 0 && c == ' ') {
			return fmt.Sprintf("%s has byte 0x%02x at offset %d; SageMaker takes printable ASCII (0x20-0x7E), not starting with a space", InferenceIDHeader, c, i)
		}
	}
	return ""
}

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

	// state is what DescribeEndpoint last said, shared by GET /ping and the model check.
	stateMu sync.Mutex
	state   endpointState
	// cacheModel is the endpoint configuration the cached answers came from.
	cacheModel string
}

// endpointState is one DescribeEndpoint answer, or its failure.
type endpointState struct {
	status     string
	configName string
	fetched    time.Time // of the last success
	attempted  time.Time // of the last call, failed or not
	err        error     // of the last call
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
		log: slog.New(slog.NewJSONHandler(d.Out, &slog.HandlerOptions{Level: level, ReplaceAttr: capLogValue})).
			With(slog.String("endpoint_name", cfg.EndpointName)),
		emf: &emfWriter{w: d.Out, endpoint: cfg.EndpointName, now: d.Now},
	}
	if cfg.CacheEnabled {
		h.cache = NewCache(cfg.CacheTTL, cfg.CacheMaxEntries, cfg.CacheMaxBytes, d.Now)
	}
	return h, nil
}

// capLogValue shortens long strings (an AWS error quoting a container's answer), keeping every
// log line within what one CloudWatch Logs event can hold.
func capLogValue(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindString {
		if s := a.Value.String(); len(s) > maxLogValueBytes {
			a.Value = slog.StringValue(truncateUTF8(s, maxLogValueBytes) + fmt.Sprintf("... (%d bytes in all)", len(s)))
		}
	}
	return a
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Cache returns the response cache, nil when caching is off.
func (h *Handler) Cache() *Cache { return h.cache }

// Handle serves one event. It never returns an error: Lambda would turn one into a bare 502
// without the request ID, so every failure becomes a response here. No response is larger than
// Lambda accepts, so the runtime never refuses one and the process (and its cache) lives on.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	reqID := requestID(ctx, req)
	route := req.Resource
	if route == "" {
		route = req.Path
	}
	switch route {
	case "/invocations":
		if req.HTTPMethod != http.MethodPost {
			return h.seal(req, reqID, h.methodNotAllowed(reqID, http.MethodPost)), nil
		}
		return h.invocations(ctx, reqID, req), nil
	case "/ping":
		if req.HTTPMethod != http.MethodGet {
			return h.seal(req, reqID, h.methodNotAllowed(reqID, http.MethodGet)), nil
		}
		return h.seal(req, reqID, h.ping(ctx, reqID)), nil
	}
	return h.seal(req, reqID, errorResponse(http.StatusNotFound, "no such route: use GET /ping or POST /invocations", reqID)), nil
}

// seal adds the CORS headers and makes sure Lambda will accept the response: one whose JSON is
// over MaxResponseBytes is replaced by a short error with the same meaning.
func (h *Handler) seal(req events.APIGatewayProxyRequest, reqID string, resp events.APIGatewayProxyResponse) events.APIGatewayProxyResponse {
	resp, _ = h.sealSized(req, reqID, resp)
	return resp
}

// sealSized is seal, also reporting whether resp went out as it was.
func (h *Handler) sealSized(req events.APIGatewayProxyRequest, reqID string, resp events.APIGatewayProxyResponse) (events.APIGatewayProxyResponse, bool) {
	origin := header(req, "Origin")
	h.addCORS(origin, resp.Headers)
	size := ResponseSize(resp)
	if size <= MaxResponseBytes {
		return resp, true
	}
	h.log.Warn("response too large for Lambda", "request_id", reqID, "status", resp.StatusCode,
		"body_bytes", len(resp.Body), "response_bytes", size, "limit_bytes", MaxResponseBytes)
	var out events.APIGatewayProxyResponse
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		// The model's own rejection keeps its status; only its explanation cannot travel.
		out = errorResponse(resp.StatusCode, fmt.Sprintf(
			"the model rejected the request; its explanation (%d bytes) is too large to pass on, see the endpoint's logs", len(resp.Body)), reqID)
	} else {
		out = errorResponse(http.StatusBadGateway, fmt.Sprintf(
			"the model's answer (%d bytes as a Lambda response) is larger than the %d bytes a Lambda response can carry: send fewer rows",
			size, MaxResponseBytes), reqID)
	}
	for _, k := range []string{"X-Cache", "Retry-After"} {
		if v, ok := resp.Headers[k]; ok {
			out.Headers[k] = v
		}
	}
	h.addCORS(origin, out.Headers)
	return out, false
}

// addCORS puts the CORS headers on every answer, cached or not, errors included: a browser drops
// an answer without them, and the page then cannot even show the error.
func (h *Handler) addCORS(origin string, headers map[string]string) {
	if allow := h.cfg.AllowsOrigin(origin); allow != "" {
		headers["Access-Control-Allow-Origin"] = allow
		headers["Access-Control-Expose-Headers"] = "X-Request-Id, X-Cache, " + CustomAttributesHeader
		if allow != "*" {
			headers["Vary"] = "Origin"
		}
	}
}

// ResponseSize is the number of bytes aws-lambda-go posts to the Runtime API for resp: it encodes
// the handler's result with a json.Encoder, SetEscapeHTML(false), and strips the newline the
// encoder ends with (aws-lambda-go v1.55.1 lambda/handler.go). Measuring with the same encoder
// counts every escape (a quote in a JSON answer becomes \", a control character \u00XX) and
// every header.
func ResponseSize(resp events.APIGatewayProxyResponse) int {
	var n countingWriter
	enc := json.NewEncoder(&n)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		// Strings and maps of strings always encode; were it otherwise, nothing would fit.
		return math.MaxInt
	}
	return int(n) - 1
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func (h *Handler) invocations(ctx context.Context, reqID string, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	start := h.now()
	// One deadline for the whole request, the model check included, so that the answer still
	// comes before API Gateway's integration timeout.
	ctx, cancel := invokeContext(ctx, h.cfg.InvokeTimeout)
	defer cancel()
	rec := requestRecord{requestID: reqID, cache: cacheOff}
	if h.cache != nil {
		// Until the cache is consulted there is no outcome: a request rejected before the lookup
		// is neither a hit nor a miss, and counting it would understate the hit rate.
		rec.cache = cacheNone
	}
	finish := func(resp events.APIGatewayProxyResponse, sealed bool) events.APIGatewayProxyResponse {
		if rec.hasOutcome() {
			resp.Headers["X-Cache"] = rec.cache
		}
		if !sealed {
			resp = h.seal(req, reqID, resp)
		}
		rec.status = resp.StatusCode
		rec.latency = h.now().Sub(start)
		h.emf.write(rec)
		return resp
	}

	body, bad := decodeBody(req, h.cfg.MaxPayloadBytes)
	if bad != nil {
		h.log.Info("request rejected", "request_id", reqID, "status", bad.status, "reason", bad.message)
		return finish(errorResponse(bad.status, bad.message, reqID), false)
	}
	contentType := header(req, "Content-Type")
	if contentType == "" {
		contentType = defaultContentType
	}
	accept := header(req, "Accept")
	// Their values are not logged: the API model marks custom attributes sensitive.
	customAttrs, inferenceID := header(req, CustomAttributesHeader), header(req, InferenceIDHeader)
	for _, msg := range []string{checkCustomAttributes(customAttrs), checkInferenceID(inferenceID)} {
		if msg != "" {
			h.log.Info("request rejected", "request_id", reqID, "status", http.StatusBadRequest, "reason", msg)
			return finish(errorResponse(http.StatusBadRequest, msg, reqID), false)
		}
	}

	var key CacheKey
	noCache, noStore := cacheDirectives(header(req, "Cache-Control"))
	if inferenceID != "" {
		// An inference ID is there to be found in the endpoint's captured data: the request must
		// reach the endpoint. Its answer still refreshes the entry, as no-cache does.
		noCache = true
	}
	if h.cache != nil {
		model, storable, known := h.cacheModelFor(ctx, reqID)
		if !known {
			// Which model serves is unknown: an answer could be the previous model's either way.
			noCache, noStore = true, true
		}
		if !storable {
			noStore = true
		}
		key = NewCacheKey(h.cfg.EndpointName, model, contentType, accept, customAttrs, body)
		if !noCache && !noStore {
			if hit, ok := h.cache.Get(key); ok {
				rec.cache = cacheHit
				return finish(okResponse(hit, reqID), false)
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
	if customAttrs != "" {
		in.CustomAttributes = &customAttrs
	}
	if inferenceID != "" {
		in.InferenceId = &inferenceID
	}
	t0 := h.now()
	out, err := h.runtime.InvokeEndpoint(ctx, in)
	rec.endpointLatency, rec.invoked = h.now().Sub(t0), true
	if err != nil {
		ae := mapInvokeError(err)
		h.log.Warn("invoke endpoint failed", "request_id", reqID, "status", ae.status, "error", err.Error())
		return finish(apiErrorResponse(ae, reqID), false)
	}
	cached := CachedResponse{ContentType: defaultContentType}
	if out.ContentType != nil && *out.ContentType != "" {
		cached.ContentType = *out.ContentType
	}
	if out.CustomAttributes != nil {
		cached.CustomAttributes = *out.CustomAttributes
	}
	// API Gateway carries text as is and anything else base64-encoded.
	if utf8.Valid(out.Body) {
		cached.Body = string(out.Body)
	} else {
		cached.Body, cached.Base64 = base64.StdEncoding.EncodeToString(out.Body), true
	}
	out.Body = nil // the string above is the one copy kept
	resp := okResponse(cached, reqID)
	if rec.hasOutcome() {
		resp.Headers["X-Cache"] = rec.cache
	}
	resp, fits := h.sealSized(req, reqID, resp)
	// Only successes that Lambda can return are cached. no-cache refreshes the entry with the
	// answer just fetched; no-store leaves no trace.
	if fits && h.cache != nil && !noStore {
		h.cache.Put(key, cached)
	}
	return finish(resp, true)
}

// cacheModelFor returns the model part of the cache key: the configuration the stack deployed
// and the one DescribeEndpoint says serves, read at most once per ModelCheck. A change flushes
// the cache, so a rollout or a rollback does not serve the previous model's answers for a TTL.
// storable is false while an update is under way (traffic may be shifting between the two
// models); known is false when the serving configuration could not be read.
func (h *Handler) cacheModelFor(ctx context.Context, reqID string) (model string, storable, known bool) {
	st := h.describe(ctx, reqID, h.cfg.ModelCheck, true)
	if st.configName == "" {
		return "", false, false
	}
	h.stateMu.Lock()
	if h.cacheModel != st.configName {
		old := h.cacheModel
		h.cacheModel = st.configName
		h.stateMu.Unlock()
		n := h.cache.Len()
		h.cache.Purge()
		if old != "" {
			h.log.Info("endpoint configuration changed: cache flushed", "request_id", reqID,
				"from_config", old, "to_config", st.configName, "entries_dropped", n)
		}
	} else {
		h.stateMu.Unlock()
	}
	switch smtypes.EndpointStatus(st.status) {
	case smtypes.EndpointStatusInService, smtypes.EndpointStatusSystemUpdating:
		storable = true
	}
	return h.cfg.EndpointConfigName + "\x00" + st.configName, storable, true
}

func (h *Handler) ping(ctx context.Context, reqID string) events.APIGatewayProxyResponse {
	ctx, cancel := invokeContext(ctx, h.cfg.InvokeTimeout)
	defer cancel()
	st := h.describe(ctx, reqID, h.cfg.StatusTTL, false)
	if st.err != nil {
		return jsonResponse(http.StatusServiceUnavailable,
			`{"status":"UNKNOWN","message":"the endpoint status could not be read","requestId":`+
				string(appendJSONString(nil, reqID))+`}`, reqID)
	}
	status := st.status
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

// describe returns the endpoint's state, calling DescribeEndpoint only when the last success is
// older than maxAge. A failure is returned with the last good state cleared; GET /ping tries
// again on the next call, while the model check (rateLimitErrors) waits maxAge before it does, so
// that a throttled DescribeEndpoint is not called on every request.
func (h *Handler) describe(ctx context.Context, reqID string, maxAge time.Duration, rateLimitErrors bool) endpointState {
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	now := h.now()
	st := h.state
	if st.err == nil && st.status != "" && now.Sub(st.fetched) < maxAge {
		return st
	}
	if st.err != nil && rateLimitErrors && now.Sub(st.attempted) < maxAge {
		return st
	}
	dctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	out, err := h.sm.DescribeEndpoint(dctx, &sagemaker.DescribeEndpointInput{EndpointName: &h.cfg.EndpointName})
	if err != nil {
		h.log.Warn("describe endpoint failed", "request_id", reqID, "error", err.Error())
		h.state = endpointState{attempted: now, err: err}
		return h.state
	}
	h.state = endpointState{status: string(out.EndpointStatus), fetched: now, attempted: now}
	if out.EndpointConfigName != nil {
		h.state.configName = *out.EndpointConfigName
	}
	return h.state
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
func decodeBody(req events.APIGatewayProxyRequest, limit int) ([]byte, *apiError) {
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge,
		message: fmt.Sprintf("request body too large: the endpoint takes at most %d bytes; send fewer rows", limit)}
	var body []byte
	if req.IsBase64Encoded {
		// Refuse before decoding what cannot fit.
		if base64.StdEncoding.DecodedLen(len(req.Body)) > limit+2 {
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
	if len(body) > limit {
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
	if id := req.RequestContext.RequestID; id != "" {
		return truncateUTF8(id, maxRequestIDBytes)
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	return "unknown"
}

func okResponse(r CachedResponse, reqID string) events.APIGatewayProxyResponse {
	resp := events.APIGatewayProxyResponse{
		StatusCode:      http.StatusOK,
		Headers:         map[string]string{"Content-Type": r.ContentType, "X-Request-Id": reqID},
		Body:            r.Body,
		IsBase64Encoded: r.Base64,
	}
	if r.CustomAttributes != "" {
		resp.Headers[CustomAttributesHeader] = r.CustomAttributes
	}
	return resp
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
