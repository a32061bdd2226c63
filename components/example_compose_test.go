package components_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/internal/pulumimock"
)

// Example_compose is how another Pulumi project composes the parts itself instead of using
// ModelDeployment: its own image build feeding a serverless endpoint. It runs under the recording
// mock here; in a real project the function body is the pulumi.Run callback.
func Example_compose() {
	dir, err := os.MkdirTemp("", "compose")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	mocks := pulumimock.New()
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		tags := components.StandardTags("search", "ranker", "dev", ctx.Stack())
		image, err := components.NewModelImage(ctx, "ranker-image", &components.ModelImageArgs{
			Context:  dir,
			Platform: components.PlatformFor("", true),
			Tags:     tags,
		})
		if err != nil {
			return err
		}
		endpoint, err := components.NewSageMakerEndpoint(ctx, "ranker", &components.SageMakerEndpointArgs{
			ImageURI:      image.ImageURI,
			RepositoryARN: image.RepositoryARN,
			Serverless:    &components.ServerlessConfig{MemorySizeMB: 3072, MaxConcurrency: 10},
			Tags:          tags,
		})
		if err != nil {
			return err
		}
		ctx.Export("endpointName", endpoint.EndpointName)
		return nil
	}, pulumi.WithMocks("search", "dev", mocks))
	if err != nil {
		fmt.Println(err)
		return
	}
	inventory := mocks.Inventory()
	types := make([]string, 0, len(inventory))
	for t := range inventory {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Println(inventory[t], t)
	}
	// Output:
	// 1 aws:cloudwatch/logGroup:LogGroup
	// 1 aws:ecr/lifecyclePolicy:LifecyclePolicy
	// 1 aws:ecr/repository:Repository
	// 1 aws:iam/role:Role
	// 1 aws:iam/rolePolicy:RolePolicy
	// 1 aws:sagemaker/endpoint:Endpoint
	// 1 aws:sagemaker/endpointConfiguration:EndpointConfiguration
	// 1 aws:sagemaker/model:Model
	// 1 docker:index/image:Image
	// 1 inferstack:components:ModelImage
	// 1 inferstack:components:SageMakerEndpoint
}
