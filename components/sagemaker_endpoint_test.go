package components

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

const (
	smModelType        = "aws:sagemaker/model:Model"
	smConfigType       = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
	smEndpointType     = "aws:sagemaker/endpoint:Endpoint"
	iamRoleType        = "aws:iam/role:Role"
	iamRolePolicyType  = "aws:iam/rolePolicy:RolePolicy"
	scalingTargetType  = "aws:appautoscaling/target:Target"
	scalingPolicyType  = "aws:appautoscaling/policy:Policy"
	metricAlarmType    = "aws:cloudwatch/metricAlarm:MetricAlarm"
	logGroupType       = "aws:cloudwatch/logGroup:LogGroup"
	seRepoArn          = "arn:aws:ecr:eu-central-1:123456789012:repository/churn-repo-abc1234"
	seImageURI         = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/churn-repo-abc1234@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	seKMSKey           = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	seModelData        = "s3://models-bucket/churn/model.tar.gz"
	seCaptureURI       = "s3://capture-bucket/churn"
	seSubnet, seSecGrp = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"
)

// seRealtime is a prod-like real-time endpoint: 2 instances, autoscaling, canary rollback.
func seRealtime() *SageMakerEndpointArgs {
	return &SageMakerEndpointArgs{
		ImageURI: pulumi.String(seImageURI), RepositoryARN: pulumi.String(seRepoArn),
		ModelDataURL: seModelData, Environment: pulumi.StringMap{"LOG_LEVEL": pulumi.String("info")},
		InstanceType: "ml.m5.xlarge", InstanceCount: 2, VolumeSizeGB: 30,
		Autoscaling: &AutoscalingConfig{MinCapacity: 2, MaxCapacity: 8, TargetInvocationsPerInstance: 100,
			ScaleInCooldownSeconds: 300, ScaleOutCooldownSeconds: 60},
		DataCapture: &DataCaptureConfig{DestinationS3URI: seCaptureURI, SamplingPercentage: 20},
		KMSKeyARN:   seKMSKey,
		VPC:         &VPCConfig{SubnetIDs: []string{seSubnet}, SecurityGroupIDs: []string{seSecGrp}},
		Rollback:    &RollbackConfig{TrafficRouting: "CANARY", CanaryPercent: 50, LatencyP99Ms: 500},
		Tags:        StandardTags("ml-platform", "churn", "prod", "prod"),
	}
}

func seServerless() *SageMakerEndpointArgs {
	return &SageMakerEndpointArgs{
		ImageURI: pulumi.String(seImageURI), RepositoryARN: pulumi.String(seRepoArn),
		Serverless: &ServerlessConfig{MemorySizeMB: 2048, MaxConcurrency: 5},
		Tags:       StandardTags("ml-platform", "churn", "dev", "dev"),
	}
}

func seRun(t *testing.T, args *SageMakerEndpointArgs) (*pulumimock.Mocks, map[string]any) {
	t.Helper()
	mocks := pulumimock.New()
	out := map[string]any{}
	var mu sync.Mutex // applies run concurrently
	set := func(k string, v any) { mu.Lock(); out[k] = v; mu.Unlock() }
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		e, err := NewSageMakerEndpoint(ctx, "churn", args)
		if err != nil {
			return err
		}
		for k, o := range map[string]pulumi.StringOutput{"endpointName": e.EndpointName, "endpointArn": e.EndpointARN,
			"variantName": e.VariantName, "roleArn": e.RoleARN, "modelName": e.ModelName, "endpointConfigName": e.EndpointConfigName} {
			o.ApplyT(func(v string) string { set(k, v); return v })
		}
		e.RollbackAlarmNames.ApplyT(func(v []string) []string { set("rollbackAlarmNames", v); return v })
		return nil
	}, pulumi.WithMocks("inferstack", "prod", mocks))
	require.NoError(t, err)
	return mocks, out
}

