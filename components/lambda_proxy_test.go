package components

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components/internal/proxybuild"
	"github.com/inferstack/inferstack/internal/pulumimock"
	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

const (
	lpFunctionType   = "aws:lambda/function:Function"
	lpLogGroupType   = "aws:cloudwatch/logGroup:LogGroup"
	lpRoleType       = "aws:iam/role:Role"
	lpRolePolicyType = "aws:iam/rolePolicy:RolePolicy"

	lpEndpointName = "churn-dev-endpoint"
	lpEndpointArn  = "arn:aws:sagemaker:" + pulumimock.Region + ":" + pulumimock.AccountID + ":endpoint/churn-dev-endpoint"
)

// lpPrebuilt writes a prebuilt archive with an executable bootstrap and returns its path, so
// that most tests need no Go build.
func lpPrebuilt(t *testing.T) string {
	t.Helper()
	z, err := zipBootstrap([]byte("#!/bin/sh\necho prebuilt\n"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "proxy.zip")
	require.NoError(t, os.WriteFile(path, z, 0o644))
	return path
}

func lpArgs(t *testing.T) *LambdaProxyArgs {
	return &LambdaProxyArgs{
		EndpointName: pulumi.String(lpEndpointName),
		EndpointARN:  pulumi.String(lpEndpointArn),
		ArchivePath:  lpPrebuilt(t),
		Tags:         StandardTags("ml-platform", "churn", "dev", "dev"),
	}
}

// lpRun creates one LambdaProxy under mocks and returns the mock and the component's outputs.
func lpRun(t *testing.T, args *LambdaProxyArgs) (*pulumimock.Mocks, map[string]string) {
	t.Helper()
	mocks := pulumimock.New()
	out := map[string]string{}
	var mu sync.Mutex // applies run on goroutines of their own
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		p, err := NewLambdaProxy(ctx, "churn-proxy", args)
		if err != nil {
			return err
		}
		for k, o := range map[string]pulumi.StringOutput{"functionName": p.FunctionName, "functionArn": p.FunctionARN,
			"invokeArn": p.InvokeARN, "logGroupName": p.LogGroupName, "roleArn": p.RoleARN} {
			o.ApplyT(func(v string) string { mu.Lock(); out[k] = v; mu.Unlock(); return v })
		}
		return nil
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)
	return mocks, out
}

func TestLambdaProxyFunctionShape(t *testing.T) {
	mocks, out := lpRun(t, lpArgs(t))
	fn := one(t, mocks, lpFunctionType)
	logs := one(t, mocks, lpLogGroupType)
	role := one(t, mocks, lpRoleType)

	assert.Equal(t, "provided.al2023", input(t, fn, "runtime"))
	assert.Equal(t, []any{"arm64"}, input(t, fn, "architectures"))
	assert.Equal(t, "bootstrap", input(t, fn, "handler"))
	assert.EqualValues(t, 256, input(t, fn, "memorySize"))
	assert.EqualValues(t, 30, input(t, fn, "timeout"))
	assert.EqualValues(t, -1, input(t, fn, "reservedConcurrentExecutions"))
	assert.Equal(t, "Active", input(t, fn, "tracingConfig.mode"))
	assert.Equal(t, role.State["arn"].StringValue(), input(t, fn, "role"))
	assert.Equal(t, logs.State["name"].StringValue(), input(t, fn, "loggingConfig.logGroup"),
		"the function logs to the group whose retention and policy we control")
	assert.EqualValues(t, DefaultProxyLogRetentionDays, input(t, logs, "retentionInDays"))
	assert.Equal(t, "/aws/lambda/inferstack/dev/churn-proxy", input(t, logs, "name"))

	env := input(t, fn, "environment.variables").(map[string]any)
	assert.Equal(t, lpEndpointName, env[proxyconfig.EnvEndpointName])
	assert.Equal(t, "true", env[proxyconfig.EnvCacheEnabled])
	assert.Equal(t, "300", env[proxyconfig.EnvCacheTTLSeconds])
	assert.Equal(t, "10000", env[proxyconfig.EnvCacheMaxEntries])
	assert.Equal(t, "67108864", env[proxyconfig.EnvCacheMaxBytes])

	for _, r := range []pulumimock.Resource{fn, logs, role} {
		assert.Equal(t, "ml-platform", input(t, r, "tags.team"), r.String())
		assert.Equal(t, r.Name, input(t, r, "tags.Name"), r.String())
		assert.NotEmpty(t, r.Parent, "%s is parented to the component", r)
	}

	assert.Equal(t, fn.State["name"].StringValue(), out["functionName"])
	assert.Equal(t, fn.State["arn"].StringValue(), out["functionArn"])
	assert.Contains(t, out["invokeArn"], ":lambda:path/2015-03-31/functions/"+out["functionArn"]+"/invocations")
	assert.Equal(t, logs.State["name"].StringValue(), out["logGroupName"])
}

