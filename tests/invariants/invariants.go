// Package invariants checks the security invariants of a whole inferstack program run under the
// recording mock: least-privilege IAM, encryption at rest, authorized API methods, no plaintext
// secrets, log retention and cost tags. The whole-program tests in tests/ run it for every
// committed Pulumi.<stack>.yaml; each finding names the invariant, the resource and what is wrong.
package invariants

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

// Invariant names, as they appear in findings.
const (
	IAMWildcardAction = "iam: no wildcard action"
	IAMScopedResource = "iam: every Resource scoped"
	IAMNotAction      = "iam: no NotAction/NotResource in Allow"
	IAMPublic         = "iam: no public principal"
	IAMManagedPolicy  = "iam: no broad AWS-managed policy"
	EncryptionAtRest  = "encryption at rest"
	APIAuthorized     = "api: every method authorized"
	NoPlaintextSecret = "no plaintext secret"
	LogRetention      = "log groups have retention"
	CostTags          = "cost tags on every taggable resource"
)

// All lists every invariant, for reports that show the ones that hold too.
var All = []string{IAMWildcardAction, IAMScopedResource, IAMNotAction, IAMPublic, IAMManagedPolicy,
	EncryptionAtRest, APIAuthorized, NoPlaintextSecret, LogRetention, CostTags}

// Violation is one broken invariant.
type Violation struct {
	Invariant string
	Resource  string // type::name, or the file for config findings
	Detail    string
}

// String renders the violation for a test failure.
func (v Violation) String() string { return v.Invariant + ": " + v.Resource + ": " + v.Detail }

// Options carry what the checks need from the stack config.
type Options struct {
	// Region is the stack's AWS region (for the logs service principal).
	Region string
	// RequiredTags are the cost tag keys every taggable resource must carry.
	RequiredTags []string
	// ImageKMSKeyARN and EndpointKMSKeyARN are the configured keys, when set: the ECR repository
	// and the endpoint configuration must then use them.
	ImageKMSKeyARN, EndpointKMSKeyARN string
}

// StarResourceActions are the actions AWS authorizes only on "Resource": "*", each with the
// reason. A statement on "*" passes only when every action in it is listed here.
var StarResourceActions = map[string]string{
	"ecr:GetAuthorizationToken":     "registry login tokens are account-wide; the action has no resource type",
	"cloudwatch:PutMetricData":      "PutMetricData has no resource type (scope it with a cloudwatch:namespace condition)",
	"xray:PutTraceSegments":         "X-Ray trace ingestion has no resource type",
	"xray:PutTelemetryRecords":      "X-Ray trace ingestion has no resource type",
	"xray:GetSamplingRules":         "X-Ray sampling has no resource type",
	"xray:GetSamplingTargets":       "X-Ray sampling has no resource type",
	"ec2:DescribeNetworkInterfaces": "EC2 Describe actions have no resource-level permissions (VPC-attached endpoints)",
	"ec2:DescribeVpcs":              "EC2 Describe actions have no resource-level permissions (VPC-attached endpoints)",
	"ec2:DescribeSubnets":           "EC2 Describe actions have no resource-level permissions (VPC-attached endpoints)",
	"ec2:DescribeSecurityGroups":    "EC2 Describe actions have no resource-level permissions (VPC-attached endpoints)",
	"ec2:DescribeDhcpOptions":       "EC2 Describe actions have no resource-level permissions (VPC-attached endpoints)",
}

// AllowedManagedPolicies are the AWS-managed policies a stack may attach, each with the reason.
var AllowedManagedPolicies = map[string]string{
	"service-role/AmazonAPIGatewayPushToCloudWatchLogs": "the account-level API Gateway logging role (docs/design.md#the-accounts-api-gateway-logging-role) " +
		"is defined by AWS; it is created only with api.createAccountLogsRole",
}

type checker struct {
	rs   []pulumimock.Resource
	opts Options
	out  []Violation
}

