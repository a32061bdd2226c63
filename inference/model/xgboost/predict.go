package xgboost

import (
	"math"
	"unsafe"

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

// maxStackGroups is the largest output count whose per-row margins live on the stack.
const maxStackGroups = 32

// maxStackFeatures is the widest row whose float32 copies live on the stack.
const maxStackFeatures = 256

// Predict writes the predictions for the rows of x (row-major, NumFeatures values per row,
// NaN for a missing value) into out, which must hold rows*OutputWidth values: what XGBoost's
// predict() returns for each row. It allocates nothing for models with up to 32 outputs and
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
	if m.general {
		m.predictGeneral(x, out, rows)
		return nil
	}
	r := 0
	if m.linear == nil && rows >= blockRows {
		r = m.predictBlocks(x, out, rows)
	}
	var marginBuf [maxStackGroups]float32
	var rowBuf [2 * maxStackFeatures]float32
	margins, row := m.buffers(marginBuf[:], rowBuf[:])
	for ; r < rows; r++ {
		doubleRow(row, x[r*nf:(r+1)*nf])
		if m.linear != nil {
			m.marginLinear(row, margins)
		} else {
			m.marginRow(row, margins)
		}
		m.finish(margins, out[r*width:(r+1)*width])
	}
	return nil
}

// predictGeneral is Predict for models with categorical splits or vector leaves; apart so that
// the fast path does not pay for clearing the codes buffer on the stack.
func (m *Model) predictGeneral(x []float64, out []float64, rows int) {
	nf, width := m.numFeatures, m.OutputWidth()
	var marginBuf [maxStackGroups]float32
	var rowBuf [2 * maxStackFeatures]float32
	var codeBuf [2 * maxStackFeatures]uint32
	margins, row := m.buffers(marginBuf[:], rowBuf[:])
	codes := codeBuf[:]
	if 2*nf > len(codes) {
		codes = make([]uint32, 2*nf)
	}
	for r := 0; r < rows; r++ {
		doubleRow(row, x[r*nf:(r+1)*nf])
		m.rowCodes(row, codes)
		m.marginGeneral(row, codes, margins)
		m.finish(margins, out[r*width:(r+1)*width])
	}
}

// buffers returns the per-row margins and doubled row, in the stack buffers given when they
// fit.
func (m *Model) buffers(marginBuf, rowBuf []float32) (margins, row []float32) {
	margins, row = marginBuf, rowBuf
	if m.numGroups > len(margins) {
		margins = make([]float32, m.numGroups)
	}
	if 2*m.numFeatures > len(row) {
		row = make([]float32, 2*m.numFeatures)
	}
	return margins[:m.numGroups], row[:2*m.numFeatures]
}

// doubleRow writes x as the two float32 copies node describes: XGBoost compares float32
// values, and the copies send missing values to the default side without a test at each step.
func doubleRow(row []float32, x []float64) {
	nf := len(x)
	for j, v := range x {
		if v != v {
			row[j], row[nf+j] = float32(math.Inf(-1)), float32(math.Inf(1))
		} else {
			row[j] = float32(v)
			row[nf+j] = row[j]
		}
	}
}

// finish applies the objective's transform (and 3.4's quantile sort) to one row's margins.
func (m *Model) finish(margins []float32, o []float64) {
	m.obj.transform.apply(margins, o)
	if m.sortOutputs {
		sortFloats(o)
	}
}

// sortFloats sorts a row's outputs ascending by insertion, as XGBoost 3.4's quantile
// PredTransform does (the rows are a handful of values).
func sortFloats(o []float64) {
	for i := 1; i < len(o); i++ {
		v, pos := o[i], i
		for pos > 0 && o[pos-1] > v {
			o[pos] = o[pos-1]
			pos--
		}
		o[pos] = v
	}
}

// marginLinear is gblinear's prediction (GBLinear::Pred in src/gbm/gblinear.cc): per output,
// bias plus the first base margin, then weight times value for each present feature in order,
// in float32. XGBoost adds base_score(0) to every output, also for multi-class models.
func (m *Model) marginLinear(row []float32, margins []float32) {
	nf, ng := m.numFeatures, m.numGroups
	w := m.linear
	for g := range margins {
		psum := w[nf*ng+g] + m.baseMargin[0]
		for j := 0; j < nf; j++ {
			v := row[j]
			if v != row[nf+j] { // missing: the two copies differ (-Inf, +Inf)
				continue
			}
			// The conversion keeps the product rounded to float32 before the sum, as in C++.
			psum += float32(v * w[j*ng+g])
		}
		margins[g] = psum
	}
}

// noCategory is the code of a value no category set holds: it reads catSet's zero word.
const noCategory = math.MaxUint32

