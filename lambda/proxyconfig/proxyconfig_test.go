package proxyconfig_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	c, err := proxyconfig.FromEnv(getenv(map[string]string{"ENDPOINT_NAME": "churn-prod"}))
	require.NoError(t, err)
	assert.Equal(t, proxyconfig.Config{
		EndpointName: "churn-prod", CacheEnabled: true, CacheTTL: 300 * time.Second, CacheMaxEntries: 10000,
		CacheMaxBytes: 64 << 20, StatusTTL: 5 * time.Second, InvokeTimeout: 28 * time.Second, LogLevel: "INFO",
		// SageMaker's real-time payload limit, 6 MiB (sagemaker-runtime service model, BodyBlob max 6291456).
		MaxPayloadBytes: 6291456, ModelCheck: 30 * time.Second,
	}, c)
}

func TestEnvironRoundTrips(t *testing.T) {
	tests := []proxyconfig.Config{
		proxyconfig.Default("a"),
		{EndpointName: "churn-dev-endpoint-1", CacheEnabled: false, CacheTTL: time.Second, CacheMaxEntries: 1,
			CacheMaxBytes: 1 << 10, StatusTTL: 0, InvokeTimeout: time.Second, LogLevel: "DEBUG",
			MaxPayloadBytes: 4 << 20, EndpointConfigName: "churn-dev-config-1a2b", ModelCheck: time.Second},
		{EndpointName: "x", CacheEnabled: true, CacheTTL: 24 * time.Hour, CacheMaxEntries: 1_000_000,
			CacheMaxBytes: 8 << 30, StatusTTL: 5 * time.Minute, InvokeTimeout: 900 * time.Second, LogLevel: "ERROR",
			CORSAllowOrigins: []string{"https://app.example.com", "http://localhost:3000"},
			MaxPayloadBytes:  6 << 20, ModelCheck: time.Hour},
	}
	for _, want := range tests {
		t.Run(want.EndpointName, func(t *testing.T) {
			env := want.Environ()
			for k := range env {
				assert.True(t, strings.HasPrefix(k, "CACHE_") || k == "ENDPOINT_NAME" || k == "STATUS_TTL_SECONDS" ||
					k == "LOG_LEVEL" || k == "CORS_ALLOW_ORIGINS" || k == "INVOKE_TIMEOUT_SECONDS" ||
					k == "MAX_PAYLOAD_BYTES" || k == "ENDPOINT_CONFIG_NAME" || k == "MODEL_CHECK_SECONDS", k)
			}
			got, err := proxyconfig.FromEnv(getenv(env))
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestFromEnvReportsEveryProblem(t *testing.T) {
	_, err := proxyconfig.FromEnv(getenv(map[string]string{
		"ENDPOINT_NAME":          "bad_name!",
		"CACHE_ENABLED":          "yes please",
		"CACHE_TTL_SECONDS":      "0",
		"CACHE_MAX_ENTRIES":      "many",
		"CACHE_MAX_BYTES":        "12",
		"STATUS_TTL_SECONDS":     "-1",
		"LOG_LEVEL":              "chatty",
		"INVOKE_TIMEOUT_SECONDS": "soon",
		"MAX_PAYLOAD_BYTES":      "7000000",
		"ENDPOINT_CONFIG_NAME":   "config_1",
		"MODEL_CHECK_SECONDS":    "0",
	}))
	require.Error(t, err)
	for _, want := range []string{
		`ENDPOINT_NAME "bad_name!": must be a SageMaker endpoint name`,
		`CACHE_ENABLED "yes please": must be true or false`,
		`CACHE_TTL_SECONDS "0": must be a whole number of seconds from 1 to 86400`,
		`CACHE_MAX_ENTRIES "many": must be a whole number`,
		`CACHE_MAX_BYTES "12": must be from 1024`,
		`STATUS_TTL_SECONDS "-1": must be a whole number of seconds`,
		`LOG_LEVEL "CHATTY": must be DEBUG, INFO, WARN or ERROR`,
		`INVOKE_TIMEOUT_SECONDS "soon": must be a whole number of seconds`,
		`MAX_PAYLOAD_BYTES "7000000": must be from 1024 to 6291456 bytes (4194304 for a serverless endpoint)`,
		`ENDPOINT_CONFIG_NAME "config_1": must be a SageMaker endpoint configuration name`,
		`MODEL_CHECK_SECONDS "0": must be a whole number of seconds from 1 to 3600`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestFromEnvNamesTheRangeOfAnOutOfRangeNumber(t *testing.T) {
	_, err := proxyconfig.FromEnv(getenv(map[string]string{"ENDPOINT_NAME": "e", "CACHE_TTL_SECONDS": "90000", "STATUS_TTL_SECONDS": "301"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `CACHE_TTL_SECONDS "90000": must be a whole number of seconds from 1 to 86400`)
	assert.Contains(t, err.Error(), `STATUS_TTL_SECONDS "301": must be from 0 to 300 seconds`)
}

func TestFromEnvRequiresEndpoint(t *testing.T) {
	_, err := proxyconfig.FromEnv(getenv(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ENDPOINT_NAME is required")
}

func TestCacheLimitsIgnoredWhenCacheIsOff(t *testing.T) {
	c, err := proxyconfig.FromEnv(getenv(map[string]string{"ENDPOINT_NAME": "e", "CACHE_ENABLED": "false", "CACHE_MAX_ENTRIES": "0"}))
	require.NoError(t, err)
	assert.False(t, c.CacheEnabled)
}

func TestCORSOrigins(t *testing.T) {
	tests := []struct {
		name    string
		origins string
		wantErr string
		origin  string
		allow   string
	}{
		{"listed origin", "https://app.example.com, http://localhost:3000", "", "http://localhost:3000", "http://localhost:3000"},
		{"unlisted origin", "https://app.example.com", "", "https://evil.example.com", ""},
		{"no Origin header", "https://app.example.com", "", "", ""},
		{"wildcard", "*", "", "https://any.example.com", "*"},
		{"off", "", "", "https://app.example.com", ""},
		{"trailing slash", "https://app.example.com/", "each origin must be scheme://host[:port]", "", ""},
		{"wildcard with others", "*,https://app.example.com", `"*" must be the only origin`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := proxyconfig.FromEnv(getenv(map[string]string{"ENDPOINT_NAME": "e", "CORS_ALLOW_ORIGINS": tc.origins}))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				assert.ErrorContains(t, err, "CORS_ALLOW_ORIGINS")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.allow, c.AllowsOrigin(tc.origin))
		})
	}
}

func TestInvokeTimeoutRange(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", 28 * time.Second, false},
		{"1", time.Second, false},
		{"900", 900 * time.Second, false},
		{"0", 0, true},
		{"901", 0, true},
		{"-5", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			c, err := proxyconfig.FromEnv(getenv(map[string]string{"ENDPOINT_NAME": "e", "INVOKE_TIMEOUT_SECONDS": tc.value}))
			if tc.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), `INVOKE_TIMEOUT_SECONDS "`+tc.value+`"`)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.InvokeTimeout)
		})
	}
}
