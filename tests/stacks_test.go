// Package tests holds the whole-program tests: the Pulumi program that `pulumi up` runs, run under
// the recording mock once per committed Pulumi.<stack>.yaml, read from the real file.
package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/internal/fakeapigateway"
	"github.com/inferstack/inferstack/internal/pulumimock"
	"github.com/inferstack/inferstack/program"
	"github.com/inferstack/inferstack/stackconfig"
	"github.com/inferstack/inferstack/tests/invariants"
)

// repoRoot is where Pulumi.yaml lives; the program runs there, as `pulumi up` runs it.
const repoRoot = ".."

// repoRootAbs is repoRoot from the directory the tests start in, so that a test that already
// changed directory can run the program again.
var repoRootAbs = func() string {
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		panic(err)
	}
	return abs
}()

// stackFiles returns the committed stack files by stack name.
func stackFiles(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "Pulumi.*.yaml"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, p := range paths {
		stack := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "Pulumi."), ".yaml")
		out[stack] = p
	}
	return out
}

// readStackConfig is readStackConfigAsCommitted with every placeholder replaced, as a user does
// before the first deploy: the example stack files name buckets and a domain prefix that only
// their owner can have (stackconfig.PlaceholderMarker), which the program refuses as they are.
func readStackConfig(t *testing.T, path string) map[string]string {
	t.Helper()
	values := readStackConfigAsCommitted(t, path)
	for k, v := range values {
		values[k] = strings.ReplaceAll(v, stackconfig.PlaceholderMarker, "acme")
	}
	return values
}

// readStackConfigAsCommitted turns a stack file's `config:` into the map the Pulumi CLI hands a
// program in PULUMI_CONFIG: fully qualified keys, strings as they are, everything else as JSON.
func readStackConfigAsCommitted(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(b, &file), path)
	out := map[string]string{}
	for k, v := range file.Config {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			// Ciphertext only the CLI can decrypt; the program sees the plaintext.
			out[k] = "decrypted-secret"
			continue
		}
		j, err := json.Marshal(v)
		require.NoError(t, err, "%s: %s", path, k)
		out[k] = string(j)
	}
	return out
}

// runResult is one run of the whole program.
type runResult struct {
	mocks   *pulumimock.Mocks
	outputs map[string]any
	// secret records which stack outputs are secret, as `pulumi stack output` would show them.
	secret map[string]bool
}

// testAccountLogsRole is the API Gateway CloudWatch Logs role of the account that runProgram's
// fake answers for.
const testAccountLogsRole = "arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs"

// runProgram runs program.RunWith, the function main.go runs, with the stack's config passed the
// way the SDK receives it (PULUMI_CONFIG) and the recording mock.
func runProgram(t *testing.T, stack string, config map[string]string) (runResult, error) {
	t.Helper()
	return runProgramIn(t, stack, config, fakeapigateway.Start(t, fakeapigateway.Account{CloudwatchRoleArn: testAccountLogsRole}))
}

// runProgramWith is runProgram with a given mock, for tests that hook its OnNewResource.
func runProgramWith(t *testing.T, stack string, config map[string]string, mocks *pulumimock.Mocks) (runResult, error) {
	t.Helper()
	account := fakeapigateway.Start(t, fakeapigateway.Account{CloudwatchRoleArn: testAccountLogsRole})
	return runProgramAtWith(t, repoRootAbs, stack, config, account, mocks)
}

// runProgramIn is runProgram in the account that the API Gateway fake answers for.
func runProgramIn(t *testing.T, stack string, config map[string]string, account *fakeapigateway.Server) (runResult, error) {
	t.Helper()
	return runProgramAt(t, repoRootAbs, stack, config, account)
}

// runProgramAt is runProgramIn in another project directory, e.g. a copy of the repository.
func runProgramAt(t *testing.T, projectDir, stack string, config map[string]string, account *fakeapigateway.Server) (runResult, error) {
	t.Helper()
	return runProgramAtWith(t, projectDir, stack, config, account, pulumimock.New())
}

