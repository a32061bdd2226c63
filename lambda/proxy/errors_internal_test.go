package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
)

// timeoutErr is a net.Error that timed out, as the HTTP client reports a dial or read timeout.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func ptr[T any](v T) *T { return &v }

// TestMapInvokeError covers the failures that do not arrive as an AWS error response.
func TestMapInvokeError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"deadline", fmt.Errorf("operation error SageMaker Runtime: InvokeEndpoint: %w", context.DeadlineExceeded), http.StatusGatewayTimeout},
		{"network timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, http.StatusGatewayTimeout},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, http.StatusBadGateway},
		{"generic throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, http.StatusTooManyRequests},
		{"generic other", &smithy.GenericAPIError{Code: "AccessDeniedException"}, http.StatusBadGateway},
		{"dependency", &types.InternalDependencyException{}, http.StatusServiceUnavailable},
		{"model error 4xx", &types.ModelError{OriginalStatusCode: ptr(int32(415))}, http.StatusUnsupportedMediaType},
		{"model error without status", &types.ModelError{Message: ptr("container crashed")}, http.StatusBadGateway},
		{"plain error", errors.New("boom"), http.StatusBadGateway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mapInvokeError(tc.err)
			assert.Equal(t, tc.want, got.status)
			assert.NotEmpty(t, got.message)
			assert.NotContains(t, got.message, tc.err.Error(), "the raw error never reaches the caller")
		})
	}
}

func TestAppendJSONStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"req-1":       `"req-1"`,
		`a"b\c`:       `"a\"b\\c"`,
		"line\nbreak": `"line\u000abreak"`,
		"é":           `"é"`,
		"\xff":        `"\ufffd"`,
	} {
		assert.Equal(t, want, string(appendJSONString(nil, in)), "%q", in)
	}
}
