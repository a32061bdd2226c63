package components

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected file sets below come from Docker's documentation of .dockerignore
// (https://docs.docker.com/build/concepts/context/#dockerignore-files, the examples under
// "Syntax" and the `!` exceptions) and, for directories with exceptions, from how the context
// that `pulumi up` sends is walked: pulumi-docker v4.10.0 tars it with moby/go-archive v0.1.0
// (archive.go@9ec1e6e3, TarWithOptions), which enters an excluded directory only when an
// exception's text starts with its path.
func TestContextFilesFollowDockersDocumentedExamples(t *testing.T) {
	tests := []struct {
		name   string
		ignore string
		files  []string
		want   []string
		// selfExcluded: the patterns exclude .dockerignore itself.
		selfExcluded bool
	}{
		{
			name:   "documented */temp* */*/temp* temp?",
			ignore: "# comment\n*/temp*\n*/*/temp*\ntemp?\n",
			files: []string{"somedir/temporary.txt", "somedir/temp/x", "somedir/subdir/temporary.txt",
				"tempa", "tempb", "temp", "tempab", "a/b/c/temp1", "keep.txt"},
			// temp? needs exactly one more character; */*/temp* is two levels down, not three.
			want: []string{"a/b/c/temp1", "keep.txt", "temp", "tempab"},
		},
		{
			name:   "documented **/*.go at any depth, the root included",
			ignore: "**/*.go\n",
			files:  []string{"main.go", "a/b.go", "a/b/c/d.go", "a/b/c/d.txt"},
			want:   []string{"a/b/c/d.txt"},
		},
		{
			name:   "documented *.md with !README.md",
			ignore: "*.md\n!README.md\n",
			files:  []string{"README.md", "CHANGES.md", "docs/x.md", "go.mod"},
			// *.md matches at the root only.
			want: []string{"README.md", "docs/x.md", "go.mod"},
		},
		{
			name:   "documented: the last matching line wins (README-secret.md excluded)",
			ignore: "*.md\n!README*.md\nREADME-secret.md\n",
			files:  []string{"README.md", "README-secret.md", "README-dev.md", "NOTES.md"},
			want:   []string{"README-dev.md", "README.md"},
		},
		{
			name:   "documented: the last matching line wins (all READMEs in)",
			ignore: "*.md\nREADME-secret.md\n!README*.md\n",
			files:  []string{"README.md", "README-secret.md", "NOTES.md"},
			want:   []string{"README-secret.md", "README.md"},
		},
		{
			name:   "an excluded directory with a plain exception is entered for it",
			ignore: "models\n!models/churn\n",
			files:  []string{"models/churn/model.json", "models/churn/v1/xgboost-model", "models/other/model.json", "go.mod"},
			want:   []string{"go.mod", "models/churn/model.json", "models/churn/v1/xgboost-model"},
		},
		{
			// moby/go-archive enters models (the exception's text starts with "models/") but not
			// models/churn (it does not start with "models/churn/"): nothing under it is sent,
			// as docker/cli#2919 reports. A model must not be re-included this way.
			name:   "a wildcard exception does not reach below the first excluded level",
			ignore: "models\n!models/*/xgboost-model\n",
			files:  []string{"models/churn/xgboost-model", "models/churn/notes.txt", "models/a/b/xgboost-model"},
			want:   nil,
		},
		{
			name:   "an exception deeper than the excluded directory",
			ignore: "models\n!models/churn/v1/xgboost-model\n",
			files:  []string{"models/churn/v1/xgboost-model", "models/churn/v1/notes.txt", "models/churn/v0/xgboost-model"},
			want:   []string{"models/churn/v1/xgboost-model"},
		},
		{
			name:   "** matches zero or more directories inside a path",
			ignore: "models/**/*.tmp\n",
			files:  []string{"models/a.tmp", "models/churn/b.tmp", "models/churn/v1/c.tmp", "models/churn/model.json", "d.tmp"},
			want:   []string{"d.tmp", "models/churn/model.json"},
		},
		{
			name:   "**/*.tmp everywhere, with an exception",
			ignore: "**/*.tmp\n!models/churn/keep.tmp\n",
			files:  []string{"a.tmp", "models/churn/keep.tmp", "models/churn/x.tmp", "models/churn/model.json"},
			want:   []string{"models/churn/keep.tmp", "models/churn/model.json"},
		},
		{
			name:         "everything out, then what to send back in",
			ignore:       "*\n!go.mod\n!inference\n",
			files:        []string{"go.mod", "go.sum", "inference/main.go", "docs/x.md"},
			want:         []string{"go.mod", "inference/main.go"},
			selfExcluded: true,
		},
		{
			name:   "a leading slash and a trailing slash are the same path",
			ignore: "/docs/\n",
			files:  []string{"docs/x.md", "sub/docs/y.md"},
			want:   []string{"sub/docs/y.md"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			miWrite(t, dir, ".dockerignore", tc.ignore)
			for _, f := range tc.files {
				miWrite(t, dir, f, f)
			}
			got, err := contextFiles(dir, "")
			require.NoError(t, err)
			want := tc.want
			if !tc.selfExcluded {
				want = append([]string{".dockerignore"}, want...)
			}
			assert.ElementsMatch(t, want, got)
		})
	}
}

