package components

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const modelImageType = "inferstack:components:ModelImage"

// Platforms an image is built for; SageMaker Graviton instances need arm64.
const (
	PlatformAMD64 = "linux/amd64"
	PlatformARM64 = "linux/arm64"
)

// DefaultKeepImages is how many images the repository lifecycle policy keeps by default.
const DefaultKeepImages = 10

// ModelImageArgs configures a ModelImage.
type ModelImageArgs struct {
	// Context (required) is the docker build context directory, relative to the Pulumi project.
	Context string `pulumi:"context"`
	// Dockerfile (optional) is the Dockerfile path relative to the Pulumi project (not to Context,
	// per pulumi-docker v4); default Context/Dockerfile.
	Dockerfile string `pulumi:"dockerfile,optional"`
	// Platform (optional) is PlatformAMD64 or PlatformARM64; default PlatformAMD64. PlatformFor
	// picks it from the endpoint's instance type.
	Platform string `pulumi:"platform,optional"`
	// BuildArgs (optional) are docker build arguments; they are part of the content tag.
	BuildArgs map[string]string `pulumi:"buildArgs,optional"`
	// Variant (optional) is the inference image variant, VariantStatic or VariantONNX, passed as
	// the INFERENCE_VARIANT build arg; default ImageVariant of BuildArgs["MODEL_DIR"] in Context.
	Variant string `pulumi:"variant,optional"`
	// Tag (optional) is the image tag; default a hash of the build context, Dockerfile, build args
	// and platform, so that every distinct build gets a new tag in the immutable repository.
	Tag string `pulumi:"tag,optional"`
	// KeepImages (optional) is how many images the lifecycle policy keeps; default 10.
	KeepImages int `pulumi:"keepImages,optional"`
	// KMSKeyARN (optional) encrypts the repository with this customer-managed key; default AES256.
	KMSKeyARN pulumi.StringInput `pulumi:"kmsKeyArn,optional"`
	// ForceDelete (optional) lets `pulumi destroy` delete a repository that still holds images;
	// default false. Set it outside prod only. Without it the repository is retained: destroy
	// (or a replacement) drops it from the stack and keeps it, with its images, in the account,
	// instead of failing half-way with RepositoryNotEmptyException.
	ForceDelete bool `pulumi:"forceDelete,optional"`
	// Tags (optional) go on every taggable child; use StandardTags.
	Tags map[string]string `pulumi:"tags,optional"`
}

// ModelImage is an ECR repository and the inference image built and pushed into it.
type ModelImage struct {
	pulumi.ResourceState

	// ImageURI is the pushed image pinned by digest (`<repo>@sha256:<digest>`), so that a new build
	// rolls out and an unchanged one shows no diff.
	ImageURI pulumi.StringOutput `pulumi:"imageUri"`
	// ImageTag is the unique tag of this build.
	ImageTag pulumi.StringOutput `pulumi:"imageTag"`
	// RepositoryURL is `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
	RepositoryURL pulumi.StringOutput `pulumi:"repositoryUrl"`
	// RepositoryARN is the repository's ARN, for pull policies scoped to it.
	RepositoryARN pulumi.StringOutput `pulumi:"repositoryArn"`
	// RepositoryName is the repository's name.
	RepositoryName pulumi.StringOutput `pulumi:"repositoryName"`
}

