package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/appautoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sagemaker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const sageMakerEndpointType = "inferstack:components:SageMakerEndpoint"

// DefaultVariantName is the production variant's name. Blue/green updates keep it, so alarms,
// autoscaling and dashboards that name it survive every deployment.
const DefaultVariantName = "primary"

// Scaling constants of Application Auto Scaling for SageMaker variants (DESIGN pitfall 3).
const (
	scalingNamespace       = "sagemaker"
	instanceCountDimension = "sagemaker:variant:DesiredInstanceCount"
	invocationsMetric      = "SageMakerVariantInvocationsPerInstance"
)

// SageMakerEndpointArgs configures a SageMakerEndpoint. Set Serverless for a serverless endpoint;
// otherwise InstanceType and InstanceCount make it real-time. Values that decide which resources
// and policy statements exist, or that the endpoint's name and its log and alarm ARNs are computed
// from before it exists, are plain Go values; the rest are inputs.
type SageMakerEndpointArgs struct {
	// ImageURI (required) is the inference image, pinned by digest (ModelImage.ImageURI).
	ImageURI pulumi.StringInput `pulumi:"imageUri"`
	// RepositoryARN (required) is the image's ECR repository; the role may pull from it only.
	RepositoryARN pulumi.StringInput `pulumi:"repositoryArn"`
	// ModelDataURL (optional) is an s3://bucket/key.tar.gz extracted into /opt/ml/model; the role
	// may read that object only.
	ModelDataURL string `pulumi:"modelDataUrl,optional"`
	// Environment (optional) are extra container environment variables.
	Environment pulumi.StringMapInput `pulumi:"environment,optional"`
	// EndpointName (optional) is the base of the endpoint's name; default "<name>-<stack>". A short
	// hash is appended (see endpointName) so names stay unique and within 63 characters.
	EndpointName string `pulumi:"endpointName,optional"`
	// VariantName (optional) is the production variant's name; default "primary".
	VariantName string `pulumi:"variantName,optional"`

	// InstanceType (real-time, required) is an ml.* instance type.
	InstanceType string `pulumi:"instanceType,optional"`
	// InstanceCount (real-time) is the initial instance count; default 1.
	InstanceCount int `pulumi:"instanceCount,optional"`
	// VolumeSizeGB (real-time, optional) is the ML storage volume; 0 keeps SageMaker's default.
	VolumeSizeGB int `pulumi:"volumeSizeGb,optional"`
	// Serverless (optional) makes the endpoint serverless; then VPC, NetworkIsolation, DataCapture
	// and Autoscaling must be unset (DESIGN pitfall 11).
	Serverless *ServerlessConfig `pulumi:"serverless,optional"`
	// Autoscaling (optional, real-time only) is target tracking on invocations per instance.
	Autoscaling *AutoscalingConfig `pulumi:"autoscaling,optional"`
	// DataCapture (optional, real-time only) captures requests and responses to S3.
	DataCapture *DataCaptureConfig `pulumi:"dataCapture,optional"`
	// KMSKeyARN (optional) encrypts the ML storage volume and captured data (real-time only).
	KMSKeyARN string `pulumi:"kmsKeyArn,optional"`
	// VPC (optional, real-time only) runs the container in these subnets.
	VPC *VPCConfig `pulumi:"vpc,optional"`
	// NetworkIsolation (optional, real-time only) blocks the container's network access.
	NetworkIsolation bool `pulumi:"networkIsolation,optional"`
	// Rollback (optional) turns on blue/green updates that roll back when an alarm fires.
	Rollback *RollbackConfig `pulumi:"rollback,optional"`
	// LogRetentionDays (optional) is the retention of the endpoint's log group, which the
	// component owns so that SageMaker does not create it without retention; default 30.
	LogRetentionDays int `pulumi:"logRetentionDays,optional"`
	// Tags (optional) go on every taggable child; use StandardTags.
	Tags map[string]string `pulumi:"tags,optional"`
	// LiveReader (optional, autoscaled endpoints) reads the live endpoint during preview and up so
	// that a rollout keeps the capacity autoscaling reached (see rolloutCount); default an
	// aws-sdk-go-v2 client with the default credentials in the stack's region, none under mocks.
	LiveReader SageMakerReader
}

