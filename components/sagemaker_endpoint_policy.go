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

// SageMaker limits (CreateEndpointConfig, ProductionVariant and ProductionVariantServerlessConfig;
// DeploymentConfig's TrafficRoutingConfig; Application Auto Scaling).
const (
	minVolumeGB          = 1
	maxVolumeGB          = 512
	serverlessMemoryStep = 1024
	maxServerlessMemory  = 6144
	maxServerlessConc    = 200
	maxRollbackWait      = 3600
	maxSubnets           = 16
	maxSecurityGroups    = 5
)

var (
	reInstanceType = regexp.MustCompile(`^ml\.[a-z0-9-]+\.[a-z0-9]+$`)
	reS3Tarball    = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.tar\.gz$`)
	reS3URI        = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$`)
	reSubnet       = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	reSecGroup     = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	reAlarmName    = regexp.MustCompile(`^[^\x00-\x1f]{1,255}$`)
)

// localStorageFamily matches instance families with local NVMe storage: a "d" after the
// generation (ml.m5d, ml.c6gd, ml.g4dn, ml.p4d), plus GPU families that have it without the letter.
var localStorageFamily = regexp.MustCompile(`^([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|gr6|p5|p5e|p5en)$`)

// HasLocalStorage reports whether an instance type has local NVMe storage, for which SageMaker
// accepts neither a volume size nor a KMS key.
func HasLocalStorage(instanceType string) bool {
	parts := strings.Split(instanceType, ".")
	return len(parts) == 3 && localStorageFamily.MatchString(parts[1])
}

// WithDefaults returns the args with every unset optional field at its default. It changes none
// of the fields the endpoint's name is computed from, so PlannedEndpointName agrees either way.
func (a SageMakerEndpointArgs) WithDefaults() SageMakerEndpointArgs {
	if a.VariantName == "" {
		a.VariantName = DefaultVariantName
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = defaultLogRetention
	}
	if a.Serverless == nil && a.InstanceCount == 0 {
		a.InstanceCount = 1
	}
	if d := a.DataCapture; d != nil && d.SamplingPercentage == 0 {
		d2 := *d
		d2.SamplingPercentage = 100
		a.DataCapture = &d2
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
		a.Rollback = &r2
	}
	return a
}

