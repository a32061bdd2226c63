package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/inferstack/inferstack/inference/model/onnx"
)

// ManifestName is the optional file in a model directory that describes the model.
const ManifestName = "manifest.json"

// Manifest is the optional manifest.json of a model directory (docs/model-formats.md). Every
// field is optional; unknown fields are an error, so that a typo does not pass silently.
type Manifest struct {
	// Model names the model file in the directory. Without it, Load picks the one file whose
	// content is a model, and fails when there are several.
	Model string `json:"model,omitempty"`
	// Format, when set, is the format the model file must have: "xgboost-json",
	// "xgboost-ubjson", "xgboost-binary", "xgboost-pickle" or "lightgbm-text".
	Format string `json:"format,omitempty"`
	// Features names the input columns in order; it replaces the names saved in the model.
	// Its length must equal the model's feature count.
	Features []string `json:"features,omitempty"`
	// Classes names the classes in index order, for classifiers only; its length must equal
	// the model's class count (2 for a binary classifier: negative, then positive).
	Classes []string `json:"classes,omitempty"`
	// Description is free text shown in /openapi.json and /docs.
	Description string `json:"description,omitempty"`
	// Categories names the categories of categorical features, by feature name, in code order:
	// {"color": ["red", "green"]} lets a JSON instance send "green" for code 1. The feature
	// names come from Features or the model; a model that gives feature types must call the
	// feature categorical ("c").
	Categories map[string][]string `json:"categories,omitempty"`
	// ONNX holds the ONNX Runtime session and batching settings, for ONNX models only.
	ONNX *onnx.Options `json:"onnx,omitempty"`
}

// onnxOptions returns the manifest's ONNX settings, or the defaults.
func (m *Manifest) onnxOptions() onnx.Options {
	if m == nil || m.ONNX == nil {
		return onnx.Options{}
	}
	return *m.ONNX
}

// parseManifest decodes a manifest strictly.
func parseManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w (fields allowed: model, format, features, classes, description, categories, onnx)", ManifestName, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: want one JSON object, found more after it", ManifestName)
	}
	if m.Model != "" && (strings.ContainsAny(m.Model, `/\`) || m.Model == "." || m.Model == "..") {
		return nil, fmt.Errorf("%s: model %q: want a file name in the model directory, not a path", ManifestName, m.Model)
	}
	switch m.Format {
	case "", formatXGBoost, formatXGBoostUBJ, formatXGBoostBinary, formatXGBoostPickle, formatLightGBM, formatONNX:
	default:
		return nil, fmt.Errorf("%s: format %q: want %q, %q, %q, %q, %q or %q", ManifestName, m.Format,
			formatXGBoost, formatXGBoostUBJ, formatXGBoostBinary, formatXGBoostPickle, formatLightGBM, formatONNX)
	}
	if m.ONNX != nil {
		if err := m.ONNX.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", ManifestName, err)
		}
	}
	if err := checkNames("features", m.Features); err != nil {
		return nil, err
	}
	if err := checkNames("classes", m.Classes); err != nil {
		return nil, err
	}
	for f, names := range m.Categories {
		if err := checkNames("categories."+f, names); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// checkNames rejects empty and repeated names: JSON instances are keyed by feature name, and
// a label must identify one class.
func checkNames(field string, names []string) error {
	seen := make(map[string]int, len(names))
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("%s: %s[%d] is empty", ManifestName, field, i)
		}
		if j, dup := seen[n]; dup {
			return fmt.Errorf("%s: %s[%d] %q repeats %s[%d]", ManifestName, field, i, n, field, j)
		}
		seen[n] = i
	}
	return nil
}

// apply checks the manifest against the loaded model's info and merges it in.
func (m *Manifest) apply(info *Info) error {
	if m.Format != "" && m.Format != info.Format {
		return fmt.Errorf("%s: format %q, but the model is %s", ManifestName, m.Format, info.Format)
	}
	if m.ONNX != nil && info.Format != formatONNX {
		return fmt.Errorf("%s: onnx settings given, but the model is %s", ManifestName, info.Format)
	}
	if m.Features != nil {
		if len(m.Features) != info.NumFeatures {
			return fmt.Errorf("%s: features has %d names, but the model takes %d features", ManifestName, len(m.Features), info.NumFeatures)
		}
		info.Features = append([]string(nil), m.Features...)
	}
	if m.Classes != nil {
		if info.Task == Regression || info.Task == Values {
			return fmt.Errorf("%s: classes given, but the model (objective %s) is not a classifier", ManifestName, info.Objective)
		}
		if len(m.Classes) != info.NumClasses {
			return fmt.Errorf("%s: classes has %d names, but the model has %d classes", ManifestName, len(m.Classes), info.NumClasses)
		}
		info.Classes = append([]string(nil), m.Classes...)
	}
	if len(m.Categories) > 0 {
		if err := m.applyCategories(info); err != nil {
			return err
		}
	}
	// The model's own description (an ONNX graph's inputs and outputs) follows the manifest's.
	info.Description = strings.TrimSpace(m.Description + " " + info.Description)
	return nil
}

// applyCategories merges the manifest's category names into info, by feature name.
func (m *Manifest) applyCategories(info *Info) error {
	if len(info.Features) == 0 {
		return fmt.Errorf("%s: categories given, but the model's feature names are unknown: list them in features", ManifestName)
	}
	col := make(map[string]int, len(info.Features))
	for i, f := range info.Features {
		col[f] = i
	}
	if info.Categories == nil {
		info.Categories = make([][]string, info.NumFeatures)
	}
	for f, names := range m.Categories {
		i, ok := col[f]
		if !ok {
			return fmt.Errorf("%s: categories: unknown feature %q; the model's features are: %s", ManifestName, f, strings.Join(info.Features, ", "))
		}
		if len(info.FeatureTypes) > 0 && info.FeatureTypes[i] != "c" {
			return fmt.Errorf("%s: categories: feature %q has type %q in the model, not categorical (\"c\")", ManifestName, f, info.FeatureTypes[i])
		}
		info.Categories[i] = append([]string(nil), names...)
	}
	return nil
}