func TestSageMakerEndpointRealtimeResources(t *testing.T) {
	mocks, out := seRun(t, seRealtime())
	assert.Equal(t, map[string]int{
		sageMakerEndpointType: 1, iamRoleType: 1, iamRolePolicyType: 1, smModelType: 1, smConfigType: 1, smEndpointType: 1,
		scalingTargetType: 1, scalingPolicyType: 1, metricAlarmType: 2, logGroupType: 1,
	}, mocks.Inventory())

	role := one(t, mocks, iamRoleType)
	model := one(t, mocks, smModelType)
	_, named := model.Inputs["name"]
	assert.False(t, named, "the model is autonamed")
	assert.Equal(t, seImageURI, input(t, model, "primaryContainer.image"), "the image is pinned by digest")
	assert.Equal(t, seModelData, input(t, model, "primaryContainer.modelDataUrl"))
	assert.Equal(t, "info", input(t, model, "primaryContainer.environment.LOG_LEVEL"))
	assert.Equal(t, role.State["arn"].StringValue(), input(t, model, "executionRoleArn"))
	assert.Equal(t, []any{seSubnet}, input(t, model, "vpcConfig.subnets"))
	assert.Equal(t, []any{seSecGrp}, input(t, model, "vpcConfig.securityGroupIds"))
	assert.Equal(t, false, input(t, model, "enableNetworkIsolation"))

	config := one(t, mocks, smConfigType)
	_, named = config.Inputs["name"]
	assert.False(t, named, "a fixed configuration name breaks every update (DESIGN pitfall 1)")
	assert.Equal(t, map[string]any{
		"variantName": DefaultVariantName, "modelName": model.State["name"].StringValue(), "instanceType": "ml.m5.xlarge",
		"initialInstanceCount": 2.0, "initialVariantWeight": 1.0, "volumeSizeInGb": 30.0,
	}, input(t, config, "productionVariants.0"))
	assert.Equal(t, seKMSKey, input(t, config, "kmsKeyArn"))
	assert.Equal(t, seCaptureURI, input(t, config, "dataCaptureConfig.destinationS3Uri"))
	assert.Equal(t, 20.0, input(t, config, "dataCaptureConfig.initialSamplingPercentage"))
	assert.Equal(t, seKMSKey, input(t, config, "dataCaptureConfig.kmsKeyId"))

	endpoint := one(t, mocks, smEndpointType)
	name := out["endpointName"].(string)
	assert.Equal(t, name, input(t, endpoint, "name"))
	assert.LessOrEqual(t, len(name), 63)
	assert.Equal(t, config.State["name"].StringValue(), input(t, endpoint, "endpointConfigName"))
	bg := "deploymentConfig.blueGreenUpdatePolicy."
	assert.Equal(t, "CANARY", input(t, endpoint, bg+"trafficRoutingConfiguration.type"))
	assert.Equal(t, map[string]any{"type": "CAPACITY_PERCENT", "value": 50.0}, input(t, endpoint, bg+"trafficRoutingConfiguration.canarySize"))
	assert.Equal(t, 300.0, input(t, endpoint, bg+"trafficRoutingConfiguration.waitIntervalInSeconds"))

	// The component's own rollback alarms: named for the endpoint, on its variant, in microseconds.
	alarms := mocks.OfType(metricAlarmType)
	var alarmNames []any
	for _, a := range alarms {
		alarmNames = append(alarmNames, map[string]any{"alarmName": input(t, a, "name")})
		assert.Equal(t, name, input(t, a, "dimensions.EndpointName"))
		assert.Equal(t, DefaultVariantName, input(t, a, "dimensions.VariantName"))
		assert.Equal(t, "AWS/SageMaker", input(t, a, "namespace"))
	}
	assert.ElementsMatch(t, alarmNames, input(t, endpoint, "deploymentConfig.autoRollbackConfiguration.alarms"))
	latency, ok := mocks.Named(metricAlarmType, "churn-rollback-latency")
	require.True(t, ok)
	assert.Equal(t, "ModelLatency", input(t, latency, "metricName"))
	assert.Equal(t, "p99", input(t, latency, "extendedStatistic"))
	assert.Equal(t, 500000.0, input(t, latency, "threshold"), "500 ms in microseconds (DESIGN pitfall 13)")
	errs, ok := mocks.Named(metricAlarmType, "churn-rollback-5xx")
	require.True(t, ok)
	assert.Equal(t, "Invocation5XXErrors", input(t, errs, "metricName"))
	assert.Equal(t, []string{name + "-rollback-5xx", name + "-rollback-latency"}, out["rollbackAlarmNames"])

	// The stack owns the container log group, with retention.
	logs := one(t, mocks, logGroupType)
	assert.Equal(t, "/aws/sagemaker/Endpoints/"+name, input(t, logs, "name"))
	assert.Equal(t, 30.0, input(t, logs, "retentionInDays"))

	// Autoscaling (DESIGN pitfall 3).
	target := one(t, mocks, scalingTargetType)
	assert.Equal(t, "endpoint/"+name+"/variant/primary", input(t, target, "resourceId"))
	assert.Equal(t, "sagemaker:variant:DesiredInstanceCount", input(t, target, "scalableDimension"))
	assert.Equal(t, "sagemaker", input(t, target, "serviceNamespace"))
	assert.Equal(t, 2.0, input(t, target, "minCapacity"))
	assert.Equal(t, 8.0, input(t, target, "maxCapacity"))
	policy := one(t, mocks, scalingPolicyType)
	assert.Equal(t, "TargetTrackingScaling", input(t, policy, "policyType"))
	assert.Equal(t, "endpoint/"+name+"/variant/primary", input(t, policy, "resourceId"))
	assert.Equal(t, "sagemaker:variant:DesiredInstanceCount", input(t, policy, "scalableDimension"))
	tt := "targetTrackingScalingPolicyConfiguration."
	assert.Equal(t, "SageMakerVariantInvocationsPerInstance", input(t, policy, tt+"predefinedMetricSpecification.predefinedMetricType"))
	assert.Equal(t, 100.0, input(t, policy, tt+"targetValue"))
	assert.Equal(t, 300.0, input(t, policy, tt+"scaleInCooldown"))
	assert.Equal(t, 60.0, input(t, policy, tt+"scaleOutCooldown"))

	// Outputs and tags.
	assert.Equal(t, DefaultVariantName, out["variantName"])
	assert.Regexp(t, `^arn:aws:sagemaker:eu-central-1:123456789012:endpoint/`+strings.ToLower(name)+`$`, out["endpointArn"])
	assert.Equal(t, role.State["arn"].StringValue(), out["roleArn"])
	assert.Equal(t, model.State["name"].StringValue(), out["modelName"])
	assert.Equal(t, config.State["name"].StringValue(), out["endpointConfigName"])
	for _, r := range []pulumimock.Resource{role, model, config, endpoint, target, alarms[0], alarms[1]} {
		assert.Equal(t, "prod", input(t, r, "tags.environment"), r.String())
		assert.Equal(t, r.Name, input(t, r, "tags.Name"), r.String())
	}
}

