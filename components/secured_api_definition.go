package components

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/inferstack/inferstack/internal/contract"
)

// Names that clients and tests rely on.
const (
	// ResourceServerIdentifier is the Cognito resource server of every SecuredAPI; scopes are
	// "<identifier>/<scope>".
	ResourceServerIdentifier = "inferstack"
	// InvokeScope is the full OAuth scope a token needs to call the API.
	InvokeScope = ResourceServerIdentifier + "/invoke"
	// CognitoUserScope is the scope Cognito puts in every access token it issues through its user
	// API (InitiateAuth with USER_PASSWORD_AUTH or SRP). Those tokens cannot carry custom scopes,
	// so methods accept it only with SecuredAPIArgs.AcceptUserTokens; the pool only admits users
	// an administrator created.
	CognitoUserScope = "aws.cognito.signin.user.admin"
	// AuthorizationCognito is the API Gateway authorization type of every protected method.
	AuthorizationCognito = "COGNITO_USER_POOLS"
)

// apiDefinition is everything that an API Gateway Deployment snapshots: routes, integrations, the
// authorizer, validators, models and gateway responses. The component creates its resources from
// this one value and hashes it for the Deployment trigger, so a change that is not in the hash
// cannot reach the API without a redeploy, and the hash cannot drift from what was built.
type apiDefinition struct {
	Authorizer       authorizerDef     `json:"authorizer"`
	Validator        validatorDef      `json:"validator"`
	Models           []modelDef        `json:"models"`
	Routes           []routeDef        `json:"routes"`
	GatewayResponses []gatewayResponse `json:"gatewayResponses"`
	CORS             *corsDef          `json:"cors,omitempty"`
}

// authorizerDef is the Cognito user-pool authorizer. ProviderARN is the user pool's ARN, known only
// after the pool exists; it is filled in before hashing.
type authorizerDef struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	IdentitySource string `json:"identitySource"`
	ProviderARN    string `json:"providerArn"`
}

// validatorDef is the request validator used by methods with a body model.
type validatorDef struct {
	Name           string `json:"name"`
	ValidateBody   bool   `json:"validateBody"`
	ValidateParams bool   `json:"validateParams"`
}

// modelDef is a request body model (JSON schema, draft 4 as API Gateway requires).
type modelDef struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Schema      string `json:"schema"`
}

// routeDef is one method on one resource and its Lambda proxy integration.
type routeDef struct {
	// PathPart is the resource under the root ("ping", "invocations").
	PathPart       string   `json:"pathPart"`
	HTTPMethod     string   `json:"httpMethod"`
	Authorization  string   `json:"authorization"`
	Scopes         []string `json:"scopes"`
	APIKeyRequired bool     `json:"apiKeyRequired"`
	// RequestModels maps a content type to a modelDef name; the validator applies when non-empty.
	RequestModels map[string]string `json:"requestModels,omitempty"`
	Integration   integrationDef    `json:"integration"`
}

// Path is the resource path as API Gateway and execute-api ARNs spell it.
func (r routeDef) Path() string { return "/" + r.PathPart }

// integrationDef is a Lambda proxy integration. URI is the function's invoke ARN, filled in
// before hashing: a replaced function must redeploy the API or the stage keeps calling the old one.
type integrationDef struct {
	Type          string `json:"type"`
	HTTPMethod    string `json:"httpMethod"`
	TimeoutMillis int    `json:"timeoutMillis"`
	URI           string `json:"uri"`
}

