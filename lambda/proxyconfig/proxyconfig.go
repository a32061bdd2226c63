// Package proxyconfig is the contract between the LambdaProxy component, which sets the function's
// environment, and the handler, which reads it at cold start. Both sides use this one package, so a
// renamed variable or a changed default cannot drift between them. It imports only the standard
// library, so the Pulumi components can use it without compiling the AWS SDK.
package proxyconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/inferstack/inferstack/internal/contract"
)

// Environment variables the handler reads.
const (
	EnvEndpointName     = "ENDPOINT_NAME"
	EnvCacheEnabled     = "CACHE_ENABLED"
	EnvCacheTTLSeconds  = "CACHE_TTL_SECONDS"
	EnvCacheMaxEntries  = "CACHE_MAX_ENTRIES"
	EnvCacheMaxBytes    = "CACHE_MAX_BYTES"
	EnvStatusTTLSeconds = "STATUS_TTL_SECONDS"
	// EnvInvokeTimeoutSeconds bounds each InvokeEndpoint call; the Lambda deadline minus a margin
	// bounds it too, whichever is sooner.
	EnvInvokeTimeoutSeconds = "INVOKE_TIMEOUT_SECONDS"
	EnvLogLevel             = "LOG_LEVEL"
	// EnvCORSAllowOrigins is a comma-separated list of browser origins, or "*"; empty turns CORS off.
	EnvCORSAllowOrigins = "CORS_ALLOW_ORIGINS"
	// EnvMaxPayloadBytes is the endpoint's payload limit: RealTimePayloadBytes or
	// ServerlessPayloadBytes, set by the component from the endpoint type.
	EnvMaxPayloadBytes = "MAX_PAYLOAD_BYTES"
	// EnvEndpointConfigName is the endpoint configuration the stack deployed; it is part of every
	// cache key, so a rollout starts the cache afresh.
	EnvEndpointConfigName = "ENDPOINT_CONFIG_NAME"
	// EnvModelCheckSeconds is how often the handler asks DescribeEndpoint which configuration
	// serves, so that a rollback or an out-of-band update flushes the cache.
	EnvModelCheckSeconds = "MODEL_CHECK_SECONDS"
)

// Payload limits of SageMaker InvokeEndpoint, for the request and for the response.
const (
	// RealTimePayloadBytes is the real-time limit: InvokeEndpoint's Body is at most 6291456 bytes
	// (BodyBlob's length trait in the SageMaker Runtime model, aws/aws-sdk-go-v2@b7f8dda
	// codegen/sdk-codegen/aws-models/sagemaker-runtime.json).
	RealTimePayloadBytes = 6 << 20
	// ServerlessPayloadBytes is the serverless limit: "The maximum request and response payload size
	// for serverless invocations is 4 MB"
	// (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-invoke.html).
	ServerlessPayloadBytes = 4 << 20
)

// Defaults, matching the `proxy.cache` defaults of the stack config.
const (
	DefaultCacheTTL        = contract.DefaultCacheTTLSeconds * time.Second
	DefaultCacheMaxEntries = contract.DefaultCacheMaxEntries
	DefaultCacheMaxBytes   = contract.DefaultCacheMaxMB << 20
	// DefaultStatusTTL is how long GET /ping remembers the endpoint status: long enough that a
	// health checker polling every second costs one DescribeEndpoint per few seconds, short enough
	// that a failed endpoint shows within one check interval.
	DefaultStatusTTL = 5 * time.Second
	// DefaultInvokeTimeout stays under API Gateway's 29 s integration timeout, so that a slow
	// endpoint gets the proxy's 504 with a request ID rather than API Gateway's bare one.
	DefaultInvokeTimeout = 28 * time.Second
	DefaultLogLevel      = "INFO"
	// DefaultModelCheck is how stale the cache may be after a rollback: each execution
	// environment calls DescribeEndpoint at most this often (GET /ping shares the call).
	DefaultModelCheck = 30 * time.Second
)

// Limits the values are checked against.
const (
	MaxCacheTTL        = 24 * time.Hour
	MaxCacheMaxEntries = 1_000_000
	// MaxCacheMaxBytes is the largest cache allowed: Lambda's largest memory size is 10240 MB and
	// the cache must leave room for the runtime and one request in flight.
	MaxCacheMaxBytes = 8 << 30
	MaxStatusTTL     = 5 * time.Minute
	// MaxInvokeTimeout is Lambda's longest function timeout.
	MaxInvokeTimeout = 900 * time.Second
	// MaxModelCheck bounds how long a rolled-back model's answers can be served.
	MaxModelCheck = time.Hour
)

// endpointNamePattern is SageMaker's endpoint name rule (CreateEndpoint EndpointName).
var endpointNamePattern = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)

