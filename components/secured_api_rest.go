package components

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// apiRest is what the stage needs from the REST API.
type apiRest struct {
	api          *apigateway.RestApi
	id           pulumi.StringOutput
	executionArn pulumi.StringOutput
	deployment   *apigateway.Deployment
}

// newAPIRest creates the REST API from its definition, the Lambda permissions and the Deployment
// whose trigger is the definition's hash.
func newAPIRest(ctx *pulumi.Context, name string, a *SecuredAPIArgs, pool *apiUserPool,
	parent pulumi.Resource) (*apiRest, error) {
	opt := pulumi.Parent(parent)
	def := newAPIDefinition(apiOptions{
		RequireAPIKey: a.RequireAPIKey, AcceptUserTokens: a.AcceptUserTokens, CORSOrigins: a.CORSOrigins,
		IntegrationTimeout: a.IntegrationTimeoutMs,
	})

	api, err := apigateway.NewRestApi(ctx, name+"-api", &apigateway.RestApiArgs{
		Description:           pulumi.String("inferstack model API " + name),
		EndpointConfiguration: &apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		ApiKeySource:          pulumi.String("HEADER"),
		Tags:                  tagsFor(a.Tags, name+"-api"),
	}, opt)
	if err != nil {
		return nil, err
	}
	// Everything the Deployment snapshots; it must depend on all of it or it can be created
	// before the methods exist ("The REST API doesn't contain any methods").
	var snapshot []pulumi.Resource

	authorizer, err := apigateway.NewAuthorizer(ctx, name+"-authorizer", &apigateway.AuthorizerArgs{
		RestApi:        api.ID(),
		Name:           pulumi.String(def.Authorizer.Name),
		Type:           pulumi.String(def.Authorizer.Type),
		IdentitySource: pulumi.String(def.Authorizer.IdentitySource),
		ProviderArns:   pulumi.StringArray{pool.arn},
	}, opt)
	if err != nil {
		return nil, err
	}
	validator, err := apigateway.NewRequestValidator(ctx, name+"-validator", &apigateway.RequestValidatorArgs{
		RestApi:                   api.ID(),
		Name:                      pulumi.String(def.Validator.Name),
		ValidateRequestBody:       pulumi.Bool(def.Validator.ValidateBody),
		ValidateRequestParameters: pulumi.Bool(def.Validator.ValidateParams),
	}, opt)
	if err != nil {
		return nil, err
	}
	models := map[string]*apigateway.Model{}
	for _, m := range def.Models {
		model, err := apigateway.NewModel(ctx, name+"-model-"+strings.ToLower(m.Name), &apigateway.ModelArgs{
			RestApi: api.ID(), Name: pulumi.String(m.Name), ContentType: pulumi.String(m.ContentType),
			Schema: pulumi.String(m.Schema),
		}, opt)
		if err != nil {
			return nil, err
		}
		models[m.Name] = model
		snapshot = append(snapshot, model)
	}

	for _, r := range def.Routes {
		res, err := apigateway.NewResource(ctx, name+"-"+r.PathPart, &apigateway.ResourceArgs{
			RestApi: api.ID(), ParentId: api.RootResourceId, PathPart: pulumi.String(r.PathPart),
		}, opt)
		if err != nil {
			return nil, err
		}
		child := name + "-" + strings.ToLower(r.HTTPMethod) + "-" + r.PathPart
		margs := &apigateway.MethodArgs{
			RestApi:             api.ID(),
			ResourceId:          res.ID(),
			HttpMethod:          pulumi.String(r.HTTPMethod),
			Authorization:       pulumi.String(r.Authorization),
			AuthorizerId:        authorizer.ID(),
			AuthorizationScopes: pulumi.ToStringArray(r.Scopes),
			ApiKeyRequired:      pulumi.Bool(r.APIKeyRequired),
		}
		if len(r.RequestModels) > 0 {
			rm := pulumi.StringMap{}
			for ct, m := range r.RequestModels {
				rm[ct] = models[m].Name
			}
			margs.RequestModels = rm
			margs.RequestValidatorId = validator.ID()
		}
		method, err := apigateway.NewMethod(ctx, child, margs, opt)
		if err != nil {
			return nil, err
		}
		integration, err := apigateway.NewIntegration(ctx, child+"-integration", &apigateway.IntegrationArgs{
			RestApi:               api.ID(),
			ResourceId:            res.ID(),
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String(r.Integration.Type),
			IntegrationHttpMethod: pulumi.String(r.Integration.HTTPMethod),
			Uri:                   a.ProxyInvokeARN,
			TimeoutMilliseconds:   pulumi.Int(r.Integration.TimeoutMillis),
		}, opt)
		if err != nil {
			return nil, err
		}
		snapshot = append(snapshot, res, method, integration)

		// Only this API's stage may invoke the proxy, and only on this method and path.
		function := pulumi.Input(a.ProxyFunctionName)
		if a.ProxyFunctionARN != nil {
			function = a.ProxyFunctionARN
		}
		if _, err := lambda.NewPermission(ctx, child+"-permission", &lambda.PermissionArgs{
			Action:    pulumi.String("lambda:InvokeFunction"),
			Function:  function,
			Principal: pulumi.String("apigateway.amazonaws.com"),
			SourceArn: pulumi.Sprintf("%s/%s/%s%s", api.ExecutionArn, a.StageName, r.HTTPMethod, r.Path()),
		}, opt); err != nil {
			return nil, err
		}

		if def.CORS != nil {
			preflight, err := newPreflight(ctx, child, api, res, def.CORS, r.HTTPMethod, opt)
			if err != nil {
				return nil, err
			}
			snapshot = append(snapshot, preflight...)
		}
	}

	for _, gr := range def.GatewayResponses {
		rargs := &apigateway.ResponseArgs{
			RestApiId:         api.ID(),
			ResponseType:      pulumi.String(gr.Type),
			ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(gr.Template)},
		}
		if gr.StatusCode != "" {
			rargs.StatusCode = pulumi.String(gr.StatusCode)
		}
		if len(gr.Headers) > 0 {
			rargs.ResponseParameters = pulumi.ToStringMap(gr.Headers)
		}
		resp, err := apigateway.NewResponse(ctx, name+"-response-"+strings.ToLower(strings.ReplaceAll(gr.Type, "_", "-")), rargs, opt)
		if err != nil {
			return nil, err
		}
		snapshot = append(snapshot, resp)
	}
	snapshot = append(snapshot, authorizer, validator)

	trigger := pulumi.All(a.ProxyInvokeARN, pool.arn).ApplyT(func(v []any) (string, error) {
		return def.withResolved(v[0].(string), v[1].(string)).Hash()
	}).(pulumi.StringOutput)
	// No StageName here and no DeleteBeforeReplace: a changed trigger creates the new Deployment,
	// the Stage moves to it, and only then is the old one deleted, so AWS never sees a stage
	// pointing at a deployment being deleted.
	deployment, err := apigateway.NewDeployment(ctx, name+"-deployment", &apigateway.DeploymentArgs{
		RestApi:     api.ID(),
		Description: pulumi.Sprintf("definition %s", trigger),
		Triggers:    pulumi.StringMap{"definition": trigger},
	}, opt, pulumi.DependsOn(snapshot))
	if err != nil {
		return nil, err
	}
	return &apiRest{api: api, id: api.ID().ToStringOutput(), executionArn: api.ExecutionArn, deployment: deployment}, nil
}

