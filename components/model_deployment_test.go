package components

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

func TestModelDeploymentWiresImageIntoEndpoint(t *testing.T) {
	mocks := pulumimock.New()
	var imageURI, endpointName, planned string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		endpoint := *seServerless()
		endpoint.ImageURI, endpoint.RepositoryARN = nil, nil
		d, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
			Image:    ModelImageArgs{Context: miContext(t)},
			Endpoint: endpoint.SageMakerEndpointSettings,
			Tags:     StandardTags("ml-platform", "churn", "dev", "dev"),
		})
		if err != nil {
			return err
		}
		d.Image.ImageURI.ApplyT(func(v string) string { imageURI = v; return v })
		d.Endpoint.EndpointName.ApplyT(func(v string) string { endpointName = v; return v })
		planned = PlannedEndpointName(ctx, "churn-endpoint", &endpoint)
		return nil
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)
	assert.Equal(t, planned, endpointName, "other parts can name the endpoint before it exists")

	repo := one(t, mocks, ecrRepositoryType)
	model := one(t, mocks, smModelType)
	assert.Equal(t, imageURI, input(t, model, "primaryContainer.image"), "the endpoint runs the image just pushed, by digest")
	assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, imageURI)
	var policy PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(input(t, one(t, mocks, iamRolePolicyType), "policy").(string)), &policy))
	assert.Equal(t, []string{repo.State["arn"].StringValue()}, seStatement(t, policy, "PullImage").Resource)

	// Parts are children of the deployment, and their resources carry the deployment's tags.
	deployment := one(t, mocks, modelDeploymentType)
	image := one(t, mocks, modelImageType)
	endpointComp := one(t, mocks, sageMakerEndpointType)
	assert.Equal(t, "churn-image", image.Name)
	assert.Equal(t, "churn-endpoint", endpointComp.Name)
	assert.Contains(t, image.Parent, "ModelDeployment::churn")
	assert.Contains(t, endpointComp.Parent, "ModelDeployment::churn")
	assert.NotContains(t, deployment.Parent, "inferstack:components")
	for _, r := range []pulumimock.Resource{repo, model} {
		assert.Equal(t, "ml-platform", input(t, r, "tags.team"), r.String())
	}
}

func TestModelDeploymentRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args *ModelDeploymentArgs
		want string
	}{
		{"nil args", nil, "args are required"},
		{"bad image args", &ModelDeploymentArgs{Endpoint: SageMakerEndpointSettings{Serverless: &ServerlessConfig{}}}, "Context \"\": want the docker build context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewModelDeployment(ctx, "churn", tc.args)
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestModelDeploymentJoinsMonitoring(t *testing.T) {
	cases := []struct {
		name     string
		endpoint func() SageMakerEndpointArgs
		cpuAlarm bool
		rollback bool // the endpoint rolls back on alarms
	}{
		{"real-time with rollback", func() SageMakerEndpointArgs { return *seRealtime() }, true, true},
		{"serverless without rollback", func() SageMakerEndpointArgs { return *seServerless() }, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mocks := pulumimock.New()
			var endpointName, topicArn string
			var rollback []string
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				endpoint := tc.endpoint()
				endpoint.ImageURI, endpoint.RepositoryARN = nil, nil
				d, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
					Image:      ModelImageArgs{Context: miContext(t)},
					Endpoint:   endpoint.SageMakerEndpointSettings,
					Monitoring: &MonitoringSettings{AlarmEmails: []string{"oncall@example.com"}, MonthlyBudgetUSD: 100},
					Tags:       StandardTags("ml-platform", "churn", "dev", "dev"),
				})
				if err != nil {
					return err
				}
				d.Endpoint.EndpointName.ApplyT(func(v string) string { endpointName = v; return v })
				d.Monitoring.TopicARN.ApplyT(func(v string) string { topicArn = v; return v })
				d.Endpoint.RollbackAlarmNames.ApplyT(func(v []string) []string { rollback = v; return v })
				return nil
			}, pulumi.WithMocks("inferstack", "dev", mocks))
			require.NoError(t, err)

			monitoring := one(t, mocks, monitoringType)
			assert.Contains(t, monitoring.Parent, "ModelDeployment::churn")
			assert.Regexp(t, `^arn:aws:sns:`, topicArn)
			alarms := map[string]pulumimock.Resource{}
			for _, r := range mocks.OfType(monTypeAlarm) {
				alarms[input(t, r, "name").(string)] = r
			}
			latency, ok := alarms[endpointName+"-model-latency-p99"]
			require.True(t, ok, "Monitoring's alarms are named from the endpoint's real name")
			assert.Equal(t, endpointName, input(t, latency, "dimensions.EndpointName"))
			assert.Equal(t, DefaultVariantName, input(t, latency, "dimensions.VariantName"))
			assert.Equal(t, "ml-platform", input(t, latency, "tags.team"))
			cpuAlarm, cpu := alarms[endpointName+"-cpu-utilization"]
			assert.Equal(t, tc.cpuAlarm, cpu, "CPU alarms only for real-time endpoints")
			if cpu {
				assert.Equal(t, "cpu / 4", monQuery(t, cpuAlarm, "rate")["expression"], "ml.m5.xlarge has 4 vCPUs")
			}

			if !tc.rollback {
				assert.Empty(t, rollback)
				return
			}
			// The endpoint rolls back on alarms it created before itself (SageMaker names them in
			// the endpoint's deployment config); Monitoring's alarms only notify.
			require.Len(t, rollback, 2)
			var names []any
			for _, a := range input(t, one(t, mocks, "aws:sagemaker/endpoint:Endpoint"),
				"deploymentConfig.autoRollbackConfiguration.alarms").([]any) {
				names = append(names, a.(map[string]any)["alarmName"])
			}
			assert.Equal(t, []any{rollback[0], rollback[1]}, names)
			endpoint := one(t, mocks, "aws:sagemaker/endpoint:Endpoint")
			for _, n := range rollback {
				alarm, ok := alarms[n]
				require.True(t, ok, "rollback alarm %s exists", n)
				assert.NotContains(t, alarm.Parent, monitoringType, "rollback alarms belong to the endpoint, not Monitoring")
				assert.True(t, endpoint.Waits(monTypeAlarm, alarm.Name), "the endpoint is created after its rollback alarm %s", n)
			}
		})
	}
}

func TestModelDeploymentJoinsProxy(t *testing.T) {
	mocks := pulumimock.New()
	var endpointName, endpointArn, invokeArn, functionName, logGroup string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		endpoint := *seServerless()
		endpoint.ImageURI, endpoint.RepositoryARN = nil, nil
		d, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
			Image:      ModelImageArgs{Context: miContext(t)},
			Endpoint:   endpoint.SageMakerEndpointSettings,
			Monitoring: &MonitoringSettings{AlarmEmails: []string{"oncall@example.com"}, MonthlyBudgetUSD: 100},
			Proxy:      &LambdaProxySettings{ArchivePath: lpPrebuilt(t), Cache: &ProxyCacheArgs{TTLSeconds: 60}},
			Tags:       StandardTags("ml-platform", "churn", "dev", "dev"),
		})
		if err != nil {
			return err
		}
		for dst, o := range map[*string]pulumi.StringOutput{&endpointName: d.Endpoint.EndpointName, &endpointArn: d.Endpoint.EndpointARN,
			&invokeArn: d.Proxy.InvokeARN, &functionName: d.Proxy.FunctionName, &logGroup: d.Proxy.LogGroupName} {
			o.ApplyT(func(v string) string { *dst = v; return v })
		}
		return nil
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)

	proxy := one(t, mocks, lambdaProxyType)
	assert.Equal(t, "churn-proxy", proxy.Name)
	assert.Contains(t, proxy.Parent, "ModelDeployment::churn")

	fn := one(t, mocks, lpFunctionType)
	assert.Equal(t, endpointName, input(t, fn, "environment.variables.ENDPOINT_NAME"), "the proxy invokes this deployment's endpoint")
	assert.Equal(t, "60", input(t, fn, "environment.variables.CACHE_TTL_SECONDS"))
	assert.Equal(t, "ml-platform", input(t, fn, "tags.team"), "the deployment's tags reach the proxy")
	assert.Equal(t, fn.State["name"].StringValue(), functionName)
	assert.Contains(t, invokeArn, fn.State["arn"].StringValue())
	assert.NotEmpty(t, logGroup)

	var policy PolicyDocument
	rp, ok := mocks.Named(lpRolePolicyType, "churn-proxy-role-policy")
	require.True(t, ok)
	require.NoError(t, json.Unmarshal([]byte(input(t, rp, "policy").(string)), &policy))
	assert.Equal(t, []string{endpointArn}, policy.Statement[0].Resource, "scoped to the deployment's endpoint")

	// Monitoring watches the proxy it was given.
	watched := false
	for _, a := range mocks.OfType(monTypeAlarm) {
		if v, ok := a.Input("dimensions.FunctionName"); ok && v == functionName {
			watched = true
		}
	}
	assert.True(t, watched, "an alarm watches the proxy function")
}

