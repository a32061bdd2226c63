package components

import (
	_ "embed"
	"strings"
	"sync"
)

// The handler that LambdaProxy deploys by default ships prebuilt inside this package, so a
// program using the components (in Go, or through the provider in another language) needs no Go
// toolchain at deploy time and cannot pick up a different build. `go generate ./components`
// rebuilds it from lambda/proxy with the toolchain named in proxyzip/go-version;
// TestLambdaProxyEmbeddedArchiveIsFresh builds it afresh and fails when the bytes differ.
//
//go:generate go run ./internal/genproxyzip -out proxyzip

//go:embed proxyzip/bootstrap-arm64.zip
var embeddedProxyZip []byte

// embeddedProxyToolchain is the Go release the embedded archive was built with (`go1.26.8`).
//
//go:embed proxyzip/go-version
var embeddedProxyToolchainFile string

// embeddedProxyToolchain is the release named in proxyzip/go-version.
func embeddedProxyToolchain() string { return strings.TrimSpace(embeddedProxyToolchainFile) }

var (
	embeddedOnce    sync.Once
	embeddedArchive ProxyArchive
	embeddedErr     error
)

// EmbeddedProxyArchive is the prebuilt handler shipped in this package, written once to the
// user's cache directory (the Pulumi engine uploads a file).
func EmbeddedProxyArchive() (ProxyArchive, error) {
	embeddedOnce.Do(func() {
		embeddedArchive, embeddedErr = writeArchive(embeddedProxyZip)
	})
	return embeddedArchive, embeddedErr
}
