package tests

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The image's build paths (docs/inference.md, "Container"): what in inference/Dockerfile needs
// BuildKit, and the documented path that needs none. No Docker daemon is reachable here, so the
// tests check what can be checked without one: the Dockerfiles' text against the Dockerfile
// reference's BuildKit-only features, and the real `go build` of the server.

// buildKitOnly are the Dockerfile features the classic builder does not have, each with a word that
// the docs must use when inference/Dockerfile uses it. From the Dockerfile reference
// (https://docs.docker.com/reference/dockerfile/): the syntax parser directive, RUN --mount,
// RUN --network and --security, here-documents, COPY/ADD --link, --chmod on COPY, --parents,
// --exclude, ADD --checksum and --keep-git-dir, and the automatic platform ARGs.
var buildKitOnly = []struct {
	name string
	re   *regexp.Regexp
	doc  string
}{
	{"syntax directive", regexp.MustCompile(`(?m)^#\s*syntax=`), "# syntax="},
	{"RUN --mount=type=cache", regexp.MustCompile(`--mount=type=cache`), "--mount=type=cache"},
	{"RUN --mount=type=bind", regexp.MustCompile(`--mount=type=bind`), "--mount=type=bind"},
	{"RUN --mount=type=secret", regexp.MustCompile(`--mount=type=secret`), "--mount=type=secret"},
	{"RUN --mount=type=ssh", regexp.MustCompile(`--mount=type=ssh`), "--mount=type=ssh"},
	{"RUN --mount=type=tmpfs", regexp.MustCompile(`--mount=type=tmpfs`), "--mount=type=tmpfs"},
	{"RUN --network", regexp.MustCompile(`RUN\s+(--\S+\s+)*--network`), "--network"},
	{"RUN --security", regexp.MustCompile(`RUN\s+(--\S+\s+)*--security`), "--security"},
	{"here-document", regexp.MustCompile(`(?m)^(RUN|COPY|ADD)\b.*<<-?["']?[A-Za-z]`), "here-document"},
	{"--link", regexp.MustCompile(`(?m)^(COPY|ADD)\b.*--link`), "--link"},
	{"COPY --chmod", regexp.MustCompile(`(?m)^COPY\b.*--chmod`), "--chmod"},
	{"--parents", regexp.MustCompile(`(?m)^(COPY|ADD)\b.*--parents`), "--parents"},
	{"--exclude", regexp.MustCompile(`(?m)^(COPY|ADD)\b.*--exclude`), "--exclude"},
	{"ADD --checksum", regexp.MustCompile(`(?m)^ADD\b.*--checksum`), "--checksum"},
	{"ADD --keep-git-dir", regexp.MustCompile(`(?m)^ADD\b.*--keep-git-dir`), "--keep-git-dir"},
	{"BUILDPLATFORM", regexp.MustCompile(`\$\{?BUILDPLATFORM`), "BUILDPLATFORM"},
	{"TARGETARCH", regexp.MustCompile(`\bTARGETARCH\b`), "TARGETARCH"},
	{"TARGETOS", regexp.MustCompile(`\bTARGETOS\b`), "TARGETOS"},
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, rel))
	require.NoError(t, err)
	return string(b)
}

// section returns the text of a markdown section from its heading to the next heading of the same
// or a higher level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	start := strings.Index(doc, "\n"+heading+"\n")
	require.GreaterOrEqual(t, start, 0, "no section %q", heading)
	level := heading[:strings.Index(heading, " ")+1]
	rest := doc[start+len(heading)+2:]
	for _, h := range []string{"\n" + level, "\n" + strings.TrimSuffix(level, "# ") + " "} {
		if end := strings.Index(rest, h); end >= 0 {
			rest = rest[:end]
		}
	}
	return rest
}

// TestDockerfileBuildKitFeaturesAreDocumented: every BuildKit-only feature inference/Dockerfile
// uses is named in docs/inference.md's "What needs BuildKit", so a user without BuildKit knows
// before the build fails; a new one fails this test until it is documented.
func TestDockerfileBuildKitFeaturesAreDocumented(t *testing.T) {
	dockerfile := readRepoFile(t, "inference/Dockerfile")
	doc := section(t, readRepoFile(t, "docs/inference.md"), "### What needs BuildKit")
	used := 0
	for _, f := range buildKitOnly {
		if f.re.MatchString(dockerfile) {
			used++
			assert.Contains(t, doc, f.doc, "inference/Dockerfile uses %s: docs/inference.md must say it needs BuildKit", f.name)
		}
	}
	assert.NotZero(t, used, "the Dockerfile uses no BuildKit feature: update the docs and this test")
}

