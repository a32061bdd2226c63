package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/aws/smithy-go"
)

// apiError is what the caller is told about a failed request. Internal details stay in the log.
type apiError struct {
	status int
	// message is safe to show the caller; it never carries AWS account details or stack traces.
	message string
	// passthrough, when set, is the container's own error body, sent unchanged.
	passthrough []byte
	// retryAfter is the Retry-After header value in seconds ("" for none).
	retryAfter string
}

// Throttling error codes AWS services return; the SageMaker runtime models none of them as a
// type, so they arrive as generic smithy API errors.
var throttlingCodes = map[string]bool{
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"ThrottledException":                     true,
	"TooManyRequestsException":               true,
	"RequestLimitExceeded":                   true,
	"ProvisionedThroughputExceededException": true,
	"SlowDown":                               true,
}

// mapInvokeError is the one place that turns an InvokeEndpoint failure into a response.
func mapInvokeError(err error) apiError {
	var (
		modelErr    *types.ModelError
		validation  *types.ValidationError
		notReady    *types.ModelNotReadyException
		unavailable *types.ServiceUnavailable
		dependency  *types.InternalDependencyException
		apiErr      smithy.APIError
		netErr      net.Error
	)
	switch {
	case errors.As(err, &modelErr):
		return mapModelError(modelErr)
	case errors.As(err, &validation):
		// The message can name the account and the endpoint; the caller gets the likely causes.
		return apiError{status: http.StatusBadRequest,
			message: "the endpoint rejected the request: check the body, Content-Type and Accept"}
	case errors.As(err, &notReady), errors.As(err, &unavailable), errors.As(err, &dependency):
		return apiError{status: http.StatusServiceUnavailable, retryAfter: "5",
			message: "the model is not available right now; retry later"}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return apiError{status: http.StatusGatewayTimeout, message: "the model did not answer in time"}
	case errors.As(err, &apiErr) && throttlingCodes[apiErr.ErrorCode()]:
		return apiError{status: http.StatusTooManyRequests, retryAfter: "1",
			message: "too many requests to the model; retry later"}
	}
	return apiError{status: http.StatusBadGateway, message: "the model could not be invoked"}
}

// mapModelError handles ModelError, which SageMaker returns (HTTP 424) when the container answered
// with an error or not at all. The container's own 4xx is the caller's fault and is meant for
// the caller, so it passes through with its body; a 5xx or a crash is not the caller's business.
func mapModelError(e *types.ModelError) apiError {
	if e.OriginalStatusCode != nil {
		code := int(*e.OriginalStatusCode)
		if code >= 400 && code < 500 {
			out := apiError{status: code, message: "the model rejected the request"}
			if e.OriginalMessage != nil {
				out.passthrough = []byte(*e.OriginalMessage)
			}
			return out
		}
	}
	// SageMaker gives up on a container after 60 s and says so only in the message.
	if strings.Contains(strings.ToLower(e.ErrorMessage()), "timed out") {
		return apiError{status: http.StatusGatewayTimeout, message: "the model did not answer in time"}
	}
	return apiError{status: http.StatusBadGateway, message: "the model failed to answer"}
}

// errorBody renders the JSON error body every failure carries.
func errorBody(message, requestID string) string {
	b, err := json.Marshal(struct {
		Message   string `json:"message"`
		RequestID string `json:"requestId"`
	}{message, requestID})
	if err != nil {
		// Marshalling two strings cannot fail; keep a valid body anyway.
		return `{"message":"internal error"}`
	}
	return string(b)
}