func (c *checker) add(inv string, r pulumimock.Resource, format string, args ...any) {
	c.out = append(c.out, Violation{Invariant: inv, Resource: r.String(), Detail: fmt.Sprintf(format, args...)})
}

func (c *checker) ofType(typ string) []pulumimock.Resource {
	var out []pulumimock.Resource
	for _, r := range c.rs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Check runs every resource invariant over one program's registrations.
func Check(resources []pulumimock.Resource, opts Options) []Violation {
	c := &checker{rs: resources, opts: opts}
	c.iam()
	c.encryption()
	c.apiMethods()
	c.environmentSecrets()
	c.logRetention()
	c.tags()
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Invariant < c.out[j].Invariant })
	return c.out
}

func str(r pulumimock.Resource, path string) string {
	v, ok := r.Input(path)
	if !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

// state reads a computed output (the physical name, the ARN) the mock returned.
func state(r pulumimock.Resource, path string) string {
	v, ok := pulumimock.Lookup(r.State, path)
	if !ok {
		return ""
	}
	s, _ := v.(string)
	return s
}

// --- IAM -------------------------------------------------------------------------------------

type docKind int

const (
	identityDoc docKind = iota // attached to a role or policy: Resource must be scoped
	trustDoc                   // a role's trust policy: principals only
	keyDoc                     // a KMS key policy: "*" is the key
	resourceDoc                // a resource policy: Resource names the resource
)

type policyDoc struct {
	owner pulumimock.Resource
	path  string
	kind  docKind
	text  string
}

// stringList is an IAM field that is a string or a list of strings.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

type statement struct {
	Sid         string         `json:"Sid"`
	Effect      string         `json:"Effect"`
	Principal   any            `json:"Principal"`
	Action      stringList     `json:"Action"`
	NotAction   stringList     `json:"NotAction"`
	Resource    stringList     `json:"Resource"`
	NotResource stringList     `json:"NotResource"`
	Condition   map[string]any `json:"Condition"`
}

type document struct {
	Statement []statement `json:"Statement"`
}

func (c *checker) documents() []policyDoc {
	var docs []policyDoc
	addPath := func(r pulumimock.Resource, path string, kind docKind) {
		if text := str(r, path); text != "" {
			docs = append(docs, policyDoc{owner: r, path: path, kind: kind, text: text})
		}
	}
	for _, r := range c.rs {
		switch r.Type {
		case "aws:iam/role:Role":
			addPath(r, "assumeRolePolicy", trustDoc)
			if inline, ok := r.Input("inlinePolicies"); ok {
				list, _ := inline.([]any)
				for i := range list {
					addPath(r, fmt.Sprintf("inlinePolicies.%d.policy", i), identityDoc)
				}
			}
		case "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy",
			"aws:iam/groupPolicy:GroupPolicy":
			addPath(r, "policy", identityDoc)
		case "aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy":
			addPath(r, "policy", keyDoc)
		case "aws:sns/topicPolicy:TopicPolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
			"aws:apigateway/restApiPolicy:RestApiPolicy", "aws:apigateway/restApi:RestApi",
			"aws:cloudwatch/logResourcePolicy:LogResourcePolicy":
			path := "policy"
			if r.Type == "aws:cloudwatch/logResourcePolicy:LogResourcePolicy" {
				path = "policyDocument"
			}
			addPath(r, path, resourceDoc)
		}
	}
	return docs
}

// conditionNames reports whether a statement's Condition tests the key under some operator.
func conditionNames(cond map[string]any, key string) bool {
	for _, block := range cond {
		if m, ok := block.(map[string]any); ok {
			if _, ok := m[key]; ok {
				return true
			}
		}
	}
	return false
}

func isPublic(p any) bool {
	switch v := p.(type) {
	case string:
		return v == "*"
	case map[string]any:
		for _, e := range v {
			switch ev := e.(type) {
			case string:
				if ev == "*" {
					return true
				}
			case []any:
				for _, x := range ev {
					if x == "*" {
						return true
					}
				}
			}
		}
	}
	return false
}

func (c *checker) iam() {
	for _, d := range c.documents() {
		var doc document
		if err := json.Unmarshal([]byte(d.text), &doc); err != nil {
			c.add(IAMScopedResource, d.owner, "%s is not a valid policy document: %v", d.path, err)
			continue
		}
		for i, st := range doc.Statement {
			where := fmt.Sprintf("%s statement %d", d.path, i)
			if st.Sid != "" {
				where += " (" + st.Sid + ")"
			}
			if d.kind != identityDoc && isPublic(st.Principal) && st.Effect == "Allow" && len(st.Condition) == 0 {
				c.add(IAMPublic, d.owner, "%s allows principal \"*\" without a condition", where)
			}
			if st.Effect != "Allow" {
				continue // a Deny may be as broad as it likes
			}
			if len(st.NotAction) > 0 || len(st.NotResource) > 0 {
				c.add(IAMNotAction, d.owner, "%s allows everything but a list", where)
			}
			for _, a := range st.Action {
				if a == "*" || strings.HasSuffix(a, ":*") {
					c.add(IAMWildcardAction, d.owner, "%s allows %q", where, a)
				}
			}
			if d.kind == trustDoc || d.kind == keyDoc {
				continue
			}
			for _, res := range st.Resource {
				if res != "*" {
					continue
				}
				if d.kind == resourceDoc {
					c.add(IAMScopedResource, d.owner, "%s: a resource policy must name its resource, not \"*\"", where)
					continue
				}
				var unscoped []string
				for _, a := range st.Action {
					if _, ok := StarResourceActions[a]; !ok {
						unscoped = append(unscoped, a)
					}
				}
				if len(unscoped) > 0 {
					c.add(IAMScopedResource, d.owner, "%s grants %v on \"*\"", where, unscoped)
				}
				if slices.Contains(st.Action, "cloudwatch:PutMetricData") && !conditionNames(st.Condition, "cloudwatch:namespace") {
					c.add(IAMScopedResource, d.owner, "%s grants cloudwatch:PutMetricData on \"*\" without a cloudwatch:namespace condition", where)
				}
			}
		}
	}
	for _, r := range c.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		arn := str(r, "policyArn")
		const awsManaged = ":iam::aws:policy/"
		i := strings.Index(arn, awsManaged)
		if i < 0 {
			continue // a customer policy: its document is checked above
		}
		if _, ok := AllowedManagedPolicies[arn[i+len(awsManaged):]]; !ok {
			c.add(IAMManagedPolicy, r, "attaches %s; write a scoped policy instead", arn)
		}
	}
}

