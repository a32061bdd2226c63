package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
)

// imageInputs are the top-level entries of the repository that the image is built from; every
// other one must stay out of the build context (.dockerignore).
var imageInputs = map[string]bool{"go.mod": true, "go.sum": true, "inference": true, "models": true}

// gitTracked lists the files git tracks in the repository (git ls-files), the repository as
// committed, whatever else lies in the working tree (a model directory, an outputs.json, editor
// files). Outside a git checkout the test is skipped with the reason, except in CI, which always
// runs in a clone and where a missing git is a failure.
func gitTracked(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z").Output()
	if err != nil {
		msg := "this test checks the files git tracks, and `git ls-files` failed (" + err.Error() +
			"): run it in a git clone of the repository"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	require.NotEmpty(t, files, "git tracks no file")
	return files
}

// contextWith writes a small stand-in of the repository: the real .dockerignore plus the given
// files, each holding "v1".
func contextWith(t *testing.T, files []string) (dir string, write func(rel, content string)) {
	t.Helper()
	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	require.NoError(t, err)
	dir = t.TempDir()
	write = func(rel, content string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write(".dockerignore", string(ignore))
	write("Dockerfile.test", "FROM scratch\n")
	for _, f := range files {
		write(f, "v1")
	}
	return dir, write
}

func contentTag(t *testing.T, dir string, buildArgs map[string]string) string {
	t.Helper()
	got, err := components.ContentTag(dir, filepath.Join(dir, "Dockerfile.test"), components.PlatformAMD64, buildArgs)
	require.NoError(t, err)
	return got
}

// TestImageTagIgnoresFilesOutsideTheImage checks the repository's real .dockerignore against what
// git tracks: edits to any committed file outside the image's inputs (docs, stack files,
// components, tests, CI) keep the image's content tag, so `pulumi preview` shows no image diff for
// them; edits to the server's sources or the module change it.
func TestImageTagIgnoresFilesOutsideTheImage(t *testing.T) {
	tracked := gitTracked(t)
	dir, write := contextWith(t, []string{"go.mod", "go.sum", "inference/main.go", "inference/model/model.go"})
	base := contentTag(t, dir, nil)

	// One committed file of every top-level entry outside the image, as git has it.
	seen := map[string]bool{}
	for _, f := range tracked {
		top, _, _ := strings.Cut(f, "/")
		if imageInputs[top] || seen[top] || f == ".dockerignore" {
			continue
		}
		seen[top] = true
		write(f, "v1")
		before := contentTag(t, dir, nil)
		assert.Equal(t, base, before, "%s is outside the image: list it in .dockerignore", f)
		write(f, "v2")
		assert.Equal(t, before, contentTag(t, dir, nil), "%s is outside the image: list it in .dockerignore", f)
	}
	for _, want := range []string{"README.md", "docs", "components", "tests", "Pulumi.prod.yaml", ".github"} {
		assert.True(t, seen[want], "git tracks %s: the test must have covered it", want)
	}
	// Committed tests inside inference/ are not part of the server either.
	write("inference/server/serve_test.go", "v2")
	assert.Equal(t, base, contentTag(t, dir, nil), "tests are outside the image")

	for _, f := range []string{"inference/model/model.go", "go.sum"} {
		write(f, "v2")
		changed := contentTag(t, dir, nil)
		assert.NotEqual(t, base, changed, "%s is in the image: the tag must change", f)
		base = changed
	}
}

// TestStackOutputsFileInTheRootChangesNothing is a user who ran `pulumi stack output --json
// --show-secrets > outputs.json` in the repository root, against the docs: the file holds secrets,
// so it must reach neither the image (its bytes would change the content tag and roll out the same
// image again, and the secrets would sit in the builder) nor git, whose view the tests read.
func TestStackOutputsFileInTheRootChangesNothing(t *testing.T) {
	tracked := gitTracked(t)
	dir, write := contextWith(t, []string{"go.mod", "go.sum", "inference/main.go"})
	base := contentTag(t, dir, nil)
	for _, stray := range []string{"outputs.json", "outputs-prod.json", "prod.outputs.json", "response.json",
		"models/churn/outputs.json", "notes/anything.txt", ".env"} {
		write(stray, `{"apiKeyValue":"secret"}`)
		assert.Equal(t, base, contentTag(t, dir, nil), "%s must stay out of the build context", stray)
	}

	// And in the repository itself, with the real Dockerfile: the file is written where the user
	// would have written it (it is ignored by git and by .dockerignore, so a crash leaves nothing
	// that matters).
	inRepo := filepath.Join(repoRoot, "outputs.json")
	if _, err := os.Stat(inRepo); err == nil {
		t.Logf("%s exists already; not touching it", inRepo)
	} else {
		dockerfile := filepath.Join(repoRoot, "inference", "Dockerfile")
		before, err := components.ContentTag(repoRoot, dockerfile, components.PlatformAMD64, nil)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(inRepo, []byte(`{"apiKeyValue":"secret"}`), 0o600))
		t.Cleanup(func() { _ = os.Remove(inRepo) })
		after, err := components.ContentTag(repoRoot, dockerfile, components.PlatformAMD64, nil)
		require.NoError(t, err)
		assert.Equal(t, before, after, "an outputs.json in the repository root must not change the image tag")
		assert.NotContains(t, gitTracked(t), "outputs.json", "git must not see it")
	}

	for _, f := range []string{"outputs.json", "outputs-prod.json", "prod.outputs.json", "response.json"} {
		assert.NotContains(t, tracked, f, "%s must never be committed", f)
		cmd := exec.Command("git", "-C", repoRoot, "check-ignore", "--no-index", "-q", f)
		assert.NoError(t, cmd.Run(), ".gitignore must ignore %s", f)
	}
}

// redirect is a shell redirection of standard output and its target: ` > "$OUT"`.
var redirect = regexp.MustCompile(`\s>\s*(\S+)`)

// TestDocsWriteStackOutputsOutsideTheRepository: every doc and CI file that saves the stack's
// outputs with --show-secrets writes them to a temporary directory, never to the working directory.
func TestDocsWriteStackOutputsOutsideTheRepository(t *testing.T) {
	tracked := gitTracked(t)
	checked := 0
	for _, f := range tracked {
		if !(strings.HasSuffix(f, ".md") || strings.HasSuffix(f, ".yml") || strings.HasSuffix(f, ".yaml") ||
			strings.HasPrefix(f, ".ci/") || strings.HasPrefix(f, "scripts/")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		require.NoError(t, err)
		for i, line := range bytes.Split(b, []byte("\n")) {
			l := string(line)
			if !strings.Contains(l, "--show-secrets") || !strings.Contains(l, ">") {
				continue
			}
			m := redirect.FindAllStringSubmatch(l[strings.Index(l, "--show-secrets"):], -1)
			if m == nil {
				continue
			}
			checked++
			target := m[len(m)-1][1]
			ok := strings.HasPrefix(target, `"$RUNNER_TEMP/`) || strings.HasPrefix(target, "/tmp/") ||
				target == `"$OUT"` || strings.HasPrefix(target, `"$(mktemp -d)/`)
			assert.True(t, ok, "%s:%d writes the stack's secrets to %s: write them to a temporary directory", f, i+1, target)
			if target == `"$OUT"` {
				assert.Contains(t, string(b), `OUT="$(mktemp -d)/`, "%s:%d: OUT must name a temporary directory", f, i+1)
			}
		}
	}
	assert.NotZero(t, checked, "no doc saves the stack outputs: the test checked nothing")
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
