package components

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/inferstack/inferstack/components/internal/proxybuild"
)

// ProxyHandlerPackage is the import path of the Lambda proxy program. It is built by import path,
// not by directory, so that it builds from the module cache when another Pulumi project imports
// this package (lambda_proxy_deps.go keeps its dependencies in that project's go.sum).
const ProxyHandlerPackage = "github.com/inferstack/inferstack/lambda/proxy/cmd/bootstrap"

// zipEpoch is the modification time of every archive entry.
var zipEpoch = proxybuild.Epoch

// ProxyArchive is a built Lambda deployment package.
type ProxyArchive struct {
	// Path is the zip file, named by its content hash.
	Path string
	// SHA256 is the base64 SHA-256 of the zip, the form Lambda's source code hash takes.
	SHA256 string
}

var (
	proxyBuildMu    sync.Mutex
	proxyBuildCache = map[string]ProxyArchive{}
)

// BuildProxyArchive builds pkg for Lambda (linux/arm64, static, reproducible) and packages it as
// a zip holding one executable named bootstrap, the name the provided.al2023 runtime runs. The
// same source and toolchain give the same bytes, so an unchanged stack previews with no diff.
// A program that creates several proxies builds each package once. It builds in the Go module of
// the current directory, the Pulumi program's; BuildProxyArchiveIn names another.
func BuildProxyArchive(pkg string) (ProxyArchive, error) {
	return BuildProxyArchiveIn("", pkg)
}

// BuildProxyArchiveIn is BuildProxyArchive run from dir: pkg is resolved through the go.mod and
// go.sum of the module holding dir. An empty dir is the current directory.
func BuildProxyArchiveIn(dir, pkg string) (ProxyArchive, error) {
	proxyBuildMu.Lock()
	defer proxyBuildMu.Unlock()
	// The same import path can resolve to different source in different modules.
	key := dir + "\x00" + pkg
	if a, ok := proxyBuildCache[key]; ok {
		return a, nil
	}
	zipped, err := buildProxyZip(dir, pkg)
	if err != nil {
		return ProxyArchive{}, err
	}
	a, err := writeArchive(zipped)
	if err != nil {
		return ProxyArchive{}, err
	}
	proxyBuildCache[key] = a
	return a, nil
}

// buildProxyZip compiles pkg in the module of dir ("" for the current directory) with the
// caller's toolchain and returns the zip's bytes.
func buildProxyZip(dir, pkg string) ([]byte, error) {
	return proxybuild.Zip(dir, pkg, "")
}

// buildEnv is the build environment: see proxybuild.Env.
func buildEnv(env []string) []string { return proxybuild.Env(env) }

// zipBootstrap packages binary as an executable `bootstrap` with fixed metadata.
func zipBootstrap(binary []byte) ([]byte, error) { return proxybuild.Package(binary) }

// writeArchive stores the zip under a content-addressed name in the user's cache, where it stays
// readable until the Pulumi engine has uploaded it.
func writeArchive(zipped []byte) (ProxyArchive, error) {
	sum := sha256.Sum256(zipped)
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "inferstack", "lambda-proxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ProxyArchive{}, fmt.Errorf("store Lambda proxy archive: %w", err)
	}
	path := filepath.Join(dir, hex.EncodeToString(sum[:])+".zip")
	// A stored file is reused only when it holds exactly these bytes: the name alone proves
	// nothing (without $HOME the cache is under the shared temp directory, where anyone may
	// have planted a file by that name), and this file is what gets deployed as the Lambda.
	if stored, err := os.ReadFile(path); err != nil || !bytes.Equal(stored, zipped) {
		// Write then rename, so a concurrent reader never sees half a file.
		tmp, err := os.CreateTemp(dir, "partial-*.zip")
		if err != nil {
			return ProxyArchive{}, fmt.Errorf("store Lambda proxy archive: %w", err)
		}
		if err := fillTemp(tmp, zipped); err != nil {
			os.Remove(tmp.Name())
			return ProxyArchive{}, fmt.Errorf("store Lambda proxy archive %s: %w", tmp.Name(), err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return ProxyArchive{}, fmt.Errorf("store Lambda proxy archive: %w", err)
		}
	}
	return ProxyArchive{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:])}, nil
}

// tempFile is the part of *os.File that fillTemp uses.
type tempFile interface {
	Name() string
	Write(b []byte) (int, error)
	Chmod(mode os.FileMode) error
	Close() error
}

// fillTemp writes data to f and closes it; the error holds every failure, the close's included.
func fillTemp(f tempFile, data []byte) error {
	_, werr := f.Write(data)
	// Readable like any build output; CreateTemp makes it owner-only.
	if werr == nil {
		werr = f.Chmod(0o644)
	}
	return errors.Join(werr, f.Close())
}

// archiveFromFile describes a prebuilt zip.
func archiveFromFile(path string) (ProxyArchive, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ProxyArchive{}, fmt.Errorf("ArchivePath: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return ProxyArchive{}, fmt.Errorf("ArchivePath %s: not a zip: %w", path, err)
	}
	for _, f := range zr.File {
		if f.Name == "bootstrap" {
			if f.Mode()&0o111 == 0 {
				return ProxyArchive{}, fmt.Errorf("ArchivePath %s: bootstrap is not executable (mode %v): zip it with its mode kept", path, f.Mode())
			}
			sum := sha256.Sum256(b)
			return ProxyArchive{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:])}, nil
		}
	}
	return ProxyArchive{}, fmt.Errorf("ArchivePath %s: no bootstrap at the top of the zip, which provided.al2023 needs", path)
}
