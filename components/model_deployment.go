package components

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const modelDeploymentType = "inferstack:components:ModelDeployment"

// ModelDeploymentArgs configures a ModelDeployment: one field per part, each the part's Settings,
// which leave out what the deployment wires from one part into another (the image into the
// endpoint, the endpoint into the proxy and Monitoring, the proxy into the API). Image and
// Endpoint are required; the other parts are optional pointers, so a part joins by adding a field
// here and a block in NewModelDeployment, and nothing else changes.
type ModelDeploymentArgs struct {
	// Image (required) builds and pushes the inference image.
	Image ModelImageArgs `pulumi:"image"`
	// Endpoint (required) serves the image.
	Endpoint SageMakerEndpointSettings `pulumi:"endpoint"`
	// Monitoring (optional) adds alarms, a dashboard and the cost budget, watching the endpoint
	// and, when they exist, the proxy and the API's stage. Its alarms notify; the endpoint's
	// rollback alarms are its own (created before it).
	Monitoring *MonitoringSettings `pulumi:"monitoring,optional"`
	// Proxy (optional) adds the Lambda proxy in front of the endpoint. With API,
	// InvokeTimeoutSeconds defaults to below API.IntegrationTimeoutMs and must stay below it.
	Proxy *LambdaProxySettings `pulumi:"proxy,optional"`
	// API (optional) puts the Cognito-secured REST API in front of the proxy and requires Proxy.
	// For a firewall, create a waf.WebACL (package components/waf, which keeps the wafv2 SDK out
	// of this package) on ModelDeployment.API's StageARN.
	API *SecuredAPISettings `pulumi:"api,optional"`
	// Tags (optional) are put on every part, replacing the parts' own Tags; use StandardTags.
	Tags map[string]string `pulumi:"tags,optional"`
}

// ModelDeployment takes a model from source to a SageMaker endpoint in one call: the image, the
// endpoint and, as they join, the proxy, the API and monitoring. Each part is also a component of
// its own for programs that compose them differently.
type ModelDeployment struct {
	pulumi.ResourceState

	// The parts, for a program to export what it needs (their outputs) or to build on: the
	// deployment copies none of their outputs. They are Go values, not outputs of the component.

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
}

