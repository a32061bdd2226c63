package xgboost

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The legacy binary model format: what XGBoost before 1.0 wrote for every save_model, and 1.x
// for any name not ending in ".json" or ".ubj" (SageMaker's built-in XGBoost 1.x saves its
// "xgboost-model" artifact this way). It is a dump of C++ structs, little-endian, read here as
// XGBoost 1.7.4 reads it (github.com/dmlc/xgboost, tag v1.7.4):
//
//	src/learner.cc        LearnerIO::LoadModel(dmlc::Stream*): an optional "binf" header (1.x
//	                      writes it, 0.90 and 1.0 do not), LearnerModelParamLegacy (136 bytes),
//	                      the objective and booster names, the booster, then the attributes
//	src/gbm/gbtree_model.cc  GBTreeModel::Load: GBTreeModelParam (160 bytes), the trees, tree_info
//	src/tree/tree_model.cc   RegTree::Load: TreeParam (148 bytes), Node (20 bytes) and
//	                      RTreeNodeStat (16 bytes) per node
//	src/gbm/gbtree.cc     Dart::Load: the trees, then weight_drop
//	src/gbm/gblinear_model.h GBLinearModel::Load: DeprecatedGBLinearModelParam (136 bytes), weights
//
// Strings and vectors are dmlc-core's serializer: a uint64 count, then the elements. The
// layouts are the same at v0.90 (src/learner.cc, src/gbm/gbtree_model.h), where the version
// fields were still reserved (zero) and base_score was stored in margin space.
//
// Rather than a second decoder in step with the model, the reader writes the JSON that XGBoost
// 1.7's save_model("model.json") writes for the same booster (LearnerImpl::SaveModel(Json*),
// GBTreeModel::SaveModel, RegTree::SaveModel, Dart::SaveModel, GBLinearModel::SaveModel), and
// Parse reads that, as it does for UBJSON.

// FormatBinary names the legacy binary model format.
const FormatBinary = "xgboost-binary"

// Sizes of the fixed structs, static_assert-ed in XGBoost's source.
const (
	learnerParamSize = 136 // LearnerModelParamLegacy
	gbtreeParamSize  = 160 // GBTreeModelParam: (4 + 2 + 2 + 32) * 4
	treeParamSize    = 148 // TreeParam: (31 + 6) * 4
	nodeSize         = 20  // RegTree::Node
	nodeStatSize     = 16  // RTreeNodeStat
	linearParamSize  = 136 // DeprecatedGBLinearModelParam
)

// maxLegacyGroups bounds num_class and num_target.
const maxLegacyGroups = 1 << 16

// maxNameLen bounds the objective and booster names, which are short identifiers.
const maxNameLen = 64

// binaryHeader is what XGBoost 1.x writes before the learner parameters.
var binaryHeader = []byte("binf")

// legacyBoosters are the boosters XGBoost's binary format can hold.
var legacyBoosters = map[string]bool{"gbtree": true, "dart": true, "gblinear": true}

// SniffBinary reports whether head, the first bytes of a file, is an XGBoost model in the
// legacy binary format: "binf" then the learner parameters, or (0.90 and 1.0, which wrote no
// header) the parameters directly, followed in both cases by an objective name such as
// "binary:logistic" and a booster name. Parse reads it.
func SniffBinary(head []byte) bool {
	_, err := legacyPrefix(head)
	return err == nil
}

// legacyPrefix checks the start of a binary model and returns where its learner parameters
// begin. It needs the parameters and both names, a few hundred bytes.
func legacyPrefix(data []byte) (int, error) {
	start := 0
	if bytes.HasPrefix(data, binaryHeader) {
		start = len(binaryHeader)
	}
	r := &binReader{b: data, pos: start + learnerParamSize}
	if r.pos > len(data) {
		return 0, errTruncated
	}
	obj, err := r.name("objective")
	if err != nil {
		return 0, err
	}
	if !bytes.ContainsRune(obj, ':') {
		return 0, fmt.Errorf("objective %q is not an XGBoost objective name", obj)
	}
	booster, err := r.name("booster")
	if err != nil {
		return 0, err
	}
	if !legacyBoosters[string(booster)] {
		return 0, fmt.Errorf("booster %q: want gbtree, dart or gblinear", booster)
	}
	return start, nil
}

