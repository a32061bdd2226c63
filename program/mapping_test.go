package program

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/stackconfig"
)

func config(t *testing.T, env string, values map[string]string) stackconfig.Config {
	t.Helper()
	all := map[string]string{
		stackconfig.KeyRegion: "eu-central-1", stackconfig.KeyEnvironment: env, stackconfig.KeyTeam: "ml-platform",
		stackconfig.KeyModel: `{"name":"churn"}`,
	}
	for k, v := range values {
		all[k] = v
	}
	c, err := stackconfig.ParseMap(env, all)
	require.NoError(t, err)
	return c
}

func TestImageArgsFollowEnvironmentAndPlatform(t *testing.T) {
	tests := []struct {
		name        string
		env         string
		values      map[string]string
		platform    string
		forceDelete bool
		buildArgs   map[string]string
	}{
		{"dev serverless", stackconfig.EnvDev, nil, components.PlatformAMD64, true, nil},
		{"dev baked model", stackconfig.EnvDev, map[string]string{stackconfig.KeyModel: `{"name":"churn","dir":"models/churn"}`},
			components.PlatformAMD64, true, map[string]string{ModelDirBuildArg: "models/churn"}},
		{"qa x86", stackconfig.EnvQA, nil, components.PlatformAMD64, true, nil},
		{"prod graviton", stackconfig.EnvProd, map[string]string{"inferstack:endpoint.instanceType": "ml.c6g.xlarge"},
			components.PlatformARM64, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config(t, tc.env, tc.values)
			a := ImageArgs(c)
			assert.Equal(t, tc.platform, a.Platform)
			assert.Equal(t, tc.forceDelete, a.ForceDelete, "only prod keeps its repository on destroy")
			assert.Equal(t, tc.buildArgs, a.BuildArgs)
			assert.Equal(t, ".", a.Context)
			assert.Equal(t, stackconfig.DefaultDockerfile, a.Dockerfile)
			assert.Equal(t, "churn/"+c.Stack, a.Tags[components.TagStack], "unique per deployment, not just per stack name")
			assert.Nil(t, a.KMSKeyARN)
		})
	}
}

// TestModelVariantReachesModelImage: model.variant chooses the image variant where ModelImage
// cannot look at the model (model.dataUrl), and its allowed values are ModelImage's own.
func TestModelVariantReachesModelImage(t *testing.T) {
	c := config(t, stackconfig.EnvDev, map[string]string{
		stackconfig.KeyModel: `{"name":"churn","dataUrl":"s3://models/churn/model.tar.gz","variant":"onnx"}`})
	assert.Equal(t, components.VariantONNX, ImageArgs(c).Variant)
	assert.Empty(t, ImageArgs(config(t, stackconfig.EnvDev, nil)).Variant, "unset: ModelImage sniffs model.dir")
}

