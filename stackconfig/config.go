// Package stackconfig is the typed configuration of one inferstack stack: the `inferstack:*` keys of
// Pulumi.<stack>.yaml merged over a preset chosen by `inferstack:environment`, and validated so that
// every problem is reported at once with the key, the bad value and what is allowed.
//
// Loading (Load, Parse) is separate from validation (Validate) so that tests and other programs can
// validate plain structs.
package stackconfig

// Namespace is the Pulumi project name and therefore the prefix of every key (`inferstack:model`).
const Namespace = "inferstack"

// Environments a stack may declare, cheapest first.
const (
	EnvDev     = "dev"
	EnvQA      = "qa"
	EnvStaging = "staging"
	EnvProd    = "prod"
)

// Environments lists the allowed values of `inferstack:environment`.
var Environments = []string{EnvDev, EnvQA, EnvStaging, EnvProd}

// Config is the whole stack configuration after presets and overrides are merged.
type Config struct {
	// Stack is the Pulumi stack name; it is not read from the stack file.
	Stack string `json:"-"`
	// Region is `aws:region`, the AWS provider's own key.
	Region string `json:"-"`
	// Environment is `inferstack:environment` (required): dev, qa, staging or prod; it picks the preset.
	Environment string `json:"-"`
	// Team is `inferstack:team` (required), the owner put in the team cost tag.
	Team string `json:"-"`

	Model      Model      `json:"model"`
	Image      Image      `json:"image"`
	Endpoint   Endpoint   `json:"endpoint"`
	Proxy      Proxy      `json:"proxy"`
	API        API        `json:"api"`
	Monitoring Monitoring `json:"monitoring"`
}

// IsProd reports whether the stack is a production stack, which gets the strict rules.
func (c Config) IsProd() bool { return c.Environment == EnvProd }

// Model is `inferstack:model`: which model is served.
type Model struct {
	// Name (required) is lowercase and DNS-like; every resource name derives from it.
	Name string `json:"name"`
	// Dir (optional) is a local model directory baked into the image at /opt/ml/model.
	Dir string `json:"dir,omitempty"`
	// DataURL (optional) is an s3://bucket/key.tar.gz that SageMaker extracts into /opt/ml/model.
	DataURL string `json:"dataUrl,omitempty"`
	// Variant (optional) is the inference image variant, "static" (the pure-Go server: XGBoost,
	// LightGBM) or "onnx" (ONNX Runtime); default: ModelImage picks it from dir's content. With
	// dataUrl there is no local directory to look at, so an ONNX model needs variant: onnx.
	Variant string `json:"variant,omitempty"`
	// Environment holds extra container environment variables.
	Environment map[string]string `json:"environment,omitempty"`
	// Description is free text shown in outputs.
	Description string `json:"description,omitempty"`
}

// Image is `inferstack:image`: how the inference image is built and kept.
type Image struct {
	// Context is the docker build context, relative to the project directory (default ".").
	Context string `json:"context"`
	// Dockerfile is relative to the project directory (default "inference/Dockerfile").
	Dockerfile string `json:"dockerfile"`
	// KeepImages is how many images the ECR lifecycle policy keeps (default 10).
	KeepImages int `json:"keepImages"`
	// KMSKeyARN (optional) encrypts the repository with this key instead of AES256.
	KMSKeyARN string `json:"kmsKeyArn,omitempty"`
}

// Endpoint is `inferstack:endpoint`: the SageMaker endpoint.
type Endpoint struct {
	// InstanceType is the ml.* instance type of a real-time endpoint.
	InstanceType string `json:"instanceType"`
	// InstanceCount is the initial instance count of a real-time endpoint.
	InstanceCount int `json:"instanceCount"`
	// VolumeSizeGB is the ML storage volume per instance; 0 leaves SageMaker's default
	// (required for instance types with local NVMe storage, which reject the setting).
	VolumeSizeGB int `json:"volumeSizeGb"`
	// Serverless, when set, makes the endpoint serverless; the dev preset sets it. Set it to
	// null in a dev stack to get a real-time endpoint.
	Serverless *Serverless `json:"serverless"`
	// Autoscaling is target tracking on invocations per instance (real-time only).
	Autoscaling Autoscaling `json:"autoscaling"`
	// DataCapture sends requests and responses to S3 (real-time only).
	DataCapture DataCapture `json:"dataCapture"`
	// KMSKeyARN (optional) encrypts the ML storage volume and captured data.
	KMSKeyARN string `json:"kmsKeyArn,omitempty"`
	// VPC (optional) runs the model containers in these subnets (real-time only).
	VPC VPC `json:"vpc"`
	// NetworkIsolation blocks all network access from the container (real-time only).
	NetworkIsolation bool `json:"networkIsolation"`
	// Rollback is the blue/green deployment with automatic rollback on alarms.
	Rollback Rollback `json:"rollback"`
	// LogRetentionDays is the retention of the container logs, one of CloudWatch's values
	// (dev 7, qa 14, staging 30, prod 90).
	LogRetentionDays int `json:"logRetentionDays"`
}

