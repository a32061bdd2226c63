// Package waf puts a WAFv2 web ACL in front of a SecuredApi stage. It lives apart from package
// components because the wafv2 SDK takes about 100 CPU-seconds and 4 GB of memory to compile:
// programs that do not turn WAF on never import it.
//
//	components.NewSecuredApi(ctx, "api", &components.SecuredApiArgs{WAF: true, Firewall: waf.Attach, ...})
package waf

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
)

const webACLType = "inferstack:components:WebAcl"

// Rule names and priorities, in evaluation order. Rate limiting goes first so a flood is
// dropped before the managed rules spend capacity on it.
const (
	RateLimitRule  = "rate-limit-per-ip"
	CommonRuleSet  = "AWSManagedRulesCommonRuleSet"
	rateLimitPrio  = 1
	commonRulePrio = 2
)

// bodySizeRule is the common rule set's rule that blocks bodies over 8 KB. Model inputs are
// often larger and the Lambda proxy enforces its own limit, so it only counts.
const bodySizeRule = "SizeRestrictions_BODY"

// WebAcl is a regional web ACL associated with one API Gateway stage.
type WebAcl struct {
	pulumi.ResourceState

	// Arn is the web ACL's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
}

var _ components.Firewall = Attach

// Attach creates the web ACL and associates it with args.StageArn; it is a components.Firewall.
func Attach(ctx *pulumi.Context, name string, args components.FirewallArgs,
	opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	acl, err := NewWebAcl(ctx, name, &args, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return acl.Arn, nil
}

// NewWebAcl creates a regional web ACL with AWS's common rule set and a per-IP rate limit, and
// associates it with the stage.
func NewWebAcl(ctx *pulumi.Context, name string, args *components.FirewallArgs,
	opts ...pulumi.ResourceOption) (*WebAcl, error) {
	if args == nil || args.StageArn == nil {
		return nil, fmt.Errorf("web acl %q: StageArn is required", name)
	}
	if args.RateLimit < 10 || args.RateLimit > 2_000_000_000 {
		return nil, fmt.Errorf("web acl %q: RateLimit %d: want 10..2000000000 requests per 5 minutes", name, args.RateLimit)
	}
	c := &WebAcl{}
	if err := ctx.RegisterComponentResource(webACLType, name, c, opts...); err != nil {
		return nil, err
	}
	visibility := func(metric string) *wafv2.WebAclRuleVisibilityConfigArgs {
		return &wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(metric),
			SampledRequestsEnabled:   pulumi.Bool(true),
		}
	}
	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Description:   pulumi.String("inferstack API firewall " + name),
		Scope:         pulumi.String("REGIONAL"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules: wafv2.WebAclRuleArray{
			&wafv2.WebAclRuleArgs{
				Name:     pulumi.String(RateLimitRule),
				Priority: pulumi.Int(rateLimitPrio),
				Action:   &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
				Statement: &wafv2.WebAclRuleStatementArgs{
					RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
						Limit:               pulumi.Int(args.RateLimit),
						AggregateKeyType:    pulumi.String("IP"),
						EvaluationWindowSec: pulumi.Int(300),
					},
				},
				VisibilityConfig: visibility(name + "-" + RateLimitRule),
			},
			&wafv2.WebAclRuleArgs{
				Name:           pulumi.String(CommonRuleSet),
				Priority:       pulumi.Int(commonRulePrio),
				OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
				Statement: &wafv2.WebAclRuleStatementArgs{
					ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
						VendorName: pulumi.String("AWS"),
						Name:       pulumi.String(CommonRuleSet),
						RuleActionOverrides: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray{
							&wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
								Name: pulumi.String(bodySizeRule),
								ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
									Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
								},
							},
						},
					},
				},
				VisibilityConfig: visibility(name + "-" + CommonRuleSet),
			},
		},
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(name),
			SampledRequestsEnabled:   pulumi.Bool(true),
		},
		Tags: args.Tags,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	if _, err := wafv2.NewWebAclAssociation(ctx, name+"-association", &wafv2.WebAclAssociationArgs{
		ResourceArn: args.StageArn,
		WebAclArn:   acl.Arn,
	}, pulumi.Parent(c)); err != nil {
		return nil, err
	}
	c.Arn = acl.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": c.Arn}); err != nil {
		return nil, err
	}
	return c, nil
}
