package components

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

const (
	testProxyArn       = "arn:aws:lambda:" + pulumimock.Region + ":" + pulumimock.AccountID + ":function:proxy"
	testProxyInvokeArn = "arn:aws:apigateway:" + pulumimock.Region + ":lambda:path/2015-03-31/functions/" + testProxyArn + "/invocations"
)

// Resource types the tests walk.
const (
	apiMethodType      = "aws:apigateway/method:Method"
	apiIntegrationType = "aws:apigateway/integration:Integration"
	apiAuthorizerType  = "aws:apigateway/authorizer:Authorizer"
	apiDeploymentType  = "aws:apigateway/deployment:Deployment"
	apiStageType       = "aws:apigateway/stage:Stage"
	apiSettingsType    = "aws:apigateway/methodSettings:MethodSettings"
	apiUsagePlanType   = "aws:apigateway/usagePlan:UsagePlan"
	apiAPIKeyType      = "aws:apigateway/apiKey:ApiKey"
	apiPlanKeyType     = "aws:apigateway/usagePlanKey:UsagePlanKey"
	apiRestAPIType     = "aws:apigateway/restApi:RestApi"
	apiPermissionType  = "aws:lambda/permission:Permission"
	apiLogGroupType    = "aws:cloudwatch/logGroup:LogGroup"
	apiAccountType     = "aws:apigateway/account:Account"
	apiPoolClientType  = "aws:cognito/userPoolClient:UserPoolClient"
	apiUserPoolType    = "aws:cognito/userPool:UserPool"
	apiResponseType    = "aws:apigateway/response:Response"
)

// apiRun is one SecuredAPI program run under the recording mock.
type apiRun struct {
	mocks *pulumimock.Mocks
	api   *SecuredAPI
	// requests are the raw registrations, for dependencies and resource options.
	mu       sync.Mutex
	requests map[string]*pulumirpc.RegisterResourceRequest // by logical name
}

// urn returns the URN the mock saw for a logical name.
func (r *apiRun) request(t *testing.T, name string) *pulumirpc.RegisterResourceRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	req, ok := r.requests[name]
	require.True(t, ok, "no registration named %s", name)
	return req
}

// urnOf builds the URN of a child of the "api" component the way the engine does.
func apiURN(typ, name string) string {
	return "urn:pulumi:dev::inferstack::" + securedAPIType + "$" + typ + "::" + name
}

func apiBaseArgs() *SecuredAPIArgs {
	return &SecuredAPIArgs{ProxyInvokeARN: pulumi.String(testProxyInvokeArn), ProxyFunctionARN: pulumi.String(testProxyArn), SecuredAPISettings: SecuredAPISettings{RequireAPIKey: true, MachineClient: true, LoggingLevel: "INFO", Throttle: &APIThrottle{RateLimit: 50, BurstLimit: 100}, Quota: &APIQuota{Limit: 100000, Period: "MONTH"}, Tags: StandardTags("ml", "iris", "dev", "dev")}}
}

func runAPI(t *testing.T, mutate func(*SecuredAPIArgs)) *apiRun {
	t.Helper()
	run, err := tryRunAPI(mutate)
	require.NoError(t, err)
	return run
}

func tryRunAPI(mutate func(*SecuredAPIArgs)) (*apiRun, error) {
	run := &apiRun{mocks: pulumimock.New(), requests: map[string]*pulumirpc.RegisterResourceRequest{}}
	run.mocks.OnNewResource = func(args pulumi.MockResourceArgs) resource.PropertyMap {
		run.mu.Lock()
		run.requests[args.Name] = args.RegisterRPC
		run.mu.Unlock()
		return nil
	}
	args := apiBaseArgs()
	if mutate != nil {
		mutate(args)
	}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		api, err := NewSecuredAPI(ctx, "api", args)
		run.api = api
		return err
	}, pulumi.WithMocks("inferstack", "dev", run.mocks))
	return run, err
}

func apiStr(t *testing.T, r pulumimock.Resource, path string) string {
	t.Helper()
	v, ok := r.Input(path)
	require.True(t, ok, "%s has no input %s", r, path)
	s, ok := v.(string)
	require.True(t, ok, "%s input %s is %T, not a string", r, path, v)
	return s
}

func apiState(t *testing.T, r pulumimock.Resource, key string) string {
	t.Helper()
	v, ok := pulumimock.Lookup(r.State, key)
	require.True(t, ok, "%s has no output %s", r, key)
	return v.(string)
}