// ServerlessConfig sizes a serverless variant.
type ServerlessConfig struct {
	// MemorySizeMB is 1024..6144 in steps of 1024.
	MemorySizeMB int `pulumi:"memorySizeMb"`
	// MaxConcurrency is 1..200.
	MaxConcurrency int `pulumi:"maxConcurrency"`
}

// AutoscalingConfig is target tracking of SageMakerVariantInvocationsPerInstance.
type AutoscalingConfig struct {
	// MinCapacity is the fewest instances autoscaling keeps, at least 1.
	MinCapacity int `pulumi:"minCapacity"`
	// MaxCapacity is the most instances autoscaling starts, at least MinCapacity.
	MaxCapacity int `pulumi:"maxCapacity"`
	// TargetInvocationsPerInstance is invocations per instance per minute.
	TargetInvocationsPerInstance float64 `pulumi:"targetInvocationsPerInstance"`
	// ScaleInCooldownSeconds (optional) is the seconds after a scale-in before another may start; default 0.
	ScaleInCooldownSeconds int `pulumi:"scaleInCooldownSeconds,optional"`
	// ScaleOutCooldownSeconds (optional) is the seconds after a scale-out before another may start; default 0.
	ScaleOutCooldownSeconds int `pulumi:"scaleOutCooldownSeconds,optional"`
}

// DataCaptureConfig sends a sample of requests and responses to S3.
type DataCaptureConfig struct {
	// DestinationS3URI is s3://bucket/prefix; the role may write below it only.
	DestinationS3URI string `pulumi:"destinationS3Uri"`
	// SamplingPercentage is 1..100.
	SamplingPercentage int `pulumi:"samplingPercentage,optional"`
}

// VPCConfig places the model containers in a VPC.
type VPCConfig struct {
	// SubnetIDs are the subnets the endpoint's instances attach to (at least one).
	SubnetIDs []string `pulumi:"subnetIds"`
	// SecurityGroupIDs are the security groups of those attachments (at least one).
	SecurityGroupIDs []string `pulumi:"securityGroupIds"`
}

// RollbackConfig is a blue/green deployment with automatic rollback.
type RollbackConfig struct {
	// AlarmNames (optional) are the CloudWatch alarms that roll a deployment back, such as the
	// Monitoring component's. They are names, not outputs: the alarms watch this endpoint, so their
	// names must be known before it exists. When empty, the component creates two alarms of its
	// own on Invocation5XXErrors and ModelLatency p99, so rollback never runs blind.
	AlarmNames []string `pulumi:"alarmNames,optional"`
	// TrafficRouting is ALL_AT_ONCE (default), CANARY or LINEAR.
	TrafficRouting string `pulumi:"trafficRouting,optional"`
	// CanaryPercent is the capacity share per CANARY or LINEAR step; default 10.
	CanaryPercent int `pulumi:"canaryPercent,optional"`
	// WaitIntervalSeconds is the bake time between traffic shifts; default 300.
	WaitIntervalSeconds int `pulumi:"waitIntervalSeconds,optional"`
	// TerminationWaitSeconds keeps the old fleet after the switch; default 300.
	TerminationWaitSeconds int `pulumi:"terminationWaitSeconds,optional"`
	// LatencyP99Ms is the threshold of the component's own latency alarm; default 1000.
	LatencyP99Ms float64 `pulumi:"latencyP99Ms,optional"`
	// ErrorCount is the threshold of the component's own 5XX alarm, errors per minute; default 1.
	ErrorCount float64 `pulumi:"errorCount,optional"`
}

// SageMakerEndpoint serves a model image on a SageMaker real-time or serverless endpoint.
type SageMakerEndpoint struct {
	pulumi.ResourceState

	// EndpointName is the endpoint's name, for InvokeEndpoint and CloudWatch dimensions.
	EndpointName pulumi.StringOutput `pulumi:"endpointName"`
	// EndpointARN is the endpoint's ARN, for sagemaker:InvokeEndpoint policies.
	EndpointARN pulumi.StringOutput `pulumi:"endpointArn"`
	// VariantName is the production variant's name ("primary" by default).
	VariantName pulumi.StringOutput `pulumi:"variantName"`
	// RoleARN is the execution role's ARN.
	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
	// ModelName is the SageMaker model's (autonamed) name.
	ModelName pulumi.StringOutput `pulumi:"modelName"`
	// EndpointConfigName is the current (autonamed) endpoint configuration's name.
	EndpointConfigName pulumi.StringOutput `pulumi:"endpointConfigName"`
	// RollbackAlarmNames are the alarms that roll deployments back (empty without rollback).
	RollbackAlarmNames pulumi.StringArrayOutput `pulumi:"rollbackAlarmNames"`
}

