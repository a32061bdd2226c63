package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/inferstack/inferstack/internal/contract"
)

// sageMakerAPI is what verify and prune call; *sagemaker.Client implements it.
type sageMakerAPI interface {
	DescribeEndpoint(context.Context, *sagemaker.DescribeEndpointInput, ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointOutput, error)
	DescribeEndpointConfig(context.Context, *sagemaker.DescribeEndpointConfigInput, ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointConfigOutput, error)
	ListModels(context.Context, *sagemaker.ListModelsInput, ...func(*sagemaker.Options)) (*sagemaker.ListModelsOutput, error)
	ListEndpointConfigs(context.Context, *sagemaker.ListEndpointConfigsInput, ...func(*sagemaker.Options)) (*sagemaker.ListEndpointConfigsOutput, error)
	ListTags(context.Context, *sagemaker.ListTagsInput, ...func(*sagemaker.Options)) (*sagemaker.ListTagsOutput, error)
	DeleteModel(context.Context, *sagemaker.DeleteModelInput, ...func(*sagemaker.Options)) (*sagemaker.DeleteModelOutput, error)
	DeleteEndpointConfig(context.Context, *sagemaker.DeleteEndpointConfigInput, ...func(*sagemaker.Options)) (*sagemaker.DeleteEndpointConfigOutput, error)
}

var _ sageMakerAPI = (*sagemaker.Client)(nil)

// newSageMaker makes the client verify and prune use.
type newSageMaker func(ctx context.Context, region string) (sageMakerAPI, error)

// defaultSageMaker is aws-sdk-go-v2 with the default credential chain (AWS_PROFILE, the CI's
// OIDC web identity, ...); AWS_ENDPOINT_URL_SAGEMAKER redirects it as the SDK documents.
func defaultSageMaker(ctx context.Context, region string) (sageMakerAPI, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("AWS config: %w", err)
	}
	return sagemaker.NewFromConfig(cfg), nil
}

// endpointFlags are the flags verify and prune share, filled from the stack outputs file.
type endpointFlags struct {
	Region, Endpoint, ConfigName, ModelName, StackTag string
}

// endpointOutputKeys maps stack outputs (program/program.go) to the flags they fill.
var endpointOutputKeys = map[string]string{
	contract.OutRegion:             "region",
	contract.OutEndpointName:       "endpoint",
	contract.OutEndpointConfigName: "endpoint-config",
	contract.OutModelName:          "model",
	contract.OutStackTag:           "stack-tag",
}

func (e *endpointFlags) register(fs *flag.FlagSet) *string {
	outputs := fs.String("outputs", "", "`file` of 'pulumi stack output --json'; flags override it")
	fs.StringVar(&e.Region, "region", "", "the stack's AWS region (output region)")
	fs.StringVar(&e.Endpoint, "endpoint", "", "the SageMaker endpoint's name (output endpointName)")
	fs.StringVar(&e.ConfigName, "endpoint-config", "", "the endpoint configuration the last 'pulumi up' deployed (output endpointConfigName)")
	fs.StringVar(&e.ModelName, "model", "", "the model of that configuration (output modelName)")
	fs.StringVar(&e.StackTag, "stack-tag", "", "the value of the stack's 'stack' tag (output stackTag)")
	return outputs
}

// describe reads the endpoint; found is false when SageMaker does not know it.
func describe(ctx context.Context, sm sageMakerAPI, name string) (*sagemaker.DescribeEndpointOutput, bool, error) {
	out, err := sm.DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(name)})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationException" && strings.Contains(apiErr.ErrorMessage(), "Could not find endpoint") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("describe endpoint %s: %w", name, err)
	}
	return out, true, nil
}

// errRolledBack is the verdict when the endpoint serves another configuration than the stack's.
var errRolledBack = errors.New("rolled back: run `pulumi refresh`")

