// Command pulumi-resource-inferstack is the inferstack component provider: it serves the
// components of package components (and components/waf) to Pulumi programs in any language.
// Pulumi builds it from source (PulumiPlugin.yaml, runtime go) when a program runs
// `pulumi package add`; see the README's "Other languages" section.
package main

import (
	"context"
	"fmt"
	"os"
)

// Name is the Pulumi package name: every type token starts with it
// (inferstack:components:LambdaProxy).
const Name = "inferstack"

// Version is the package version reported in the schema; a release build sets it with
// -ldflags "-X main.Version=...".
var Version = "0.1.0"

func main() {
	p, err := Provider()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := p.Run(context.Background(), Name, Version); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