// --- Encryption at rest --------------------------------------------------------------------------

func (c *checker) encryption() {
	for _, r := range c.ofType("aws:ecr/repository:Repository") {
		typ := str(r, "encryptionConfigurations.0.encryptionType")
		switch {
		case typ != "AES256" && typ != "KMS":
			c.add(EncryptionAtRest, r, "ECR repository has no encryptionConfigurations (want AES256 or KMS)")
		case c.opts.ImageKMSKeyARN != "" && (typ != "KMS" || str(r, "encryptionConfigurations.0.kmsKey") != c.opts.ImageKMSKeyARN):
			c.add(EncryptionAtRest, r, "image.kmsKeyArn is %s but the repository uses %s %q",
				c.opts.ImageKMSKeyARN, typ, str(r, "encryptionConfigurations.0.kmsKey"))
		}
	}
	if c.opts.EndpointKMSKeyARN != "" {
		for _, r := range c.ofType("aws:sagemaker/endpointConfiguration:EndpointConfiguration") {
			if got := str(r, "kmsKeyArn"); got != c.opts.EndpointKMSKeyARN {
				c.add(EncryptionAtRest, r, "endpoint.kmsKeyArn is %s but the endpoint configuration has kmsKeyArn %q",
					c.opts.EndpointKMSKeyARN, got)
			}
		}
	}
	keys := map[string]pulumimock.Resource{}
	for _, k := range c.ofType("aws:kms/key:Key") {
		keys[state(k, "arn")] = k
	}
	// SNS: a customer-managed key of this stack whose policy lets CloudWatch and Budgets use it;
	// the AWS-managed alias/aws/sns (in any spelling) silently drops their notifications (docs/design.md#notification-topics-need-their-own-key).
	for _, r := range c.ofType("aws:sns/topic:Topic") {
		key := str(r, "kmsMasterKeyId")
		switch {
		case key == "":
			c.add(EncryptionAtRest, r, "SNS topic is not encrypted (kmsMasterKeyId unset)")
		case strings.HasSuffix(key, "alias/aws/sns"):
			c.add(EncryptionAtRest, r, "%s drops CloudWatch and Budgets notifications (docs/design.md#notification-topics-need-their-own-key)", key)
		default:
			k, ok := keys[key]
			if !ok {
				c.add(EncryptionAtRest, r, "its key %s is not a key of this stack, so its policy cannot be checked", key)
				continue
			}
			for _, service := range []string{"cloudwatch.amazonaws.com", "budgets.amazonaws.com"} {
				if !keyPolicyGrants(str(k, "policy"), service, "kms:Decrypt", "kms:GenerateDataKey*") {
					c.add(EncryptionAtRest, r, "its KMS key %s does not let %s use it (kms:Decrypt, kms:GenerateDataKey*)", k.Name, service)
				}
			}
		}
	}
	// CloudWatch Logs encrypts every log group at rest; a group with its own key needs a key
	// policy that lets the logs service use it (docs/design.md#log-groups-with-their-own-key).
	logs := "logs." + c.opts.Region + ".amazonaws.com"
	for _, r := range c.ofType("aws:cloudwatch/logGroup:LogGroup") {
		key, ok := keys[str(r, "kmsKeyId")]
		if !ok {
			continue
		}
		if !strings.Contains(str(key, "policy"), logs) {
			c.add(EncryptionAtRest, r, "its KMS key %s does not allow %s", key.Name, logs)
		}
	}
}