// IsServerless reports whether the endpoint is serverless.
func (e Endpoint) IsServerless() bool { return e.Serverless != nil }

// Serverless is the serverless variant's size.
type Serverless struct {
	// MemorySizeMB is 1024..6144 in steps of 1024 (default 2048).
	MemorySizeMB int `json:"memorySizeMb"`
	// MaxConcurrency is 1..200 (default 5).
	MaxConcurrency int `json:"maxConcurrency"`
}

// Autoscaling is Application Auto Scaling of the variant's instance count.
type Autoscaling struct {
	Enabled bool `json:"enabled"`
	// MinCapacity and MaxCapacity bound the instance count.
	MinCapacity int `json:"minCapacity"`
	MaxCapacity int `json:"maxCapacity"`
	// TargetInvocationsPerInstance is the per-minute target of SageMakerVariantInvocationsPerInstance.
	TargetInvocationsPerInstance float64 `json:"targetInvocationsPerInstance"`
	// ScaleInCooldownSeconds and ScaleOutCooldownSeconds damp scaling.
	ScaleInCooldownSeconds  int `json:"scaleInCooldownSeconds"`
	ScaleOutCooldownSeconds int `json:"scaleOutCooldownSeconds"`
}

// DataCapture is SageMaker data capture.
type DataCapture struct {
	Enabled bool `json:"enabled"`
	// DestinationS3URI is an s3://bucket/prefix.
	DestinationS3URI string `json:"destinationS3Uri,omitempty"`
	// SamplingPercentage is 1..100 (default 100).
	SamplingPercentage int `json:"samplingPercentage"`
}

// VPC places the model containers in a VPC; both lists are needed together.
type VPC struct {
	SubnetIDs        []string `json:"subnetIds,omitempty"`
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
}

// IsSet reports whether a VPC was configured.
func (v VPC) IsSet() bool { return len(v.SubnetIDs) > 0 || len(v.SecurityGroupIDs) > 0 }

// Rollback is the endpoint's deployment configuration.
type Rollback struct {
	// Enabled turns on blue/green updates with auto-rollback on alarms (prod preset: true).
	Enabled bool `json:"enabled"`
	// AlarmNames are existing CloudWatch alarms that roll a deployment back; when empty the
	// deployment creates its own alarms on 5XX errors and model latency.
	AlarmNames []string `json:"alarmNames,omitempty"`
	// TrafficRouting is ALL_AT_ONCE, CANARY or LINEAR (default ALL_AT_ONCE; CANARY in prod).
	TrafficRouting string `json:"trafficRouting"`
	// CanaryPercent is the share of capacity shifted per CANARY/LINEAR step, 1..99 (default 10 / prod 25).
	CanaryPercent int `json:"canaryPercent"`
	// WaitIntervalSeconds is the bake time between steps, 0..3600 (default 300).
	WaitIntervalSeconds int `json:"waitIntervalSeconds"`
	// TerminationWaitSeconds keeps the old fleet after the switch, 0..3600 (default 300).
	TerminationWaitSeconds int `json:"terminationWaitSeconds"`
}

// Proxy is `inferstack:proxy`: the Lambda between API Gateway and the endpoint.
type Proxy struct {
	// MemoryMB is 128..10240 (default 256).
	MemoryMB int `json:"memoryMb"`
	// TimeoutSeconds is 1..900 (default 30).
	TimeoutSeconds int `json:"timeoutSeconds"`
	// ReservedConcurrency is -1 for unreserved (default) or >= 1.
	ReservedConcurrency int `json:"reservedConcurrency"`
	// LogRetentionDays is one of CloudWatch's retention values (dev 7, prod 90).
	LogRetentionDays int `json:"logRetentionDays"`
	// Tracing turns on X-Ray active tracing (default true).
	Tracing bool `json:"tracing"`
	// Cache is the in-memory response cache.
	Cache Cache `json:"cache"`
}

