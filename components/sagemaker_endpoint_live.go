package components

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/smithy-go"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SageMakerReader is the part of the SageMaker API that NewSageMakerEndpoint reads while the
// program runs (preview and up); *sagemaker.Client of aws-sdk-go-v2 implements it.
type SageMakerReader interface {
	DescribeEndpoint(ctx context.Context, in *sagemaker.DescribeEndpointInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointOutput, error)
	DescribeEndpointConfig(ctx context.Context, in *sagemaker.DescribeEndpointConfigInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointConfigOutput, error)
}

var _ SageMakerReader = (*sagemaker.Client)(nil)

// Why a rollout reads the live endpoint (DESIGN pitfall 21): pulumi-aws v6's Endpoint has no
// RetainAllVariantProperties, so a new EndpointConfiguration's fleet starts at
// InitialInstanceCount; an endpoint that autoscaling took to 8 instances would get a green fleet
// of 2 and shed load until autoscaling caught up.
//
// The design: for an autoscaled variant the count is decided here, per run, from DescribeEndpoint
// and DescribeEndpointConfig:
//   - no endpoint yet, no such variant, no credentials, or under mocks: the configured count;
//   - the live configuration already is what this run asks for (same model, instance type,
//     volume, KMS key, data capture): the live configuration's own InitialInstanceCount, which is
//     the value in Pulumi's state, so the plan shows no change: a scale-out alone never creates a
//     new configuration or a rollout (no churn, previews stay quiet);
//   - anything else changed, so a new configuration is created anyway: the live variant's
//     DesiredInstanceCount (else CurrentInstanceCount) clamped to Autoscaling min..max.
//
// Trade-offs, on purpose: a change of endpoint.instanceCount alone does nothing once the endpoint
// exists (autoscaling owns the count; raise Autoscaling.MinCapacity instead), and a field this
// component leaves unset (volume, KMS key, capture) is not compared, so removing one of them
// starts the new fleet at the old initial count.

// liveConfig is what the component asks the one production variant to be, minus the count.
type liveConfig struct {
	VariantName, ModelName, InstanceType string
	VolumeSizeGB                         int
	KMSKeyARN                            string
	Capture                              *DataCaptureConfig
}

// rolloutCount decides the new configuration's InitialInstanceCount (see above) and says why.
func rolloutCount(ctx context.Context, r SageMakerReader, endpointName string, want liveConfig, a SageMakerEndpointArgs) (int, string, error) {
	ep, err := r.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(endpointName)})
	if isNotFound(err, "Could not find endpoint") {
		return a.InstanceCount, "the endpoint does not exist yet", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("sagemaker endpoint %s: read the live instance count (sagemaker:DescribeEndpoint): %w", endpointName, err)
	}
	live := -1
	for _, v := range ep.ProductionVariants {
		if aws.ToString(v.VariantName) != want.VariantName {
			continue
		}
		if v.DesiredInstanceCount != nil {
			live = int(*v.DesiredInstanceCount)
		} else if v.CurrentInstanceCount != nil {
			live = int(*v.CurrentInstanceCount)
		}
	}
	if live < 0 {
		return a.InstanceCount, "the live endpoint has no instance count for variant " + want.VariantName, nil
	}
	if name := aws.ToString(ep.EndpointConfigName); name != "" {
		cfg, err := r.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(name)})
		switch {
		case isNotFound(err, "Could not find endpoint configuration"):
		case err != nil:
			return 0, "", fmt.Errorf("sagemaker endpoint %s: read the live configuration %s (sagemaker:DescribeEndpointConfig): %w", endpointName, name, err)
		default:
			if n, same := sameConfig(cfg, want); same {
				return n, fmt.Sprintf("the live configuration %s is unchanged: keep its initial count %d", name, n), nil
			}
		}
	}
	s := a.Autoscaling
	n := min(max(live, s.MinCapacity), s.MaxCapacity)
	return n, fmt.Sprintf("a new configuration starts at the live desired count %d (autoscaling %d..%d)", live, s.MinCapacity, s.MaxCapacity), nil
}

