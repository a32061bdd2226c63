// Command gennodejs writes the TypeScript SDK of a Pulumi package schema, with Pulumi's own
// code generator (pkg/codegen/nodejs, the library `pulumi package gen-sdk --language nodejs`
// runs inside the pulumi-language-nodejs plugin). scripts/check-ts-example.sh uses it because
// that plugin is a Go module the module proxy does not serve, so the CLI's gen-sdk cannot run
// where only the proxy is reachable.
//
//	go run ./internal/gennodejs -schema schema.json -out sdks/inferstack
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	schemaPath := flag.String("schema", "schema.json", "the package schema (pulumi package get-schema)")
	out := flag.String("out", "sdk", "directory to write the SDK into")
	flag.Parse()
	if err := run(*schemaPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gennodejs:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out string) error {
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(b, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	// BindSpec validates the schema against Pulumi's metaschema, as gen-sdk does.
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("bind %s: %w", schemaPath, err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("bind %s: %s", schemaPath, diags.Error())
	}
	files, err := nodejs.GeneratePackage("pulumi-language-nodejs", pkg, nil, nil, true, noPackages{})
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	for name, content := range files {
		path := filepath.Join(out, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "gennodejs: %d files in %s\n", len(files), out)
	return nil
}

// noPackages loads no other package: the inferstack schema refers to none, so a reference to one
// is an error to report, not to resolve.
type noPackages struct{}

var _ schema.ReferenceLoader = noPackages{}

func (noPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("the schema refers to package %s: gennodejs loads no other package", pkg)
}

func (l noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return l.LoadPackage(d.Name, nil)
}

func (l noPackages) LoadPackageReference(pkg string, v *semver.Version) (schema.PackageReference, error) {
	_, err := l.LoadPackage(pkg, v)
	return nil, err
}

func (l noPackages) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return l.LoadPackageReference(d.Name, nil)
}
