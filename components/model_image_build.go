package components

import (
	"bufio"
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
// that .dockerignore does not exclude (path, mode and bytes), the Dockerfile, the build args and the
// platform. The same inputs give the same tag, so an unchanged build pushes nothing new; any change
// gives a new tag, which an IMMUTABLE repository requires (DESIGN pitfall 17).
func ContentTag(contextDir, dockerfile, platform string, buildArgs map[string]string) (string, error) {
	info, err := os.Stat(contextDir)
	if err != nil {
		return "", fmt.Errorf("build context: %w", err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("build context %s: not a directory", contextDir)
	}
	ignore, err := readDockerignore(contextDir)
	if err != nil {
		return "", err
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
	err = filepath.WalkDir(contextDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(contextDir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || ignore.excludes(rel)) {
			return filepath.SkipDir
		}
		if d.IsDir() || ignore.excludes(rel) {
			return nil
		}
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
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "mode\x00%o\x00", fi.Mode().Perm())
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

// dockerignore is the subset of .dockerignore that matters for hashing: glob patterns, "!"
// exceptions (last match wins, as in docker) and a leading "**/" for any depth.
type dockerignore []struct {
	pattern string
	negate  bool
}

func readDockerignore(contextDir string) (dockerignore, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	defer f.Close()
	var out dockerignore
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		negate := strings.HasPrefix(line, "!")
		line = strings.TrimPrefix(line, "!")
		line = strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/"), "/")
		out = append(out, struct {
			pattern string
			negate  bool
		}{line, negate})
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	return out, nil
}

// excludes reports whether rel (slash-separated, relative to the context) or one of its parent
// directories is ignored.
func (d dockerignore) excludes(rel string) bool {
	excluded := false
	for _, p := range d {
		if matchIgnore(p.pattern, rel) {
			excluded = !p.negate
		}
	}
	return excluded
}

func matchIgnore(pattern, rel string) bool {
	anyDepth := strings.HasPrefix(pattern, "**/")
	pattern = strings.TrimPrefix(pattern, "**/")
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		if ok, _ := filepath.Match(pattern, prefix); ok {
			return true
		}
		if anyDepth {
			suffix := strings.Join(parts[i:], "/")
			if ok, _ := filepath.Match(pattern, suffix); ok {
				return true
			}
		}
	}
	return false
}
