package components

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/internal/pulumimock"
)

func TestModelDeploymentWiresImageIntoEndpoint(t *testing.T) {
	mocks := pulumimock.New()
	var imageURI, endpointName, planned string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		endpoint := *seServerless()
		endpoint.ImageURI, endpoint.RepositoryArn = nil, nil
		d, err := NewModelDeployment(ctx, "churn", &ModelDeploymentArgs{
			Image:    ModelImageArgs{Context: miContext(t)},
			Endpoint: endpoint,
			Tags:     StandardTags("ml-platform", "churn", "dev", "dev"),
		})
		if err != nil {
			return err
		}
		d.ImageURI.ApplyT(func(v string) string { imageURI = v; return v })
		d.EndpointName.ApplyT(func(v string) string { endpointName = v; return v })
		planned = PlannedEndpointName(ctx, "churn-endpoint", &endpoint)
		return nil
	}, pulumi.WithMocks("inferstack", "dev", mocks))
	require.NoError(t, err)
	assert.Equal(t, planned, endpointName, "other parts can name the endpoint before it exists")

	repo := seOne(t, mocks, ecrRepositoryType)
	model := seOne(t, mocks, smModelType)
	assert.Equal(t, imageURI, seInput(t, model, "primaryContainer.image"), "the endpoint runs the image just pushed, by digest")
	assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, imageURI)
	var policy PolicyDocument
	require.NoError(t, json.Unmarshal([]byte(seInput(t, seOne(t, mocks, iamRolePolicyType), "policy").(string)), &policy))
	assert.Equal(t, []string{repo.State["arn"].StringValue()}, seStatement(t, policy, "PullImage").Resource)

	// Parts are children of the deployment, and their resources carry the deployment's tags.
	deployment := seOne(t, mocks, modelDeploymentType)
	image := seOne(t, mocks, modelImageType)
	endpointComp := seOne(t, mocks, sageMakerEndpointType)
	assert.Equal(t, "churn-image", image.Name)
	assert.Equal(t, "churn-endpoint", endpointComp.Name)
	assert.Contains(t, image.Parent, "ModelDeployment::churn")
	assert.Contains(t, endpointComp.Parent, "ModelDeployment::churn")
	assert.NotContains(t, deployment.Parent, "inferstack:components")
	for _, r := range []pulumimock.Resource{repo, model} {
		assert.Equal(t, "ml-platform", seInput(t, r, "tags.team"), r.String())
	}
}

func TestModelDeploymentRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args *ModelDeploymentArgs
		want string
	}{
		{"nil args", nil, "args are required"},
		{"image wired by hand", &ModelDeploymentArgs{Endpoint: *seServerless()}, "come from Image"},
		{"bad image args", &ModelDeploymentArgs{Endpoint: SageMakerEndpointArgs{Serverless: &ServerlessConfig{}}}, "Context is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := NewModelDeployment(ctx, "churn", tc.args)
				return err
			}, pulumi.WithMocks("inferstack", "dev", pulumimock.New()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
