package stackconfig

import (
	"regexp"
	"slices"
	"strings"
)

// SageMaker, Lambda and CloudWatch limits the rules below enforce before AWS would reject them.
const (
	maxModelNameLen      = 30 // "<model>-endpoint-endpoint-config-" plus Pulumi's 7-character suffix stays within SageMaker's 63
	minVolumeGB          = 1
	maxVolumeGB          = 512
	serverlessMemoryStep = 1024
	minServerlessMemory  = 1024
	maxServerlessMemory  = 6144
	maxServerlessConc    = 200
	maxWaitSeconds       = 3600
	minLambdaMemoryMB    = 128
	maxLambdaMemoryMB    = 10240
	maxLambdaTimeout     = 900
	minWAFRateLimit      = 10
	maxWAFRateLimit      = 2000000000
	maxSubnets           = 16
	maxSecurityGroups    = 5
	maxKeepImages        = 1000
)

// RetentionDays are the values CloudWatch Logs accepts for a log group's retention.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	reModelName    = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	reRegion       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$`)
	reTagValue     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)
	reInstanceType = regexp.MustCompile(`^ml\.[a-z0-9-]+\.[a-z0-9]+$`)
	reS3Tarball    = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\.tar\.gz$`)
	reS3URI        = regexp.MustCompile(`^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$`)
	reKMSKey       = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$`)
	reEnvVar       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	reSubnet       = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	reSecGroup     = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	reStageName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	reOrigin       = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:\d{1,5})?$`)
	reDomainPrefix = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	reEmail        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	reAlarmName    = regexp.MustCompile(`^[^\x00-\x1f]{1,255}$`)
)

// Validate checks a merged configuration and returns a Problems error listing every problem, or nil.
func Validate(c Config) error {
	if ps := Check(c); len(ps) > 0 {
		return ps
	}
	return nil
}

// Check returns every problem of a merged configuration, in schema order; empty means valid.
func Check(c Config) Problems {
	var k checker
	k.top(c)
	k.model(c.Model)
	k.image(c.Image)
	k.endpoint(c.Endpoint, c.IsProd())
	k.proxy(c.Proxy)
	k.api(c.API)
	k.monitoring(c.Monitoring, c.Proxy)
	return k.problems
}

func (k *checker) top(c Config) {
	if !reRegion.MatchString(c.Region) {
		k.add(KeyRegion, c.Region, "an AWS region such as eu-central-1 (pulumi config set aws:region <region>)")
	}
	k.oneOf(KeyEnvironment, c.Environment, Environments...)
	if !reTagValue.MatchString(c.Team) {
		k.add(KeyTeam, c.Team, "a non-empty tag value of up to 256 letters, digits, spaces and _ . : / = + - @")
	}
}

// ImageVariants are the values of model.variant: the inference image's build variants.
var ImageVariants = []string{"static", "onnx"}

func (k *checker) model(m Model) {
	const p = KeyModel + "."
	if len(m.Name) > maxModelNameLen || !reModelName.MatchString(m.Name) {
		k.add(p+"name", m.Name, "1 to %d lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen", maxModelNameLen)
	}
	if m.DataURL != "" && !reS3Tarball.MatchString(m.DataURL) {
		k.add(p+"dataUrl", m.DataURL, "an S3 object URL s3://<bucket>/<key>.tar.gz")
	}
	if m.DataURL != "" && m.Dir != "" {
		// SageMaker extracts ModelDataUrl into /opt/ml/model, where the baked directory lives.
		k.add(p+"dir", m.Dir, "empty when model.dataUrl is set: both would provide /opt/ml/model")
	}
	if m.Variant != "" {
		// The same names as components.VariantStatic and VariantONNX (program's tests check it).
		k.oneOf(p+"variant", m.Variant, ImageVariants...)
	}
	for _, name := range sortedKeys(m.Environment) {
		if !reEnvVar.MatchString(name) {
			k.add(p+"environment."+name, name, "an environment variable name: letters, digits and _, not starting with a digit")
		}
	}
}

func (k *checker) image(i Image) {
	const p = KeyImage + "."
	if strings.TrimSpace(i.Context) == "" {
		k.add(p+"context", i.Context, "a directory relative to the project, such as \".\"")
	}
	if strings.TrimSpace(i.Dockerfile) == "" {
		k.add(p+"dockerfile", i.Dockerfile, "a Dockerfile path relative to the project, such as %q", DefaultDockerfile)
	}
	k.intIn(p+"keepImages", i.KeepImages, 1, maxKeepImages)
	k.kmsKey(p+"kmsKeyArn", i.KMSKeyARN)
}

func (k *checker) kmsKey(key, arn string) {
	if arn != "" && !reKMSKey.MatchString(arn) {
		k.add(key, arn, "a KMS key or alias ARN arn:aws:kms:<region>:<account>:key/<id>")
	}
}

func (k *checker) endpoint(e Endpoint, prod bool) {
	const p = KeyEndpoint + "."
	if s := e.Serverless; s != nil {
		if s.MemorySizeMB < minServerlessMemory || s.MemorySizeMB > maxServerlessMemory || s.MemorySizeMB%serverlessMemoryStep != 0 {
			k.add(p+"serverless.memorySizeMb", s.MemorySizeMB, "one of 1024, 2048, 3072, 4096, 5120, 6144")
		}
		k.intIn(p+"serverless.maxConcurrency", s.MaxConcurrency, 1, maxServerlessConc)
		// Serverless variants support none of these (DESIGN pitfall 11).
		const why = "false (or unset) on a serverless endpoint; set endpoint.serverless to null for a real-time endpoint"
		if e.Autoscaling.Enabled {
			k.add(p+"autoscaling.enabled", true, "%s; serverless scales by itself", why)
		}
		if e.DataCapture.Enabled {
			k.add(p+"dataCapture.enabled", true, why)
		}
		if e.NetworkIsolation {
			k.add(p+"networkIsolation", true, why)
		}
		if e.KMSKeyARN != "" {
			k.add(p+"kmsKeyArn", e.KMSKeyARN, "unset on a serverless endpoint, which has no ML storage volume to encrypt")
		}
		if e.VPC.IsSet() {
			k.add(p+"vpc", e.VPC.SubnetIDs, "no VPC on a serverless endpoint; set endpoint.serverless to null for a real-time endpoint")
		}
		if prod {
			k.add(p+"serverless", "set", "null in prod: prod needs at least 2 instances, autoscaling and rollback alarms")
		}
	} else {
		if !reInstanceType.MatchString(e.InstanceType) {
			k.add(p+"instanceType", e.InstanceType, "a SageMaker instance type ml.<family>.<size>, such as ml.m5.large")
		}
		minCount := 1
		if prod {
			minCount = 2
		}
		if e.InstanceCount < minCount {
			k.add(p+"instanceCount", e.InstanceCount, "at least %d%s", minCount, prodNote(prod))
		}
		if e.VolumeSizeGB != 0 {
			k.intIn(p+"volumeSizeGb", e.VolumeSizeGB, minVolumeGB, maxVolumeGB)
			if hasLocalStorage(e.InstanceType) {
				k.add(p+"volumeSizeGb", e.VolumeSizeGB, "0 with %s, which has local NVMe storage instead of an EBS volume", e.InstanceType)
			}
		}
		if e.KMSKeyARN != "" && hasLocalStorage(e.InstanceType) {
			// SageMaker rejects the endpoint configuration: local storage is encrypted by the instance.
			k.add(p+"kmsKeyArn", e.KMSKeyARN, "unset with %s, whose local NVMe storage is encrypted by the instance", e.InstanceType)
		}
		k.autoscaling(e, prod)
	}
	if d := e.DataCapture; d.Enabled {
		if !reS3URI.MatchString(d.DestinationS3URI) {
			k.add(p+"dataCapture.destinationS3Uri", d.DestinationS3URI, "an S3 URI s3://<bucket>/<prefix> when data capture is enabled")
		}
		k.intIn(p+"dataCapture.samplingPercentage", d.SamplingPercentage, 1, 100)
	}
	k.kmsKey(p+"kmsKeyArn", e.KMSKeyARN)
	k.retention(p+"logRetentionDays", e.LogRetentionDays)
	k.vpc(e.VPC)
	k.rollback(e.Rollback, prod)
}

// localStorageFamily matches instance families with local NVMe storage: a "d" after the
// generation (ml.m5d, ml.c6gd, ml.g4dn, ml.p4d), plus GPU families that have it without the letter.
var localStorageFamily = regexp.MustCompile(`^([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|gr6|p5|p5e|p5en)$`)

// hasLocalStorage reports whether an instance type has local NVMe storage, for which SageMaker
// accepts neither a volume size nor a KMS key.
func hasLocalStorage(instanceType string) bool {
	parts := strings.Split(instanceType, ".")
	return len(parts) == 3 && localStorageFamily.MatchString(parts[1])
}

func prodNote(prod bool) string {
	if prod {
		return " in prod"
	}
	return ""
}

func (k *checker) autoscaling(e Endpoint, prod bool) {
	const p = KeyEndpoint + ".autoscaling."
	a := e.Autoscaling
	if !a.Enabled {
		if prod {
			k.add(p+"enabled", false, "true in prod")
		}
		return
	}
	minCap := 1
	if prod {
		minCap = 2
	}
	if a.MinCapacity < minCap {
		k.add(p+"minCapacity", a.MinCapacity, "at least %d%s", minCap, prodNote(prod))
	}
	if a.MaxCapacity < a.MinCapacity {
		k.add(p+"maxCapacity", a.MaxCapacity, "at least minCapacity (%d)", a.MinCapacity)
	} else if e.InstanceCount >= minCap && (e.InstanceCount < a.MinCapacity || e.InstanceCount > a.MaxCapacity) {
		k.add(KeyEndpoint+".instanceCount", e.InstanceCount, "between autoscaling.minCapacity (%d) and maxCapacity (%d)", a.MinCapacity, a.MaxCapacity)
	}
	if a.TargetInvocationsPerInstance <= 0 {
		k.add(p+"targetInvocationsPerInstance", a.TargetInvocationsPerInstance, "a positive number of invocations per instance per minute")
	}
	if a.ScaleInCooldownSeconds < 0 {
		k.add(p+"scaleInCooldownSeconds", a.ScaleInCooldownSeconds, "0 or more seconds")
	}
	if a.ScaleOutCooldownSeconds < 0 {
		k.add(p+"scaleOutCooldownSeconds", a.ScaleOutCooldownSeconds, "0 or more seconds")
	}
}

func (k *checker) vpc(v VPC) {
	const p = KeyEndpoint + ".vpc."
	if !v.IsSet() {
		return
	}
	if n := len(v.SubnetIDs); n < 1 || n > maxSubnets {
		k.add(p+"subnetIds", v.SubnetIDs, "1 to %d subnet IDs when a VPC is configured", maxSubnets)
	}
	if n := len(v.SecurityGroupIDs); n < 1 || n > maxSecurityGroups {
		k.add(p+"securityGroupIds", v.SecurityGroupIDs, "1 to %d security group IDs when a VPC is configured", maxSecurityGroups)
	}
	for _, s := range v.SubnetIDs {
		if !reSubnet.MatchString(s) {
			k.add(p+"subnetIds", s, "subnet IDs like subnet-0123456789abcdef0")
		}
	}
	for _, s := range v.SecurityGroupIDs {
		if !reSecGroup.MatchString(s) {
			k.add(p+"securityGroupIds", s, "security group IDs like sg-0123456789abcdef0")
		}
	}
}

func (k *checker) rollback(r Rollback, prod bool) {
	const p = KeyEndpoint + ".rollback."
	if !r.Enabled {
		if prod {
			k.add(p+"enabled", false, "true in prod")
		}
		return
	}
	k.oneOf(p+"trafficRouting", r.TrafficRouting, "ALL_AT_ONCE", "CANARY", "LINEAR")
	// SageMaker's TrafficRoutingConfig: a canary is at most half the fleet, a linear step
	// 10% to 50% of it.
	switch r.TrafficRouting {
	case trafficCanary:
		k.intIn(p+"canaryPercent", r.CanaryPercent, 1, 50)
	case trafficLinear:
		k.intIn(p+"canaryPercent", r.CanaryPercent, 10, 50)
	}
	k.intIn(p+"waitIntervalSeconds", r.WaitIntervalSeconds, 0, maxWaitSeconds)
	k.intIn(p+"terminationWaitSeconds", r.TerminationWaitSeconds, 0, maxWaitSeconds)
	for _, a := range r.AlarmNames {
		if !reAlarmName.MatchString(a) {
			k.add(p+"alarmNames", a, "CloudWatch alarm names of 1 to 255 printable characters")
		}
	}
}

func (k *checker) proxy(x Proxy) {
	const p = KeyProxy + "."
	k.intIn(p+"memoryMb", x.MemoryMB, minLambdaMemoryMB, maxLambdaMemoryMB)
	k.intIn(p+"timeoutSeconds", x.TimeoutSeconds, 1, maxLambdaTimeout)
	// Lambda's reserved concurrency 0 throttles every request, which is never what a stack means.
	if x.ReservedConcurrency < -1 || x.ReservedConcurrency == 0 {
		k.add(p+"reservedConcurrency", x.ReservedConcurrency, "-1 (unreserved) or 1 and more (0 would throttle every request)")
	}
	k.retention(p+"logRetentionDays", x.LogRetentionDays)
	if c := x.Cache; c.Enabled {
		if c.TTLSeconds < 1 {
			k.add(p+"cache.ttlSeconds", c.TTLSeconds, "1 or more seconds")
		}
		if c.MaxEntries < 1 {
			k.add(p+"cache.maxEntries", c.MaxEntries, "1 or more entries")
		}
		if c.MaxMB < 1 || c.MaxMB >= x.MemoryMB {
			k.add(p+"cache.maxMb", c.MaxMB, "1 MB or more and less than proxy.memoryMb (%d)", x.MemoryMB)
		}
	}
}

func (k *checker) retention(key string, days int) {
	if !slices.Contains(RetentionDays, days) {
		k.add(key, days, "a CloudWatch Logs retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653")
	}
}

func (k *checker) api(a API) {
	const p = KeyAPI + "."
	if !reStageName.MatchString(a.StageName) {
		k.add(p+"stageName", a.StageName, "1 to 128 letters, digits, hyphens and underscores")
	}
	k.oneOf(p+"mfa", a.MFA, "off", "optional", "on")
	for _, o := range a.CORSOrigins {
		// No wildcard: the API echoes listed origins to authenticated callers only.
		if !reOrigin.MatchString(o) || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://localhost")) {
			k.add(p+"corsOrigins", o, "origins like https://app.example.com (https, or http://localhost for development; no wildcard, path or trailing slash)")
		}
	}
	if a.Throttle.RateLimit < 0 {
		k.add(p+"throttle.rateLimit", a.Throttle.RateLimit, "0 or more requests per second")
	}
	if a.Throttle.BurstLimit < 0 {
		k.add(p+"throttle.burstLimit", a.Throttle.BurstLimit, "0 or more requests")
	}
	if a.Quota.Limit < 0 {
		k.add(p+"quota.limit", a.Quota.Limit, "0 (no quota) or more requests per period")
	}
	k.oneOf(p+"quota.period", a.Quota.Period, "DAY", "WEEK", "MONTH")
	if a.WAF {
		k.intIn(p+"wafRateLimit", a.WAFRateLimit, minWAFRateLimit, maxWAFRateLimit)
	}
	k.retention(p+"logRetentionDays", a.LogRetentionDays)
	k.oneOf(p+"loggingLevel", a.LoggingLevel, "INFO", "ERROR", "OFF")
	if d := a.CognitoDomainPrefix; d != "" {
		// Cognito reserves these words in domain prefixes.
		reserved := strings.Contains(d, "aws") || strings.Contains(d, "amazon") || strings.Contains(d, "cognito")
		if reserved || !reDomainPrefix.MatchString(d) {
			k.add(p+"cognitoDomainPrefix", d, "1 to 63 lowercase letters, digits and hyphens, not containing aws, amazon or cognito")
		}
	}
}

func (k *checker) monitoring(m Monitoring, x Proxy) {
	const p = KeyMonitoring + "."
	for _, e := range m.AlarmEmails {
		if !reEmail.MatchString(e) {
			k.add(p+"alarmEmails", e, "email addresses like oncall@example.com")
		}
	}
	for _, e := range m.BudgetEmails {
		if !reEmail.MatchString(e) {
			k.add(p+"budgetEmails", e, "email addresses like finance@example.com")
		}
	}
	if m.LatencyP99Ms <= 0 {
		k.add(p+"latencyP99Ms", m.LatencyP99Ms, "a positive number of milliseconds")
	}
	if m.ErrorRatePercent <= 0 || m.ErrorRatePercent > 100 {
		k.add(p+"errorRatePercent", m.ErrorRatePercent, "a percentage above 0 and at most 100")
	}
	if m.ClientErrorRatePercent <= 0 || m.ClientErrorRatePercent > 100 {
		k.add(p+"clientErrorRatePercent", m.ClientErrorRatePercent, "a percentage above 0 and at most 100")
	}
	if m.CPUUtilizationPercent <= 0 {
		k.add(p+"cpuUtilizationPercent", m.CPUUtilizationPercent, "a positive percentage of the instance's vCPUs")
	}
	if m.MemoryUtilizationPercent <= 0 || m.MemoryUtilizationPercent > 100 {
		k.add(p+"memoryUtilizationPercent", m.MemoryUtilizationPercent, "a percentage above 0 and at most 100")
	}
	if limit := float64(x.TimeoutSeconds) * 1000; m.LambdaDurationP99Ms <= 0 || m.LambdaDurationP99Ms > limit {
		k.add(p+"lambdaDurationP99Ms", m.LambdaDurationP99Ms, "a positive number of milliseconds up to proxy.timeoutSeconds (%g ms), or it never fires", limit)
	}
	if m.MonthlyBudgetUSD <= 0 {
		k.add(p+"monthlyBudgetUsd", m.MonthlyBudgetUSD, "a positive amount in USD")
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
