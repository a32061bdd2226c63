// Package program is the inferstack Pulumi program: main.go passes Run to pulumi.Run, and the
// whole-program tests run the same function under mocks once per committed stack file.
package program

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/components/waf"
	"github.com/inferstack/inferstack/stackconfig"
)

// Stack output names: what a user needs after `pulumi up`.
const (
	OutEndpointName  = "endpointName"
	OutEndpointArn   = "endpointArn"
	OutVariantName   = "variantName"
	OutImageURI      = "imageUri"
	OutRepositoryURL = "repositoryUrl"
	OutRegion        = "region"
	OutInvokeCommand = "invokeCommand"
	// OutProxyFunctionName and OutProxyLogGroup name the Lambda proxy, for `aws logs tail` and
	// direct test invocations before the API exists.
	OutProxyFunctionName = "proxyFunctionName"
	OutProxyLogGroup     = "proxyLogGroupName"
	// What a client needs to call the API (docs/api.md); cmd/smoke reads these names.
	OutAPIURL          = "apiUrl"
	OutTokenEndpoint   = "tokenEndpoint"
	OutInvokeScope     = "invokeScope"
	OutUserPoolID      = "userPoolId"
	OutUserClientID    = "userClientId"
	OutMachineClientID = "machineClientId"
	OutAPIKeyID        = "apiKeyId"
	// OutMachineClientSecret and OutAPIKeyValue are secret outputs: `pulumi stack output
	// --show-secrets` reveals them.
	OutMachineClientSecret = "machineClientSecret"
	OutAPIKeyValue         = "apiKeyValue"
	// Operations (docs/runbook.md): where alerts go, the dashboard, and the alarms that roll
	// endpoint deployments back.
	OutAlarmTopicArn      = "alarmTopicArn"
	OutDashboardName      = "dashboardName"
	OutRollbackAlarmNames = "rollbackAlarmNames"
	// OutEndpointConfigName and OutModelName are what this update deployed: `go run ./cmd/smoke
	// verify` compares them with DescribeEndpoint (a SageMaker rollback leaves the endpoint on the
	// previous configuration), and `prune` keeps them.
	OutEndpointConfigName = "endpointConfigName"
	OutModelName          = "modelName"
	// OutStackTag is the value of the stack's `stack` tag, which `go run ./cmd/smoke prune`
	// selects the stack's retained models and configurations by.
	OutStackTag = "stackTag"
)

// Run loads the stack config, deploys the model and exports the outputs.
func Run(ctx *pulumi.Context) error {
	return RunWith(ctx, ctx.Export)
}

// RunWith is Run with the export function as a parameter: the whole-program tests pass one that
// records the stack outputs, which the Pulumi mocks do not keep.
func RunWith(ctx *pulumi.Context, export func(name string, value pulumi.Input)) error {
	outputs, err := deploy(ctx)
	if err != nil {
		return err
	}
	for k, v := range outputs {
		export(k, v)
	}
	return nil
}

func deploy(ctx *pulumi.Context) (pulumi.Map, error) {
	cfg, err := stackconfig.Load(ctx)
	if err != nil {
		// The Problems error lists every key at once; say which stack file to fix.
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", ctx.Stack(), err)
	}
	// What must already be there, checked before anything is registered: the model directory,
	// and what the account must have.
	if err := checkModelDir(cfg); err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", ctx.Stack(), err)
	}
	if err := preflight(ctx.Context(), cfg, func(msg string) { _ = ctx.Log.Warn(msg, nil) }); err != nil {
		return nil, fmt.Errorf("Pulumi.%s.yaml: %w", ctx.Stack(), err)
	}
	args := DeploymentArgs(cfg)
	wafArgs := WebACLArgs(cfg)
	if wafArgs != nil {
		// Checked before anything is registered; the stage is the one unknown yet.
		check := wafArgs.WithDefaults()
		check.StageARN = pulumi.String("")
		if err := check.Validate(); err != nil {
			return nil, fmt.Errorf("Pulumi.%s.yaml: %w", ctx.Stack(), err)
		}
	}
	d, err := components.NewModelDeployment(ctx, cfg.Model.Name, &args)
	if err != nil {
		return nil, err
	}
	if wafArgs != nil && d.API != nil {
		// Named and parented as the API's child, where it has always been: its URN is unchanged.
		wafArgs.StageARN = d.API.StageARN
		if _, err := waf.NewWebACL(ctx, cfg.Model.Name+"-api-waf", wafArgs, pulumi.Parent(d.API)); err != nil {
			return nil, err
		}
	}
	return pulumi.Map{
		OutEndpointName:      d.EndpointName,
		OutEndpointArn:       d.EndpointARN,
		OutVariantName:       d.VariantName,
		OutImageURI:          d.ImageURI,
		OutRepositoryURL:     d.RepositoryURL,
		OutRegion:            pulumi.String(cfg.Region),
		OutProxyFunctionName: d.ProxyFunctionName,
		OutProxyLogGroup:     d.ProxyLogGroupName,
		OutAPIURL:            d.APIURL,
		OutTokenEndpoint:     d.TokenEndpoint,
		OutInvokeScope:       pulumi.String(components.InvokeScope),
		OutUserPoolID:        d.UserPoolID,
		OutUserClientID:      d.UserClientID,
		OutMachineClientID:   d.MachineClientID,
		OutAPIKeyID:          d.APIKeyID,
		// Already secret; ToSecret states it where the export happens.
		OutMachineClientSecret: pulumi.ToSecret(d.MachineClientSecret),
		OutAPIKeyValue:         pulumi.ToSecret(d.APIKeyValue),
		OutAlarmTopicArn:       d.AlarmTopicARN,
		OutDashboardName:       d.DashboardName,
		OutRollbackAlarmNames:  d.RollbackAlarmNames,
		OutEndpointConfigName:  d.EndpointConfigName,
		OutModelName:           d.ModelName,
		OutStackTag:            pulumi.String(StackTag(cfg)),
		// The first thing to try after a deploy, before the API exists.
		OutInvokeCommand: pulumi.Sprintf("aws sagemaker-runtime invoke-endpoint --region %s --endpoint-name %s "+
			"--content-type application/json --body fileb://request.json response.json", cfg.Region, d.EndpointName),
	}, nil
}
