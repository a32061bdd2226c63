package stackconfig

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valid returns a complete, valid configuration of an environment.
func valid(t *testing.T, env string) Config {
	t.Helper()
	c, ok := Preset(env)
	require.True(t, ok, env)
	c.Stack, c.Region, c.Team = env, "eu-central-1", "ml-platform"
	c.Model.Name = "churn"
	fillDerived(&c)
	require.Empty(t, Check(c), "preset %s must be valid", env)
	return c
}

func TestPresetsAreValid(t *testing.T) {
	for _, env := range Environments {
		t.Run(env, func(t *testing.T) { valid(t, env) })
	}
}

func TestPresetsDifferWhereEnvironmentsDiffer(t *testing.T) {
	dev, prod := valid(t, EnvDev), valid(t, EnvProd)
	assert.True(t, dev.Endpoint.IsServerless(), "dev is serverless to stay cheap")
	assert.False(t, prod.Endpoint.IsServerless())
	assert.GreaterOrEqual(t, prod.Endpoint.InstanceCount, 2)
	assert.True(t, prod.Endpoint.Autoscaling.Enabled)
	assert.True(t, prod.Endpoint.Rollback.Enabled)
	assert.Equal(t, 7, dev.Proxy.LogRetentionDays)
	assert.Equal(t, 90, prod.Proxy.LogRetentionDays)
	assert.Equal(t, 7, dev.Endpoint.LogRetentionDays)
	assert.Equal(t, 90, prod.Endpoint.LogRetentionDays)
	assert.True(t, dev.API.RequireAPIKey)
	assert.False(t, prod.API.RequireAPIKey)
	assert.Equal(t, "optional", prod.API.MFA)
	assert.True(t, prod.API.WAF)
	assert.False(t, dev.API.WAF)
	assert.Equal(t, 100.0, dev.Monitoring.MonthlyBudgetUSD)
	assert.Equal(t, 2000.0, prod.Monitoring.MonthlyBudgetUSD)
	assert.Equal(t, -1, dev.Proxy.ReservedConcurrency)
	assert.Equal(t, 24000.0, dev.Monitoring.LambdaDurationP99Ms, "80%% of the 30 s proxy timeout")
}