// Cache is the proxy's in-memory response cache.
type Cache struct {
	Enabled bool `json:"enabled"`
	// TTLSeconds is how long an answer is served from the cache (default 300).
	TTLSeconds int `json:"ttlSeconds"`
	// MaxEntries bounds the number of cached answers (default 10000).
	MaxEntries int `json:"maxEntries"`
	// MaxMB bounds the cache's memory, below the function's memory (default 64).
	MaxMB int `json:"maxMb"`
}

// API is `inferstack:api`: the REST API in front of the proxy.
type API struct {
	// StageName is the API stage (default "v1").
	StageName string `json:"stageName"`
	// RequireAPIKey requires an API key and usage plan (dev preset true, prod false).
	RequireAPIKey bool `json:"requireApiKey"`
	// UserTokens also accepts access tokens of people signed in to the user pool, which carry
	// no invoke scope (dev and qa presets true; staging and prod false: machine clients only).
	UserTokens bool `json:"userTokens"`
	// MFA is the user pool's MFA setting: off, optional or on (prod optional).
	MFA string `json:"mfa"`
	// MachineClient creates a client-credentials app client (default true; it has a monthly fee).
	MachineClient bool `json:"machineClient"`
	// CORSOrigins are the allowed browser origins (default none).
	CORSOrigins []string `json:"corsOrigins,omitempty"`
	// Throttle is the stage's default throttle.
	Throttle Throttle `json:"throttle"`
	// Quota is the usage plan's quota; Limit 0 means no quota.
	Quota Quota `json:"quota"`
	// WAF attaches a WAFv2 web ACL (prod preset true).
	WAF bool `json:"waf"`
	// WAFRateLimit is requests per 5 minutes per IP before WAF blocks (default 2000).
	WAFRateLimit int `json:"wafRateLimit"`
	// CreateAccountLogsRole makes this stack own the region's API Gateway CloudWatch role
	// (default false: one per account and region, so a stack must opt in).
	CreateAccountLogsRole bool `json:"createAccountLogsRole"`
	// LogRetentionDays is the access-log retention, one of CloudWatch's values.
	LogRetentionDays int `json:"logRetentionDays"`
	// LoggingLevel is INFO, ERROR or OFF.
	LoggingLevel string `json:"loggingLevel"`
	// CognitoDomainPrefix (optional) is the hosted-UI domain prefix; default derives from the stack.
	CognitoDomainPrefix string `json:"cognitoDomainPrefix,omitempty"`
}

// Throttle is a steady rate and a burst.
type Throttle struct {
	// RateLimit is requests per second.
	RateLimit float64 `json:"rateLimit"`
	// BurstLimit is the bucket size.
	BurstLimit int `json:"burstLimit"`
}

// Quota is a request budget per period.
type Quota struct {
	// Limit is the number of requests per Period; 0 means no quota.
	Limit int `json:"limit"`
	// Period is DAY, WEEK or MONTH.
	Period string `json:"period"`
}

// Monitoring is `inferstack:monitoring`: alarms, dashboard and the cost budget.
type Monitoring struct {
	// AlarmEmails receive alarm notifications (default none).
	AlarmEmails []string `json:"alarmEmails,omitempty"`
	// LatencyP99Ms is the p99 model latency alarm threshold in milliseconds (default 500);
	// SageMaker reports ModelLatency in microseconds, so components multiply by 1000.
	LatencyP99Ms float64 `json:"latencyP99Ms"`
	// ErrorRatePercent is the 5XX error rate alarm threshold (default 1).
	ErrorRatePercent float64 `json:"errorRatePercent"`
	// ClientErrorRatePercent is the 4XX error rate alarm threshold (default 5): client errors
	// are the callers' to fix, so their alarm is looser.
	ClientErrorRatePercent float64 `json:"clientErrorRatePercent"`
	// CPUUtilizationPercent is the instance CPU alarm threshold in percent of all its vCPUs
	// (default 80); Monitoring divides SageMaker's per-core sum by the instance's vCPU count.
	CPUUtilizationPercent float64 `json:"cpuUtilizationPercent"`
	// MemoryUtilizationPercent is the instance memory alarm threshold (default 80).
	MemoryUtilizationPercent float64 `json:"memoryUtilizationPercent"`
	// LambdaDurationP99Ms is the proxy duration alarm threshold (default 80% of the proxy timeout).
	LambdaDurationP99Ms float64 `json:"lambdaDurationP99Ms"`
	// MonthlyBudgetUSD is the AWS Budgets cost limit (dev 100, prod 2000).
	MonthlyBudgetUSD float64 `json:"monthlyBudgetUsd"`
	// BudgetEmails receive budget notifications (default none).
	BudgetEmails []string `json:"budgetEmails,omitempty"`
}
