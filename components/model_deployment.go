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
	Image ModelImageArgs `pulumi:"image"`
	// Endpoint (required) serves the image. ImageURI and RepositoryARN are wired from Image and
	// must be left unset.
	Endpoint SageMakerEndpointArgs `pulumi:"endpoint"`
	// Monitoring (optional) adds alarms, a dashboard and the cost budget. EndpointName,
	// VariantName, Serverless and AlarmNamePrefix are wired from Endpoint and must be left unset.
	// Monitoring's alarms notify; the endpoint's rollback alarms are its own (created before it).
	Monitoring *MonitoringArgs `pulumi:"monitoring,optional"`
	// Proxy (optional) adds the Lambda proxy in front of the endpoint. EndpointName, EndpointArn,
	// EndpointConfigName and ServerlessEndpoint are wired from Endpoint and must be left unset.
	// With API, InvokeTimeoutSeconds defaults to below API.IntegrationTimeoutMs and must stay
	// below it. With Monitoring and no Monitoring.FunctionName, Monitoring watches this proxy.
	Proxy *LambdaProxyArgs `pulumi:"proxy,optional"`
	// API (optional) puts the Cognito-secured REST API in front of the proxy and requires Proxy.
	// ProxyInvokeARN, ProxyFunctionARN and ProxyFunctionName are wired from Proxy and must be left
	// unset; with Monitoring, the API alarms watch its stage. For a firewall, create a
	// waf.WebACL (package components/waf, which keeps the wafv2 SDK out of this package) on
	// ModelDeployment.API's StageARN.
	API *SecuredAPIArgs `pulumi:"api,optional"`
	// Tags (optional) are put on every part, replacing the parts' own Tags; use StandardTags.
	Tags map[string]string `pulumi:"tags,optional"`
}

// ModelDeployment takes a model from source to a SageMaker endpoint in one call: the image, the
// endpoint and, as they join, the proxy, the API and monitoring. Each part is also a component of
// its own for programs that compose them differently.
type ModelDeployment struct {
	pulumi.ResourceState

	// Image is the image component.
	Image *ModelImage
	// Endpoint is the endpoint component.
	Endpoint *SageMakerEndpoint
	// Proxy is the Lambda proxy component; nil without Args.Proxy.
	Proxy *LambdaProxy
	// API is the secured API component; nil without Args.API.
	API *SecuredAPI
	// Monitoring is the monitoring component; nil without Args.Monitoring.
	Monitoring *Monitoring

	// ImageURI is the deployed image, pinned by digest.
	ImageURI pulumi.StringOutput `pulumi:"imageUri"`
	// RepositoryURL is the image repository, for `docker pull` and scans.
	RepositoryURL pulumi.StringOutput `pulumi:"repositoryUrl"`
	// EndpointName is the SageMaker endpoint's name.
	EndpointName pulumi.StringOutput `pulumi:"endpointName"`
	// EndpointARN is the SageMaker endpoint's ARN.
	EndpointARN pulumi.StringOutput `pulumi:"endpointArn"`
	// VariantName is the endpoint's production variant.
	VariantName pulumi.StringOutput `pulumi:"variantName"`
	// EndpointRoleARN is the endpoint's execution role.
	EndpointRoleARN pulumi.StringOutput `pulumi:"endpointRoleArn"`
	// EndpointConfigName is the endpoint configuration this update deployed; after a deploy,
	// DescribeEndpoint must report the same (`go run ./cmd/smoke verify`).
	EndpointConfigName pulumi.StringOutput `pulumi:"endpointConfigName"`
	// ModelName is the SageMaker model of that configuration.
	ModelName pulumi.StringOutput `pulumi:"modelName"`
	// AlarmTopicARN is the SNS topic of alarm and budget notifications ("" without Monitoring).
	AlarmTopicARN pulumi.StringOutput `pulumi:"alarmTopicArn"`
	// DashboardName is the CloudWatch dashboard ("" without Monitoring).
	DashboardName pulumi.StringOutput `pulumi:"dashboardName"`
	// RollbackAlarmNames are the alarms that roll endpoint deployments back (empty without rollback).
	RollbackAlarmNames pulumi.StringArrayOutput `pulumi:"rollbackAlarmNames"`
	// ProxyFunctionName is the Lambda proxy's name ("" without Proxy).
	ProxyFunctionName pulumi.StringOutput `pulumi:"proxyFunctionName"`
	// ProxyFunctionARN is the Lambda proxy's ARN ("" without Proxy).
	ProxyFunctionARN pulumi.StringOutput `pulumi:"proxyFunctionArn"`
	// ProxyInvokeARN is the Lambda proxy's API Gateway integration URI ("" without Proxy).
	ProxyInvokeARN pulumi.StringOutput `pulumi:"proxyInvokeArn"`
	// ProxyLogGroupName is the Lambda proxy's log group ("" without Proxy).
	ProxyLogGroupName pulumi.StringOutput `pulumi:"proxyLogGroupName"`
	// APIURL is the API stage's invoke URL; append /ping or /invocations ("" without API).
	APIURL pulumi.StringOutput `pulumi:"apiUrl"`
	// TokenEndpoint is the Cognito OAuth 2.0 token URL ("" without API).
	TokenEndpoint pulumi.StringOutput `pulumi:"tokenEndpoint"`
	// UserPoolID is the API's Cognito user pool ("" without API).
	UserPoolID pulumi.StringOutput `pulumi:"userPoolId"`
	// UserClientID is the app client for people ("" without API).
	UserClientID pulumi.StringOutput `pulumi:"userClientId"`
	// MachineClientID is the client-credentials app client ("" without API or machine client).
	MachineClientID pulumi.StringOutput `pulumi:"machineClientId"`
	// MachineClientSecret is the machine client's secret, a secret output.
	MachineClientSecret pulumi.StringOutput `pulumi:"machineClientSecret"`
	// APIKeyID is the API key's ID ("" when no key is required).
	APIKeyID pulumi.StringOutput `pulumi:"apiKeyId"`
	// APIKeyValue is the API key, a secret output.
	APIKeyValue pulumi.StringOutput `pulumi:"apiKeyValue"`
}