// await resolves a string output after the program ran.
func apiAwait(t *testing.T, o pulumi.StringOutput) string {
	t.Helper()
	ch := make(chan string, 1)
	o.ApplyT(func(v string) string { ch <- v; return v })
	return <-ch
}

// TestSecuredAPIEveryMethodRequiresCognitoScopeAndKey walks every registered method (docs/design.md#every-method-is-authorized): each
// must use the Cognito authorizer with the invoke scope and, where configured, the API key. The
// only exception is a CORS preflight, which must be a MOCK that never reaches the proxy.
func TestSecuredAPIEveryMethodRequiresCognitoScopeAndKey(t *testing.T) {
	tests := []struct {
		name        string
		requireKey  bool
		userTokens  bool
		cors        []string
		wantMethods int
	}{
		{"dev: api key, user tokens, no cors", true, true, nil, 2},
		{"prod: no api key, machine tokens only", false, false, nil, 2},
		{"cors adds preflights only", true, false, []string{"https://app.example.com", "https://admin.example.com"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := runAPI(t, func(a *SecuredAPIArgs) {
				a.RequireAPIKey, a.AcceptUserTokens, a.CORSOrigins = tc.requireKey, tc.userTokens, tc.cors
			})
			wantScopes := []any{InvokeScope}
			if tc.userTokens {
				wantScopes = append(wantScopes, CognitoUserScope)
			}
			authorizer, err := run.mocks.One(apiAuthorizerType)
			require.NoError(t, err)
			assert.Equal(t, AuthorizationCognito, apiStr(t, authorizer, "type"))
			pool, err := run.mocks.One(apiUserPoolType)
			require.NoError(t, err)
			assert.Equal(t, []any{apiState(t, pool, "arn")}, input(t, authorizer, "providerArns"))

			methods := run.mocks.OfType(apiMethodType)
			require.Len(t, methods, tc.wantMethods)
			integrations := run.mocks.OfType(apiIntegrationType)
			seen := map[string]bool{}
			for _, m := range methods {
				verb := apiStr(t, m, "httpMethod")
				if verb == "OPTIONS" {
					require.NotEmpty(t, tc.cors, "%s: OPTIONS exists without CORS", m)
					assert.Equal(t, "NONE", apiStr(t, m, "authorization"))
					i := apiIntegrationFor(t, integrations, apiStr(t, m, "resourceId"), verb)
					assert.Equal(t, "MOCK", apiStr(t, i, "type"), "%s: an unauthenticated method must not reach the proxy", m)
					continue
				}
				seen[verb+" "+apiStr(t, m, "resourceId")] = true
				assert.Equal(t, AuthorizationCognito, apiStr(t, m, "authorization"), "%s", m)
				assert.Equal(t, authorizer.ID, apiStr(t, m, "authorizerId"), "%s", m)
				assert.Equal(t, wantScopes, input(t, m, "authorizationScopes"), "%s", m)
				apiKey, _ := m.Input("apiKeyRequired")
				assert.Equal(t, tc.requireKey, apiKey, "%s apiKeyRequired", m)
				i := apiIntegrationFor(t, integrations, apiStr(t, m, "resourceId"), verb)
				assert.Equal(t, "AWS_PROXY", apiStr(t, i, "type"))
				assert.Equal(t, "POST", apiStr(t, i, "integrationHttpMethod"), "Lambda is always invoked with POST")
				assert.Equal(t, testProxyInvokeArn, apiStr(t, i, "uri"))
			}
			assert.Len(t, seen, 2, "GET /ping and POST /invocations")
		})
	}
}

func apiIntegrationFor(t *testing.T, all []pulumimock.Resource, resourceID, verb string) pulumimock.Resource {
	t.Helper()
	for _, i := range all {
		if apiStr(t, i, "resourceId") == resourceID && apiStr(t, i, "httpMethod") == verb {
			return i
		}
	}
	require.Failf(t, "no integration", "%s on resource %s", verb, resourceID)
	return pulumimock.Resource{}
}

func TestSecuredAPIPostInvocationsValidatesJSONBodies(t *testing.T) {
	run := runAPI(t, nil)
	validator, err := run.mocks.One("aws:apigateway/requestValidator:RequestValidator")
	require.NoError(t, err)
	assert.Equal(t, true, input(t, validator, "validateRequestBody"))
	model, err := run.mocks.One("aws:apigateway/model:Model")
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal([]byte(apiStr(t, model, "schema")), &schema))
	assert.Equal(t, []any{"object", "array"}, schema["type"])
	for _, m := range run.mocks.OfType(apiMethodType) {
		_, hasValidator := m.Input("requestValidatorId")
		assert.Equal(t, apiStr(t, m, "httpMethod") == "POST", hasValidator, "%s", m)
		if hasValidator {
			assert.Equal(t, validator.ID, apiStr(t, m, "requestValidatorId"))
			assert.Equal(t, apiStr(t, model, "name"), apiStr(t, m, "requestModels.application/json"))
		}
	}
}

