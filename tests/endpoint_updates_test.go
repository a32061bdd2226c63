package tests

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
	"github.com/inferstack/inferstack/program"
	"github.com/inferstack/inferstack/stackconfig"
)

// TestDestroyKeepsWhatEachEnvironmentPromises runs every committed stack and reads the
// RetainOnDelete option each resource registers with: what `pulumi destroy` leaves in the account
// (docs/runbook.md, "What pulumi destroy removes and keeps"). Models and endpoint configurations
// are always kept (an update must never delete one that may serve); prod keeps its image
// repository and its user pool, instead of aborting half-way on RepositoryNotEmptyException or
// Cognito's deletion protection; everything else is deleted.
func TestDestroyKeepsWhatEachEnvironmentPromises(t *testing.T) {
	for stack, path := range stackFiles(t) {
		t.Run(stack, func(t *testing.T) {
			values := readStackConfig(t, path)
			cfg, err := stackconfig.ParseMap(stack, values)
			require.NoError(t, err)
			mocks := pulumimock.New()
			var mu sync.Mutex
			retained := map[string]bool{}
			mocks.OnNewResource = func(a pulumi.MockResourceArgs) resource.PropertyMap {
				mu.Lock()
				defer mu.Unlock()
				if a.RegisterRPC != nil && a.RegisterRPC.GetRetainOnDelete() {
					retained[a.TypeToken] = true
				}
				return nil
			}
			_, err = runProgramWith(t, stack, values, mocks)
			require.NoError(t, err)

			want := map[string]bool{
				"aws:sagemaker/model:Model":                                 true,
				"aws:sagemaker/endpointConfiguration:EndpointConfiguration": true,
			}
			if cfg.IsProd() {
				want["aws:ecr/repository:Repository"] = true
				want["aws:cognito/userPool:UserPool"] = true
			}
			assert.Equal(t, want, retained)
			// The retained repository is the one that would refuse to be deleted with images in it.
			repo := one(t, mocks, "aws:ecr/repository:Repository")
			assert.Equal(t, !cfg.IsProd(), input(t, repo, "forceDelete"))
			pool := one(t, mocks, "aws:cognito/userPool:UserPool")
			assert.Equal(t, map[bool]string{true: "ACTIVE", false: "INACTIVE"}[cfg.IsProd()], input(t, pool, "deletionProtection"))
		})
	}
}

// TestTurningRollbackOnOrOffGivesAPlanAWSCanCarryOut is issue 9 item 2 on the whole program:
// auto_rollback_configuration is ForceNew in terraform-provider-aws, so switching
// endpoint.rollback replaces the endpoint; the replacement (created before the old one is deleted)
// gets a new name, and everything that names the endpoint follows it in the same update.
func TestTurningRollbackOnOrOffGivesAPlanAWSCanCarryOut(t *testing.T) {
	values := readStackConfig(t, stackFiles(t)["dev"])
	names := map[string]string{}
	for _, enabled := range []string{"false", "true"} {
		t.Run("rollback.enabled="+enabled, func(t *testing.T) {
			values["inferstack:endpoint.rollback.enabled"] = enabled
			run, err := runProgram(t, "dev", values)
			require.NoError(t, err)
			m := run.mocks
			name := run.outputs[program.OutEndpointName].(string)
			names[enabled] = name
			endpoint := one(t, m, "aws:sagemaker/endpoint:Endpoint")
			assert.Equal(t, name, input(t, endpoint, "name"))
			_, hasDeployment := endpoint.Inputs["deploymentConfig"]
			assert.Equal(t, enabled == "true", hasDeployment)
			assert.Equal(t, name, input(t, one(t, m, "aws:lambda/function:Function"), "environment.variables.ENDPOINT_NAME"))
			logs, ok := m.Named("aws:cloudwatch/logGroup:LogGroup", "churn-endpoint-logs")
			require.True(t, ok)
			assert.Equal(t, "/aws/sagemaker/Endpoints/"+name, input(t, logs, "name"))
			for _, a := range m.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				for _, e := range alarmEndpoints(a) {
					assert.Equal(t, name, e, "alarm %s watches another endpoint", a.Name)
				}
				if strings.Contains(a.Name, "rollback") {
					assert.True(t, strings.HasPrefix(input(t, a, "name").(string), name+"-"), a.Name)
				}
			}
		})
	}
	require.Len(t, names, 2)
	assert.NotEqual(t, names["false"], names["true"], "CreateEndpoint under the old name would collide with the endpoint it replaces")
}

// TestStackOutputsNameWhatVerifyAndPruneRead checks the outputs cmd/smoke verify and prune read.
func TestStackOutputsNameWhatVerifyAndPruneRead(t *testing.T) {
	for stack, path := range stackFiles(t) {
		t.Run(stack, func(t *testing.T) {
			run, err := runProgram(t, stack, readStackConfig(t, path))
			require.NoError(t, err)
			config := one(t, run.mocks, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
			model := one(t, run.mocks, "aws:sagemaker/model:Model")
			assert.Equal(t, config.State["name"].StringValue(), run.outputs[program.OutEndpointConfigName])
			assert.Equal(t, model.State["name"].StringValue(), run.outputs[program.OutModelName])
			assert.Equal(t, input(t, model, "tags.stack"), run.outputs[program.OutStackTag])
			assert.Equal(t, input(t, config, "tags.stack"), run.outputs[program.OutStackTag])
		})
	}
}
