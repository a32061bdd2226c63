package onnx

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerfileAndFetchScriptPinTheSameRuntime: the image and CI get ONNX Runtime from the
// same npm package version with the same sha256 sums, so that the library the tests ran
// against is the one the image ships.
func TestDockerfileAndFetchScriptPinTheSameRuntime(t *testing.T) {
	script, err := os.ReadFile("../../../scripts/fetch-onnxruntime.sh")
	require.NoError(t, err)
	dockerfile, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	find := func(src []byte, pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindSubmatch(src)
		require.NotNil(t, m, "no match for %s", pattern)
		return string(m[1])
	}
	sha := `([0-9a-f]{64})`
	assert.Equal(t, find(script, `(?m)^version=(\S+)$`), find(dockerfile, `ARG ONNXRUNTIME_VERSION=(\S+)`))
	assert.Equal(t, find(script, `tarball_sha256=`+sha), find(dockerfile, `ARG ONNXRUNTIME_NPM_SHA256=`+sha))
	assert.Equal(t, find(script, `arch=x64\s+lib_sha256=`+sha), find(dockerfile, `ARG ONNXRUNTIME_X64_SHA256=`+sha))
	assert.Equal(t, find(script, `arch=arm64\s+lib_sha256=`+sha), find(dockerfile, `ARG ONNXRUNTIME_ARM64_SHA256=`+sha))

	// The official release tarballs are pinned for both architectures, at the same version (each
	// stage declares its own ARG), and are the image's default source.
	versions := regexp.MustCompile(`ARG ONNXRUNTIME_VERSION=(\S+)`).FindAllSubmatch(dockerfile, -1)
	require.Len(t, versions, 2, "the release and npm stages each declare ONNXRUNTIME_VERSION")
	assert.Equal(t, string(versions[0][1]), string(versions[1][1]))
	find(dockerfile, `ARG ONNXRUNTIME_RELEASE_X64_SHA256=`+sha)
	find(dockerfile, `ARG ONNXRUNTIME_RELEASE_AARCH64_SHA256=`+sha)
	assert.Equal(t, "release", find(dockerfile, `(?m)^ARG ONNXRUNTIME_SOURCE=(\S+)$`))
	assert.Contains(t, string(dockerfile), "FROM onnxruntime-${ONNXRUNTIME_SOURCE} AS onnxruntime")
}
