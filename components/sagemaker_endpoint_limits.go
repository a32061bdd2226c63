package components

import (
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// EnvMaxBodyBytes is the inference server's request body limit (inference/main.go); larger bodies
// get 413 from the container.
const EnvMaxBodyBytes = "MAX_BODY_BYTES"

// withBodyLimit sets the container's body limit to the endpoint type's payload limit: 4 MiB
// serverless, 6 MiB real-time (proxyconfig.ServerlessPayloadBytes, RealTimePayloadBytes). A value
// in Environment wins.
func withBodyLimit(env pulumi.StringMapInput, serverless bool) pulumi.StringMapInput {
	limit := strconv.Itoa(proxyconfig.RealTimePayloadBytes)
	if serverless {
		limit = strconv.Itoa(proxyconfig.ServerlessPayloadBytes)
	}
	if env == nil {
		return pulumi.StringMap{EnvMaxBodyBytes: pulumi.String(limit)}
	}
	return env.ToStringMapOutput().ApplyT(func(m map[string]string) map[string]string {
		out := map[string]string{EnvMaxBodyBytes: limit}
		for k, v := range m {
			out[k] = v
		}
		return out
	}).(pulumi.StringMapOutput)
}
