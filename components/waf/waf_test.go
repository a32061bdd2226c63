package waf_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/components/waf"
	"github.com/inferstack/inferstack/internal/pulumimock"
)

const (
	webACLType      = "aws:wafv2/webAcl:WebAcl"
	associationType = "aws:wafv2/webAclAssociation:WebAclAssociation"
	proxyArn        = "arn:aws:lambda:" + pulumimock.Region + ":" + pulumimock.AccountID + ":function:proxy"
)

// runSecuredAPI runs a SecuredAPI and, with wafOn, a WebACL on its stage, as program does.
func runSecuredAPI(t testing.TB, wafOn bool) (*pulumimock.Mocks, *waf.WebACL) {
	t.Helper()
	mocks := pulumimock.New()
	var acl *waf.WebACL
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		tags := components.StandardTags("ml", "iris", "prod", "prod")
		api, err := components.NewSecuredAPI(ctx, "api", &components.SecuredAPIArgs{
			ProxyInvokeARN:   pulumi.String("arn:aws:apigateway:" + pulumimock.Region + ":lambda:path/2015-03-31/functions/" + proxyArn + "/invocations"),
			ProxyFunctionARN: pulumi.String(proxyArn),
			Tags:             tags,
		})
		if err != nil || !wafOn {
			return err
		}
		acl, err = waf.NewWebACL(ctx, "api-waf", &waf.WebACLArgs{StageARN: api.StageARN, RateLimit: 500, Tags: tags},
			pulumi.Parent(api))
		return err
	}, pulumi.WithMocks("inferstack", "prod", mocks))
	require.NoError(t, err)
	return mocks, acl
}

func await(o pulumi.StringOutput) string {
	ch := make(chan string, 1)
	o.ApplyT(func(v string) string { ch <- v; return v })
	return <-ch
}

func TestWebACLProtectsTheStage(t *testing.T) {
	mocks, component := runSecuredAPI(t, true)
	acl, err := mocks.One(webACLType)
	require.NoError(t, err)
	assoc, err := mocks.One(associationType)
	require.NoError(t, err)
	stage, err := mocks.One("aws:apigateway/stage:Stage")
	require.NoError(t, err)

	stageArn, _ := pulumimock.Lookup(stage.State, "arn")
	require.Regexp(t, `^arn:aws:apigateway:`+pulumimock.Region+`::/restapis/[a-z0-9]+/stages/v1$`, stageArn)
	got, _ := assoc.Input("resourceArn")
	assert.Equal(t, stageArn, got, "the ACL must protect this API's stage")
	aclArn, _ := pulumimock.Lookup(acl.State, "arn")
	got, _ = assoc.Input("webAclArn")
	assert.Equal(t, aclArn, got)
	assert.Equal(t, aclArn, await(component.ARN))
	assert.Contains(t, acl.Parent, "inferstack:components:SecuredApi$inferstack:components:WebAcl::api-waf",
		"the URN of existing stacks' web ACL: a child of the API")
	name, _ := acl.Input("tags.Name")
	assert.Equal(t, "api-waf", name)

	scope, _ := acl.Input("scope")
	assert.Equal(t, "REGIONAL", scope)
	_, allow := acl.Input("defaultAction.allow")
	assert.True(t, allow)
	team, _ := acl.Input("tags.team")
	assert.Equal(t, "ml", team)

	rules := map[string]map[string]any{}
	raw, ok := acl.Input("rules")
	require.True(t, ok)
	for _, r := range raw.([]any) {
		rule := r.(map[string]any)
		rules[rule["name"].(string)] = rule
	}
	require.Len(t, rules, 2)

	rate := rules[waf.RateLimitRule]
	require.NotNil(t, rate)
	stmt := rate["statement"].(map[string]any)["rateBasedStatement"].(map[string]any)
	assert.Equal(t, 500.0, stmt["limit"])
	assert.Equal(t, "IP", stmt["aggregateKeyType"])
	assert.Contains(t, rate["action"], "block")

	common := rules[waf.CommonRuleSet]
	require.NotNil(t, common)
	group := common["statement"].(map[string]any)["managedRuleGroupStatement"].(map[string]any)
	assert.Equal(t, "AWS", group["vendorName"])
	assert.Equal(t, waf.CommonRuleSet, group["name"])
	assert.Contains(t, common["overrideAction"], "none", "managed rules keep their own block actions")
	overrides := group["ruleActionOverrides"].([]any)
	require.Len(t, overrides, 1)
	assert.Equal(t, "SizeRestrictions_BODY", overrides[0].(map[string]any)["name"],
		"model inputs over 8 KB must not be blocked by the common rule set")
	assert.NotEqual(t, rate["priority"], common["priority"])
}

func TestNoWebACLWhenWAFIsOff(t *testing.T) {
	mocks, _ := runSecuredAPI(t, false)
	assert.Empty(t, mocks.OfType(webACLType))
	assert.Empty(t, mocks.OfType(associationType))
}

func TestNewWebACLRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args waf.WebACLArgs
		want string
	}{
		{"no stage", waf.WebACLArgs{RateLimit: 100}, "StageARN is required"},
		{"rate too low", waf.WebACLArgs{StageARN: pulumi.String("arn"), RateLimit: 5}, "RateLimit 5: want 10..2000000000"},
		{"rate too high", waf.WebACLArgs{StageARN: pulumi.String("arn"), RateLimit: 2_000_000_001}, "RateLimit 2000000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := waf.NewWebACL(ctx, "waf", &tc.args)
				return err
			}, pulumi.WithMocks("inferstack", "prod", pulumimock.New()))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// BenchmarkSecuredAPIWithWAFUnderMocks is the cost of one SecuredAPI run with the web ACL.
func BenchmarkSecuredAPIWithWAFUnderMocks(b *testing.B) {
	for b.Loop() {
		runSecuredAPI(b, true)
	}
}
