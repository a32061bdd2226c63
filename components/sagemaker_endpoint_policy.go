package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// awsEnv is the account, region and partition that ARNs are built from.
type awsEnv struct{ Account, Region, Partition string }

func (e awsEnv) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", e.Partition, service, e.Region, e.Account, resource)
}

// Rollback and serverless limits SageMaker enforces.
const (
	maxEndpointNameLen  = 63
	maxRollbackAlarms   = 10
	defaultRollbackWait = 300
	defaultCanaryPct    = 10
	defaultRollbackP99  = 1000
	defaultLogRetention = 30
	microsPerMilli      = 1000
)

var reEndpointName = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// endpointDefaults validates the args and fills defaults; the result is a copy.
func endpointDefaults(name string, args *SageMakerEndpointArgs) (SageMakerEndpointArgs, error) {
	if args == nil {
		return SageMakerEndpointArgs{}, fmt.Errorf("sagemaker endpoint %q: args are required", name)
	}
	a := *args
	fail := func(format string, v ...any) (SageMakerEndpointArgs, error) {
		return SageMakerEndpointArgs{}, fmt.Errorf("sagemaker endpoint %q: "+format, append([]any{name}, v...)...)
	}
	if a.ImageURI == nil {
		return fail("ImageURI is required")
	}
	if a.RepositoryARN == nil {
		return fail("RepositoryARN is required")
	}
	if a.VariantName == "" {
		a.VariantName = DefaultVariantName
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = defaultLogRetention
	}
	if a.ModelDataURL != "" {
		if _, _, err := splitS3(a.ModelDataURL); err != nil {
			return fail("ModelDataURL: %v", err)
		}
	}
	if a.Serverless != nil {
		// DESIGN pitfall 11: none of these exist on a serverless variant.
		switch {
		case a.Autoscaling != nil:
			return fail("Autoscaling is not supported on a serverless endpoint")
		case a.DataCapture != nil:
			return fail("DataCapture is not supported on a serverless endpoint")
		case a.VPC != nil:
			return fail("VPC is not supported on a serverless endpoint")
		case a.NetworkIsolation:
			return fail("NetworkIsolation is not supported on a serverless endpoint")
		case a.KMSKeyARN != "":
			return fail("KMSKeyARN is not supported on a serverless endpoint (it has no ML storage volume)")
		}
		if m := a.Serverless.MemorySizeMB; m < 1024 || m > 6144 || m%1024 != 0 {
			return fail("Serverless.MemorySizeMB %d: must be 1024, 2048, 3072, 4096, 5120 or 6144", m)
		}
		if c := a.Serverless.MaxConcurrency; c < 1 || c > 200 {
			return fail("Serverless.MaxConcurrency %d: must be from 1 to 200", c)
		}
	} else {
		if !strings.HasPrefix(a.InstanceType, "ml.") {
			return fail("InstanceType %q: an ml.* instance type is required for a real-time endpoint", a.InstanceType)
		}
		if a.InstanceCount == 0 {
			a.InstanceCount = 1
		}
		if a.InstanceCount < 1 {
			return fail("InstanceCount %d: must be at least 1", a.InstanceCount)
		}
	}
	if s := a.Autoscaling; s != nil && (s.MinCapacity < 1 || s.MaxCapacity < s.MinCapacity) {
		return fail("Autoscaling: MinCapacity %d and MaxCapacity %d: need 1 <= min <= max", s.MinCapacity, s.MaxCapacity)
	}
	if s := a.Autoscaling; s != nil && s.TargetInvocationsPerInstance <= 0 {
		return fail("Autoscaling.TargetInvocationsPerInstance %g: must be above 0 invocations per instance per minute", s.TargetInvocationsPerInstance)
	}
	if d := a.DataCapture; d != nil {
		if _, _, err := splitS3(d.DestinationS3URI); err != nil {
			return fail("DataCapture.DestinationS3URI: %v", err)
		}
		if d.SamplingPercentage == 0 {
			d2 := *d
			d2.SamplingPercentage = 100
			a.DataCapture = &d2
		}
	}
	if a.VPC != nil && (len(a.VPC.SubnetIDs) == 0 || len(a.VPC.SecurityGroupIDs) == 0) {
		return fail("VPC needs both SubnetIDs and SecurityGroupIDs")
	}
	if r := a.Rollback; r != nil {
		r2 := *r
		if r2.TrafficRouting == "" {
			r2.TrafficRouting = "ALL_AT_ONCE"
		}
		if r2.CanaryPercent == 0 {
			r2.CanaryPercent = defaultCanaryPct
		}
		if r2.WaitIntervalSeconds == 0 {
			r2.WaitIntervalSeconds = defaultRollbackWait
		}
		if r2.TerminationWaitSeconds == 0 {
			r2.TerminationWaitSeconds = defaultRollbackWait
		}
		if r2.LatencyP99Ms == 0 {
			r2.LatencyP99Ms = defaultRollbackP99
		}
		if r2.ErrorCount == 0 {
			r2.ErrorCount = 1
		}
		if len(r2.AlarmNames) > maxRollbackAlarms {
			return fail("Rollback.AlarmNames: %d alarms, SageMaker allows at most %d", len(r2.AlarmNames), maxRollbackAlarms)
		}
		a.Rollback = &r2
	}
	return a, nil
}

