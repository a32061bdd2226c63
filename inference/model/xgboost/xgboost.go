// Package xgboost evaluates XGBoost models (XGBoost 1.7 to 3.4: gbtree, dart and gblinear
// boosters, numerical and categorical splits, scalar and vector leaves) saved as JSON or UBJSON
// (Booster.save_model("model.json") or "model.ubj", and SageMaker's "xgboost-model" artifact
// when it is either) in pure Go, with the same results as the library's own predict().
//
// The evaluator mirrors XGBoost's CPU predictor: features and thresholds are float32, a row goes
// left when its value is strictly less than the threshold, a missing value (NaN) follows the
// node's default direction, and tree outputs (times their DART weight) are summed in float32 in
// tree order starting from base_score in margin space.
//
// Files are read into a document (document.go, the structure every reader fills) and build
// turns a document into a Model; see the comment at the top of document.go.
package xgboost

import (
	"bytes"
	"fmt"
	"os"
)

// Format names XGBoost's JSON model format.
const Format = "xgboost-json"

// FormatUBJSON names the same schema saved as UBJSON.
const FormatUBJSON = "xgboost-ubjson"

// Model is a loaded XGBoost model. It is immutable and safe for concurrent use.
//
// Layout (built by build from a document, see document.go): trees are flattened into nodes
// (tree.go describes a node), walked eight at a time in blocks (predict.go). A model with a
// categorical split or vector leaves sets general and is walked by the general path instead,
// which also reads catSets and leafVectors. gblinear models keep linear instead of trees.
type Model struct {
	nodes       []node
	roots       []int32 // root node of each tree
	depths      []int32 // levels from root to the deepest leaf, per tree
	groups      []int32 // output each tree adds to; vectorLeaf for a tree with vector leaves
	blocks      []treeBlock
	catSets     []catSet  // categorical splits' category sets, indexed by the split node's val
	catBits     []uint32  // the sets' bits, 32 categories a word
	catFeatures []int32   // features some categorical split reads
	leafVectors []float32 // vector leaves' values, numGroups a leaf, at the leaf node's val
	general     bool      // some tree has a categorical split or vector leaves
	linear      []float32 // gblinear weights, laid out as document.Booster.LinearWeights
	baseMargin  []float32 // per output, in margin space
	numFeatures int
	numGroups   int // outputs the trees (or linear model) produce: classes, targets or quantiles
	numClass    int
	numTarget   int
	objName     string
	obj         objective
	sortOutputs bool // reg:quantileerror from XGBoost 3.4: each row's quantiles sorted, as 3.4 does
	booster     string
	features    []string
	types       []string
	categories  [][]string
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
// Booster, recognised by content (DetectFormat). It fails, naming the cause, for anything it
// cannot evaluate exactly as XGBoost does: an unsupported objective or booster, a field it does
// not know inside the parts that decide predictions, or a malformed tree.
func Parse(data []byte) (*Model, error) {
	// Every other form (UBJSON, the legacy binary format, a pickled Booster) becomes JSON
	// first: see sniff.go.
	data, err := toJSON(data)
	if err != nil {
		return nil, err
	}
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	return build(doc)
}

// build validates a document, whichever reader filled it, and turns it into a Model.
func build(d *document) (*Model, error) {
	obj, err := lookupObjective(d.Objective.Name)
	if err != nil {
		return nil, err
	}
	m := &Model{objName: d.Objective.Name, obj: obj, booster: d.Booster.Name}
	if m.numFeatures, err = parseIntParam("num_feature", d.Param.NumFeature, 0); err != nil {
		return nil, err
	}
	if m.numFeatures <= 0 || m.numFeatures > maxFeatures {
		return nil, fmt.Errorf("num_feature %d: want 1 to %d", m.numFeatures, maxFeatures)
	}
	if m.numClass, err = parseIntParam("num_class", d.Param.NumClass, 0); err != nil {
		return nil, err
	}
	if m.numTarget, err = parseIntParam("num_target", d.Param.NumTarget, 1); err != nil {
		return nil, err
	}
	if m.numClass < 0 || m.numClass > maxOutputs || m.numTarget < 1 || m.numTarget > maxOutputs {
		return nil, fmt.Errorf("num_class %d, num_target %d: want at most %d outputs", m.numClass, m.numTarget, maxOutputs)
	}
	m.numGroups = 1
	switch {
	case obj.multi:
		if m.numClass < 2 {
			return nil, fmt.Errorf("objective %s with num_class %d: want at least 2 classes", m.objName, m.numClass)
		}
		if m.numTarget > 1 {
			return nil, fmt.Errorf("objective %s with num_target %d: multi-class models have one target", m.objName, m.numTarget)
		}
		m.numGroups = m.numClass
	case m.numTarget > 1:
		if obj.kind != Value {
			return nil, fmt.Errorf("num_target %d with objective %s: multi-target models are supported for regression objectives only "+
				"(multi-label classification is not)", m.numTarget, m.objName)
		}
		m.numGroups = m.numTarget
	}
	if m.objName == "reg:quantileerror" {
		alpha, err := parseFloatList("quantile_alpha", d.Objective.QuantileAlpha)
		if err != nil {
			return nil, err
		}
		if len(alpha) != m.numGroups {
			return nil, fmt.Errorf("quantile_alpha has %d values for %d outputs (num_target %d)", len(alpha), m.numGroups, m.numTarget)
		}
		// XGBoost 3.4 sorts each row's quantile predictions so that they cannot cross
		// (src/objective/quantile_obj.cu, PredTransform, dmlc/xgboost#12386); earlier versions do not.
		m.sortOutputs = len(alpha) > 1 && d.versionAtLeast(3, 4)
	}
	if m.objName == "reg:expectileerror" {
		alpha, err := parseFloatList("expectile_alpha", d.Objective.ExpectileAlpha)
		if err != nil {
			return nil, err
		}
		if len(alpha) != m.numGroups {
			return nil, fmt.Errorf("expectile_alpha has %d values for %d outputs (num_target %d)", len(alpha), m.numGroups, m.numTarget)
		}
	}
	if err := m.setFeatures(d); err != nil {
		return nil, err
	}

	base, err := parseBaseScore(d.Param.BaseScore)
	if err != nil {
		return nil, err
	}
	if len(base) != 1 && len(base) != m.numGroups {
		return nil, fmt.Errorf("base_score has %d values for %d outputs", len(base), m.numGroups)
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
	if obj.transform == cumSoftplusTransform {
		expectileMargins(m.baseMargin)
	}

	switch d.Booster.Name {
	case "gbtree", "dart":
		err = m.loadTrees(&d.Booster)
	case "gblinear":
		err = m.loadLinear(&d.Booster)
	default:
		err = fmt.Errorf("unsupported booster %q (supported: gbtree, dart, gblinear)", d.Booster.Name)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// maxFeatures and maxOutputs bound what a model file may ask for, so that a corrupt count
// cannot make every request allocate gigabytes.
const (
	maxFeatures = 1 << 20
	maxOutputs  = 1 << 12
)

// setFeatures takes feature_names, feature_types and 3.x's category names from the document.
func (m *Model) setFeatures(d *document) error {
	if len(d.FeatureNames) > 0 {
		if len(d.FeatureNames) != m.numFeatures {
			return fmt.Errorf("feature_names has %d names for %d features", len(d.FeatureNames), m.numFeatures)
		}
		m.features = append([]string(nil), d.FeatureNames...)
	}
	if len(d.FeatureTypes) > 0 {
		if len(d.FeatureTypes) != m.numFeatures {
			return fmt.Errorf("feature_types has %d types for %d features", len(d.FeatureTypes), m.numFeatures)
		}
		for i, t := range d.FeatureTypes {
			switch t {
			case "float", "int", "i", "q", "c":
			default:
				return fmt.Errorf("feature_types[%d] %q: want float, int, i, q or c", i, t)
			}
		}
		m.types = append([]string(nil), d.FeatureTypes...)
	}
	if cats := d.Booster.Categories; len(cats) > 0 {
		if len(cats) != m.numFeatures {
			return fmt.Errorf("cats has %d features for %d", len(cats), m.numFeatures)
		}
		m.categories = make([][]string, m.numFeatures)
		for i, c := range cats {
			m.categories[i] = append([]string(nil), c...)
		}
	}
	return nil
}

func (m *Model) loadTrees(b *boosterDoc) error {
	if n, err := parseIntParam("num_trees", b.NumTrees, len(b.Trees)); err != nil {
		return err
	} else if n != len(b.Trees) {
		return fmt.Errorf("num_trees %d but %d trees", n, len(b.Trees))
	}
	if len(b.TreeInfo) != len(b.Trees) {
		return fmt.Errorf("tree_info has %d entries for %d trees", len(b.TreeInfo), len(b.Trees))
	}
	if len(b.WeightDrop) > len(b.Trees) {
		return fmt.Errorf("weight_drop has %d entries for %d trees", len(b.WeightDrop), len(b.Trees))
	}
	total := 0
	for _, t := range b.Trees {
		total += len(t.Left)
	}
	m.nodes = make([]node, 0, total)
	m.roots = make([]int32, len(b.Trees))
	m.depths = make([]int32, len(b.Trees))
	m.groups = make([]int32, len(b.Trees))
	for i := range b.Trees {
		// XGBoost multiplies each tree's output by its weight; trees beyond weight_drop weigh 1
		// (src/gbm/gbtree.cc, CommitModel and LoadModel at v3.4.1).
		w := float32(1)
		if i < len(b.WeightDrop) {
			w = b.WeightDrop[i]
		}
		m.roots[i] = int32(len(m.nodes))
		vector, depth, err := m.appendTree(&b.Trees[i], w)
		if err != nil {
			return fmt.Errorf("tree %d: %w", i, err)
		}
		g := b.TreeInfo[i]
		switch {
		case vector:
			m.groups[i] = vectorLeaf
		case g < 0 || g >= m.numGroups:
			return fmt.Errorf("tree %d: output group %d outside [0, %d)", i, g, m.numGroups)
		default:
			m.groups[i] = int32(g)
		}
		m.depths[i] = depth
	}
	m.buildBlocks()
	return nil
}

func (m *Model) loadLinear(b *boosterDoc) error {
	want := (m.numFeatures + 1) * m.numGroups
	if len(b.LinearWeights) != want {
		return fmt.Errorf("gblinear weights: %d values, want (num_feature %d + 1) x %d outputs = %d",
			len(b.LinearWeights), m.numFeatures, m.numGroups, want)
	}
	m.linear = append([]float32(nil), b.LinearWeights...)
	return nil
}

// NumFeatures is the number of values per input row.
func (m *Model) NumFeatures() int { return m.numFeatures }

// NumClass is the number of classes a ClassProbabilities or ClassIndex output refers to:
// num_class for multi:* objectives, 2 for binary:hinge (whose output is the class 0 or 1), else 0.
func (m *Model) NumClass() int {
	if m.objName == "binary:hinge" {
		return 2
	}
	return m.numClass
}

// NumTarget is the model's num_target: outputs of a multi-target regression or of a
// reg:quantileerror model with several quantile_alpha; 1 otherwise.
func (m *Model) NumTarget() int { return m.numTarget }

// NumTrees is the number of trees in the ensemble.
func (m *Model) NumTrees() int { return len(m.roots) }

// Objective is the training objective, e.g. "binary:logistic".
func (m *Model) Objective() string { return m.objName }

// Booster is "gbtree", "dart" or "gblinear" as the file names it (XGBoost 3.4 saves DART as
// "gbtree" with per-tree weights).
func (m *Model) Booster() string { return m.booster }

// Kind says what Predict writes per row.
func (m *Model) Kind() Kind { return m.obj.kind }

// OutputWidth is the number of values Predict writes per row: NumClass for multi:softprob, the
// number of targets or quantiles for a multi-output regression, else 1.
func (m *Model) OutputWidth() int {
	if m.obj.kind == ClassProbabilities || m.obj.kind == Value {
		return m.numGroups
	}
	return 1
}

// FeatureNames returns the model's feature_names, or nil when it was trained without them.
func (m *Model) FeatureNames() []string { return append([]string(nil), m.features...) }

// FeatureTypes returns the model's feature_types ("float", "int", "i", "q", "c" for categorical),
// or nil when it was saved without them.
func (m *Model) FeatureTypes() []string { return append([]string(nil), m.types...) }

// Categories returns, per feature, the category names XGBoost 3.x saved for a categorical
// feature trained from string categories (the code of a category is its index), or nil when the
// model holds none.
func (m *Model) Categories() [][]string {
	if m.categories == nil {
		return nil
	}
	out := make([][]string, len(m.categories))
	for i, c := range m.categories {
		out[i] = append([]string(nil), c...)
	}
	return out
}