func TestLambdaProxySettingsFromArgs(t *testing.T) {
	a := lpArgs(t)
	a.MemoryMB, a.TimeoutSeconds, a.ReservedConcurrency, a.LogRetentionDays = 512, 20, 50, 90
	a.DisableTracing = true
	a.Cache = &ProxyCacheArgs{TTLSeconds: 60, MaxEntries: 500, MaxMB: 32}
	a.LogLevel = "WARN"
	a.CORSOrigins = []string{"https://app.example.com"}
	mocks, _ := lpRun(t, a)
	fn := one(t, mocks, lpFunctionType)
	assert.EqualValues(t, 512, input(t, fn, "memorySize"))
	assert.EqualValues(t, 20, input(t, fn, "timeout"))
	assert.EqualValues(t, 50, input(t, fn, "reservedConcurrentExecutions"))
	assert.Equal(t, "PassThrough", input(t, fn, "tracingConfig.mode"))
	assert.EqualValues(t, 90, input(t, one(t, mocks, lpLogGroupType), "retentionInDays"))

	// What the handler will read back is exactly what was asked for.
	env := input(t, fn, "environment.variables").(map[string]any)
	got, err := proxyconfig.FromEnv(func(k string) string { s, _ := env[k].(string); return s })
	require.NoError(t, err)
	want := proxyconfig.Default(lpEndpointName)
	want.CacheTTL, want.CacheMaxEntries, want.CacheMaxBytes, want.LogLevel = 60e9, 500, 32<<20, "WARN"
	want.CORSAllowOrigins = []string{"https://app.example.com"}
	want.InvokeTimeout = 19e9 // one second under the 20 s function timeout
	assert.Equal(t, want, got)

	a = lpArgs(t)
	a.Cache = &ProxyCacheArgs{Disabled: true}
	mocks, _ = lpRun(t, a)
	env = input(t, one(t, mocks, lpFunctionType), "environment.variables").(map[string]any)
	assert.Equal(t, "false", env[proxyconfig.EnvCacheEnabled])
}

// TestLambdaProxyRolePolicy checks the policy the way IAM would read it: SageMaker on this
// endpoint's ARN alone, logs on the function's own log group, X-Ray the only "*".
func TestLambdaProxyRolePolicy(t *testing.T) {
	mocks, _ := lpRun(t, lpArgs(t))
	logs := one(t, mocks, lpLogGroupType)
	role := one(t, mocks, lpRoleType)
	rp := one(t, mocks, lpRolePolicyType)
	assert.Equal(t, role.ID, input(t, rp, "role"))

	var trust PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(input(t, role, "assumeRolePolicy").(string)), &trust))
	require.Len(t, trust.Statement, 1)
	assert.Equal(t, map[string]any{"Service": "lambda.amazonaws.com"}, trust.Statement[0].Principal)

	var doc PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(input(t, rp, "policy").(string)), &doc))
	byAction := map[string][]string{}
	for _, st := range doc.Statement {
		assert.Equal(t, "Allow", st.Effect)
		for _, a := range st.Action {
			assert.NotContains(t, a, "*", "no wildcard actions")
			byAction[a] = append(byAction[a], st.Resource...)
		}
	}
	logArn := logs.State["arn"].StringValue()
	assert.Equal(t, map[string][]string{
		"sagemaker:InvokeEndpoint":   {lpEndpointArn},
		"sagemaker:DescribeEndpoint": {lpEndpointArn},
		"logs:CreateLogStream":       {logArn + ":*"},
		"logs:PutLogEvents":          {logArn + ":*"},
		"xray:PutTraceSegments":      {"*"},
		"xray:PutTelemetryRecords":   {"*"},
	}, byAction)
}