// runProgramAtWith is runProgramAt with a given mock.
func runProgramAtWith(t *testing.T, projectDir, stack string, config map[string]string, account *fakeapigateway.Server,
	mocks *pulumimock.Mocks) (runResult, error) {
	t.Helper()
	t.Chdir(projectDir)
	j, err := json.Marshal(config)
	require.NoError(t, err)
	t.Setenv(pulumi.EnvConfig, string(j))
	// The program asks API Gateway whether the account has its CloudWatch Logs role before it
	// creates anything; the fake answers for the account.
	account.UseFor(t)

	exported := map[string]pulumi.Input{}
	var mu sync.Mutex
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		return program.RunWith(ctx, func(name string, v pulumi.Input) {
			mu.Lock()
			defer mu.Unlock()
			exported[name] = v
		})
	}, pulumi.WithMocks("inferstack", stack, mocks))
	if err != nil {
		// The mock still tells what was created before the error.
		return runResult{mocks: mocks}, err
	}
	// Every resource is registered by now, so the outputs are resolved; the deadline only turns
	// a wiring bug into a failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	outputs, secret := map[string]any{}, map[string]bool{}
	for name, v := range exported {
		res, err := internals.UnsafeAwaitOutput(ctx, pulumi.ToOutput(v))
		require.NoError(t, err, name)
		require.True(t, res.Known, "output %s is unknown", name)
		outputs[name] = res.Value
		secret[name] = res.Secret
	}
	return runResult{mocks: mocks, outputs: outputs, secret: secret}, nil
}

// Short names for the mock's test helpers, used throughout this package.
var (
	input = pulumimock.MustInput
	one   = pulumimock.MustOne
)

func TestCommittedStacksIncludeDevAndProd(t *testing.T) {
	files := stackFiles(t)
	assert.Contains(t, files, "dev")
	assert.Contains(t, files, "prod")
}

