package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChangedServerReachesTheEndpoint is docs/design.md#new-images-reach-the-endpoint end to end: a change to what
// goes into the image gives it a new tag, so the push is new (the repository's tags are
// immutable) and the SageMaker model gets the new digest; an unchanged build keeps both.
func TestChangedServerReachesTheEndpoint(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("Dockerfile", "FROM scratch\nCOPY inference/ /\n")
	write("inference/main.go", "package main // v1\n")

	values := readStackConfig(t, stackFiles(t)["prod"])
	values["inferstack:image.context"] = dir
	values["inferstack:image.dockerfile"] = filepath.Join(dir, "Dockerfile")

	deployed := func() (tag, image string) {
		t.Helper()
		t.Run("run", func(t *testing.T) {
			run, err := runProgram(t, "prod", values)
			require.NoError(t, err)
			tag = input(t, one(t, run.mocks, "docker:index/image:Image"), "imageName").(string)
			image = input(t, one(t, run.mocks, "aws:sagemaker/model:Model"), "primaryContainer.image").(string)
		})
		require.NotEmpty(t, tag)
		return tag, image
	}
	tag1, image1 := deployed()
	tag2, image2 := deployed()
	assert.Equal(t, tag1, tag2, "an unchanged build keeps its tag")
	assert.Equal(t, image1, image2, "and the model keeps its image: no diff")

	write("inference/main.go", "package main // v2\n")
	tag3, image3 := deployed()
	assert.NotEqual(t, tag1, tag3, "a changed server gets a new tag in the immutable repository")
	assert.NotEqual(t, image1, image3, "and the model gets the new image's digest")
	assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, image3)
}