// binReader reads the little-endian fields of a binary model, failing on truncation rather
// than reading past the end, and never allocating more than the input can fill.
type binReader struct {
	b   []byte
	pos int
}

func (r *binReader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(r.b)-r.pos {
		return nil, fmt.Errorf("%s at byte %d: %w (%d bytes wanted, %d left)", what, r.pos, errTruncated, n, len(r.b)-r.pos)
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *binReader) u64(what string) (uint64, error) {
	b, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// count reads a dmlc vector length whose elements take size bytes each, refusing counts the
// rest of the input cannot hold before anything is allocated.
func (r *binReader) count(size int, what string) (int, error) {
	n, err := r.u64(what + " length")
	if err != nil {
		return 0, err
	}
	if left := uint64(len(r.b) - r.pos); n > left/uint64(size) {
		if size == 1 {
			return 0, fmt.Errorf("%s of %d bytes, but only %d bytes are left: %w", what, n, left, errTruncated)
		}
		return 0, fmt.Errorf("%s: %d entries of %d bytes, but only %d bytes are left: %w", what, n, size, left, errTruncated)
	}
	return int(n), nil
}

// str reads a dmlc string.
func (r *binReader) str(what string) ([]byte, error) {
	n, err := r.count(1, what)
	if err != nil {
		return nil, err
	}
	return r.take(n, what)
}

// name reads a short printable identifier (the objective or booster name).
func (r *binReader) name(what string) ([]byte, error) {
	n, err := r.u64(what + " name length")
	if err != nil {
		return nil, err
	}
	if n == 0 || n > maxNameLen {
		return nil, fmt.Errorf("%s name length %d: want 1 to %d", what, n, maxNameLen)
	}
	b, err := r.take(int(n), what+" name")
	if err != nil {
		return nil, err
	}
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return nil, fmt.Errorf("%s name %q: not a printable identifier", what, b)
		}
	}
	return b, nil
}

func i32(b []byte, off int) int32   { return int32(binary.LittleEndian.Uint32(b[off:])) }
func u32(b []byte, off int) uint32  { return binary.LittleEndian.Uint32(b[off:]) }
func f32(b []byte, off int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[off:])) }

// The JSON that XGBoost 1.7 writes, as far as the reader fills it. Field names are the schema's
// (doc/model.schema at v1.7.4); integers it writes as strings are strings here too.

type legacyDoc struct {
	Learner legacyLearner `json:"learner"`
	Version []uint32      `json:"version"`
}

type legacyLearner struct {
	Attributes        map[string]string `json:"attributes"`
	FeatureNames      []string          `json:"feature_names"`
	FeatureTypes      []string          `json:"feature_types"`
	GradientBooster   any               `json:"gradient_booster"`
	LearnerModelParam map[string]string `json:"learner_model_param"`
	Objective         json.RawMessage   `json:"objective"`
}

type legacyGBTree struct {
	Name  string            `json:"name"`
	Model legacyGBTreeModel `json:"model"`
}

// legacyGBTreeModel is GBTreeModel::SaveModel's object.
type legacyGBTreeModel struct {
	Param    map[string]string `json:"gbtree_model_param"`
	Trees    []legacyTree      `json:"trees"`
	TreeInfo []int32           `json:"tree_info"`
}

type legacyDart struct {
	Name       string       `json:"name"`
	GBTree     legacyGBTree `json:"gbtree"`
	WeightDrop []float32    `json:"weight_drop"`
}

type legacyGBLinear struct {
	Name  string `json:"name"`
	Model struct {
		BoostedRounds int       `json:"boosted_rounds"`
		Weights       []float32 `json:"weights"`
	} `json:"model"`
}

