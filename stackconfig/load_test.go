package stackconfig

import (
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

func minimal(env string) map[string]string {
	return map[string]string{
		KeyRegion:      "eu-central-1",
		KeyEnvironment: env,
		KeyTeam:        "ml-platform",
		KeyModel:       `{"name":"churn"}`,
	}
}

func TestParseMergesOverridesOverThePreset(t *testing.T) {
	values := minimal(EnvProd)
	values[KeyEndpoint] = `{"instanceType":"ml.c6g.xlarge","autoscaling":{"maxCapacity":12}}`
	values[KeyProxy] = `{"cache":{"ttlSeconds":60}}`
	values[KeyMonitoring] = `{"alarmEmails":["oncall@example.com"]}`

	c, err := ParseMap("prod", values)
	require.NoError(t, err)
	assert.Equal(t, "prod", c.Stack)
	assert.Equal(t, "eu-central-1", c.Region)
	assert.Equal(t, "ml.c6g.xlarge", c.Endpoint.InstanceType, "override")
	assert.Equal(t, 12, c.Endpoint.Autoscaling.MaxCapacity, "nested override")
	assert.Equal(t, 2, c.Endpoint.Autoscaling.MinCapacity, "sibling of a nested override keeps the preset")
	assert.True(t, c.Endpoint.Autoscaling.Enabled, "sibling keeps the preset")
	assert.Equal(t, 2, c.Endpoint.InstanceCount, "untouched field keeps the preset")
	assert.Equal(t, 60, c.Proxy.Cache.TTLSeconds)
	assert.True(t, c.Proxy.Cache.Enabled)
	assert.Equal(t, 90, c.Proxy.LogRetentionDays)
	assert.Equal(t, []string{"oncall@example.com"}, c.Monitoring.AlarmEmails)
}

func TestParseServerlessOptOutAndPartialServerless(t *testing.T) {
	dev := minimal(EnvDev)
	dev[KeyEndpoint] = `{"serverless":null,"instanceType":"ml.t2.medium"}`
	c, err := ParseMap("dev", dev)
	require.NoError(t, err)
	assert.False(t, c.Endpoint.IsServerless(), "null opts a dev stack out of serverless")

	qa := minimal(EnvQA)
	qa[KeyEndpoint] = `{"serverless":{"memorySizeMb":4096}}`
	c, err = ParseMap("qa", qa)
	require.NoError(t, err)
	require.True(t, c.Endpoint.IsServerless())
	assert.Equal(t, Serverless{MemorySizeMB: 4096, MaxConcurrency: DefaultServerlessConcurrency}, *c.Endpoint.Serverless)
}

func TestParseReportsDecodeAndValidationProblemsTogether(t *testing.T) {
	values := minimal(EnvDev)
	values[KeyTeam] = ""
	values[KeyEndpoint] = `{"instanceTypes":"ml.m5.large"}` // typo: unknown field
	values[KeyProxy] = `{"memoryMb":"lots"}`                // wrong type
	values[Namespace+":endpoints"] = `{}`                   // unknown key
	values["aws:profile"] = "dev"                           // other namespaces are not ours

	_, err := ParseMap("dev", values)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{KeyEndpoint + ".instanceTypes", KeyProxy, KeyTeam, Namespace + ":endpoints"}, ps.Keys())
	assert.Contains(t, ps[0].Allowed, "did you mean instanceType?")
	assert.Contains(t, ps[1].Allowed, "memoryMb")
}

func TestParseUnknownEnvironmentStillValidatesTheRest(t *testing.T) {
	values := minimal("production")
	values[KeyModel] = `{"name":"Churn"}`
	_, err := ParseMap("p", values)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{KeyEnvironment, "inferstack:model.name"}, ps.Keys())
	assert.Equal(t, `"production"`, ps[0].Value)
}

// TestLoadReadsPulumiConfig runs Load inside a mocked Pulumi program, where config arrives the way
// the CLI passes it: fully qualified keys, objects as JSON.
func TestLoadReadsPulumiConfig(t *testing.T) {
	values := minimal(EnvStaging)
	values[KeyAPI] = `{"corsOrigins":["https://app.example.com"]}`
	var got Config
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		got, err = Load(ctx)
		return err
	}, pulumi.WithMocks("inferstack", "staging", pulumimock.New()), withConfig(values))
	require.NoError(t, err)
	assert.Equal(t, "staging", got.Stack)
	assert.Equal(t, EnvStaging, got.Environment)
	assert.Equal(t, "churn", got.Model.Name)
	assert.Equal(t, []string{"https://app.example.com"}, got.API.CORSOrigins)
	assert.Equal(t, 2, got.Endpoint.InstanceCount)
}

func withConfig(values map[string]string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) { info.Config = values }
}