// TestLambdaProxyInvokeTimeout: by default the endpoint call ends before API Gateway's 29 s
// integration timeout and before the function's own timeout, so the caller gets the proxy's 504.
func TestLambdaProxyInvokeTimeout(t *testing.T) {
	tests := []struct {
		name            string
		timeout, invoke int
		want            string
	}{
		{"default function timeout", 0, 0, "28"},
		{"long function timeout", 300, 0, "28"},
		{"short function timeout", 10, 0, "9"},
		{"one second function", 1, 0, "1"},
		{"explicit", 60, 45, "45"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := lpArgs(t)
			a.TimeoutSeconds, a.InvokeTimeoutSeconds = tc.timeout, tc.invoke
			mocks, _ := lpRun(t, a)
			env := input(t, one(t, mocks, lpFunctionType), "environment.variables").(map[string]any)
			assert.Equal(t, tc.want, env[proxyconfig.EnvInvokeTimeoutSeconds])
		})
	}
}

func TestLambdaProxyRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		modify func(a *LambdaProxyArgs)
		want   string
	}{
		{"no endpoint name", func(a *LambdaProxyArgs) { a.EndpointName = nil }, "EndpointName is required"},
		{"no endpoint arn", func(a *LambdaProxyArgs) { a.EndpointARN = nil }, "EndpointARN is required"},
		{"memory", func(a *LambdaProxyArgs) { a.MemoryMB = 64 }, "MemoryMB 64: must be from 128 to 10240"},
		{"timeout", func(a *LambdaProxyArgs) { a.TimeoutSeconds = 901 }, "TimeoutSeconds 901"},
		{"retention", func(a *LambdaProxyArgs) { a.LogRetentionDays = 10 }, "LogRetentionDays 10: must be one of"},
		{"concurrency", func(a *LambdaProxyArgs) { a.ReservedConcurrency = -5 }, "ReservedConcurrency -5"},
		{"cache ttl", func(a *LambdaProxyArgs) { a.Cache = &ProxyCacheArgs{TTLSeconds: 100000} }, "CACHE_TTL_SECONDS"},
		{"cache larger than memory allows", func(a *LambdaProxyArgs) { a.Cache = &ProxyCacheArgs{MaxMB: 200} }, "Cache.MaxMB 200"},
		{"log level", func(a *LambdaProxyArgs) { a.LogLevel = "LOUD" }, "LOG_LEVEL"},
		{"invoke timeout", func(a *LambdaProxyArgs) { a.InvokeTimeoutSeconds = 901 }, `INVOKE_TIMEOUT_SECONDS "901"`},
		{"cors origin", func(a *LambdaProxyArgs) { a.CORSOrigins = []string{"https://app.example.com/"} }, "CORS_ALLOW_ORIGINS"},
		{"missing archive", func(a *LambdaProxyArgs) { a.ArchivePath = "/nonexistent/proxy.zip" }, "ArchivePath"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := lpArgs(t)
			tc.modify(a)
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewLambdaProxy(ctx, "churn-proxy", a)
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLambdaProxyArchiveMustHoldExecutableBootstrap(t *testing.T) {
	write := func(t *testing.T, name string, mode os.FileMode) string {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write([]byte("binary"))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		p := filepath.Join(t.TempDir(), "a.zip")
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
		return p
	}
	_, err := archiveFromFile(write(t, "bootstrap", 0o644))
	assert.ErrorContains(t, err, "not executable")
	_, err = archiveFromFile(write(t, "bin/bootstrap", 0o755))
	assert.ErrorContains(t, err, "no bootstrap at the top")
	a, err := archiveFromFile(write(t, "bootstrap", 0o755))
	require.NoError(t, err)
	assert.Len(t, a.SHA256, 44)
}

// TestLambdaProxyEmbeddedArchiveIsFresh builds the real handler afresh, with the toolchain the
// embedded archive names, and compares bytes: a change to lambda/proxy (or its dependencies)
// without `go generate ./components` fails here. Equal bytes also show the build is
// reproducible (the embedded archive was built at another time, in another directory). Inside
// must be an executable static arm64 `bootstrap`.
func TestLambdaProxyEmbeddedArchiveIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda handler for linux/arm64")
	}
	toolchain := embeddedProxyToolchain()
	require.Regexp(t, `^go1\.\d+(\.\d+)?$`, toolchain, "proxyzip/go-version")
	fresh, err := proxybuild.Zip("", ProxyHandlerPackage, toolchain)
	require.NoError(t, err)
	require.True(t, bytes.Equal(fresh, embeddedProxyZip),
		"components/proxyzip/bootstrap-arm64.zip is stale (%d bytes; a fresh %s build has %d): run `go generate ./components`",
		len(embeddedProxyZip), toolchain, len(fresh))

	zr, err := zip.NewReader(bytes.NewReader(embeddedProxyZip), int64(len(embeddedProxyZip)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm(), "the executable bit survives packaging")
	assert.True(t, f.Mode().IsRegular())
	assert.True(t, f.Modified.Equal(zipEpoch), "fixed timestamp, got %v", f.Modified)
	rc, err := f.Open()
	require.NoError(t, err)
	bin, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	ef, err := elf.NewFile(bytes.NewReader(bin))
	require.NoError(t, err)
	assert.Equal(t, elf.EM_AARCH64, ef.Machine)
	for _, p := range ef.Progs {
		assert.NotEqual(t, elf.PT_INTERP, p.Type, "static: no dynamic loader, so no libc to match on Lambda")
	}
	assert.Nil(t, ef.Section(".symtab"), "stripped (-s): the archive ships inside the package")
}

// TestLambdaProxyDefaultNeedsNoGoToolchain: given no archive and no package to build, the
// component deploys the embedded handler, with the hash of its bytes, even with no `go` on PATH
// (a TypeScript user's machine).
func TestLambdaProxyDefaultNeedsNoGoToolchain(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	a := lpArgs(t)
	a.ArchivePath = ""
	mocks, _ := lpRun(t, a)
	fn := one(t, mocks, lpFunctionType)
	sum := sha256.Sum256(embeddedProxyZip)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), input(t, fn, "sourceCodeHash"))
	stored, err := os.ReadFile(fn.Inputs["code"].ArchiveValue().Path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(embeddedProxyZip, stored), "the archive the function points at is the embedded one")
}

// TestLambdaProxyBuildsFromSourceWhenAsked: HandlerPackage is built, not replaced by the
// embedded handler (a package that does not exist fails the build, naming it).
func TestLambdaProxyBuildsFromSourceWhenAsked(t *testing.T) {
	_, err := proxyArchive(LambdaProxyArgs{HandlerPackage: "example.com/no/such/handler"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "build Lambda proxy example.com/no/such/handler")
}

func TestBuildEnvFixesTheTarget(t *testing.T) {
	env := buildEnv([]string{"HOME=/root", "GOARCH=amd64", "CGO_ENABLED=1", "GOFLAGS=-race", "GOOS=darwin"})
	assert.Equal(t, []string{"HOME=/root", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOARM64=v8.0"}, env)
}