type legacyTree struct {
	ID                 int               `json:"id"`
	Param              map[string]string `json:"tree_param"`
	LossChanges        []stat            `json:"loss_changes"`
	SumHessian         []stat            `json:"sum_hessian"`
	BaseWeights        []stat            `json:"base_weights"`
	LeftChildren       []int32           `json:"left_children"`
	RightChildren      []int32           `json:"right_children"`
	Parents            []int32           `json:"parents"`
	SplitIndices       []uint32          `json:"split_indices"`
	SplitConditions    []float32         `json:"split_conditions"`
	SplitType          []int             `json:"split_type"`
	DefaultLeft        []int             `json:"default_left"`
	CategoriesSegments []int             `json:"categories_segments"`
	CategoriesSizes    []int             `json:"categories_sizes"`
	CategoriesNodes    []int             `json:"categories_nodes"`
	Categories         []int             `json:"categories"`
}

// stat is a node statistic (loss change, hessian sum, weight): training bookkeeping that
// prediction never reads, so a non-finite one is written as null rather than refused.
type stat float32

// MarshalJSON writes the float32 value, or null when it is not finite.
func (s stat) MarshalJSON() ([]byte, error) {
	f := float64(s)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 32), nil
}

// legacy is a decoded binary model before it becomes JSON.
type legacy struct {
	doc       legacyDoc
	numGroups int
}

// binaryToJSON reads a legacy binary model and returns the JSON XGBoost would save for it.
// Bytes after the attributes are ignored, as XGBoost ignores them (0.90 appended a count:poisson
// parameter and the evaluation metrics there).
func binaryToJSON(data []byte) ([]byte, error) {
	l, err := readBinary(data)
	if err != nil {
		return nil, err
	}
	return json.Marshal(&l.doc)
}