// endpointName is the endpoint's physical name, decided here rather than by autonaming so that the
// rollback alarms and the role's log permissions can name it before it exists. A hash of the
// project, stack and component name keeps it unique in the account.
//
// Whatever forces a replacement of the endpoint must change this name too: Pulumi replaces
// create-before-delete, and CreateEndpoint with the old, still existing name fails. The
// properties of aws_sagemaker_endpoint that the provider marks ForceNew (hashicorp/
// terraform-provider-aws internal/service/sagemaker/endpoint.go, read at commits 3d354bf5d59f and
// 033616433b62 and in a later aws-sdk-go-v2 ("SageMaker AI") version; the same two in all three)
// are:
//   - name: this name itself, so a change is a replacement under a new name by definition;
//   - deployment_config.0.auto_rollback_configuration (alarms inside it): endpoint.rollback on or
//     off, and the set of alarm names when they are given (RollbackConfig.AlarmNames). Both are
//     hashed in below. The component's own rollback alarms are named from this name, so they
//     follow it and need no hashing. blue_green_update_policy and rolling_update_policy are not
//     ForceNew: traffic routing, waits and canary sizes update in place.
//
// (Every argument of aws_sagemaker_endpoint_configuration is ForceNew; the configuration is
// autonamed, so each change creates a new one under a new name and the endpoint is updated.)
//
// Not ForceNew at the provider but refused by SageMaker, so hashed in as well: for an autoscaled
// endpoint the instance type; changing it then creates a new endpoint (and scaling target) beside
// the old one, because SageMaker refuses to change the instance type of a variant that is
// registered for autoscaling (DESIGN pitfall 12).
//
// Rollback on with the component's own alarms (the prod preset) adds nothing to the key, so the
// names of existing endpoints with rollback stay as they were; only the fields read here are
// hashed, and none of them is changed by endpointDefaults, so PlannedEndpointName agrees.
func endpointName(project, stack, name string, a SageMakerEndpointArgs) string {
	base := a.EndpointName
	if base == "" {
		base = name + "-" + stack
	}
	base = strings.Trim(reEndpointName.ReplaceAllString(base, "-"), "-")
	key := project + "/" + stack + "/" + name
	if a.Autoscaling != nil {
		key += "/" + a.InstanceType
	}
	switch r := a.Rollback; {
	case r == nil:
		key += "/rollback=off"
	case len(r.AlarmNames) > 0:
		alarms := slices.Clone(r.AlarmNames)
		slices.Sort(alarms) // a set in the provider's schema: order is no change
		key += "/rollback-alarms=" + strings.Join(slices.Compact(alarms), ",")
	}
	sum := sha256.Sum256([]byte(key))
	suffix := hex.EncodeToString(sum[:])[:7]
	if limit := maxEndpointNameLen - len(suffix) - 1; len(base) > limit {
		base = strings.TrimRight(base[:limit], "-")
	}
	return base + "-" + suffix
}

