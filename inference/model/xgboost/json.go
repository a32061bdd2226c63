package xgboost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The structs below mirror the parts of XGBoost's JSON model schema (doc/model.schema in the
// XGBoost repository) that prediction needs. XGBoost writes most scalar parameters as strings
// ("num_class": "3"), so those fields are strings parsed after decoding.

type jsonModel struct {
	Learner *jsonLearner `json:"learner"`
	Version []int        `json:"version"`
}

type jsonLearner struct {
	FeatureNames    []string          `json:"feature_names"`
	FeatureTypes    []string          `json:"feature_types"`
	LearnerModel    jsonLearnerParam  `json:"learner_model_param"`
	Objective       jsonObjective     `json:"objective"`
	GradientBooster json.RawMessage   `json:"gradient_booster"`
	Attributes      map[string]string `json:"attributes"`
}

type jsonLearnerParam struct {
	BaseScore  string `json:"base_score"`
	NumClass   string `json:"num_class"`
	NumFeature string `json:"num_feature"`
	NumTarget  string `json:"num_target"`
}

type jsonObjective struct {
	Name string `json:"name"`
}

// jsonBooster is gradient_booster: for "gbtree" the model is in Model; for "dart" it is in
// GBTree.Model, and WeightDrop scales each tree's output.
type jsonBooster struct {
	Name       string       `json:"name"`
	Model      *jsonGBTree  `json:"model"`
	GBTree     *jsonBooster `json:"gbtree"`
	WeightDrop []float64    `json:"weight_drop"`
}

type jsonGBTree struct {
	Param    jsonGBTreeParam `json:"gbtree_model_param"`
	TreeInfo []int           `json:"tree_info"`
	Trees    []jsonTree      `json:"trees"`
}

type jsonGBTreeParam struct {
	NumTrees       string `json:"num_trees"`
	SizeLeafVector string `json:"size_leaf_vector"`
}

type jsonTree struct {
	ID              int           `json:"id"`
	Param           jsonTreeParam `json:"tree_param"`
	LeftChildren    []int32       `json:"left_children"`
	RightChildren   []int32       `json:"right_children"`
	SplitIndices    []int64       `json:"split_indices"`
	SplitConditions []float32     `json:"split_conditions"`
	DefaultLeft     []flag        `json:"default_left"`
	SplitType       []int         `json:"split_type"`
	CategoriesNodes []int         `json:"categories_nodes"`
}

type jsonTreeParam struct {
	NumNodes       string `json:"num_nodes"`
	NumFeature     string `json:"num_feature"`
	SizeLeafVector string `json:"size_leaf_vector"`
}

// flag decodes XGBoost's default_left entries, written as 0/1 by some versions and as
// booleans by others.
type flag bool

// UnmarshalJSON accepts 0, 1, true and false.
func (f *flag) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	switch s {
	case "true", "1":
		*f = true
	case "false", "0":
		*f = false
	default:
		return fmt.Errorf("default_left: want 0, 1, true or false, got %s", s)
	}
	return nil
}

// parseIntParam parses one of XGBoost's string-encoded integer parameters; empty means def.
func parseIntParam(name, s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: want an integer, got %q", name, s)
	}
	return n, nil
}

// parseBaseScore reads base_score, which XGBoost up to 2.x writes as "5E-1" and 3.x as a
// vector "[5E-1]" (one intercept per output group).
func parseBaseScore(s string) ([]float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return []float64{0.5}, nil // XGBoost's default before base_score was always saved
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	var out []float64
	for _, part := range strings.Split(t, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
		if err != nil {
			return nil, fmt.Errorf("base_score: want a number or a [list] of numbers, got %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}
