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
	err = walkContext(contextDir, func(rel, path string, d fs.DirEntry) error {
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
func contextFiles(contextDir string) ([]string, error) {
	var out []string
	err := walkContext(contextDir, func(rel, _ string, d fs.DirEntry) error {
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// walkContext calls fn, in lexical order, for every non-directory entry of the build context that
// .dockerignore leaves in, the way Docker sends a context: the patterns are read with Docker's own
// reader and matched with its matcher (github.com/moby/patternmatcher, ignorefile.ReadAll), and
// directories are descended as BuildKit's context walker does (tonistiigi/fsutil
// filter.go@6d9dc2eb, filterFS.Walk): a path's match builds on its parent's
// (MatchesUsingParentResults), so a file inside an excluded directory is excluded unless an
// exception matches it; an excluded directory is skipped whole when no exception could match
// inside it, and entered otherwise. .git is never hashed: no image copies it, and every commit
// would change the tag.
func walkContext(contextDir string, fn func(rel, path string, d fs.DirEntry) error) error {
	pm, err := readDockerignore(contextDir)
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
				if excluded && !exceptionCouldMatchInside(pm, rel) {
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

// exceptionCouldMatchInside reports whether an excluded directory must still be entered because a
// "!" exception may match something inside it. As in fsutil's filterFS: with no exceptions, never;
// when every exception is a plain path (ignoring a trailing /* or /**), only if one lies under the
// directory; when an exception has wildcards, always.
func exceptionCouldMatchInside(pm *patternmatcher.PatternMatcher, relDir string) bool {
	if !pm.Exclusions() {
		return false
	}
	const patternChars = `*[]?^\`
	dirSlash := relDir + "/"
	for _, p := range pm.Patterns() {
		if !p.Exclusion() {
			continue
		}
		prefix := filepath.ToSlash(p.String())
		prefix = strings.TrimSuffix(prefix, "/**")
		prefix = strings.TrimSuffix(prefix, "/*")
		if strings.ContainsAny(prefix, patternChars) {
			return true
		}
		if strings.HasPrefix(prefix+"/", dirSlash) {
			return true
		}
	}
	return false
}

// readDockerignore reads the context's .dockerignore (none: nothing is excluded) with Docker's
// own reader: comments, a UTF-8 BOM, leading slashes and "!" exceptions as `docker build` reads them.
func readDockerignore(contextDir string) (*patternmatcher.PatternMatcher, error) {
	var patterns []string
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	default:
		defer f.Close()
		if patterns, err = ignorefile.ReadAll(f); err != nil {
			return nil, fmt.Errorf("read .dockerignore: %w", err)
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return pm, nil
}

// ContextFiles lists, in lexical order, the slash-separated paths under dir (relative to the
// build context, "" for all of it) that the build context sends: what .dockerignore leaves in, as
// Docker applies it. A model directory that lists nothing here cannot reach the image.
func ContextFiles(contextDir, dir string) ([]string, error) {
	all, err := contextFiles(contextDir)
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
