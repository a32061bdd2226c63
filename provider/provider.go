package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

//go:generate go run ./internal/docgen/gendocs

// typeDoc is the documentation of one struct type of the components (docs_gen.go).
type typeDoc struct {
	doc    string
	fields map[string]string
}

// Provider is the inferstack provider: every component through infer.ComponentF, with the schema
// documented from the components' Go doc comments.
func Provider() (p.Provider, error) {
	prov, err := infer.NewProviderBuilder().
		WithNamespace(Name).
		WithDisplayName("inferstack").
		WithDescription("Take a trained ML model to a secured, autoscaled AWS SageMaker endpoint: the image, the endpoint, a caching Lambda proxy, a Cognito-secured REST API, WAF and monitoring.").
		WithKeywords("sagemaker", "aws", "machine-learning", "category/cloud", "kind/component").
		WithRepository("https://github.com/inferstack/inferstack").
		WithLicense("Apache-2.0").
		WithComponents(inferred()...).
		Build()
	if err != nil {
		return prov, err
	}
	inner := prov.GetSchema
	prov.GetSchema = func(ctx context.Context, req p.GetSchemaRequest) (p.GetSchemaResponse, error) {
		resp, err := inner(ctx, req)
		if err != nil {
			return resp, err
		}
		resp.Schema, err = describe(resp.Schema)
		return resp, err
	}
	return prov, nil
}

// describe fills the description of every resource, type and property of schema from typeDocs.
//
// pulumi-go-provider takes descriptions from an Annotate(infer.Annotator) method on each type.
// Such a method in package components would make every Go program that imports components
// compile pulumi-go-provider and the codegen packages of pulumi/pkg; wrapper types here could
// carry it for the top-level Args and results but not for the nested Args types their fields
// keep (ProxyCacheArgs and the like). So the provider documents the schema it infers, from the
// same comments Go users read.
func describe(schema string) (string, error) {
	var spec map[string]any
	if err := json.Unmarshal([]byte(schema), &spec); err != nil {
		return "", fmt.Errorf("describe schema: %w", err)
	}
	resources, _ := spec["resources"].(map[string]any)
	for _, c := range served {
		r, ok := resources[c.token].(map[string]any)
		if !ok {
			return "", fmt.Errorf("describe schema: component %s is not in the schema", c.token)
		}
		out, in := docsOf(c.result), docsOf(c.args)
		setDoc(r, out.doc)
		describeProps(r["properties"], out)
		describeProps(r["inputProperties"], in)
	}
	types, _ := spec["types"].(map[string]any)
	for token, v := range types {
		t, _ := v.(map[string]any)
		d, ok := typeDocs[strings.TrimPrefix(token, Name+":")]
		if !ok || t == nil {
			continue
		}
		setDoc(t, d.doc)
		describeProps(t["properties"], d)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("describe schema: %w", err)
	}
	return string(b), nil
}

// inferred is what pulumi-go-provider serves.
func inferred() []infer.InferredComponent {
	out := make([]infer.InferredComponent, len(served))
	for i, c := range served {
		out[i] = c.inferred
	}
	return out
}

func describeProps(props any, d typeDoc) {
	m, _ := props.(map[string]any)
	for name, v := range m {
		if prop, ok := v.(map[string]any); ok {
			setDoc(prop, d.fields[name])
		}
	}
}

// setDoc sets a description that pulumi-go-provider left empty.
func setDoc(m map[string]any, doc string) {
	if s, _ := m["description"].(string); s == "" && doc != "" {
		m["description"] = doc
	}
}

// docsOf is the documentation of t. A provider type that embeds a components type (ModelDeployment)
// is described as that type, with its own fields' docs first.
func docsOf(t reflect.Type) typeDoc {
	t = elem(t)
	d := typeDocs[docKey(t)]
	for i := range t.NumField() {
		f := t.Field(i)
		e, ok := typeDocs[docKey(f.Type)]
		if !f.Anonymous || !ok {
			continue
		}
		fields := map[string]string{}
		maps.Copy(fields, e.fields)
		maps.Copy(fields, d.fields)
		d = typeDoc{doc: e.doc, fields: fields}
	}
	return d
}

// ownPkg is this package's import path; docgen keys its types "main:<Type>".
var ownPkg = reflect.TypeFor[typeDoc]().PkgPath()

// docKey is "<package>:<Type>", the end of the type's schema token.
func docKey(t reflect.Type) string {
	t = elem(t)
	if t.PkgPath() == ownPkg {
		return "main:" + t.Name()
	}
	return t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:] + ":" + t.Name()
}

func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
