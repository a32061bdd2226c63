package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
)

// TestImageTagIgnoresFilesOutsideTheImage checks the repository's real .dockerignore: edits to
// docs, stack files, components or tests keep the image's content tag, so `pulumi preview` shows
// no image diff for them; edits to the server's sources or the module change it.
func TestImageTagIgnoresFilesOutsideTheImage(t *testing.T) {
	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write(".dockerignore", string(ignore))
	write("Dockerfile.test", "FROM scratch\n")
	for _, f := range []string{"go.mod", "go.sum", "inference/main.go", "inference/model/model.go", "README.md",
		"Pulumi.dev.yaml", "docs/runbook.md", "components/model_image.go", "tests/stacks_test.go", "lambda/proxy/main.go"} {
		write(f, "v1")
	}
	tag := func() string {
		t.Helper()
		got, err := components.ContentTag(dir, filepath.Join(dir, "Dockerfile.test"), components.PlatformAMD64, nil)
		require.NoError(t, err)
		return got
	}
	base := tag()
	for _, f := range []string{"README.md", "Pulumi.dev.yaml", "docs/runbook.md", "components/model_image.go",
		"tests/stacks_test.go", "lambda/proxy/main.go", "Pulumi.prod.yaml"} {
		write(f, "v2")
		assert.Equal(t, base, tag(), "%s is outside the image: the tag must not change", f)
	}
	// Every other top-level entry of the repository, present or added later, stays out too.
	entries, err := os.ReadDir(repoRoot)
	require.NoError(t, err)
	for _, e := range entries {
		switch name := e.Name(); name {
		case "go.mod", "go.sum", "inference", ".dockerignore":
		default:
			f := name
			if e.IsDir() {
				f = filepath.Join(name, "x")
			}
			write(f, "v1")
			before := tag()
			write(f, "v2")
			assert.Equal(t, before, tag(), "%s is outside the image: list it in .dockerignore", name)
		}
	}
	for _, f := range []string{"inference/model/model.go", "go.sum"} {
		write(f, "v2")
		changed := tag()
		assert.NotEqual(t, base, changed, "%s is in the image: the tag must change", f)
		base = changed
	}
}

// BenchmarkContentTagRepository measures what the image's content tag adds to every `pulumi
// preview` and `pulumi up`: hashing the real build context (the repository minus .dockerignore).
func BenchmarkContentTagRepository(b *testing.B) {
	for b.Loop() {
		if _, err := components.ContentTag(repoRoot, filepath.Join(repoRoot, "inference", "Dockerfile"), components.PlatformAMD64, nil); err != nil {
			b.Fatal(err)
		}
	}
}
