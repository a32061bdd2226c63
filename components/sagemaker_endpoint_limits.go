package components

import (
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// The inference server's payload limits (inference/main.go): a larger request body gets 413, and so
// does a request with more rows than an answer of EnvMaxResponseBytes holds (the server says how
// many fit).
const (
	EnvMaxBodyBytes     = "MAX_BODY_BYTES"
	EnvMaxResponseBytes = "MAX_RESPONSE_BYTES"
)

// withPayloadLimits sets the container's request and response limits to the endpoint type's
// payload limit: 4 MiB serverless, 6 MiB real-time (proxyconfig.ServerlessPayloadBytes,
// RealTimePayloadBytes), so a too-large answer is a 413 that says how many rows fit instead of an
// error from SageMaker. A value in Environment wins.
func withPayloadLimits(env pulumi.StringMapInput, serverless bool) pulumi.StringMapInput {
	limit := strconv.Itoa(proxyconfig.RealTimePayloadBytes)
	if serverless {
		limit = strconv.Itoa(proxyconfig.ServerlessPayloadBytes)
	}
	if env == nil {
		return pulumi.StringMap{EnvMaxBodyBytes: pulumi.String(limit), EnvMaxResponseBytes: pulumi.String(limit)}
	}
	return env.ToStringMapOutput().ApplyT(func(m map[string]string) map[string]string {
		out := map[string]string{EnvMaxBodyBytes: limit, EnvMaxResponseBytes: limit}
		for k, v := range m {
			out[k] = v
		}
		return out
	}).(pulumi.StringMapOutput)
}
