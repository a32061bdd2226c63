// Package xgboost evaluates XGBoost models saved as JSON (Booster.save_model("model.json"),
// and SageMaker's "xgboost-model" artifact when it is JSON) in pure Go, with the same results
// as the library's own predict().
//
// The evaluator mirrors XGBoost's CPU predictor: features and thresholds are float32, a row goes
// left when its value is strictly less than the threshold, a missing value (NaN) follows the
// node's default direction, and tree outputs are summed in float32 starting from base_score
// in margin space.
package xgboost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Format names XGBoost's JSON model format.
const Format = "xgboost-json"

// FormatUBJSON names the same schema saved as UBJSON.
const FormatUBJSON = "xgboost-ubjson"

// Model is a loaded XGBoost tree ensemble. It is immutable and safe for concurrent use.
type Model struct {
	nodes       []node
	roots       []int32 // root node of each tree
	depths      []int32 // levels from root to the deepest leaf, per tree
	groups      []int32 // output group of each tree
	blocks      []treeBlock
	baseMargin  []float32
	numFeatures int
	numGroups   int
	numClass    int
	objName     string
	obj         objective
	booster     string
	features    []string
}

// Sniff reports whether head, the first bytes of a file, looks like an XGBoost JSON model: a
// JSON object with a "learner" key near its start (XGBoost writes it first; "version" may
// precede it in files re-serialised by other tools).
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	return bytes.Contains(h, []byte(`"learner"`)) && !SniffConfig(h)
}

// SniffConfig reports whether head looks like XGBoost's training configuration
// (Booster.save_config()): JSON that also starts with "learner" but holds parameters, no trees.
func SniffConfig(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(h) > 0 && h[0] == '{' && bytes.Contains(h, []byte(`"learner"`)) &&
		bytes.Contains(h, []byte(`"generic_param"`))
}

// SniffUBJSON reports whether head, the first bytes of a file, looks like an XGBoost model in
// UBJSON, the binary form of the same schema (booster.save_model("model.ubj"); from XGBoost 2.1
// also any name not ending in ".json"). Parse reads both forms.
func SniffUBJSON(head []byte) bool {
	return isUBJSON(head) && bytes.Contains(head, []byte("learner"))
}

