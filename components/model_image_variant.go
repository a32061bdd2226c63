package components

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferstack/inferstack/inference/model/onnx"
)

// Variants of the inference image, the stages of inference/Dockerfile that its
// INFERENCE_VARIANT build argument selects.
const (
	// VariantStatic is the pure-Go server on distroless/static: XGBoost and LightGBM models.
	VariantStatic = "static"
	// VariantONNX is the server built with ONNX Runtime (cgo) on distroless/cc: ONNX models.
	VariantONNX = "onnx"
)

// VariantBuildArg is the build argument of inference/Dockerfile that selects the variant.
const VariantBuildArg = "INFERENCE_VARIANT"

// modelDirBuildArg is the build argument that names the model directory inside the context.
const modelDirBuildArg = "MODEL_DIR"

// ImageVariant returns the image variant that serves the model in dir: VariantONNX when the
// model is ONNX, recognised by content as the server does (the file manifest.json names, or
// any top-level file), else VariantStatic. A directory that does not exist gives VariantStatic:
// the image build reports it.
func ImageVariant(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return VariantStatic, nil
	}
	if err != nil {
		return "", fmt.Errorf("model directory: %w", err)
	}
	names := make([]string, 0, len(entries))
	if data, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		var m struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(data, &m) == nil && m.Model != "" {
			names = append(names, m.Model)
		}
	}
	if len(names) == 0 {
		for _, e := range entries {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
	}
	for _, n := range names {
		head, err := readHead(filepath.Join(dir, n), 4096)
		if err != nil {
			return "", fmt.Errorf("model directory %s: %w", dir, err)
		}
		if onnx.Sniff(head) {
			return VariantONNX, nil
		}
	}
	return VariantStatic, nil
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, n)
	m, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:m], nil
}

// withVariant returns the build args with the variant's INFERENCE_VARIANT. The static variant
// adds nothing, so that its content tag, and so every existing image, stays as it was.
func (a *ModelImageArgs) withVariant() (map[string]string, error) {
	variant := a.Variant
	if set, ok := a.BuildArgs[VariantBuildArg]; ok {
		if variant != "" && variant != set {
			return nil, fmt.Errorf("Variant %q and BuildArgs[%s] %q disagree: set one", variant, VariantBuildArg, set)
		}
		variant = set
	}
	if variant == "" {
		dir, ok := a.BuildArgs[modelDirBuildArg]
		if !ok || dir == "" {
			return a.BuildArgs, nil
		}
		var err error
		if variant, err = ImageVariant(filepath.Join(a.Context, dir)); err != nil {
			return nil, err
		}
	}
	switch variant {
	case VariantStatic:
		return a.BuildArgs, nil
	case VariantONNX:
	default:
		return nil, fmt.Errorf("Variant %q: allowed are %q and %q (default: from the model directory's content)", variant, VariantStatic, VariantONNX)
	}
	args := make(map[string]string, len(a.BuildArgs)+1)
	for k, v := range a.BuildArgs {
		args[k] = v
	}
	args[VariantBuildArg] = variant
	return args, nil
}