// rowCodes writes, for each feature a categorical split reads, the row's value as the code
// catSet's bits are indexed by, in the same two copies as the row: code k as k+1; a missing
// value as noCategory in the first copy (left) and 0 in the second (bit 0 is set: right); what
// common::Decision sends left (negative, from 2^24) as noCategory in both. A fractional code
// is truncated, as XGBoost's cast to an integer does (src/common/categorical.h, the same in
// 1.7.4, 2.1.4 and 3.4.1).
func (m *Model) rowCodes(row []float32, codes []uint32) {
	nf := m.numFeatures
	for _, f := range m.catFeatures {
		v := row[f]
		switch {
		case v != row[nf+int(f)]: // missing: the copies are -Inf and +Inf
			codes[f], codes[nf+int(f)] = noCategory, 0
		case v >= 0 && v < maxCategory:
			codes[f] = uint32(v) + 1
			codes[nf+int(f)] = codes[f]
		default:
			codes[f], codes[nf+int(f)] = noCategory, noCategory
		}
	}
}

// marginGeneral is marginRow for models with categorical splits or vector leaves: the same
// blocks of eight walks, each step testing the kind of split. Leaves are added in tree order,
// as XGBoost adds them.
func (m *Model) marginGeneral(row []float32, codes []uint32, margins []float32) {
	copy(margins, m.baseMargin)
	nodes, sets, bits := m.nodes, m.catSets, m.catBits
	var at [blockTrees]uint32
	for b := range m.blocks {
		blk := &m.blocks[b]
		i0, i1, i2, i3 := blk.roots[0], blk.roots[1], blk.roots[2], blk.roots[3]
		i4, i5, i6, i7 := blk.roots[4], blk.roots[5], blk.roots[6], blk.roots[7]
		if len(sets) == 0 { // vector leaves only: the branch-free step
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
		} else {
			for range blk.depth {
				i0 = stepGeneral(nodes, row, codes, sets, bits, i0)
				i1 = stepGeneral(nodes, row, codes, sets, bits, i1)
				i2 = stepGeneral(nodes, row, codes, sets, bits, i2)
				i3 = stepGeneral(nodes, row, codes, sets, bits, i3)
				i4 = stepGeneral(nodes, row, codes, sets, bits, i4)
				i5 = stepGeneral(nodes, row, codes, sets, bits, i5)
				i6 = stepGeneral(nodes, row, codes, sets, bits, i6)
				i7 = stepGeneral(nodes, row, codes, sets, bits, i7)
			}
		}
		at = [blockTrees]uint32{i0, i1, i2, i3, i4, i5, i6, i7}
		for k, i := range at {
			leaf := &nodes[i]
			if g := blk.groups[k]; g >= 0 {
				margins[g] += math.Float32frombits(leaf.val)
				continue
			}
			vals := m.leafVectors[leaf.val:]
			vals = vals[:len(margins)]
			for j := range margins {
				margins[j] += vals[j]
			}
		}
	}
}

