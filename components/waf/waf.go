// Package waf puts a WAFv2 web ACL in front of a SecuredAPI stage. It lives apart from package
// components because the wafv2 SDK takes about 100 CPU-seconds and 4 GB of memory to compile:
// programs that do not turn WAF on never import it.
//
//	api, _ := components.NewSecuredAPI(ctx, "api", &components.SecuredAPIArgs{...})
//	waf.NewWebACL(ctx, "api-waf", &waf.WebACLArgs{StageARN: api.StageARN}, pulumi.Parent(api))
package waf

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The type token stays "WebAcl": it is part of every existing stack's URNs.
const webACLType = "inferstack:components:WebAcl"

// Rule names and priorities, in evaluation order. Rate limiting goes first so a flood is
// dropped before the managed rules spend capacity on it.
const (
	RateLimitRule  = "rate-limit-per-ip"
	CommonRuleSet  = "AWSManagedRulesCommonRuleSet"
	rateLimitPrio  = 1
	commonRulePrio = 2
)

// DefaultRateLimit is WebACLArgs.RateLimit's default, requests per 5 minutes per client IP.
const DefaultRateLimit = 2000

// Bounds of a WAFv2 rate-based statement's Limit (AWS WAF API reference, RateBasedStatement).
const (
	MinRateLimit = 10
	MaxRateLimit = 2_000_000_000
)

// bodySizeRule is the common rule set's rule that blocks bodies over 8 KB. Model inputs are
// often larger and the Lambda proxy enforces its own limit, so it only counts.
const bodySizeRule = "SizeRestrictions_BODY"

// WebACLArgs configures a WebACL.
type WebACLArgs struct {
	// StageARN (required) is the API Gateway stage the web ACL is associated with
	// (SecuredAPI.StageARN).
	StageARN pulumi.StringInput `pulumi:"stageArn"`
	// RateLimit (optional) is the number of requests per 5 minutes per client IP before blocking,
	// 10..2000000000; default 2000.
	RateLimit int `pulumi:"rateLimit,optional"`
	// Tags (optional) go on the web ACL, with a Name tag of the component's name; use
	// components.StandardTags.
	Tags map[string]string `pulumi:"tags,optional"`
}

// WithDefaults returns the args with every unset optional field at its default.
func (a WebACLArgs) WithDefaults() WebACLArgs {
	if a.RateLimit == 0 {
		a.RateLimit = DefaultRateLimit
	}
	return a
}

// Validate reports every problem of defaulted args at once; each names the field, the value and
// what is allowed.
func (a WebACLArgs) Validate() error {
	var errs []error
	if a.StageARN == nil {
		errs = append(errs, errors.New("StageARN is required"))
	}
	if a.RateLimit < MinRateLimit || a.RateLimit > MaxRateLimit {
		errs = append(errs, fmt.Errorf("RateLimit %d: want %d..%d requests per 5 minutes", a.RateLimit, MinRateLimit, MaxRateLimit))
	}
	return errors.Join(errs...)
}

// WebACL is a regional web ACL associated with one API Gateway stage.
type WebACL struct {
	pulumi.ResourceState

	// ARN is the web ACL's ARN.
	ARN pulumi.StringOutput `pulumi:"arn"`
}

// NewWebACL creates a regional web ACL with AWS's common rule set and a per-IP rate limit, and
// associates it with the stage.
func NewWebACL(ctx *pulumi.Context, name string, args *WebACLArgs,
	opts ...pulumi.ResourceOption) (*WebACL, error) {
	if args == nil {
		return nil, fmt.Errorf("web acl %q: args are required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("web acl %q: %w", name, err)
	}
	args = &a
	tags := pulumi.StringMap{}
	for k, v := range a.Tags {
		tags[k] = pulumi.String(v)
	}
	tags["Name"] = pulumi.String(name) // as components' children: the Name tag is the child's name
	c := &WebACL{}
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
		Tags: tags,
	}, pulumi.Parent(c))
	if err != nil {
		return nil, err
	}
	if _, err := wafv2.NewWebAclAssociation(ctx, name+"-association", &wafv2.WebAclAssociationArgs{
		ResourceArn: args.StageARN,
		WebAclArn:   acl.Arn,
	}, pulumi.Parent(c)); err != nil {
		return nil, err
	}
	c.ARN = acl.Arn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"arn": c.ARN}); err != nil {
		return nil, err
	}
	return c, nil
}
