package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
		// child, when set, is a child type whose input childInput must be want: an input of
		// the component's embedded Settings reached the child (the SDK's CopyTo alone drops it).
		child, childInput string
		want              property.Value
	}{
		{"inferstack:components:LambdaProxy", map[string]property.Value{
			"endpointName": property.New("churn-dev-endpoint"),
			"endpointArn":  property.New("arn:aws:sagemaker:eu-central-1:123456789012:endpoint/churn-dev-endpoint"),
			"memoryMb":     property.New(1024.0), // LambdaProxySettings.MemoryMB; default 256
		}, "functionArn", "aws:lambda/function:Function", "memorySize", property.New(1024.0)},
		{"inferstack:components:SecuredApi", map[string]property.Value{
			"proxyInvokeArn":   property.New("arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-central-1:123456789012:function:churn/invocations"),
			"proxyFunctionArn": property.New("arn:aws:lambda:eu-central-1:123456789012:function:churn"),
			"stageName":        property.New("v2"), // SecuredAPISettings.StageName; default v1
			"loggingLevel":     property.New("OFF"),
		}, "invokeUrl", "aws:apigateway/stage:Stage", "stageName", property.New("v2")},
		{"inferstack:components:WebAcl", map[string]property.Value{
			"stageArn": property.New("arn:aws:apigateway:eu-central-1::/restapis/a1b2c3/stages/v1"),
		}, "arn", "", "", property.Value{}},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			var mu sync.Mutex
			var registered []string                  // "type::name", in order
			childInputs := map[string]property.Map{} // by type, the last one registered
			prov, err := Provider()
			require.NoError(t, err)
			server, err := integration.NewServer(context.Background(), Name, semver.MustParse(Version),
				integration.WithProvider(prov),
				integration.WithMocks(&integration.MockResourceMonitor{
					NewResourceF: func(args integration.MockResourceArgs) (string, property.Map, error) {
						mu.Lock()
						defer mu.Unlock()
						registered = append(registered, string(args.TypeToken)+"::"+args.Name)
						childInputs[string(args.TypeToken)] = args.Inputs
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
			if tc.child != "" {
				in, ok := childInputs[tc.child]
				require.True(t, ok, "a %s is registered: %v", tc.child, registered)
				assert.Equal(t, tc.want, in.Get(tc.childInput), "%s.%s", tc.child, tc.childInput)
			}
		})
	}
}

// TestConstructModelDeploymentAnswersItsPartsKeyValues: a ModelDeployment constructed for another
// language answers the key values of its parts as its outputs (provider/model_deployment.go), and
// none of a part it was not given.
func TestConstructModelDeploymentAnswersItsPartsKeyValues(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	prov, err := Provider()
	require.NoError(t, err)
	server, err := integration.NewServer(context.Background(), Name, semver.MustParse(Version),
		integration.WithProvider(prov),
		integration.WithMocks(&integration.MockResourceMonitor{
			NewResourceF: func(args integration.MockResourceArgs) (string, property.Map, error) {
				return args.Name + "-id", args.Inputs, nil
			},
		}))
	require.NoError(t, err)
	urn := presource.URN("urn:pulumi:dev::consumer::inferstack:components:ModelDeployment::churn")
	resp, err := server.Construct(p.ConstructRequest{Urn: urn, Inputs: property.NewMap(map[string]property.Value{
		"image": property.New(map[string]property.Value{"context": property.New(dir)}),
		"endpoint": property.New(map[string]property.Value{
			"serverless": property.New(map[string]property.Value{"memorySizeMb": property.New(2048.0), "maxConcurrency": property.New(5.0)}),
		}),
	})})
	require.NoError(t, err)
	name, ok := resp.State.GetOk("endpointName")
	require.True(t, ok, "endpointName is in the answer: %v", resp.State)
	assert.True(t, name.IsString() && strings.HasPrefix(name.AsString(), "churn-endpoint"), "endpointName %v is the endpoint's", name)
	for _, unset := range []string{"proxyFunctionArn", "apiInvokeUrl", "apiStageArn", "tokenEndpoint", "dashboardName"} {
		v, ok := resp.State.GetOk(unset)
		assert.True(t, !ok || v.IsNull(), "%s is unset without its part: %v", unset, v)
	}
}
