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

// Defaults of SecuredApiArgs.
const (
	DefaultStageName          = "v1"
	DefaultWAFRateLimit       = 2000
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
	RateLimit float64
	// BurstLimit is the token bucket size.
	BurstLimit int
}

// APIQuota is a request budget per period for the usage plan.
type APIQuota struct {
	// Limit is requests per Period; 0 means no quota.
	Limit int
	// Period is DAY, WEEK or MONTH.
	Period string
}

// FirewallArgs is what a Firewall gets to protect the API's stage.
type FirewallArgs struct {
	// StageArn is the API Gateway stage ARN the web ACL is associated with.
	StageArn pulumi.StringInput
	// RateLimit is the number of requests per 5 minutes per client IP before blocking.
	RateLimit int
	// Tags are the tags for the firewall's taggable children.
	Tags pulumi.StringMap
}

// Firewall creates a web application firewall in front of an API stage and returns the web ACL's
// ARN. It is a function so that this package does not import the wafv2 SDK, which costs minutes
// and gigabytes to compile: pass waf.Attach from github.com/inferstack/inferstack/components/waf.
type Firewall func(ctx *pulumi.Context, name string, args FirewallArgs,
	opts ...pulumi.ResourceOption) (pulumi.StringOutput, error)

// SecuredApiArgs configures a SecuredApi.
type SecuredApiArgs struct {
	// ProxyInvokeArn (required) is the Lambda proxy's invoke ARN, the integration URI.
	ProxyInvokeArn pulumi.StringInput
	// ProxyFunctionArn is the Lambda proxy's ARN; it or ProxyFunctionName is required. API Gateway
	// is allowed to invoke this function.
	ProxyFunctionArn pulumi.StringInput
	// ProxyFunctionName is the Lambda proxy's name, used when ProxyFunctionArn is not set.
	ProxyFunctionName pulumi.StringInput

	// StageName is the API stage (default "v1").
	StageName string
	// RequireAPIKey makes every method require an x-api-key header and creates a key in the
	// usage plan (default false; the dev preset sets it).
	RequireAPIKey bool
	// AcceptUserTokens (default false) also lets access tokens of people signed in through
	// Cognito's user API (SRP, USER_PASSWORD_AUTH) call the API. Those tokens cannot carry the
	// invoke scope, only aws.cognito.signin.user.admin, so accepting them admits every user of the
	// pool; without it, only tokens granted InvokeScope (the machine client's) are accepted.
	AcceptUserTokens bool
	// MFA is the user pool's MFA: "off" (default), "optional" or "on"; TOTP software tokens.
	MFA string
	// MachineClient creates the client-credentials app client (default false). Cognito bills
	// machine-to-machine clients monthly and per token request.
	MachineClient bool
	// CORSOrigins are the browser origins allowed to call the API (default none: no OPTIONS
	// methods exist).
	CORSOrigins []string
	// Throttle is the stage-wide and usage-plan throttle (default: account limits).
	Throttle APIThrottle
	// Quota is the usage plan's quota (default none).
	Quota APIQuota
	// WAF puts a WAFv2 web ACL in front of the stage (default false); Firewall is then required.
	WAF bool
	// WAFRateLimit is requests per 5 minutes per IP before WAF blocks (default 2000).
	WAFRateLimit int
	// Firewall builds the web ACL when WAF is set: pass waf.Attach.
	Firewall Firewall
	// CreateAccountLogsRole makes this stack own the region's account-level API Gateway
	// CloudWatch Logs role (default false). There is one per account and region: let exactly one
	// stack own it, or set it up outside Pulumi.
	CreateAccountLogsRole bool
	// LogRetentionDays is the retention of access and execution logs (default 30).
	LogRetentionDays int
	// LoggingLevel is the execution log level INFO, ERROR or OFF (default ERROR). Anything but OFF
	// also writes JSON access logs and needs the account's CloudWatch Logs role to exist or to be
	// created by CreateAccountLogsRole; OFF turns both off so a fresh account deploys without it.
	LoggingLevel string
	// CognitoDomainPrefix is the hosted domain prefix of the token endpoint; it must be unique in
	// the region (default: the component name plus a hash of project, stack and name).
	CognitoDomainPrefix string
	// DeletionProtection protects the user pool from deletion (default false; set it in prod).
	DeletionProtection bool
	// IntegrationTimeoutMs is the Lambda integration timeout (default 29000).
	IntegrationTimeoutMs int
	// Tags go on every taggable child (see StandardTags).
	Tags map[string]string
}

