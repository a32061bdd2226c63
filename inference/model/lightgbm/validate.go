package lightgbm

import (
	"fmt"
	"strconv"
	"strings"
)

// checkTrees verifies the structure of every tree of a LightGBM text model before leaves reads
// it: leaves trusts the file, so a child index that loops back makes its predict spin forever and
// an out-of-range feature makes it panic (both found by FuzzParse). Like leaves, it takes each
// blank-line-separated block after the header as a tree, whether or not it has a "Tree=" line.
func checkTrees(text string, numFeatures int) error {
	block := map[string]string{}
	n := 0
	flush := func() error {
		if _, isTree := block["num_leaves"]; isTree {
			if err := checkTree(block, numFeatures); err != nil {
				name := fmt.Sprintf("tree block %d", n)
				if id, ok := block["Tree"]; ok {
					name = "tree " + id
				}
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if len(block) > 0 {
			n++
			block = map[string]string{}
		}
		return nil
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		block[k] = v
	}
	return flush()
}

func count(tree map[string]string, key string, want int) error {
	if n := len(strings.Fields(tree[key])); n != want {
		return fmt.Errorf("%s has %d values, want %d", key, n, want)
	}
	return nil
}

func ints(tree map[string]string, key string, want int) ([]int, error) {
	fields := strings.Fields(tree[key])
	if len(fields) != want {
		return nil, fmt.Errorf("%s has %d values, want %d", key, len(fields), want)
	}
	out := make([]int, len(fields))
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s[%d] %q: want an integer", key, i, f)
		}
		out[i] = n
	}
	return out, nil
}

// checkTree checks one tree: internal nodes 0..num_leaves-2, children either internal nodes or
// leaves (encoded as ^leaf), every node and leaf reached exactly once from the root, and split
// features inside the row.
func checkTree(tree map[string]string, numFeatures int) error {
	leaves, err := strconv.Atoi(tree["num_leaves"])
	if err != nil || leaves < 1 {
		return fmt.Errorf("num_leaves %q: want a positive integer", tree["num_leaves"])
	}
	if err := count(tree, "leaf_value", leaves); err != nil {
		return err
	}
	if leaves == 1 {
		return nil
	}
	internal := leaves - 1
	left, err := ints(tree, "left_child", internal)
	if err != nil {
		return err
	}
	right, err := ints(tree, "right_child", internal)
	if err != nil {
		return err
	}
	features, err := ints(tree, "split_feature", internal)
	if err != nil {
		return err
	}
	for _, key := range []string{"threshold", "decision_type"} {
		if err := count(tree, key, internal); err != nil {
			return err
		}
	}
	seenNode := make([]bool, internal)
	seenLeaf := make([]bool, leaves)
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seenNode[i] {
			return fmt.Errorf("node %d is reached twice: not a tree", i)
		}
		seenNode[i] = true
		if f := features[i]; f < 0 || f >= numFeatures {
			return fmt.Errorf("node %d: split feature %d outside [0, %d)", i, f, numFeatures)
		}
		for _, c := range []int{left[i], right[i]} {
			switch {
			case c >= internal:
				return fmt.Errorf("node %d: child %d outside [0, %d)", i, c, internal)
			case c >= 0:
				stack = append(stack, c)
			case ^c >= leaves:
				return fmt.Errorf("node %d: leaf %d outside [0, %d)", i, ^c, leaves)
			case seenLeaf[^c]:
				return fmt.Errorf("leaf %d is reached twice: not a tree", ^c)
			default:
				seenLeaf[^c] = true
			}
		}
	}
	for i, seen := range seenNode {
		if !seen {
			return fmt.Errorf("node %d is not reachable from the root", i)
		}
	}
	return nil
}
