//go:build tools

package components

// The LambdaProxy component, when asked to build the proxy from source (HandlerPackage or
// BuildDir; by default it uses the embedded archive), builds it by import path. In a Pulumi
// project that imports this package, that build needs the proxy's dependencies in the project's go.sum; `go mod tidy`
// considers every build tag, so this import puts them there without compiling the AWS SDK into
// the Pulumi program.
import _ "github.com/inferstack/inferstack/lambda/proxy"