// --- API methods ---------------------------------------------------------------------------------

var authorizedTypes = map[string]bool{"COGNITO_USER_POOLS": true, "AWS_IAM": true, "CUSTOM": true}

func (c *checker) apiMethods() {
	mockOptions := map[string]bool{}
	for _, i := range c.ofType("aws:apigateway/integration:Integration") {
		if str(i, "type") == "MOCK" {
			mockOptions[str(i, "restApi")+"|"+str(i, "resourceId")+"|"+str(i, "httpMethod")] = true
		}
	}
	for _, m := range c.ofType("aws:apigateway/method:Method") {
		auth := str(m, "authorization")
		verb := str(m, "httpMethod")
		if authorizedTypes[auth] {
			if auth != "AWS_IAM" && str(m, "authorizerId") == "" {
				c.add(APIAuthorized, m, "%s method has authorization %s but no authorizerId", verb, auth)
			}
			continue
		}
		// CORS preflight: API Gateway answers it itself (MOCK), nothing behind it runs.
		if verb == "OPTIONS" && mockOptions[str(m, "restApi")+"|"+str(m, "resourceId")+"|OPTIONS"] {
			continue
		}
		c.add(APIAuthorized, m, "%s method has authorization %q", verb, auth)
	}
}

// --- Secrets -------------------------------------------------------------------------------------

var (
	secretName  = regexp.MustCompile(`(?i)(secret|password|passwd|token|api_?key|private_?key|credential)`)
	secretValue = regexp.MustCompile(`(AKIA|ASIA)[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----`)
	plainValue  = regexp.MustCompile(`^(|[0-9.]+|true|false)$`)
)

// looksSecret reports why a name/value pair looks like a plaintext secret, or "".
func looksSecret(name, value string) string {
	if secretValue.MatchString(value) {
		return "its value looks like a credential"
	}
	if !secretName.MatchString(name) || plainValue.MatchString(value) {
		return ""
	}
	// References are fine: the secret stays in Secrets Manager or Parameter Store.
	if strings.HasPrefix(value, "arn:") || strings.HasPrefix(value, "/") || strings.HasPrefix(value, "{{resolve:") {
		return ""
	}
	return "its name says secret and its value is not a reference (ARN or parameter path)"
}