func TestSageMakerEndpointServerless(t *testing.T) {
	mocks, out := seRun(t, seServerless())
	assert.Equal(t, map[string]int{
		sageMakerEndpointType: 1, iamRoleType: 1, iamRolePolicyType: 1, smModelType: 1, smConfigType: 1, smEndpointType: 1,
		logGroupType: 1,
	}, mocks.Inventory(), "no autoscaling and no alarms on a serverless endpoint without rollback")
	config := one(t, mocks, smConfigType)
	variant := input(t, config, "productionVariants.0").(map[string]any)
	assert.Equal(t, map[string]any{"memorySizeInMb": 2048.0, "maxConcurrency": 5.0}, variant["serverlessConfig"])
	assert.NotContains(t, variant, "instanceType")
	assert.NotContains(t, variant, "initialInstanceCount")
	assert.NotContains(t, config.Inputs, "dataCaptureConfig")
	assert.NotContains(t, config.Inputs, "kmsKeyArn")
	model := one(t, mocks, smModelType)
	assert.NotContains(t, model.Inputs, "vpcConfig")
	assert.NotContains(t, model.Inputs["primaryContainer"].ObjectValue(), "modelDataUrl")
	endpoint := one(t, mocks, smEndpointType)
	assert.NotContains(t, endpoint.Inputs, "deploymentConfig")
	assert.Empty(t, out["rollbackAlarmNames"])
}