// TestParseFlatKeys covers the keys `pulumi new` prompts and `pulumi config set` (without --path)
// write: one top-level key per nested field, applied over the section's object.
func TestParseFlatKeys(t *testing.T) {
	values := minimal(EnvQA)
	delete(values, KeyModel)
	values["inferstack:model.name"] = "fraud"
	values[KeyEndpoint] = `{"instanceType":"ml.c5.large","instanceCount":3}`
	values["inferstack:endpoint.instanceCount"] = "2"
	values["inferstack:endpoint.rollback.enabled"] = "true"
	values["inferstack:proxy.cache.enabled"] = "false"
	values["inferstack:api.corsOrigins"] = `["https://app.example.com"]`
	c, err := ParseMap("qa", values)
	require.NoError(t, err)
	assert.Equal(t, "fraud", c.Model.Name, "a string leaf takes the raw text")
	assert.Equal(t, "ml.c5.large", c.Endpoint.InstanceType, "the object still applies")
	assert.Equal(t, 2, c.Endpoint.InstanceCount, "the flat key wins over the object")
	assert.True(t, c.Endpoint.Rollback.Enabled)
	assert.False(t, c.Endpoint.IsServerless())
	assert.False(t, c.Proxy.Cache.Enabled)
	assert.Equal(t, []string{"https://app.example.com"}, c.API.CORSOrigins)

	values = minimal(EnvQA)
	values["inferstack:endpoint.serverless.memorySizeMb"] = "3072"
	c, err = ParseMap("qa", values)
	require.NoError(t, err)
	require.True(t, c.Endpoint.IsServerless(), "a flat key below a pointer allocates it")
	assert.Equal(t, 3072, c.Endpoint.Serverless.MemorySizeMB)

	values = minimal(EnvDev)
	values["inferstack:endpoint.instanceCount"] = "two"
	_, err = ParseMap("dev", values)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{"inferstack:endpoint.instanceCount"}, ps.Keys())
	assert.Equal(t, "two", ps[0].Value)
}

func TestFlatLeavesCoverTheSchema(t *testing.T) {
	for _, key := range []string{"inferstack:model.name", "inferstack:endpoint.rollback.alarmNames",
		"inferstack:proxy.cache.maxMb", "inferstack:api.quota.period", "inferstack:monitoring.budgetEmails"} {
		assert.True(t, isFlatKey(key), key)
	}
	assert.False(t, isFlatKey("inferstack:model.environment"), "maps are set as objects")
	assert.False(t, isFlatKey("inferstack:endpoint.instancetype"))
}

func TestParseEmptyFlatKeyKeepsThePreset(t *testing.T) {
	values := minimal(EnvProd)
	values["inferstack:endpoint.instanceCount"] = ""
	c, err := ParseMap("prod", values)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Endpoint.InstanceCount)
}

// TestConfigurationDocListsEveryKey keeps docs/configuration.md in step with the schema.
func TestConfigurationDocListsEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	require.NoError(t, err)
	for _, leaf := range flatLeaves {
		key := strings.TrimPrefix(leaf.key(), Namespace+":")
		assert.Contains(t, string(doc), "| `"+key+"` |", "docs/configuration.md has no row for %s", key)
	}
}

// BenchmarkParseProdStack measures loading and validating a prod-like stack config.
func BenchmarkParseProdStack(b *testing.B) {
	values := minimal(EnvProd)
	values[KeyEndpoint] = `{"instanceType":"ml.c6g.xlarge","autoscaling":{"maxCapacity":6},"dataCapture":{"enabled":true,"destinationS3Uri":"s3://capture-bucket/churn"}}`
	values[KeyMonitoring] = `{"alarmEmails":["oncall@example.com"]}`
	for b.Loop() {
		if _, err := ParseMap("prod", values); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAnInstanceNamedInADevStackMakesItRealTime(t *testing.T) {
	base := map[string]string{KeyRegion: "eu-central-1", KeyEnvironment: EnvDev, KeyTeam: "ml", KeyModel: `{"name":"churn"}`}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name       string
		values     map[string]string
		serverless bool
		problem    string
	}{
		{"preset", nil, true, ""},
		{"empty prompt answer keeps the preset", map[string]string{"inferstack:endpoint.instanceType": ""}, true, ""},
		{"flat instance type", map[string]string{"inferstack:endpoint.instanceType": "ml.g5.xlarge"}, false, ""},
		{"object instance count", map[string]string{KeyEndpoint: `{"instanceCount":2}`}, false, ""},
		{"serverless named too", map[string]string{KeyEndpoint: `{"instanceType":"ml.m5.large","serverless":{"memorySizeMb":2048}}`},
			true, "either serverless or a real-time instance (inferstack:endpoint.instanceType)"},
		{"serverless null and an instance", map[string]string{KeyEndpoint: `{"instanceType":"ml.m5.large","serverless":null}`}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseMap("dev", with(tc.values))
			if tc.problem != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.problem)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.serverless, c.Endpoint.IsServerless())
		})
	}
}
