package xgboost

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// maxDepth bounds tree depth. XGBoost trees are far shallower; evaluation walks every tree to
// its deepest level, so the bound also bounds the work per row.
const maxDepth = 256

// vectorLeaf is the output group of a tree whose leaves hold one value per output.
const vectorLeaf = -1

// catFlag marks a categorical split in node.feat.
const catFlag = 1 << 31

// node is one tree node in the flat array all trees share, 16 bytes so that four share a
// cache line. A walk takes one step per level with no branch:
//
//	next = left + (0 if row[feat] < cond else 1)
//
// which needs three arrangements:
//   - a node's right child directly follows its left child;
//   - missing values never reach a comparison: Predict gives each row two float32 copies, the
//     first with NaN as -Inf (goes left), the second with NaN as +Inf (goes right), and a node
//     whose missing values go right reads its feature from the second (feat = index + features);
//   - a leaf has cond NaN, so every comparison fails, and left one before itself, so a step stays
//     on it. All walks in a block can then take the same number of steps.
//
// A categorical split (only on the general path, predict.go) sets catFlag in feat and keeps
// its category set's index in val.
type node struct {
	cond float32 // split threshold; NaN for a leaf
	feat uint32  // position in Predict's doubled row, | catFlag for a categorical split
	left uint32  // absolute index of the left child; the node's own index - 1 (mod 2^32) for a leaf
	val  uint32  // leaf: float32 bits of its value, or its offset in leafVectors; categorical split: its catSets index
}

// catSet is one categorical split's set of category codes: bits catBits[off:off+words], then
// a zero word. Bit k+1 stands for code k, and bit 0, which Predict's code for "missing, default
// right" reads, is always set (predict.go, rowCodes).
type catSet struct{ off, words uint32 }

// maxCategory is XGBoost's bound on a category code (common::OutOfRangeCat in
// src/common/categorical.h): codes at or above it, and negative ones, go left.
const maxCategory = 16777216

// appendTree validates t, appends its nodes in the layout described at node, with leaf
// values scaled by the dart weight w, and returns whether its leaves are vectors and its depth.
func (m *Model) appendTree(t *treeDoc, w float32) (vector bool, depth int32, err error) {
	n := len(t.Left)
	if declared, err := parseIntParam("num_nodes", t.NumNodes, n); err != nil {
		return false, 0, err
	} else if declared != n {
		return false, 0, fmt.Errorf("num_nodes %d but %d left_children", declared, n)
	}
	if n == 0 {
		return false, 0, errors.New("no nodes")
	}
	if len(t.Right) != n || len(t.SplitIndices) != n || len(t.SplitConditions) != n || len(t.DefaultLeft) != n {
		return false, 0, fmt.Errorf("node arrays differ in length (left_children %d, right_children %d, split_indices %d, split_conditions %d, default_left %d)",
			n, len(t.Right), len(t.SplitIndices), len(t.SplitConditions), len(t.DefaultLeft))
	}
	leafSize, err := parseIntParam("size_leaf_vector", t.SizeLeafVector, 0)
	if err != nil {
		return false, 0, err
	}
	vector = leafSize > 1
	var leafValues []float32 // for vector leaves: per leaf node, where its values start
	leafIndexed := false     // 3.4: leaf_weights indexed by the leaf's right child
	if vector {
		if leafSize != m.numGroups {
			return false, 0, fmt.Errorf("size_leaf_vector %d for a model with %d outputs", leafSize, m.numGroups)
		}
		switch {
		case t.LeafWeights != nil:
			leafValues, leafIndexed = t.LeafWeights, true
		case len(t.BaseWeights) == n*leafSize:
			leafValues = t.BaseWeights
		default:
			return false, 0, fmt.Errorf("vector leaves: want leaf_weights, or base_weights with %d x %d values (got %d)", n, leafSize, len(t.BaseWeights))
		}
		m.general = true
	}
	cats, err := categorySets(t, n)
	if err != nil {
		return false, 0, err
	}

	// Breadth-first from the root, giving each internal node's children two adjacent slots.
	type item struct{ old, pos, depth int32 }
	seen := make([]bool, n)
	base := int32(len(m.nodes))
	m.nodes = append(m.nodes, node{})
	queue := []item{{0, base, 0}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if seen[it.old] {
			return false, 0, fmt.Errorf("node %d is reached twice: not a tree", it.old)
		}
		seen[it.old] = true
		if it.depth > maxDepth {
			return false, 0, fmt.Errorf("deeper than %d levels", maxDepth)
		}
		depth = max(depth, it.depth)
		l, r := t.Left[it.old], t.Right[it.old]
		if l == -1 {
			if !vector {
				// XGBoost stores a scalar leaf's value in split_conditions.
				m.nodes[it.pos] = leafNode(it.pos, t.SplitConditions[it.old]*w)
				continue
			}
			at := int(it.old) * leafSize
			if leafIndexed {
				at = int(r) * leafSize
			}
			if at < 0 || at+leafSize > len(leafValues) {
				return false, 0, fmt.Errorf("node %d: leaf values at %d outside the %d given", it.old, at, len(leafValues))
			}
			nd := leafNode(it.pos, 0)
			nd.val = uint32(len(m.leafVectors))
			for _, v := range leafValues[at : at+leafSize] {
				m.leafVectors = append(m.leafVectors, v*w)
			}
			m.nodes[it.pos] = nd
			continue
		}
		if l < 0 || int(l) >= n || r < 0 || int(r) >= n {
			return false, 0, fmt.Errorf("node %d: children %d, %d outside [0, %d)", it.old, l, r, n)
		}
		f := t.SplitIndices[it.old]
		if f < 0 || int(f) >= m.numFeatures {
			return false, 0, fmt.Errorf("node %d: split feature %d outside [0, %d)", it.old, f, m.numFeatures)
		}
		child := int32(len(m.nodes))
		m.nodes = append(m.nodes, node{}, node{})
		nd := node{cond: t.SplitConditions[it.old], feat: uint32(f), left: uint32(child)}
		if !t.DefaultLeft[it.old] {
			nd.feat += uint32(m.numFeatures)
		}
		if set, ok := cats[it.old]; ok {
			nd.feat |= catFlag
			nd.cond = 0
			nd.val = uint32(len(m.catSets))
			m.catSets = append(m.catSets, catSet{off: uint32(len(m.catBits)), words: uint32(len(set))})
			m.catBits = append(m.catBits, set...)
			m.catBits = append(m.catBits, 0) // what codes beyond the set read: left
			m.general = true
			if !slices.Contains(m.catFeatures, int32(f)) {
				m.catFeatures = append(m.catFeatures, int32(f))
			}
		} else if math.IsNaN(float64(nd.cond)) {
			return false, 0, fmt.Errorf("node %d: split condition is NaN", it.old)
		}
		m.nodes[it.pos] = nd
		queue = append(queue, item{l, child, it.depth + 1}, item{r, child + 1, it.depth + 1})
	}
	return vector, depth, nil
}