func TestSageMakerEndpointUsesGivenRollbackAlarms(t *testing.T) {
	args := seServerless()
	args.Rollback = &RollbackConfig{AlarmNames: []string{"churn-prod-5xx", "churn-prod-p99"}}
	mocks, out := seRun(t, args)
	assert.Empty(t, mocks.OfType(metricAlarmType), "given alarms replace the component's own")
	endpoint := one(t, mocks, smEndpointType)
	assert.Equal(t, []any{map[string]any{"alarmName": "churn-prod-5xx"}, map[string]any{"alarmName": "churn-prod-p99"}},
		input(t, endpoint, "deploymentConfig.autoRollbackConfiguration.alarms"))
	assert.Equal(t, "ALL_AT_ONCE", input(t, endpoint, "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type"))
	assert.Equal(t, []string{"churn-prod-5xx", "churn-prod-p99"}, out["rollbackAlarmNames"])

	doc := sePolicy(t, mocks)
	st := seStatement(t, doc, "ReadRollbackAlarms")
	assert.Equal(t, []string{
		"arn:aws:cloudwatch:eu-central-1:123456789012:alarm:churn-prod-5xx",
		"arn:aws:cloudwatch:eu-central-1:123456789012:alarm:churn-prod-p99",
	}, st.Resource)
}

func sePolicy(t *testing.T, mocks *pulumimock.Mocks) PolicyDocument {
	t.Helper()
	raw := input(t, one(t, mocks, iamRolePolicyType), "policy")
	var doc PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(raw.(string)), &doc), "the policy is valid JSON")
	return doc
}

func seStatement(t *testing.T, doc PolicyDocument, sid string) PolicyStatement {
	t.Helper()
	for _, s := range doc.Statement {
		if s.Sid == sid {
			return s
		}
	}
	require.Failf(t, "missing statement", "no statement %q in %+v", sid, doc)
	return PolicyStatement{}
}

