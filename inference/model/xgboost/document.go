package xgboost

// The hand-off between readers and the evaluator.
//
// Every reader of an XGBoost model file fills a document: the JSON reader (json.go), the UBJSON
// reader through it (ubjson.go), and the readers of the legacy binary format and of pickled
// Boosters, which convert their structures into the same document. build (xgboost.go) alone
// validates a document and turns it into a Model, so every file form gets the same checks and
// the same predictions.
//
// A document holds the values the way XGBoost's JSON schema does (doc/model.schema in
// dmlc/xgboost): integer parameters stay the strings XGBoost writes ("num_class": "3"), so
// a reader copies them unchanged; empty means absent. What each field means for prediction:
//
//   - Param.BaseScore: "5E-1" (up to 3.0) or "[5E-1,2E-1]" (3.1+, one per output), in the
//     objective's output space; build maps it to margins with the objective's ProbToMargin.
//   - Objective.Name: e.g. "binary:logistic"; QuantileAlpha: quantile_loss_param.quantile_alpha
//     ("[0.1,0.9]" or "0.5"), one output per alpha; ExpectileAlpha likewise for
//     reg:expectileerror.
//   - Booster.Name: "gbtree", "dart" or "gblinear".
//   - Booster.WeightDrop: DART's per-tree output weight, nil for none. It may be shorter than
//     Trees (XGBoost 3.4 writes it inside gbtree; the missing trailing weights are 1).
//   - Booster.TreeInfo: each tree's output (class or target); a vector-leaf tree adds to all.
//   - Booster.Categories: per feature, the category names in code order (3.x "cats"); nil
//     entries for numeric features or when unknown.
//   - Tree arrays are indexed by node, as in the JSON: Left[i] == -1 marks a leaf, whose scalar
//     value is SplitConditions[i]. SplitType[i] == 1 marks a categorical split; its category
//     codes are Categories[CategoriesSegments[k]:+CategoriesSizes[k]] where CategoriesNodes[k]
//     == i, and a row whose code is in that set goes RIGHT. Vector leaves (SizeLeafVector > 1):
//     XGBoost 3.4 writes LeafWeights, the leaf's values at LeafWeights[Right[i]*size:] (3.4 reuses
//     a leaf's right child as its index among leaves); 2.x writes them in BaseWeights[i*size:].
//   - Booster.LinearWeights (gblinear): (num_feature+1)*outputs values, weight of feature f for
//     output g at [f*outputs+g], the bias of output g at [num_feature*outputs+g].
type document struct {
	Version      []int // [major, minor, patch] of the XGBoost that saved the model; nil if unknown
	FeatureNames []string
	FeatureTypes []string // "float", "int", "i", "q", "c" (categorical)
	Param        learnerParam
	Objective    objectiveDoc
	Booster      boosterDoc
}

// learnerParam is learner_model_param.
type learnerParam struct {
	BaseScore        string `json:"base_score"`
	NumClass         string `json:"num_class"`
	NumFeature       string `json:"num_feature"`
	NumTarget        string `json:"num_target"`
	BoostFromAverage string `json:"boost_from_average"`
}

type objectiveDoc struct {
	Name           string
	QuantileAlpha  string
	ExpectileAlpha string // expectile_loss_param.expectile_alpha (3.4), one output per alpha
}

type boosterDoc struct {
	Name            string
	NumTrees        string
	NumParallelTree string
	SizeLeafVector  string
	TreeInfo        []int
	Trees           []treeDoc
	WeightDrop      []float32
	Categories      [][]string
	LinearWeights   []float32
}

type treeDoc struct {
	NumNodes           string
	SizeLeafVector     string
	Left, Right        []int32
	SplitIndices       []int64
	SplitConditions    []float32
	DefaultLeft        []bool
	SplitType          []int
	Categories         []int64
	CategoriesNodes    []int64
	CategoriesSegments []int64
	CategoriesSizes    []int64
	BaseWeights        []float32
	LeafWeights        []float32
}

// versionAtLeast reports whether the model was saved by XGBoost major.minor or later; a model
// without a version is taken to be old.
func (d *document) versionAtLeast(major, minor int) bool {
	if len(d.Version) < 2 {
		return false
	}
	return d.Version[0] > major || d.Version[0] == major && d.Version[1] >= minor
}