// NewSageMakerEndpoint creates the execution role, model, endpoint configuration, endpoint and,
// for real-time endpoints, autoscaling.
func NewSageMakerEndpoint(ctx *pulumi.Context, name string, args *SageMakerEndpointArgs, opts ...pulumi.ResourceOption) (*SageMakerEndpoint, error) {
	a, err := endpointDefaults(name, args)
	if err != nil {
		return nil, err
	}
	c := &SageMakerEndpoint{}
	if err := ctx.RegisterComponentResource(sageMakerEndpointType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	account, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("sagemaker endpoint %q: caller identity: %w", name, err)
	}
	region, err := aws.GetRegion(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("sagemaker endpoint %q: region: %w", name, err)
	}
	partition, err := aws.GetPartition(ctx, nil, parent)
	if err != nil {
		return nil, fmt.Errorf("sagemaker endpoint %q: partition: %w", name, err)
	}
	env := awsEnv{Account: account.AccountId, Region: region.Name, Partition: partition.Partition}
	endpointName := endpointName(ctx.Project(), ctx.Stack(), name, a)

	// Rollback alarms first: the endpoint's deployment config names them.
	var alarmNames []string
	var alarms []pulumi.Resource
	if a.Rollback != nil {
		alarmNames = a.Rollback.AlarmNames
		if len(alarmNames) == 0 {
			alarms, alarmNames, err = newRollbackAlarms(ctx, name, endpointName, a, parent)
			if err != nil {
				return nil, err
			}
		}
	}

	roleName := name + "-role"
	trust, err := AssumeRolePolicy("sagemaker.amazonaws.com", env.Account).JSON()
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, roleName, &iam.RoleArgs{
		Description:      pulumi.Sprintf("SageMaker execution role of endpoint %s", endpointName),
		AssumeRolePolicy: pulumi.String(trust),
		Tags:             tagsFor(a.Tags, roleName),
	}, parent)
	if err != nil {
		return nil, err
	}
	policy := a.RepositoryARN.ToStringOutput().ApplyT(func(repoArn string) (string, error) {
		return executionPolicy(env, endpointName, repoArn, alarmNames, a).JSON()
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-role-policy", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: policy,
	}, parent)
	if err != nil {
		return nil, err
	}

	model, err := newModel(ctx, name, a, role, rolePolicy, parent)
	if err != nil {
		return nil, err
	}
	count := initialInstanceCount(ctx, endpointName, env.Region, a, model.Name)
	config, err := newEndpointConfig(ctx, name, a, model, count, parent)
	if err != nil {
		return nil, err
	}

	// The stack owns the container log group; SageMaker would create it on first write and keep
	// the logs forever.
	logsRes := name + "-logs"
	logGroup, err := cloudwatch.NewLogGroup(ctx, logsRes, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(endpointLogGroup(endpointName)),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            tagsFor(a.Tags, logsRes),
	}, parent)
	if err != nil {
		return nil, err
	}

	endpointRes := name + "-endpoint"
	endpoint, err := sagemaker.NewEndpoint(ctx, endpointRes, &sagemaker.EndpointArgs{
		Name:               pulumi.String(endpointName),
		EndpointConfigName: config.Name,
		DeploymentConfig:   deploymentConfig(a.Rollback, alarmNames),
		Tags:               tagsFor(a.Tags, endpointRes),
	}, parent, pulumi.DependsOn(append(alarms, rolePolicy, logGroup)))
	if err != nil {
		return nil, err
	}

	if a.Autoscaling != nil {
		if err := newAutoscaling(ctx, name, a, endpoint, parent); err != nil {
			return nil, err
		}
	}

	c.EndpointName = endpoint.Name
	c.EndpointARN = endpoint.Arn
	// Derived from the endpoint so that they resolve with it and carry its dependency.
	c.VariantName = endpoint.Name.ApplyT(func(string) string { return a.VariantName }).(pulumi.StringOutput)
	c.RoleARN = role.Arn
	c.ModelName = model.Name
	c.EndpointConfigName = config.Name
	c.RollbackAlarmNames = endpoint.Name.ApplyT(func(string) []string { return alarmNames }).(pulumi.StringArrayOutput)
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"endpointName":       c.EndpointName,
		"endpointArn":        c.EndpointARN,
		"variantName":        c.VariantName,
		"roleArn":            c.RoleARN,
		"modelName":          c.ModelName,
		"endpointConfigName": c.EndpointConfigName,
		"rollbackAlarmNames": c.RollbackAlarmNames,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func newModel(ctx *pulumi.Context, name string, a SageMakerEndpointArgs, role *iam.Role, rolePolicy pulumi.Resource,
	parent pulumi.ResourceOption) (*sagemaker.Model, error) {
	container := sagemaker.ModelPrimaryContainerArgs{
		Image:       a.ImageURI,
		Environment: withPayloadLimits(a.Environment, a.Serverless != nil),
	}
	if a.ModelDataURL != "" {
		container.ModelDataUrl = pulumi.String(a.ModelDataURL)
	}
	modelRes := name + "-model"
	args := &sagemaker.ModelArgs{
		// No Name: autonaming makes a changed image create a new model before the old one goes.
		ExecutionRoleArn:       role.Arn,
		PrimaryContainer:       container,
		EnableNetworkIsolation: pulumi.Bool(a.NetworkIsolation),
		Tags:                   tagsFor(a.Tags, modelRes),
	}
	if a.VPC != nil {
		args.VpcConfig = sagemaker.ModelVpcConfigArgs{
			Subnets:          pulumi.ToStringArray(a.VPC.SubnetIDs),
			SecurityGroupIds: pulumi.ToStringArray(a.VPC.SecurityGroupIDs),
		}
	}
	// CreateModel checks that the role can pull the image, so the policy must be in place first.
	// Retained: an update never deletes a model that may still serve (see retainServing).
	return sagemaker.NewModel(ctx, modelRes, args, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}), retainServing)
}

