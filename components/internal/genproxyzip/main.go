// Command genproxyzip rebuilds the Lambda proxy archive embedded in package components
// (run through `go generate ./components`). It builds lambda/proxy/cmd/bootstrap in this module
// with the toolchain that runs it, and writes the zip and that toolchain's name, which the
// freshness test uses to build the same bytes again.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/inferstack/inferstack/components/internal/proxybuild"
)

const handler = "github.com/inferstack/inferstack/lambda/proxy/cmd/bootstrap"

func main() {
	out := flag.String("out", "proxyzip", "directory to write bootstrap-arm64.zip and go-version into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genproxyzip:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	// The version of the go command on PATH, which is what builds the handler, not the one
	// this generator was compiled with (they differ under GOTOOLCHAIN switching).
	v, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return fmt.Errorf("go env GOVERSION: %w", err)
	}
	toolchain := strings.TrimSpace(string(v))
	zipped, err := proxybuild.Zip("", handler, toolchain)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "bootstrap-arm64.zip"), zipped, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "go-version"), []byte(toolchain+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("genproxyzip: %s/bootstrap-arm64.zip, %d bytes, built with %s\n", out, len(zipped), toolchain)
	return nil
}