// TestSageMakerEndpointPolicyIsLeastPrivilege walks the execution policy the way IAM would read it.
func TestSageMakerEndpointPolicyIsLeastPrivilege(t *testing.T) {
	mocks, out := seRun(t, seRealtime())
	doc := sePolicy(t, mocks)
	assert.Equal(t, "2012-10-17", doc.Version)
	// Resource "*" only where IAM offers no resource type to scope to.
	unscopable := map[string]bool{"EcrLogin": true, "VpcDescribe": true, "PublishInstanceMetrics": true}
	for _, s := range doc.Statement {
		assert.Equal(t, "Allow", s.Effect)
		for _, a := range s.Action {
			assert.NotContains(t, a, "*", "statement %s: wildcard action %q", s.Sid, a)
		}
		require.NotEmpty(t, s.Resource, s.Sid)
		for _, r := range s.Resource {
			if r == "*" {
				assert.True(t, unscopable[s.Sid], "statement %s: Resource \"*\"", s.Sid)
				continue
			}
			assert.Regexp(t, `^arn:aws:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+`, r, "statement %s", s.Sid)
		}
	}
	assert.Equal(t, []string{"ecr:GetAuthorizationToken"}, seStatement(t, doc, "EcrLogin").Action)
	assert.Equal(t, []string{seRepoArn}, seStatement(t, doc, "PullImage").Resource)
	group := "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/sagemaker/Endpoints/" + out["endpointName"].(string)
	assert.Equal(t, []string{group, group + ":log-stream:*"}, seStatement(t, doc, "Logs").Resource)
	// AWS's "CreateModel API: Execution Role Permissions" (sagemaker-roles.html#sagemaker-roles-createmodel-perms)
	// lists these logs actions; each is held to the endpoint's own group.
	assert.ElementsMatch(t, []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		seStatement(t, doc, "Logs").Action)
	// The same page lists cloudwatch:PutMetricData: the instance metrics the CPU/memory/disk alarms
	// watch. It has no resource type, so a namespace condition scopes it.
	metrics := seStatement(t, doc, "PublishInstanceMetrics")
	assert.Equal(t, []string{"cloudwatch:PutMetricData"}, metrics.Action)
	assert.Equal(t, []string{"*"}, metrics.Resource)
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}, metrics.Condition)
	assert.Equal(t, []string{"s3:GetObject"}, seStatement(t, doc, "ReadModelData").Action)
	assert.Equal(t, []string{"arn:aws:s3:::models-bucket/churn/model.tar.gz"}, seStatement(t, doc, "ReadModelData").Resource)
	assert.Equal(t, []string{"arn:aws:s3:::capture-bucket/churn/*"}, seStatement(t, doc, "WriteDataCapture").Resource)
	assert.Equal(t, []string{seKMSKey}, seStatement(t, doc, "UseKmsKey").Resource)
	name := out["endpointName"].(string)
	assert.Equal(t, []string{
		"arn:aws:cloudwatch:eu-central-1:123456789012:alarm:" + name + "-rollback-5xx",
		"arn:aws:cloudwatch:eu-central-1:123456789012:alarm:" + name + "-rollback-latency",
	}, seStatement(t, doc, "ReadRollbackAlarms").Resource)
	assert.Contains(t, seStatement(t, doc, "VpcNetworkInterfaces").Resource, "arn:aws:ec2:eu-central-1:123456789012:subnet/"+seSubnet)

	// The trust policy admits SageMaker from this account only.
	var trust PolicyDocument
	raw := input(t, one(t, mocks, iamRoleType), "assumeRolePolicy")
	require.NoError(t, json.Unmarshal([]byte(raw.(string)), &trust))
	assert.Equal(t, map[string]any{"Service": "sagemaker.amazonaws.com"}, trust.Statement[0].Principal)
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}}, trust.Statement[0].Condition)

	// The serverless endpoint's policy has only what it uses.
	mocks, _ = seRun(t, seServerless())
	var sids []string
	for _, s := range sePolicy(t, mocks).Statement {
		sids = append(sids, s.Sid)
	}
	assert.Equal(t, []string{"PullImage", "EcrLogin", "Logs"}, sids)
}

