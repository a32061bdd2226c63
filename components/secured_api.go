package components

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const securedAPIType = "inferstack:components:SecuredApi"

// Defaults of SecuredAPIArgs.
const (
	DefaultStageName          = "v1"
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
	// Throttle is the stage-wide and usage-plan throttle (default: account limits).
	Throttle APIThrottle `pulumi:"throttle"`
	// Quota is the usage plan's quota (default none).
	Quota APIQuota `pulumi:"quota"`
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
	a := *args
	a.applyDefaults(ctx, name)
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("secured api %q: %w", name, err)
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

func (a *SecuredAPIArgs) applyDefaults(ctx *pulumi.Context, name string) {
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
	if a.CognitoDomainPrefix == "" {
		a.CognitoDomainPrefix = defaultDomainPrefix(ctx.Project(), ctx.Stack(), name)
	}
}

var (
	stageNamePattern    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	domainPrefixPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	// logRetentionDays are the values CloudWatch Logs accepts.
	logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
		2557, 2922, 3288, 3653}
)

// validate reports every problem at once, each naming the field, the value and what is allowed.
func (a *SecuredAPIArgs) validate() error {
	var errs []error
	bad := func(format string, v ...any) { errs = append(errs, fmt.Errorf(format, v...)) }
	if a.ProxyInvokeARN == nil {
		bad("ProxyInvokeARN is required")
	}
	if a.ProxyFunctionARN == nil && a.ProxyFunctionName == nil {
		bad("ProxyFunctionARN or ProxyFunctionName is required")
	}
	if !stageNamePattern.MatchString(a.StageName) {
		bad("StageName %q: want 1-128 letters, digits, '-' or '_'", a.StageName)
	}
	if !slices.Contains([]string{MFAOff, MFAOptional, MFAOn}, a.MFA) {
		bad("MFA %q: want off, optional or on", a.MFA)
	}
	if !slices.Contains([]string{"INFO", "ERROR", "OFF"}, a.LoggingLevel) {
		bad("LoggingLevel %q: want INFO, ERROR or OFF", a.LoggingLevel)
	}
	if !slices.Contains(logRetentionDays, a.LogRetentionDays) {
		bad("LogRetentionDays %d: want one of %v", a.LogRetentionDays, logRetentionDays)
	}
	if a.Throttle.RateLimit < 0 || a.Throttle.BurstLimit < 0 {
		bad("Throttle %+v: want rate and burst >= 0", a.Throttle)
	}
	if a.Quota.Limit < 0 {
		bad("Quota.Limit %d: want >= 0 (0 = no quota)", a.Quota.Limit)
	}
	if a.Quota.Limit > 0 && !slices.Contains([]string{"DAY", "WEEK", "MONTH"}, a.Quota.Period) {
		bad("Quota.Period %q: want DAY, WEEK or MONTH", a.Quota.Period)
	}
	if a.IntegrationTimeoutMs < 50 || a.IntegrationTimeoutMs > 29000 {
		bad("IntegrationTimeoutMs %d: want 50..29000", a.IntegrationTimeoutMs)
	}
	p := a.CognitoDomainPrefix
	if !domainPrefixPattern.MatchString(p) {
		bad("CognitoDomainPrefix %q: want 1-63 lowercase letters, digits and inner hyphens", p)
	}
	for _, reserved := range []string{"aws", "amazon", "cognito"} {
		if strings.Contains(p, reserved) {
			bad("CognitoDomainPrefix %q: must not contain %q (Cognito reserves it)", p, reserved)
		}
	}
	for _, o := range a.CORSOrigins {
		if o == "*" || !(strings.HasPrefix(o, "https://") || strings.HasPrefix(o, "http://localhost")) ||
			strings.ContainsAny(o, `"'\ `) {
			bad("CORSOrigins %q: want an https:// origin (or http://localhost...), no wildcard", o)
		}
	}
	return errors.Join(errs...)
}
