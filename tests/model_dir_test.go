package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/components"
	"github.com/inferstack/inferstack/inference/model"
	"github.com/inferstack/inferstack/internal/fakeapigateway"
	"github.com/inferstack/inferstack/program"
)

// copyTracked copies the files git tracks into a new directory: a fresh clone of the repository,
// for tests that add what a user adds next to it.
func copyTracked(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range gitTracked(t) {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree, not yet in git
		}
		require.NoError(t, err)
		path := filepath.Join(dir, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}
	return dir
}

// TestDocumentedModelDirLayoutDeploys is the layout the docs give for a model of your own, a
// SageMaker-style `models/churn/xgboost-model` with `inferstack:model.dir: models/churn`, end
// to end in a clone of the repository: the server loads it, .dockerignore sends it to the
// builder, the whole program deploys it (MODEL_DIR reaches the build), a new model gives a new
// image tag, and the committed-files checks above still hold with the directory present.
func TestDocumentedModelDirLayoutDeploys(t *testing.T) {
	clone := copyTracked(t)
	modelFile := filepath.Join(clone, "models", "churn", "xgboost-model")
	require.NoError(t, os.MkdirAll(filepath.Dir(modelFile), 0o755))
	// A real XGBoost model (inference/model/defaultmodel/train_iris.py wrote it), under the name
	// SageMaker's built-in XGBoost gives its artifact.
	trained, err := os.ReadFile(filepath.Join(repoRoot, "inference", "model", "defaultmodel", "xgboost-model.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(modelFile, trained, 0o644))

	m, err := model.Load(filepath.Dir(modelFile))
	require.NoError(t, err, "the server must load the documented layout")
	assert.Equal(t, "xgboost-json", m.Info().Format)
	assert.Equal(t, "xgboost-model", filepath.Base(m.Info().Source))

	files, err := components.ContextFiles(clone, filepath.Join(clone, "inference", "Dockerfile"), "models/churn")
	require.NoError(t, err)
	assert.Equal(t, []string{"models/churn/xgboost-model"}, files, ".dockerignore must send the model to the builder")

	values := readStackConfig(t, stackFiles(t)["dev"])
	values["inferstack:model.dir"] = "models/churn"
	deployed := func() string {
		t.Helper()
		var tag string
		t.Run("up", func(t *testing.T) {
			run, err := runProgramAt(t, clone, "dev", values,
				fakeapigateway.Start(t, fakeapigateway.Account{CloudwatchRoleArn: testAccountLogsRole}))
			require.NoError(t, err)
			img := one(t, run.mocks, "docker:index/image:Image")
			assert.Equal(t, "models/churn", input(t, img, "build.args."+program.ModelDirBuildArg))
			tag = input(t, img, "imageName").(string)
		})
		require.NotEmpty(t, tag)
		return tag
	}
	first := deployed()
	require.NoError(t, os.WriteFile(filepath.Join(clone, "README.md"), []byte("edited\n"), 0o644))
	assert.Equal(t, first, deployed(), "an edit outside the image keeps the tag")

	require.NoError(t, os.WriteFile(modelFile, append(trained, '\n'), 0o644))
	assert.NotEqual(t, first, deployed(), "a new model must give a new image tag")
}

// TestModelDirThatCannotReachTheImageIsRefused: a model.dir that is missing, outside the build
// context or left out by .dockerignore stops the program before anything exists, naming the key,
// instead of a Docker build that fails late or a content tag that never sees the model.
func TestModelDirThatCannotReachTheImageIsRefused(t *testing.T) {
	clone := copyTracked(t)
	require.NoError(t, os.MkdirAll(filepath.Join(clone, "artifacts", "churn"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(clone, "artifacts", "churn", "xgboost-model"), []byte("{}"), 0o644))
	tests := []struct {
		dir, want string
	}{
		{"models/missing", "inferstack:model.dir: \"models/missing\": stat models/missing: no such file or directory"},
		{"../elsewhere", "want a directory inside the build context"},
		{"artifacts/churn", ".dockerignore leaves none of its files in the build context; put the model under models/"},
		{"artifacts/churn/xgboost-model", "is a file: name the directory"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			values := readStackConfig(t, stackFiles(t)["dev"])
			values["inferstack:model.dir"] = tc.dir
			run, err := runProgramAt(t, clone, "dev", values,
				fakeapigateway.Start(t, fakeapigateway.Account{CloudwatchRoleArn: testAccountLogsRole}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			for _, r := range run.mocks.Resources() {
				assert.Equal(t, "pulumi:pulumi:Stack", r.Type)
			}
		})
	}
}