func TestSageMakerEndpointRejectsBadArgs(t *testing.T) {
	with := func(f func(a *SageMakerEndpointArgs)) *SageMakerEndpointArgs { a := seServerless(); f(a); return a }
	rt := func(f func(a *SageMakerEndpointArgs)) *SageMakerEndpointArgs { a := seRealtime(); f(a); return a }
	tests := []struct {
		name string
		args *SageMakerEndpointArgs
		want string
	}{
		{"nil args", nil, "args are required"},
		{"no image", with(func(a *SageMakerEndpointArgs) { a.ImageURI = nil }), "ImageURI is required"},
		{"no repository", with(func(a *SageMakerEndpointArgs) { a.RepositoryARN = nil }), "RepositoryARN is required"},
		{"serverless autoscaling", with(func(a *SageMakerEndpointArgs) { a.Autoscaling = &AutoscalingConfig{MinCapacity: 1, MaxCapacity: 2} }), "Autoscaling is not supported on a serverless"},
		{"serverless data capture", with(func(a *SageMakerEndpointArgs) { a.DataCapture = &DataCaptureConfig{DestinationS3URI: seCaptureURI} }), "DataCapture is not supported"},
		{"serverless vpc", with(func(a *SageMakerEndpointArgs) { a.VPC = &VPCConfig{} }), "VPC is not supported"},
		{"serverless isolation", with(func(a *SageMakerEndpointArgs) { a.NetworkIsolation = true }), "NetworkIsolation is not supported"},
		{"serverless kms", with(func(a *SageMakerEndpointArgs) { a.KMSKeyARN = "arn:aws:kms:eu-central-1:123456789012:key/k" }), "KMSKeyARN is not supported on a serverless"},
		{"serverless memory unset", with(func(a *SageMakerEndpointArgs) { a.Serverless = &ServerlessConfig{MaxConcurrency: 5} }), "Serverless.MemorySizeMB 0"},
		{"serverless memory step", with(func(a *SageMakerEndpointArgs) { a.Serverless.MemorySizeMB = 1500 }), "Serverless.MemorySizeMB 1500"},
		{"serverless concurrency", with(func(a *SageMakerEndpointArgs) { a.Serverless.MaxConcurrency = 201 }), "Serverless.MaxConcurrency 201"},
		{"autoscaling without target", rt(func(a *SageMakerEndpointArgs) { a.Autoscaling.TargetInvocationsPerInstance = 0 }), "TargetInvocationsPerInstance 0"},
		{"bad instance type", rt(func(a *SageMakerEndpointArgs) { a.InstanceType = "m5.large" }), `InstanceType "m5.large"`},
		{"negative count", rt(func(a *SageMakerEndpointArgs) { a.InstanceCount = -1 }), "InstanceCount -1"},
		{"min above max", rt(func(a *SageMakerEndpointArgs) { a.Autoscaling.MinCapacity = 9 }), "MinCapacity 9 and MaxCapacity 8"},
		{"model data not s3", rt(func(a *SageMakerEndpointArgs) { a.ModelDataURL = "https://x/y" }), "not an s3:// URI"},
		{"capture without bucket", rt(func(a *SageMakerEndpointArgs) { a.DataCapture.DestinationS3URI = "s3://" }), "no bucket"},
		{"vpc without groups", rt(func(a *SageMakerEndpointArgs) { a.VPC.SecurityGroupIDs = nil }), "both SubnetIDs and SecurityGroupIDs"},
		{"too many alarms", rt(func(a *SageMakerEndpointArgs) { a.Rollback.AlarmNames = make([]string, 11) }), "at most 10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewSageMakerEndpoint(ctx, "churn", tc.args)
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEndpointNameIsStableBoundedAndFollowsAutoscaledInstanceType(t *testing.T) {
	plain := SageMakerEndpointArgs{InstanceType: "ml.m5.large"}
	scaled := SageMakerEndpointArgs{InstanceType: "ml.m5.large", Autoscaling: &AutoscalingConfig{}}
	name := endpointName("inferstack", "prod", "churn", plain)
	assert.Regexp(t, `^churn-prod-[0-9a-f]{7}$`, name)
	assert.Equal(t, name, endpointName("inferstack", "prod", "churn", plain), "stable across runs")
	assert.NotEqual(t, name, endpointName("inferstack", "dev", "churn", plain), "unique per stack")
	assert.NotEqual(t, name, endpointName("other", "prod", "churn", plain), "unique per project")

	bigger := plain
	bigger.InstanceType = "ml.m5.xlarge"
	assert.Equal(t, name, endpointName("inferstack", "prod", "churn", bigger),
		"without autoscaling an instance type change is an in-place blue/green update")
	scaledBigger := scaled
	scaledBigger.InstanceType = "ml.m5.xlarge"
	assert.NotEqual(t, endpointName("inferstack", "prod", "churn", scaled), endpointName("inferstack", "prod", "churn", scaledBigger),
		"an autoscaled variant cannot change instance type in place (DESIGN pitfall 12): a new endpoint replaces it")

	long := endpointName("inferstack", "production-eu-central-1", strings.Repeat("model", 12), plain)
	assert.LessOrEqual(t, len(long), 63)
	assert.Regexp(t, `^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`, long)
	custom := plain
	custom.EndpointName = "Churn_Scorer!"
	assert.Regexp(t, `^Churn-Scorer-[0-9a-f]{7}$`, endpointName("inferstack", "prod", "churn", custom))
}