func TestSecuredAPIGatewayResponsesAreJSONErrors(t *testing.T) {
	run := runAPI(t, func(a *SecuredAPIArgs) { a.CORSOrigins = []string{"https://app.example.com"} })
	responses := run.mocks.OfType(apiResponseType)
	types := map[string]string{}
	for _, r := range responses {
		types[apiStr(t, r, "responseType")], _ = func() (string, bool) {
			v, ok := r.Input("statusCode")
			s, _ := v.(string)
			return s, ok
		}()
		// Substitute what API Gateway would: messageString is a quoted JSON string.
		body := apiStr(t, r, "responseTemplates.application/json")
		body = strings.ReplaceAll(body, "$context.error.messageString", `"Unauthorized"`)
		assert.NotContains(t, body, "$util", "gateway response templates are not VTL")
		assert.NotContains(t, body, "validationErrorString", "it is not JSON-quoted and may contain quotes")
		body = strings.ReplaceAll(body, "$context.requestId", "req-1")
		var parsed struct {
			Error struct{ Code, Message, RequestID string } `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &parsed), "%s: %s", r, body)
		assert.Equal(t, apiStr(t, r, "responseType"), parsed.Error.Code)
		assert.NotEmpty(t, parsed.Error.Message)
		headers, ok := input(t, r, "responseParameters").(map[string]any)
		require.True(t, ok)
		assert.Equal(t, "'https://app.example.com'", headers["gatewayresponse.header.Access-Control-Allow-Origin"],
			"a browser can only read the error with the CORS header")
	}
	for typ, status := range map[string]string{"UNAUTHORIZED": "401", "ACCESS_DENIED": "403", "THROTTLED": "429",
		"QUOTA_EXCEEDED": "429", "INVALID_API_KEY": "403", "DEFAULT_5XX": ""} {
		got, ok := types[typ]
		assert.True(t, ok, "no gateway response %s", typ)
		assert.Equal(t, status, got, typ)
	}
}

// TestSecuredAPIDefinitionHashChangesWithEveryPartOfTheAPI is the redeploy contract (docs/design.md#api-redeployment): the
// Deployment trigger changes when any route, integration, authorizer, validator, model or
// response changes, and stays equal otherwise.
func TestSecuredAPIDefinitionHashChangesWithEveryPartOfTheAPI(t *testing.T) {
	base := func() apiDefinition {
		return newAPIDefinition(apiOptions{RequireAPIKey: true, IntegrationTimeout: 29000}).
			withResolved(testProxyInvokeArn, "arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_A")
	}
	baseHash, err := base().Hash()
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{64}$`, baseHash)

	tests := []struct {
		name    string
		mutate  func(*apiDefinition)
		changed bool
	}{
		{"rebuilt from the same options", func(*apiDefinition) {}, false},
		{"resolved twice with the same values", func(d *apiDefinition) {
			*d = d.withResolved(testProxyInvokeArn, d.Authorizer.ProviderARN)
		}, false},
		{"resolved with another user pool", func(d *apiDefinition) {
			*d = d.withResolved(testProxyInvokeArn, d.Authorizer.ProviderARN+"B")
		}, true},
		{"resolved with another proxy", func(d *apiDefinition) {
			*d = d.withResolved(testProxyInvokeArn+"x", d.Authorizer.ProviderARN)
		}, true},
		{"route path", func(d *apiDefinition) { d.Routes[0].PathPart = "health" }, true},
		{"route verb", func(d *apiDefinition) { d.Routes[1].HTTPMethod = "PUT" }, true},
		{"route added", func(d *apiDefinition) { d.Routes = append(d.Routes, d.Routes[0]) }, true},
		{"scope", func(d *apiDefinition) { d.Routes[0].Scopes = []string{InvokeScope, CognitoUserScope} }, true},
		{"authorization", func(d *apiDefinition) { d.Routes[0].Authorization = "NONE" }, true},
		{"api key requirement", func(d *apiDefinition) { d.Routes[1].APIKeyRequired = false }, true},
		{"request model", func(d *apiDefinition) { d.Routes[1].RequestModels = nil }, true},
		{"integration uri (proxy replaced)", func(d *apiDefinition) { d.Routes[1].Integration.URI += "x" }, true},
		{"integration timeout", func(d *apiDefinition) { d.Routes[0].Integration.TimeoutMillis = 10000 }, true},
		{"integration type", func(d *apiDefinition) { d.Routes[0].Integration.Type = "AWS" }, true},
		{"authorizer pool", func(d *apiDefinition) { d.Authorizer.ProviderARN += "B" }, true},
		{"authorizer identity source", func(d *apiDefinition) { d.Authorizer.IdentitySource = "method.request.header.X" }, true},
		{"validator", func(d *apiDefinition) { d.Validator.ValidateParams = true }, true},
		{"model schema", func(d *apiDefinition) { d.Models[0].Schema = `{"type":"object"}` }, true},
		{"gateway response template", func(d *apiDefinition) { d.GatewayResponses[0].Template = "{}" }, true},
		{"gateway response status", func(d *apiDefinition) { d.GatewayResponses[0].StatusCode = "403" }, true},
		{"cors", func(d *apiDefinition) { d.CORS = &corsDef{Origins: []string{"https://a.example"}} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.mutate(&d)
			got, err := d.Hash()
			require.NoError(t, err)
			if tc.changed {
				assert.NotEqual(t, baseHash, got)
			} else {
				assert.Equal(t, baseHash, got)
			}
		})
	}
}

// TestSecuredAPIDeploymentTriggerFollowsTheDefinitionOnly checks the same contract through the component:
// settings that live on the stage or usage plan must not redeploy, API changes must.
func TestSecuredAPIDeploymentTriggerFollowsTheDefinitionOnly(t *testing.T) {
	trigger := func(mutate func(*SecuredAPIArgs)) string {
		run := runAPI(t, mutate)
		d, err := run.mocks.One(apiDeploymentType)
		require.NoError(t, err)
		return apiStr(t, d, "triggers.definition")
	}
	base := trigger(nil)
	tests := []struct {
		name    string
		mutate  func(*SecuredAPIArgs)
		changed bool
	}{
		{"tags", func(a *SecuredAPIArgs) { a.Tags = StandardTags("other", "iris", "dev", "dev") }, false},
		{"throttle and quota", func(a *SecuredAPIArgs) {
			a.Throttle = &APIThrottle{RateLimit: 1}
			a.Quota = &APIQuota{Limit: 5, Period: "DAY"}
		}, false},
		{"logging", func(a *SecuredAPIArgs) { a.LoggingLevel = "ERROR"; a.LogRetentionDays = 90 }, false},
		{"machine client", func(a *SecuredAPIArgs) { a.MachineClient = false }, false},
		{"api key requirement", func(a *SecuredAPIArgs) { a.RequireAPIKey = false }, true},
		{"cors origins", func(a *SecuredAPIArgs) { a.CORSOrigins = []string{"https://app.example.com"} }, true},
		{"proxy function replaced", func(a *SecuredAPIArgs) {
			a.ProxyInvokeARN = pulumi.String(strings.Replace(testProxyInvokeArn, "proxy", "proxy2", 1))
		}, true},
		{"integration timeout", func(a *SecuredAPIArgs) { a.IntegrationTimeoutMs = 10000 }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := trigger(tc.mutate)
			if tc.changed {
				assert.NotEqual(t, base, got)
			} else {
				assert.Equal(t, base, got)
			}
		})
	}
}

