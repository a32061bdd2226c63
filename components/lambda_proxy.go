package components

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

const lambdaProxyType = "inferstack:components:LambdaProxy"

// Defaults for LambdaProxyArgs, matching the stack config's `proxy` defaults.
const (
	DefaultProxyMemoryMB         = 256
	DefaultProxyTimeoutSeconds   = 30
	DefaultProxyLogRetentionDays = 30
	// maxProxyInvokeTimeoutSeconds keeps the endpoint call under API Gateway's 29 s integration
	// timeout (DefaultIntegrationTimeout), so the caller gets the proxy's 504 with a request ID.
	maxProxyInvokeTimeoutSeconds = DefaultIntegrationTimeout/1000 - 1
)

// LambdaProxyArgs configures a LambdaProxy.
type LambdaProxyArgs struct {
	// EndpointName (required) is the SageMaker endpoint the proxy invokes.
	EndpointName pulumi.StringInput `pulumi:"endpointName"`
	// EndpointARN (required) is that endpoint's ARN; the role may invoke and describe it alone.
	EndpointARN pulumi.StringInput `pulumi:"endpointArn"`
	// EndpointConfigName (optional) is the endpoint configuration the endpoint was deployed with
	// (take it from the endpoint, so that it resolves once the endpoint is updated). It becomes
	// part of every cache key: a rollout changes the function's environment and starts the cache
	// afresh. Rollbacks are caught by the handler itself (DescribeEndpoint). Default none.
	EndpointConfigName pulumi.StringInput `pulumi:"endpointConfigName,optional"`
	// ServerlessEndpoint (optional) says the endpoint is serverless: requests and answers are
	// limited to 4 MiB instead of real-time's 6 MiB. Default false.
	ServerlessEndpoint bool `pulumi:"serverlessEndpoint,optional"`
	// ArchivePath (optional) is a prebuilt zip holding an executable `bootstrap`; default: the
	// handler embedded in this package (EmbeddedProxyArchive), which needs no Go toolchain.
	ArchivePath string `pulumi:"archivePath,optional"`
	// HandlerPackage (optional) is a Go import path to build from source with the Go toolchain
	// on PATH instead of using the embedded handler; ProxyHandlerPackage builds this module's
	// handler from source. Default none: the embedded handler.
	HandlerPackage string `pulumi:"handlerPackage,optional"`
	// BuildDir (optional) is a directory in the Go module whose go.mod and go.sum resolve
	// HandlerPackage; setting it alone builds ProxyHandlerPackage from source there. Default the
	// current directory, the Pulumi program's.
	BuildDir string `pulumi:"buildDir,optional"`
	// MemoryMB (optional) is the function memory, 128..10240; default 256. It must hold the cache.
	MemoryMB int `pulumi:"memoryMb,optional"`
	// TimeoutSeconds (optional) is the function timeout, 1..900; default 30.
	TimeoutSeconds int `pulumi:"timeoutSeconds,optional"`
	// InvokeTimeoutSeconds (optional) bounds each InvokeEndpoint call, 1..900; default
	// min(TimeoutSeconds-1, 28). Keep it below the API's 29 s integration timeout: API Gateway
	// answers a bare 504 at that point, whatever the function is still doing.
	InvokeTimeoutSeconds int `pulumi:"invokeTimeoutSeconds,optional"`
	// ReservedConcurrency (optional) caps concurrent executions; 0 or -1 (default) is unreserved.
	ReservedConcurrency int `pulumi:"reservedConcurrency,optional"`
	// LogRetentionDays (optional) is the log group's retention, a value CloudWatch allows; default 30.
	LogRetentionDays int `pulumi:"logRetentionDays,optional"`
	// DisableTracing (optional) turns X-Ray active tracing off; default on.
	DisableTracing bool `pulumi:"disableTracing,optional"`
	// Cache (optional) configures the response cache; nil means on with the defaults.
	Cache *ProxyCacheArgs `pulumi:"cache,optional"`
	// LogLevel (optional) is DEBUG, INFO, WARN or ERROR; default INFO.
	LogLevel string `pulumi:"logLevel,optional"`
	// CORSOrigins (optional) are the browser origins whose requests get Access-Control-Allow-Origin
	// on the proxy's answers; give the same list as SecuredAPIArgs.CORSOrigins. Default none.
	CORSOrigins []string `pulumi:"corsOrigins,optional"`
	// Tags (optional) go on every taggable child; use StandardTags.
	Tags map[string]string `pulumi:"tags,optional"`
}

// ProxyCacheArgs configures the proxy's in-memory response cache.
type ProxyCacheArgs struct {
	// Disabled turns the cache off: no cache on the request path at all. Default false.
	Disabled bool `pulumi:"disabled,optional"`
	// TTLSeconds (optional) is how long a response is served from the cache; default 300.
	TTLSeconds int `pulumi:"ttlSeconds,optional"`
	// MaxEntries (optional) bounds the cached responses; default 10000.
	MaxEntries int `pulumi:"maxEntries,optional"`
	// MaxMB (optional) bounds the cached bytes in MiB; default 64.
	MaxMB int `pulumi:"maxMb,optional"`
}