// Validate reports every problem of defaulted args (WithDefaults) at once, each naming the field,
// the value and what is allowed.
func (a SageMakerEndpointArgs) Validate() error {
	var es FieldErrors
	if a.ImageURI == nil {
		es.add("ImageURI", nil, "the inference image, pinned by digest (required)")
	}
	if a.RepositoryARN == nil {
		es.add("RepositoryARN", nil, "the image's ECR repository ARN (required)")
	}
	if a.ModelDataURL != "" && !reS3Tarball.MatchString(a.ModelDataURL) {
		es.add("ModelDataURL", a.ModelDataURL, "an S3 object URL s3://<bucket>/<key>.tar.gz")
	}
	if s := a.Serverless; s != nil {
		// A serverless variant has none of these (CreateEndpointConfig: ServerlessConfig excludes
		// instance settings, data capture, VPC and network isolation; no ML storage volume).
		const why = "unset on a serverless endpoint"
		if a.Autoscaling != nil {
			es.add("Autoscaling", "set", "%s; serverless scales by itself", why)
		}
		if a.DataCapture != nil {
			es.add("DataCapture", "set", why)
		}
		if a.VPC != nil {
			es.add("VPC", a.VPC.SubnetIDs, why)
		}
		if a.NetworkIsolation {
			es.add("NetworkIsolation", true, why)
		}
		if a.KMSKeyARN != "" {
			es.add("KMSKeyARN", a.KMSKeyARN, "%s, which has no ML storage volume to encrypt", why)
		}
		if m := s.MemorySizeMB; m < serverlessMemoryStep || m > maxServerlessMemory || m%serverlessMemoryStep != 0 {
			es.add("Serverless.MemorySizeMB", m, "one of 1024, 2048, 3072, 4096, 5120, 6144")
		}
		es.intIn("Serverless.MaxConcurrency", s.MaxConcurrency, 1, maxServerlessConc)
	} else {
		if !reInstanceType.MatchString(a.InstanceType) {
			es.add("InstanceType", a.InstanceType, "a SageMaker instance type ml.<family>.<size>, such as ml.m5.large")
		}
		if a.InstanceCount < 1 {
			es.add("InstanceCount", a.InstanceCount, "at least 1")
		}
		if a.VolumeSizeGB != 0 {
			es.intIn("VolumeSizeGB", a.VolumeSizeGB, minVolumeGB, maxVolumeGB)
			if HasLocalStorage(a.InstanceType) {
				es.add("VolumeSizeGB", a.VolumeSizeGB, "0 with %s, which has local NVMe storage instead of an EBS volume", a.InstanceType)
			}
		}
		if a.KMSKeyARN != "" && HasLocalStorage(a.InstanceType) {
			es.add("KMSKeyARN", a.KMSKeyARN, "unset with %s, whose local NVMe storage is encrypted by the instance", a.InstanceType)
		}
	}
	es.kmsKey("KMSKeyARN", a.KMSKeyARN)
	if s := a.Autoscaling; s != nil {
		if s.MinCapacity < 1 {
			es.add("Autoscaling.MinCapacity", s.MinCapacity, "at least 1")
		}
		if s.MaxCapacity < s.MinCapacity {
			es.add("Autoscaling.MaxCapacity", s.MaxCapacity, "at least {Autoscaling.MinCapacity} (%d)", s.MinCapacity)
		} else if a.Serverless == nil && a.InstanceCount >= 1 && s.MinCapacity >= 1 &&
			(a.InstanceCount < s.MinCapacity || a.InstanceCount > s.MaxCapacity) {
			es.add("InstanceCount", a.InstanceCount, "between {Autoscaling.MinCapacity} (%d) and {Autoscaling.MaxCapacity} (%d)",
				s.MinCapacity, s.MaxCapacity)
		}
		if s.TargetInvocationsPerInstance <= 0 {
			es.add("Autoscaling.TargetInvocationsPerInstance", s.TargetInvocationsPerInstance, "a positive number of invocations per instance per minute")
		}
		if s.ScaleInCooldownSeconds < 0 {
			es.add("Autoscaling.ScaleInCooldownSeconds", s.ScaleInCooldownSeconds, "0 or more seconds")
		}
		if s.ScaleOutCooldownSeconds < 0 {
			es.add("Autoscaling.ScaleOutCooldownSeconds", s.ScaleOutCooldownSeconds, "0 or more seconds")
		}
	}
	if d := a.DataCapture; d != nil {
		if !reS3URI.MatchString(d.DestinationS3URI) {
			es.add("DataCapture.DestinationS3URI", d.DestinationS3URI, "an S3 URI s3://<bucket>/<prefix>")
		}
		es.intIn("DataCapture.SamplingPercentage", d.SamplingPercentage, 1, 100)
	}
	if v := a.VPC; v != nil {
		if n := len(v.SubnetIDs); n < 1 || n > maxSubnets {
			es.add("VPC.SubnetIDs", v.SubnetIDs, "1 to %d subnet IDs", maxSubnets)
		}
		if n := len(v.SecurityGroupIDs); n < 1 || n > maxSecurityGroups {
			es.add("VPC.SecurityGroupIDs", v.SecurityGroupIDs, "1 to %d security group IDs", maxSecurityGroups)
		}
		for _, id := range v.SubnetIDs {
			if !reSubnet.MatchString(id) {
				es.add("VPC.SubnetIDs", id, "subnet IDs like subnet-0123456789abcdef0")
			}
		}
		for _, id := range v.SecurityGroupIDs {
			if !reSecGroup.MatchString(id) {
				es.add("VPC.SecurityGroupIDs", id, "security group IDs like sg-0123456789abcdef0")
			}
		}
	}
	if r := a.Rollback; r != nil {
		es.oneOf("Rollback.TrafficRouting", r.TrafficRouting, "ALL_AT_ONCE", "CANARY", "LINEAR")
		// TrafficRoutingConfig: a canary is at most half the fleet, a linear step 10% to 50% of it.
		switch r.TrafficRouting {
		case "CANARY":
			es.intIn("Rollback.CanaryPercent", r.CanaryPercent, 1, 50)
		case "LINEAR":
			es.intIn("Rollback.CanaryPercent", r.CanaryPercent, 10, 50)
		}
		es.intIn("Rollback.WaitIntervalSeconds", r.WaitIntervalSeconds, 0, maxRollbackWait)
		es.intIn("Rollback.TerminationWaitSeconds", r.TerminationWaitSeconds, 0, maxRollbackWait)
		if len(r.AlarmNames) > maxRollbackAlarms {
			es.add("Rollback.AlarmNames", r.AlarmNames, "at most %d alarms (SageMaker's limit)", maxRollbackAlarms)
		}
		for _, n := range r.AlarmNames {
			if !reAlarmName.MatchString(n) {
				es.add("Rollback.AlarmNames", n, "CloudWatch alarm names of 1 to 255 printable characters")
			}
		}
		if r.LatencyP99Ms < 0 {
			es.add("Rollback.LatencyP99Ms", r.LatencyP99Ms, "a positive number of milliseconds")
		}
		if r.ErrorCount < 0 {
			es.add("Rollback.ErrorCount", r.ErrorCount, "a positive number of errors per minute")
		}
	}
	es.retention("LogRetentionDays", a.LogRetentionDays)
	return es.err()
}

// endpointDefaults fills defaults and validates the args; the result is a copy.
func endpointDefaults(name string, args *SageMakerEndpointArgs) (SageMakerEndpointArgs, error) {
	if args == nil {
		return SageMakerEndpointArgs{}, fmt.Errorf("sagemaker endpoint %q: args are required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate(); err != nil {
		return SageMakerEndpointArgs{}, fmt.Errorf("sagemaker endpoint %q: %w", name, err)
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
// registered for autoscaling (docs/design.md#instance-type-changes-of-autoscaled-endpoints).
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
		// SageMaker reads the rollback alarms' state during a blue/green deployment (docs/design.md#rollback-alarms).
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
			// ModelLatency is reported in microseconds (docs/design.md#latency-metrics-are-in-microseconds).
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
