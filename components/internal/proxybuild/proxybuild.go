// Package proxybuild compiles the Lambda proxy handler and packages it the way Lambda's
// provided.al2023 runtime runs it. The LambdaProxy component (building from source) and the
// generator of the embedded archive (components/internal/genproxyzip) share it, so the archive
// shipped in the package is what a build from the same source and toolchain gives, byte for byte.
package proxybuild

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Epoch is the modification time of every archive entry: a fixed time makes the archive's bytes
// depend on the binary alone. 1980-01-01 is the earliest time the zip format can store.
var Epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Flags are the go build flags that make the same source and toolchain give the same bytes:
// no local paths, no VCS stamp, no build ID, no symbol table or DWARF (which also keeps the
// archive small: it ships inside the components package).
var Flags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// Zip compiles pkg in the Go module holding dir ("" for the current directory) for
// linux/arm64 and returns a zip holding it as an executable `bootstrap`. A non-empty toolchain
// (e.g. "go1.26.8") is set as GOTOOLCHAIN, so the go command builds with exactly that release,
// fetching it through the module proxy if it is not the local one.
func Zip(dir, pkg, toolchain string) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("build Lambda proxy %s: the Go toolchain is needed (or set ArchivePath to a prebuilt zip): %w", pkg, err)
	}
	out, err := os.MkdirTemp("", "inferstack-proxy-build-")
	if err != nil {
		return nil, fmt.Errorf("build Lambda proxy: %w", err)
	}
	defer os.RemoveAll(out)
	bin := filepath.Join(out, "bootstrap")
	args := append([]string{"build", "-o", bin}, Flags...)
	cmd := exec.Command(goBin, append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = Env(os.Environ())
	if toolchain != "" {
		// The last value of a repeated key wins (os/exec), so this overrides the caller's.
		cmd.Env = append(cmd.Env, "GOTOOLCHAIN="+toolchain)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build Lambda proxy %s: %w\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("build Lambda proxy: %w", err)
	}
	return Package(binary)
}

// Env is the caller's environment with the target fixed: static (no cgo, so no libc version
// to match on Lambda) and arm64 (Graviton, cheaper per GB-second).
func Env(env []string) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CGO_ENABLED", "GOOS", "GOARCH", "GOARM64", "GOFLAGS", "GOEXPERIMENT":
			// GOFLAGS could add -race, -cover or other tags, and GOEXPERIMENT changes the
			// compiler's output, in a build that must be reproducible.
			continue
		}
		out = append(out, kv)
	}
	return append(out, "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOARM64=v8.0")
}

// Package zips binary as an executable `bootstrap` with fixed metadata.
func Package(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: Epoch}
	// The Unix mode in the header is what keeps the executable bit; without it Lambda fails with
	// "permission denied" on the bootstrap.
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	if _, err := w.Write(binary); err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip bootstrap: %w", err)
	}
	return buf.Bytes(), nil
}