// NewModelDeployment creates every part of one model's deployment as children of one component.
func NewModelDeployment(ctx *pulumi.Context, name string, args *ModelDeploymentArgs, opts ...pulumi.ResourceOption) (*ModelDeployment, error) {
	if args == nil {
		return nil, fmt.Errorf("model deployment %q: args are required", name)
	}
	if args.Endpoint.ImageURI != nil || args.Endpoint.RepositoryARN != nil {
		return nil, fmt.Errorf("model deployment %q: Endpoint.ImageURI and Endpoint.RepositoryARN come from Image; leave them unset", name)
	}
	if m := args.Monitoring; m != nil && (m.EndpointName != nil || m.VariantName != nil || m.Serverless || m.InstanceType != "" || m.AlarmNamePrefix != "") {
		return nil, fmt.Errorf("model deployment %q: Monitoring.EndpointName, VariantName, Serverless, InstanceType and AlarmNamePrefix come from Endpoint; leave them unset", name)
	}
	if api := args.API; api != nil && (args.Proxy == nil || api.ProxyInvokeARN != nil || api.ProxyFunctionARN != nil || api.ProxyFunctionName != nil) {
		return nil, fmt.Errorf("model deployment %q: API needs Proxy, and its Proxy* fields come from Proxy; leave them unset", name)
	}
	if p := args.Proxy; p != nil && (p.EndpointName != nil || p.EndpointARN != nil || p.EndpointConfigName != nil || p.ServerlessEndpoint) {
		return nil, fmt.Errorf("model deployment %q: Proxy.EndpointName, EndpointARN, EndpointConfigName and ServerlessEndpoint come from Endpoint; leave them unset", name)
	}
	a := *args
	if a.Monitoring != nil {
		m := *a.Monitoring
		a.Monitoring = &m
	}
	if a.Proxy != nil {
		p := *a.Proxy
		a.Proxy = &p
		if err := fitInvokeTimeout(a.Proxy, a.API); err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
	}
	if a.API != nil {
		api := *a.API
		a.API = &api
	}
	if a.Tags != nil {
		a.Image.Tags = a.Tags
		a.Endpoint.Tags = a.Tags
		if a.Monitoring != nil {
			a.Monitoring.Tags = a.Tags
		}
		if a.Proxy != nil {
			a.Proxy.Tags = a.Tags
		}
		if a.API != nil {
			a.API.Tags = a.Tags
		}
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
	c.Image = image
	endpointArgs := a.Endpoint
	endpointArgs.ImageURI = image.ImageURI
	endpointArgs.RepositoryARN = image.RepositoryARN
	// Monitoring's alarms are named from the endpoint's planned name, so that they need not wait
	// for the endpoint. They are not the endpoint's rollback alarms: Monitoring watches the proxy
	// and the API too, so it is created after them, while the rollback alarms must exist before
	// the endpoint that names them. The endpoint creates those itself (see RollbackConfig).
	endpointName := PlannedEndpointName(ctx, name+"-endpoint", &endpointArgs)
	endpoint, err := NewSageMakerEndpoint(ctx, name+"-endpoint", &endpointArgs, parent)
	if err != nil {
		return nil, fmt.Errorf("model deployment %q: %w", name, err)
	}
	c.Endpoint = endpoint
	// The proxy and API join here; each takes the endpoint's outputs as inputs.
	empty := pulumi.String("").ToStringOutput()
	c.ProxyFunctionName, c.ProxyFunctionARN, c.ProxyInvokeARN, c.ProxyLogGroupName = empty, empty, empty, empty
	if a.Proxy != nil {
		a.Proxy.EndpointName = endpoint.EndpointName
		a.Proxy.EndpointARN = endpoint.EndpointARN
		// Read through the endpoint's name, so that the value resolves (and the function
		// updates) only when the endpoint itself has taken the new configuration.
		a.Proxy.EndpointConfigName = pulumi.All(endpoint.EndpointName, endpoint.EndpointConfigName).ApplyT(
			func(v []any) string { return v[1].(string) }).(pulumi.StringOutput)
		a.Proxy.ServerlessEndpoint = a.Endpoint.Serverless != nil
		proxy, err := NewLambdaProxy(ctx, name+"-proxy", a.Proxy, parent)
		if err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
		c.Proxy = proxy
		c.ProxyFunctionName, c.ProxyFunctionARN = proxy.FunctionName, proxy.FunctionARN
		c.ProxyInvokeARN, c.ProxyLogGroupName = proxy.InvokeARN, proxy.LogGroupName
		if a.Monitoring != nil && a.Monitoring.FunctionName == nil {
			a.Monitoring.FunctionName = proxy.FunctionName
		}
	}
	c.APIURL, c.TokenEndpoint, c.UserPoolID, c.UserClientID, c.MachineClientID, c.APIKeyID = empty, empty, empty, empty, empty, empty
	noSecret := pulumi.ToSecret(pulumi.String("")).(pulumi.StringOutput)
	c.MachineClientSecret, c.APIKeyValue = noSecret, noSecret
	if a.API != nil {
		a.API.ProxyInvokeARN = c.ProxyInvokeARN
		a.API.ProxyFunctionARN = c.ProxyFunctionARN
		api, err := NewSecuredAPI(ctx, name+"-api", a.API, parent)
		if err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
		c.API = api
		c.APIURL, c.TokenEndpoint, c.UserPoolID, c.UserClientID = api.InvokeURL, api.TokenEndpoint, api.UserPoolID, api.UserClientID
		c.MachineClientID, c.MachineClientSecret = api.MachineClientID, api.MachineClientSecret
		c.APIKeyID, c.APIKeyValue = api.APIKeyID, api.APIKeyValue
		if a.Monitoring != nil && a.Monitoring.APIName == nil {
			a.Monitoring.APIName, a.Monitoring.StageName = api.RestAPIName, api.StageName
		}
	}

	c.AlarmTopicARN = pulumi.String("").ToStringOutput()
	c.DashboardName = pulumi.String("").ToStringOutput()
	if a.Monitoring != nil {
		m := a.Monitoring
		m.EndpointName = pulumi.String(endpointName)
		variant := endpointArgs.VariantName
		if variant == "" {
			variant = DefaultVariantName
		}
		m.VariantName = pulumi.String(variant)
		m.Serverless = endpointArgs.Serverless != nil
		m.InstanceType = endpointArgs.InstanceType
		m.AlarmNamePrefix = endpointName
		monitoring, err := NewMonitoring(ctx, name+"-monitoring", m, parent)
		if err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
		c.Monitoring = monitoring
		c.AlarmTopicARN = monitoring.TopicARN
		c.DashboardName = monitoring.DashboardName
	}

	c.ImageURI = image.ImageURI
	c.RepositoryURL = image.RepositoryURL
	c.EndpointName = endpoint.EndpointName
	c.EndpointARN = endpoint.EndpointARN
	c.VariantName = endpoint.VariantName
	c.EndpointRoleARN = endpoint.RoleARN
	c.EndpointConfigName = endpoint.EndpointConfigName
	c.ModelName = endpoint.ModelName
	c.RollbackAlarmNames = endpoint.RollbackAlarmNames
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"imageUri":            c.ImageURI,
		"repositoryUrl":       c.RepositoryURL,
		"endpointName":        c.EndpointName,
		"endpointArn":         c.EndpointARN,
		"variantName":         c.VariantName,
		"endpointRoleArn":     c.EndpointRoleARN,
		"endpointConfigName":  c.EndpointConfigName,
		"modelName":           c.ModelName,
		"alarmTopicArn":       c.AlarmTopicARN,
		"dashboardName":       c.DashboardName,
		"rollbackAlarmNames":  c.RollbackAlarmNames,
		"proxyFunctionName":   c.ProxyFunctionName,
		"proxyFunctionArn":    c.ProxyFunctionARN,
		"proxyInvokeArn":      c.ProxyInvokeARN,
		"proxyLogGroupName":   c.ProxyLogGroupName,
		"apiUrl":              c.APIURL,
		"tokenEndpoint":       c.TokenEndpoint,
		"userPoolId":          c.UserPoolID,
		"userClientId":        c.UserClientID,
		"machineClientId":     c.MachineClientID,
		"machineClientSecret": c.MachineClientSecret,
		"apiKeyId":            c.APIKeyID,
		"apiKeyValue":         c.APIKeyValue,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// fitInvokeTimeout keeps the proxy's endpoint call below the API's integration timeout: API
// Gateway answers a bare 504 at that point, whatever the function is still doing. Without API the
// proxy's own default (below API Gateway's default 29 s) stands.
func fitInvokeTimeout(p *LambdaProxyArgs, api *SecuredAPIArgs) error {
	if api == nil {
		return nil
	}
	integrationMs := api.IntegrationTimeoutMs
	if integrationMs == 0 {
		integrationMs = DefaultIntegrationTimeout
	}
	limit := (integrationMs - 1) / 1000 // whole seconds strictly below the integration timeout
	if limit < 1 {
		return fmt.Errorf("API.IntegrationTimeoutMs %d leaves no whole second for Proxy.InvokeTimeoutSeconds: use at least 1001", integrationMs)
	}
	if p.InvokeTimeoutSeconds == 0 {
		timeout := p.TimeoutSeconds
		if timeout == 0 {
			timeout = DefaultProxyTimeoutSeconds
		}
		p.InvokeTimeoutSeconds = max(1, min(timeout-1, limit))
		return nil
	}
	if p.InvokeTimeoutSeconds > limit {
		return fmt.Errorf("Proxy.InvokeTimeoutSeconds %d: must be at most %d, below API.IntegrationTimeoutMs %d, or API Gateway answers its own 504 first",
			p.InvokeTimeoutSeconds, limit, integrationMs)
	}
	return nil
}
