package model_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inferstack/inferstack/inference/model"
)

// Fixtures of the format packages, reused here under other names.
const (
	xgbBinary   = "xgboost/testdata/binary_logistic.json"
	xgbSoftprob = "xgboost/testdata/multi_softprob.json"
	xgbSoftmax  = "xgboost/testdata/multi_softmax.json"
	xgbRegress  = "xgboost/testdata/reg_squarederror.json"
	xgbLogitraw = "xgboost/testdata/binary_logitraw.json"
	lgbBinary   = "lightgbm/testdata/lg_dart_breast_cancer.model"
	xgbLegacy   = "xgboost/testdata/legacy/" // binary models and pickles, gen_legacy.py
)

// file is one file of a model directory: copied from a fixture, or given literally.
type file struct {
	from string // fixture path relative to this package
	text string // literal content when from is empty
}

// modelDir writes files into a fresh directory and returns it. A name ending in "/" makes a
// directory.
func modelDir(t *testing.T, files map[string]file) string {
	t.Helper()
	dir := t.TempDir()
	for name, f := range files {
		path := filepath.Join(dir, name)
		if name[len(name)-1] == '/' {
			require.NoError(t, os.MkdirAll(path, 0o755))
			continue
		}
		data := []byte(f.text)
		if f.from != "" {
			var err error
			data, err = os.ReadFile(f.from)
			require.NoError(t, err)
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	return dir
}

func manifest(t *testing.T, m map[string]any) file {
	t.Helper()
	data, err := json.Marshal(m)
	require.NoError(t, err)
	return file{text: string(data)}
}

var fNames = []string{"f_0", "f_1", "f_2", "f_3", "f_4"}

func TestLoad(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]file
		source string // the file Info.Source must name
		want   model.Info
	}{
		{
			name:   "SageMaker artifact name",
			files:  map[string]file{"xgboost-model": {from: xgbBinary}},
			source: "xgboost-model",
			want: model.Info{Format: "xgboost-json", Objective: "binary:logistic", NumFeatures: 5, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Features: fNames, Builtin: true, Ensemble: 1},
		},
		{
			name:   "any name: recognised by content",
			files:  map[string]file{"trained.bin": {from: xgbRegress}, "README.md": {text: "# notes"}, "code/": {}, ".DS_Store": {text: "x"}},
			source: "trained.bin",
			want: model.Info{Format: "xgboost-json", Objective: "reg:squarederror", NumFeatures: 5, Task: model.Regression,
				OutputWidth: 1, Features: fNames},
		},
		{
			name: "a saved configuration beside the model is not a second model",
			files: map[string]file{"model.json": {from: xgbBinary},
				"config.json": {text: `{"learner":{"generic_param":{"nthread":"0"},"gradient_booster":{"name":"gbtree"}}}`}},
			source: "model.json",
			want: model.Info{Format: "xgboost-json", Objective: "binary:logistic", NumFeatures: 5, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Features: fNames},
		},
		{
			name:   "UBJSON under the SageMaker name",
			files:  map[string]file{"xgboost-model": {from: "testdata/tiny.ubj"}},
			source: "xgboost-model",
			want: model.Info{Format: "xgboost-ubjson", Objective: "binary:logistic", NumFeatures: 2, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Builtin: true, Ensemble: 1},
		},
		{
			name:   "legacy binary under the SageMaker name",
			files:  map[string]file{"xgboost-model": {from: xgbLegacy + "binary_logistic.model"}},
			source: "xgboost-model",
			want: model.Info{Format: "xgboost-binary", Objective: "binary:logistic", NumFeatures: 5, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Builtin: true, Ensemble: 1},
		},
		{
			name:   "legacy binary as XGBoost 0.90 wrote it, any name",
			files:  map[string]file{"model.bin": {from: xgbLegacy + "dart_binary_logistic.v090.model"}},
			source: "model.bin",
			want: model.Info{Format: "xgboost-binary", Objective: "binary:logistic", NumFeatures: 5, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1},
		},
		{
			name:   "tiny legacy binary",
			files:  map[string]file{"tiny-legacy.model": {from: "testdata/tiny-legacy.model"}},
			source: "tiny-legacy.model",
			want: model.Info{Format: "xgboost-binary", Objective: "binary:logistic", NumFeatures: 2, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1},
		},
		{
			name:   "pickled Booster under the SageMaker name",
			files:  map[string]file{"xgboost-model": {from: "testdata/tiny.pkl"}},
			source: "xgboost-model",
			want: model.Info{Format: "xgboost-pickle", Objective: "binary:logistic", NumFeatures: 2, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Builtin: true, Ensemble: 1},
		},
		{
			name:   "SageMaker XGBoost 0.90 pickle: feature names from the pickle",
			files:  map[string]file{"xgboost-model": {from: xgbLegacy + "multi_softprob.v090.pkl"}},
			source: "xgboost-model",
			want: model.Info{Format: "xgboost-pickle", Objective: "multi:softprob", NumFeatures: 5, Task: model.MultiProba,
				NumClasses: 3, OutputWidth: 3, Features: fNames, Builtin: true, Ensemble: 1},
		},
		{
			name:   "LightGBM under an XGBoost name",
			files:  map[string]file{"xgboost-model": {from: lgbBinary}},
			source: "xgboost-model",
			want: model.Info{Format: "lightgbm-text", Objective: "binary", NumFeatures: 30, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Features: lgbFeatureNames()},
		},
		{
			name:   "multi:softprob",
			files:  map[string]file{"model.json": {from: xgbSoftprob}},
			source: "model.json",
			want: model.Info{Format: "xgboost-json", Objective: "multi:softprob", NumFeatures: 5, Task: model.MultiProba,
				NumClasses: 3, OutputWidth: 3, Features: fNames},
		},
		{
			name:   "multi:softmax",
			files:  map[string]file{"model.json": {from: xgbSoftmax}},
			source: "model.json",
			want: model.Info{Format: "xgboost-json", Objective: "multi:softmax", NumFeatures: 5, Task: model.MultiClass,
				NumClasses: 3, OutputWidth: 1, Features: fNames},
		},
		{
			name:   "binary:logitraw serves margins",
			files:  map[string]file{"model.json": {from: xgbLogitraw}},
			source: "model.json",
			want: model.Info{Format: "xgboost-json", Objective: "binary:logitraw", NumFeatures: 5, Task: model.Regression,
				OutputWidth: 1, Features: fNames},
		},
		{
			name: "manifest names features and classes",
			files: map[string]file{"model.json": {from: xgbSoftprob}, "manifest.json": manifest(t, map[string]any{
				"features": []string{"a", "b", "c", "d", "e"}, "classes": []string{"low", "mid", "high"},
				"description": "three bands",
			})},
			source: "model.json",
			want: model.Info{Format: "xgboost-json", Objective: "multi:softprob", NumFeatures: 5, Task: model.MultiProba,
				NumClasses: 3, OutputWidth: 3, Features: []string{"a", "b", "c", "d", "e"},
				Classes: []string{"low", "mid", "high"}, Description: "three bands"},
		},
		{
			name: "manifest picks one of two models",
			files: map[string]file{"a.json": {from: xgbSoftprob}, "b.txt": {from: lgbBinary}, "manifest.json": manifest(t, map[string]any{
				"model": "b.txt", "format": "lightgbm-text", "classes": []string{"benign", "malignant"},
			})},
			source: "b.txt",
			want: model.Info{Format: "lightgbm-text", Objective: "binary", NumFeatures: 30, Task: model.Binary,
				NumClasses: 2, OutputWidth: 1, Features: lgbFeatureNames(), Classes: []string{"benign", "malignant"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := modelDir(t, tc.files)
			m, err := model.Load(dir)
			require.NoError(t, err)
			want := tc.want
			want.Source = filepath.Join(dir, tc.source)
			assert.Equal(t, want, m.Info())

			out := make([]float64, 2*want.OutputWidth)
			require.NoError(t, m.Predict(make([]float64, 2*want.NumFeatures), out))
			assert.Error(t, m.Predict(make([]float64, want.NumFeatures+1), out), "a short row is an error, not a panic")
		})
	}
}

func lgbFeatureNames() []string {
	names := make([]string, 30)
	for i := range names {
		names[i] = "Column_" + strconv.Itoa(i)
	}
	return names
}

func TestLoadErrors(t *testing.T) {
	accepted := `accepted formats: XGBoost JSON or UBJSON (Booster.save_model("model.json") or "model.ubj"), ` +
		`XGBoost's legacy binary format (1.x save_model with another name; SageMaker's built-in XGBoost "xgboost-model"), ` +
		`a pickled XGBoost Booster (pickle.dump(booster); SageMaker XGBoost 0.90 and 1.0), LightGBM text (Booster.save_model("model.txt")) ` +
		`and ONNX (an .onnx export, served by the onnx image variant)`
	tests := []struct {
		name    string
		files   map[string]file
		wantErr []string // substrings, the directory is checked separately
		noModel bool     // errors.Is(err, model.ErrNoModel)
	}{
		{name: "empty directory", files: map[string]file{},
			wantErr: []string{"no loadable model: it is empty; " + accepted}, noModel: true},
		{name: "no model among files", files: map[string]file{"README.md": {text: "# x"}, "data.csv": {text: "1,2"}, "code/": {}},
			wantErr: []string{"no loadable model: saw README.md, code/, data.csv; " + accepted}, noModel: true},
		{name: "a tarball", files: map[string]file{"model.tar.gz": {text: "\x1f\x8b\x08\x00rest"}},
			wantErr: []string{"saw model.tar.gz (model.tar.gz is gzip-compressed (a model.tar.gz?): extract it into the directory)"}, noModel: true},
		{name: "only a configuration", files: map[string]file{"config.json": {text: `{"learner":{"generic_param":{"nthread":"0"}}}`}},
			wantErr: []string{"saw config.json (config.json is an XGBoost training configuration (Booster.save_config()), not a model)"}, noModel: true},
		{name: "a pickle of a scikit-learn model", files: map[string]file{"model.pkl": {from: xgbLegacy + "shape_sklearn.pkl"}},
			wantErr: []string{`saw model.pkl (model.pkl is a Python pickle of xgboost.sklearn.XGBClassifier, not of an xgboost.core.Booster: ` +
				`load it in Python and save its booster with model.get_booster().save_model("model.json"))`}, noModel: true},
		{name: "a pickle that would run code", files: map[string]file{"model.pkl": {from: xgbLegacy + "shape_reduce.pkl"}},
			wantErr: []string{`model.pkl is a Python pickle of posix.system; only a pickled xgboost.core.Booster is read`}, noModel: true},
		{name: "a damaged binary model", files: map[string]file{"xgboost-model": {text: "binf\x00\x00\x00\x3f"}},
			wantErr: []string{`xgboost-model starts like an XGBoost binary model ("binf") but is not one: truncated or damaged?`}, noModel: true},
		{name: "a truncated pickled Booster", files: map[string]file{"xgboost-model": {text: "\x80\x02cxgboost.core\nBooster\n)\x81}"}},
			wantErr: []string{`xgboost-model: pickle at byte 27: truncated: no STOP`}},
		{name: "only a manifest", files: map[string]file{"manifest.json": {text: `{"description": "x"}`}},
			wantErr: []string{"no loadable model: saw manifest.json; "}, noModel: true},
		{name: "two models", files: map[string]file{"a.json": {from: xgbBinary}, "b.txt": {from: lgbBinary}},
			wantErr: []string{`2 files are models (a.json, b.txt): name the one to serve in manifest.json, e.g. {"model": "a.json"}`}},
		{name: "unsupported objective", files: map[string]file{"m.json": {text: `{"learner": {"objective": {"name": "reg:gompertz"}}}`}},
			wantErr: []string{"m.json: unsupported objective \"reg:gompertz\""}},
		{name: "manifest feature count", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"features": []string{"a", "b", "c"}})},
			wantErr: []string{"manifest.json: features has 3 names, but the model takes 5 features"}},
		{name: "manifest class count", files: map[string]file{"m.json": {from: xgbSoftprob}, "manifest.json": manifest(t, map[string]any{"classes": []string{"a", "b"}})},
			wantErr: []string{"manifest.json: classes has 2 names, but the model has 3 classes"}},
		{name: "manifest classes for regression", files: map[string]file{"m.json": {from: xgbRegress}, "manifest.json": manifest(t, map[string]any{"classes": []string{"a", "b"}})},
			wantErr: []string{"manifest.json: classes given, but the model (objective reg:squarederror) is not a classifier"}},
		{name: "manifest unknown field", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": {text: `{"feature_names": ["a"]}`}},
			wantErr: []string{`manifest.json: json: unknown field "feature_names" (fields allowed: model, format, features, classes, description, categories, onnx)`}},
		{name: "manifest not JSON", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": {text: `features: [a]`}},
			wantErr: []string{"manifest.json: invalid character"}},
		{name: "manifest trailing data", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": {text: `{} {}`}},
			wantErr: []string{"manifest.json: want one JSON object, found more after it"}},
		{name: "manifest duplicate feature", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"features": []string{"a", "b", "a", "d", "e"}})},
			wantErr: []string{`manifest.json: features[2] "a" repeats features[0]`}},
		{name: "manifest empty class", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"classes": []string{"no", " "}})},
			wantErr: []string{"manifest.json: classes[1] is empty"}},
		{name: "manifest model is a path", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"model": "../m.json"})},
			wantErr: []string{`manifest.json: model "../m.json": want a file name in the model directory, not a path`}},
		{name: "manifest model missing", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"model": "other.json"})},
			wantErr: []string{`manifest.json names model "other.json": open other.json:`}},
		{name: "manifest model not a model", files: map[string]file{"notes.txt": {text: "hello"}, "manifest.json": manifest(t, map[string]any{"model": "notes.txt"})},
			wantErr: []string{`manifest.json names model "notes.txt", which is not a model; ` + accepted}},
		{name: "manifest format mismatch", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"format": "lightgbm-text"})},
			wantErr: []string{`manifest.json: format "lightgbm-text", but the model is xgboost-json`}},
		{name: "manifest unknown format", files: map[string]file{"m.json": {from: xgbBinary}, "manifest.json": manifest(t, map[string]any{"format": "tensorflow"})},
			wantErr: []string{`manifest.json: format "tensorflow": want "xgboost-json", "xgboost-ubjson", "xgboost-binary", "xgboost-pickle", "lightgbm-text" or "onnx"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := modelDir(t, tc.files)
			_, err := model.Load(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), dir, "the message names the directory or file")
			for _, want := range tc.wantErr {
				assert.Contains(t, err.Error(), want)
			}
			assert.Equal(t, tc.noModel, errors.Is(err, model.ErrNoModel))
		})
	}
}

func TestLoadFollowsSymlinks(t *testing.T) {
	// The layout of a Kubernetes ConfigMap volume: every entry a link into a hidden directory.
	dir := modelDir(t, map[string]file{"..data/model.json": {from: xgbSoftprob}, "..data/sub/": {}})
	require.NoError(t, os.Symlink(filepath.Join("..data", "model.json"), filepath.Join(dir, "model.json")))
	require.NoError(t, os.Symlink(filepath.Join("..data", "sub"), filepath.Join(dir, "sub")))
	require.NoError(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	m, err := model.Load(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "model.json"), m.Info().Source)
	assert.Equal(t, model.MultiProba, m.Info().Task)
}

func TestLoadNotADirectory(t *testing.T) {
	_, err := model.Load(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	_, err = model.Load(xgbBinary)
	assert.EqualError(t, err, "model directory "+xgbBinary+": not a directory")
}

// TestDefaultMatchesXGBoost checks the embedded iris model against what python3-xgboost
// predicted for all 150 iris rows when train_iris.py made it.
func TestDefaultMatchesXGBoost(t *testing.T) {
	m, err := model.Default()
	require.NoError(t, err)
	assert.Equal(t, model.Info{
		Format: "xgboost-json", Source: "embedded:iris", Objective: "multi:softprob", NumFeatures: 4,
		Task: model.MultiProba, NumClasses: 3, OutputWidth: 3,
		Features:    []string{"sepal_length", "sepal_width", "petal_length", "petal_width"},
		Classes:     []string{"setosa", "versicolor", "virginica"},
		Description: m.Info().Description,
	}, m.Info())
	assert.Contains(t, m.Info().Description, "Iris")

	data, err := os.ReadFile("testdata/iris_expected.json")
	require.NoError(t, err)
	var fx struct {
		Rows   [][]float64 `json:"rows"`
		Labels []int       `json:"labels"`
		Want   [][]float64 `json:"want"`
	}
	require.NoError(t, json.Unmarshal(data, &fx))
	require.Len(t, fx.Rows, 150)
	var x []float64
	for _, r := range fx.Rows {
		x = append(x, r...)
	}
	out := make([]float64, 150*3)
	require.NoError(t, m.Predict(x, out))
	correct := 0
	for r, want := range fx.Want {
		assert.InDeltaSlice(t, want, out[r*3:r*3+3], 1e-5, "row %d", r)
		best := 0
		for k := 1; k < 3; k++ {
			if out[r*3+k] > out[r*3+best] {
				best = k
			}
		}
		if best == fx.Labels[r] {
			correct++
		}
	}
	assert.GreaterOrEqual(t, correct, 140, "a real iris model classifies most rows correctly")
}

func TestInfoIsACopy(t *testing.T) {
	m, err := model.Default()
	require.NoError(t, err)
	info := m.Info()
	info.Features[0] = "changed"
	info.Classes[0] = "changed"
	assert.Equal(t, "sepal_length", m.Info().Features[0])
	assert.Equal(t, "setosa", m.Info().Classes[0])
}

// BenchmarkDefaultPredict measures the embedded iris model through the Model interface, as the
// server calls it.
func BenchmarkDefaultPredict(b *testing.B) {
	m, err := model.Default()
	require.NoError(b, err)
	for _, rows := range []int{1, 1000} {
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			x := make([]float64, 0, rows*4)
			for i := 0; i < rows; i++ {
				x = append(x, 5.1+float64(i%20)*0.1, 3.5, 1.4+float64(i%40)*0.1, 0.2+float64(i%25)*0.1)
			}
			out := make([]float64, rows*3)
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Predict(x, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestPredictConcurrently checks the Model contract's "safe for concurrent use" for both
// formats; run with -race it also catches shared scratch state.
func TestPredictConcurrently(t *testing.T) {
	for _, fixture := range []string{xgbSoftprob, lgbBinary} {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			m, err := model.Load(modelDir(t, map[string]file{"m": {from: fixture}}))
			require.NoError(t, err)
			info := m.Info()
			const rows = 64
			x := make([]float64, rows*info.NumFeatures)
			for i := range x {
				x[i] = float64(i%17) * 0.37
			}
			want := make([]float64, rows*info.OutputWidth)
			require.NoError(t, m.Predict(x, want))

			errs := make(chan error, 8)
			results := make(chan []float64, 8)
			for g := 0; g < 8; g++ {
				go func() {
					out := make([]float64, len(want))
					for i := 0; i < 50; i++ {
						if err := m.Predict(x, out); err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
					results <- out
				}()
			}
			for g := 0; g < 8; g++ {
				require.NoError(t, <-errs)
				assert.Equal(t, want, <-results)
			}
		})
	}
}
