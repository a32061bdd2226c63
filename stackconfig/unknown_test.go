package stackconfig

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

// TestParseRefusesUnknownKeysWithASuggestion covers the typos a stack file or `pulumi config
// set` makes: each is a problem naming the key as written and the key that was meant, instead
// of a stack that silently keeps the preset.
func TestParseRefusesUnknownKeysWithASuggestion(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		value   string
		wantKey string
		want    string
	}{
		{"flat key, one letter dropped", "inferstack:endpoint.instanceCont", "3",
			"inferstack:endpoint.instanceCont", "did you mean inferstack:endpoint.instanceCount?"},
		{"flat key, wrong case", "inferstack:endpoint.instancetype", "ml.m5.large",
			"inferstack:endpoint.instancetype", "did you mean inferstack:endpoint.instanceType?"},
		{"misspelt section object", "inferstack:endpont", `{"instanceCount":3}`,
			"inferstack:endpont", "did you mean inferstack:endpoint?"},
		{"flat key under a misspelt section", "inferstack:endpont.instanceCount", "3",
			"inferstack:endpont.instanceCount", "did you mean inferstack:endpoint.instanceCount?"},
		{"nested unknown field", KeyEndpoint, `{"autoscaling":{"maxCapacty":6}}`,
			"inferstack:endpoint.autoscaling.maxCapacty", "did you mean maxCapacity?"},
		{"unknown field two levels down a pointer", KeyEndpoint, `{"serverless":{"memorySize":3072}}`,
			"inferstack:endpoint.serverless.memorySize", "did you mean memorySizeMb?"},
		{"unknown field of the monitoring object", KeyMonitoring, `{"alarmEmail":["a@b.c"]}`,
			"inferstack:monitoring.alarmEmail", "did you mean alarmEmails?"},
		{"nothing close: the list of keys", "inferstack:zzz", "1",
			"inferstack:zzz", "one of the keys environment, team, model"},
		{"an entry of a map set as a flat key", "inferstack:model.environment.LOG_LEVEL", "debug",
			"inferstack:model.environment.LOG_LEVEL", "environment is a map: set it as an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			values := minimal(EnvQA)
			values[tc.key] = tc.value
			_, err := Parse("qa", values)
			var ps Problems
			require.ErrorAs(t, err, &ps)
			require.Equal(t, []string{tc.wantKey}, ps.Keys(), ps.Error())
			assert.Contains(t, ps[0].Allowed, tc.want)
		})
	}
}

// TestParseReportsEveryUnknownFieldAndTheRest: unknown fields do not hide the other problems.
func TestParseReportsEveryUnknownFieldAndTheRest(t *testing.T) {
	values := minimal(EnvProd)
	values[KeyEndpoint] = `{"instanceCont":3,"instanceCount":1,"rollback":{"enable":true}}`
	_, err := Parse("prod", values)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{"inferstack:endpoint.instanceCont", "inferstack:endpoint.rollback.enable",
		"inferstack:endpoint.instanceCount"}, ps.Keys(), ps.Error())
}

func TestParseAcceptsEveryKnownKey(t *testing.T) {
	values := minimal(EnvQA)
	values["inferstack:endpoint.instanceCount"] = "3"
	values[KeyEndpoint] = `{"instanceType":"ml.m5.large","autoscaling":{"enabled":false}}`
	values[KeyModel] = `{"name":"churn","environment":{"ANY_NAME":"x"}}`
	values["aws:profile"] = "other namespaces are not ours"
	_, err := Parse("qa", values)
	require.NoError(t, err)
}

// TestLoadRefusesUnknownKeysPassedByTheCLI runs Load the way `pulumi preview` does: the stack's
// config arrives in PULUMI_CONFIG, which is where Load finds keys it does not know. Secret values
// are never printed.
func TestLoadRefusesUnknownKeysPassedByTheCLI(t *testing.T) {
	values := minimal(EnvQA)
	values["inferstack:endpoint.instanceCont"] = "3"
	values["inferstack:apiKey"] = "s3cr3t-value"
	j, err := json.Marshal(values)
	require.NoError(t, err)
	t.Setenv(pulumi.EnvConfig, string(j))
	t.Setenv(pulumi.EnvConfigSecretKeys, `["inferstack:apiKey"]`)
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := Load(ctx)
		return err
	}, pulumi.WithMocks("inferstack", "qa", pulumimock.New()))
	var ps Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{"inferstack:apiKey", "inferstack:endpoint.instanceCont"}, ps.Keys())
	assert.Contains(t, ps[1].Allowed, "did you mean inferstack:endpoint.instanceCount?")
	assert.NotContains(t, ps.Error(), "s3cr3t-value")
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"endpont", "endpoint", 1}, {"kitten", "sitting", 3}, {"abc", "", 3}, {"flaw", "lawn", 2}} {
		assert.Equal(t, tc.want, editDistance(tc.a, tc.b), "%s/%s", tc.a, tc.b)
	}
}

// TestParseRefusesPlaceholders: the example stack file's bucket and domain prefix are marked, and
// the program refuses them by key until they are replaced.
func TestParseRefusesPlaceholders(t *testing.T) {
	values := minimal(EnvQA)
	values[KeyModel] = `{"name":"churn","dataUrl":"s3://replace-me-models/churn/model.tar.gz"}`
	values[KeyAPI] = `{"cognitoDomainPrefix":"replace-me-churn"}`
	values["inferstack:endpoint.dataCapture.destinationS3Uri"] = "s3://REPLACE-ME-capture/churn"
	_, err := Parse("qa", values)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	keys := ps.Keys()
	assert.Contains(t, keys, "inferstack:model.dataUrl")
	assert.Contains(t, keys, "inferstack:api.cognitoDomainPrefix")
	assert.Contains(t, keys, "inferstack:endpoint.dataCapture.destinationS3Uri")
	assert.Contains(t, ps.Error(), "replace-me marks a placeholder")
}