// SecuredApi is a regional API Gateway REST API in front of the Lambda proxy: GET /ping and POST
// /invocations, each requiring a Cognito access token with the invoke scope (and an API key when
// configured), with a usage plan, JSON access logs, X-Ray and an optional WAF.
type SecuredApi struct {
	pulumi.ResourceState

	// InvokeURL is the stage URL; append /ping or /invocations.
	InvokeURL pulumi.StringOutput `pulumi:"invokeUrl"`
	// RestApiID is the REST API's ID.
	RestApiID pulumi.StringOutput `pulumi:"restApiId"`
	// RestApiName is the REST API's name, the ApiName dimension of its CloudWatch metrics.
	RestApiName pulumi.StringOutput `pulumi:"restApiName"`
	// StageName is the stage's name, read from the Stage.
	StageName pulumi.StringOutput `pulumi:"stageName"`
	// StageArn is the stage's ARN (WAF associations use it).
	StageArn pulumi.StringOutput `pulumi:"stageArn"`
	// ExecutionArn is the REST API's execute-api ARN.
	ExecutionArn pulumi.StringOutput `pulumi:"executionArn"`
	// UserPoolID is the Cognito user pool's ID.
	UserPoolID pulumi.StringOutput `pulumi:"userPoolId"`
	// UserPoolArn is the Cognito user pool's ARN.
	UserPoolArn pulumi.StringOutput `pulumi:"userPoolArn"`
	// UserClientID is the app client for people (SRP and USER_PASSWORD_AUTH).
	UserClientID pulumi.StringOutput `pulumi:"userClientId"`
	// MachineClientID is the client-credentials app client; "" when MachineClient is off.
	MachineClientID pulumi.StringOutput `pulumi:"machineClientId"`
	// MachineClientSecret is the machine client's secret, a secret output; "" when off.
	MachineClientSecret pulumi.StringOutput `pulumi:"machineClientSecret"`
	// TokenEndpoint is the Cognito OAuth 2.0 token URL.
	TokenEndpoint pulumi.StringOutput `pulumi:"tokenEndpoint"`
	// ApiKeyID is the API key's ID; "" when RequireAPIKey is off.
	ApiKeyID pulumi.StringOutput `pulumi:"apiKeyId"`
	// ApiKeyValue is the API key, a secret output; "" when RequireAPIKey is off.
	ApiKeyValue pulumi.StringOutput `pulumi:"apiKeyValue"`
	// UsagePlanID is the usage plan's ID.
	UsagePlanID pulumi.StringOutput `pulumi:"usagePlanId"`
	// WebAclArn is the WAF web ACL's ARN; "" when WAF is off.
	WebAclArn pulumi.StringOutput `pulumi:"webAclArn"`
}

// NewSecuredApi creates the API, its Cognito user pool, stage, usage plan and permissions.
func NewSecuredApi(ctx *pulumi.Context, name string, args *SecuredApiArgs,
	opts ...pulumi.ResourceOption) (*SecuredApi, error) {
	if args == nil {
		return nil, fmt.Errorf("secured api %q: args are required", name)
	}
	a := *args
	a.applyDefaults(ctx, name)
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("secured api %q: %w", name, err)
	}

	c := &SecuredApi{}
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
	c.RestApiID = rest.id
	c.RestApiName = rest.api.Name
	c.StageName = stage.name
	c.StageArn = stage.arn
	c.ExecutionArn = rest.executionArn
	c.UserPoolID = pool.id
	c.UserPoolArn = pool.arn
	c.UserClientID = pool.userClientID
	c.MachineClientID = pool.machineClientID
	c.MachineClientSecret = pool.machineClientSecret
	c.TokenEndpoint = pool.tokenEndpoint
	c.ApiKeyID = stage.apiKeyID
	c.ApiKeyValue = stage.apiKeyValue
	c.UsagePlanID = stage.usagePlanID
	c.WebAclArn = pulumi.String("").ToStringOutput()
	if a.WAF {
		acl, err := a.Firewall(ctx, name+"-waf", FirewallArgs{
			StageArn: stage.arn, RateLimit: a.WAFRateLimit, Tags: tagsFor(a.Tags, name+"-waf"),
		}, pulumi.Parent(c))
		if err != nil {
			return nil, fmt.Errorf("secured api %q: firewall: %w", name, err)
		}
		c.WebAclArn = acl
	}

	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"invokeUrl":           c.InvokeURL,
		"restApiId":           c.RestApiID,
		"restApiName":         c.RestApiName,
		"stageName":           c.StageName,
		"stageArn":            c.StageArn,
		"executionArn":        c.ExecutionArn,
		"userPoolId":          c.UserPoolID,
		"userPoolArn":         c.UserPoolArn,
		"userClientId":        c.UserClientID,
		"machineClientId":     c.MachineClientID,
		"machineClientSecret": c.MachineClientSecret,
		"tokenEndpoint":       c.TokenEndpoint,
		"apiKeyId":            c.ApiKeyID,
		"apiKeyValue":         c.ApiKeyValue,
		"usagePlanId":         c.UsagePlanID,
		"webAclArn":           c.WebAclArn,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *SecuredApiArgs) applyDefaults(ctx *pulumi.Context, name string) {
	if a.StageName == "" {
		a.StageName = DefaultStageName
	}
	if a.MFA == "" {
		a.MFA = MFAOff
	}
	if a.WAFRateLimit == 0 {
		a.WAFRateLimit = DefaultWAFRateLimit
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
func (a *SecuredApiArgs) validate() error {
	var errs []error
	bad := func(format string, v ...any) { errs = append(errs, fmt.Errorf(format, v...)) }
	if a.ProxyInvokeArn == nil {
		bad("ProxyInvokeArn is required")
	}
	if a.ProxyFunctionArn == nil && a.ProxyFunctionName == nil {
		bad("ProxyFunctionArn or ProxyFunctionName is required")
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
	if a.WAF && a.Firewall == nil {
		bad("WAF is on but Firewall is nil: pass waf.Attach from github.com/inferstack/inferstack/components/waf")
	}
	if a.WAFRateLimit < 10 || a.WAFRateLimit > 2_000_000_000 {
		bad("WAFRateLimit %d: want 10..2000000000 requests per 5 minutes", a.WAFRateLimit)
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