// TestSecuredAPIDeploymentIsReplacedBeforeTheStageMoves guards the other half of docs/design.md#api-redeployment.
func TestSecuredAPIDeploymentIsReplacedBeforeTheStageMoves(t *testing.T) {
	run := runAPI(t, func(a *SecuredAPIArgs) { a.CORSOrigins = []string{"https://app.example.com"} })
	d, err := run.mocks.One(apiDeploymentType)
	require.NoError(t, err)
	_, hasStage := d.Input("stageName")
	assert.False(t, hasStage, "a Deployment that creates its own stage cannot be replaced while the stage points at it")
	req := run.request(t, "api-deployment")
	assert.False(t, req.GetDeleteBeforeReplace(), "the new deployment must exist before the old one is deleted")
	for _, typ := range []string{apiMethodType, apiIntegrationType, apiResponseType, "aws:apigateway/integrationResponse:IntegrationResponse"} {
		for _, r := range run.mocks.OfType(typ) {
			assert.Contains(t, req.GetDependencies(), apiURN(typ, r.Name), "the deployment must wait for %s", r)
		}
	}
	stage, err := run.mocks.One(apiStageType)
	require.NoError(t, err)
	assert.Equal(t, d.ID, apiStr(t, stage, "deployment"))
}

func TestSecuredAPIPermissionsAreScopedToStageMethodAndPath(t *testing.T) {
	run := runAPI(t, func(a *SecuredAPIArgs) { a.StageName = "prod" })
	api, err := run.mocks.One(apiRestAPIType)
	require.NoError(t, err)
	exec := apiState(t, api, "executionArn")
	require.Regexp(t, `^arn:aws:execute-api:`+pulumimock.Region+`:`+pulumimock.AccountID+`:[a-z0-9]+$`, exec)
	var arns []string
	for _, p := range run.mocks.OfType(apiPermissionType) {
		assert.Equal(t, "lambda:InvokeFunction", apiStr(t, p, "action"))
		assert.Equal(t, "apigateway.amazonaws.com", apiStr(t, p, "principal"))
		assert.Equal(t, testProxyArn, apiStr(t, p, "function"))
		arns = append(arns, apiStr(t, p, "sourceArn"))
	}
	assert.ElementsMatch(t, []string{exec + "/prod/GET/ping", exec + "/prod/POST/invocations"}, arns)
}

