package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
)

// ModelDeployment is components.ModelDeployment as the schema shows it to other languages: the
// deployment itself, plus the parts' key values as outputs.
//
// For Go programs ModelDeployment exposes its parts as components (Image, Endpoint, ...) and copies
// none of their outputs (issue 13: it composes, it does not copy). The schema cannot carry a Go
// pointer, and a resource reference output needs the part's type to be a pulumi-go-provider
// resource (infer/schema.go, resourceReferenceToken: it must implement the provider's schema
// Resource), which package components must not depend on. So the provider, not components, names
// the few values a TypeScript or Python program of one model deployment needs: where to call it
// and what to watch. A program that needs more composes the parts itself. The field docs are the
// schema's (docgen reads this package too); the component's description is
// components.ModelDeployment's.
type ModelDeployment struct {
	*components.ModelDeployment

	// ImageURI is the inference image, pinned by digest.
	ImageURI pulumi.StringOutput `pulumi:"imageUri"`
	// EndpointName is the SageMaker endpoint's name.
	EndpointName pulumi.StringOutput `pulumi:"endpointName"`
	// EndpointARN is the SageMaker endpoint's ARN.
	EndpointARN pulumi.StringOutput `pulumi:"endpointArn"`
	// ProxyFunctionARN is the Lambda proxy's ARN; unset without proxy.
	ProxyFunctionARN pulumi.StringPtrOutput `pulumi:"proxyFunctionArn,optional"`
	// APIInvokeURL is the API stage's invoke URL; unset without api.
	APIInvokeURL pulumi.StringPtrOutput `pulumi:"apiInvokeUrl,optional"`
	// APIStageARN is the API stage's ARN, for a WebAcl; unset without api.
	APIStageARN pulumi.StringPtrOutput `pulumi:"apiStageArn,optional"`
	// TokenEndpoint is the Cognito OAuth2 token endpoint; unset without api.
	TokenEndpoint pulumi.StringPtrOutput `pulumi:"tokenEndpoint,optional"`
	// DashboardName is the CloudWatch dashboard's name; unset without monitoring.
	DashboardName pulumi.StringPtrOutput `pulumi:"dashboardName,optional"`
}

// newModelDeployment creates a components.ModelDeployment and names its parts' key values.
func newModelDeployment(ctx *pulumi.Context, name string, args *components.ModelDeploymentArgs, opts ...pulumi.ResourceOption) (*ModelDeployment, error) {
	d, err := components.NewModelDeployment(ctx, name, args, opts...)
	if err != nil {
		return nil, err
	}
	unset := pulumi.ToOutput((*string)(nil)).(pulumi.StringPtrOutput) // null in the answer
	m := &ModelDeployment{ModelDeployment: d,
		ImageURI: d.Image.ImageURI, EndpointName: d.Endpoint.EndpointName, EndpointARN: d.Endpoint.EndpointARN,
		ProxyFunctionARN: unset, APIInvokeURL: unset, APIStageARN: unset, TokenEndpoint: unset, DashboardName: unset,
	}
	if d.Proxy != nil {
		m.ProxyFunctionARN = d.Proxy.FunctionARN.ToStringPtrOutput()
	}
	if d.API != nil {
		m.APIInvokeURL = d.API.InvokeURL.ToStringPtrOutput()
		m.APIStageARN = d.API.StageARN.ToStringPtrOutput()
		m.TokenEndpoint = d.API.TokenEndpoint.ToStringPtrOutput()
	}
	if d.Monitoring != nil {
		m.DashboardName = d.Monitoring.DashboardName.ToStringPtrOutput()
	}
	return m, nil
}
