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
		if a.Monitoring != nil && a.Monitoring.FunctionName == nil {
			a.Monitoring.FunctionName = proxy.FunctionName
		}
	}
	if a.API != nil {
		// Validate refused an API without a proxy.
		a.API.ProxyInvokeARN = c.Proxy.InvokeARN
		a.API.ProxyFunctionARN = c.Proxy.FunctionARN
		api, err := NewSecuredAPI(ctx, name+"-api", a.API, parent)
		if err != nil {
			return nil, fmt.Errorf("model deployment %q: %w", name, err)
		}
		c.API = api
		if a.Monitoring != nil && a.Monitoring.APIName == nil {
			a.Monitoring.APIName, a.Monitoring.StageName = api.RestAPIName, api.StageName
		}
	}

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
	a.Endpoint = a.Endpoint.WithDefaults()
	if a.API != nil {
		api := *a.API
		if a.Tags != nil {
			api.Tags = a.Tags
		}
		api = api.WithDefaults()
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
		p = p.WithDefaults()
		a.Proxy = &p
	}
	if a.Monitoring != nil {
		m := *a.Monitoring
		if a.Tags != nil {
			m.Tags = a.Tags
		}
		m = m.WithDefaults()
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
// under its field ("Proxy.Cache.MaxMB") and those between parts. Fields that ModelDeployment wires
// from one part into another must be left unset.
func (a ModelDeploymentArgs) Validate() error {
	var es FieldErrors
	wired := func(field string, set bool, from string) {
		if set {
			es.add(field, "set", "unset: ModelDeployment wires it from %s", from)
		}
	}
	e := a.Endpoint
	wired("Endpoint.ImageURI", e.ImageURI != nil, "Image")
	wired("Endpoint.RepositoryARN", e.RepositoryARN != nil, "Image")
	e.ImageURI, e.RepositoryARN = standIn, standIn
	es.nested("Image", a.Image.Validate())
	es.nested("Endpoint", e.Validate())
	if p := a.Proxy; p != nil {
		wired("Proxy.EndpointName", p.EndpointName != nil, "Endpoint")
		wired("Proxy.EndpointARN", p.EndpointARN != nil, "Endpoint")
		wired("Proxy.EndpointConfigName", p.EndpointConfigName != nil, "Endpoint")
		wired("Proxy.ServerlessEndpoint", p.ServerlessEndpoint, "Endpoint")
		q := *p
		q.EndpointName, q.EndpointARN = standIn, standIn
		es.nested("Proxy", q.Validate())
	}
	if api := a.API; api != nil {
		if a.Proxy == nil {
			es.add("API", "set", "unset without {Proxy}: the API calls the proxy")
		}
		wired("API.ProxyInvokeARN", api.ProxyInvokeARN != nil, "Proxy")
		wired("API.ProxyFunctionARN", api.ProxyFunctionARN != nil, "Proxy")
		wired("API.ProxyFunctionName", api.ProxyFunctionName != nil, "Proxy")
		q := *api
		q.ProxyInvokeARN, q.ProxyFunctionARN = standIn, standIn
		es.nested("API", q.Validate())
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
		wired("Monitoring.EndpointName", m.EndpointName != nil, "Endpoint")
		wired("Monitoring.Serverless", m.Serverless, "Endpoint")
		wired("Monitoring.InstanceType", m.InstanceType != "", "Endpoint")
		wired("Monitoring.AlarmNamePrefix", m.AlarmNamePrefix != "", "Endpoint")
		// VariantName is defaulted by WithDefaults; a value other than the default is the user's.
		if v, ok := m.VariantName.(pulumi.String); !ok || string(v) != DefaultVariantName {
			wired("Monitoring.VariantName", true, "Endpoint")
		}
		q := *m
		q.EndpointName = standIn
		es.nested("Monitoring", q.Validate())
		if p := a.Proxy; p != nil {
			if limit := float64(p.TimeoutSeconds) * 1000; m.Thresholds.LambdaDurationP99Ms > limit {
				es.add("Monitoring.Thresholds.LambdaDurationP99Ms", m.Thresholds.LambdaDurationP99Ms,
					"at most {Proxy.TimeoutSeconds} (%g ms), or the alarm never fires", limit)
			}
		}
	}
	return es.err()
}