func TestModelDeploymentJoinsSecuredAPI(t *testing.T) {
	mocks := pulumimock.New()
	var d *ModelDeployment
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		endpoint := *seServerless()
		endpoint.ImageURI, endpoint.RepositoryARN = nil, nil
		var err error
		d, err = NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
			Image:      ModelImageArgs{Context: miContext(t)},
			Endpoint:   endpoint.SageMakerEndpointSettings,
			Monitoring: &MonitoringSettings{MonthlyBudgetUSD: 100},
			Proxy:      &LambdaProxySettings{ArchivePath: lpPrebuilt(t)},
			API:        &SecuredAPISettings{RequireAPIKey: true, MachineClient: true},
			Tags:       StandardTags("ml-platform", "churn", "dev", "dev"),
		})
		return err
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)

	api := one(t, mocks, securedAPIType)
	assert.Equal(t, "churn-api", api.Name)
	assert.Contains(t, api.Parent, "ModelDeployment::churn")
	fn := one(t, mocks, lpFunctionType)
	for _, i := range mocks.OfType(apiIntegrationType) {
		assert.Equal(t, fn.State["invokeArn"].StringValue(), apiStr(t, i, "uri"), "the API calls this deployment's proxy")
	}
	for _, p := range mocks.OfType(apiPermissionType) {
		assert.Equal(t, fn.State["arn"].StringValue(), apiStr(t, p, "function"))
	}
	assert.Equal(t, "ml-platform", input(t, one(t, mocks, apiRestAPIType), "tags.team"), "the deployment's tags reach the API")

	// Monitoring watches the API's stage.
	rest := one(t, mocks, apiRestAPIType)
	watched := false
	for _, a := range mocks.OfType(monTypeAlarm) {
		if v, ok := a.Input("dimensions.ApiName"); ok && v == apiState(t, rest, "name") {
			watched = true
			assert.Equal(t, DefaultStageName, input(t, a, "dimensions.Stage"))
		}
	}
	assert.True(t, watched, "an alarm watches the API")

	assert.Regexp(t, `^https://.+/v1$`, apiAwait(t, d.API.InvokeURL))
	assert.Contains(t, apiAwait(t, d.API.TokenEndpoint), "/oauth2/token")
	assert.NotEmpty(t, apiAwait(t, d.API.MachineClientID))
	assert.NotEmpty(t, apiAwait(t, d.API.APIKeyID))
	assert.True(t, pulumi.IsSecret(d.API.APIKeyValue))
	assert.True(t, pulumi.IsSecret(d.API.MachineClientSecret))
}