// gatewayResponse makes API Gateway's own errors JSON like the model server's.
type gatewayResponse struct {
	Type       string            `json:"type"`
	StatusCode string            `json:"statusCode,omitempty"`
	Template   string            `json:"template"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// corsDef answers browser preflights with a MOCK integration; OPTIONS is the one method without
// an authorizer, because browsers never send credentials on a preflight.
type corsDef struct {
	Origins []string `json:"origins"`
	Headers []string `json:"headers"`
	MaxAge  int      `json:"maxAge"`
}

// apiOptions are the plain settings that shape the definition.
type apiOptions struct {
	RequireAPIKey      bool
	AcceptUserTokens   bool
	CORSOrigins        []string
	IntegrationTimeout int // milliseconds
}

// invocationSchema rejects a malformed or scalar JSON body at the edge, before it costs a Lambda
// invocation and an endpoint call. Other content types (CSV, binary) pass to the proxy unchecked.
const invocationSchema = `{"$schema":"http://json-schema.org/draft-04/schema#","title":"InvocationRequest","type":["object","array"]}`

// newAPIDefinition builds the definition for GET /ping and POST /invocations.
func newAPIDefinition(o apiOptions) apiDefinition {
	scopes := []string{InvokeScope}
	if o.AcceptUserTokens {
		scopes = append(scopes, CognitoUserScope)
	}
	integration := integrationDef{Type: "AWS_PROXY", HTTPMethod: "POST", TimeoutMillis: o.IntegrationTimeout}
	d := apiDefinition{
		Authorizer: authorizerDef{
			Name: "cognito", Type: AuthorizationCognito, IdentitySource: "method.request.header.Authorization",
		},
		Validator: validatorDef{Name: "body", ValidateBody: true},
		Models: []modelDef{{
			Name: "InvocationRequest", ContentType: "application/json", Schema: invocationSchema,
		}},
		Routes: []routeDef{
			{
				PathPart: "ping", HTTPMethod: "GET", Authorization: AuthorizationCognito, Scopes: scopes,
				APIKeyRequired: o.RequireAPIKey, Integration: integration,
			},
			{
				PathPart: "invocations", HTTPMethod: "POST", Authorization: AuthorizationCognito, Scopes: scopes,
				APIKeyRequired: o.RequireAPIKey,
				RequestModels:  map[string]string{"application/json": "InvocationRequest"}, Integration: integration,
			},
		},
	}
	var cors map[string]string
	if len(o.CORSOrigins) > 0 {
		d.CORS = &corsDef{
			Origins: append([]string(nil), o.CORSOrigins...),
			// The SageMaker headers are forwarded by the proxy (docs/lambda-proxy.md); without them
			// here a browser's preflight refuses a request that sends one.
			Headers: []string{"Authorization", "Content-Type", "X-Api-Key", "X-Amz-Date", "X-Amz-Security-Token",
				contract.HeaderCustomAttributes, contract.HeaderInferenceID},
			MaxAge: 600,
		}
		cors = d.CORS.gatewayHeaders()
	}
	for _, r := range []struct{ typ, status string }{
		{"UNAUTHORIZED", "401"},
		{"ACCESS_DENIED", "403"},
		{"INVALID_API_KEY", "403"},
		{"MISSING_AUTHENTICATION_TOKEN", "403"},
		{"EXPIRED_TOKEN", "403"},
		{"WAF_FILTERED", "403"},
		{"BAD_REQUEST_BODY", "400"},
		{"REQUEST_TOO_LARGE", "413"},
		{"THROTTLED", "429"},
		{"QUOTA_EXCEEDED", "429"},
		{"INTEGRATION_TIMEOUT", "504"},
		{"DEFAULT_4XX", ""},
		{"DEFAULT_5XX", ""},
	} {
		d.GatewayResponses = append(d.GatewayResponses, gatewayResponse{
			Type: r.typ, StatusCode: r.status, Template: errorTemplate(r.typ), Headers: cors,
		})
	}
	return d
}

// errorTemplate renders {"error":{...}} with API Gateway's own message. Gateway response templates
// are plain substitution, not VTL ($util does not exist there), so only values that API Gateway
// quotes itself may appear: messageString is a JSON string; validationErrorString is not and can
// hold quotes, so a rejected body says "Invalid request body" rather than risk invalid JSON.
func errorTemplate(code string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":$context.error.messageString,"requestId":"$context.requestId"}}`, code)
}

// gatewayHeaders lets a browser read API Gateway's error bodies. A gateway response header is
// static, so with several origins the error responses name none and the browser only sees the status.
func (c *corsDef) gatewayHeaders() map[string]string {
	if len(c.Origins) != 1 {
		return map[string]string{"gatewayresponse.header.Vary": "'Origin'"}
	}
	return map[string]string{
		"gatewayresponse.header.Access-Control-Allow-Origin": "'" + c.Origins[0] + "'",
		"gatewayresponse.header.Vary":                        "'Origin'",
	}
}

// preflightTemplate is the MOCK integration response body: it echoes the request's Origin only
// when it is allowed, which one static header cannot do for several origins.
func (c *corsDef) preflightTemplate() string {
	conds := make([]string, 0, len(c.Origins))
	for _, o := range c.Origins {
		conds = append(conds, fmt.Sprintf(`$origin == "%s"`, o))
	}
	// HTTP/2 clients send the header in lower case; $input.params is case-sensitive.
	return `#set($origin = $input.params("Origin"))` + "\n" +
		`#if($origin == "")#set($origin = $input.params("origin"))#end` + "\n" +
		`#if(` + strings.Join(conds, " || ") + `)` + "\n" +
		`#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)` + "\n" +
		`#end` + "\n"
}

// withResolved returns a copy with the values known only after other resources exist.
func (d apiDefinition) withResolved(invokeARN, userPoolARN string) apiDefinition {
	d.Authorizer.ProviderARN = userPoolARN
	d.Routes = append([]routeDef(nil), d.Routes...)
	for i := range d.Routes {
		d.Routes[i].Integration.URI = invokeARN
	}
	return d
}

// Hash is the Deployment trigger: a SHA-256 of the definition's canonical JSON. encoding/json
// sorts map keys and the builder emits slices in a fixed order, so equal definitions hash equally.
func (d apiDefinition) Hash() (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("hash API definition: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
