package main

import (
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/components/waf"
)

// served are the components the provider serves, each by the constructor a Go program calls (the
// schema is inferred from its Args and result types) and the type token that constructor
// registers, which is also the token in the schema. TestConstructRegistersTheSchemaToken checks
// that the two agree: a component must be constructed as the type the caller's SDK asked for.
var served = []component{
	serve("components:ModelImage", components.NewModelImage),
	serve("components:SageMakerEndpoint", components.NewSageMakerEndpoint),
	serve("components:LambdaProxy", components.NewLambdaProxy),
	serve("components:SecuredApi", components.NewSecuredAPI),
	serve("components:WebAcl", waf.NewWebACL),
	serve("components:Monitoring", components.NewMonitoring),
	serve("components:ModelDeployment", components.NewModelDeployment),
}

// component is one served component: what pulumi-go-provider serves, and its Go types and
// schema token for the docs.
type component struct {
	inferred     infer.InferredComponent
	token        string
	args, result reflect.Type
}

// serve makes fn a component of type token ("<module>:<Type>", after the package name).
func serve[A any, O pulumi.ComponentResource](token string, fn infer.ComponentFn[A, O]) component {
	module, name, _ := strings.Cut(token, ":")
	return component{
		inferred: infer.Component(constructor[A, O]{fn: fn, module: module, name: name}),
		token:    Name + ":" + token,
		args:     elem(reflect.TypeFor[A]()),
		result:   elem(reflect.TypeFor[O]()),
	}
}

// constructor is a component constructor with the token it registers. infer.ComponentF would
// derive the token from the Go names (inferstack:waf:WebACL); the components keep the tokens their
// stacks' URNs already hold.
type constructor[A any, O pulumi.ComponentResource] struct {
	fn           infer.ComponentFn[A, O]
	module, name string
}

// Construct implements infer.ComponentResource.
func (c constructor[A, O]) Construct(ctx *pulumi.Context, name, _ string, args A, opts pulumi.ResourceOption) (O, error) {
	return c.fn(ctx, name, args, opts)
}

// Annotate implements infer.Annotated: it sets the token. pulumi-go-provider also annotates a
// zero constructor while it infers the schema; that one has no token to set.
func (c constructor[A, O]) Annotate(a infer.Annotator) {
	if c.name != "" {
		a.SetToken(tokens.ModuleName(c.module), tokens.TypeName(c.name))
	}
}