// categorySets returns the category bit set of each categorical split node of t, following
// RegTree::LoadCategoricalSplit (src/tree/tree_model.cc at v3.4.1): the k-th entry of
// categories_nodes is a node whose codes are categories[categories_segments[k]:][:categories_sizes[k]].
func categorySets(t *treeDoc, n int) (map[int32][]uint32, error) {
	if len(t.SplitType) == 0 && len(t.CategoriesNodes) == 0 {
		return nil, nil
	}
	if len(t.SplitType) != n {
		return nil, fmt.Errorf("split_type has %d entries for %d nodes", len(t.SplitType), n)
	}
	k := len(t.CategoriesNodes)
	if len(t.CategoriesSegments) != k || len(t.CategoriesSizes) != k {
		return nil, fmt.Errorf("categories_nodes, categories_segments, categories_sizes differ in length (%d, %d, %d)",
			k, len(t.CategoriesSegments), len(t.CategoriesSizes))
	}
	sets := make(map[int32][]uint32, k)
	for j, nd := range t.CategoriesNodes {
		if nd < 0 || nd >= int64(n) || t.SplitType[nd] != 1 {
			return nil, fmt.Errorf("categories_nodes[%d] %d: not a node whose split_type is 1 (categorical)", j, nd)
		}
		if _, dup := sets[int32(nd)]; dup {
			return nil, fmt.Errorf("categories_nodes[%d] %d: listed twice", j, nd)
		}
		beg, size := t.CategoriesSegments[j], t.CategoriesSizes[j]
		if beg < 0 || size <= 0 || beg > int64(len(t.Categories)) || size > int64(len(t.Categories))-beg {
			return nil, fmt.Errorf("node %d: categories [%d, +%d) outside the %d given", nd, beg, size, len(t.Categories))
		}
		set := []uint32{1} // bit 0: missing with default right
		for _, c := range t.Categories[beg : beg+size] {
			if c < 0 || c >= maxCategory {
				return nil, fmt.Errorf("node %d: category %d outside [0, %d)", nd, c, maxCategory)
			}
			b := c + 1
			for int(b/32) >= len(set) {
				set = append(set, 0)
			}
			set[b/32] |= 1 << (b % 32)
		}
		sets[int32(nd)] = set
	}
	for i, st := range t.SplitType {
		switch {
		case st == 0:
		case st == 1 && t.Left[i] == -1:
			// Leaves of categorical trees keep split_type 0 in XGBoost; tolerate 1, it has no split.
		case st == 1:
			if _, ok := sets[int32(i)]; !ok {
				return nil, fmt.Errorf("node %d: split_type 1 (categorical) but no categories", i)
			}
		default:
			return nil, fmt.Errorf("node %d: split_type %d: want 0 (numerical) or 1 (categorical)", i, st)
		}
	}
	return sets, nil
}

// leafNode returns the leaf at index pos with value v.
func leafNode(pos int32, v float32) node {
	return node{cond: float32(math.NaN()), left: uint32(pos) - 1, val: math.Float32bits(v)}
}