// stepGeneral is step for a node that may be a categorical split. A categorical split goes
// right when the row's code (rowCodes, from the copy feat selects by the default direction) is
// in its set; codes beyond the set read the set's trailing zero word.
func stepGeneral(nodes []node, row []float32, codes []uint32, sets []catSet, bits []uint32, i uint32) uint32 {
	n := &nodes[i]
	if n.feat&catFlag == 0 {
		var right uint32
		if !(row[n.feat] < n.cond) {
			right = 1
		}
		return n.left + right
	}
	s := sets[n.val]
	c := codes[n.feat&^catFlag]
	return n.left + (bits[s.off+min(c>>5, s.words)]>>(c&31))&1
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
		margins[g[0]] += math.Float32frombits(nodes[i0].val)
		margins[g[1]] += math.Float32frombits(nodes[i1].val)
		margins[g[2]] += math.Float32frombits(nodes[i2].val)
		margins[g[3]] += math.Float32frombits(nodes[i3].val)
		margins[g[4]] += math.Float32frombits(nodes[i4].val)
		margins[g[5]] += math.Float32frombits(nodes[i5].val)
		margins[g[6]] += math.Float32frombits(nodes[i6].val)
		margins[g[7]] += math.Float32frombits(nodes[i7].val)
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

// blockRows is how many rows walk each tree together on the batch path. One tree's nodes then
// serve eight rows while they are in the L1 cache, instead of every row streaming the whole
// ensemble (200 kB for 100 trees of depth 6) through it; the eight walks are independent, so
// the CPU overlaps their loads as it does the eight trees of marginRow.
const blockRows = 8

// predictBlocks predicts the rows of x in whole blocks of blockRows and returns how many rows
// it did. Each row's margins are still summed in tree order from base_score, as marginRow sums
// them, so the results are the same bits.
func (m *Model) predictBlocks(x []float64, out []float64, rows int) int {
	nf, ng, width := m.numFeatures, m.numGroups, m.OutputWidth()
	var marginBuf [blockRows * maxStackGroups]float32
	var blockBuf [blockRows * 2 * maxStackFeatures]float32
	margins, block := marginBuf[:], blockBuf[:]
	if ng > maxStackGroups {
		margins = make([]float32, blockRows*ng)
	}
	if nf > maxStackFeatures {
		block = make([]float32, blockRows*2*nf)
	}
	margins, block = margins[:blockRows*ng], block[:blockRows*2*nf]
	done := rows - rows%blockRows
	for r := 0; r < done; r += blockRows {
		for k := range blockRows {
			doubleRowInto(block, k, x[(r+k)*nf:(r+k+1)*nf])
			copy(margins[k*ng:(k+1)*ng], m.baseMargin)
		}
		m.marginBlock(block, margins)
		for k := range blockRows {
			m.finish(margins[k*ng:(k+1)*ng], out[(r+k)*width:(r+k+1)*width])
		}
	}
	return done
}

// doubleRowInto is doubleRow for row k of a block: value j of the doubled row goes to
// block[j*blockRows+k], so that the rows' copies of one feature share a cache line and one
// base address serves all eight walks.
func doubleRowInto(block []float32, k int, x []float64) {
	nf := len(x)
	lo, hi := block[k:], block[nf*blockRows+k:]
	for j, v := range x {
		a, b := float32(v), float32(v)
		if v != v {
			a, b = float32(math.Inf(-1)), float32(math.Inf(1))
		}
		lo[j*blockRows], hi[j*blockRows] = a, b
	}
}

// marginBlock adds every tree's leaf for each of the blockRows rows of block (doubleRowInto's
// layout) to that row's margins (numGroups apart), tree by tree.
func (m *Model) marginBlock(block []float32, margins []float32) {
	ng := m.numGroups
	m0, m1, m2, m3 := margins[0*ng:1*ng], margins[1*ng:2*ng], margins[2*ng:3*ng], margins[3*ng:4*ng]
	m4, m5, m6, m7 := margins[4*ng:5*ng], margins[5*ng:6*ng], margins[6*ng:7*ng], margins[7*ng:8*ng]
	if len(block) < blockRows*2*m.numFeatures {
		panic("xgboost: block too short") // stepBlock's reads rely on it
	}
	nodes, vals := unsafe.Pointer(unsafe.SliceData(m.nodes)), unsafe.Pointer(unsafe.SliceData(block))
	for t, root := range m.roots {
		i0, i1, i2, i3 := uint32(root), uint32(root), uint32(root), uint32(root)
		i4, i5, i6, i7 := i0, i0, i0, i0
		for range m.depths[t] {
			i0 = stepBlock(nodes, vals, i0, 0)
			i1 = stepBlock(nodes, vals, i1, 1)
			i2 = stepBlock(nodes, vals, i2, 2)
			i3 = stepBlock(nodes, vals, i3, 3)
			i4 = stepBlock(nodes, vals, i4, 4)
			i5 = stepBlock(nodes, vals, i5, 5)
			i6 = stepBlock(nodes, vals, i6, 6)
			i7 = stepBlock(nodes, vals, i7, 7)
		}
		g := m.groups[t]
		m0[g] += leafValue(nodes, i0)
		m1[g] += leafValue(nodes, i1)
		m2[g] += leafValue(nodes, i2)
		m3[g] += leafValue(nodes, i3)
		m4[g] += leafValue(nodes, i4)
		m5[g] += leafValue(nodes, i5)
		m6[g] += leafValue(nodes, i6)
		m7[g] += leafValue(nodes, i7)
	}
}

// stepBlock is step for walk k of a block, without bounds checks: appendTree makes every
// child index a node of the array and every feat (leaves: 0) a position below twice the
// feature count, and marginBlock checks the block holds that many values per row.
func stepBlock(nodes, vals unsafe.Pointer, i uint32, k uintptr) uint32 {
	n := (*node)(unsafe.Add(nodes, uintptr(i)*unsafe.Sizeof(node{})))
	v := *(*float32)(unsafe.Add(vals, (uintptr(n.feat)*blockRows+k)*4))
	var right uint32
	if !(v < n.cond) {
		right = 1
	}
	return n.left + right
}

// leafValue is the value of the scalar leaf at index i (a walk's end in stepBlock).
func leafValue(nodes unsafe.Pointer, i uint32) float32 {
	return math.Float32frombits((*node)(unsafe.Add(nodes, uintptr(i)*unsafe.Sizeof(node{}))).val)
}