// Config is the handler's configuration.
type Config struct {
	// EndpointName is the SageMaker endpoint every request goes to (required).
	EndpointName string
	// CacheEnabled turns the response cache on; when false no cache exists on the request path.
	CacheEnabled bool
	// CacheTTL is how long a cached response is served (1 s .. 24 h).
	CacheTTL time.Duration
	// CacheMaxEntries bounds the number of cached responses (1 .. 1,000,000).
	CacheMaxEntries int
	// CacheMaxBytes bounds the cached bytes, keys and bodies included (1 KiB .. 8 GiB).
	CacheMaxBytes int64
	// StatusTTL is how long GET /ping remembers the endpoint status (0 .. 5 min).
	StatusTTL time.Duration
	// InvokeTimeout bounds each InvokeEndpoint call (1 s .. 900 s); the Lambda deadline minus a
	// margin bounds it too. Keep it below the API's integration timeout.
	InvokeTimeout time.Duration
	// LogLevel is DEBUG, INFO, WARN or ERROR.
	LogLevel string
	// CORSAllowOrigins are the browser origins (scheme://host[:port]) answered with
	// Access-Control-Allow-Origin, or just "*"; nil answers none. API Gateway answers the
	// preflight; the proxy's own answers must carry the header too, or browsers drop them.
	CORSAllowOrigins []string
	// MaxPayloadBytes is the endpoint's payload limit (1 KiB .. RealTimePayloadBytes): a larger
	// request body gets 413, a larger answer 502.
	MaxPayloadBytes int
	// EndpointConfigName (optional) is the deployed endpoint configuration; it is part of the
	// cache key.
	EndpointConfigName string
	// ModelCheck is how often the serving configuration is read with DescribeEndpoint (1 s .. 1 h).
	ModelCheck time.Duration
}

