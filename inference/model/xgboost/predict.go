package xgboost

import (
	"math"

	"github.com/inferstack/inferstack/inference/model/internal/output"
)

// blockTrees is how many trees one row walks together. The walks are independent, so the CPU
// overlaps them instead of waiting on each node load in turn; eight fill the pipeline (see
// BenchmarkPredict).
const blockTrees = 8

// treeBlock is blockTrees consecutive trees, walked together. The last block is padded with a
// tree that is a single zero leaf, which leaves every float32 sum unchanged.
type treeBlock struct {
	roots  [blockTrees]uint32
	groups [blockTrees]int32
	depth  int32 // the deepest of the block's trees
}

// buildBlocks groups the trees into treeBlocks, appending the padding leaf when needed.
func (m *Model) buildBlocks() {
	pad := int32(-1)
	m.blocks = make([]treeBlock, 0, (len(m.roots)+blockTrees-1)/blockTrees)
	for start := 0; start < len(m.roots); start += blockTrees {
		var b treeBlock
		for k := 0; k < blockTrees; k++ {
			t := start + k
			if t >= len(m.roots) {
				if pad < 0 {
					pad = int32(len(m.nodes))
					m.nodes = append(m.nodes, leafNode(pad, 0))
				}
				b.roots[k] = uint32(pad)
				continue
			}
			b.roots[k], b.groups[k] = uint32(m.roots[t]), m.groups[t]
			b.depth = max(b.depth, m.depths[t])
		}
		m.blocks = append(m.blocks, b)
	}
}

// maxStackGroups is the largest output group count whose per-row margins live on the stack.
const maxStackGroups = 32

// maxStackFeatures is the widest row whose float32 copies live on the stack.
const maxStackFeatures = 256

// Predict writes the predictions for the rows of x (row-major, NumFeatures values per row,
// NaN for a missing value) into out, which must hold rows*OutputWidth values: what XGBoost's
// predict() returns for each row. It allocates nothing for models with up to 32 classes and
// 256 features.
func (m *Model) Predict(x []float64, out []float64) error {
	nf, width := m.numFeatures, m.OutputWidth()
	rows, err := output.Rows(x, out, nf, width)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	var marginBuf [maxStackGroups]float32
	var rowBuf [2 * maxStackFeatures]float32
	var margins, row []float32
	if m.numGroups <= maxStackGroups {
		margins = marginBuf[:m.numGroups]
	} else {
		margins = make([]float32, m.numGroups)
	}
	if nf <= maxStackFeatures {
		row = rowBuf[:2*nf]
	} else {
		row = make([]float32, 2*nf)
	}
	for r := 0; r < rows; r++ {
		// XGBoost compares float32 values. The two copies that node describes send missing
		// values to the default side without a test at each step.
		for j, v := range x[r*nf : (r+1)*nf] {
			if v != v {
				row[j], row[nf+j] = float32(math.Inf(-1)), float32(math.Inf(1))
			} else {
				row[j] = float32(v)
				row[nf+j] = row[j]
			}
		}
		m.marginRow(row, margins)
		m.obj.transform.apply(margins, out[r*width:(r+1)*width])
	}
	return nil
}

// marginRow sums the tree outputs for one row (the doubled row node describes) into margins,
// one per output group, in float32 and in tree order starting from base_score, as XGBoost does.
func (m *Model) marginRow(row []float32, margins []float32) {
	copy(margins, m.baseMargin)
	nodes := m.nodes
	for b := range m.blocks {
		blk := &m.blocks[b]
		// Eight walks in eight variables: the compiler keeps them in registers, which it does
		// not do for an array indexed in a loop.
		i0, i1, i2, i3 := blk.roots[0], blk.roots[1], blk.roots[2], blk.roots[3]
		i4, i5, i6, i7 := blk.roots[4], blk.roots[5], blk.roots[6], blk.roots[7]
		for range blk.depth {
			i0 = step(nodes, row, i0)
			i1 = step(nodes, row, i1)
			i2 = step(nodes, row, i2)
			i3 = step(nodes, row, i3)
			i4 = step(nodes, row, i4)
			i5 = step(nodes, row, i5)
			i6 = step(nodes, row, i6)
			i7 = step(nodes, row, i7)
		}
		g := &blk.groups
		margins[g[0]] += nodes[i0].leaf
		margins[g[1]] += nodes[i1].leaf
		margins[g[2]] += nodes[i2].leaf
		margins[g[3]] += nodes[i3].leaf
		margins[g[4]] += nodes[i4].leaf
		margins[g[5]] += nodes[i5].leaf
		margins[g[6]] += nodes[i6].leaf
		margins[g[7]] += nodes[i7].leaf
	}
}

// step moves one walk from node i to the child the row goes to; a leaf stays put.
func step(nodes []node, row []float32, i uint32) uint32 {
	n := &nodes[i]
	var right uint32
	if !(row[n.feat] < n.cond) {
		right = 1
	}
	return n.left + right
}