func TestSecuredAPIStageLogsAndTraces(t *testing.T) {
	t.Run("logging on", func(t *testing.T) {
		run := runAPI(t, func(a *SecuredAPIArgs) { a.LogRetentionDays = 90 })
		stage, err := run.mocks.One(apiStageType)
		require.NoError(t, err)
		assert.Equal(t, true, input(t, stage, "xrayTracingEnabled"))
		access, ok := run.mocks.Named(apiLogGroupType, "api-access-logs")
		require.True(t, ok)
		assert.Equal(t, apiState(t, access, "arn"), apiStr(t, stage, "accessLogSettings.destinationArn"))
		assert.Equal(t, 90.0, input(t, access, "retentionInDays"))
		var format map[string]string
		require.NoError(t, json.Unmarshal([]byte(apiStr(t, stage, "accessLogSettings.format")), &format))
		assert.Equal(t, "$context.requestId", format["request_id"])
		assert.Equal(t, "$context.status", format["status"])

		exec, ok := run.mocks.Named(apiLogGroupType, "api-execution-logs")
		require.True(t, ok)
		api, err := run.mocks.One(apiRestAPIType)
		require.NoError(t, err)
		assert.Equal(t, "API-Gateway-Execution-Logs_"+api.ID+"/v1", apiStr(t, exec, "name"))

		settings, err := run.mocks.One(apiSettingsType)
		require.NoError(t, err)
		assert.Equal(t, "*/*", apiStr(t, settings, "methodPath"))
		assert.Equal(t, "INFO", apiStr(t, settings, "settings.loggingLevel"))
		assert.Equal(t, true, input(t, settings, "settings.metricsEnabled"))
		assert.Equal(t, false, input(t, settings, "settings.dataTraceEnabled"))
		assert.Equal(t, 50.0, input(t, settings, "settings.throttlingRateLimit"))
		assert.Equal(t, 100.0, input(t, settings, "settings.throttlingBurstLimit"))
		assert.Empty(t, run.mocks.OfType(apiAccountType), "the account-level role is opt-in (docs/design.md#the-accounts-api-gateway-logging-role)")
	})
	t.Run("logging off needs no account role", func(t *testing.T) {
		run := runAPI(t, func(a *SecuredAPIArgs) { a.LoggingLevel = "OFF" })
		stage, err := run.mocks.One(apiStageType)
		require.NoError(t, err)
		_, hasLogs := stage.Input("accessLogSettings")
		assert.False(t, hasLogs)
		assert.Equal(t, true, input(t, stage, "xrayTracingEnabled"))
		assert.Empty(t, run.mocks.OfType(apiLogGroupType))
		settings, err := run.mocks.One(apiSettingsType)
		require.NoError(t, err)
		assert.Equal(t, "OFF", apiStr(t, settings, "settings.loggingLevel"))
	})
	t.Run("account role created first (docs/design.md#the-accounts-api-gateway-logging-role)", func(t *testing.T) {
		run := runAPI(t, func(a *SecuredAPIArgs) { a.CreateAccountLogsRole = true })
		account, err := run.mocks.One(apiAccountType)
		require.NoError(t, err)
		role, ok := run.mocks.Named("aws:iam/role:Role", "api-account-logs-role")
		require.True(t, ok)
		assert.Equal(t, apiState(t, role, "arn"), apiStr(t, account, "cloudwatchRoleArn"))
		assert.Equal(t, true, input(t, account, "resetOnDelete"))
		var trust PolicyDocument
		require.NoError(t, json.Unmarshal([]byte(apiStr(t, role, "assumeRolePolicy")), &trust))
		assert.Equal(t, "apigateway.amazonaws.com", trust.Statement[0].Principal["Service"])
		attach, err := run.mocks.One("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
		require.NoError(t, err)
		assert.Equal(t, "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs", apiStr(t, attach, "policyArn"))
		for _, name := range []string{"api-stage", "api-method-settings"} {
			assert.Contains(t, run.request(t, name).GetDependencies(), apiURN(apiAccountType, "api-account"), name)
		}
	})
}

func TestSecuredAPIUsagePlanUsesTheStageOutput(t *testing.T) {
	run := runAPI(t, nil)
	plan, err := run.mocks.One(apiUsagePlanType)
	require.NoError(t, err)
	api, err := run.mocks.One(apiRestAPIType)
	require.NoError(t, err)
	assert.Equal(t, api.ID, apiStr(t, plan, "apiStages.0.apiId"))
	assert.Equal(t, "v1", apiStr(t, plan, "apiStages.0.stage"))
	deps := run.request(t, "api-usage-plan").GetPropertyDependencies()["apiStages"].GetUrns()
	assert.Contains(t, deps, apiURN(apiStageType, "api-stage"), "the stage name must come from the Stage (docs/design.md#usage-plan-after-the-stage)")
	assert.Equal(t, 100000.0, input(t, plan, "quotaSettings.limit"))
	assert.Equal(t, "MONTH", apiStr(t, plan, "quotaSettings.period"))
	assert.Equal(t, 50.0, input(t, plan, "throttleSettings.rateLimit"))

	key, err := run.mocks.One(apiAPIKeyType)
	require.NoError(t, err)
	planKey, err := run.mocks.One(apiPlanKeyType)
	require.NoError(t, err)
	assert.Equal(t, key.ID, apiStr(t, planKey, "keyId"))
	assert.Equal(t, plan.ID, apiStr(t, planKey, "usagePlanId"))
	assert.Equal(t, "API_KEY", apiStr(t, planKey, "keyType"))
	assert.Equal(t, key.ID, apiAwait(t, run.api.APIKeyID))

	t.Run("no key when not required", func(t *testing.T) {
		run := runAPI(t, func(a *SecuredAPIArgs) { a.RequireAPIKey = false; a.Quota = nil })
		assert.Empty(t, run.mocks.OfType(apiAPIKeyType))
		assert.Empty(t, run.mocks.OfType(apiPlanKeyType))
		plan, err := run.mocks.One(apiUsagePlanType)
		require.NoError(t, err)
		_, hasQuota := plan.Input("quotaSettings")
		assert.False(t, hasQuota)
		assert.Equal(t, "", apiAwait(t, run.api.APIKeyID))
	})
}

func TestSecuredAPISecretsAreSecret(t *testing.T) {
	run := runAPI(t, nil)
	assert.True(t, pulumi.IsSecret(run.api.APIKeyValue))
	assert.True(t, pulumi.IsSecret(run.api.MachineClientSecret))
	key, err := run.mocks.One(apiAPIKeyType)
	require.NoError(t, err)
	assert.Equal(t, apiState(t, key, "value"), apiAwait(t, run.api.APIKeyValue))
	machine, ok := run.mocks.Named(apiPoolClientType, "api-machine")
	require.True(t, ok)
	assert.Equal(t, apiState(t, machine, "clientSecret"), apiAwait(t, run.api.MachineClientSecret))
	for _, o := range []pulumi.StringOutput{run.api.InvokeURL, run.api.APIKeyID, run.api.MachineClientID, run.api.TokenEndpoint} {
		assert.False(t, pulumi.IsSecret(o), "identifiers stay readable")
	}
}

func TestSecuredAPICognitoClientsAndTokenEndpoint(t *testing.T) {
	run := runAPI(t, func(a *SecuredAPIArgs) {
		a.CognitoDomainPrefix = "iris-dev-models"
		a.MFA = MFAOptional
		a.DeletionProtection = true
	})
	pool, err := run.mocks.One(apiUserPoolType)
	require.NoError(t, err)
	assert.Equal(t, "OPTIONAL", apiStr(t, pool, "mfaConfiguration"))
	assert.Equal(t, true, input(t, pool, "softwareTokenMfaConfiguration.enabled"))
	assert.Equal(t, "ACTIVE", apiStr(t, pool, "deletionProtection"))
	assert.Equal(t, true, input(t, pool, "adminCreateUserConfig.allowAdminCreateUserOnly"))
	assert.GreaterOrEqual(t, input(t, pool, "passwordPolicy.minimumLength"), 12.0)
	assert.Equal(t, []any{"email"}, input(t, pool, "usernameAttributes"))

	rs, err := run.mocks.One("aws:cognito/resourceServer:ResourceServer")
	require.NoError(t, err)
	assert.Equal(t, ResourceServerIdentifier+"/"+apiStr(t, rs, "scopes.0.scopeName"), InvokeScope)

	machine, ok := run.mocks.Named(apiPoolClientType, "api-machine")
	require.True(t, ok)
	assert.Equal(t, []any{"client_credentials"}, input(t, machine, "allowedOauthFlows"))
	assert.Equal(t, []any{InvokeScope}, input(t, machine, "allowedOauthScopes"))
	assert.Equal(t, true, input(t, machine, "generateSecret"))
	people, ok := run.mocks.Named(apiPoolClientType, "api-people")
	require.True(t, ok)
	flows := input(t, people, "explicitAuthFlows").([]any)
	assert.Contains(t, flows, "ALLOW_USER_PASSWORD_AUTH")
	assert.Contains(t, flows, "ALLOW_USER_SRP_AUTH")
	assert.Equal(t, false, input(t, people, "generateSecret"))

	assert.Equal(t, "https://iris-dev-models.auth."+pulumimock.Region+".amazoncognito.com/oauth2/token",
		apiAwait(t, run.api.TokenEndpoint))
	assert.Equal(t, machine.ID, apiAwait(t, run.api.MachineClientID))
	assert.Equal(t, people.ID, apiAwait(t, run.api.UserClientID))
	api, err := run.mocks.One(apiRestAPIType)
	require.NoError(t, err)
	assert.Equal(t, apiState(t, api, "name"), apiAwait(t, run.api.RestAPIName), "monitoring's ApiName dimension")
	assert.Regexp(t, `^https://[a-z0-9]+\.execute-api\.`+pulumimock.Region+`\.amazonaws\.com/v1$`, apiAwait(t, run.api.InvokeURL))

	t.Run("machine client is optional (docs/design.md#billed-machine-clients)", func(t *testing.T) {
		run := runAPI(t, func(a *SecuredAPIArgs) { a.MachineClient = false })
		clients := run.mocks.OfType(apiPoolClientType)
		require.Len(t, clients, 1)
		assert.Equal(t, "api-people", clients[0].Name)
		assert.Equal(t, "", apiAwait(t, run.api.MachineClientID))
		pool, err := run.mocks.One(apiUserPoolType)
		require.NoError(t, err)
		assert.Equal(t, "OFF", apiStr(t, pool, "mfaConfiguration"))
		assert.Equal(t, "INACTIVE", apiStr(t, pool, "deletionProtection"))
	})
}

func TestSecuredAPIEveryTaggableChildIsTagged(t *testing.T) {
	run := runAPI(t, func(a *SecuredAPIArgs) { a.CreateAccountLogsRole = true })
	tagged := 0
	for _, r := range run.mocks.Resources() {
		if !r.Custom {
			continue
		}
		if _, taggable := r.Input("tags"); !taggable {
			continue
		}
		tagged++
		assert.Equal(t, "ml", input(t, r, "tags.team"), "%s", r)
		assert.Equal(t, r.Name, input(t, r, "tags.Name"), "%s", r)
	}
	// user pool, rest api, stage, two log groups, usage plan, api key, role.
	assert.Equal(t, 8, tagged)
}

func TestSecuredAPIRejectsBadArgsAllAtOnce(t *testing.T) {
	_, err := tryRunAPI(func(a *SecuredAPIArgs) {
		a.ProxyInvokeARN = nil
		a.ProxyFunctionARN = nil
		a.StageName = "v 1"
		a.MFA = "sometimes"
		a.LoggingLevel = "DEBUG"
		a.LogRetentionDays = 42
		a.Quota = &APIQuota{Limit: 10, Period: "YEAR"}
		a.CognitoDomainPrefix = "my-aws-api"
		a.CORSOrigins = []string{"*"}
	})
	require.Error(t, err)
	for _, want := range []string{"ProxyInvokeARN", "ProxyFunctionARN unset: want the Lambda proxy's ARN, or ProxyFunctionName", `StageName "v 1"`,
		`MFA "sometimes"`, `LoggingLevel "DEBUG"`, "LogRetentionDays 42", `Quota.Period "YEAR"`,
		`not containing "aws"`, `CORSOrigins "*"`} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = tryRunAPI(func(a *SecuredAPIArgs) {})
	require.NoError(t, err)
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewSecuredAPI(ctx, "api", nil)
		return err
	}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
	assert.ErrorContains(t, err, "args are required")
}

