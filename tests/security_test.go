package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/stackconfig"
	"github.com/inferstack/inferstack/tests/invariants"
)

// TestSecurityInvariants runs the whole program for every committed stack file and reports each
// security invariant as its own subtest, so that a failure names the invariant, the stack and
// every resource that breaks it.
func TestSecurityInvariants(t *testing.T) {
	for stack, path := range stackFiles(t) {
		t.Run(stack, func(t *testing.T) {
			values := readStackConfig(t, path)
			cfg, err := stackconfig.ParseMap(stack, values)
			require.NoError(t, err)
			// Before runProgram, which moves to the repository root.
			fromConfig, err := invariants.CheckConfigFile(path)
			require.NoError(t, err)
			run, err := runProgram(t, stack, values)
			require.NoError(t, err)

			found := map[string][]string{}
			vs := invariants.Check(run.mocks.Resources(), invariants.Options{
				Region: cfg.Region,
				RequiredTags: []string{components.TagTeam, components.TagModel, components.TagEnvironment,
					components.TagStack, components.TagManagedBy},
				ImageKMSKeyARN: cfg.Image.KMSKeyARN, EndpointKMSKeyARN: cfg.Endpoint.KMSKeyARN,
			})
			for _, v := range append(vs, fromConfig...) {
				found[v.Invariant] = append(found[v.Invariant], v.Resource+": "+v.Detail)
			}
			for _, inv := range invariants.All {
				t.Run(inv, func(t *testing.T) {
					assert.Empty(t, found[inv])
				})
			}

			// The invariants hold only if what they judge is there: a part that silently went
			// missing from the program must not make them pass.
			inv := run.mocks.Inventory()
			for _, typ := range []string{"aws:iam/role:Role", "aws:ecr/repository:Repository",
				"aws:cloudwatch/logGroup:LogGroup", "aws:lambda/function:Function", "aws:sns/topic:Topic",
				"aws:kms/key:Key", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:apigateway/method:Method"} {
				assert.NotZero(t, inv[typ], "%s: the stack has no %s to check", stack, typ)
			}
		})
	}
}