// originPattern is a browser origin as the Origin header sends it: scheme, host, optional port.
var originPattern = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$`)

// AllowsOrigin reports whether a request from origin may read the answer; it returns the value of
// Access-Control-Allow-Origin to send ("" for none).
func (c Config) AllowsOrigin(origin string) string {
	for _, o := range c.CORSAllowOrigins {
		if o == "*" {
			return "*"
		}
		if origin != "" && o == origin {
			return origin
		}
	}
	return ""
}

// Default returns the configuration for an endpoint with every other value at its default.
func Default(endpointName string) Config {
	return Config{
		EndpointName:    endpointName,
		CacheEnabled:    true,
		CacheTTL:        DefaultCacheTTL,
		CacheMaxEntries: DefaultCacheMaxEntries,
		CacheMaxBytes:   DefaultCacheMaxBytes,
		StatusTTL:       DefaultStatusTTL,
		InvokeTimeout:   DefaultInvokeTimeout,
		LogLevel:        DefaultLogLevel,
		MaxPayloadBytes: RealTimePayloadBytes,
		ModelCheck:      DefaultModelCheck,
	}
}

// Validate reports every invalid value at once, each naming its variable, the value and what is
// allowed.
func (c Config) Validate() error {
	var errs []error
	bad := func(env string, value any, allowed string) {
		errs = append(errs, fmt.Errorf("%s %q: %s", env, fmt.Sprint(value), allowed))
	}
	if c.EndpointName == "" {
		errs = append(errs, fmt.Errorf("%s is required: the name of the SageMaker endpoint to invoke", EnvEndpointName))
	} else if !endpointNamePattern.MatchString(c.EndpointName) {
		bad(EnvEndpointName, c.EndpointName, "must be a SageMaker endpoint name: 1-63 letters, digits and inner hyphens")
	}
	if c.CacheEnabled {
		if c.CacheTTL < time.Second || c.CacheTTL > MaxCacheTTL {
			bad(EnvCacheTTLSeconds, c.CacheTTL.Seconds(), "must be a whole number of seconds from 1 to 86400")
		}
		if c.CacheMaxEntries < 1 || c.CacheMaxEntries > MaxCacheMaxEntries {
			bad(EnvCacheMaxEntries, c.CacheMaxEntries, "must be from 1 to 1000000")
		}
		if c.CacheMaxBytes < 1<<10 || c.CacheMaxBytes > MaxCacheMaxBytes {
			bad(EnvCacheMaxBytes, c.CacheMaxBytes, "must be from 1024 to 8589934592 bytes")
		}
	}
	if c.StatusTTL < 0 || c.StatusTTL > MaxStatusTTL {
		bad(EnvStatusTTLSeconds, c.StatusTTL.Seconds(), "must be from 0 to 300 seconds")
	}
	if c.InvokeTimeout < time.Second || c.InvokeTimeout > MaxInvokeTimeout || c.InvokeTimeout%time.Second != 0 {
		bad(EnvInvokeTimeoutSeconds, c.InvokeTimeout.Seconds(), "must be a whole number of seconds from 1 to 900")
	}
	if c.MaxPayloadBytes < 1<<10 || c.MaxPayloadBytes > RealTimePayloadBytes {
		bad(EnvMaxPayloadBytes, c.MaxPayloadBytes, fmt.Sprintf("must be from 1024 to %d bytes (%d for a serverless endpoint)",
			RealTimePayloadBytes, ServerlessPayloadBytes))
	}
	if c.EndpointConfigName != "" && !endpointNamePattern.MatchString(c.EndpointConfigName) {
		bad(EnvEndpointConfigName, c.EndpointConfigName, "must be a SageMaker endpoint configuration name: 1-63 letters, digits and inner hyphens")
	}
	if c.ModelCheck < time.Second || c.ModelCheck > MaxModelCheck || c.ModelCheck%time.Second != 0 {
		bad(EnvModelCheckSeconds, c.ModelCheck.Seconds(), "must be a whole number of seconds from 1 to 3600")
	}
	switch c.LogLevel {
	case "DEBUG", "INFO", "WARN", "ERROR":
	default:
		bad(EnvLogLevel, c.LogLevel, "must be DEBUG, INFO, WARN or ERROR")
	}
	for _, o := range c.CORSAllowOrigins {
		if o == "*" && len(c.CORSAllowOrigins) > 1 {
			bad(EnvCORSAllowOrigins, strings.Join(c.CORSAllowOrigins, ","), `"*" must be the only origin`)
			break
		}
		if o != "*" && !originPattern.MatchString(o) {
			bad(EnvCORSAllowOrigins, o, "each origin must be scheme://host[:port] (no path, no trailing slash), or *")
		}
	}
	return errors.Join(errs...)
}

// Environ returns the environment variables that make FromEnv return c. The component sets them
// on the function.
func (c Config) Environ() map[string]string {
	return map[string]string{
		EnvEndpointName:         c.EndpointName,
		EnvCacheEnabled:         strconv.FormatBool(c.CacheEnabled),
		EnvCacheTTLSeconds:      strconv.FormatInt(int64(c.CacheTTL/time.Second), 10),
		EnvCacheMaxEntries:      strconv.Itoa(c.CacheMaxEntries),
		EnvCacheMaxBytes:        strconv.FormatInt(c.CacheMaxBytes, 10),
		EnvStatusTTLSeconds:     strconv.FormatInt(int64(c.StatusTTL/time.Second), 10),
		EnvInvokeTimeoutSeconds: strconv.FormatInt(int64(c.InvokeTimeout/time.Second), 10),
		EnvLogLevel:             c.LogLevel,
		EnvCORSAllowOrigins:     strings.Join(c.CORSAllowOrigins, ","),
		EnvMaxPayloadBytes:      strconv.Itoa(c.MaxPayloadBytes),
		EnvEndpointConfigName:   c.EndpointConfigName,
		EnvModelCheckSeconds:    strconv.FormatInt(int64(c.ModelCheck/time.Second), 10),
	}
}

// FromEnv reads the configuration, applying defaults to unset variables, and reports every
// unparsable or invalid value at once, so that a misconfigured function fails its cold start
// with one message that says what to fix.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Default(strings.TrimSpace(getenv(EnvEndpointName)))
	var errs []error
	parse := func(env string, set func(string) error) {
		v := strings.TrimSpace(getenv(env))
		if v == "" {
			return
		}
		if err := set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", env, v, err))
		}
	}
	parse(EnvCacheEnabled, func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		c.CacheEnabled = b
		return nil
	})
	seconds := func(dst *time.Duration) func(string) error {
		return func(v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			// Range checks are Validate's; this bound only keeps the Duration from overflowing.
			if err != nil || n < 0 || n > 1<<31 {
				return errors.New("must be a whole number of seconds")
			}
			*dst = time.Duration(n) * time.Second
			return nil
		}
	}
	parse(EnvCacheTTLSeconds, seconds(&c.CacheTTL))
	parse(EnvStatusTTLSeconds, seconds(&c.StatusTTL))
	parse(EnvInvokeTimeoutSeconds, seconds(&c.InvokeTimeout))
	parse(EnvModelCheckSeconds, seconds(&c.ModelCheck))
	parse(EnvMaxPayloadBytes, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("must be a whole number of bytes")
		}
		c.MaxPayloadBytes = n
		return nil
	})
	c.EndpointConfigName = strings.TrimSpace(getenv(EnvEndpointConfigName))
	parse(EnvCacheMaxEntries, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("must be a whole number")
		}
		c.CacheMaxEntries = n
		return nil
	})
	parse(EnvCacheMaxBytes, func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("must be a whole number of bytes")
		}
		c.CacheMaxBytes = n
		return nil
	})
	parse(EnvLogLevel, func(v string) error {
		c.LogLevel = strings.ToUpper(v)
		return nil
	})
	parse(EnvCORSAllowOrigins, func(v string) error {
		for _, o := range strings.Split(v, ",") {
			c.CORSAllowOrigins = append(c.CORSAllowOrigins, strings.TrimSpace(o))
		}
		return nil
	})
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("invalid proxy configuration:\n%w", err)
	}
	return c, nil
}