// classicSnippet returns the Dockerfile and the go build command of docs/inference.md's
// "Without BuildKit".
func classicSnippet(t *testing.T) (dockerfile, goBuild string) {
	t.Helper()
	doc := section(t, readRepoFile(t, "docs/inference.md"), "### Without BuildKit")
	m := regexp.MustCompile(`(?s)<<'DOCKERFILE'\n(.*?)\nDOCKERFILE\n`).FindStringSubmatch(doc)
	require.NotNil(t, m, "the section has no <<'DOCKERFILE' here-document")
	g := regexp.MustCompile(`(?m)^CGO_ENABLED=0 .*go build .*$`).FindString(doc)
	require.NotEmpty(t, g, "the section has no go build command")
	return m[1], g
}

// TestClassicBuildPathNeedsNoBuildKit: the documented path without BuildKit really is one (no
// BuildKit-only syntax, only instructions the classic builder has), and it gives the same image
// layout as inference/Dockerfile's final stage.
func TestClassicBuildPathNeedsNoBuildKit(t *testing.T) {
	dockerfile, _ := classicSnippet(t)
	for _, f := range buildKitOnly {
		assert.False(t, f.re.MatchString(dockerfile), "the classic-builder Dockerfile uses %s", f.name)
	}
	for _, line := range strings.Split(dockerfile, "\n") {
		word, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		assert.Contains(t, []string{"FROM", "COPY", "EXPOSE", "USER", "ENTRYPOINT"}, word, "unexpected instruction: %s", line)
	}

	// The default image is the Dockerfile's `static` stage (the final `FROM ${INFERENCE_VARIANT}`
	// picks it unless INFERENCE_VARIANT=onnx).
	repoDockerfile := readRepoFile(t, "inference/Dockerfile")
	start := strings.Index(repoDockerfile, "\nFROM gcr.io/distroless/static-debian12:nonroot AS static\n")
	require.NotEqual(t, -1, start, "inference/Dockerfile has no `static` stage: update docs/inference.md and this test")
	final := repoDockerfile[start+1:]
	final = final[:strings.Index(final[1:], "\nFROM ")+1]
	for _, want := range []string{"FROM gcr.io/distroless/static-debian12:nonroot", "EXPOSE 8080",
		"USER nonroot:nonroot", `ENTRYPOINT ["/server"]`} {
		require.Contains(t, final, want, "inference/Dockerfile's static stage changed: update docs/inference.md")
		assert.Contains(t, dockerfile, want)
	}
}

// goBuildFlags returns the flags of a `go build ... -o` command line, split as sh splits them
// (double quotes only, as the docs and the Dockerfile write them).
func goBuildFlags(t *testing.T, line string) []string {
	t.Helper()
	m := regexp.MustCompile(`go build (.*?) -o `).FindStringSubmatch(line)
	require.NotNil(t, m, "no go build ... -o in %q", line)
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range m[1] + " " {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	return out
}

// TestClassicBuildPathBuildsTheDockerfilesStaticServer builds the server the way the documented
// path does, for both endpoint platforms, with the flags read from the docs, checks that they are
// inference/Dockerfile's, and that the binary is static (no ELF interpreter, no shared library),
// which a distroless/static image needs.
func TestClassicBuildPathBuildsTheDockerfilesStaticServer(t *testing.T) {
	_, goBuild := classicSnippet(t)
	repoDockerfile := readRepoFile(t, "inference/Dockerfile")
	m := regexp.MustCompile(`CGO_ENABLED=0 GOOS=\$TARGETOS GOARCH=\$TARGETARCH \\\s*(go build [^\n]*)`).FindStringSubmatch(repoDockerfile)
	require.NotNil(t, m, "inference/Dockerfile's go build line changed: update this test and docs/inference.md")
	flags := goBuildFlags(t, goBuild)
	assert.Equal(t, goBuildFlags(t, m[1]), flags, "docs/inference.md builds the server with other flags than inference/Dockerfile")
	assert.Contains(t, flags, "-ldflags=-s -w -buildid=")

	platforms := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for arch, machine := range platforms {
		t.Run(arch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "server")
			args := append(append([]string{"build"}, flags...), "-o", out, "./inference")
			cmd := exec.Command("go", args...)
			cmd.Dir = repoRoot
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
			b, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", b)

			f, err := elf.Open(out)
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, machine, f.Machine)
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "a static binary has no ELF interpreter")
			}
			libs, err := f.ImportedLibraries()
			require.NoError(t, err)
			assert.Empty(t, libs, "a static binary needs no shared library")
		})
	}
}
