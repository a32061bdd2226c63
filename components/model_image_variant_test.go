package components

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onnxFixture is a model written by inference/model/onnx/testdata/gen.py.
func onnxFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "inference", "model", "onnx", "testdata", "rf_iris", "model.onnx"))
	require.NoError(t, err)
	return data
}

func TestImageVariantFollowsTheModelDirectory(t *testing.T) {
	onnxModel := string(onnxFixture(t))
	xgb, err := os.ReadFile(filepath.Join("..", "inference", "model", "defaultmodel", "xgboost-model.json"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"onnx file, any name", map[string]string{"model.bin": onnxModel, "README.md": "notes"}, VariantONNX},
		{"xgboost", map[string]string{"xgboost-model": string(xgb)}, VariantStatic},
		{"manifest names the onnx file", map[string]string{"manifest.json": `{"model": "m.onnx"}`, "m.onnx": onnxModel, "xgb.json": string(xgb)}, VariantONNX},
		{"manifest names the xgboost file", map[string]string{"manifest.json": `{"model": "xgb.json"}`, "m.onnx": onnxModel, "xgb.json": string(xgb)}, VariantStatic},
		{"hidden onnx file is not the model", map[string]string{".m.onnx": onnxModel}, VariantStatic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				miWrite(t, dir, n, c)
			}
			got, err := ImageVariant(dir)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	got, err := ImageVariant(filepath.Join(t.TempDir(), "absent"))
	require.NoError(t, err)
	assert.Equal(t, VariantStatic, got)
}

func TestModelImageBuildsTheONNXVariantForAnONNXModel(t *testing.T) {
	dir := miContext(t)
	miWrite(t, dir, "models/iris/model.onnx", string(onnxFixture(t)))
	args := &ModelImageArgs{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
		BuildArgs: map[string]string{"MODEL_DIR": "models/iris"}}
	mocks, out := miRun(t, args)
	img, err := mocks.One(dockerImageType)
	require.NoError(t, err)
	variant, _ := img.Input("build.args." + VariantBuildArg)
	assert.Equal(t, VariantONNX, variant)
	// The variant is part of the content tag: the same context built as the other variant must
	// not reuse the tag in the immutable repository.
	static, err := ContentTag(dir, args.Dockerfile, PlatformAMD64, args.BuildArgs)
	require.NoError(t, err)
	assert.NotEqual(t, static, out["imageTag"])
	assert.Equal(t, map[string]string{"MODEL_DIR": "models/iris"}, args.BuildArgs, "the caller's map is not changed")
}

func TestModelImageStaticVariantKeepsItsTag(t *testing.T) {
	dir := miContext(t)
	miWrite(t, dir, "models/churn/model.json", `{"learner": {}}`)
	args := &ModelImageArgs{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
		BuildArgs: map[string]string{"MODEL_DIR": "models/churn"}}
	mocks, out := miRun(t, args)
	img, err := mocks.One(dockerImageType)
	require.NoError(t, err)
	_, ok := img.Input("build.args." + VariantBuildArg)
	assert.False(t, ok, "the static variant adds no build arg")
	tag, err := ContentTag(dir, args.Dockerfile, PlatformAMD64, args.BuildArgs)
	require.NoError(t, err)
	assert.Equal(t, tag, out["imageTag"])
}

func TestModelImageVariantErrors(t *testing.T) {
	dir := miContext(t)
	for _, tc := range []struct {
		args ModelImageArgs
		want string
	}{
		{ModelImageArgs{Variant: "gpu"}, `Variant "gpu": allowed are "static" and "onnx"`},
		{ModelImageArgs{Variant: VariantStatic, BuildArgs: map[string]string{VariantBuildArg: VariantONNX}}, `Variant "static" and BuildArgs[INFERENCE_VARIANT] "onnx" disagree`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			a := tc.args
			a.Context = dir
			_, err := a.withVariant()
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