// TestContentTagFollowsExceptionsAndIgnoresModeBits is what a user notices: with `models` and
// `!models/churn`, a new model gives a new tag (so an IMMUTABLE repository gets a new image), an
// edit that .dockerignore excludes does not, and neither does a chmod.
func TestContentTagFollowsExceptionsAndIgnoresModeBits(t *testing.T) {
	dir := t.TempDir()
	miWrite(t, dir, "Dockerfile", "FROM scratch\n")
	miWrite(t, dir, ".dockerignore", "models\n!models/churn\nmodels/**/*.tmp\n")
	miWrite(t, dir, "models/churn/model.json", "v1")
	miWrite(t, dir, "models/other/model.json", "v1")
	tag := func() string {
		t.Helper()
		got, err := ContentTag(dir, "", PlatformAMD64, nil)
		require.NoError(t, err)
		return got
	}
	base := tag()

	miWrite(t, dir, "models/other/model.json", "v2")
	miWrite(t, dir, "models/churn/scratch.tmp", "noise")
	miWrite(t, dir, "models/churn/v1/deep/scratch.tmp", "noise")
	assert.Equal(t, base, tag(), "excluded files must not change the tag")

	require.NoError(t, os.Chmod(filepath.Join(dir, "models/churn/model.json"), 0o755))
	assert.Equal(t, base, tag(), "a mode change alone must not change the tag")

	miWrite(t, dir, "models/churn/model.json", "v2")
	assert.NotEqual(t, base, tag(), "models/churn is sent by the exception: its edit must change the tag")
}

// TestDockerfileSpecificIgnoreFileWins: pulumi-docker v4.10.0 (provider/provider.go,
// getIgnorePatterns) prefers <Dockerfile>.dockerignore to the context's .dockerignore.
func TestDockerfileSpecificIgnoreFileWins(t *testing.T) {
	dir := t.TempDir()
	miWrite(t, dir, "build/Dockerfile", "FROM scratch\n")
	miWrite(t, dir, "build/Dockerfile.dockerignore", "*.md\n")
	miWrite(t, dir, ".dockerignore", "*.txt\n")
	miWrite(t, dir, "a.md", "x")
	miWrite(t, dir, "a.txt", "x")
	got, err := ContextFiles(dir, filepath.Join(dir, "build", "Dockerfile"), "")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{".dockerignore", "a.txt", "build/Dockerfile", "build/Dockerfile.dockerignore"}, got)

	got, err = ContextFiles(dir, "", "")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{".dockerignore", "a.md", "build/Dockerfile", "build/Dockerfile.dockerignore"}, got,
		"without one, the context's .dockerignore applies")
}

func TestDockerignoreErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	miWrite(t, dir, "Dockerfile", "FROM scratch\n")
	miWrite(t, dir, ".dockerignore", "[\n")
	_, err := ContentTag(dir, "", PlatformAMD64, nil)
	assert.ErrorContains(t, err, ".dockerignore")
}