// newPreflight answers OPTIONS on one resource without calling the proxy.
func newPreflight(ctx *pulumi.Context, child string, api *apigateway.RestApi, res *apigateway.Resource,
	cors *corsDef, method string, opt pulumi.ResourceOption) ([]pulumi.Resource, error) {
	options, err := apigateway.NewMethod(ctx, child+"-options", &apigateway.MethodArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: pulumi.String("OPTIONS"),
		Authorization: pulumi.String("NONE"), ApiKeyRequired: pulumi.Bool(false),
	}, opt)
	if err != nil {
		return nil, err
	}
	mock, err := apigateway.NewIntegration(ctx, child+"-options-integration", &apigateway.IntegrationArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: options.HttpMethod, Type: pulumi.String("MOCK"),
		RequestTemplates: pulumi.StringMap{"application/json": pulumi.String(`{"statusCode": 200}`)},
	}, opt)
	if err != nil {
		return nil, err
	}
	header := func(h string) string { return "method.response.header." + h }
	mresp, err := apigateway.NewMethodResponse(ctx, child+"-options-200", &apigateway.MethodResponseArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: options.HttpMethod, StatusCode: pulumi.String("200"),
		ResponseParameters: pulumi.BoolMap{
			header("Access-Control-Allow-Origin"):  pulumi.Bool(false),
			header("Access-Control-Allow-Headers"): pulumi.Bool(true),
			header("Access-Control-Allow-Methods"): pulumi.Bool(true),
			header("Access-Control-Max-Age"):       pulumi.Bool(true),
			header("Vary"):                         pulumi.Bool(true),
		},
	}, opt)
	if err != nil {
		return nil, err
	}
	iresp, err := apigateway.NewIntegrationResponse(ctx, child+"-options-integration-200", &apigateway.IntegrationResponseArgs{
		RestApi: api.ID(), ResourceId: res.ID(), HttpMethod: options.HttpMethod, StatusCode: mresp.StatusCode,
		ResponseParameters: pulumi.StringMap{
			header("Access-Control-Allow-Headers"): pulumi.String("'" + strings.Join(cors.Headers, ",") + "'"),
			header("Access-Control-Allow-Methods"): pulumi.String("'" + method + ",OPTIONS'"),
			header("Access-Control-Max-Age"):       pulumi.Sprintf("'%d'", cors.MaxAge),
			header("Vary"):                         pulumi.String("'Origin'"),
		},
		ResponseTemplates: pulumi.StringMap{"application/json": pulumi.String(cors.preflightTemplate())},
	}, opt, pulumi.DependsOn([]pulumi.Resource{mock}))
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{options, mock, mresp, iresp}, nil
}
