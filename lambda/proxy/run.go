package proxy

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemakerruntime"

	"github.com/inferstack/inferstack/lambda/proxyconfig"
)

// Run reads the configuration from getenv, builds the AWS clients from the function's role and
// serves Lambda events until the runtime stops the process. It returns only a cold-start error.
func Run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	cfg, err := proxyconfig.FromEnv(getenv)
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	h, err := NewHandler(cfg, Deps{
		Runtime:   sagemakerruntime.NewFromConfig(awsCfg),
		SageMaker: sagemaker.NewFromConfig(awsCfg),
		Out:       out,
	})
	if err != nil {
		return err
	}
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return nil
}
