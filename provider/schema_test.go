package main

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/provider/internal/docgen"
)

// schema gets the package schema the way the Pulumi CLI does, from the provider served over gRPC
// by pulumi-go-provider's integration server.
func schema(t *testing.T) pschema.PackageSpec {
	t.Helper()
	prov, err := Provider()
	require.NoError(t, err)
	server, err := integration.NewServer(context.Background(), Name, semver.MustParse(Version), integration.WithProvider(prov))
	require.NoError(t, err)
	resp, err := server.GetSchema(p.GetSchemaRequest{})
	require.NoError(t, err)
	if path := os.Getenv("INFERSTACK_SCHEMA_OUT"); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(resp.Schema), 0o644))
	}
	var spec pschema.PackageSpec
	require.NoError(t, json.Unmarshal([]byte(resp.Schema), &spec))
	return spec
}

// TestSchemaDocumentsEveryComponentInputAndOutput walks the Go types of every served component
// by reflection: each Args field must be an input property, each result field an output
// property, each nested struct a schema type with its fields, all with non-empty descriptions.
// A new field without a `pulumi` tag or a doc comment fails here.
func TestSchemaDocumentsEveryComponentInputAndOutput(t *testing.T) {
	spec := schema(t)
	assert.Equal(t, Name, spec.Name)
	require.Len(t, spec.Resources, len(served), "one schema resource per served component")
	for _, c := range served {
		t.Run(c.result.Name(), func(t *testing.T) {
			r, ok := spec.Resources[c.token]
			require.True(t, ok, "%s is not in the schema", c.token)
			assert.True(t, r.IsComponent, "%s is a component", c.token)
			assert.NotEmpty(t, r.Description, "%s has no description", c.token)
			nested := map[reflect.Type]bool{}
			for _, f := range schemaFields(t, c.args) {
				prop, ok := r.InputProperties[f.prop]
				if assert.True(t, ok, "input %s.%s (%q) is not in the schema", c.args.Name(), f.goName, f.prop) {
					assert.NotEmpty(t, prop.Description, "input %s.%s (%q) has no description", c.args.Name(), f.goName, f.prop)
				}
				collectStructs(f.typ, nested)
			}
			for _, f := range schemaFields(t, c.result) {
				prop, ok := r.Properties[f.prop]
				if assert.True(t, ok, "output %s.%s (%q) is not in the schema", c.result.Name(), f.goName, f.prop) {
					assert.NotEmpty(t, prop.Description, "output %s.%s (%q) has no description", c.result.Name(), f.goName, f.prop)
				}
				collectStructs(f.typ, nested)
			}
			for len(nested) > 0 {
				for typ := range nested {
					delete(nested, typ)
					token := Name + ":" + docKey(typ)
					st, ok := spec.Types[token]
					if !assert.True(t, ok, "type %s is not in the schema", token) {
						continue
					}
					assert.NotEmpty(t, st.Description, "type %s has no description", token)
					for _, f := range schemaFields(t, typ) {
						prop, ok := st.Properties[f.prop]
						if assert.True(t, ok, "%s.%s (%q) is not in the schema", typ.Name(), f.goName, f.prop) {
							assert.NotEmpty(t, prop.Description, "%s.%s (%q) has no description", typ.Name(), f.goName, f.prop)
						}
						collectStructs(f.typ, nested)
					}
				}
			}
		})
	}
}

// field is a struct field as the schema names it.
type field struct {
	goName, prop string
	typ          reflect.Type
}

var resourceState = reflect.TypeFor[pulumi.ResourceState]()

// goOnly are the exported fields that are deliberately not in the schema, each with the reason
// another language cannot have it. Any other field without a `pulumi` tag fails the test.
var goOnly = map[string]string{
	"SageMakerEndpointArgs.LiveReader":     liveReaderReason, // promoted from SageMakerEndpointSettings
	"SageMakerEndpointSettings.LiveReader": liveReaderReason, // ModelDeploymentArgs.Endpoint
	"ModelDeployment.Image":                childReason,
	"ModelDeployment.Endpoint":             childReason,
	"ModelDeployment.Proxy":                childReason,
	"ModelDeployment.API":                  childReason,
	"ModelDeployment.Monitoring":           childReason,
}

const liveReaderReason = "a Go interface value (reads the live endpoint); the component's default reader is what a provider run uses"

const childReason = "a Go pointer to a part of components.ModelDeployment, for Go programs; the provider's ModelDeployment has the parts' key values as outputs instead"

// schemaFields are the exported fields of t; every one must carry a `pulumi` tag, or a user of
// another language could not set or read it.
func schemaFields(t *testing.T, typ reflect.Type) []field {
	t.Helper()
	var out []field
	for _, f := range reflect.VisibleFields(typ) {
		if !f.IsExported() || f.Type == resourceState || f.Anonymous {
			continue
		}
		tag, ok := f.Tag.Lookup("pulumi")
		if _, skip := goOnly[typ.Name()+"."+f.Name]; skip && !ok {
			continue
		}
		if !assert.True(t, ok, "%s.%s has no `pulumi` tag", typ.Name(), f.Name) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		out = append(out, field{goName: f.Name, prop: name, typ: f.Type})
	}
	return out
}

// collectStructs adds the plain struct types that typ holds (through pointers, slices and maps):
// each is an object type of the schema. Pulumi's Input and Output types are interfaces or
// structs of package pulumi, not ours.
func collectStructs(typ reflect.Type, into map[reflect.Type]bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map || typ.Kind() == reflect.Array {
		typ = typ.Elem()
	}
	if typ.Kind() == reflect.Struct && strings.HasPrefix(typ.PkgPath(), "github.com/inferstack/inferstack/") {
		into[typ] = true
	}
}

// TestDocsAreGenerated: docs_gen.go is what `go generate` writes from the components' current
// comments.
func TestDocsAreGenerated(t *testing.T) {
	want, err := docgen.Generate(docgen.Dirs...)
	require.NoError(t, err)
	got, err := os.ReadFile("docs_gen.go")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "docs_gen.go is stale: run `go generate` in provider/")
}

// TestNestedSettingsAreOptional: a TypeScript or Python caller may leave out throttle, quota and
// thresholds (nil takes the defaults) instead of passing {}; pulumi-go-provider refuses an
// optional struct that is not a pointer (infer/schema.go), so these must be pointers.
func TestNestedSettingsAreOptional(t *testing.T) {
	spec := schema(t)
	for _, tc := range []struct{ token, input string }{
		{"inferstack:components:SecuredApi", "throttle"},
		{"inferstack:components:SecuredApi", "quota"},
		{"inferstack:components:Monitoring", "thresholds"},
	} {
		r := spec.Resources[tc.token]
		assert.Contains(t, r.InputProperties, tc.input, "%s.%s is an input", tc.token, tc.input)
		assert.NotContains(t, r.RequiredInputs, tc.input, "%s.%s is optional", tc.token, tc.input)
	}
}
