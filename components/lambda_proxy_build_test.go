package components

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTempFile fails where told to.
type fakeTempFile struct {
	writeErr, chmodErr, closeErr error
	closed                       bool
}

var _ tempFile = (*fakeTempFile)(nil)

func (f *fakeTempFile) Name() string                { return "partial-1.zip" }
func (f *fakeTempFile) Write(b []byte) (int, error) { return len(b), f.writeErr }
func (f *fakeTempFile) Chmod(os.FileMode) error     { return f.chmodErr }
func (f *fakeTempFile) Close() error                { f.closed = true; return f.closeErr }

// TestLambdaProxyArchiveStoreKeepsEveryError: a failed write or close must reach the caller as itself, never as
// "<nil>" beside the other error.
func TestLambdaProxyArchiveStoreKeepsEveryError(t *testing.T) {
	errWrite, errChmod, errClose := errors.New("disk full"), errors.New("read-only"), errors.New("close failed")
	tests := []struct {
		name string
		f    *fakeTempFile
		want []error
	}{
		{"write", &fakeTempFile{writeErr: errWrite}, []error{errWrite}},
		{"chmod", &fakeTempFile{chmodErr: errChmod}, []error{errChmod}},
		{"close", &fakeTempFile{closeErr: errClose}, []error{errClose}},
		{"write and close", &fakeTempFile{writeErr: errWrite, closeErr: errClose}, []error{errWrite, errClose}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := fillTemp(tc.f, []byte("zip"))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.ErrorIs(t, err, w)
			}
			assert.NotContains(t, err.Error(), "<nil>")
			assert.True(t, tc.f.closed, "the file is closed even after a failed write")
		})
	}
	assert.NoError(t, fillTemp(&fakeTempFile{}, []byte("zip")))
}

// TestLambdaProxyBuildsFromAnotherModule is the situation of a Pulumi project that imports this
// module: the handler is built by import path from that project's directory, resolved through
// its go.mod and go.sum, which `go mod tidy` filled from its import of components alone.
func TestLambdaProxyBuildsFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy and builds the Lambda handler in a scratch module")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	goMod := "module example.com/consumer\n\ngo 1.26\n\n" +
		"require github.com/inferstack/inferstack v0.0.0\n\n" +
		"replace github.com/inferstack/inferstack => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	// A Pulumi program imports the components, never the handler.
	program := "package main\n\nimport _ \"github.com/inferstack/inferstack/components\"\n\nfunc main() {}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644))

	// Before tidy the scratch module has no go.sum: the build must fail there, which shows it
	// really resolves through that module and not this one.
	_, err := BuildProxyArchiveIn(dir, ProxyHandlerPackage)
	require.Error(t, err, "built without the consumer's go.sum: not built from the consumer's module")

	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	// The module cache is warm; the proxy is the only place anything missing could come from.
	tidy.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "go mod tidy in the scratch module:\n%s", out)

	a, err := BuildProxyArchiveIn(dir, ProxyHandlerPackage)
	require.NoError(t, err, "the handler must build with the consumer's go.sum alone")
	_, err = archiveFromFile(a.Path)
	require.NoError(t, err)
}

// repoRoot is the directory of this module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	root := filepath.Dir(filepath.Dir(file))
	_, err := os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	return strings.TrimSuffix(root, string(filepath.Separator))
}

// TestLambdaProxyArchiveStoreReplacesAPlantedFile: a file already stored under the archive's
// hash is deployed only if it holds those bytes; anything else there is overwritten.
func TestLambdaProxyArchiveStoreReplacesAPlantedFile(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	zipped := []byte("the archive that was built")
	first, err := writeArchive(zipped)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(first.Path, []byte("someone else's bootstrap"), 0o644))

	again, err := writeArchive(zipped)
	require.NoError(t, err)
	assert.Equal(t, first.Path, again.Path)
	stored, err := os.ReadFile(again.Path)
	require.NoError(t, err)
	assert.Equal(t, zipped, stored, "the planted file would have been deployed as the Lambda")
}
