package stackconfig

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valid returns a complete, valid configuration of an environment.
func valid(t *testing.T, env string) Config {
	t.Helper()
	c, ok := Preset(env)
	require.True(t, ok, env)
	c.Stack, c.Region, c.Team = env, "eu-central-1", "ml-platform"
	c.Model.Name = "churn"
	fillDerived(&c)
	require.Empty(t, Check(c), "preset %s must be valid", env)
	return c
}

func TestPresetsAreValid(t *testing.T) {
	for _, env := range Environments {
		t.Run(env, func(t *testing.T) { valid(t, env) })
	}
}

func TestPresetsDifferWhereEnvironmentsDiffer(t *testing.T) {
	dev, prod := valid(t, EnvDev), valid(t, EnvProd)
	assert.True(t, dev.Endpoint.IsServerless(), "dev is serverless to stay cheap")
	assert.False(t, prod.Endpoint.IsServerless())
	assert.GreaterOrEqual(t, prod.Endpoint.InstanceCount, 2)
	assert.True(t, prod.Endpoint.Autoscaling.Enabled)
	assert.True(t, prod.Endpoint.Rollback.Enabled)
	assert.Equal(t, 7, dev.Proxy.LogRetentionDays)
	assert.Equal(t, 90, prod.Proxy.LogRetentionDays)
	assert.Equal(t, 7, dev.Endpoint.LogRetentionDays)
	assert.Equal(t, 90, prod.Endpoint.LogRetentionDays)
	assert.True(t, dev.API.RequireAPIKey)
	assert.False(t, prod.API.RequireAPIKey)
	assert.Equal(t, "optional", prod.API.MFA)
	assert.True(t, prod.API.WAF)
	assert.False(t, dev.API.WAF)
	assert.Equal(t, 100.0, dev.Monitoring.MonthlyBudgetUSD)
	assert.Equal(t, 2000.0, prod.Monitoring.MonthlyBudgetUSD)
	assert.Equal(t, -1, dev.Proxy.ReservedConcurrency)
	assert.Equal(t, 24000.0, dev.Monitoring.LambdaDurationP99Ms, "80%% of the 30 s proxy timeout")
}

// TestValidateRules checks each rule on its own: one change to a valid config gives exactly one
// problem, on the expected key, quoting the value and saying what is allowed.
func TestValidateRules(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		mutate  func(*Config)
		key     string
		value   string
		allowed string
	}{
		{"unknown environment", EnvDev, func(c *Config) { c.Environment = "test" }, KeyEnvironment, `"test"`, "dev, qa, staging, prod"},
		{"missing region", EnvDev, func(c *Config) { c.Region = "" }, KeyRegion, `""`, "AWS region"},
		{"missing team", EnvDev, func(c *Config) { c.Team = "" }, KeyTeam, `""`, "tag value"},
		{"team with bad characters", EnvDev, func(c *Config) { c.Team = "ml#platform" }, KeyTeam, `"ml#platform"`, "tag value"},
		{"missing model name", EnvDev, func(c *Config) { c.Model.Name = "" }, "inferstack:model.name", `""`, "lowercase"},
		{"uppercase model name", EnvDev, func(c *Config) { c.Model.Name = "Churn" }, "inferstack:model.name", `"Churn"`, "lowercase"},
		{"model name too long", EnvDev, func(c *Config) { c.Model.Name = strings.Repeat("a", 31) }, "inferstack:model.name", "", "1 to 30"},
		{"model name ending in hyphen", EnvDev, func(c *Config) { c.Model.Name = "churn-" }, "inferstack:model.name", `"churn-"`, "hyphen"},
		{"dir and data url", EnvDev, func(c *Config) { c.Model.Dir = "models/churn"; c.Model.DataURL = "s3://bucket/m.tar.gz" }, "inferstack:model.dir", `"models/churn"`, "/opt/ml/model"},
		{"bad env var name", EnvDev, func(c *Config) { c.Model.Environment = map[string]string{"1BAD": "x"} }, "inferstack:model.environment.1BAD", `"1BAD"`, "environment variable name"},
		{"empty dockerfile", EnvDev, func(c *Config) { c.Image.Dockerfile = "" }, "inferstack:image.dockerfile", `""`, "Dockerfile"},
		{"prod with one instance", EnvProd, func(c *Config) { c.Endpoint.InstanceCount = 1 }, "inferstack:endpoint.instanceCount", "1", "at least 2 in prod"},
		{"serverless in prod", EnvProd, func(c *Config) {
			c.Endpoint.Serverless = &Serverless{MemorySizeMB: 2048, MaxConcurrency: 5}
			c.Endpoint.Autoscaling.Enabled = false
			c.Endpoint.Rollback.Enabled = true
		}, "inferstack:endpoint.serverless", "", "null in prod"},
		{"prod autoscaling min one", EnvProd, func(c *Config) { c.Endpoint.Autoscaling.MinCapacity = 1 }, "inferstack:endpoint.autoscaling.minCapacity", "1", "at least 2 in prod"},
		{"prod without autoscaling", EnvProd, func(c *Config) { c.Endpoint.Autoscaling.Enabled = false }, "inferstack:endpoint.autoscaling.enabled", "false", "true in prod"},
		{"prod without rollback", EnvProd, func(c *Config) { c.Endpoint.Rollback.Enabled = false }, "inferstack:endpoint.rollback.enabled", "false", "true in prod"},
		{"zero budget", EnvDev, func(c *Config) { c.Monitoring.MonthlyBudgetUSD = 0 }, "inferstack:monitoring.monthlyBudgetUsd", "0", "positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t, tc.env)
			tc.mutate(&c)
			err := Validate(c)
			require.Error(t, err)
			var ps Problems
			require.ErrorAs(t, err, &ps)
			require.Len(t, ps, 1, "one change must give one problem: %v", err)
			assert.Equal(t, tc.key, ps[0].Key)
			if tc.value != "" {
				assert.Equal(t, tc.value, ps[0].Value)
			}
			assert.Contains(t, ps[0].Allowed, tc.allowed)
			assert.Contains(t, err.Error(), tc.key, "the message names the key")
		})
	}
}
