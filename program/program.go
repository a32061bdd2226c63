// Package program is the inferstack Pulumi program: main.go passes Run to pulumi.Run, and the
// whole-program tests run the same function under mocks once per committed stack file.
package program

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/components/waf"
	"github.com/inferstack/inferstack/stackconfig"

	"github.com/inferstack/inferstack/internal/contract"
)

// Stack output names: what a user needs after `pulumi up`. The names are internal/contract's,
// which cmd/smoke reads too.
const (
	OutEndpointName  = contract.OutEndpointName
	OutEndpointArn   = contract.OutEndpointArn
	OutVariantName   = contract.OutVariantName
	OutImageURI      = contract.OutImageURI
	OutRepositoryURL = contract.OutRepositoryURL
	OutRegion        = contract.OutRegion
	OutInvokeCommand = contract.OutInvokeCommand
	// OutProxyFunctionName and OutProxyLogGroup name the Lambda proxy, for `aws logs tail` and
	// direct test invocations before the API exists.
	OutProxyFunctionName = contract.OutProxyFunctionName
	OutProxyLogGroup     = contract.OutProxyLogGroup
	// What a client needs to call the API (docs/api.md).
	OutAPIURL          = contract.OutAPIURL
	OutTokenEndpoint   = contract.OutTokenEndpoint
	OutInvokeScope     = contract.OutInvokeScope
	OutUserPoolID      = contract.OutUserPoolID
	OutUserClientID    = contract.OutUserClientID
	OutMachineClientID = contract.OutMachineClientID
	OutAPIKeyID        = contract.OutAPIKeyID
	// OutMachineClientSecret and OutAPIKeyValue are secret outputs: `pulumi stack output
	// --show-secrets` reveals them.
	OutMachineClientSecret = contract.OutMachineClientSecret
	OutAPIKeyValue         = contract.OutAPIKeyValue
	// Operations (docs/runbook.md): where alerts go, the dashboard, and the alarms that roll
	// endpoint deployments back.
	OutAlarmTopicArn      = contract.OutAlarmTopicArn
	OutDashboardName      = contract.OutDashboardName
	OutRollbackAlarmNames = contract.OutRollbackAlarmNames
	// OutEndpointConfigName and OutModelName are what this update deployed: `go run ./cmd/smoke
	// verify` compares them with DescribeEndpoint (a SageMaker rollback leaves the endpoint on the
	// previous configuration), and `prune` keeps them.
	OutEndpointConfigName = contract.OutEndpointConfigName
	OutModelName          = contract.OutModelName
	// OutStackTag is the value of the stack's `stack` tag, which `go run ./cmd/smoke prune`
	// selects the stack's retained models and configurations by.
	OutStackTag = contract.OutStackTag
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
	// Every problem at once, by stack key: the stack's own (stackconfig) and the components'
	// (each Args' Validate), before anything is registered.
	cfg, err := stackconfig.Load(ctx)
	if err := CheckConfig(cfg, err); err != nil {
		return nil, describe(ctx.Stack(), err)
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
	return exports(cfg, d), nil
}

// exports chooses the stack outputs from the deployment's parts. The proxy and API are optional
// parts of a ModelDeployment; their outputs are "" without them, as they always were.
func exports(cfg stackconfig.Config, d *components.ModelDeployment) pulumi.Map {
	empty := pulumi.String("").ToStringOutput()
	noSecret := pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput)
	proxyName, proxyLogs := empty, empty
	if p := d.Proxy; p != nil {
		proxyName, proxyLogs = p.FunctionName, p.LogGroupName
	}
	apiURL, tokenURL, pool, userClient, machineClient, keyID := empty, empty, empty, empty, empty, empty
	machineSecret, keyValue := noSecret, noSecret
	if api := d.API; api != nil {
		apiURL, tokenURL, pool, userClient = api.InvokeURL, api.TokenEndpoint, api.UserPoolID, api.UserClientID
		machineClient, keyID, machineSecret, keyValue = api.MachineClientID, api.APIKeyID, api.MachineClientSecret, api.APIKeyValue
	}
	topic, dashboard := empty, empty
	if m := d.Monitoring; m != nil {
		topic, dashboard = m.TopicARN, m.DashboardName
	}
	e := d.Endpoint
	return pulumi.Map{
		OutEndpointName:      e.EndpointName,
		OutEndpointArn:       e.EndpointARN,
		OutVariantName:       e.VariantName,
		OutImageURI:          d.Image.ImageURI,
		OutRepositoryURL:     d.Image.RepositoryURL,
		OutRegion:            pulumi.String(cfg.Region),
		OutProxyFunctionName: proxyName,
		OutProxyLogGroup:     proxyLogs,
		OutAPIURL:            apiURL,
		OutTokenEndpoint:     tokenURL,
		OutInvokeScope:       pulumi.String(components.InvokeScope),
		OutUserPoolID:        pool,
		OutUserClientID:      userClient,
		OutMachineClientID:   machineClient,
		OutAPIKeyID:          keyID,
		// Already secret; ToSecret states it where the export happens.
		OutMachineClientSecret: pulumi.ToSecret(machineSecret),
		OutAPIKeyValue:         pulumi.ToSecret(keyValue),
		OutAlarmTopicArn:       topic,
		OutDashboardName:       dashboard,
		OutRollbackAlarmNames:  e.RollbackAlarmNames,
		OutEndpointConfigName:  e.EndpointConfigName,
		OutModelName:           e.ModelName,
		OutStackTag:            pulumi.String(StackTag(cfg)),
		// The first thing to try after a deploy, before the API exists.
		OutInvokeCommand: pulumi.Sprintf("aws sagemaker-runtime invoke-endpoint --region %s --endpoint-name %s "+
			"--content-type application/json --body fileb://request.json response.json", cfg.Region, e.EndpointName),
	}
}
