package program

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/components/waf"
	"github.com/inferstack/inferstack/stackconfig"
)

// checked is what a preview reports for c: stackconfig's problems and the components'.
func checked(c stackconfig.Config) error { return CheckConfig(c, stackconfig.Validate(c)) }

// TestComponentRulesByStackKey checks each rule the components own, through the program: one change
// to a valid config gives exactly one problem, on the stack key of the field, quoting the value
// and saying what is allowed. (These rules lived in stackconfig before the components owned them.)
func TestComponentRulesByStackKey(t *testing.T) {
	realtime := func(c *stackconfig.Config) { c.Endpoint.Serverless = nil }
	tests := []struct {
		name    string
		env     string
		mutate  func(*stackconfig.Config)
		key     string
		value   string
		allowed string
	}{
		{"data url not s3", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Model.DataURL = "https://x/model.tar.gz" }, "inferstack:model.dataUrl", `"https://x/model.tar.gz"`, "s3://"},
		{"data url not a tarball", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Model.DataURL = "s3://bucket/model.zip" }, "inferstack:model.dataUrl", `"s3://bucket/model.zip"`, ".tar.gz"},
		{"image kms not an arn", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Image.KMSKeyARN = "my-key" }, "inferstack:image.kmsKeyArn", `"my-key"`, "KMS key"},
		{"instance type not ml", stackconfig.EnvQA, func(c *stackconfig.Config) { c.Endpoint.InstanceType = "m5.large" }, "inferstack:endpoint.instanceType", `"m5.large"`, "ml.<family>.<size>"},
		{"volume too large", stackconfig.EnvQA, func(c *stackconfig.Config) { c.Endpoint.VolumeSizeGB = 513 }, "inferstack:endpoint.volumeSizeGb", "513", "from 1 to 512"},
		{"volume on local storage", stackconfig.EnvQA, func(c *stackconfig.Config) { c.Endpoint.InstanceType = "ml.g4dn.xlarge"; c.Endpoint.VolumeSizeGB = 30 }, "inferstack:endpoint.volumeSizeGb", "30", "local NVMe"},
		{"kms on local storage", stackconfig.EnvQA, func(c *stackconfig.Config) {
			c.Endpoint.InstanceType = "ml.c6gd.large"
			c.Endpoint.KMSKeyARN = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		}, "inferstack:endpoint.kmsKeyArn", "", "local NVMe"},
		{"volume negative", stackconfig.EnvQA, func(c *stackconfig.Config) { c.Endpoint.VolumeSizeGB = -1 }, "inferstack:endpoint.volumeSizeGb", "-1", "from 1 to 512"},
		{"serverless memory off step", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Endpoint.Serverless.MemorySizeMB = 1500 }, "inferstack:endpoint.serverless.memorySizeMb", "1500", "1024, 2048"},
		{"serverless memory too large", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Endpoint.Serverless.MemorySizeMB = 7168 }, "inferstack:endpoint.serverless.memorySizeMb", "7168", "6144"},
		{"serverless concurrency too high", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Endpoint.Serverless.MaxConcurrency = 201 }, "inferstack:endpoint.serverless.maxConcurrency", "201", "from 1 to 200"},
		{"serverless autoscaling", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Endpoint.Autoscaling.Enabled = true }, "inferstack:endpoint.autoscaling.enabled", `"set"`, "serverless"},
		{"serverless network isolation", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Endpoint.NetworkIsolation = true }, "inferstack:endpoint.networkIsolation", "true", "serverless"},
		{"serverless vpc", stackconfig.EnvDev, func(c *stackconfig.Config) {
			c.Endpoint.VPC = stackconfig.VPC{SubnetIDs: []string{"subnet-0123456789abcdef0"}, SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}
		}, "inferstack:endpoint.vpc", "", "unset on a serverless endpoint"},
		{"serverless data capture", stackconfig.EnvDev, func(c *stackconfig.Config) {
			c.Endpoint.DataCapture = stackconfig.DataCapture{Enabled: true, DestinationS3URI: "s3://capture-bucket/churn", SamplingPercentage: 10}
		}, "inferstack:endpoint.dataCapture.enabled", `"set"`, "serverless"},
		{"serverless kms key", stackconfig.EnvDev, func(c *stackconfig.Config) {
			c.Endpoint.KMSKeyARN = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		}, "inferstack:endpoint.kmsKeyArn", "", "serverless"},
		{"autoscaling min above max", stackconfig.EnvStaging, func(c *stackconfig.Config) {
			c.Endpoint.Autoscaling.MinCapacity = 5
			c.Endpoint.Autoscaling.MaxCapacity = 3
		}, "inferstack:endpoint.autoscaling.maxCapacity", "3", "at least inferstack:endpoint.autoscaling.minCapacity (5)"},
		{"autoscaling min zero", stackconfig.EnvQA, func(c *stackconfig.Config) {
			c.Endpoint.Autoscaling.Enabled = true
			c.Endpoint.Autoscaling.MinCapacity = 0
		}, "inferstack:endpoint.autoscaling.minCapacity", "0", "at least 1"},
		{"instance count outside autoscaling range", stackconfig.EnvStaging, func(c *stackconfig.Config) { c.Endpoint.InstanceCount = 6 }, "inferstack:endpoint.instanceCount", "6", "between inferstack:endpoint.autoscaling.minCapacity (2) and inferstack:endpoint.autoscaling.maxCapacity (4)"},
		{"autoscaling zero target", stackconfig.EnvStaging, func(c *stackconfig.Config) { c.Endpoint.Autoscaling.TargetInvocationsPerInstance = 0 }, "inferstack:endpoint.autoscaling.targetInvocationsPerInstance", "0", "positive"},
		{"negative cooldown", stackconfig.EnvStaging, func(c *stackconfig.Config) { c.Endpoint.Autoscaling.ScaleInCooldownSeconds = -5 }, "inferstack:endpoint.autoscaling.scaleInCooldownSeconds", "-5", "0 or more"},
		{"rollback bad routing", stackconfig.EnvStaging, func(c *stackconfig.Config) { c.Endpoint.Rollback.TrafficRouting = "BLUE" }, "inferstack:endpoint.rollback.trafficRouting", `"BLUE"`, "ALL_AT_ONCE, CANARY, LINEAR"},
		{"rollback canary over half the fleet", stackconfig.EnvStaging, func(c *stackconfig.Config) {
			c.Endpoint.Rollback.TrafficRouting, c.Endpoint.Rollback.CanaryPercent = "CANARY", 60
		}, "inferstack:endpoint.rollback.canaryPercent", "60", "from 1 to 50"},
		{"rollback linear step under 10%", stackconfig.EnvStaging, func(c *stackconfig.Config) {
			c.Endpoint.Rollback.TrafficRouting, c.Endpoint.Rollback.CanaryPercent = "LINEAR", 5
		}, "inferstack:endpoint.rollback.canaryPercent", "5", "from 10 to 50"},
		{"rollback wait too long", stackconfig.EnvStaging, func(c *stackconfig.Config) { c.Endpoint.Rollback.WaitIntervalSeconds = 3601 }, "inferstack:endpoint.rollback.waitIntervalSeconds", "3601", "from 0 to 3600"},
		{"rollback empty alarm name", stackconfig.EnvStaging, func(c *stackconfig.Config) { c.Endpoint.Rollback.AlarmNames = []string{""} }, "inferstack:endpoint.rollback.alarmNames", `""`, "alarm names"},
		{"data capture without destination", stackconfig.EnvQA, func(c *stackconfig.Config) { realtime(c); c.Endpoint.DataCapture.Enabled = true }, "inferstack:endpoint.dataCapture.destinationS3Uri", `""`, "s3://"},
		{"endpoint kms not an arn", stackconfig.EnvQA, func(c *stackconfig.Config) { c.Endpoint.KMSKeyARN = "alias/x" }, "inferstack:endpoint.kmsKeyArn", `"alias/x"`, "KMS key"},
		{"vpc without security groups", stackconfig.EnvQA, func(c *stackconfig.Config) { c.Endpoint.VPC.SubnetIDs = []string{"subnet-0123456789abcdef0"} }, "inferstack:endpoint.vpc.securityGroupIds", "[]", "1 to 5"},
		{"vpc bad subnet id", stackconfig.EnvQA, func(c *stackconfig.Config) {
			c.Endpoint.VPC = stackconfig.VPC{SubnetIDs: []string{"subnet-xyz"}, SecurityGroupIDs: []string{"sg-0123456789abcdef0"}}
		}, "inferstack:endpoint.vpc.subnetIds", `"subnet-xyz"`, "subnet-0123456789abcdef0"},
		{"endpoint retention not a cloudwatch value", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Endpoint.LogRetentionDays = 2 }, "inferstack:endpoint.logRetentionDays", "2", "1, 3, 5, 7, 14"},
		{"proxy memory too small", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Proxy.MemoryMB = 64; c.Proxy.Cache.MaxMB = 32 }, "inferstack:proxy.memoryMb", "64", "from 128 to 10240"},
		{"proxy timeout too long", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Proxy.TimeoutSeconds = 901; c.Monitoring.LambdaDurationP99Ms = 1000 }, "inferstack:proxy.timeoutSeconds", "901", "from 1 to 900"},
		{"reserved concurrency below -1", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Proxy.ReservedConcurrency = -2 }, "inferstack:proxy.reservedConcurrency", "-2", "-1 or 0 (unreserved)"},
		{"proxy retention not a cloudwatch value", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Proxy.LogRetentionDays = 10 }, "inferstack:proxy.logRetentionDays", "10", "1, 3, 5, 7, 14"},
		{"cache as large as memory", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Proxy.Cache.MaxMB = 256 }, "inferstack:proxy.cache.maxMb", "256", "at most half of inferstack:proxy.memoryMb (256)"},
		{"bad stage name", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.StageName = "v 1" }, "inferstack:api.stageName", `"v 1"`, "letters, digits"},
		{"bad mfa", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.MFA = "required" }, "inferstack:api.mfa", `"required"`, "off, optional, on"},
		{"cors origin with path", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.CORSOrigins = []string{"https://app.example.com/"} }, "inferstack:api.corsOrigins", `"https://app.example.com/"`, "no path"},
		{"cors wildcard", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.CORSOrigins = []string{"*"} }, "inferstack:api.corsOrigins", `"*"`, "no wildcard"},
		{"cors plain http", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.CORSOrigins = []string{"http://app.example.com"} }, "inferstack:api.corsOrigins", `"http://app.example.com"`, "https, or http://localhost"},
		{"negative rate limit", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.Throttle.RateLimit = -1 }, "inferstack:api.throttle.rateLimit", "-1", "0 or more"},
		{"negative burst", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.Throttle.BurstLimit = -1 }, "inferstack:api.throttle.burstLimit", "-1", "0 or more"},
		{"negative quota", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.Quota.Limit = -1 }, "inferstack:api.quota.limit", "-1", "0 (no quota)"},
		{"bad quota period", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.Quota.Period = "YEAR" }, "inferstack:api.quota.period", `"YEAR"`, "DAY, WEEK, MONTH"},
		{"waf rate limit too low", stackconfig.EnvProd, func(c *stackconfig.Config) { c.API.WAFRateLimit = 5 }, "inferstack:api.wafRateLimit", "5", "10..2000000000"},
		{"bad logging level", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.LoggingLevel = "DEBUG" }, "inferstack:api.loggingLevel", `"DEBUG"`, "INFO, ERROR, OFF"},
		{"domain prefix with reserved word", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.CognitoDomainPrefix = "churn-cognito" }, "inferstack:api.cognitoDomainPrefix", `"churn-cognito"`, `not containing "aws"`},
		{"domain prefix uppercase", stackconfig.EnvDev, func(c *stackconfig.Config) { c.API.CognitoDomainPrefix = "Churn" }, "inferstack:api.cognitoDomainPrefix", `"Churn"`, "lowercase"},
		{"bad alarm email", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Monitoring.AlarmEmails = []string{"oncall"} }, "inferstack:monitoring.alarmEmails", `"oncall"`, "email"},
		{"bad budget email", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Monitoring.BudgetEmails = []string{"a@b"} }, "inferstack:monitoring.budgetEmails", `"a@b"`, "email"},
		{"error rate above 100", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Monitoring.ErrorRatePercent = 101 }, "inferstack:monitoring.errorRatePercent", "101", "at most 100"},
		{"memory above 100", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Monitoring.MemoryUtilizationPercent = 120 }, "inferstack:monitoring.memoryUtilizationPercent", "120", "at most 100"},
		{"lambda duration beyond timeout", stackconfig.EnvDev, func(c *stackconfig.Config) { c.Monitoring.LambdaDurationP99Ms = 31000 }, "inferstack:monitoring.lambdaDurationP99Ms", "31000", "never fires"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config(t, tc.env, nil)
			tc.mutate(&c)
			err := checked(c)
			require.Error(t, err)
			var ps stackconfig.Problems
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

// groups are the nested Args structs argsFields walked into; their fields are classified, and
// FieldKeys may map a whole group (Endpoint.Autoscaling) for the problems about the group.
var groups = map[string]bool{}

// argsFields lists the leaf field paths of t as FieldError names them: nested structs (and pointers
// to them) are walked, everything else is a leaf. Parts are listed as well as their fields.
func argsFields(prefix string, t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		path := f.Name
		if prefix != "" {
			path = prefix + "." + f.Name
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == reflect.TypeOf(components.ModelDeploymentArgs{}).PkgPath() {
			groups[path] = true
			out = append(out, argsFields(path, ft)...)
			continue
		}
		out = append(out, path)
	}
	return out
}

// Fields of the Args that no stack key fills: wired by deploy, or left at the components'
// defaults by DeploymentArgs. (What ModelDeployment wires between parts is not in its Args.)
var (
	wiredFields = []string{
		"Tags",         // ModelDeployment puts it on every part
		"WAF.StageARN", // deploy wires the API's stage
	}
	defaultedFields = []string{
		"Image.Tag",
		"Endpoint.EndpointName", "Endpoint.VariantName", "Endpoint.LiveReader", "Endpoint.Rollback.ErrorCount",
		"Proxy.ArchivePath", "Proxy.HandlerPackage", "Proxy.BuildDir", "Proxy.LogLevel",
		"API.IntegrationTimeoutMs",
	}
)

// badValues holds, for every mapped field that a value can make invalid, a config that makes it
// so: the environment, the stack key's section and a JSON object merged over the preset.
var badValues = map[string]struct{ env, key, json string }{
	"Image.Context":    {stackconfig.EnvDev, stackconfig.KeyImage, `{"context":" "}`},
	"Image.Dockerfile": {stackconfig.EnvDev, stackconfig.KeyImage, `{"dockerfile":""}`},
	"Image.KeepImages": {stackconfig.EnvDev, stackconfig.KeyImage, `{"keepImages":1001}`},
	"Image.KMSKeyARN":  {stackconfig.EnvDev, stackconfig.KeyImage, `{"kmsKeyArn":"my-key"}`},
	"Image.Variant":    {stackconfig.EnvDev, stackconfig.KeyModel, `{"dataUrl":"s3://models/churn/model.tar.gz","variant":"gpu"}`},

	"Endpoint.ModelDataURL":                             {stackconfig.EnvDev, stackconfig.KeyModel, `{"name":"churn","dataUrl":"s3://b/model.zip"}`},
	"Endpoint.InstanceType":                             {stackconfig.EnvQA, stackconfig.KeyEndpoint, `{"instanceType":"m5.large"}`},
	"Endpoint.InstanceCount":                            {stackconfig.EnvQA, stackconfig.KeyEndpoint, `{"instanceCount":-1}`},
	"Endpoint.VolumeSizeGB":                             {stackconfig.EnvQA, stackconfig.KeyEndpoint, `{"volumeSizeGb":513}`},
	"Endpoint.Serverless.MemorySizeMB":                  {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"serverless":{"memorySizeMb":1500}}`},
	"Endpoint.Serverless.MaxConcurrency":                {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"serverless":{"maxConcurrency":201}}`},
	"Endpoint.Autoscaling":                              {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"autoscaling":{"enabled":true}}`},
	"Endpoint.Autoscaling.MinCapacity":                  {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"autoscaling":{"minCapacity":-1}}`},
	"Endpoint.Autoscaling.MaxCapacity":                  {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"autoscaling":{"maxCapacity":1}}`},
	"Endpoint.Autoscaling.TargetInvocationsPerInstance": {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"autoscaling":{"targetInvocationsPerInstance":-1}}`},
	"Endpoint.Autoscaling.ScaleInCooldownSeconds":       {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"autoscaling":{"scaleInCooldownSeconds":-1}}`},
	"Endpoint.Autoscaling.ScaleOutCooldownSeconds":      {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"autoscaling":{"scaleOutCooldownSeconds":-1}}`},
	"Endpoint.DataCapture":                              {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"dataCapture":{"enabled":true,"destinationS3Uri":"s3://bucket-a/x"}}`},
	"Endpoint.DataCapture.DestinationS3URI":             {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"dataCapture":{"enabled":true,"destinationS3Uri":"https://x"}}`},
	"Endpoint.DataCapture.SamplingPercentage":           {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"dataCapture":{"enabled":true,"destinationS3Uri":"s3://bucket-a/x","samplingPercentage":101}}`},
	"Endpoint.KMSKeyARN":                                {stackconfig.EnvQA, stackconfig.KeyEndpoint, `{"kmsKeyArn":"alias/x"}`},
	"Endpoint.VPC":                                      {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"vpc":{"subnetIds":["subnet-0123456789abcdef0"],"securityGroupIds":["sg-0123456789abcdef0"]}}`},
	"Endpoint.VPC.SubnetIDs":                            {stackconfig.EnvQA, stackconfig.KeyEndpoint, `{"vpc":{"subnetIds":["subnet-x"],"securityGroupIds":["sg-0123456789abcdef0"]}}`},
	"Endpoint.VPC.SecurityGroupIDs":                     {stackconfig.EnvQA, stackconfig.KeyEndpoint, `{"vpc":{"subnetIds":["subnet-0123456789abcdef0"],"securityGroupIds":["sg-x"]}}`},
	"Endpoint.NetworkIsolation":                         {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"networkIsolation":true}`},
	"Endpoint.Rollback.AlarmNames":                      {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"rollback":{"alarmNames":[""]}}`},
	"Endpoint.Rollback.TrafficRouting":                  {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"rollback":{"trafficRouting":"BLUE"}}`},
	"Endpoint.Rollback.CanaryPercent":                   {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"rollback":{"canaryPercent":60}}`},
	"Endpoint.Rollback.WaitIntervalSeconds":             {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"rollback":{"waitIntervalSeconds":3601}}`},
	"Endpoint.Rollback.TerminationWaitSeconds":          {stackconfig.EnvStaging, stackconfig.KeyEndpoint, `{"rollback":{"terminationWaitSeconds":3601}}`},
	"Endpoint.Rollback.LatencyP99Ms":                    {stackconfig.EnvStaging, stackconfig.KeyMonitoring, `{"latencyP99Ms":-1}`},
	"Endpoint.LogRetentionDays":                         {stackconfig.EnvDev, stackconfig.KeyEndpoint, `{"logRetentionDays":2}`},

	"Proxy.MemoryMB":             {stackconfig.EnvDev, stackconfig.KeyProxy, `{"memoryMb":64,"cache":{"maxMb":16}}`},
	"Proxy.TimeoutSeconds":       {stackconfig.EnvDev, stackconfig.KeyProxy, `{"timeoutSeconds":901}`},
	"Proxy.InvokeTimeoutSeconds": {stackconfig.EnvDev, stackconfig.KeyProxy, `{"timeoutSeconds":-1}`},
	"Proxy.ReservedConcurrency":  {stackconfig.EnvDev, stackconfig.KeyProxy, `{"reservedConcurrency":-2}`},
	"Proxy.LogRetentionDays":     {stackconfig.EnvDev, stackconfig.KeyProxy, `{"logRetentionDays":10}`},
	"Proxy.Cache.TTLSeconds":     {stackconfig.EnvDev, stackconfig.KeyProxy, `{"cache":{"ttlSeconds":86401}}`},
	"Proxy.Cache.MaxEntries":     {stackconfig.EnvDev, stackconfig.KeyProxy, `{"cache":{"maxEntries":-1}}`},
	"Proxy.Cache.MaxMB":          {stackconfig.EnvDev, stackconfig.KeyProxy, `{"cache":{"maxMb":200}}`},
	"Proxy.CORSOrigins":          {stackconfig.EnvDev, stackconfig.KeyAPI, `{"corsOrigins":["https://a.example.com","*"]}`},

	"API.StageName":           {stackconfig.EnvDev, stackconfig.KeyAPI, `{"stageName":"v 1"}`},
	"API.MFA":                 {stackconfig.EnvDev, stackconfig.KeyAPI, `{"mfa":"always"}`},
	"API.CORSOrigins":         {stackconfig.EnvDev, stackconfig.KeyAPI, `{"corsOrigins":["http://app.example.com"]}`},
	"API.Throttle.RateLimit":  {stackconfig.EnvDev, stackconfig.KeyAPI, `{"throttle":{"rateLimit":-1}}`},
	"API.Throttle.BurstLimit": {stackconfig.EnvDev, stackconfig.KeyAPI, `{"throttle":{"burstLimit":-1}}`},
	"API.Quota.Limit":         {stackconfig.EnvDev, stackconfig.KeyAPI, `{"quota":{"limit":-1}}`},
	"API.Quota.Period":        {stackconfig.EnvDev, stackconfig.KeyAPI, `{"quota":{"limit":10,"period":"YEAR"}}`},
	"API.LogRetentionDays":    {stackconfig.EnvDev, stackconfig.KeyAPI, `{"logRetentionDays":4}`},
	"API.LoggingLevel":        {stackconfig.EnvDev, stackconfig.KeyAPI, `{"loggingLevel":"DEBUG"}`},
	"API.CognitoDomainPrefix": {stackconfig.EnvDev, stackconfig.KeyAPI, `{"cognitoDomainPrefix":"my-aws"}`},

	"Monitoring.Thresholds.LatencyP99Ms":             {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"latencyP99Ms":-1}`},
	"Monitoring.Thresholds.ErrorRatePercent":         {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"errorRatePercent":101}`},
	"Monitoring.Thresholds.ClientErrorRatePercent":   {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"clientErrorRatePercent":-1}`},
	"Monitoring.Thresholds.CPUUtilizationPercent":    {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"cpuUtilizationPercent":-1}`},
	"Monitoring.Thresholds.MemoryUtilizationPercent": {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"memoryUtilizationPercent":120}`},
	"Monitoring.Thresholds.LambdaDurationP99Ms":      {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"lambdaDurationP99Ms":31000}`},
	"Monitoring.AlarmEmails":                         {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"alarmEmails":["Ops <ops@example.com>"]}`},
	"Monitoring.MonthlyBudgetUSD":                    {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"monthlyBudgetUsd":-5}`},
	"Monitoring.BudgetEmails":                        {stackconfig.EnvDev, stackconfig.KeyMonitoring, `{"budgetEmails":["a@b"]}`},

	"WAF.RateLimit": {stackconfig.EnvProd, stackconfig.KeyAPI, `{"wafRateLimit":5}`},
}

// anyValue are the mapped fields that no value of their stack key makes invalid for the
// component: flags, tags (the team tag is stackconfig's rule), values derived from other keys,
// and values checked elsewhere (the model directory by checkModelDir, environment variable names
// by stackconfig).
var anyValue = []string{
	"Image.BuildArgs", "Image.Platform", "Image.ForceDelete", "Image.Tags",
	"Endpoint.Environment", "Endpoint.Tags",
	"Proxy.DisableTracing", "Proxy.Cache.Disabled", "Proxy.Tags",
	"API.RequireAPIKey", "API.AcceptUserTokens", "API.MachineClient", "API.CreateAccountLogsRole",
	"API.DeletionProtection", "API.Tags",
	"Monitoring.Tags", "WAF.Tags",
}

// TestEveryArgsFieldFromConfigNamesItsKey walks every field of the Args the program builds from
// config: each is mapped to a stack key, wired, or left at its default; each mapped field that a
// value can make invalid gets that value, and the problem must name the field's stack key. A new
// Args field fails here until it is mapped (FieldKeys) and given a bad value.
func TestEveryArgsFieldFromConfigNamesItsKey(t *testing.T) {
	all := argsFields("", reflect.TypeOf(components.ModelDeploymentArgs{}))
	for _, f := range argsFields("", reflect.TypeOf(waf.WebACLArgs{})) {
		all = append(all, wafField+"."+f)
	}
	sort.Strings(all)
	for _, f := range all {
		_, mapped := FieldKeys[f]
		classes := 0
		for _, in := range []bool{mapped, slices.Contains(wiredFields, f), slices.Contains(defaultedFields, f)} {
			if in {
				classes++
			}
		}
		assert.Equal(t, 1, classes, "%s: map it to its stack key in FieldKeys, or list it as wired or defaulted", f)
	}
	for f := range FieldKeys {
		assert.True(t, slices.Contains(all, f) || groups[f], "FieldKeys maps %s, which no Args has", f)
		_, bad := badValues[f]
		assert.NotEqual(t, bad, slices.Contains(anyValue, f), "%s: give it a bad value, or list it in anyValue", f)
	}
	for f, bad := range badValues {
		t.Run(f, func(t *testing.T) {
			key := FieldKeys[f]
			require.NotEmpty(t, key, "%s has a bad value but no stack key", f)
			values := map[string]string{
				stackconfig.KeyRegion: "eu-central-1", stackconfig.KeyEnvironment: bad.env, stackconfig.KeyTeam: "ml-platform",
				stackconfig.KeyModel: `{"name":"churn"}`,
			}
			values[bad.key] = bad.json
			err := CheckConfig(stackconfig.Parse(bad.env, values))
			require.Error(t, err, "%s=%s must be refused", bad.key, bad.json)
			var ps stackconfig.Problems
			require.ErrorAs(t, err, &ps)
			assert.Contains(t, ps.Keys(), key, "the problem names %s: %v", key, err)
			for _, p := range ps {
				assert.True(t, strings.HasPrefix(p.Key, stackconfig.Namespace+":"), "every problem is named by a stack key: %v", p)
				assert.NotContains(t, p.Allowed, "{", "every field reference is rendered: %v", p)
			}
		})
	}
}

// TestNotFromConfigFieldsStayUnset keeps defaultedFields honest: DeploymentArgs leaves them at
// their zero values on every environment's preset.
func TestNotFromConfigFieldsStayUnset(t *testing.T) {
	for _, env := range stackconfig.Environments {
		args := reflect.ValueOf(DeploymentArgs(config(t, env, nil)))
		for _, f := range defaultedFields {
			v := args
			for _, name := range strings.Split(f, ".") {
				if v.Kind() == reflect.Pointer {
					if v.IsNil() {
						break
					}
					v = v.Elem()
				}
				v = v.FieldByName(name)
			}
			if v.IsValid() {
				assert.True(t, v.IsZero(), "%s: %s is set from config; map it in FieldKeys", env, f)
			}
		}
	}
}

// TestCheckConfigReportsEveryProblemOnceByKey is the README's promise: every problem, by stack
// key, at once, and a value two layers refuse is reported once.
func TestCheckConfigReportsEveryProblemOnceByKey(t *testing.T) {
	c := config(t, stackconfig.EnvProd, nil)
	c.Region = ""
	c.Endpoint.InstanceType = "p3.2xlarge"
	c.Endpoint.InstanceCount = 1
	c.Endpoint.VolumeSizeGB = 1000
	c.Proxy.LogRetentionDays = 8
	c.Proxy.Cache.MaxMB = 200
	c.API.MFA = "always"
	c.Monitoring.MonthlyBudgetUSD = -1

	err := checked(c)
	var ps stackconfig.Problems
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, []string{
		stackconfig.KeyRegion,
		"inferstack:endpoint.instanceCount",
		"inferstack:monitoring.monthlyBudgetUsd",
		"inferstack:endpoint.instanceType",
		"inferstack:endpoint.volumeSizeGb",
		"inferstack:proxy.logRetentionDays",
		"inferstack:proxy.cache.maxMb",
		"inferstack:api.mfa",
	}, ps.Keys())
	assert.Contains(t, err.Error(),
		"inferstack:proxy.cache.maxMb: got 200; allowed: 1 or more and at most half of inferstack:proxy.memoryMb (256)")
}

// TestClassifiedFieldsExist keeps the lists above honest: each names a field of the Args.
func TestClassifiedFieldsExist(t *testing.T) {
	all := argsFields("", reflect.TypeOf(components.ModelDeploymentArgs{}))
	for _, f := range argsFields("", reflect.TypeOf(waf.WebACLArgs{})) {
		all = append(all, wafField+"."+f)
	}
	for _, f := range append(append(slices.Clone(wiredFields), defaultedFields...), anyValue...) {
		assert.Contains(t, all, f)
	}
}
