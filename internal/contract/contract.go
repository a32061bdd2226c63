// Package contract holds the names and values that two packages of this module must agree on,
// each declared once: the stack outputs program writes and cmd/smoke reads, the metrics
// lambda/proxy emits and the Monitoring component's dashboard reads, and the defaults that the
// components apply and the stack presets start from. It imports nothing, so every package can
// import it.
package contract

// Stack output names: program exports them, cmd/smoke and CI read them (docs/api.md,
// docs/runbook.md). Renaming one breaks every deployed stack's consumers.
const (
	OutEndpointName        = "endpointName"
	OutEndpointArn         = "endpointArn"
	OutVariantName         = "variantName"
	OutImageURI            = "imageUri"
	OutRepositoryURL       = "repositoryUrl"
	OutRegion              = "region"
	OutInvokeCommand       = "invokeCommand"
	OutProxyFunctionName   = "proxyFunctionName"
	OutProxyLogGroup       = "proxyLogGroupName"
	OutAPIURL              = "apiUrl"
	OutTokenEndpoint       = "tokenEndpoint"
	OutInvokeScope         = "invokeScope"
	OutUserPoolID          = "userPoolId"
	OutUserClientID        = "userClientId"
	OutMachineClientID     = "machineClientId"
	OutAPIKeyID            = "apiKeyId"
	OutMachineClientSecret = "machineClientSecret"
	OutAPIKeyValue         = "apiKeyValue"
	OutAlarmTopicArn       = "alarmTopicArn"
	OutDashboardName       = "dashboardName"
	OutRollbackAlarmNames  = "rollbackAlarmNames"
	OutEndpointConfigName  = "endpointConfigName"
	OutModelName           = "modelName"
	OutStackTag            = "stackTag"
)

// The proxy's CloudWatch Embedded Metric Format metrics: lambda/proxy writes them, the Monitoring
// component's dashboard reads them (its hit rate is CacheHits / (CacheHits + CacheMisses)).
const (
	ProxyMetricNamespace       = "Inferstack/Proxy"
	ProxyDimensionEndpointName = "EndpointName"
	ProxyMetricCacheHits       = "CacheHits"
	ProxyMetricCacheMisses     = "CacheMisses"
	ProxyMetricLatency         = "Latency"
	ProxyMetricEndpointLatency = "EndpointLatency"
)

// Defaults that the components fill in (their Args' WithDefaults) and the stack presets start from.
const (
	DefaultStageName              = "v1"
	DefaultKeepImages             = 10
	DefaultProxyMemoryMB          = 256
	DefaultProxyTimeoutSeconds    = 30
	DefaultWAFRateLimit           = 2000
	DefaultLatencyP99Ms           = 500
	DefaultErrorRatePercent       = 1
	DefaultClientErrorRatePercent = 5
	DefaultUtilizationPercent     = 80
	DefaultCacheTTLSeconds        = 300
	DefaultCacheMaxEntries        = 10000
	DefaultCacheMaxMB             = 64
)

// SageMaker request headers that the Lambda proxy forwards to InvokeEndpoint and that the API's
// CORS configuration must allow a browser to send (aws-sdk-go-v2 service/sagemakerruntime
// v1.50.4 schemas/schemas.go:434,442,458).
const (
	// HeaderCustomAttributes carries InvokeEndpointInput.CustomAttributes, and back the
	// endpoint's InvokeEndpointOutput.CustomAttributes.
	HeaderCustomAttributes = "X-Amzn-SageMaker-Custom-Attributes"
	// HeaderInferenceID carries InvokeEndpointInput.InferenceId, which data capture records.
	HeaderInferenceID = "X-Amzn-SageMaker-Inference-Id"
)