func (c *checker) environmentSecrets() {
	check := func(r pulumimock.Resource, path string) {
		v, ok := r.Input(path)
		if !ok {
			return
		}
		vars, _ := v.(map[string]any)
		for name, val := range vars {
			s, _ := val.(string)
			if pulumimock.IsSecret(r.Inputs, path+"."+name) || pulumimock.IsSecret(r.Inputs, path) {
				c.add(NoPlaintextSecret, r, "%s.%s receives a Pulumi secret: environment variables are plaintext in the console", path, name)
				continue
			}
			if why := looksSecret(name, s); why != "" {
				c.add(NoPlaintextSecret, r, "%s.%s: %s", path, name, why)
			}
		}
	}
	for _, r := range c.ofType("aws:lambda/function:Function") {
		check(r, "environment.variables")
	}
	for _, r := range c.ofType("aws:sagemaker/model:Model") {
		check(r, "primaryContainer.environment")
		if list, ok := r.Input("containers"); ok {
			for i := range list.([]any) {
				check(r, fmt.Sprintf("containers.%d.environment", i))
			}
		}
	}
}

// --- Log retention -------------------------------------------------------------------------------

func (c *checker) logRetention() {
	groups := map[string]bool{}
	for _, r := range c.ofType("aws:cloudwatch/logGroup:LogGroup") {
		groups[str(r, "name")] = true
		if v, ok := r.Input("retentionInDays"); !ok || v == nil || v.(float64) <= 0 {
			c.add(LogRetention, r, "log group %q keeps logs forever (retentionInDays unset)", str(r, "name"))
		}
	}
	// Services create these groups on first write, without retention, unless the stack owns them.
	for _, f := range c.ofType("aws:lambda/function:Function") {
		want := "/aws/lambda/" + state(f, "name")
		if custom := str(f, "loggingConfig.logGroup"); custom != "" {
			want = custom
		}
		if !groups[want] {
			c.add(LogRetention, f, "no log group %q in the stack: Lambda creates it without retention", want)
		}
	}
	for _, e := range c.ofType("aws:sagemaker/endpoint:Endpoint") {
		want := "/aws/sagemaker/Endpoints/" + state(e, "name")
		if !groups[want] {
			c.add(LogRetention, e, "no log group %q in the stack: SageMaker creates it without retention", want)
		}
	}
	for _, s := range c.ofType("aws:apigateway/methodSettings:MethodSettings") {
		level := str(s, "settings.loggingLevel")
		if level == "" || level == "OFF" {
			continue
		}
		want := "API-Gateway-Execution-Logs_" + str(s, "restApi") + "/" + str(s, "stageName")
		if !groups[want] {
			c.add(LogRetention, s, "execution logging is %s but there is no log group %q: API Gateway creates it without retention", level, want)
		}
	}
}

// --- Tags ----------------------------------------------------------------------------------------

func (c *checker) tags() {
	for _, r := range c.rs {
		if !r.Custom || !strings.HasPrefix(r.Type, "aws:") || untaggable[r.Type] {
			continue
		}
		var missing []string
		for _, k := range c.opts.RequiredTags {
			if str(r, "tags."+k) == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			c.add(CostTags, r, "missing tags %v", missing)
		}
	}
}

// keyPolicyGrants reports whether a key policy allows a service principal every one of actions.
func keyPolicyGrants(policy, service string, actions ...string) bool {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ Service any }
			Action    any
		}
	}
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false
	}
	granted := map[string]bool{}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || !slices.Contains(asStrings(st.Principal.Service), service) {
			continue
		}
		for _, a := range asStrings(st.Action) {
			granted[a] = true
		}
	}
	for _, a := range actions {
		if !granted[a] {
			return false
		}
	}
	return true
}

// asStrings reads an IAM field that is a string or a list of strings.
func asStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