// sameConfig reports whether the live configuration is the one asked for, and its initial count.
func sameConfig(cfg *sagemaker.DescribeEndpointConfigOutput, want liveConfig) (int, bool) {
	if len(cfg.ProductionVariants) != 1 {
		return 0, false
	}
	v := cfg.ProductionVariants[0]
	if aws.ToString(v.VariantName) != want.VariantName || aws.ToString(v.ModelName) != want.ModelName ||
		string(v.InstanceType) != want.InstanceType || v.InitialInstanceCount == nil {
		return 0, false
	}
	if want.VolumeSizeGB > 0 && int(aws.ToInt32(v.VolumeSizeInGB)) != want.VolumeSizeGB {
		return 0, false
	}
	if want.KMSKeyARN != "" && aws.ToString(cfg.KmsKeyId) != want.KMSKeyARN {
		return 0, false
	}
	if d := want.Capture; d != nil {
		c := cfg.DataCaptureConfig
		if c == nil || aws.ToString(c.DestinationS3Uri) != d.DestinationS3URI || int(aws.ToInt32(c.InitialSamplingPercentage)) != d.SamplingPercentage ||
			(want.KMSKeyARN != "" && aws.ToString(c.KmsKeyId) != want.KMSKeyARN) {
			return 0, false
		}
	}
	return int(*v.InitialInstanceCount), true
}

// isNotFound reports SageMaker's answer for a missing resource: a ValidationException whose
// message starts "Could not find ..." (the check terraform-provider-aws makes in findEndpoint).
func isNotFound(err error, prefix string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException" && strings.Contains(apiErr.ErrorMessage(), prefix)
}

// defaultReader is an aws-sdk-go-v2 client with the default credential chain (and the stack's
// aws:profile) in the stack's region, or nil with a warning when there are no credentials.
func defaultReader(goctx context.Context, ctx *pulumi.Context, region string) SageMakerReader {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if profile, ok := ctx.GetConfig("aws:profile"); ok && profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(goctx, opts...)
	if err == nil {
		_, err = cfg.Credentials.Retrieve(goctx)
	}
	if err != nil {
		_ = ctx.Log.Warn(fmt.Sprintf("inferstack: no AWS credentials for reading the live endpoint (%v); "+
			"a new endpoint configuration starts at endpoint.instanceCount", err), nil)
		return nil
	}
	return sagemaker.NewFromConfig(cfg)
}

// initialInstanceCount is the new configuration's InitialInstanceCount input: the configured
// count, or for an autoscaled variant the count rolloutCount decides once the model's name is known.
func initialInstanceCount(ctx *pulumi.Context, endpointName, region string, a SageMakerEndpointArgs, modelName pulumi.StringOutput) pulumi.IntInput {
	if a.Autoscaling == nil || (a.LiveReader == nil && ctx.RunningWithMocks()) {
		return pulumi.Int(a.InstanceCount)
	}
	return modelName.ApplyTWithContext(ctx.Context(), func(goctx context.Context, model string) (int, error) {
		r := a.LiveReader
		if r == nil {
			if r = defaultReader(goctx, ctx, region); r == nil {
				return a.InstanceCount, nil
			}
		}
		want := liveConfig{VariantName: a.VariantName, ModelName: model, InstanceType: a.InstanceType,
			VolumeSizeGB: a.VolumeSizeGB, KMSKeyARN: a.KMSKeyARN, Capture: a.DataCapture}
		n, why, err := rolloutCount(goctx, r, endpointName, want, a)
		if err != nil {
			return 0, err
		}
		_ = ctx.Log.Info(fmt.Sprintf("inferstack: endpoint %s: initial instance count %d: %s", endpointName, n, why), nil)
		return n, nil
	}).(pulumi.IntOutput)
}
