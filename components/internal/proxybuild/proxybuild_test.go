package proxybuild

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvFixesTheTarget(t *testing.T) {
	env := Env([]string{"HOME=/root", "GOARCH=amd64", "CGO_ENABLED=1", "GOFLAGS=-race", "GOOS=darwin", "GOEXPERIMENT=arenas", "GOTOOLCHAIN=local"})
	assert.Equal(t, []string{"HOME=/root", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOARM64=v8.0"}, env)
}

// TestPackageKeepsTheExecutableBit: one entry, `bootstrap`, mode 0755, dated Epoch, the bytes
// given; the same bytes give the same zip.
func TestPackageKeepsTheExecutableBit(t *testing.T) {
	z, err := Package([]byte("binary"))
	require.NoError(t, err)
	again, err := Package([]byte("binary"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(z, again))
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm())
	assert.True(t, f.Modified.Equal(Epoch))
	rc, err := f.Open()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	assert.Equal(t, "binary", string(b))
}

func TestZipNamesThePackageThatFailed(t *testing.T) {
	_, err := Zip("", "example.com/no/such/handler", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "build Lambda proxy example.com/no/such/handler")

	t.Setenv("PATH", t.TempDir())
	_, err = Zip("", "example.com/no/such/handler", "")
	assert.ErrorContains(t, err, "the Go toolchain is needed")
}