// TestEveryStackFile runs the whole program for each committed stack file and checks what the
// stack's config promises: which resources, how many, their key inputs, the stack outputs and the
// security invariants.
func TestEveryStackFile(t *testing.T) {
	for stack, path := range stackFiles(t) {
		t.Run(stack, func(t *testing.T) {
			values := readStackConfig(t, path)
			cfg, err := stackconfig.ParseMap(stack, values)
			require.NoError(t, err, "%s must be valid, with no unknown keys", path)
			assert.Empty(t, invariantsOf(invariants.CheckConfigFile(path)))

			run, err := runProgram(t, stack, values)
			require.NoError(t, err)
			m := run.mocks
			inv := m.Inventory()

			// One deployment of each core part; every resource is inside the deployment.
			for _, typ := range []string{"inferstack:components:ModelDeployment", "inferstack:components:ModelImage",
				"inferstack:components:SageMakerEndpoint", "aws:ecr/repository:Repository", "docker:index/image:Image",
				"aws:sagemaker/model:Model", "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
				"aws:sagemaker/endpoint:Endpoint"} {
				assert.Equal(t, 1, inv[typ], "%s: want one %s", stack, typ)
			}
			for _, r := range m.Resources() {
				if r.Type != "inferstack:components:ModelDeployment" {
					assert.NotEmpty(t, r.Parent, "%s has no parent", r)
				}
			}

			// The image is built for the endpoint's platform and pinned by digest.
			img := one(t, m, "docker:index/image:Image")
			assert.Equal(t, components.PlatformFor(cfg.Endpoint.InstanceType, cfg.Endpoint.IsServerless()), input(t, img, "build.platform"))
			repo := one(t, m, "aws:ecr/repository:Repository")
			assert.Equal(t, !cfg.IsProd(), input(t, repo, "forceDelete"), "prod keeps its images")
			model := one(t, m, "aws:sagemaker/model:Model")
			assert.Equal(t, run.outputs[program.OutImageURI], input(t, model, "primaryContainer.image"))
			assert.Regexp(t, `^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/.+@sha256:[0-9a-f]{64}$`, run.outputs[program.OutImageURI])

			// Real-time or serverless, as configured.
			config := one(t, m, "aws:sagemaker/endpointConfiguration:EndpointConfiguration")
			variant := input(t, config, "productionVariants.0").(map[string]any)
			assert.Equal(t, components.DefaultVariantName, variant["variantName"])
			if cfg.Endpoint.IsServerless() {
				assert.Equal(t, float64(cfg.Endpoint.Serverless.MemorySizeMB), input(t, config, "productionVariants.0.serverlessConfig.memorySizeInMb"))
				assert.NotContains(t, variant, "instanceType")
			} else {
				assert.Equal(t, cfg.Endpoint.InstanceType, variant["instanceType"])
				assert.Equal(t, float64(cfg.Endpoint.InstanceCount), variant["initialInstanceCount"])
			}
			if cfg.IsProd() {
				assert.GreaterOrEqual(t, variant["initialInstanceCount"], 2.0, "prod runs at least 2 instances")
			}

			// Autoscaling exactly when configured (real-time only).
			wantScaling := 0
			if cfg.Endpoint.Autoscaling.Enabled {
				wantScaling = 1
			}
			assert.Equal(t, wantScaling, inv["aws:appautoscaling/target:Target"])
			assert.Equal(t, wantScaling, inv["aws:appautoscaling/policy:Policy"])
			endpointName := run.outputs[program.OutEndpointName].(string)
			if wantScaling == 1 {
				target := one(t, m, "aws:appautoscaling/target:Target")
				assert.Equal(t, "endpoint/"+endpointName+"/variant/primary", input(t, target, "resourceId"))
				assert.Equal(t, float64(cfg.Endpoint.Autoscaling.MaxCapacity), input(t, target, "maxCapacity"))
			}

			// Rollback: blue/green with alarms that exist in the stack and watch this endpoint.
			endpoint := one(t, m, "aws:sagemaker/endpoint:Endpoint")
			assert.Equal(t, endpointName, input(t, endpoint, "name"))
			alarmsByName := map[string]pulumimock.Resource{}
			for _, a := range m.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
				if n, ok := a.Input("name"); ok {
					alarmsByName[n.(string)] = a
				}
			}
			rollback, hasRollback := endpoint.Input("deploymentConfig.autoRollbackConfiguration.alarms")
			assert.Equal(t, cfg.Endpoint.Rollback.Enabled, hasRollback)
			if hasRollback {
				require.NotEmpty(t, rollback)
				for _, a := range rollback.([]any) {
					name := a.(map[string]any)["alarmName"].(string)
					alarm, ok := alarmsByName[name]
					if assert.True(t, ok, "rollback alarm %q is not in the stack", name) {
						assert.Equal(t, []string{endpointName}, alarmEndpoints(alarm), "alarm %s", name)
					}
				}
			}

			// The Lambda proxy in front of the endpoint, configured from `proxy`.
			assert.Equal(t, 1, inv["inferstack:components:LambdaProxy"], "%s: want one LambdaProxy", stack)
			fn := one(t, m, "aws:lambda/function:Function")
			assert.Equal(t, "provided.al2023", input(t, fn, "runtime"))
			assert.Equal(t, []any{"arm64"}, input(t, fn, "architectures"))
			assert.Equal(t, "bootstrap", input(t, fn, "handler"))
			assert.Equal(t, endpointName, input(t, fn, "environment.variables.ENDPOINT_NAME"))
			assert.Equal(t, strconv.FormatBool(cfg.Proxy.Cache.Enabled), input(t, fn, "environment.variables.CACHE_ENABLED"))
			assert.Equal(t, float64(cfg.Proxy.MemoryMB), input(t, fn, "memorySize"))
			assert.Equal(t, float64(cfg.Proxy.TimeoutSeconds), input(t, fn, "timeout"))
			assert.Equal(t, run.outputs[program.OutProxyFunctionName], fn.State["name"].StringValue())
			proxyLogs, ok := m.Named("aws:cloudwatch/logGroup:LogGroup", cfg.Model.Name+"-proxy-logs")
			if assert.True(t, ok, "the proxy owns its log group") {
				assert.Equal(t, float64(cfg.Proxy.LogRetentionDays), input(t, proxyLogs, "retentionInDays"))
				assert.Equal(t, run.outputs[program.OutProxyLogGroup], input(t, fn, "loggingConfig.logGroup"))
			}

			// The API in front of the proxy, configured from `api` (invariants check every method's
			// authorizer below): the proxy's integration, key and WAF as configured.
			assert.Equal(t, 1, inv["inferstack:components:SecuredApi"], "%s: want one SecuredAPI", stack)
			for _, i := range m.OfType("aws:apigateway/integration:Integration") {
				if input(t, i, "type") == "AWS_PROXY" {
					assert.Equal(t, fn.State["invokeArn"].StringValue(), input(t, i, "uri"), "the API calls the proxy")
				}
			}
			methods := 0
			for _, meth := range m.OfType("aws:apigateway/method:Method") {
				if input(t, meth, "httpMethod") == "OPTIONS" {
					continue
				}
				methods++
				assert.Contains(t, input(t, meth, "authorizationScopes"), components.InvokeScope, "%s", meth)
				userScope := slices.Contains(input(t, meth, "authorizationScopes").([]any), any(components.CognitoUserScope))
				assert.Equal(t, cfg.API.UserTokens, userScope, "%s accepts people's tokens only with api.userTokens", meth)
				assert.Equal(t, cfg.API.RequireAPIKey, input(t, meth, "apiKeyRequired"), "%s", meth)
			}
			assert.Equal(t, 2, methods, "GET /ping and POST /invocations")
			assert.Equal(t, cfg.API.StageName, input(t, one(t, m, "aws:apigateway/stage:Stage"), "stageName"))
			wantCount := func(on bool) int {
				if on {
					return 1
				}
				return 0
			}
			assert.Equal(t, wantCount(cfg.API.RequireAPIKey), inv["aws:apigateway/apiKey:ApiKey"])
			assert.Equal(t, wantCount(cfg.API.RequireAPIKey), inv["aws:apigateway/usagePlanKey:UsagePlanKey"])
			assert.Equal(t, wantCount(cfg.API.WAF), inv["aws:wafv2/webAcl:WebAcl"])
			assert.Equal(t, wantCount(cfg.API.WAF), inv["aws:wafv2/webAclAssociation:WebAclAssociation"])
			assert.Equal(t, wantCount(cfg.API.CreateAccountLogsRole), inv["aws:apigateway/account:Account"])
			assert.Equal(t, 1+wantCount(cfg.API.MachineClient), inv["aws:cognito/userPoolClient:UserPoolClient"])
			pool := one(t, m, "aws:cognito/userPool:UserPool")
			assert.Equal(t, map[bool]string{true: "ACTIVE", false: "INACTIVE"}[cfg.IsProd()], input(t, pool, "deletionProtection"))
			assert.Equal(t, strings.ToUpper(cfg.API.MFA), input(t, pool, "mfaConfiguration"))

			// What a client needs to call the API; the key and the client secret only as secrets.
			assert.Regexp(t, `^https://[a-z0-9]+\.execute-api\.`+pulumimock.Region+`\.amazonaws\.com/`+cfg.API.StageName+`$`,
				run.outputs[program.OutAPIURL])
			assert.Regexp(t, `^https://[a-z0-9-]+\.auth\.`+pulumimock.Region+`\.amazoncognito\.com/oauth2/token$`,
				run.outputs[program.OutTokenEndpoint])
			assert.Equal(t, components.InvokeScope, run.outputs[program.OutInvokeScope])
			for _, k := range []string{program.OutUserPoolID, program.OutUserClientID} {
				assert.NotEmpty(t, run.outputs[k], "output %s", k)
			}
			assert.Equal(t, cfg.API.MachineClient, run.outputs[program.OutMachineClientID] != "")
			assert.Equal(t, cfg.API.MachineClient, run.outputs[program.OutMachineClientSecret] != "")
			assert.Equal(t, cfg.API.RequireAPIKey, run.outputs[program.OutAPIKeyID] != "")
			assert.Equal(t, cfg.API.RequireAPIKey, run.outputs[program.OutAPIKeyValue] != "")
			for k, secret := range run.secret {
				want := k == program.OutMachineClientSecret || k == program.OutAPIKeyValue
				assert.Equal(t, want, secret, "output %s: secret=%v", k, secret)
			}

			// Stack outputs a user needs next.
			for _, k := range []string{program.OutEndpointName, program.OutEndpointArn, program.OutVariantName,
				program.OutImageURI, program.OutRepositoryURL, program.OutRegion, program.OutInvokeCommand,
				program.OutProxyFunctionName, program.OutProxyLogGroup} {
				assert.NotEmpty(t, run.outputs[k], "output %s", k)
			}
			assert.Equal(t, cfg.Region, run.outputs[program.OutRegion])
			assert.Equal(t, "arn:aws:sagemaker:"+pulumimock.Region+":"+pulumimock.AccountID+":endpoint/"+strings.ToLower(endpointName),
				run.outputs[program.OutEndpointArn])
			assert.Contains(t, run.outputs[program.OutInvokeCommand], "--endpoint-name "+endpointName)

			// Monitoring: the alerts topic, the dashboard, the budget on this stack's cost tag, and
			// its alarms as the rollback alarms unless the config names others.
			assert.Regexp(t, `^arn:aws:sns:`, run.outputs[program.OutAlarmTopicArn])
			dashboard := one(t, m, "aws:cloudwatch/dashboard:Dashboard")
			assert.Equal(t, run.outputs[program.OutDashboardName], input(t, dashboard, "dashboardName"))
			budget := one(t, m, "aws:budgets/budget:Budget")
			assert.Equal(t, []any{components.CostTagFilter(components.TagStack, cfg.Model.Name+"/"+stack)}, input(t, budget, "costFilters.0.values"))
			assert.Equal(t, fmt.Sprintf("%.2f", cfg.Monitoring.MonthlyBudgetUSD), input(t, budget, "limitAmount"))
			if hasRollback && len(cfg.Endpoint.Rollback.AlarmNames) == 0 {
				// The endpoint's own rollback alarms, which it waits for: SageMaker names them in
				// the deployment config, so they must exist first.
				assert.Equal(t, []string{endpointName + "-rollback-5xx", endpointName + "-rollback-latency"},
					run.outputs[program.OutRollbackAlarmNames])
				endpoint := one(t, m, "aws:sagemaker/endpoint:Endpoint")
				for _, r := range m.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
					if strings.Contains(r.Name, "-rollback-") {
						assert.True(t, endpoint.Waits(r.Type, r.Name), "the endpoint waits for %s", r.Name)
					}
				}
			}

			// Security invariants: least privilege, encryption, retention, cost tags.
			violations := invariants.Check(m.Resources(), invariants.Options{
				Region: cfg.Region,
				RequiredTags: []string{components.TagTeam, components.TagModel, components.TagEnvironment,
					components.TagStack, components.TagManagedBy},
				ImageKMSKeyARN: cfg.Image.KMSKeyARN, EndpointKMSKeyARN: cfg.Endpoint.KMSKeyARN,
			})
			assert.Empty(t, invariantsOf(violations, nil))
			assert.Equal(t, cfg.Model.Name+"/"+stack, input(t, endpoint, "tags.stack"))
			assert.Equal(t, cfg.Team, input(t, endpoint, "tags.team"))

			t.Logf("%s: %d resources: %s", stack, len(m.Resources()), summary(inv))
		})
	}
}

