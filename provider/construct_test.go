package main

import (
	"context"
	"sync"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConstructRegistersTheSchemaToken constructs components the way the engine asks a provider
// to (Construct over gRPC, a program in another language on the other side) and checks that each
// registers itself as the type the caller's SDK asked for (the schema's token), with its
// children under it and its outputs in the answer. The children are mocked.
func TestConstructRegistersTheSchemaToken(t *testing.T) {
	tests := []struct {
		token  string
		inputs map[string]property.Value
		output string
	}{
		{"inferstack:components:LambdaProxy", map[string]property.Value{
			"endpointName": property.New("churn-dev-endpoint"),
			"endpointArn":  property.New("arn:aws:sagemaker:eu-central-1:123456789012:endpoint/churn-dev-endpoint"),
		}, "functionArn"},
		{"inferstack:components:WebAcl", map[string]property.Value{
			"stageArn": property.New("arn:aws:apigateway:eu-central-1::/restapis/a1b2c3/stages/v1"),
		}, "arn"},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			var mu sync.Mutex
			var registered []string // "type::name", in order
			prov, err := Provider()
			require.NoError(t, err)
			server, err := integration.NewServer(context.Background(), Name, semver.MustParse(Version),
				integration.WithProvider(prov),
				integration.WithMocks(&integration.MockResourceMonitor{
					NewResourceF: func(args integration.MockResourceArgs) (string, property.Map, error) {
						mu.Lock()
						defer mu.Unlock()
						registered = append(registered, string(args.TypeToken)+"::"+args.Name)
						return args.Name + "-id", args.Inputs, nil
					},
				}))
			require.NoError(t, err)
			urn := presource.URN("urn:pulumi:dev::consumer::" + tc.token + "::churn")
			resp, err := server.Construct(p.ConstructRequest{Urn: urn, Inputs: property.NewMap(tc.inputs)})
			require.NoError(t, err)
			assert.Equal(t, tc.token, string(resp.Urn.Type()), "the component's URN has the schema's type")
			mu.Lock()
			defer mu.Unlock()
			assert.Contains(t, registered, tc.token+"::churn", "the component registers as the requested type")
			assert.Greater(t, len(registered), 1, "children are registered")
			_, ok := resp.State.GetOk(tc.output)
			assert.True(t, ok, "output %s is in the answer: %v", tc.output, resp.State)
		})
	}
}