// NewModelImage creates the repository, builds the image for the requested platform and pushes it.
func NewModelImage(ctx *pulumi.Context, name string, args *ModelImageArgs, opts ...pulumi.ResourceOption) (*ModelImage, error) {
	if args == nil {
		return nil, fmt.Errorf("model image %q: args are required", name)
	}
	if args.Context == "" {
		return nil, fmt.Errorf("model image %q: Context is required", name)
	}
	a := *args
	if a.Platform == "" {
		a.Platform = PlatformAMD64
	}
	if a.Platform != PlatformAMD64 && a.Platform != PlatformARM64 {
		return nil, fmt.Errorf("model image %q: Platform %q: allowed are %s and %s", name, a.Platform, PlatformAMD64, PlatformARM64)
	}
	buildArgs, err := a.withVariant()
	if err != nil {
		return nil, fmt.Errorf("model image %q: %w", name, err)
	}
	a.BuildArgs = buildArgs
	if a.KeepImages == 0 {
		a.KeepImages = DefaultKeepImages
	}
	if a.KeepImages < 1 {
		return nil, fmt.Errorf("model image %q: KeepImages %d: must be at least 1", name, a.KeepImages)
	}
	if a.Tag == "" {
		tag, err := ContentTag(a.Context, a.Dockerfile, a.Platform, a.BuildArgs)
		if err != nil {
			return nil, fmt.Errorf("model image %q: %w", name, err)
		}
		a.Tag = tag
	}

	c := &ModelImage{}
	if err := ctx.RegisterComponentResource(modelImageType, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)

	enc := ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("AES256")}
	if a.KMSKeyARN != nil {
		enc = ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS"), KmsKey: a.KMSKeyARN}
	}
	repoName := name + "-repo"
	repo, err := ecr.NewRepository(ctx, repoName, &ecr.RepositoryArgs{
		ImageScanningConfiguration: ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
		// Immutable tags: a tag always means the same bytes; ContentTag makes each build's tag new.
		ImageTagMutability:       pulumi.String("IMMUTABLE"),
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{enc},
		ForceDelete:              pulumi.Bool(a.ForceDelete),
		Tags:                     tagsFor(a.Tags, repoName),
	}, parent, pulumi.RetainOnDelete(!a.ForceDelete))
	if err != nil {
		return nil, err
	}

	lifecycle, err := lifecyclePolicy(a.KeepImages)
	if err != nil {
		return nil, fmt.Errorf("model image %q: %w", name, err)
	}
	if _, err := ecr.NewLifecyclePolicy(ctx, name+"-lifecycle", &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(lifecycle),
	}, parent); err != nil {
		return nil, err
	}

	creds := ecr.GetAuthorizationTokenOutput(ctx, ecr.GetAuthorizationTokenOutputArgs{RegistryId: repo.RegistryId}, pulumi.Parent(c))
	build := &docker.DockerBuildArgs{
		Context:  pulumi.String(a.Context),
		Platform: pulumi.String(a.Platform),
		Args:     pulumi.ToStringMap(a.BuildArgs),
	}
	if a.Dockerfile != "" {
		build.Dockerfile = pulumi.String(a.Dockerfile)
	}
	image, err := docker.NewImage(ctx, name+"-image", &docker.ImageArgs{
		ImageName: pulumi.Sprintf("%s:%s", repo.RepositoryUrl, a.Tag),
		Build:     build,
		Registry: docker.RegistryArgs{
			Server:   repo.RepositoryUrl,
			Username: creds.UserName(),
			Password: secretString(creds.Password()),
		},
	}, parent)
	if err != nil {
		return nil, err
	}

	c.ImageURI = image.RepoDigest
	// Derived from the image so that it resolves once the push is done.
	c.ImageTag = image.ImageName.ApplyT(func(string) string { return a.Tag }).(pulumi.StringOutput)
	c.RepositoryURL = repo.RepositoryUrl
	c.RepositoryARN = repo.Arn
	c.RepositoryName = repo.Name
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"imageUri":       c.ImageURI,
		"imageTag":       c.ImageTag,
		"repositoryUrl":  c.RepositoryURL,
		"repositoryArn":  c.RepositoryARN,
		"repositoryName": c.RepositoryName,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// lifecyclePolicy expires all but the newest keep images, whatever their tags.
func lifecyclePolicy(keep int) (string, error) {
	policy := map[string]any{"rules": []map[string]any{{
		"rulePriority": 1,
		"description":  fmt.Sprintf("keep the last %d images", keep),
		"selection":    map[string]any{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
		"action":       map[string]any{"type": "expire"},
	}}}
	b, err := json.Marshal(policy)
	if err != nil {
		return "", fmt.Errorf("render lifecycle policy: %w", err)
	}
	return string(b), nil
}

// secretString marks a string output secret, keeping its type.
func secretString(s pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.ToSecret(s).ApplyT(func(v string) string { return v }).(pulumi.StringOutput)
}