// TestInvalidStackFileFailsWithEveryProblem runs the program on a broken copy of the prod file.
func TestInvalidStackFileFailsWithEveryProblem(t *testing.T) {
	values := readStackConfig(t, stackFiles(t)["prod"])
	values["inferstack:endpoint.instanceCount"] = "1"
	values["inferstack:endpoint.instanceType"] = "c6g.xlarge"
	values["inferstack:api.mfa"] = "sometimes"
	_, err := runProgram(t, "prod", values)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "Pulumi.prod.yaml")
	assert.Contains(t, msg, "(3 problems)")
	for _, want := range []string{"inferstack:endpoint.instanceCount: got 1", `inferstack:endpoint.instanceType: got "c6g.xlarge"`,
		`inferstack:api.mfa: got "sometimes"`} {
		assert.Contains(t, msg, want)
	}
}

// TestCommittedPlaceholdersAreRefused runs the program on Pulumi.prod.yaml as committed: its
// example buckets and domain prefix are placeholders, and the program stops before creating
// anything, naming each key to replace.
func TestCommittedPlaceholdersAreRefused(t *testing.T) {
	values := readStackConfigAsCommitted(t, stackFiles(t)["prod"])
	run, err := runProgram(t, "prod", values)
	require.Error(t, err)
	msg := err.Error()
	for _, key := range []string{"inferstack:model.dataUrl", "inferstack:endpoint.dataCapture.destinationS3Uri",
		"inferstack:api.cognitoDomainPrefix"} {
		assert.Contains(t, msg, key+`: got "`)
	}
	assert.Contains(t, msg, "replace-me marks a placeholder")
	for _, r := range run.mocks.Resources() {
		assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing but the stack may exist before the config is valid")
	}
}

