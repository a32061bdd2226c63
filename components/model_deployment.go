package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const modelDeploymentType = "inferstack:components:ModelDeployment"

// ModelDeploymentArgs configures a ModelDeployment: one field per part. Image and Endpoint are
// required; the other parts are optional pointers, so a part joins by adding a field here, a block
// in NewModelDeployment and its outputs, and nothing else changes.
type ModelDeploymentArgs struct {
	// Image (required) builds and pushes the inference image.
	Image ModelImageArgs
	// Endpoint (required) serves the image. ImageURI and RepositoryArn are wired from Image and
	// must be left unset.
	Endpoint SageMakerEndpointArgs
	// Tags (optional) are put on every part, replacing the parts' own Tags; use StandardTags.
	Tags map[string]string
}

// ModelDeployment takes a model from source to a SageMaker endpoint in one call: the image, the
// endpoint and, as they join, the proxy, the API and monitoring. Each part is also a component of
// its own for programs that compose them differently.
type ModelDeployment struct {
	pulumi.ResourceState

	// ImageURI is the deployed image, pinned by digest.
	ImageURI pulumi.StringOutput `pulumi:"imageUri"`
	// RepositoryURL is the image repository, for `docker pull` and scans.
	RepositoryURL pulumi.StringOutput `pulumi:"repositoryUrl"`
	// EndpointName is the SageMaker endpoint's name.
	EndpointName pulumi.StringOutput `pulumi:"endpointName"`
	// EndpointArn is the SageMaker endpoint's ARN.
	EndpointArn pulumi.StringOutput `pulumi:"endpointArn"`
	// VariantName is the endpoint's production variant.
	VariantName pulumi.StringOutput `pulumi:"variantName"`
	// EndpointRoleArn is the endpoint's execution role.
	EndpointRoleArn pulumi.StringOutput `pulumi:"endpointRoleArn"`
}

// NewModelDeployment creates every part of one model's deployment as children of one component.
func NewModelDeployment(ctx *pulumi.Context, name string, args *ModelDeploymentArgs, opts ...pulumi.ResourceOption) (*ModelDeployment, error) {
	if args == nil {
		return nil, fmt.Errorf("model deployment %q: args are required", name)
	}
	if args.Endpoint.ImageURI != nil || args.Endpoint.RepositoryArn != nil {
		return nil, fmt.Errorf("model deployment %q: Endpoint.ImageURI and Endpoint.RepositoryArn come from Image; leave them unset", name)
	}
	a := *args
	if a.Tags != nil {
		a.Image.Tags = a.Tags
		a.Endpoint.Tags = a.Tags
	}

	c := &ModelDeployment{}
	if err := ctx.RegisterComponentResource(modelDeploymentType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	image, err := NewModelImage(ctx, name+"-image", &a.Image, parent)
	if err != nil {
		return nil, fmt.Errorf("model deployment %q: %w", name, err)
	}
	endpointArgs := a.Endpoint
	endpointArgs.ImageURI = image.ImageURI
	endpointArgs.RepositoryArn = image.RepositoryArn
	endpoint, err := NewSageMakerEndpoint(ctx, name+"-endpoint", &endpointArgs, parent)
	if err != nil {
		return nil, fmt.Errorf("model deployment %q: %w", name, err)
	}
	// The proxy, API and monitoring join here; each takes the endpoint's outputs as inputs.

	c.ImageURI = image.ImageURI
	c.RepositoryURL = image.RepositoryURL
	c.EndpointName = endpoint.EndpointName
	c.EndpointArn = endpoint.EndpointArn
	c.VariantName = endpoint.VariantName
	c.EndpointRoleArn = endpoint.RoleArn
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"imageUri":        c.ImageURI,
		"repositoryUrl":   c.RepositoryURL,
		"endpointName":    c.EndpointName,
		"endpointArn":     c.EndpointArn,
		"variantName":     c.VariantName,
		"endpointRoleArn": c.EndpointRoleArn,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