// LambdaProxy is the Go Lambda function between API Gateway and the SageMaker endpoint, with its
// role, its log group and its response cache settings.
type LambdaProxy struct {
	pulumi.ResourceState

	// FunctionName is the function's name, for CloudWatch dimensions and permissions.
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// FunctionARN is the function's ARN.
	FunctionARN pulumi.StringOutput `pulumi:"functionArn"`
	// InvokeARN is the API Gateway integration URI of the function.
	InvokeARN pulumi.StringOutput `pulumi:"invokeArn"`
	// LogGroupName is the log group holding the function's logs and its EMF metrics.
	LogGroupName pulumi.StringOutput `pulumi:"logGroupName"`
	// RoleARN is the function's execution role.
	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
}

// NewLambdaProxy takes the handler (the embedded one unless args name an archive or a package to
// build), and creates its log group, role and function.
func NewLambdaProxy(ctx *pulumi.Context, name string, args *LambdaProxyArgs, opts ...pulumi.ResourceOption) (*LambdaProxy, error) {
	a, cfg, err := lambdaProxyDefaults(name, args)
	if err != nil {
		return nil, err
	}
	archive, err := proxyArchive(a)
	if err != nil {
		return nil, fmt.Errorf("lambda proxy %q: %w", name, err)
	}

	c := &LambdaProxy{}
	if err := ctx.RegisterComponentResource(lambdaProxyType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	logsName := name + "-logs"
	logs, err := cloudwatch.NewLogGroup(ctx, logsName, &cloudwatch.LogGroupArgs{
		// A readable, stable name (`aws logs tail /aws/lambda/inferstack/prod/churn-proxy`), unique
		// per project, stack and component.
		Name:            pulumi.Sprintf("/aws/lambda/%s/%s/%s", ctx.Project(), ctx.Stack(), name),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            tagsFor(a.Tags, logsName),
	}, parent)
	if err != nil {
		return nil, err
	}

	trust, err := AssumeRolePolicy("lambda.amazonaws.com", "").JSON()
	if err != nil {
		return nil, fmt.Errorf("lambda proxy %q: %w", name, err)
	}
	roleName := name + "-role"
	role, err := iam.NewRole(ctx, roleName, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.String("Lambda proxy: invoke one SageMaker endpoint, write its own logs and traces"),
		Tags:             tagsFor(a.Tags, roleName),
	}, parent)
	if err != nil {
		return nil, err
	}
	policy := pulumi.All(a.EndpointARN, logs.Arn).ApplyT(func(v []any) (string, error) {
		return proxyPolicy(v[0].(string), v[1].(string)).JSON()
	}).(pulumi.StringOutput)
	rolePolicy, err := iam.NewRolePolicy(ctx, name+"-role-policy", &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: policy,
	}, parent)
	if err != nil {
		return nil, err
	}

	env := pulumi.StringMap{}
	for k, v := range cfg.Environ() {
		env[k] = pulumi.String(v)
	}
	env[proxyconfig.EnvEndpointName] = a.EndpointName
	if a.EndpointConfigName != nil {
		env[proxyconfig.EnvEndpointConfigName] = a.EndpointConfigName
	} else {
		delete(env, proxyconfig.EnvEndpointConfigName)
	}
	tracing := "Active"
	if a.DisableTracing {
		tracing = "PassThrough"
	}
	fnName := name + "-function"
	fn, err := lambda.NewFunction(ctx, fnName, &lambda.FunctionArgs{
		Runtime:       lambda.RuntimeCustomAL2023,
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Handler:       pulumi.String("bootstrap"),
		Code:          pulumi.NewFileArchive(archive.Path),
		// The hash, not the file path, decides whether the code changed.
		SourceCodeHash:               pulumi.String(archive.SHA256),
		Role:                         role.Arn,
		MemorySize:                   pulumi.Int(a.MemoryMB),
		Timeout:                      pulumi.Int(a.TimeoutSeconds),
		ReservedConcurrentExecutions: pulumi.Int(a.ReservedConcurrency),
		Environment:                  lambda.FunctionEnvironmentArgs{Variables: env},
		TracingConfig:                lambda.FunctionTracingConfigArgs{Mode: pulumi.String(tracing)},
		// Text format: the handler already writes JSON lines, and CloudWatch extracts the EMF
		// metrics from them as they are; the JSON format would wrap them.
		LoggingConfig: lambda.FunctionLoggingConfigArgs{LogFormat: pulumi.String("Text"), LogGroup: logs.Name},
		Description:   pulumi.String("inferstack proxy: API Gateway to SageMaker with a response cache"),
		Tags:          tagsFor(a.Tags, fnName),
	}, parent, pulumi.DependsOn([]pulumi.Resource{rolePolicy}))
	if err != nil {
		return nil, err
	}

	c.FunctionName = fn.Name
	c.FunctionARN = fn.Arn
	c.InvokeARN = fn.InvokeArn
	c.LogGroupName = logs.Name
	c.RoleARN = role.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"functionName": c.FunctionName,
		"functionArn":  c.FunctionARN,
		"invokeArn":    c.InvokeARN,
		"logGroupName": c.LogGroupName,
		"roleArn":      c.RoleARN,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// lambdaProxyDefaults validates args, fills defaults and returns them with the handler
