package components

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/internal/contract"
)

const securedAPIType = "inferstack:components:SecuredApi"

// Defaults of SecuredAPIArgs.
const (
	DefaultStageName          = contract.DefaultStageName
	DefaultAPILogRetention    = 30
	DefaultAPILoggingLevel    = "ERROR"
	DefaultIntegrationTimeout = 29000 // milliseconds, API Gateway's default and regional maximum without a quota raise
)

// MFA settings of the user pool, as in stack config.
const (
	MFAOff      = "off"
	MFAOptional = "optional"
	MFAOn       = "on"
)

// APIThrottle is a steady request rate and a burst. Zero values leave API Gateway's account
// defaults in place.
type APIThrottle struct {
	// RateLimit is requests per second.
	RateLimit float64 `pulumi:"rateLimit,optional"`
	// BurstLimit is the token bucket size.
	BurstLimit int `pulumi:"burstLimit,optional"`
}

// APIQuota is a request budget per period for the usage plan.
type APIQuota struct {
	// Limit is requests per Period; 0 means no quota.
	Limit int `pulumi:"limit,optional"`
	// Period is DAY, WEEK or MONTH.
	Period string `pulumi:"period,optional"`
}

// SecuredAPIArgs configures a SecuredAPI.
type SecuredAPIArgs struct {
	// ProxyInvokeARN (required) is the Lambda proxy's invoke ARN, the integration URI.
	ProxyInvokeARN pulumi.StringInput `pulumi:"proxyInvokeArn"`
	// ProxyFunctionARN is the Lambda proxy's ARN; it or ProxyFunctionName is required. API Gateway
	// is allowed to invoke this function.
	ProxyFunctionARN pulumi.StringInput `pulumi:"proxyFunctionArn,optional"`
	// ProxyFunctionName is the Lambda proxy's name, used when ProxyFunctionARN is not set.
	ProxyFunctionName pulumi.StringInput `pulumi:"proxyFunctionName,optional"`

	// SecuredAPISettings are the settings a user chooses.
	SecuredAPISettings
}

// SecuredAPISettings are the settings of a SecuredAPI that a user chooses; ModelDeployment takes them and wires the proxy.
type SecuredAPISettings struct {
	// StageName is the API stage (default "v1").
	StageName string `pulumi:"stageName,optional"`
	// RequireAPIKey makes every method require an x-api-key header and creates a key in the
	// usage plan (default false; the dev preset sets it).
	RequireAPIKey bool `pulumi:"requireApiKey,optional"`
	// AcceptUserTokens (default false) also lets access tokens of people signed in through
	// Cognito's user API (SRP, USER_PASSWORD_AUTH) call the API. Those tokens cannot carry the
	// invoke scope, only aws.cognito.signin.user.admin, so accepting them admits every user of the
	// pool; without it, only tokens granted InvokeScope (the machine client's) are accepted.
	AcceptUserTokens bool `pulumi:"acceptUserTokens,optional"`
	// MFA is the user pool's MFA: "off" (default), "optional" or "on"; TOTP software tokens.
	MFA string `pulumi:"mfa,optional"`
	// MachineClient creates the client-credentials app client (default false). Cognito bills
	// machine-to-machine clients monthly and per token request.
	MachineClient bool `pulumi:"machineClient,optional"`
	// CORSOrigins are the browser origins allowed to call the API (default none: no OPTIONS
	// methods exist).
	CORSOrigins []string `pulumi:"corsOrigins,optional"`
	// Throttle is the stage-wide and usage-plan throttle (nil: account limits).
	Throttle *APIThrottle `pulumi:"throttle,optional"`
	// Quota is the usage plan's quota (nil: none).
	Quota *APIQuota `pulumi:"quota,optional"`
	// CreateAccountLogsRole makes this stack own the region's account-level API Gateway
	// CloudWatch Logs role (default false). There is one per account and region: let exactly one
	// stack own it, or set it up outside Pulumi.
	CreateAccountLogsRole bool `pulumi:"createAccountLogsRole,optional"`
	// LogRetentionDays is the retention of access and execution logs (default 30).
	LogRetentionDays int `pulumi:"logRetentionDays,optional"`
	// LoggingLevel is the execution log level INFO, ERROR or OFF (default ERROR). Anything but OFF
	// also writes JSON access logs and needs the account's CloudWatch Logs role to exist or to be
	// created by CreateAccountLogsRole; OFF turns both off so a fresh account deploys without it.
	LoggingLevel string `pulumi:"loggingLevel,optional"`
	// CognitoDomainPrefix is the hosted domain prefix of the token endpoint; it must be unique in
	// the region (default: the component name plus a hash of project, stack and name).
	CognitoDomainPrefix string `pulumi:"cognitoDomainPrefix,optional"`
	// DeletionProtection protects the user pool from deletion (default false; set it in prod).
	DeletionProtection bool `pulumi:"deletionProtection,optional"`
	// IntegrationTimeoutMs is the Lambda integration timeout (default 29000).
	IntegrationTimeoutMs int `pulumi:"integrationTimeoutMs,optional"`
	// Tags go on every taggable child (see StandardTags).
	Tags map[string]string `pulumi:"tags,optional"`
}