func readBinary(data []byte) (*legacy, error) {
	start, err := legacyPrefix(data)
	if err != nil {
		return nil, fmt.Errorf("not an XGBoost binary model: %w", err)
	}
	r := &binReader{b: data, pos: start}
	p, _ := r.take(learnerParamSize, "learner parameters")
	// LearnerModelParamLegacy at v1.7.4: base_score, num_feature, num_class,
	// contain_extra_attrs, contain_eval_metrics, major_version, minor_version, num_target,
	// boost_from_average, reserved[25]. At v0.90 everything after contain_eval_metrics was
	// reserved and zero.
	baseScore := f32(p, 0)
	numFeature := u32(p, 4)
	numClass := i32(p, 8)
	extraAttrs := i32(p, 12)
	major, minor := u32(p, 20), u32(p, 24)
	numTarget := u32(p, 28)
	if numTarget == 0 {
		numTarget = 1 // as LoadModel does for files from before the field existed
	}
	boostFromAverage := i32(p, 32)
	if major < 1 {
		boostFromAverage = 1 // the field did not exist; 1.7 defaults it to true
	}
	objName, _ := r.name("objective")
	boosterName, _ := r.name("booster")
	if numFeature == 0 || numFeature > math.MaxInt32 {
		return nil, fmt.Errorf("num_feature %d: want 1 to %d", numFeature, math.MaxInt32)
	}
	if numClass < 0 {
		return nil, fmt.Errorf("num_class %d: want 0 or more", numClass)
	}
	if numTarget > math.MaxInt32 {
		return nil, fmt.Errorf("num_target %d: out of range", numTarget)
	}
	l := &legacy{numGroups: max(int(numClass), int(numTarget), 1)}
	if l.numGroups > maxLegacyGroups {
		// Prediction keeps a margin per output group, and a corrupt count must not make the
		// evaluator allocate gigabytes.
		return nil, fmt.Errorf("num_class %d, num_target %d: more output groups than the %d this reader accepts", numClass, numTarget, maxLegacyGroups)
	}
	obj := string(objName)

	switch string(boosterName) {
	case "gbtree":
		m, err := r.gbtree()
		if err != nil {
			return nil, err
		}
		l.doc.Learner.GradientBooster = &legacyGBTree{Name: "gbtree", Model: *m}
	case "dart":
		m, err := r.gbtree()
		if err != nil {
			return nil, err
		}
		d := &legacyDart{Name: "dart", GBTree: legacyGBTree{Name: "gbtree", Model: *m}}
		if len(m.Trees) > 0 {
			n, err := r.count(4, "dart weight_drop")
			if err != nil {
				return nil, err
			}
			if n != len(m.Trees) {
				return nil, fmt.Errorf("dart weight_drop has %d weights for %d trees", n, len(m.Trees))
			}
			b, _ := r.take(4*n, "dart weight_drop")
			d.WeightDrop = make([]float32, n)
			for i := range d.WeightDrop {
				if d.WeightDrop[i] = f32(b, 4*i); !finite(d.WeightDrop[i]) {
					return nil, fmt.Errorf("dart weight_drop[%d] is %v", i, d.WeightDrop[i])
				}
			}
		} else {
			d.WeightDrop = []float32{}
		}
		l.doc.Learner.GradientBooster = d
	case "gblinear":
		g, err := r.gblinear(int(numFeature), l.numGroups)
		if err != nil {
			return nil, err
		}
		l.doc.Learner.GradientBooster = g
	}

	attrs := map[string]string{}
	if extraAttrs != 0 {
		n, err := r.count(16, "attributes") // each pair holds two string lengths at least
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			k, err := r.str("attribute name")
			if err != nil {
				return nil, err
			}
			v, err := r.str("attribute " + strconv.Quote(string(k)))
			if err != nil {
				return nil, err
			}
			attrs[string(k)] = string(v)
		}
	}

	// What LoadModel does with the attributes: "objective" (1.0 and later) is the objective's
	// configuration, "metrics" and 0.90's "count_poisson_max_delta_step" are training settings;
	// none of them stays an attribute.
	objective, err := legacyObjective(obj, attrs["objective"], numClass)
	if err != nil {
		return nil, err
	}
	delete(attrs, "objective")
	delete(attrs, "metrics")
	delete(attrs, "count_poisson_max_delta_step")

	if major < 1 && !bytes.HasPrefix(objName, []byte("multi:")) {
		// Before 1.0 base_score was stored after ProbToMargin; LoadModel maps it back with the
		// objective's PredTransform, and ProbToMargin is applied again when predicting.
		if baseScore, err = predTransform(obj, baseScore); err != nil {
			return nil, err
		}
	}
	if !finite(baseScore) {
		return nil, fmt.Errorf("base_score is %v", baseScore)
	}

	l.doc.Version = []uint32{major, minor, 0}
	l.doc.Learner.Attributes = attrs
	l.doc.Learner.FeatureNames = []string{}
	l.doc.Learner.FeatureTypes = []string{}
	l.doc.Learner.Objective = objective
	l.doc.Learner.LearnerModelParam = map[string]string{
		"base_score":         strconv.FormatFloat(float64(baseScore), 'g', -1, 32),
		"boost_from_average": strconv.Itoa(int(boostFromAverage)),
		"num_class":          strconv.Itoa(int(numClass)),
		"num_feature":        strconv.FormatUint(uint64(numFeature), 10),
		"num_target":         strconv.FormatUint(uint64(numTarget), 10),
	}
	return l, nil
}

// legacyObjective returns the objective's JSON: the configuration 1.0 and later store in the
// "objective" attribute, or for older files the bare name (the objective's other parameters
// only matter for training), with num_class for multi:* as 1.7 would write it.
func legacyObjective(name, stored string, numClass int32) (json.RawMessage, error) {
	if stored == "" {
		o := map[string]any{"name": name}
		if bytes.HasPrefix([]byte(name), []byte("multi:")) {
			o["softmax_multiclass_param"] = map[string]string{"num_class": strconv.Itoa(int(numClass))}
		}
		return json.Marshal(o)
	}
	var o struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(stored), &o); err != nil {
		return nil, fmt.Errorf(`attribute "objective": want the objective's JSON configuration: %w`, err)
	}
	if o.Name != name {
		return nil, fmt.Errorf(`attribute "objective" configures %q, but the model's objective is %q`, o.Name, name)
	}
	return json.RawMessage(stored), nil
}