func newEndpointConfig(ctx *pulumi.Context, name string, a SageMakerEndpointArgs, model *sagemaker.Model,
	count pulumi.IntInput, parent pulumi.ResourceOption) (*sagemaker.EndpointConfiguration, error) {
	variant := sagemaker.EndpointConfigurationProductionVariantArgs{
		VariantName: pulumi.String(a.VariantName),
		ModelName:   model.Name,
	}
	configRes := name + "-endpoint-config"
	args := &sagemaker.EndpointConfigurationArgs{
		// No Name (DESIGN pitfall 1): a configuration is immutable, so every change must create a
		// new one under a new name before the endpoint switches to it.
		Tags: tagsFor(a.Tags, configRes),
	}
	if s := a.Serverless; s != nil {
		variant.ServerlessConfig = sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgs{
			MemorySizeInMb: pulumi.Int(s.MemorySizeMB),
			MaxConcurrency: pulumi.Int(s.MaxConcurrency),
		}
	} else {
		variant.InstanceType = pulumi.String(a.InstanceType)
		variant.InitialInstanceCount = count
		variant.InitialVariantWeight = pulumi.Float64(1)
		if a.VolumeSizeGB > 0 {
			variant.VolumeSizeInGb = pulumi.Int(a.VolumeSizeGB)
		}
		if a.KMSKeyARN != "" {
			args.KmsKeyArn = pulumi.String(a.KMSKeyARN)
		}
		if d := a.DataCapture; d != nil {
			capture := sagemaker.EndpointConfigurationDataCaptureConfigArgs{
				EnableCapture:             pulumi.Bool(true),
				DestinationS3Uri:          pulumi.String(d.DestinationS3URI),
				InitialSamplingPercentage: pulumi.Int(d.SamplingPercentage),
				CaptureOptions: sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArray{
					sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs{CaptureMode: pulumi.String("Input")},
					sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs{CaptureMode: pulumi.String("Output")},
				},
			}
			if a.KMSKeyARN != "" {
				capture.KmsKeyId = pulumi.String(a.KMSKeyARN)
			}
			args.DataCaptureConfig = capture
		}
	}
	args.ProductionVariants = sagemaker.EndpointConfigurationProductionVariantArray{variant}
	return sagemaker.NewEndpointConfiguration(ctx, configRes, args, parent, retainServing)
}