// TestValidateRules checks each rule on its own: one change to a valid config gives exactly one
// problem, on the expected key, quoting the value and saying what is allowed.
func TestValidateRules(t *testing.T) {
	realtime := func(c *Config) { c.Endpoint.Serverless = nil }
	tests := []struct {
		name    string
		env     string
		mutate  func(*Config)
		key     string
		value   string
		allowed string
	}{
		{"unknown environment", EnvDev, func(c *Config) { c.Environment = "test" }, KeyEnvironment, `"test"`, "dev, qa, staging, prod"},
		{"missing region", EnvDev, func(c *Config) { c.Region = "" }, KeyRegion, `""`, "AWS region"},
		{"missing team", EnvDev, func(c *Config) { c.Team = "" }, KeyTeam, `""`, "tag value"},
		{"team with bad characters", EnvDev, func(c *Config) { c.Team = "ml#platform" }, KeyTeam, `"ml#platform"`, "tag value"},
		{"missing model name", EnvDev, func(c *Config) { c.Model.Name = "" }, "inferstack:model.name", `""`, "lowercase"},
		{"uppercase model name", EnvDev, func(c *Config) { c.Model.Name = "Churn" }, "inferstack:model.name", `"Churn"`, "lowercase"},
		{"model name too long", EnvDev, func(c *Config) { c.Model.Name = strings.Repeat("a", 31) }, "inferstack:model.name", "", "1 to 30"},
		{"model name ending in hyphen", EnvDev, func(c *Config) { c.Model.Name = "churn-" }, "inferstack:model.name", `"churn-"`, "hyphen"},
		{"data url not s3", EnvDev, func(c *Config) { c.Model.DataURL = "https://x/model.tar.gz" }, "inferstack:model.dataUrl", `"https://x/model.tar.gz"`, "s3://"},
		{"data url not a tarball", EnvDev, func(c *Config) { c.Model.DataURL = "s3://bucket/model.zip" }, "inferstack:model.dataUrl", `"s3://bucket/model.zip"`, ".tar.gz"},
		{"unknown image variant", EnvDev, func(c *Config) { c.Model.Variant = "gpu" }, "inferstack:model.variant", `"gpu"`, "static, onnx"},
		{"image variant in capitals", EnvDev, func(c *Config) { c.Model.Variant = "ONNX" }, "inferstack:model.variant", `"ONNX"`, "static, onnx"},
		{"dir and data url", EnvDev, func(c *Config) { c.Model.Dir = "models/churn"; c.Model.DataURL = "s3://bucket/m.tar.gz" }, "inferstack:model.dir", `"models/churn"`, "/opt/ml/model"},
		{"bad env var name", EnvDev, func(c *Config) { c.Model.Environment = map[string]string{"1BAD": "x"} }, "inferstack:model.environment.1BAD", `"1BAD"`, "environment variable name"},
		{"empty dockerfile", EnvDev, func(c *Config) { c.Image.Dockerfile = "" }, "inferstack:image.dockerfile", `""`, "Dockerfile"},
		{"keep zero images", EnvDev, func(c *Config) { c.Image.KeepImages = 0 }, "inferstack:image.keepImages", "0", "from 1 to 1000"},
		{"image kms not an arn", EnvDev, func(c *Config) { c.Image.KMSKeyARN = "my-key" }, "inferstack:image.kmsKeyArn", `"my-key"`, "KMS key"},
		{"instance type not ml", EnvQA, func(c *Config) { c.Endpoint.InstanceType = "m5.large" }, "inferstack:endpoint.instanceType", `"m5.large"`, "ml.<family>.<size>"},
		{"instance count zero", EnvQA, func(c *Config) { c.Endpoint.InstanceCount = 0 }, "inferstack:endpoint.instanceCount", "0", "at least 1"},
		{"prod with one instance", EnvProd, func(c *Config) { c.Endpoint.InstanceCount = 1 }, "inferstack:endpoint.instanceCount", "1", "at least 2 in prod"},
		{"volume too large", EnvQA, func(c *Config) { c.Endpoint.VolumeSizeGB = 513 }, "inferstack:endpoint.volumeSizeGb", "513", "from 1 to 512"},
		{"volume on local storage", EnvQA, func(c *Config) { c.Endpoint.InstanceType = "ml.g4dn.xlarge"; c.Endpoint.VolumeSizeGB = 30 }, "inferstack:endpoint.volumeSizeGb", "30", "local NVMe"},
		{"kms on local storage", EnvQA, func(c *Config) {
			c.Endpoint.InstanceType = "ml.c6gd.large"
			c.Endpoint.KMSKeyARN = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		}, "inferstack:endpoint.kmsKeyArn", "", "local NVMe"},
		{"volume negative", EnvQA, func(c *Config) { c.Endpoint.VolumeSizeGB = -1 }, "inferstack:endpoint.volumeSizeGb", "-1", "from 1 to 512"},
		{"serverless memory off step", EnvDev, func(c *Config) { c.Endpoint.Serverless.MemorySizeMB = 1500 }, "inferstack:endpoint.serverless.memorySizeMb", "1500", "1024, 2048"},
		{"serverless memory too large", EnvDev, func(c *Config) { c.Endpoint.Serverless.MemorySizeMB = 7168 }, "inferstack:endpoint.serverless.memorySizeMb", "7168", "6144"},
		{"serverless concurrency too high", EnvDev, func(c *Config) { c.Endpoint.Serverless.MaxConcurrency = 201 }, "inferstack:endpoint.serverless.maxConcurrency", "201", "from 1 to 200"},
		{"serverless autoscaling", EnvDev, func(c *Config) { c.Endpoint.Autoscaling.Enabled = true }, "inferstack:endpoint.autoscaling.enabled", "true", "serverless"},
		{"serverless network isolation", EnvDev, func(c *Config) { c.Endpoint.NetworkIsolation = true }, "inferstack:endpoint.networkIsolation", "true", "serverless"},
		{"serverless vpc", EnvDev, func(c *Config) {
			c.Endpoint.VPC = VPC{SubnetIDs: []string{"subnet-0123456789abcdef0"}, SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}
		}, "inferstack:endpoint.vpc", "", "no VPC on a serverless"},
		{"serverless data capture", EnvDev, func(c *Config) {
			c.Endpoint.DataCapture = DataCapture{Enabled: true, DestinationS3URI: "s3://capture-bucket/churn", SamplingPercentage: 10}
		}, "inferstack:endpoint.dataCapture.enabled", "true", "serverless"},
		{"serverless kms key", EnvDev, func(c *Config) {
			c.Endpoint.KMSKeyARN = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		}, "inferstack:endpoint.kmsKeyArn", "", "serverless"},
		{"serverless in prod", EnvProd, func(c *Config) {
			c.Endpoint.Serverless = &Serverless{MemorySizeMB: 2048, MaxConcurrency: 5}
			c.Endpoint.Autoscaling.Enabled = false
			c.Endpoint.Rollback.Enabled = true
		}, "inferstack:endpoint.serverless", "", "null in prod"},
		{"autoscaling min above max", EnvStaging, func(c *Config) { c.Endpoint.Autoscaling.MinCapacity = 5; c.Endpoint.Autoscaling.MaxCapacity = 3 }, "inferstack:endpoint.autoscaling.maxCapacity", "3", "at least minCapacity (5)"},
		{"autoscaling min zero", EnvQA, func(c *Config) { c.Endpoint.Autoscaling.Enabled = true; c.Endpoint.Autoscaling.MinCapacity = 0 }, "inferstack:endpoint.autoscaling.minCapacity", "0", "at least 1"},
		{"prod autoscaling min one", EnvProd, func(c *Config) { c.Endpoint.Autoscaling.MinCapacity = 1 }, "inferstack:endpoint.autoscaling.minCapacity", "1", "at least 2 in prod"},
		{"instance count outside autoscaling range", EnvStaging, func(c *Config) { c.Endpoint.InstanceCount = 6 }, "inferstack:endpoint.instanceCount", "6", "between autoscaling.minCapacity (2) and maxCapacity (4)"},
		{"autoscaling zero target", EnvStaging, func(c *Config) { c.Endpoint.Autoscaling.TargetInvocationsPerInstance = 0 }, "inferstack:endpoint.autoscaling.targetInvocationsPerInstance", "0", "positive"},
		{"negative cooldown", EnvStaging, func(c *Config) { c.Endpoint.Autoscaling.ScaleInCooldownSeconds = -5 }, "inferstack:endpoint.autoscaling.scaleInCooldownSeconds", "-5", "0 or more"},
		{"prod without autoscaling", EnvProd, func(c *Config) { c.Endpoint.Autoscaling.Enabled = false }, "inferstack:endpoint.autoscaling.enabled", "false", "true in prod"},
		{"prod without rollback", EnvProd, func(c *Config) { c.Endpoint.Rollback.Enabled = false }, "inferstack:endpoint.rollback.enabled", "false", "true in prod"},
		{"rollback bad routing", EnvStaging, func(c *Config) { c.Endpoint.Rollback.TrafficRouting = "BLUE" }, "inferstack:endpoint.rollback.trafficRouting", `"BLUE"`, "ALL_AT_ONCE, CANARY, LINEAR"},
		{"rollback canary over half the fleet", EnvStaging, func(c *Config) {
			c.Endpoint.Rollback.TrafficRouting, c.Endpoint.Rollback.CanaryPercent = "CANARY", 60
		}, "inferstack:endpoint.rollback.canaryPercent", "60", "from 1 to 50"},
		{"rollback linear step under 10%", EnvStaging, func(c *Config) {
			c.Endpoint.Rollback.TrafficRouting, c.Endpoint.Rollback.CanaryPercent = "LINEAR", 5
		}, "inferstack:endpoint.rollback.canaryPercent", "5", "from 10 to 50"},
		{"rollback wait too long", EnvStaging, func(c *Config) { c.Endpoint.Rollback.WaitIntervalSeconds = 3601 }, "inferstack:endpoint.rollback.waitIntervalSeconds", "3601", "from 0 to 3600"},
		{"rollback empty alarm name", EnvStaging, func(c *Config) { c.Endpoint.Rollback.AlarmNames = []string{""} }, "inferstack:endpoint.rollback.alarmNames", `""`, "alarm names"},
		{"data capture without destination", EnvQA, func(c *Config) { realtime(c); c.Endpoint.DataCapture.Enabled = true }, "inferstack:endpoint.dataCapture.destinationS3Uri", `""`, "s3://"},
		{"data capture sampling zero", EnvQA, func(c *Config) {
			c.Endpoint.DataCapture = DataCapture{Enabled: true, DestinationS3URI: "s3://capture-bucket", SamplingPercentage: 0}
		}, "inferstack:endpoint.dataCapture.samplingPercentage", "0", "from 1 to 100"},
		{"endpoint kms not an arn", EnvQA, func(c *Config) { c.Endpoint.KMSKeyARN = "alias/x" }, "inferstack:endpoint.kmsKeyArn", `"alias/x"`, "KMS key"},
		{"vpc without security groups", EnvQA, func(c *Config) { c.Endpoint.VPC.SubnetIDs = []string{"subnet-0123456789abcdef0"} }, "inferstack:endpoint.vpc.securityGroupIds", "[]", "1 to 5"},
		{"vpc bad subnet id", EnvQA, func(c *Config) {
			c.Endpoint.VPC = VPC{SubnetIDs: []string{"subnet-xyz"}, SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}
		}, "inferstack:endpoint.vpc.subnetIds", `"subnet-xyz"`, "subnet-0123456789abcdef0"},
		{"endpoint retention not a cloudwatch value", EnvDev, func(c *Config) { c.Endpoint.LogRetentionDays = 2 }, "inferstack:endpoint.logRetentionDays", "2", "1, 3, 5, 7, 14"},
		{"proxy memory too small", EnvDev, func(c *Config) { c.Proxy.MemoryMB = 64; c.Proxy.Cache.MaxMB = 32 }, "inferstack:proxy.memoryMb", "64", "from 128 to 10240"},
		{"proxy timeout too long", EnvDev, func(c *Config) { c.Proxy.TimeoutSeconds = 901; c.Monitoring.LambdaDurationP99Ms = 1000 }, "inferstack:proxy.timeoutSeconds", "901", "from 1 to 900"},
		{"reserved concurrency below -1", EnvDev, func(c *Config) { c.Proxy.ReservedConcurrency = -2 }, "inferstack:proxy.reservedConcurrency", "-2", "-1 (unreserved)"},
		{"reserved concurrency 0", EnvDev, func(c *Config) { c.Proxy.ReservedConcurrency = 0 }, "inferstack:proxy.reservedConcurrency", "0", "would throttle every request"},
		{"proxy retention not a cloudwatch value", EnvDev, func(c *Config) { c.Proxy.LogRetentionDays = 10 }, "inferstack:proxy.logRetentionDays", "10", "1, 3, 5, 7, 14"},
		{"cache ttl zero", EnvDev, func(c *Config) { c.Proxy.Cache.TTLSeconds = 0 }, "inferstack:proxy.cache.ttlSeconds", "0", "1 or more"},
		{"cache entries zero", EnvDev, func(c *Config) { c.Proxy.Cache.MaxEntries = 0 }, "inferstack:proxy.cache.maxEntries", "0", "1 or more"},
		{"cache as large as memory", EnvDev, func(c *Config) { c.Proxy.Cache.MaxMB = 256 }, "inferstack:proxy.cache.maxMb", "256", "less than proxy.memoryMb (256)"},
		{"bad stage name", EnvDev, func(c *Config) { c.API.StageName = "v 1" }, "inferstack:api.stageName", `"v 1"`, "letters, digits"},
		{"bad mfa", EnvDev, func(c *Config) { c.API.MFA = "required" }, "inferstack:api.mfa", `"required"`, "off, optional, on"},
		{"cors origin with path", EnvDev, func(c *Config) { c.API.CORSOrigins = []string{"https://app.example.com/"} }, "inferstack:api.corsOrigins", `"https://app.example.com/"`, "no wildcard, path"},
		{"cors wildcard", EnvDev, func(c *Config) { c.API.CORSOrigins = []string{"*"} }, "inferstack:api.corsOrigins", `"*"`, "no wildcard"},
		{"cors plain http", EnvDev, func(c *Config) { c.API.CORSOrigins = []string{"http://app.example.com"} }, "inferstack:api.corsOrigins", `"http://app.example.com"`, "https, or http://localhost"},
		{"negative rate limit", EnvDev, func(c *Config) { c.API.Throttle.RateLimit = -1 }, "inferstack:api.throttle.rateLimit", "-1", "0 or more"},
		{"negative burst", EnvDev, func(c *Config) { c.API.Throttle.BurstLimit = -1 }, "inferstack:api.throttle.burstLimit", "-1", "0 or more"},
		{"negative quota", EnvDev, func(c *Config) { c.API.Quota.Limit = -1 }, "inferstack:api.quota.limit", "-1", "0 (no quota)"},
		{"bad quota period", EnvDev, func(c *Config) { c.API.Quota.Period = "YEAR" }, "inferstack:api.quota.period", `"YEAR"`, "DAY, WEEK, MONTH"},
		{"waf rate limit too low", EnvProd, func(c *Config) { c.API.WAFRateLimit = 5 }, "inferstack:api.wafRateLimit", "5", "from 10 to 2000000000"},
		{"api retention not a cloudwatch value", EnvDev, func(c *Config) { c.API.LogRetentionDays = 0 }, "inferstack:api.logRetentionDays", "0", "3653"},
		{"bad logging level", EnvDev, func(c *Config) { c.API.LoggingLevel = "DEBUG" }, "inferstack:api.loggingLevel", `"DEBUG"`, "INFO, ERROR, OFF"},
		{"domain prefix with reserved word", EnvDev, func(c *Config) { c.API.CognitoDomainPrefix = "churn-cognito" }, "inferstack:api.cognitoDomainPrefix", `"churn-cognito"`, "not containing aws"},
		{"domain prefix uppercase", EnvDev, func(c *Config) { c.API.CognitoDomainPrefix = "Churn" }, "inferstack:api.cognitoDomainPrefix", `"Churn"`, "lowercase"},
		{"bad alarm email", EnvDev, func(c *Config) { c.Monitoring.AlarmEmails = []string{"oncall"} }, "inferstack:monitoring.alarmEmails", `"oncall"`, "email"},
		{"bad budget email", EnvDev, func(c *Config) { c.Monitoring.BudgetEmails = []string{"a@b"} }, "inferstack:monitoring.budgetEmails", `"a@b"`, "email"},
		{"zero latency threshold", EnvDev, func(c *Config) { c.Monitoring.LatencyP99Ms = 0 }, "inferstack:monitoring.latencyP99Ms", "0", "positive"},
		{"error rate above 100", EnvDev, func(c *Config) { c.Monitoring.ErrorRatePercent = 101 }, "inferstack:monitoring.errorRatePercent", "101", "at most 100"},
		{"client error rate 0", EnvDev, func(c *Config) { c.Monitoring.ClientErrorRatePercent = 0 }, "inferstack:monitoring.clientErrorRatePercent", "0", "above 0"},
		{"zero cpu threshold", EnvDev, func(c *Config) { c.Monitoring.CPUUtilizationPercent = 0 }, "inferstack:monitoring.cpuUtilizationPercent", "0", "positive"},
		{"memory above 100", EnvDev, func(c *Config) { c.Monitoring.MemoryUtilizationPercent = 120 }, "inferstack:monitoring.memoryUtilizationPercent", "120", "at most 100"},
		{"lambda duration beyond timeout", EnvDev, func(c *Config) { c.Monitoring.LambdaDurationP99Ms = 31000 }, "inferstack:monitoring.lambdaDurationP99Ms", "31000", "never fires"},
		{"zero budget", EnvDev, func(c *Config) { c.Monitoring.MonthlyBudgetUSD = 0 }, "inferstack:monitoring.monthlyBudgetUsd", "0", "positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid(t, tc.env)
			tc.mutate(&c)
			err := Validate(c)
			require.Error(t, err)
			var ps Problems
			require.ErrorAs(t, err, &ps)
			require.Len(t, ps, 1, "one change must give one problem: %v", err)
			assert.Equal(t, tc.key, ps[0].Key)
			if tc.value != "" {
				assert.Equal(t, tc.value, ps[0].Value)
			}
			assert.Contains(t, ps[0].Allowed, tc.allowed)
			assert.Contains(t, err.Error(), tc.key, "the message names the key")
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c := valid(t, EnvProd)
	c.Region = ""
	c.Model.Name = "Bad_Name"
	c.Endpoint.InstanceType = "p3.2xlarge"
	c.Endpoint.InstanceCount = 1
	c.Endpoint.Autoscaling.MinCapacity, c.Endpoint.Autoscaling.MaxCapacity = 1, 0
	c.Endpoint.VolumeSizeGB = 1000
	c.Proxy.LogRetentionDays = 8
	c.API.MFA = "always"
	c.Monitoring.MonthlyBudgetUSD = -1

	err := Validate(c)
	var ps Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{
		KeyRegion,
		"inferstack:model.name",
		"inferstack:endpoint.instanceType",
		"inferstack:endpoint.instanceCount",
		"inferstack:endpoint.volumeSizeGb",
		"inferstack:endpoint.autoscaling.minCapacity",
		"inferstack:endpoint.autoscaling.maxCapacity",
		"inferstack:proxy.logRetentionDays",
		"inferstack:api.mfa",
		"inferstack:monitoring.monthlyBudgetUsd",
	}, ps.Keys())
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "invalid stack config (10 problems):"), msg)
	for _, want := range []string{`"p3.2xlarge"`, "ml.<family>.<size>", "at least 2 in prod", `"Bad_Name"`, "1000", "from 1 to 512"} {
		assert.Contains(t, msg, want)
	}
}