// predTransform is the objective's PredTransform for one value, in float32 as XGBoost 1.7.4
// computes it (src/objective/regression_loss.h, regression_obj.cu, hinge.cu, aft_obj.cu;
// common::Sigmoid in src/common/math.h; the ranking objectives, reg:pseudohubererror and
// reg:absoluteerror keep ObjFunction's, which changes nothing).
func predTransform(obj string, x float32) (float32, error) {
	switch obj {
	case "binary:logistic", "reg:logistic":
		return 1 / (float32(math.Exp(float64(min(-x, 88.7)))) + 1 + 1e-16), nil
	case "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft":
		return float32(math.Exp(float64(x))), nil
	case "binary:hinge":
		if x > 0 {
			return 1, nil
		}
		return 0, nil
	case "reg:squarederror", "reg:linear", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
		"binary:logitraw", "rank:pairwise", "rank:ndcg", "rank:map":
		return x, nil
	}
	return 0, fmt.Errorf("objective %q in a model saved before XGBoost 1.0: its stored base_score cannot be converted", obj)
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// gbtree reads GBTreeModel::Load's layout.
func (r *binReader) gbtree() (*legacyGBTreeModel, error) {
	p, err := r.take(gbtreeParamSize, "gbtree parameters")
	if err != nil {
		return nil, err
	}
	// GBTreeModelParam: num_trees, num_parallel_tree, deprecated_num_feature, pad_32bit,
	// deprecated_num_pbuffer (int64), deprecated_num_output_group, size_leaf_vector, reserved[32].
	numTrees, numParallel, sizeLeaf := i32(p, 0), i32(p, 4), i32(p, 28)
	if numTrees < 0 {
		return nil, fmt.Errorf("gbtree num_trees %d: want 0 or more", numTrees)
	}
	if sizeLeaf > 1 {
		return nil, fmt.Errorf("gbtree size_leaf_vector %d: vector-leaf trees are not supported", sizeLeaf)
	}
	if numParallel < 1 {
		numParallel = 1 // 0.90 called the field num_roots and left it 1; never below 1
	}
	const minTree = treeParamSize + nodeSize + nodeStatSize + 4 // one node and its tree_info
	if left := len(r.b) - r.pos; int64(numTrees) > int64(left/minTree) {
		return nil, fmt.Errorf("gbtree num_trees %d, but %d bytes cannot hold that many trees", numTrees, left)
	}
	m := &legacyGBTreeModel{
		Param: map[string]string{"num_trees": strconv.Itoa(int(numTrees)),
			"num_parallel_tree": strconv.Itoa(int(numParallel)), "size_leaf_vector": strconv.Itoa(int(max(sizeLeaf, 0)))},
		Trees: make([]legacyTree, numTrees),
	}
	for i := range m.Trees {
		if err := r.tree(&m.Trees[i]); err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
		m.Trees[i].ID = i
	}
	b, err := r.take(4*int(numTrees), "tree_info")
	if err != nil {
		return nil, err
	}
	m.TreeInfo = make([]int32, numTrees)
	for i := range m.TreeInfo {
		m.TreeInfo[i] = i32(b, 4*i)
	}
	return m, nil
}

// tree reads RegTree::Load's layout into t.
func (r *binReader) tree(t *legacyTree) error {
	p, err := r.take(treeParamSize, "tree parameters")
	if err != nil {
		return err
	}
	// TreeParam: deprecated_num_roots, num_nodes, num_deleted, deprecated_max_depth,
	// num_feature, size_leaf_vector, reserved[31].
	numNodes, numDeleted, treeFeatures, sizeLeaf := i32(p, 4), i32(p, 8), u32(p, 16), i32(p, 20)
	if numNodes <= 0 {
		return fmt.Errorf("num_nodes %d: want at least 1", numNodes)
	}
	if sizeLeaf > 1 {
		return fmt.Errorf("size_leaf_vector %d: vector-leaf trees are not supported", sizeLeaf)
	}
	if left := len(r.b) - r.pos; int64(numNodes) > int64(left/(nodeSize+nodeStatSize)) {
		return fmt.Errorf("num_nodes %d, but %d bytes cannot hold that many nodes", numNodes, left)
	}
	n := int(numNodes)
	nodes, _ := r.take(n*nodeSize, "nodes")
	stats, _ := r.take(n*nodeStatSize, "node statistics")
	t.Param = map[string]string{"num_deleted": strconv.Itoa(int(numDeleted)), "num_feature": strconv.FormatUint(uint64(treeFeatures), 10),
		"num_nodes": strconv.Itoa(n), "size_leaf_vector": strconv.Itoa(int(max(sizeLeaf, 0)))}
	t.LossChanges, t.SumHessian, t.BaseWeights = make([]stat, n), make([]stat, n), make([]stat, n)
	t.LeftChildren, t.RightChildren, t.Parents = make([]int32, n), make([]int32, n), make([]int32, n)
	t.SplitIndices, t.SplitConditions = make([]uint32, n), make([]float32, n)
	t.SplitType, t.DefaultLeft = make([]int, n), make([]int, n)
	t.CategoriesSegments, t.CategoriesSizes, t.CategoriesNodes, t.Categories = []int{}, []int{}, []int{}, []int{}
	deleted := 0
	for i := 0; i < n; i++ {
		// Node: parent_ (top bit: is a left child), cleft_, cright_, sindex_ (top bit:
		// default left), and the split condition or leaf value.
		o := i * nodeSize
		sindex := u32(nodes, o+12)
		t.Parents[i] = int32(u32(nodes, o) & (1<<31 - 1))
		t.LeftChildren[i], t.RightChildren[i] = i32(nodes, o+4), i32(nodes, o+8)
		t.SplitIndices[i] = sindex & (1<<31 - 1)
		t.SplitConditions[i] = f32(nodes, o+16)
		if sindex>>31 != 0 {
			t.DefaultLeft[i] = 1
		}
		s := i * nodeStatSize
		t.LossChanges[i], t.SumHessian[i], t.BaseWeights[i] = stat(f32(stats, s)), stat(f32(stats, s+4)), stat(f32(stats, s+8))
		if sindex == math.MaxUint32 { // kDeletedNodeMarker: pruned, unreachable
			if i > 0 {
				deleted++
			}
			t.SplitConditions[i] = 0
			continue
		}
		if !finite(t.SplitConditions[i]) {
			what := "split condition"
			if t.LeftChildren[i] == -1 {
				what = "leaf value"
			}
			return fmt.Errorf("node %d: %s is %v: not supported", i, what, t.SplitConditions[i])
		}
	}
	if deleted != int(numDeleted) {
		// RegTree::Load checks the same.
		return fmt.Errorf("num_deleted %d, but %d nodes are marked deleted", numDeleted, deleted)
	}
	return nil
}

// gblinear reads GBLinearModel::Load's layout: the weight of each feature for each output
// group, feature-major, then one bias per group.
func (r *binReader) gblinear(numFeature, numGroups int) (*legacyGBLinear, error) {
	if _, err := r.take(linearParamSize, "gblinear parameters"); err != nil {
		return nil, err
	}
	n, err := r.count(4, "gblinear weights")
	if err != nil {
		return nil, err
	}
	if want := (numFeature + 1) * numGroups; n != want {
		return nil, fmt.Errorf("gblinear has %d weights; %d features and %d output groups need %d", n, numFeature, numGroups, want)
	}
	b, _ := r.take(4*n, "gblinear weights")
	g := &legacyGBLinear{Name: "gblinear"}
	g.Model.Weights = make([]float32, n)
	for i := range g.Model.Weights {
		if g.Model.Weights[i] = f32(b, 4*i); !finite(g.Model.Weights[i]) {
			return nil, fmt.Errorf("gblinear weight %d is %v", i, g.Model.Weights[i])
		}
	}
	return g, nil
}