// retainServing keeps Models and EndpointConfigurations in AWS when Pulumi deletes them, after a
// replacement or on destroy: Pulumi's engine then drops them from the state without calling the
// provider's Delete (pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply: "else if
// s.old.RetainOnDelete { no-op }"). After a blue/green update that SageMaker rolled back, the
// provider's state may name the new configuration while the endpoint still runs the old one
// (terraform-provider-aws #48997, #46663, fix proposed in #49020; DESIGN pitfall 19); the same
// or the next update would otherwise delete the configuration and model that serve
// (DeleteEndpointConfig and DeleteModel check no use). Both cost nothing while unused;
// `go run ./cmd/smoke prune` deletes the ones that serve no more (docs/runbook.md).
var retainServing = pulumi.RetainOnDelete(true)

func deploymentConfig(r *RollbackConfig, alarmNames []string) sagemaker.EndpointDeploymentConfigPtrInput {
	if r == nil {
		return nil
	}
	routing := sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs{
		Type:                  pulumi.String(r.TrafficRouting),
		WaitIntervalInSeconds: pulumi.Int(r.WaitIntervalSeconds),
	}
	switch r.TrafficRouting {
	case "CANARY":
		routing.CanarySize = sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs{
			Type: pulumi.String("CAPACITY_PERCENT"), Value: pulumi.Int(r.CanaryPercent),
		}
	case "LINEAR":
		routing.LinearStepSize = sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSizeArgs{
			Type: pulumi.String("CAPACITY_PERCENT"), Value: pulumi.Int(r.CanaryPercent),
		}
	}
	alarms := make(sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArray, 0, len(alarmNames))
	for _, n := range alarmNames {
		alarms = append(alarms, sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs{AlarmName: pulumi.String(n)})
	}
	return sagemaker.EndpointDeploymentConfigArgs{
		BlueGreenUpdatePolicy: sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs{
			TrafficRoutingConfiguration: routing,
			TerminationWaitInSeconds:    pulumi.Int(r.TerminationWaitSeconds),
		},
		AutoRollbackConfiguration: sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs{Alarms: alarms},
	}
}

func newAutoscaling(ctx *pulumi.Context, name string, a SageMakerEndpointArgs, endpoint *sagemaker.Endpoint, parent pulumi.ResourceOption) error {
	s := a.Autoscaling
	targetRes := name + "-scaling-target"
	// The target depends on the endpoint through ResourceId, so it is deregistered before the
	// endpoint is deleted (DESIGN pitfall 3).
	target, err := appautoscaling.NewTarget(ctx, targetRes, &appautoscaling.TargetArgs{
		ServiceNamespace:  pulumi.String(scalingNamespace),
		ScalableDimension: pulumi.String(instanceCountDimension),
		ResourceId:        pulumi.Sprintf("endpoint/%s/variant/%s", endpoint.Name, a.VariantName),
		MinCapacity:       pulumi.Int(s.MinCapacity),
		MaxCapacity:       pulumi.Int(s.MaxCapacity),
		Tags:              tagsFor(a.Tags, targetRes),
	}, parent)
	if err != nil {
		return err
	}
	_, err = appautoscaling.NewPolicy(ctx, name+"-scaling-policy", &appautoscaling.PolicyArgs{
		PolicyType:        pulumi.String("TargetTrackingScaling"),
		ServiceNamespace:  target.ServiceNamespace,
		ScalableDimension: target.ScalableDimension,
		ResourceId:        target.ResourceId,
		TargetTrackingScalingPolicyConfiguration: appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs{
			TargetValue: pulumi.Float64(s.TargetInvocationsPerInstance),
			PredefinedMetricSpecification: appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs{
				PredefinedMetricType: pulumi.String(invocationsMetric),
			},
			ScaleInCooldown:  pulumi.Int(s.ScaleInCooldownSeconds),
			ScaleOutCooldown: pulumi.Int(s.ScaleOutCooldownSeconds),
		},
	}, parent)
	return err
}
