package main

import (
	"reflect"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/inferstack/inferstack/components"
)

// served are the components the provider serves, each by the constructor a Go program calls: the
// schema is inferred from its Args and result types.
var served = []component{
	serve(components.NewModelImage),
	serve(components.NewSageMakerEndpoint),
	serve(components.NewLambdaProxy),
	serve(components.NewSecuredApi),
	serve(components.NewMonitoring),
	serve(components.NewModelDeployment),
}

// component is one served component: what pulumi-go-provider serves, and its Go types and
// schema token for the docs.
type component struct {
	inferred     infer.InferredComponent
	token        string
	args, result reflect.Type
}

func serve[A any, O pulumi.ComponentResource](fn infer.ComponentFn[A, O]) component {
	c := component{inferred: infer.ComponentF(fn), args: elem(reflect.TypeFor[A]()), result: elem(reflect.TypeFor[O]())}
	c.token = Name + ":" + docKey(c.result)
	return c
}