// verify compares what SageMaker runs with what the last `pulumi up` deployed. After a blue/green
// update that SageMaker rolled back, the endpoint serves the previous configuration while the
// provider's state (and the stack output) may name the new one (terraform-provider-aws #48997);
// the next update must not start from that state.
func verify(ctx context.Context, args []string, stdout io.Writer, connect newSageMaker) error {
	var e endpointFlags
	fs := flag.NewFlagSet("smoke verify", flag.ContinueOnError)
	outputs := e.register(fs)
	if err := parseFlags(fs, args, stdout, "verify checks that the endpoint serves the configuration the last `pulumi up` deployed."); err != nil {
		return err
	}
	if err := fillFromOutputs(fs, *outputs, endpointOutputKeys); err != nil {
		return err
	}
	if err := e.require(map[string]string{"-region": e.Region, "-endpoint": e.Endpoint, "-endpoint-config": e.ConfigName}); err != nil {
		return err
	}
	sm, err := connect(ctx, e.Region)
	if err != nil {
		return err
	}
	ep, found, err := describe(ctx, sm, e.Endpoint)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("endpoint %s does not exist in %s: check -region, or run `pulumi refresh` and `pulumi up`", e.Endpoint, e.Region)
	}
	serving, status := aws.ToString(ep.EndpointConfigName), ep.EndpointStatus
	if serving != e.ConfigName {
		return fmt.Errorf("%w: endpoint %s serves configuration %s (status %s), but the stack deployed %s; "+
			"SageMaker rolled the update back (docs/runbook.md, \"After an automatic rollback\")",
			errRolledBack, e.Endpoint, serving, status, e.ConfigName)
	}
	switch status {
	case types.EndpointStatusInService:
	case types.EndpointStatusFailed:
		return fmt.Errorf("endpoint %s is Failed: %s", e.Endpoint, aws.ToString(ep.FailureReason))
	default:
		return fmt.Errorf("endpoint %s is %s, not InService: a deployment or rollback is under way; run verify again when it ends", e.Endpoint, status)
	}
	fmt.Fprintf(stdout, "ok   endpoint %s serves %s and is InService\n", e.Endpoint, serving)
	return nil
}