// configuration (all but the endpoint name, which is an output). Checking the handler's
// configuration here makes a bad value fail the preview rather than the function's cold start.
func lambdaProxyDefaults(name string, args *LambdaProxyArgs) (LambdaProxyArgs, proxyconfig.Config, error) {
	fail := func(format string, v ...any) (LambdaProxyArgs, proxyconfig.Config, error) {
		return LambdaProxyArgs{}, proxyconfig.Config{}, fmt.Errorf("lambda proxy %q: "+format, append([]any{name}, v...)...)
	}
	if args == nil {
		return fail("args are required")
	}
	a := *args
	if a.EndpointName == nil {
		return fail("EndpointName is required")
	}
	if a.EndpointARN == nil {
		return fail("EndpointARN is required")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&a.MemoryMB, DefaultProxyMemoryMB)
	def(&a.TimeoutSeconds, DefaultProxyTimeoutSeconds)
	def(&a.LogRetentionDays, DefaultProxyLogRetentionDays)
	def(&a.ReservedConcurrency, -1)
	if a.HandlerPackage == "" && a.BuildDir != "" {
		a.HandlerPackage = ProxyHandlerPackage
	}
	if a.MemoryMB < 128 || a.MemoryMB > 10240 {
		return fail("MemoryMB %d: must be from 128 to 10240", a.MemoryMB)
	}
	if a.TimeoutSeconds < 1 || a.TimeoutSeconds > 900 {
		return fail("TimeoutSeconds %d: must be from 1 to 900", a.TimeoutSeconds)
	}
	if a.InvokeTimeoutSeconds == 0 {
		a.InvokeTimeoutSeconds = max(1, min(a.TimeoutSeconds-1, maxProxyInvokeTimeoutSeconds))
	}
	if a.ReservedConcurrency < -1 {
		return fail("ReservedConcurrency %d: must be -1 (unreserved) or a positive number", a.ReservedConcurrency)
	}
	if !validRetention[a.LogRetentionDays] {
		return fail("LogRetentionDays %d: must be one of the values CloudWatch Logs allows (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)", a.LogRetentionDays)
	}

	// The endpoint name is an output; a valid stand-in lets the rest be checked now.
	cfg := proxyconfig.Default("placeholder")
	if a.LogLevel != "" {
		cfg.LogLevel = a.LogLevel
	}
	cfg.CORSAllowOrigins = a.CORSOrigins
	cfg.InvokeTimeout = time.Duration(a.InvokeTimeoutSeconds) * time.Second
	if a.ServerlessEndpoint {
		cfg.MaxPayloadBytes = proxyconfig.ServerlessPayloadBytes
	}
	if a.Cache != nil {
		cfg.CacheEnabled = !a.Cache.Disabled
		if a.Cache.TTLSeconds != 0 {
			cfg.CacheTTL = time.Duration(a.Cache.TTLSeconds) * time.Second
		}
		if a.Cache.MaxEntries != 0 {
			cfg.CacheMaxEntries = a.Cache.MaxEntries
		}
		if a.Cache.MaxMB != 0 {
			cfg.CacheMaxBytes = int64(a.Cache.MaxMB) << 20
		}
	}
	if err := cfg.Validate(); err != nil {
		return fail("%w", err)
	}
	if cfg.CacheEnabled && cfg.CacheMaxBytes > int64(a.MemoryMB)<<20/2 {
		return fail("Cache.MaxMB %d: must be at most half of MemoryMB %d, leaving room for the runtime and requests",
			cfg.CacheMaxBytes>>20, a.MemoryMB)
	}
	return a, cfg, nil
}

// validRetention is the set of retention periods CloudWatch Logs accepts.
var validRetention = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true,
	120: true, 150: true, 180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true,
	2192: true, 2557: true, 2922: true, 3288: true, 3653: true}

// proxyArchive returns the given archive, a build from source when asked for, or the
// embedded handler.
func proxyArchive(a LambdaProxyArgs) (ProxyArchive, error) {
	switch {
	case a.ArchivePath != "":
		return archiveFromFile(a.ArchivePath)
	case a.HandlerPackage != "":
		return BuildProxyArchiveIn(a.BuildDir, a.HandlerPackage)
	default:
		return EmbeddedProxyArchive()
	}
}

// proxyPolicy is the execution role's policy: the one endpoint, the function's own log group,
// and X-Ray. PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so
// X-Ray is the one statement on "*".
func proxyPolicy(endpointArn, logGroupArn string) PolicyDocument {
	return NewPolicy(
		Allow("InvokeThisEndpoint", []string{"sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"}, endpointArn),
		Allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logGroupArn+":*"),
		Allow("WriteTraces", []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"),
	)
}
