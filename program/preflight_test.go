package program

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/fakeapigateway"
	"github.com/inferstack/inferstack/stackconfig"
)

func preflightConfig(t *testing.T, api string) stackconfig.Config {
	t.Helper()
	values := map[string]string{
		"aws:region": "eu-central-1", stackconfig.KeyEnvironment: stackconfig.EnvQA,
		stackconfig.KeyTeam: "ml-platform", stackconfig.KeyModel: `{"name":"churn"}`,
	}
	if api != "" {
		values[stackconfig.KeyAPI] = api
	}
	c, err := stackconfig.Parse("qa", values)
	require.NoError(t, err)
	return c
}

// TestPreflightAsksTheAccountForTheLogsRole drives the real aws-sdk-go-v2 client, configured the
// way the program configures it (AWS_ENDPOINT_URL_API_GATEWAY), against a fake of the API
// Gateway REST API.
func TestPreflightAsksTheAccountForTheLogsRole(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/apigateway-cloudwatch"
	tests := []struct {
		name     string
		api      string
		account  fakeapigateway.Account
		requests int
		wantErr  []string
		wantWarn string
	}{
		{name: "role set", account: fakeapigateway.Account{CloudwatchRoleArn: role}, requests: 1},
		{name: "fresh account: stop and name both fixes", requests: 1, wantErr: []string{
			"no CloudWatch Logs role in this account and region (eu-central-1)",
			"inferstack:api.createAccountLogsRole: true", "inferstack:api.loggingLevel: OFF"}},
		{name: "logging off: nothing to ask", api: `{"loggingLevel":"OFF"}`, requests: 0},
		{name: "the stack creates the role: nothing to ask", api: `{"createAccountLogsRole":true}`, requests: 0},
		{name: "no permission: warn and go on", account: fakeapigateway.Account{ErrorCode: "AccessDeniedException", ErrorStatus: 403},
			requests: 1, wantWarn: "could not check the API Gateway account settings in eu-central-1 (AccessDeniedException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeapigateway.Start(t, tc.account)
			fake.UseFor(t)
			var warnings []string
			err := preflight(t.Context(), preflightConfig(t, tc.api), func(m string) { warnings = append(warnings, m) })
			assert.Len(t, fake.Requests(), tc.requests)
			for _, r := range fake.Requests() {
				assert.Equal(t, "GET /account", r)
			}
			if tc.wantErr != nil {
				require.ErrorIs(t, err, ErrNoAccountLogsRole)
				for _, want := range tc.wantErr {
					assert.Contains(t, err.Error(), want)
				}
			} else {
				require.NoError(t, err)
			}
			if tc.wantWarn != "" {
				require.Len(t, warnings, 1)
				assert.Contains(t, warnings[0], tc.wantWarn)
				assert.Contains(t, warnings[0], "createAccountLogsRole: true once per account and region")
			} else {
				assert.Empty(t, warnings)
			}
		})
	}
}

// TestPreflightWithoutCredentialsWarns is `pulumi preview` on a machine with no AWS access: the
// check cannot be made, says so, and does not stop the program.
func TestPreflightWithoutCredentialsWarns(t *testing.T) {
	fake := fakeapigateway.Start(t, fakeapigateway.Account{})
	fakeapigateway.IsolateAWSConfig(t)
	t.Setenv("AWS_ENDPOINT_URL_API_GATEWAY", fake.URL)
	var warnings []string
	err := preflight(t.Context(), preflightConfig(t, ""), func(m string) { warnings = append(warnings, m) })
	require.NoError(t, err)
	assert.Empty(t, fake.Requests(), "no unsigned request is sent")
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "no AWS credentials")
	assert.Contains(t, warnings[0], "inferstack:api.loggingLevel: OFF")
}