// LoadFile reads and parses the XGBoost JSON model in path.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse builds a Model from XGBoost JSON, UBJSON, the legacy binary format or a pickled
// Booster, recognised by content (DetectFormat). It fails, naming the cause, for anything it cannot
// evaluate exactly: an unsupported objective or booster (gblinear), categorical splits,
// vector-leaf (multi-target) trees, or a malformed tree.
func Parse(data []byte) (*Model, error) {
	// Every other form (UBJSON, the legacy binary format, a pickled Booster) becomes JSON
	// first: see sniff.go.
	data, err := toJSON(data)
	if err != nil {
		return nil, err
	}
	var jm jsonModel
	if err := json.Unmarshal(data, &jm); err != nil {
		return nil, fmt.Errorf("not XGBoost JSON: %w", err)
	}
	if jm.Learner == nil {
		return nil, errors.New(`not an XGBoost JSON model: no "learner" object`)
	}
	l := jm.Learner
	obj, err := lookupObjective(l.Objective.Name)
	if err != nil {
		return nil, err
	}
	m := &Model{objName: l.Objective.Name, obj: obj}
	if m.numFeatures, err = parseIntParam("num_feature", l.LearnerModel.NumFeature, 0); err != nil {
		return nil, err
	}
	if m.numFeatures <= 0 {
		return nil, fmt.Errorf("num_feature %d: want at least 1", m.numFeatures)
	}
	if m.numClass, err = parseIntParam("num_class", l.LearnerModel.NumClass, 0); err != nil {
		return nil, err
	}
	numTarget, err := parseIntParam("num_target", l.LearnerModel.NumTarget, 1)
	if err != nil {
		return nil, err
	}
	if numTarget > 1 {
		return nil, fmt.Errorf("num_target %d: multi-target models are not supported", numTarget)
	}
	m.numGroups = 1
	if obj.multi {
		if m.numClass < 2 {
			return nil, fmt.Errorf("objective %s with num_class %d: want at least 2 classes", m.objName, m.numClass)
		}
		m.numGroups = m.numClass
	}
	if len(l.FeatureNames) > 0 {
		if len(l.FeatureNames) != m.numFeatures {
			return nil, fmt.Errorf("feature_names has %d names for %d features", len(l.FeatureNames), m.numFeatures)
		}
		m.features = append([]string(nil), l.FeatureNames...)
	}
	for i, t := range l.FeatureTypes {
		if t == "c" {
			return nil, fmt.Errorf("feature %d has type %q: categorical features are not supported", i, t)
		}
	}

	base, err := parseBaseScore(l.LearnerModel.BaseScore)
	if err != nil {
		return nil, err
	}
	if len(base) != 1 && len(base) != m.numGroups {
		return nil, fmt.Errorf("base_score has %d values for %d output groups", len(base), m.numGroups)
	}
	m.baseMargin = make([]float32, m.numGroups)
	for g := range m.baseMargin {
		b := base[0]
		if len(base) > 1 {
			b = base[g]
		}
		if m.baseMargin[g], err = obj.toMargin(m.objName, b); err != nil {
			return nil, err
		}
	}

	if err := m.loadBooster(l.GradientBooster); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) loadBooster(raw json.RawMessage) error {
	if len(raw) == 0 {
		return errors.New(`no "gradient_booster" in the model`)
	}
	var b jsonBooster
	if err := json.Unmarshal(raw, &b); err != nil {
		return fmt.Errorf("gradient_booster: %w", err)
	}
	m.booster = b.Name
	var gb *jsonGBTree
	var weights []float64
	switch b.Name {
	case "gbtree":
		gb = b.Model
	case "dart":
		if b.GBTree != nil {
			gb = b.GBTree.Model
		}
		weights = b.WeightDrop
	default:
		return fmt.Errorf("unsupported booster %q (supported: gbtree, dart)", b.Name)
	}
	if gb == nil {
		return fmt.Errorf("booster %s has no model", b.Name)
	}
	if n, err := parseIntParam("size_leaf_vector", gb.Param.SizeLeafVector, 0); err != nil {
		return err
	} else if n > 1 {
		return fmt.Errorf("size_leaf_vector %d: vector-leaf (multi-target) trees are not supported", n)
	}
	if len(gb.TreeInfo) != len(gb.Trees) {
		return fmt.Errorf("tree_info has %d entries for %d trees", len(gb.TreeInfo), len(gb.Trees))
	}
	if weights != nil && len(weights) != len(gb.Trees) {
		return fmt.Errorf("weight_drop has %d entries for %d trees", len(weights), len(gb.Trees))
	}
	total := 0
	for _, t := range gb.Trees {
		total += len(t.LeftChildren)
	}
	m.nodes = make([]node, 0, total)
	m.roots = make([]int32, len(gb.Trees))
	m.depths = make([]int32, len(gb.Trees))
	m.groups = make([]int32, len(gb.Trees))
	for i := range gb.Trees {
		g := gb.TreeInfo[i]
		if g < 0 || g >= m.numGroups {
			return fmt.Errorf("tree %d: output group %d outside [0, %d)", i, g, m.numGroups)
		}
		w := float32(1)
		if weights != nil {
			w = float32(weights[i])
		}
		m.groups[i] = int32(g)
		m.roots[i] = int32(len(m.nodes))
		depth, err := m.appendTree(&gb.Trees[i], w)
		if err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
		m.depths[i] = depth
	}
	m.buildBlocks()
	return nil
}

// NumFeatures is the number of values per input row.
func (m *Model) NumFeatures() int { return m.numFeatures }

// NumClass is the model's num_class: the class count for multi:* objectives, else 0.
func (m *Model) NumClass() int { return m.numClass }

// NumTrees is the number of trees in the ensemble.
func (m *Model) NumTrees() int { return len(m.roots) }

// Objective is the training objective, e.g. "binary:logistic".
func (m *Model) Objective() string { return m.objName }

// Booster is "gbtree" or "dart".
func (m *Model) Booster() string { return m.booster }

// Kind says what Predict writes per row.
func (m *Model) Kind() Kind { return m.obj.kind }

// OutputWidth is the number of values Predict writes per row: NumClass for multi:softprob,
// else 1.
func (m *Model) OutputWidth() int {
	if m.obj.kind == ClassProbabilities {
		return m.numGroups
	}
	return 1
}

// FeatureNames returns the model's feature_names, or nil when it was trained without them.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.features...) }
