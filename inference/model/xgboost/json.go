package xgboost

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The JSON reader: XGBoost's JSON model schema (doc/model.schema in dmlc/xgboost, and the
// SaveModel/LoadModel methods of src/learner.cc, src/gbm/gbtree_model.cc, src/gbm/gblinear_model.cc,
// src/tree/tree_model.cc and src/tree/multi_target_tree_model.cc at v1.7.4, v2.1.4 and v3.4.1)
// decoded into a document (document.go). Each object that decides predictions is decoded
// strictly: a key this reader does not know fails loading, naming the key and where it is,
// because a new field may change predictions (as 3.x's gbtree weight_drop did). Keys known not
// to change predictions (training statistics, configuration) are declared and skipped.

// decodeJSON reads XGBoost JSON text, which may hold the non-standard NaN, Infinity and
// -Infinity tokens XGBoost writes for non-finite floats, into a document.
func decodeJSON(data []byte) (*document, error) {
	data = quoteNonFinite(data)
	var top struct {
		Learner json.RawMessage `json:"learner"`
		Version []int           `json:"version"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not XGBoost JSON: %w", err)
	}
	if len(top.Learner) == 0 || string(top.Learner) == "null" {
		return nil, errors.New(`not an XGBoost JSON model: no "learner" object`)
	}
	var l struct {
		FeatureNames    []string          `json:"feature_names"`
		FeatureTypes    []string          `json:"feature_types"`
		LearnerModel    json.RawMessage   `json:"learner_model_param"`
		Objective       json.RawMessage   `json:"objective"`
		GradientBooster json.RawMessage   `json:"gradient_booster"`
		Attributes      map[string]string `json:"attributes"`
	}
	if err := strict(top.Learner, &l, "learner"); err != nil {
		return nil, err
	}
	doc := &document{Version: top.Version, FeatureNames: l.FeatureNames, FeatureTypes: l.FeatureTypes}
	// The objective first: an unsupported one is the most useful thing to report.
	if err := decodeObjective(l.Objective, &doc.Objective); err != nil {
		return nil, err
	}
	if _, err := lookupObjective(doc.Objective.Name); err != nil {
		return nil, err
	}
	if err := strict(l.LearnerModel, &doc.Param, "learner.learner_model_param"); err != nil {
		return nil, err
	}
	if err := decodeBooster(l.GradientBooster, &doc.Booster); err != nil {
		return nil, err
	}
	return doc, nil
}

// strict decodes raw into v, failing on keys v does not declare. where names the object in
// errors.
func strict(raw json.RawMessage, v any, where string) error {
	if len(raw) == 0 {
		return fmt.Errorf("%s: missing", where)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("%s: unknown field %s: this evaluator does not know what it does to predictions, "+
				"so it refuses the model rather than answer differently from XGBoost (models from XGBoost 1.7 to 3.4 are known)", where, f)
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: trailing data", where)
	}
	return nil
}

// objectiveParams are the objective's parameter objects. Only quantile_alpha and
// expectile_alpha decide predictions (one output per alpha); the others shape training only.
type objectiveParams struct {
	Name           string          `json:"name"`
	RegLoss        json.RawMessage `json:"reg_loss_param"`
	PseudoHuber    json.RawMessage `json:"pseudo_huber_param"`
	Poisson        json.RawMessage `json:"poisson_regression_param"`
	Tweedie        json.RawMessage `json:"tweedie_regression_param"`
	Softmax        json.RawMessage `json:"softmax_multiclass_param"`
	AFT            json.RawMessage `json:"aft_loss_param"`
	LambdaRank     json.RawMessage `json:"lambdarank_param"`
	LambdaRankPair json.RawMessage `json:"lambda_rank_param"` // 1.x
	TiPlus         json.RawMessage `json:"ti+"`               // 2.x+ ranking position-bias estimates
	TjMinus        json.RawMessage `json:"tj-"`
	Quantile       *struct {
		Alpha string `json:"quantile_alpha"`
	} `json:"quantile_loss_param"`
	Expectile *struct {
		Alpha string `json:"expectile_alpha"`
	} `json:"expectile_loss_param"`
}

func decodeObjective(raw json.RawMessage, o *objectiveDoc) error {
	var p objectiveParams
	if err := strict(raw, &p, "learner.objective"); err != nil {
		return err
	}
	o.Name = p.Name
	if p.Quantile != nil {
		o.QuantileAlpha = p.Quantile.Alpha
	}
	if p.Expectile != nil {
		o.ExpectileAlpha = p.Expectile.Alpha
	}
	return nil
}

// jsonBooster is gradient_booster. For "gbtree" the trees are in Model (and, from 3.4, DART's
// weight_drop inside it); for "dart" they are in GBTree.Model and WeightDrop is beside it; for
// "gblinear" Model holds weights.
type jsonBooster struct {
	Name       string          `json:"name"`
	Model      json.RawMessage `json:"model"`
	GBTree     json.RawMessage `json:"gbtree"`
	WeightDrop floats          `json:"weight_drop"`
}

type jsonGBTree struct {
	Param           jsonGBTreeParam   `json:"gbtree_model_param"`
	TreeInfo        []int             `json:"tree_info"`
	Trees           []json.RawMessage `json:"trees"`
	IterationIndptr []int             `json:"iteration_indptr"` // layers of trees; every tree is used
	WeightDrop      floats            `json:"weight_drop"`      // 3.4: DART folded into gbtree
	Cats            json.RawMessage   `json:"cats"`             // 3.x: category names, decoded by decodeCats
}

type jsonGBTreeParam struct {
	NumTrees        string `json:"num_trees"`
	NumParallelTree string `json:"num_parallel_tree"`
	SizeLeafVector  string `json:"size_leaf_vector"`
}

type jsonLinear struct {
	Weights       floats          `json:"weights"`
	BoostedRounds json.RawMessage `json:"boosted_rounds"`
}

func decodeBooster(raw json.RawMessage, b *boosterDoc) error {
	const where = "learner.gradient_booster"
	var jb jsonBooster
	if err := strict(raw, &jb, where); err != nil {
		return err
	}
	b.Name = jb.Name
	switch jb.Name {
	case "gbtree":
		return decodeGBTree(jb.Model, b, where+".model")
	case "dart":
		var inner jsonBooster
		if err := strict(jb.GBTree, &inner, where+".gbtree"); err != nil {
			return err
		}
		if err := decodeGBTree(inner.Model, b, where+".gbtree.model"); err != nil {
			return err
		}
		if jb.WeightDrop != nil {
			b.WeightDrop = []float32(jb.WeightDrop)
		}
		return nil
	case "gblinear":
		var lin jsonLinear
		if err := strict(jb.Model, &lin, where+".model"); err != nil {
			return err
		}
		b.LinearWeights = []float32(lin.Weights)
		if b.LinearWeights == nil {
			return fmt.Errorf("%s.model: no weights", where)
		}
		return nil
	}
	return fmt.Errorf("%s: unsupported booster %q (supported: gbtree, dart, gblinear)", where, jb.Name)
}

func decodeGBTree(raw json.RawMessage, b *boosterDoc, where string) error {
	var gb jsonGBTree
	if err := strict(raw, &gb, where); err != nil {
		return err
	}
	b.NumTrees, b.NumParallelTree, b.SizeLeafVector = gb.Param.NumTrees, gb.Param.NumParallelTree, gb.Param.SizeLeafVector
	b.TreeInfo = gb.TreeInfo
	if gb.WeightDrop != nil {
		b.WeightDrop = []float32(gb.WeightDrop)
	}
	if len(gb.Cats) > 0 {
		cats, err := decodeCats(gb.Cats, where+".cats")
		if err != nil {
			return err
		}
		b.Categories = cats
	}
	b.Trees = make([]treeDoc, len(gb.Trees))
	for i, raw := range gb.Trees {
		if err := decodeTree(raw, &b.Trees[i], fmt.Sprintf("%s.trees[%d]", where, i)); err != nil {
			return err
		}
	}
	return nil
}

type jsonTree struct {
	ID                 int             `json:"id"`
	Param              jsonTreeParam   `json:"tree_param"`
	LeftChildren       []int32         `json:"left_children"`
	RightChildren      []int32         `json:"right_children"`
	Parents            json.RawMessage `json:"parents"`
	SplitIndices       []int64         `json:"split_indices"`
	SplitConditions    floats          `json:"split_conditions"`
	DefaultLeft        []flag          `json:"default_left"`
	SplitType          []int           `json:"split_type"`
	Categories         []int64         `json:"categories"`
	CategoriesNodes    []int64         `json:"categories_nodes"`
	CategoriesSegments []int64         `json:"categories_segments"`
	CategoriesSizes    []int64         `json:"categories_sizes"`
	BaseWeights        floats          `json:"base_weights"`
	LeafWeights        floats          `json:"leaf_weights"`
	LossChanges        json.RawMessage `json:"loss_changes"`
	SumHessian         json.RawMessage `json:"sum_hessian"`
	LeafChildCounts    json.RawMessage `json:"leaf_child_counts"`
}

type jsonTreeParam struct {
	NumNodes       string `json:"num_nodes"`
	NumFeature     string `json:"num_feature"`
	NumDeleted     string `json:"num_deleted"`
	SizeLeafVector string `json:"size_leaf_vector"`
}

func decodeTree(raw json.RawMessage, t *treeDoc, where string) error {
	var jt jsonTree
	if err := strict(raw, &jt, where); err != nil {
		return err
	}
	*t = treeDoc{
		NumNodes: jt.Param.NumNodes, SizeLeafVector: jt.Param.SizeLeafVector,
		Left: jt.LeftChildren, Right: jt.RightChildren, SplitIndices: jt.SplitIndices,
		SplitConditions: []float32(jt.SplitConditions), SplitType: jt.SplitType,
		Categories: jt.Categories, CategoriesNodes: jt.CategoriesNodes,
		CategoriesSegments: jt.CategoriesSegments, CategoriesSizes: jt.CategoriesSizes,
		BaseWeights: []float32(jt.BaseWeights), LeafWeights: []float32(jt.LeafWeights),
	}
	t.DefaultLeft = make([]bool, len(jt.DefaultLeft))
	for i, f := range jt.DefaultLeft {
		t.DefaultLeft[i] = bool(f)
	}
	return nil
}

// decodeCats reads 3.x's "cats" (src/data/cat_container.cc): for each feature, the category
// names it was trained with, in code order. Only string names are kept; numeric categories
// need no mapping.
func decodeCats(raw json.RawMessage, where string) ([][]string, error) {
	var c struct {
		Enc         []json.RawMessage `json:"enc"`
		FeatureType json.RawMessage   `json:"feature_types"`
		Default     json.RawMessage   `json:"default"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if len(c.Enc) == 0 {
		return nil, nil
	}
	out := make([][]string, len(c.Enc))
	for i, e := range c.Enc {
		var col struct {
			Offsets []int64 `json:"offsets"`
			Values  []int64 `json:"values"` // bytes, written as int8
		}
		// A string column holds offsets into a byte array; a numeric column holds its values.
		if json.Unmarshal(e, &col) == nil && len(col.Offsets) > 0 {
			names := make([]string, 0, len(col.Offsets)-1)
			for k := 0; k+1 < len(col.Offsets); k++ {
				lo, hi := col.Offsets[k], col.Offsets[k+1]
				if lo < 0 || hi < lo || hi > int64(len(col.Values)) {
					return nil, fmt.Errorf("%s: feature %d: offsets outside its %d bytes", where, i, len(col.Values))
				}
				name := make([]byte, 0, hi-lo)
				for _, b := range col.Values[lo:hi] {
					name = append(name, byte(b))
				}
				names = append(names, string(name))
			}
			out[i] = names
		}
	}
	return out, nil
}

// floats decodes a JSON array of numbers, where XGBoost may also write NaN, Infinity and
// -Infinity (quoted by quoteNonFinite).
type floats []float32

// UnmarshalJSON accepts null (no array), numbers and the quoted non-finite tokens.
func (f *floats) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = nil
		return nil
	}
	// encoding/json has checked b is an array; its elements cannot hold commas.
	body := bytes.TrimSpace(b)
	if len(body) < 2 || body[0] != '[' || body[len(body)-1] != ']' {
		return fmt.Errorf("want an array of numbers, got %.40s", b)
	}
	body = bytes.TrimSpace(body[1 : len(body)-1])
	out := make([]float32, 0, bytes.Count(body, []byte(","))+1)
	for i := 0; len(body) > 0; i++ {
		elem, rest, _ := bytes.Cut(body, []byte(","))
		v, err := parseFloat32(bytes.TrimSpace(elem))
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		out = append(out, v)
		body = rest
	}
	*f = out
	return nil
}

