package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publicDocs are the pages a user reads: the README and docs/.
func publicDocs(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	paths = append(paths, filepath.Join(repoRoot, "README.md"))
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		rel, err := filepath.Rel(repoRoot, p)
		require.NoError(t, err)
		out[rel] = string(b)
	}
	require.Greater(t, len(out), 1)
	return out
}

// TestReadmeListsEveryPrerequisite: the Deploy section names what a fresh machine needs, with the
// exact Go version of go.mod (which `go` refuses to build below) and the tools its examples run.
func TestReadmeListsEveryPrerequisite(t *testing.T) {
	goMod := readRepoFile(t, "go.mod")
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindStringSubmatch(goMod)
	require.NotNil(t, m, "go.mod has no go line")
	deploy := section(t, readRepoFile(t, "README.md"), "## Deploy")
	for _, want := range []string{"Go " + m[1], "Pulumi CLI", "AWS credentials", "Docker", "`jq`", "`curl`"} {
		assert.Contains(t, deploy, want, "README.md's Deploy section must list %s", want)
	}
}

// TestPublicDocsHaveNoInternalWording: the README and docs/ speak to users, not about the
// project's own planning (issue numbers, checklists, the design notes' pitfall numbers).
func TestPublicDocsHaveNoInternalWording(t *testing.T) {
	internal := regexp.MustCompile(`(?i)\bissue\s*#?\d+|\bissue \d+'s\b|\bchecklist\b|\bDESIGN\b|\bpitfall\s*\d+|\bthe coordinator\b`)
	for path, doc := range publicDocs(t) {
		for i, line := range strings.Split(doc, "\n") {
			if loc := internal.FindString(line); loc != "" {
				t.Errorf("%s:%d: internal wording %q: say what it means for the user", path, i+1, loc)
			}
		}
	}
}

// TestDesignNotesCitedByCodeExist: every design-note anchor a Go comment or test cites is a
// heading of docs/design.md (GitHub's anchors: lowercase, punctuation dropped, spaces to hyphens).
func TestDesignNotesCitedByCodeExist(t *testing.T) {
	anchors := map[string]bool{}
	for _, line := range strings.Split(readRepoFile(t, "docs/design.md"), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			a := regexp.MustCompile(`[^a-z0-9 -]`).ReplaceAllString(strings.ToLower(h), "")
			anchors[strings.ReplaceAll(a, " ", "-")] = true
		}
	}
	cite := regexp.MustCompile(`docs/design\.md#([a-z0-9-]+)`)
	cited := 0
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(b), -1) {
			cited++
			assert.True(t, anchors[m[1]], "%s cites docs/design.md#%s, which is no heading there", path, m[1])
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, cited, 10, "the components cite their design notes")
}