// NewModelDeployment creates every part of one model's deployment as children of one component.
func NewModelDeployment(ctx *pulumi.Context, name string, args *ModelDeploymentArgs, opts ...pulumi.ResourceOption) (*ModelDeployment, error) {
	if args == nil {
		return nil, fmt.Errorf("model deployment %q: args are required", name)
	}
	a := args.WithDefaults()
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("model deployment %q: %w", name, err)
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
	endpointArgs := SageMakerEndpointArgs{ImageURI: image.ImageURI, RepositoryARN: image.RepositoryARN,
		SageMakerEndpointSettings: a.Endpoint}
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
	var monitoring *MonitoringArgs
	if a.Monitoring != nil {
		monitoring = &MonitoringArgs{MonitoringSettings: *a.Monitoring}
	}
	if a.Proxy != nil {
		proxy, err := NewLambdaProxy(ctx, name+"-proxy", &LambdaProxyArgs{
			EndpointName: endpoint.EndpointName,
			EndpointARN:  endpoint.EndpointARN,
			// Read through the endpoint's name, so that the value resolves (and the function
			// updates) only when the endpoint itself has taken the new configuration.
			EndpointConfigName: pulumi.All(endpoint.EndpointName, endpoint.EndpointConfigName).ApplyT(
				func(v []any) string { return v[1].(string) }).(pulumi.StringOutput),
			ServerlessEndpoint:  a.Endpoint.Serverless != nil,
			LambdaProxySettings: *a.Proxy,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
		c.Proxy = proxy
		if monitoring != nil {
			monitoring.FunctionName = proxy.FunctionName
		}
	}
	if a.API != nil {
		// Validate refused an API without a proxy.
		api, err := NewSecuredAPI(ctx, name+"-api", &SecuredAPIArgs{
			ProxyInvokeARN: c.Proxy.InvokeARN, ProxyFunctionARN: c.Proxy.FunctionARN, SecuredAPISettings: *a.API,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
		c.API = api
		if monitoring != nil {
			monitoring.APIName, monitoring.StageName = api.RestAPIName, api.StageName
		}
	}

	if m := monitoring; m != nil {
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
	}

	// The parts registered their own outputs; the deployment copies none of them.
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{}); err != nil {
		return nil, err
	}
	return c, nil
}

// WithDefaults returns the args with every part's defaults filled (each part's WithDefaults), and
// Tags, when set, on every part. With API, Proxy.InvokeTimeoutSeconds defaults to the whole
// seconds below API.IntegrationTimeoutMs. The result shares no pointer with a.
func (a ModelDeploymentArgs) WithDefaults() ModelDeploymentArgs {
	if a.Tags != nil {
		a.Image.Tags = a.Tags
		a.Endpoint.Tags = a.Tags
	}
	a.Image = a.Image.WithDefaults()
	a.Endpoint = SageMakerEndpointArgs{SageMakerEndpointSettings: a.Endpoint}.WithDefaults().SageMakerEndpointSettings
	if a.API != nil {
		api := *a.API
		if a.Tags != nil {
			api.Tags = a.Tags
		}
		api = SecuredAPIArgs{SecuredAPISettings: api}.WithDefaults().SecuredAPISettings
		a.API = &api
	}
	if a.Proxy != nil {
		p := *a.Proxy
		if a.Tags != nil {
			p.Tags = a.Tags
		}
		if a.API != nil && p.InvokeTimeoutSeconds == 0 {
			// API Gateway answers a bare 504 at its integration timeout, whatever the function is
			// still doing: the proxy's endpoint call must end first.
			timeout := p.TimeoutSeconds
			if timeout == 0 {
				timeout = DefaultProxyTimeoutSeconds
			}
			if limit := invokeLimit(a.API.IntegrationTimeoutMs); limit >= 1 {
				p.InvokeTimeoutSeconds = max(1, min(timeout-1, limit))
			}
		}
		p = LambdaProxyArgs{LambdaProxySettings: p}.WithDefaults().LambdaProxySettings
		a.Proxy = &p
	}
	if a.Monitoring != nil {
		m := *a.Monitoring
		if a.Tags != nil {
			m.Tags = a.Tags
		}
		m = MonitoringArgs{MonitoringSettings: m}.WithDefaults().MonitoringSettings
		a.Monitoring = &m
	}
	return a
}

// invokeLimit is the whole seconds strictly below an integration timeout in milliseconds.
func invokeLimit(integrationMs int) int { return (integrationMs - 1) / 1000 }

// standIn marks a wired field as known while a part's settings are checked: ModelDeployment
// sets it from another part when it creates them.
var standIn = pulumi.String("wired")

// Validate reports every problem of defaulted args (WithDefaults) at once: each part's problems
// under its field ("Proxy.Cache.MaxMB") and those between parts. What ModelDeployment wires from
// one part into another is not in its Args: the Settings types leave it out.
func (a ModelDeploymentArgs) Validate() error {
	var es FieldErrors
	es.nested("Image", a.Image.Validate())
	es.nested("Endpoint", SageMakerEndpointArgs{ImageURI: standIn, RepositoryARN: standIn, SageMakerEndpointSettings: a.Endpoint}.Validate())
	if p := a.Proxy; p != nil {
		es.nested("Proxy", LambdaProxyArgs{EndpointName: standIn, EndpointARN: standIn, LambdaProxySettings: *p}.Validate())
	}
	if api := a.API; api != nil {
		if a.Proxy == nil {
			es.add("API", "set", "unset without {Proxy}: the API calls the proxy")
		}
		es.nested("API", SecuredAPIArgs{ProxyInvokeARN: standIn, ProxyFunctionARN: standIn, SecuredAPISettings: *api}.Validate())
		if p := a.Proxy; p != nil {
			if limit := invokeLimit(api.IntegrationTimeoutMs); limit < 1 {
				es.add("API.IntegrationTimeoutMs", api.IntegrationTimeoutMs,
					"at least 1001, leaving a whole second for {Proxy.InvokeTimeoutSeconds}")
			} else if p.InvokeTimeoutSeconds > limit {
				es.add("Proxy.InvokeTimeoutSeconds", p.InvokeTimeoutSeconds,
					"at most %d, below {API.IntegrationTimeoutMs} (%d), or API Gateway answers its own 504 first",
					limit, api.IntegrationTimeoutMs)
			}
		}
	}
	if m := a.Monitoring; m != nil {
		es.nested("Monitoring", MonitoringArgs{EndpointName: standIn, MonitoringSettings: *m}.Validate())
		if p := a.Proxy; p != nil {
			if limit := float64(p.TimeoutSeconds) * 1000; m.thresholds().LambdaDurationP99Ms > limit {
				es.add("Monitoring.Thresholds.LambdaDurationP99Ms", m.thresholds().LambdaDurationP99Ms,
					"at most {Proxy.TimeoutSeconds} (%g ms), or the alarm never fires", limit)
			}
		}
	}
	return es.err()
}