// TestModelDeploymentRejectsRulesBetweenParts: the rules that involve two parts. (What the composite
// wires from one part into another is not in its Args at all: the Settings types leave it out, so
// the compiler refuses it.)
func TestModelDeploymentRejectsRulesBetweenParts(t *testing.T) {
	tests := []struct {
		name  string
		proxy *LambdaProxySettings
		api   *SecuredAPISettings
		want  string
	}{
		{"invoke timeout past the API's", &LambdaProxySettings{InvokeTimeoutSeconds: 10}, &SecuredAPISettings{IntegrationTimeoutMs: 10000},
			"Proxy.InvokeTimeoutSeconds 10: want at most 9, below API.IntegrationTimeoutMs (10000)"},
		{"api without proxy", nil, &SecuredAPISettings{}, "API \"set\": want unset without Proxy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
					Image: ModelImageArgs{Context: miContext(t)}, Endpoint: seServerless().SageMakerEndpointSettings,
					Proxy: tc.proxy, API: tc.api,
				})
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestModelDeploymentLimitsFollowTheEndpointType: a serverless endpoint takes 4 MiB payloads, a
// real-time one 6 MiB (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-invoke.html;
// InvokeEndpoint's Body, 6291456 bytes in the sagemaker-runtime service model). The inference
// server's limit (MAX_BODY_BYTES, inference/main.go) and the proxy's (MAX_PAYLOAD_BYTES) follow.
func TestModelDeploymentLimitsFollowTheEndpointType(t *testing.T) {
	for _, tc := range []struct {
		name     string
		endpoint *SageMakerEndpointArgs
		want     string
	}{
		{"serverless", seServerless(), "4194304"},
		{"real-time", seRealtime(), "6291456"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mocks := pulumimock.New()
			var configName string
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				endpoint := *tc.endpoint
				endpoint.ImageURI, endpoint.RepositoryARN = nil, nil
				d, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
					Image: ModelImageArgs{Context: miContext(t)}, Endpoint: endpoint.SageMakerEndpointSettings,
					Proxy: &LambdaProxySettings{ArchivePath: lpPrebuilt(t)},
				})
				if err != nil {
					return err
				}
				_ = d
				return nil
			}, pulumi.WithMocks("inferstack", "dev", mocks))
			require.NoError(t, err)
			model := one(t, mocks, smModelType)
			assert.Equal(t, tc.want, input(t, model, "primaryContainer.environment.MAX_BODY_BYTES"), "the container's body limit")
			assert.Equal(t, tc.want, input(t, model, "primaryContainer.environment.MAX_RESPONSE_BYTES"), "the container's answer limit")
			fn := one(t, mocks, lpFunctionType)
			assert.Equal(t, tc.want, input(t, fn, "environment.variables.MAX_PAYLOAD_BYTES"), "the proxy's limit")

			config := one(t, mocks, smConfigType)
			configName = config.State["name"].StringValue()
			require.NotEmpty(t, configName)
			assert.Equal(t, configName, input(t, fn, "environment.variables.ENDPOINT_CONFIG_NAME"),
				"the cache is tied to the deployed configuration")
			assert.True(t, fn.Waits(smEndpointType, one(t, mocks, smEndpointType).Name),
				"the function takes the new configuration once the endpoint has it")
		})
	}
}

func TestModelDeploymentInvokeTimeoutFollowsTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name          string
		integrationMs int
		want          string
	}{
		{"API Gateway's default 29 s", 0, "28"},
		{"a 10 s integration timeout", 10000, "9"},
		{"10.5 s", 10500, "10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mocks := pulumimock.New()
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				endpoint := *seServerless()
				endpoint.ImageURI, endpoint.RepositoryARN = nil, nil
				_, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
					Image: ModelImageArgs{Context: miContext(t)}, Endpoint: endpoint.SageMakerEndpointSettings,
					Proxy: &LambdaProxySettings{ArchivePath: lpPrebuilt(t)},
					API:   &SecuredAPISettings{IntegrationTimeoutMs: tc.integrationMs},
				})
				return err
			}, pulumi.WithMocks("inferstack", "dev", mocks))
			require.NoError(t, err)
			fn := one(t, mocks, lpFunctionType)
			assert.Equal(t, tc.want, input(t, fn, "environment.variables.INVOKE_TIMEOUT_SECONDS"))
		})
	}
}