// PlannedEndpointName returns the name NewSageMakerEndpoint will give the endpoint of a component
// called name with these args, before it exists: components whose resources the endpoint must name
// (rollback alarms, see RollbackConfig.AlarmNames) use it to name their own.
func PlannedEndpointName(ctx *pulumi.Context, name string, args *SageMakerEndpointArgs) string {
	var a SageMakerEndpointArgs
	if args != nil {
		a = *args
	}
	return endpointName(ctx.Project(), ctx.Stack(), name, a)
}

// endpointLogGroup is the log group SageMaker writes an endpoint's container logs to.
func endpointLogGroup(endpointName string) string {
	return "/aws/sagemaker/Endpoints/" + endpointName
}

// splitS3 splits s3://bucket/key into bucket and key.
func splitS3(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URI", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q has no bucket", uri)
	}
	return bucket, key, nil
}

// executionPolicy is the role's least-privilege inline policy: the actions of AWS's "CreateModel
// API: Execution Role Permissions" (docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createmodel-perms;
// read in awsdocs/amazon-sagemaker-developer-guide@7a4c2e79 doc_source/sagemaker-roles.md:
// cloudwatch:PutMetricData, logs:CreateLogStream, logs:PutLogEvents, logs:CreateLogGroup,
// logs:DescribeLogStreams and the ECR pull actions), each scoped as far as IAM allows. Three
// statements cannot name a resource and are the only ones with Resource "*":
// ecr:GetAuthorizationToken and cloudwatch:PutMetricData, which IAM defines on no resource type
// (PutMetricData is held to SageMaker's instance-metric namespace by a cloudwatch:namespace
// condition instead), and the EC2 Describe* calls a VPC-attached model needs.
func executionPolicy(env awsEnv, endpointName, repoArn string, alarmNames []string, a SageMakerEndpointArgs) PolicyDocument {
	logGroup := env.arn("logs", "log-group:"+endpointLogGroup(endpointName))
	st := []PolicyStatement{
		Allow("PullImage", []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}, repoArn),
		Allow("EcrLogin", []string{"ecr:GetAuthorizationToken"}, "*"),
		// The component creates the group with retention; CreateLogGroup (AWS's list has it) only
		// lets SageMaker recreate this one group should it be missing.
		Allow("Logs", []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			logGroup, logGroup+":log-stream:*"),
	}
	if a.Serverless == nil {
		// The instance metrics the CPU, memory and disk alarms watch (CPUUtilization,
		// MemoryUtilization, DiskUtilization) are published with the role into this namespace;
		// serverless endpoints have no instances and publish none.
		st = append(st, PolicyStatement{Sid: "PublishInstanceMetrics", Effect: "Allow", Action: []string{"cloudwatch:PutMetricData"},
			Resource:  []string{"*"},
			Condition: map[string]any{"StringEquals": map[string]any{"cloudwatch:namespace": namespaceSageMakerInstance}}})
	}
	if a.ModelDataURL != "" {
		bucket, key, _ := splitS3(a.ModelDataURL)
		st = append(st, Allow("ReadModelData", []string{"s3:GetObject"}, fmt.Sprintf("arn:%s:s3:::%s/%s", env.Partition, bucket, key)))
	}
	if d := a.DataCapture; d != nil {
		bucket, prefix, _ := splitS3(d.DestinationS3URI)
		object := fmt.Sprintf("arn:%s:s3:::%s/%s*", env.Partition, bucket, strings.TrimSuffix(prefix, "/")+"/")
		if prefix == "" {
			object = fmt.Sprintf("arn:%s:s3:::%s/*", env.Partition, bucket)
		}
		st = append(st, Allow("WriteDataCapture", []string{"s3:PutObject"}, object))
	}
	if a.KMSKeyARN != "" {
		st = append(st, Allow("UseKmsKey", []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:DescribeKey"}, a.KMSKeyARN))
	}
	if len(alarmNames) > 0 {
		// SageMaker reads the rollback alarms' state during a blue/green deployment (DESIGN pitfall 4).
		arns := make([]string, len(alarmNames))
		for i, n := range alarmNames {
			arns[i] = env.arn("cloudwatch", "alarm:"+n)
		}
		st = append(st, Allow("ReadRollbackAlarms", []string{"cloudwatch:DescribeAlarms"}, arns...))
	}
	if v := a.VPC; v != nil {
		st = append(st, Allow("VpcDescribe", []string{"ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
			"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"}, "*"))
		res := []string{env.arn("ec2", "network-interface/*")}
		for _, s := range v.SubnetIDs {
			res = append(res, env.arn("ec2", "subnet/"+s))
		}
		for _, g := range v.SecurityGroupIDs {
			res = append(res, env.arn("ec2", "security-group/"+g))
		}
		st = append(st, Allow("VpcNetworkInterfaces", []string{"ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
			"ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"}, res...))
	}
	return NewPolicy(st...)
}

// newRollbackAlarms creates the minimal alarms that roll a deployment back when the Monitoring
// component supplies none: 5XX errors from the model and p99 model latency, both on the variant.
// Their names derive from the endpoint's name, which is known before the endpoint exists.
func newRollbackAlarms(ctx *pulumi.Context, name, endpointName string, a SageMakerEndpointArgs,
	parent pulumi.ResourceOption) ([]pulumi.Resource, []string, error) {
	dims := pulumi.StringMap{"EndpointName": pulumi.String(endpointName), "VariantName": pulumi.String(a.VariantName)}
	specs := []struct {
		suffix string
		args   cloudwatch.MetricAlarmArgs
	}{
		{"rollback-5xx", cloudwatch.MetricAlarmArgs{
			AlarmDescription: pulumi.Sprintf("Rolls back a deployment of %s when the model returns 5XX errors.", endpointName),
			Namespace:        pulumi.String("AWS/SageMaker"),
			MetricName:       pulumi.String("Invocation5XXErrors"),
			Statistic:        pulumi.String("Sum"),
			Threshold:        pulumi.Float64(a.Rollback.ErrorCount),
		}},
		{"rollback-latency", cloudwatch.MetricAlarmArgs{
			AlarmDescription:  pulumi.Sprintf("Rolls back a deployment of %s when p99 model latency exceeds %g ms.", endpointName, a.Rollback.LatencyP99Ms),
			Namespace:         pulumi.String("AWS/SageMaker"),
			MetricName:        pulumi.String("ModelLatency"),
			ExtendedStatistic: pulumi.String("p99"),
			// ModelLatency is reported in microseconds (DESIGN pitfall 13).
			Threshold: pulumi.Float64(a.Rollback.LatencyP99Ms * microsPerMilli),
		}},
	}
	var resources []pulumi.Resource
	var names []string
	for _, s := range specs {
		alarmName := endpointName + "-" + s.suffix
		res := name + "-" + s.suffix
		args := s.args
		args.Name = pulumi.String(alarmName)
		args.Dimensions = dims
		args.ComparisonOperator = pulumi.String("GreaterThanThreshold")
		args.Period = pulumi.Int(60)
		args.EvaluationPeriods = pulumi.Int(2)
		args.DatapointsToAlarm = pulumi.Int(2)
		// No traffic is no evidence of a bad deployment.
		args.TreatMissingData = pulumi.String("notBreaching")
		args.Tags = tagsFor(a.Tags, res)
		alarm, err := cloudwatch.NewMetricAlarm(ctx, res, &args, parent)
		if err != nil {
			return nil, nil, err
		}
		resources = append(resources, alarm)
		names = append(names, alarmName)
	}
	return resources, names, nil
}
