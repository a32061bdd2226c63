package model

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/inferstack/inferstack/inference/model/internal/output"
	"github.com/inferstack/inferstack/inference/model/lightgbm"
	"github.com/inferstack/inferstack/inference/model/onnx"
	"github.com/inferstack/inferstack/inference/model/xgboost"
)

const (
	formatXGBoost       = xgboost.Format
	formatXGBoostUBJ    = xgboost.FormatUBJSON
	formatXGBoostBinary = xgboost.FormatBinary
	formatXGBoostPickle = xgboost.FormatPickle
	formatLightGBM      = lightgbm.Format
	formatONNX          = onnx.Format
)

// acceptedFormats is said in every error about a directory without a model.
const acceptedFormats = `XGBoost JSON or UBJSON (Booster.save_model("model.json") or "model.ubj"), ` +
	`XGBoost's legacy binary format (1.x save_model with another name; SageMaker's built-in XGBoost "xgboost-model"), ` +
	`a pickled XGBoost Booster (pickle.dump(booster); SageMaker XGBoost 0.90 and 1.0), ` +
	`LightGBM text (Booster.save_model("model.txt")) ` +
	`and ONNX (an .onnx export, served by the onnx image variant)`

// sniffBytes is how much of each file is read to recognise its format.
const sniffBytes = 4096

// ErrNoModel is wrapped by Load's error when the directory holds no loadable model.
var ErrNoModel = errors.New("no loadable model")

// Load loads the model in dir: the file named by dir's manifest.json, or else the one file
// whose content is a model in one of the accepted formats, whatever its name. The manifest, when
// present, is validated against the model and supplies feature names, class names and a
// description. When dir holds no loadable model the error wraps ErrNoModel and names the
// directory, the files in it and the formats accepted.
//
// A directory holding SageMaker's built-in XGBoost artifact (xgboost-model, or the k-fold
// xgboost-model-0 .. -k) loads every fold, combined as that container combines them, and its
// Info says Builtin, so that the server answers as that container does.
func Load(dir string) (Model, error) { return LoadWith(dir, LoadOptions{}) }

// LoadWith is Load with options for a built-in algorithm artifact.
func LoadWith(dir string, opts LoadOptions) (Model, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("model directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("model directory %s: not a directory", dir)
	}
	return load(os.DirFS(dir), dir, func(name string) string { return filepath.Join(dir, name) }, opts)
}

//go:embed defaultmodel/xgboost-model.json defaultmodel/manifest.json
var defaultModelFS embed.FS

// DefaultSource is Info.Source of the model Default returns.
const DefaultSource = "embedded:iris"

// Default returns the embedded default model: XGBoost multi:softprob on the iris data set
// (features sepal_length, sepal_width, petal_length, petal_width in cm; classes setosa,
// versicolor, virginica), made by defaultmodel/train_iris.py. It lets the server answer
// predictions with no model directory at all.
func Default() (Model, error) {
	sub, err := fs.Sub(defaultModelFS, "defaultmodel")
	if err != nil {
		return nil, err
	}
	return load(sub, DefaultSource, func(string) string { return DefaultSource }, LoadOptions{})
}

// predictor is what each format package's model offers.
type predictor interface {
	Predict(x []float64, out []float64) error
}

// loadedModel adapts a format package's model to Model.
type loadedModel struct {
	info Info
	p    predictor
}

var _ Model = (*loadedModel)(nil)

// Info returns a copy, so that callers cannot change the model's names.
func (m *loadedModel) Info() Info {
	info := m.info
	info.Features = slices.Clone(m.info.Features)
	info.Classes = slices.Clone(m.info.Classes)
	info.FeatureTypes = slices.Clone(m.info.FeatureTypes)
	if m.info.Categories != nil {
		info.Categories = make([][]string, len(m.info.Categories))
		for i, c := range m.info.Categories {
			info.Categories[i] = slices.Clone(c)
		}
	}
	return info
}

// Predict delegates to the format package, which checks the slice lengths.
func (m *loadedModel) Predict(x []float64, out []float64) error { return m.p.Predict(x, out) }

// load finds, parses and describes the model in fsys; where names the directory in errors and
// source gives Info.Source for a file name.
func load(fsys fs.FS, where string, source func(name string) string, opts LoadOptions) (Model, error) {
	var manifest *Manifest
	switch data, err := fs.ReadFile(fsys, ManifestName); {
	case err == nil:
		if manifest, err = parseManifest(data); err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("model directory %s: %w", where, err)
	}

	if manifest == nil || manifest.Model == "" {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
		names, err := builtinFiles(entries)
		if err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
		// A single xgboost-model is found as any one model file is, so that a file of another
		// format under that name, or a damaged one, is told as before.
		if len(names) > 0 && names[0] != BuiltinModelName {
			return loadBuiltin(fsys, where, source, names, manifest, opts)
		}
	}
	name, format, err := findModel(fsys, where, manifest)
	if err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("model directory %s: %w", where, err)
	}
	info, p, err := parse(format, data, manifest.onnxOptions())
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", source(name), err)
	}
	info.Source = source(name)
	if name == BuiltinModelName && strings.HasPrefix(format, "xgboost") {
		info.Builtin, info.Ensemble = true, 1
	}
	if manifest != nil {
		if err := manifest.apply(&info); err != nil {
			return nil, fmt.Errorf("model directory %s: %w", where, err)
		}
	}
	return newLoadedModel(info, p), nil
}

