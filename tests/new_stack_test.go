package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/tests/invariants"
)

// TestNewStackFromREADME runs the whole program on exactly the keys README.md's "Add a qa or
// staging stack" sets with `pulumi config set` (flat keys, no file edits): the presets must make
// each a complete, valid deployment.
func TestNewStackFromREADME(t *testing.T) {
	tests := []struct {
		env         string
		autoscaling bool
		rollback    bool
		waf         bool
	}{
		{"qa", false, false, false},
		{"staging", true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			values := map[string]string{
				"aws:region":             "eu-central-1",
				"inferstack:environment": tc.env,
				"inferstack:team":        "ml-platform",
				"inferstack:model.name":  "churn",
			}
			run, err := runProgram(t, tc.env, values)
			require.NoError(t, err)
			m := run.mocks
			inv := m.Inventory()

			config := one(t, m, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
			assert.Equal(t, "ml.m5"+map[bool]string{true: ".xlarge", false: ".large"}[tc.autoscaling],
				input(t, config, "productionVariants.0.instanceType"), "qa and staging are real-time")
			assert.Equal(t, map[bool]int{true: 1, false: 0}[tc.autoscaling], inv["aws:appautoscaling/target:Target"])
			_, rollback := one(t, m, "aws:sagemaker/endpoint:Endpoint").Input("deploymentConfig.autoRollbackConfiguration.alarms")
			assert.Equal(t, tc.rollback, rollback)
			assert.Equal(t, map[bool]int{true: 1, false: 0}[tc.waf], inv["aws:wafv2/webAcl:WebAcl"])
			assert.Equal(t, tc.env, input(t, one(t, m, "aws:ecr/repository:Repository"), "tags.environment"))

			violations := invariants.Check(m.Resources(), invariants.Options{
				Region: "eu-central-1",
				RequiredTags: []string{components.TagTeam, components.TagModel, components.TagEnvironment,
					components.TagStack, components.TagManagedBy},
			})
			assert.Empty(t, invariantsOf(violations, nil))
		})
	}
}
