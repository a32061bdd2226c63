package tests

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPayloadLimitsFollowTheEndpointType runs the committed stacks: dev is serverless, prod
// real-time. A serverless endpoint takes 4 MB payloads
// (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-invoke.html), a real-time
// one 6 MB (InvokeEndpoint's Body, 6291456 bytes in the SageMaker Runtime service model); the
// container's body and response limits and the proxy's follow.
func TestPayloadLimitsFollowTheEndpointType(t *testing.T) {
	for _, tc := range []struct {
		stack, want string
	}{
		{"dev", "4194304"},
		{"prod", "6291456"},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			values := readStackConfig(t, filepath.Join(repoRoot, "Pulumi."+tc.stack+".yaml"))
			run, err := runProgram(t, tc.stack, values)
			require.NoError(t, err)
			config := one(t, run.mocks, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
			_, serverless := config.Inputs["productionVariants"].ArrayValue()[0].ObjectValue()["serverlessConfig"]
			require.Equal(t, tc.stack == "dev", serverless, "the committed stacks still cover both types")

			model := one(t, run.mocks, "aws:sagemaker/model:Model")
			assert.Equal(t, tc.want, input(t, model, "primaryContainer.environment.MAX_BODY_BYTES"))
			assert.Equal(t, tc.want, input(t, model, "primaryContainer.environment.MAX_RESPONSE_BYTES"))
			fn := one(t, run.mocks, "aws:lambda/function:Function")
			assert.Equal(t, tc.want, input(t, fn, "environment.variables.MAX_PAYLOAD_BYTES"))
			assert.Equal(t, config.State["name"].StringValue(), input(t, fn, "environment.variables.ENDPOINT_CONFIG_NAME"))
		})
	}
}