// TestFreshAccountStopsBeforeCreatingAnything: in an account without API Gateway's CloudWatch
// role, the default stacks (logging on, role not owned) stop with both fixes before any resource
// exists, instead of failing at the stage after the endpoint was created.
func TestFreshAccountStopsBeforeCreatingAnything(t *testing.T) {
	for stack, path := range stackFiles(t) {
		t.Run(stack, func(t *testing.T) {
			values := readStackConfig(t, path)
			cfg, err := stackconfig.Parse(stack, values)
			require.NoError(t, err)
			if cfg.API.LoggingLevel == "OFF" || cfg.API.CreateAccountLogsRole {
				t.Skipf("%s does not need the account's role", path)
			}
			fresh := fakeapigateway.Start(t, fakeapigateway.Account{})
			run, err := runProgramIn(t, stack, values, fresh)
			require.ErrorIs(t, err, program.ErrNoAccountLogsRole)
			assert.Contains(t, err.Error(), "inferstack:api.createAccountLogsRole: true")
			assert.Contains(t, err.Error(), "inferstack:api.loggingLevel: OFF")
			assert.Equal(t, []string{"GET /account"}, fresh.Requests())
			for _, r := range run.mocks.Resources() {
				assert.Equal(t, "pulumi:pulumi:Stack", r.Type, "nothing but the stack may exist before the check passes")
			}

			values["inferstack:api.loggingLevel"] = "OFF"
			_, err = runProgramIn(t, stack, values, fresh)
			require.NoError(t, err, "the second fix named in the message works")
		})
	}
}

// alarmEndpoints returns the distinct EndpointName dimensions an alarm watches: its metric's, or
// those of the metrics in its metric math expression.
func alarmEndpoints(alarm pulumimock.Resource) []string {
	var out []string
	add := func(v any, ok bool) {
		if s, _ := v.(string); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(alarm.Input("dimensions.EndpointName"))
	if queries, ok := alarm.Input("metricQueries"); ok {
		for i := range queries.([]any) {
			add(alarm.Input(fmt.Sprintf("metricQueries.%d.metric.dimensions.EndpointName", i)))
		}
	}
	return out
}

// invariantsOf renders violations as strings for readable failures.
func invariantsOf(vs []invariants.Violation, err error) []string {
	var out []string
	if err != nil {
		out = append(out, err.Error())
	}
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}

func summary(inv map[string]int) string {
	parts := make([]string, 0, len(inv))
	for k, n := range inv {
		parts = append(parts, k[strings.LastIndex(k, ":")+1:]+"="+strconv.Itoa(n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
