package main

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	comProvider "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"

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
	serve("components:ModelDeployment", newModelDeployment),
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
	c := constructor[A, O]{fn: fn, module: module, name: name}
	return component{
		inferred: flattened[A, O]{InferredComponent: infer.Component(c), c: c},
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

// flattened serves a component whose Args embed a Settings struct (LambdaProxyArgs embeds
// LambdaProxySettings, and so on) with the Settings' fields as direct inputs, the way the schema
// shows them.
//
// pulumi-go-provider v1.5.0 infers the schema with reflect.VisibleFields, so the promoted fields
// of an untagged embedded struct are direct inputs (infer/schema.go, propertyListFromType), but
// its Construct copies the inputs with the Go SDK's ConstructInputs.CopyTo, which looks at the
// top-level fields only (pulumi/sdk/v3@v3.274.1 go/pulumi/provider.go, constructInputsCopyTo:
// typ.NumField()), so every Settings field a TypeScript program set would be dropped silently.
// flattened keeps infer's schema and token and replaces Construct with one that also copies the
// inputs into each embedded struct (copyInputs).
type flattened[A any, O pulumi.ComponentResource] struct {
	infer.InferredComponent
	c constructor[A, O]
}

// Construct implements infer.InferredComponent: as infer's own (pulumi-go-provider@v1.5.0
// infer/component.go), with copyInputs for CopyTo.
func (f flattened[A, O]) Construct(ctx context.Context, req p.ConstructRequest) (p.ConstructResponse, error) {
	return p.ProgramConstruct(ctx, req, func(ctx *pulumi.Context, typ, _ string, inputs comProvider.ConstructInputs, opts pulumi.ResourceOption) (*comProvider.ConstructResult, error) {
		args := reflect.New(elem(reflect.TypeFor[A]()))
		if err := copyInputs(inputs, args); err != nil {
			return nil, fmt.Errorf("failed to copy inputs for %s (%s): %w", req.Urn.Name(), typ, err)
		}
		var a A
		if reflect.TypeFor[A]().Kind() == reflect.Pointer {
			a = args.Interface().(A)
		} else {
			a = args.Elem().Interface().(A)
		}
		res, err := f.c.Construct(ctx, req.Urn.Name(), typ, a, opts)
		if err != nil {
			return nil, err
		}
		// infer registers the result's tagged fields as the component's outputs after the
		// constructor returns; so does this (ModelDeployment's come from the provider's wrapper).
		if err := ctx.RegisterResourceOutputs(res, outputs(res)); err != nil {
			return nil, err
		}
		return comProvider.NewConstructResult(res)
	})
}

// copyInputs copies inputs into the struct ptr points to and, for each untagged embedded struct
// field, into that struct, recursively.
func copyInputs(inputs comProvider.ConstructInputs, ptr reflect.Value) error {
	if err := inputs.CopyTo(ptr.Interface()); err != nil {
		return err
	}
	v := ptr.Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if _, tagged := f.Tag.Lookup("pulumi"); tagged || !f.Anonymous || !f.IsExported() {
			continue
		}
		if f.Type.Kind() != reflect.Struct {
			return fmt.Errorf("embedded field %s.%s: only a struct (not %s) can carry inputs", v.Type().Name(), f.Name, f.Type.Kind())
		}
		if err := copyInputs(inputs, v.Field(i).Addr()); err != nil {
			return err
		}
	}
	return nil
}

// outputs are the tagged fields of the component res (promoted ones too) by their tag names.
func outputs(res any) pulumi.Map {
	v := reflect.ValueOf(res).Elem()
	m := pulumi.Map{}
	for _, f := range reflect.VisibleFields(v.Type()) {
		tag, ok := f.Tag.Lookup("pulumi")
		if !ok || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		fv, err := v.FieldByIndexErr(f.Index)
		if err != nil { // a field promoted through a nil embedded pointer
			continue
		}
		if in, ok := fv.Interface().(pulumi.Input); ok && !fv.IsZero() {
			m[name] = in
		}
	}
	return m
}
