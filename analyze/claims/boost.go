package claims

import (
	"math"
	"slices"
)

// Tree is one depth-limited regression tree of the boosted part of the
// re-ranker. Nodes[0] is the root; a node with Leaf set returns Value,
// otherwise x[Feature] <= Threshold goes to Left, else to Right.
type Tree struct {
	Nodes []Node `json:"nodes"`
}

// Node is a tree node.
type Node struct {
	Feature   int     `json:"f,omitempty"`
	Threshold float64 `json:"t,omitempty"`
	Left      int     `json:"l,omitempty"`
	Right     int     `json:"r,omitempty"`
	Leaf      bool    `json:"leaf,omitempty"`
	Value     float64 `json:"v,omitempty"`
}

func (t *Tree) eval(x []float64) float64 {
	i := 0
	for range 64 { // bounded walk: a malformed file cannot loop forever
		n := &t.Nodes[i]
		if n.Leaf {
			return n.Value
		}
		if x[n.Feature] <= n.Threshold {
			i = n.Left
		} else {
			i = n.Right
		}
		if i <= 0 || i >= len(t.Nodes) {
			return 0
		}
	}
	return 0
}

// maxEval is the largest value the tree can return for an x that agrees
// with the known features (clamped to lo..hi); an unknown feature follows
// every branch its range allows.
func (t *Tree) maxEval(x []float64, known []bool, lo, hi []float64, i, depth int) float64 {
	if i < 0 || i >= len(t.Nodes) || depth > 64 {
		return 0
	}
	n := &t.Nodes[i]
	if n.Leaf {
		return n.Value
	}
	if known[n.Feature] {
		if min(max(x[n.Feature], lo[n.Feature]), hi[n.Feature]) <= n.Threshold {
			return t.maxEval(x, known, lo, hi, n.Left, depth+1)
		}
		return t.maxEval(x, known, lo, hi, n.Right, depth+1)
	}
	best := math.Inf(-1)
	if lo[n.Feature] <= n.Threshold {
		best = t.maxEval(x, known, lo, hi, n.Left, depth+1)
	}
	if hi[n.Feature] > n.Threshold {
		best = max(best, t.maxEval(x, known, lo, hi, n.Right, depth+1))
	}
	return best
}

// boostParams control gradient boosting of trees on top of the logistic
// margin: the linear model carries the main effects, the trees add the
// interactions it cannot express ("high BM25 but no shared number").
type boostParams struct {
	rounds    int
	depth     int
	shrinkage float64
	lambda    float64 // L2 on leaf values
	minHess   float64 // minimum hessian mass in a leaf
	bins      int
}

var defaultBoost = boostParams{depth: 2, shrinkage: 0.1, lambda: 1, minHess: 5, bins: 32}

// binner maps feature values to quantile bins.
type binner struct {
	cuts [][]float64 // per feature, ascending thresholds
}

func newBinner(X [][]float64, bins int) binner {
	d := len(X[0])
	b := binner{cuts: make([][]float64, d)}
	col := make([]float64, len(X))
	for f := range d {
		for i, x := range X {
			col[i] = x[f]
		}
		slices.Sort(col)
		var cuts []float64
		for q := 1; q < bins; q++ {
			v := col[q*len(col)/bins]
			if len(cuts) == 0 || v > cuts[len(cuts)-1] {
				cuts = append(cuts, v)
			}
		}
		b.cuts[f] = cuts
	}
	return b
}

// bin returns the index of the first cut >= v, so bin k holds values
// in (cuts[k-1], cuts[k]] and "v <= cuts[k]" is the split for bins ≤ k.
func (b binner) bin(f int, v float64) uint8 {
	i, _ := slices.BinarySearch(b.cuts[f], v)
	return uint8(i)
}

// boost fits p.rounds trees to the logistic loss starting from margins
// base. after(r, trees) is called after each round for early evaluation.
func boost(X [][]float64, y, base []float64, p boostParams, after func(r int, trees []Tree)) []Tree {
	n, d := len(X), len(X[0])
	bn := newBinner(X, p.bins)
	B := make([][]uint8, n)
	for i, x := range X {
		B[i] = make([]uint8, d)
		for f := range d {
			B[i][f] = bn.bin(f, x[f])
		}
	}
	margin := slices.Clone(base)
	g, h := make([]float64, n), make([]float64, n)
	var trees []Tree
	idx := make([]int, n)
	for r := range p.rounds {
		for i := range n {
			pr := 1 / (1 + math.Exp(-margin[i]))
			g[i], h[i] = pr-y[i], max(pr*(1-pr), 1e-9)
			idx[i] = i
		}
		var t Tree
		t.grow(idx, 0, X, B, g, h, bn, p)
		for i := range n {
			margin[i] += t.eval(X[i])
		}
		trees = append(trees, t)
		if after != nil {
			after(r+1, trees)
		}
	}
	return trees
}

// grow adds the subtree for samples idx and returns its node index.
func (t *Tree) grow(idx []int, depth int, X [][]float64, B [][]uint8, g, h []float64, bn binner, p boostParams) int {
	var G, H float64
	for _, i := range idx {
		G += g[i]
		H += h[i]
	}
	me := len(t.Nodes)
	t.Nodes = append(t.Nodes, Node{Leaf: true, Value: -G / (H + p.lambda) * p.shrinkage})
	if depth >= p.depth || H < 2*p.minHess {
		return me
	}
	bestGain, bestF, bestK := 1e-9, -1, 0
	parent := G * G / (H + p.lambda)
	gb := make([]float64, p.bins+1)
	hb := make([]float64, p.bins+1)
	for f := range len(X[0]) {
		clear(gb)
		clear(hb)
		for _, i := range idx {
			gb[B[i][f]] += g[i]
			hb[B[i][f]] += h[i]
		}
		var gl, hl float64
		for k := 0; k < len(bn.cuts[f]); k++ {
			gl += gb[k]
			hl += hb[k]
			gr, hr := G-gl, H-hl
			if hl < p.minHess || hr < p.minHess {
				continue
			}
			gain := gl*gl/(hl+p.lambda) + gr*gr/(hr+p.lambda) - parent
			if gain > bestGain {
				bestGain, bestF, bestK = gain, f, k
			}
		}
	}
	if bestF < 0 {
		return me
	}
	var left, right []int
	for _, i := range idx {
		if int(B[i][bestF]) <= bestK {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	t.Nodes[me] = Node{Feature: bestF, Threshold: bn.cuts[bestF][bestK]}
	l := t.grow(left, depth+1, X, B, g, h, bn, p)
	r := t.grow(right, depth+1, X, B, g, h, bn, p)
	t.Nodes[me].Left, t.Nodes[me].Right = l, r
	return me
}