func TestSecuredAPIDefaultDomainPrefix(t *testing.T) {
	tests := []struct{ project, stack, name, wantPrefix string }{
		{"inferstack", "dev", "iris", "iris-"},
		{"inferstack", "dev", "My_AWS.Api", "my-api-"},
		{"inferstack", "dev", "aawsws", "api-"},
		{"inferstack", "dev", strings.Repeat("x", 80), strings.Repeat("x", 50) + "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := defaultDomainPrefix(tc.project, tc.stack, tc.name)
			assert.True(t, strings.HasPrefix(got, tc.wantPrefix), got)
			assert.Regexp(t, domainPrefixPattern, got)
			assert.LessOrEqual(t, len(got), 63)
		})
	}
	assert.NotEqual(t, defaultDomainPrefix("inferstack", "dev", "iris"), defaultDomainPrefix("inferstack", "prod", "iris"),
		"prefixes are global per region, so two stacks must not collide")
	assert.True(t, slices.IsSorted(LogRetentionDays))
}

// TestSecuredAPIComponentsDoNotImportWAFv2 keeps the wafv2 SDK (about 100 CPU-seconds and 4 GB to compile)
// out of this package: the web ACL is a component of its own, in package waf.
func TestSecuredAPIComponentsDoNotImportWAFv2(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fset := token.NewFileSet()
	for _, f := range files {
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range parsed.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			assert.False(t, strings.HasSuffix(path, "/aws/wafv2") || strings.HasSuffix(path, "/components/waf"),
				"%s imports %s: put WAF code in components/waf", f, path)
		}
	}
}