func TestEndpointArgsRealtimeAndServerless(t *testing.T) {
	dev := EndpointArgs(config(t, stackconfig.EnvDev, nil))
	require.NotNil(t, dev.Serverless)
	assert.Equal(t, components.ServerlessConfig{MemorySizeMB: 2048, MaxConcurrency: 5}, *dev.Serverless)
	assert.Empty(t, dev.InstanceType, "a serverless endpoint has no instance type")
	assert.Nil(t, dev.Autoscaling)
	assert.Nil(t, dev.Rollback)
	assert.Nil(t, dev.DataCapture)
	assert.Nil(t, dev.VPC)
	assert.Equal(t, 7, dev.LogRetentionDays)

	prod := EndpointArgs(config(t, stackconfig.EnvProd, map[string]string{
		stackconfig.KeyEndpoint: `{"dataCapture":{"enabled":true,"destinationS3Uri":"s3://capture/churn","samplingPercentage":5},
			"vpc":{"subnetIds":["subnet-0123456789abcdef0"],"securityGroupIds":["sg-0123456789abcdef0"]},
			"rollback":{"alarmNames":["churn-5xx"]}}`,
		stackconfig.KeyMonitoring: `{"latencyP99Ms":250}`,
	}))
	assert.Nil(t, prod.Serverless)
	assert.Equal(t, "ml.m5.xlarge", prod.InstanceType)
	assert.Equal(t, 2, prod.InstanceCount)
	assert.Equal(t, &components.AutoscalingConfig{MinCapacity: 2, MaxCapacity: 8, TargetInvocationsPerInstance: 100,
		ScaleInCooldownSeconds: 300, ScaleOutCooldownSeconds: 60}, prod.Autoscaling)
	assert.Equal(t, &components.DataCaptureConfig{DestinationS3URI: "s3://capture/churn", SamplingPercentage: 5}, prod.DataCapture)
	assert.Equal(t, &components.VPCConfig{SubnetIDs: []string{"subnet-0123456789abcdef0"}, SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}, prod.VPC)
	require.NotNil(t, prod.Rollback)
	assert.Equal(t, []string{"churn-5xx"}, prod.Rollback.AlarmNames)
	assert.Equal(t, "CANARY", prod.Rollback.TrafficRouting)
	assert.Equal(t, 50, prod.Rollback.CanaryPercent)
	assert.Equal(t, 600, prod.Rollback.TerminationWaitSeconds)
	assert.Equal(t, 250.0, prod.Rollback.LatencyP99Ms, "the rollback latency alarm uses the monitoring threshold")
	assert.Equal(t, 90, prod.LogRetentionDays)
}

func TestMonitoringArgsFromConfig(t *testing.T) {
	dev := MonitoringArgs(config(t, stackconfig.EnvDev, nil))
	assert.Equal(t, 500.0, dev.Thresholds.LatencyP99Ms)
	assert.Equal(t, 1.0, dev.Thresholds.ErrorRatePercent)
	assert.Equal(t, 5.0, dev.Thresholds.ClientErrorRatePercent)
	assert.Equal(t, 100.0, dev.MonthlyBudgetUSD)
	assert.Equal(t, 24000.0, dev.Thresholds.LambdaDurationP99Ms, "80% of the default 30 s proxy timeout")

	prod := MonitoringArgs(config(t, stackconfig.EnvProd, map[string]string{
		stackconfig.KeyMonitoring: `{"latencyP99Ms":250,"cpuUtilizationPercent":300,"clientErrorRatePercent":10,"alarmEmails":["oncall@example.com"],
			"budgetEmails":["finance@example.com"],"monthlyBudgetUsd":5000}`,
	}))
	assert.Equal(t, components.MonitoringThresholds{LatencyP99Ms: 250, ErrorRatePercent: 1, ClientErrorRatePercent: 10, CPUUtilizationPercent: 300,
		MemoryUtilizationPercent: 80, LambdaDurationP99Ms: 24000}, *prod.Thresholds)
	assert.Equal(t, []string{"oncall@example.com"}, prod.AlarmEmails)
	assert.Equal(t, []string{"finance@example.com"}, prod.BudgetEmails)
	assert.Equal(t, 5000.0, prod.MonthlyBudgetUSD)
	assert.Equal(t, "prod", prod.Tags[components.TagEnvironment])
}

func TestProxyAnswersCarryTheAPIsCORSOrigins(t *testing.T) {
	c := config(t, stackconfig.EnvDev, map[string]string{"inferstack:api": `{"corsOrigins":["https://app.example.com"]}`})
	assert.Equal(t, []string{"https://app.example.com"}, ProxyArgs(c).CORSOrigins)
	assert.Equal(t, ProxyArgs(c).CORSOrigins, APIArgs(c).CORSOrigins, "the preflight and the answers allow the same origins")
	assert.Empty(t, ProxyArgs(config(t, stackconfig.EnvDev, nil)).CORSOrigins)
}
