package xgboost

import (
	"errors"
	"fmt"
	"math"
)

// maxDepth bounds tree depth. XGBoost trees are far shallower; evaluation walks every tree to
// its deepest level, so the bound also bounds the work per row.
const maxDepth = 256

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
type node struct {
	cond float32 // split threshold; NaN for a leaf
	feat uint32  // position in Predict's doubled row
	left uint32  // absolute index of the left child; the node's own index - 1 (mod 2^32) for a leaf
	leaf float32 // leaf value
}

// appendTree validates t, appends its nodes in the layout described at node, with leaf
// values scaled by the dart weight w, and returns the tree's depth.
func (m *Model) appendTree(t *jsonTree, w float32) (int32, error) {
	n := len(t.LeftChildren)
	if declared, err := parseIntParam("num_nodes", t.Param.NumNodes, n); err != nil {
		return 0, err
	} else if declared != n {
		return 0, fmt.Errorf("num_nodes %d but %d left_children", declared, n)
	}
	if v, err := parseIntParam("size_leaf_vector", t.Param.SizeLeafVector, 0); err != nil {
		return 0, err
	} else if v > 1 {
		return 0, fmt.Errorf("size_leaf_vector %d: vector-leaf (multi-target) trees are not supported", v)
	}
	if n == 0 {
		return 0, errors.New("no nodes")
	}
	if len(t.RightChildren) != n || len(t.SplitIndices) != n || len(t.SplitConditions) != n || len(t.DefaultLeft) != n {
		return 0, fmt.Errorf("node arrays differ in length (left_children %d, right_children %d, split_indices %d, split_conditions %d, default_left %d)",
			n, len(t.RightChildren), len(t.SplitIndices), len(t.SplitConditions), len(t.DefaultLeft))
	}
	if len(t.CategoriesNodes) > 0 {
		return 0, errors.New("categorical splits are not supported")
	}
	for i, st := range t.SplitType {
		if st != 0 {
			return 0, fmt.Errorf("node %d: split_type %d: categorical splits are not supported", i, st)
		}
	}

	// Breadth-first from the root, giving each internal node's children two adjacent slots.
	type item struct{ old, pos, depth int32 }
	seen := make([]bool, n)
	base := int32(len(m.nodes))
	m.nodes = append(m.nodes, node{})
	queue := []item{{0, base, 0}}
	var depth int32
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if seen[it.old] {
			return 0, fmt.Errorf("node %d is reached twice: not a tree", it.old)
		}
		seen[it.old] = true
		if it.depth > maxDepth {
			return 0, fmt.Errorf("deeper than %d levels", maxDepth)
		}
		depth = max(depth, it.depth)
		l, r := t.LeftChildren[it.old], t.RightChildren[it.old]
		if l == -1 {
			// XGBoost stores a leaf's value in split_conditions.
			m.nodes[it.pos] = leafNode(it.pos, t.SplitConditions[it.old]*w)
			continue
		}
		if l < 0 || int(l) >= n || r < 0 || int(r) >= n {
			return 0, fmt.Errorf("node %d: children %d, %d outside [0, %d)", it.old, l, r, n)
		}
		f := t.SplitIndices[it.old]
		if f < 0 || int(f) >= m.numFeatures {
			return 0, fmt.Errorf("node %d: split feature %d outside [0, %d)", it.old, f, m.numFeatures)
		}
		child := int32(len(m.nodes))
		m.nodes = append(m.nodes, node{}, node{})
		if math.IsNaN(float64(t.SplitConditions[it.old])) {
			return 0, fmt.Errorf("node %d: split condition is NaN", it.old)
		}
		nd := node{cond: t.SplitConditions[it.old], feat: uint32(f), left: uint32(child)}
		if !t.DefaultLeft[it.old] {
			nd.feat += uint32(m.numFeatures)
		}
		m.nodes[it.pos] = nd
		queue = append(queue, item{l, child, it.depth + 1}, item{r, child + 1, it.depth + 1})
	}
	return depth, nil
}

// leafNode returns the leaf at index pos with value v.
func leafNode(pos int32, v float32) node {
	return node{cond: float32(math.NaN()), left: uint32(pos) - 1, leaf: v}
}