func parseFloat32(r []byte) (float32, error) {
	switch string(r) {
	case `"NaN"`:
		return float32(math.NaN()), nil
	case `"Infinity"`:
		return float32(math.Inf(1)), nil
	case `"-Infinity"`:
		return float32(math.Inf(-1)), nil
	}
	v, err := strconv.ParseFloat(string(r), 32)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %s", r)
	}
	return float32(v), nil
}

// quoteNonFinite rewrites the bare tokens NaN, Infinity and -Infinity, which XGBoost's JSON
// writer emits for non-finite floats (src/common/json.cc) but JSON does not allow, into the
// strings "NaN", "Infinity" and "-Infinity", leaving string contents alone. It returns data
// itself when there is nothing to rewrite.
func quoteNonFinite(data []byte) []byte {
	var out []byte
	last := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		var tok string
		switch c {
		case '"':
			inString = true
			continue
		case 'N':
			tok = "NaN"
		case 'I':
			tok = "Infinity"
		case '-':
			if i+1 < len(data) && data[i+1] == 'I' {
				tok = "-Infinity"
			}
		}
		if tok == "" || !bytes.HasPrefix(data[i:], []byte(tok)) {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(data)+64)
		}
		out = append(out, data[last:i]...)
		out = append(out, '"')
		out = append(out, tok...)
		out = append(out, '"')
		i += len(tok) - 1
		last = i + 1
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
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

// parseFloatList reads a parameter XGBoost writes as "5E-1" or as a vector "[5E-1,2E-1]"
// (base_score from 3.1, quantile_alpha).
func parseFloatList(name, s string) ([]float64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(t, "["), "]"))
	var out []float64
	for part := range strings.SplitSeq(t, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
		if err != nil {
			return nil, fmt.Errorf("%s: want a number or a [list] of numbers, got %q", name, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseBaseScore reads base_score, which XGBoost up to 3.0 writes as "5E-1" and 3.1+ as a
// vector "[5E-1]" (one intercept per output).
func parseBaseScore(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return []float64{0.5}, nil // XGBoost's default before base_score was always saved
	}
	v, err := parseFloatList("base_score", s)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(v, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }) {
		return nil, fmt.Errorf("base_score %q: want finite numbers", s)
	}
	return v, nil
}