// SecuredAPI is a regional API Gateway REST API in front of the Lambda proxy: GET /ping and POST
// /invocations, each requiring a Cognito access token with the invoke scope (and an API key when
// configured), with a usage plan, JSON access logs and X-Ray. Package waf's WebACL puts a firewall
// in front of its stage.
type SecuredAPI struct {
	pulumi.ResourceState

	// InvokeURL is the stage URL; append /ping or /invocations.
	InvokeURL pulumi.StringOutput `pulumi:"invokeUrl"`
	// RestAPIID is the REST API's ID.
	RestAPIID pulumi.StringOutput `pulumi:"restApiId"`
	// RestAPIName is the REST API's name, the ApiName dimension of its CloudWatch metrics.
	RestAPIName pulumi.StringOutput `pulumi:"restApiName"`
	// StageName is the stage's name, read from the Stage.
	StageName pulumi.StringOutput `pulumi:"stageName"`
	// StageARN is the stage's ARN (WAF associations use it).
	StageARN pulumi.StringOutput `pulumi:"stageArn"`
	// ExecutionARN is the REST API's execute-api ARN.
	ExecutionARN pulumi.StringOutput `pulumi:"executionArn"`
	// UserPoolID is the Cognito user pool's ID.
	UserPoolID pulumi.StringOutput `pulumi:"userPoolId"`
	// UserPoolARN is the Cognito user pool's ARN.
	UserPoolARN pulumi.StringOutput `pulumi:"userPoolArn"`
	// UserClientID is the app client for people (SRP and USER_PASSWORD_AUTH).
	UserClientID pulumi.StringOutput `pulumi:"userClientId"`
	// MachineClientID is the client-credentials app client; "" when MachineClient is off.
	MachineClientID pulumi.StringOutput `pulumi:"machineClientId"`
	// MachineClientSecret is the machine client's secret, a secret output; "" when off.
	MachineClientSecret pulumi.StringOutput `pulumi:"machineClientSecret"`
	// TokenEndpoint is the Cognito OAuth 2.0 token URL.
	TokenEndpoint pulumi.StringOutput `pulumi:"tokenEndpoint"`
	// APIKeyID is the API key's ID; "" when RequireAPIKey is off.
	APIKeyID pulumi.StringOutput `pulumi:"apiKeyId"`
	// APIKeyValue is the API key, a secret output; "" when RequireAPIKey is off.
	APIKeyValue pulumi.StringOutput `pulumi:"apiKeyValue"`
	// UsagePlanID is the usage plan's ID.
	UsagePlanID pulumi.StringOutput `pulumi:"usagePlanId"`
}