func TestSecuredAPIPreflightEchoesOnlyAllowedOrigins(t *testing.T) {
	origins := []string{"https://app.example.com", "https://admin.example.com"}
	run := runAPI(t, func(a *SecuredAPIArgs) { a.CORSOrigins = origins })
	responses := run.mocks.OfType("aws:apigateway/integrationResponse:IntegrationResponse")
	require.Len(t, responses, 2, "one preflight per resource")
	for _, r := range responses {
		assert.Equal(t, "OPTIONS", apiStr(t, r, "httpMethod"))
		tmpl := apiStr(t, r, "responseTemplates.application/json")
		for _, o := range origins {
			assert.Contains(t, tmpl, `$origin == "`+o+`"`)
		}
		assert.Contains(t, tmpl, "$context.responseOverride.header.Access-Control-Allow-Origin = $origin")
		headers := input(t, r, "responseParameters").(map[string]any)
		assert.Contains(t, headers["method.response.header.Access-Control-Allow-Headers"], "Authorization")
		assert.Contains(t, headers["method.response.header.Access-Control-Allow-Headers"], "X-Api-Key")
		// The proxy forwards these to InvokeEndpoint; a preflight must let a browser send them.
		assert.Contains(t, headers["method.response.header.Access-Control-Allow-Headers"], "X-Amzn-SageMaker-Custom-Attributes")
		assert.Contains(t, headers["method.response.header.Access-Control-Allow-Headers"], "X-Amzn-SageMaker-Inference-Id")
		assert.Regexp(t, `^'(GET|POST),OPTIONS'$`, headers["method.response.header.Access-Control-Allow-Methods"])
	}
	for _, gr := range run.mocks.OfType(apiResponseType) {
		headers := input(t, gr, "responseParameters").(map[string]any)
		_, static := headers["gatewayresponse.header.Access-Control-Allow-Origin"]
		assert.False(t, static, "with several origins no single static origin is right")
	}
}

// BenchmarkSecuredAPIUnderMocks is the cost of one whole SecuredAPI program run in tests.
func BenchmarkSecuredAPIUnderMocks(b *testing.B) {
	for b.Loop() {
		if _, err := tryRunAPI(func(a *SecuredAPIArgs) { a.CORSOrigins = []string{"https://app.example.com"} }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSecuredAPIDefinitionHash is the cost of the Deployment trigger, paid on every preview.
func BenchmarkSecuredAPIDefinitionHash(b *testing.B) {
	d := newAPIDefinition(apiOptions{RequireAPIKey: true, CORSOrigins: []string{"https://a.example"}, IntegrationTimeout: 29000}).
		withResolved(testProxyInvokeArn, "arn:aws:cognito-idp:eu-central-1:123456789012:userpool/eu-central-1_A")
	for b.Loop() {
		if _, err := d.Hash(); err != nil {
			b.Fatal(err)
		}
	}
}