func (e endpointFlags) require(flags map[string]string) error {
	var missing []string
	for name, v := range flags {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("%s required: give -outputs (of `pulumi stack output --json`) or the flags", strings.Join(missing, ", "))
}

// autonameSuffix is what Pulumi appends to a logical name: "-" and 7 hex characters.
var autonameSuffix = regexp.MustCompile(`-[0-9a-f]{7}$`)

// prune deletes the stack's models and endpoint configurations that nothing serves. They are
// retained by design (RetainOnDelete: an update never deletes one that may serve), so they pile up
// one per rollout; they cost nothing, and prune is housekeeping. Dry run unless -delete.
func prune(ctx context.Context, args []string, stdout io.Writer, connect newSageMaker) error {
	var e endpointFlags
	fs := flag.NewFlagSet("smoke prune", flag.ContinueOnError)
	outputs := e.register(fs)
	del := fs.Bool("delete", false, "delete; without it prune only lists what it would delete")
	destroyed := fs.Bool("destroyed", false, "the endpoint is gone (after 'pulumi destroy'): every model and configuration of the stack may go")
	if err := parseFlags(fs, args, stdout, "prune lists, and with -delete deletes, the stack's retained models and endpoint configurations that nothing serves."); err != nil {
		return err
	}
	if err := fillFromOutputs(fs, *outputs, endpointOutputKeys); err != nil {
		return err
	}
	if err := e.require(map[string]string{"-region": e.Region, "-endpoint": e.Endpoint, "-stack-tag": e.StackTag}); err != nil {
		return err
	}
	sm, err := connect(ctx, e.Region)
	if err != nil {
		return err
	}

	// What must stay: what serves now, and what the stack's state names.
	keepConfigs, keepModels := map[string]string{}, map[string]string{}
	if e.ConfigName != "" {
		keepConfigs[e.ConfigName] = "the stack's endpointConfigName"
	}
	if e.ModelName != "" {
		keepModels[e.ModelName] = "the stack's modelName"
	}
	ep, found, err := describe(ctx, sm, e.Endpoint)
	switch {
	case err != nil:
		return err
	case !found && !*destroyed:
		return fmt.Errorf("endpoint %s does not exist in %s: if the stack was destroyed, run again with -destroyed; otherwise check -endpoint and -region", e.Endpoint, e.Region)
	case found && ep.EndpointStatus != types.EndpointStatusInService:
		return fmt.Errorf("endpoint %s is %s: prune only while it is InService, when no deployment can still switch configurations", e.Endpoint, ep.EndpointStatus)
	case found:
		keepConfigs[aws.ToString(ep.EndpointConfigName)] = "serving"
	}
	for name := range keepConfigs {
		cfg, err := sm.DescribeEndpointConfig(ctx, &sagemaker.DescribeEndpointConfigInput{EndpointConfigName: aws.String(name)})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && strings.Contains(apiErr.ErrorMessage(), "Could not find endpoint configuration") {
			continue
		}
		if err != nil {
			return fmt.Errorf("describe endpoint configuration %s: %w", name, err)
		}
		for _, v := range cfg.ProductionVariants {
			keepModels[aws.ToString(v.ModelName)] = "used by " + name
		}
	}

	configs, err := listTagged(ctx, sm, "endpoint-config", prefixOf(e.ConfigName), e.StackTag)
	if err != nil {
		return err
	}
	models, err := listTagged(ctx, sm, "model", prefixOf(e.ModelName), e.StackTag)
	if err != nil {
		return err
	}
	var doomed []func() error
	report := func(kind, name string, keep map[string]string, deleteIt func() error) {
		if why, ok := keep[name]; ok {
			fmt.Fprintf(stdout, "keep   %s/%s (%s)\n", kind, name, why)
			return
		}
		verb := "would delete"
		if *del {
			verb = "delete"
		}
		fmt.Fprintf(stdout, "%s %s/%s\n", verb, kind, name)
		doomed = append(doomed, deleteIt)
	}
	// Configurations first: a model is deleted only after every configuration naming it.
	for _, name := range configs {
		report("endpoint-config", name, keepConfigs, func() error {
			_, err := sm.DeleteEndpointConfig(ctx, &sagemaker.DeleteEndpointConfigInput{EndpointConfigName: aws.String(name)})
			return err
		})
	}
	for _, name := range models {
		report("model", name, keepModels, func() error {
			_, err := sm.DeleteModel(ctx, &sagemaker.DeleteModelInput{ModelName: aws.String(name)})
			return err
		})
	}
	if !*del {
		fmt.Fprintf(stdout, "dry run: %d to delete; run again with -delete to delete them\n", len(doomed))
		return nil
	}
	for _, d := range doomed {
		if err := d(); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
	}
	fmt.Fprintf(stdout, "deleted %d\n", len(doomed))
	return nil
}

// prefixOf narrows a listing to the names Pulumi autonamed from the same logical name.
func prefixOf(name string) string {
	if !autonameSuffix.MatchString(name) {
		return ""
	}
	return autonameSuffix.ReplaceAllString(name, "-")
}

// listTagged lists the models or endpoint configurations whose names contain prefix and whose
// `stack` tag is stackTag: the tag, not the name, decides what belongs to the stack.
func listTagged(ctx context.Context, sm sageMakerAPI, kind, prefix, stackTag string) ([]string, error) {
	type item struct{ name, arn string }
	var items []item
	if kind == "model" {
		p := sagemaker.NewListModelsPaginator(sm, &sagemaker.ListModelsInput{NameContains: nonEmpty(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list models: %w", err)
			}
			for _, m := range page.Models {
				items = append(items, item{aws.ToString(m.ModelName), aws.ToString(m.ModelArn)})
			}
		}
	} else {
		p := sagemaker.NewListEndpointConfigsPaginator(sm, &sagemaker.ListEndpointConfigsInput{NameContains: nonEmpty(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list endpoint configurations: %w", err)
			}
			for _, c := range page.EndpointConfigs {
				items = append(items, item{aws.ToString(c.EndpointConfigName), aws.ToString(c.EndpointConfigArn)})
			}
		}
	}
	var out []string
	for _, it := range items {
		tags, err := sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: aws.String(it.arn)})
		if err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", it.arn, err)
		}
		for _, t := range tags.Tags {
			if aws.ToString(t.Key) == "stack" && aws.ToString(t.Value) == stackTag {
				out = append(out, it.name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