// NewSecuredAPI creates the API, its Cognito user pool, stage, usage plan and permissions.
func NewSecuredAPI(ctx *pulumi.Context, name string, args *SecuredAPIArgs,
	opts ...pulumi.ResourceOption) (*SecuredAPI, error) {
	if args == nil {
		return nil, fmt.Errorf("secured api %q: args are required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("secured api %q: %w", name, err)
	}
	if a.CognitoDomainPrefix == "" {
		a.CognitoDomainPrefix = defaultDomainPrefix(ctx.Project(), ctx.Stack(), name)
	}

	c := &SecuredAPI{}
	if err := ctx.RegisterComponentResource(securedAPIType, name, c, opts...); err != nil {
		return nil, err
	}
	pool, err := newAPIUserPool(ctx, name, &a, c)
	if err != nil {
		return nil, err
	}
	rest, err := newAPIRest(ctx, name, &a, pool, c)
	if err != nil {
		return nil, err
	}
	stage, err := newAPIStage(ctx, name, &a, rest, c)
	if err != nil {
		return nil, err
	}

	c.InvokeURL = stage.invokeURL
	c.RestAPIID = rest.id
	c.RestAPIName = rest.api.Name
	c.StageName = stage.name
	c.StageARN = stage.arn
	c.ExecutionARN = rest.executionArn
	c.UserPoolID = pool.id
	c.UserPoolARN = pool.arn
	c.UserClientID = pool.userClientID
	c.MachineClientID = pool.machineClientID
	c.MachineClientSecret = pool.machineClientSecret
	c.TokenEndpoint = pool.tokenEndpoint
	c.APIKeyID = stage.apiKeyID
	c.APIKeyValue = stage.apiKeyValue
	c.UsagePlanID = stage.usagePlanID

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"invokeUrl":           c.InvokeURL,
		"restApiId":           c.RestAPIID,
		"restApiName":         c.RestAPIName,
		"stageName":           c.StageName,
		"stageArn":            c.StageARN,
		"executionArn":        c.ExecutionARN,
		"userPoolId":          c.UserPoolID,
		"userPoolArn":         c.UserPoolARN,
		"userClientId":        c.UserClientID,
		"machineClientId":     c.MachineClientID,
		"machineClientSecret": c.MachineClientSecret,
		"tokenEndpoint":       c.TokenEndpoint,
		"apiKeyId":            c.APIKeyID,
		"apiKeyValue":         c.APIKeyValue,
		"usagePlanId":         c.UsagePlanID,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// WithDefaults returns the args with every unset optional field at its default. CognitoDomainPrefix
// stays empty: its default depends on the project, stack and component name, and NewSecuredAPI
// derives it.
func (a SecuredAPIArgs) WithDefaults() SecuredAPIArgs {
	if a.StageName == "" {
		a.StageName = DefaultStageName
	}
	if a.MFA == "" {
		a.MFA = MFAOff
	}
	if a.LogRetentionDays == 0 {
		a.LogRetentionDays = DefaultAPILogRetention
	}
	if a.LoggingLevel == "" {
		a.LoggingLevel = DefaultAPILoggingLevel
	}
	if a.IntegrationTimeoutMs == 0 {
		a.IntegrationTimeoutMs = DefaultIntegrationTimeout
	}
	return a
}

var (
	stageNamePattern    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	domainPrefixPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	corsOriginPattern   = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:\d{1,5})?$`)
)

// Validate reports every problem of defaulted args (WithDefaults) at once, each naming the field,
// the value and what is allowed.
func (a SecuredAPIArgs) Validate() error {
	var es FieldErrors
	if a.ProxyInvokeARN == nil {
		es.add("ProxyInvokeARN", nil, "the Lambda proxy's invoke ARN (required)")
	}
	if a.ProxyFunctionARN == nil && a.ProxyFunctionName == nil {
		es.add("ProxyFunctionARN", nil, "the Lambda proxy's ARN, or {ProxyFunctionName} (one is required)")
	}
	if !stageNamePattern.MatchString(a.StageName) {
		es.add("StageName", a.StageName, "1 to 128 letters, digits, hyphens and underscores")
	}
	es.oneOf("MFA", a.MFA, MFAOff, MFAOptional, MFAOn)
	es.oneOf("LoggingLevel", a.LoggingLevel, "INFO", "ERROR", "OFF")
	es.retention("LogRetentionDays", a.LogRetentionDays)
	if a.throttle().RateLimit < 0 {
		es.add("Throttle.RateLimit", a.throttle().RateLimit, "0 or more requests per second")
	}
	if a.throttle().BurstLimit < 0 {
		es.add("Throttle.BurstLimit", a.throttle().BurstLimit, "0 or more requests")
	}
	if a.quota().Limit < 0 {
		es.add("Quota.Limit", a.quota().Limit, "0 (no quota) or more requests per period")
	}
	if a.quota().Limit > 0 || a.quota().Period != "" {
		es.oneOf("Quota.Period", a.quota().Period, "DAY", "WEEK", "MONTH")
	}
	es.intIn("IntegrationTimeoutMs", a.IntegrationTimeoutMs, 50, DefaultIntegrationTimeout)
	if p := a.CognitoDomainPrefix; p != "" {
		reserved := strings.Contains(p, "aws") || strings.Contains(p, "amazon") || strings.Contains(p, "cognito")
		if reserved || !domainPrefixPattern.MatchString(p) {
			es.add("CognitoDomainPrefix", p, `1 to 63 lowercase letters, digits and inner hyphens, not containing "aws", "amazon" or "cognito" (Cognito reserves them)`)
		}
	}
	for _, o := range a.CORSOrigins {
		// No wildcard: the API echoes listed origins to authenticated callers only.
		if !corsOriginPattern.MatchString(o) || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://localhost")) {
			es.add("CORSOrigins", o, "origins like https://app.example.com (https, or http://localhost for development; no wildcard, path or trailing slash)")
		}
	}
	return es.err()
}

// throttle is the throttle to apply: the zero APIThrottle (account limits) when Throttle is nil.
func (s SecuredAPISettings) throttle() APIThrottle {
	if s.Throttle == nil {
		return APIThrottle{}
	}
	return *s.Throttle
}

// quota is the quota to apply: the zero APIQuota (none) when Quota is nil.
func (s SecuredAPISettings) quota() APIQuota {
	if s.Quota == nil {
		return APIQuota{}
	}
	return *s.Quota
}