func TestHasLocalStorage(t *testing.T) {
	for it, want := range map[string]bool{
		"ml.m5.large": false, "ml.m5d.large": true, "ml.c6g.xlarge": false, "ml.c6gd.xlarge": true, "ml.g4dn.xlarge": true,
		"ml.g5.xlarge": true, "ml.p4d.24xlarge": true, "ml.inf2.xlarge": false, "ml.c7g.large": false, "": false,
	} {
		assert.Equal(t, want, hasLocalStorage(it), it)
	}
}

func TestValidateAcceptsValidVariations(t *testing.T) {
	c := valid(t, EnvQA)
	c.Endpoint.VolumeSizeGB = 0 // instance storage default
	c.Endpoint.InstanceType = "ml.m5.xlarge"
	c.Endpoint.DataCapture = DataCapture{Enabled: true, DestinationS3URI: "s3://capture-bucket/churn", SamplingPercentage: 20}
	c.Endpoint.VPC = VPC{SubnetIDs: []string{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1"}, SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}
	c.Endpoint.NetworkIsolation = true
	c.Endpoint.KMSKeyARN = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	c.Model.DataURL = "s3://models-bucket/churn/model.tar.gz"
	c.Model.Environment = map[string]string{"LOG_LEVEL": "debug"}
	c.API.CORSOrigins = []string{"https://app.example.com", "http://localhost:3000"}
	c.API.CognitoDomainPrefix = "churn-qa"
	c.Proxy.ReservedConcurrency = 1
	assert.NoError(t, Validate(c))
}
