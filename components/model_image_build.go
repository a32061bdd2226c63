package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// gravitonFamily matches SageMaker instance families on AWS Graviton (arm64): a digit followed by
// "g" (ml.c6g, ml.m7g, ml.r6gd, ml.c6gn), but not GPU families that start with g (ml.g5, ml.g4dn).
var gravitonFamily = regexp.MustCompile(`^[a-z]+\d+g[a-z]*$`)

// PlatformFor returns the image platform for a SageMaker instance type: PlatformARM64 for Graviton
// families, PlatformAMD64 for everything else and for serverless endpoints, which run on x86_64.
func PlatformFor(instanceType string, serverless bool) string {
	if serverless {
		return PlatformAMD64
	}
	parts := strings.Split(instanceType, ".")
	if len(parts) == 3 && parts[0] == "ml" && gravitonFamily.MatchString(parts[1]) {
		return PlatformARM64
	}
	return PlatformAMD64
}

// contentTagLen is the tag length: 16 hex characters (64 bits) make collisions between builds of
// one repository practically impossible while keeping the tag readable.
const contentTagLen = 16

// ContentTag returns a tag derived from what goes into the image: every file of the build context
// that .dockerignore does not exclude (path and bytes, symlinks by target), the Dockerfile, the build
// args and the platform. The same inputs give the same tag, so an unchanged build pushes nothing
// new; any change gives a new tag, which an IMMUTABLE repository requires.
//
// File mode bits are left out: a git clone gives 0644 or 0664 depending on the umask, and a tag
// that followed them would roll out the same image again from another checkout. The Dockerfile
// builds the server from source and makes the model readable itself (chmod -R a+rX).
func ContentTag(contextDir, dockerfile, platform string, buildArgs map[string]string) (string, error) {
	info, err := os.Stat(contextDir)
	if err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("build context %s: not a directory", contextDir)
	}
	h := sha256.New()
	fmt.Fprintf(h, "platform\x00%s\x00", platform)
	keys := make([]string, 0, len(buildArgs))
	for k := range buildArgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "arg\x00%s\x00%s\x00", k, buildArgs[k])
	}
	if dockerfile == "" {
		dockerfile = filepath.Join(contextDir, "Dockerfile")
	}
	if err := hashFile(h, "dockerfile", dockerfile); err != nil {
		return "", err
	}
	err = walkContext(contextDir, dockerfile, func(rel, path string, d fs.DirEntry) error {
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "link\x00%s\x00%s\x00", rel, target)
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return hashFile(h, rel, path)
	})
	if err != nil {
		return "", fmt.Errorf("hash build context %s: %w", contextDir, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:contentTagLen], nil
}

func hashFile(h io.Writer, label, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("hash %s: %w", label, err)
	}
	defer f.Close()
	fmt.Fprintf(h, "file\x00%s\x00", label)
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash %s: %w", path, err)
	}
	_, err = h.Write([]byte{0})
	return err
}

// contextFiles lists the slash-separated paths of every file and symlink that the build context
// sends, in walk order.
func contextFiles(contextDir, dockerfile string) ([]string, error) {
	var out []string
	err := walkContext(contextDir, dockerfile, func(rel, _ string, d fs.DirEntry) error {
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// walkContext calls fn, in lexical order, for every non-directory entry of the build context that
// the ignore file leaves in, the way `pulumi up` sends the context. pulumi-docker v4.10.0
// (provider/image.go@ab908373, getIgnorePatterns in provider/provider.go) reads
// <Dockerfile>.dockerignore if it exists, else the context's .dockerignore, with Docker's reader
// (moby/patternmatcher ignorefile.ReadAll), and tars the context with moby/go-archive v0.1.0
// (archive.go@9ec1e6e3, TarWithOptions), which this walk follows: a path's match builds on its
// parent's (patternmatcher's MatchesUsingParentResults), so a file inside an excluded directory is
// excluded unless an exception matches it; an excluded directory is skipped whole unless an
// exception's pattern, read as plain text, starts with the directory's path. So with `models` and
// `!models/*/xgboost-model`, models/churn is not entered and its model is not sent (docker/cli
// #2919); BuildKit's own walker (tonistiigi/fsutil filter.go) would enter it. .git is never
// hashed: no image copies it, and every commit would change the tag.
func walkContext(contextDir, dockerfile string, fn func(rel, path string, d fs.DirEntry) error) error {
	pm, err := readDockerignore(contextDir, dockerfile)
	if err != nil {
		return err
	}
	var walk func(dir, relDir string, parent patternmatcher.MatchInfo) error
	walk = func(dir, relDir string, parent patternmatcher.MatchInfo) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, d := range entries {
			rel := d.Name()
			if relDir != "" {
				rel = relDir + "/" + d.Name()
			}
			path := filepath.Join(dir, d.Name())
			if rel == ".git" {
				continue
			}
			excluded, info, err := pm.MatchesUsingParentResults(rel, parent)
			if err != nil {
				return fmt.Errorf(".dockerignore: %w", err)
			}
			if d.IsDir() {
				if excluded && !exceptionUnder(pm, rel) {
					continue
				}
				if err := walk(path, rel, info); err != nil {
					return err
				}
				continue
			}
			if excluded {
				continue
			}
			if err := fn(rel, path, d); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(contextDir, "", patternmatcher.MatchInfo{})
}

// exceptionUnder reports whether an excluded directory must still be walked because the text of a
// "!" exception starts with the directory's path (moby/go-archive's rule).
func exceptionUnder(pm *patternmatcher.PatternMatcher, relDir string) bool {
	if !pm.Exclusions() {
		return false
	}
	dirSlash := relDir + "/"
	for _, p := range pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(filepath.ToSlash(p.String())+"/", dirSlash) {
			return true
		}
	}
	return false
}

// readDockerignore reads the ignore file of the build: <Dockerfile>.dockerignore next to the
// Dockerfile when there is one, else the context's .dockerignore (none: nothing is excluded), with
// Docker's own reader: comments, a UTF-8 BOM, leading slashes and "!" exceptions as Docker reads them.
func readDockerignore(contextDir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	var patterns []string
	candidates := []string{filepath.Join(contextDir, ".dockerignore")}
	if dockerfile != "" {
		candidates = append([]string{dockerfile + ".dockerignore"}, candidates...)
	}
	for _, name := range candidates {
		f, err := os.Open(name)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		patterns, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		break
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return pm, nil
}

// ContextFiles lists, in lexical order, the slash-separated paths under dir (relative to the
// build context, "" for all of it) that the build context of dockerfile ("" for
// <contextDir>/Dockerfile) sends: what the ignore file leaves in, as Docker applies it. A model
// directory that lists nothing here cannot reach the image.
func ContextFiles(contextDir, dockerfile, dir string) ([]string, error) {
	if dockerfile == "" {
		dockerfile = filepath.Join(contextDir, "Dockerfile")
	}
	all, err := contextFiles(contextDir, dockerfile)
	if err != nil {
		return nil, err
	}
	prefix := strings.Trim(filepath.ToSlash(filepath.Clean(dir)), "/")
	if prefix == "." || prefix == "" {
		return all, nil
	}
	var out []string
	for _, f := range all {
		if strings.HasPrefix(f, prefix+"/") {
			out = append(out, f)
		}
	}
	return out, nil
}