// findModel returns the model file and its format: the manifest's choice, or the only file in
// the directory whose content is a model.
func findModel(fsys fs.FS, where string, manifest *Manifest) (name, format string, err error) {
	if manifest != nil && manifest.Model != "" {
		head, err := readHead(fsys, manifest.Model)
		if err != nil {
			return "", "", fmt.Errorf("model directory %s: %s names model %q: %w", where, ManifestName, manifest.Model, err)
		}
		format, hint := detect(head)
		if format == "" {
			return "", "", fmt.Errorf("model directory %s: %s names model %q, which is not a model%s; accepted formats: %s",
				where, ManifestName, manifest.Model, hint, acceptedFormats)
		}
		return manifest.Model, format, nil
	}

	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", "", fmt.Errorf("model directory %s: %w", where, err)
	}
	var seen, found, hints []string
	formats := map[string]string{}
	for _, e := range entries {
		n := e.Name()
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			// Mounted volumes (Kubernetes ConfigMaps, for one) link every file; follow them.
			if st, err := fs.Stat(fsys, n); err == nil {
				mode = st.Mode().Type()
			}
		}
		if mode.IsDir() {
			seen = append(seen, n+"/")
			continue
		}
		seen = append(seen, n)
		if n == ManifestName || strings.HasPrefix(n, ".") || !mode.IsRegular() {
			continue
		}
		head, err := readHead(fsys, n)
		if err != nil {
			return "", "", fmt.Errorf("model directory %s: %w", where, err)
		}
		switch format, hint := detect(head); {
		case format != "":
			found = append(found, n)
			formats[n] = format
		case hint != "":
			hints = append(hints, n+hint)
		}
	}
	switch len(found) {
	case 1:
		return found[0], formats[found[0]], nil
	case 0:
		saw := "it is empty"
		if len(seen) > 0 {
			saw = "saw " + listNames(seen)
		}
		if len(hints) > 0 {
			saw += " (" + strings.Join(hints, "; ") + ")"
		}
		return "", "", fmt.Errorf("model directory %s: %w: %s; accepted formats: %s", where, ErrNoModel, saw, acceptedFormats)
	default:
		return "", "", fmt.Errorf("model directory %s: %d files are models (%s): name the one to serve in %s, e.g. {\"model\": %q}",
			where, len(found), strings.Join(found, ", "), ManifestName, found[0])
	}
}

// listNames lists up to 20 names, then how many more there are.
func listNames(names []string) string {
	const most = 20
	if len(names) <= most {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:most], ", "), len(names)-most)
}

func readHead(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, sniffBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return head[:n], nil
}

// detect recognises a model format from a file's first bytes. For a file it does not accept
// but recognises, hint says what it is and what to do.
func detect(head []byte) (format, hint string) {
	if f := xgboost.DetectFormat(head); f != "" {
		return f, ""
	}
	switch {
	case lightgbm.Sniff(head):
		return formatLightGBM, ""
	case onnx.Sniff(head):
		return formatONNX, ""
	case xgboost.SniffConfig(head):
		return "", " is an XGBoost training configuration (Booster.save_config()), not a model"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "", " is gzip-compressed (a model.tar.gz?): extract it into the directory"
	case xgboost.PickleHint(head) != "":
		return "", xgboost.PickleHint(head)
	case bytes.HasPrefix(head, []byte("binf")):
		return "", ` starts like an XGBoost binary model ("binf") but is not one: truncated or damaged?`
	}
	return "", ""
}

// formatModel is what Load needs of a format package's model.
type formatModel interface {
	predictor
	Objective() string
	NumFeatures() int
	NumClass() int
	OutputWidth() int
	FeatureNames() []string
	Kind() output.Kind
}

// parse builds the model and its Info (without Source and manifest data) from a file's bytes.
func parse(format string, data []byte, onnxOpts onnx.Options) (Info, predictor, error) {
	var m formatModel
	var err error
	switch format {
	case formatONNX:
		return parseONNX(data, onnxOpts)
	case formatXGBoost, formatXGBoostUBJ, formatXGBoostBinary, formatXGBoostPickle:
		m, err = xgboost.Parse(data)
	case formatLightGBM:
		m, err = lightgbm.Parse(bytes.NewReader(data))
	default:
		return Info{}, nil, fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return Info{}, nil, err
	}
	info := Info{Format: format, Objective: m.Objective(), NumFeatures: m.NumFeatures(),
		OutputWidth: m.OutputWidth(), Features: nilIfEmpty(m.FeatureNames())}
	if x, ok := m.(*xgboost.Model); ok {
		info.FeatureTypes = nilIfEmpty(x.FeatureTypes())
		info.Categories = x.Categories()
	}
	switch m.Kind() {
	case output.Value:
		info.Task = Regression
	case output.Probability:
		info.Task, info.NumClasses = Binary, 2
	case output.ClassProbabilities:
		info.Task, info.NumClasses = MultiProba, m.NumClass()
	case output.ClassIndex:
		info.Task, info.NumClasses = MultiClass, m.NumClass()
	}
	return info, m, nil
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
