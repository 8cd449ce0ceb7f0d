package claims

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
)

// Model is a logistic-regression re-ranker over standardised candidate
// features. Its output is the probability that a candidate is a correct
// match, learnt on labelled candidates, hence a calibrated 0–1 confidence.
type Model struct {
	Features []string  `json:"features"`
	Mean     []float64 `json:"mean"`
	Std      []float64 `json:"std"`
	Weights  []float64 `json:"weights"`
	Bias     float64   `json:"bias"`
	// Trees are boosted on top of the linear margin (see boost.go).
	Trees []Tree `json:"trees,omitempty"`
	// Lo and Hi are each feature's range in training. Score clamps to it
	// (a linear model extrapolates wildly outside what it saw), which
	// also makes UpperBound exact.
	Lo []float64 `json:"lo,omitempty"`
	Hi []float64 `json:"hi,omitempty"`

	// scaled and offset fold the standardisation into the weights, set
	// by ParseModel so scoring is one dot product.
	scaled []float64
	offset float64
	// Provenance: how the model was produced and how it did in
	// cross-validation on the training data.
	Lambda float64 `json:"lambda"`
	// Objective is what the linear part was fitted on: "logistic" (each
	// candidate alone) or "listwise" (each query's candidates together,
	// then calibrated); empty in models from before the choice.
	Objective string `json:"objective,omitempty"`
	// Candidates is the first-stage depth chosen for serving by
	// cross-validation (TrainOptions.Depths); an Index without
	// Options.Candidates uses it.
	Candidates int                `json:"candidates,omitempty"`
	Command    string             `json:"command,omitempty"`
	CV         map[string]float64 `json:"cv,omitempty"`
}

//go:embed model.json
var embeddedModel []byte

// EmbeddedModel returns the trained model committed with the package.
func EmbeddedModel() *Model {
	m, err := ParseModel(embeddedModel)
	if err != nil {
		// The embedded file is checked by TestEmbeddedModel; a build with a
		// broken one still ranks by BM25F rather than failing at run time.
		return bm25Model()
	}
	return m
}

// bm25Model ranks by relative BM25F only.
func bm25Model() *Model {
	m := &Model{Features: featureNames, Mean: make([]float64, nFeatures), Std: make([]float64, nFeatures),
		Weights: make([]float64, nFeatures), Bias: -4}
	for i := range m.Std {
		m.Std[i] = 1
	}
	m.Weights[1] = 5
	return m
}

// ParseModel decodes and checks a model file.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cannot decode model: %w", err)
	}
	if len(m.Features) != nFeatures || len(m.Mean) != nFeatures || len(m.Std) != nFeatures || len(m.Weights) != nFeatures {
		return nil, fmt.Errorf("model has %d features, want %d", len(m.Features), nFeatures)
	}
	for i, f := range m.Features {
		if f != featureNames[i] {
			return nil, fmt.Errorf("model feature %d is %q, want %q", i, f, featureNames[i])
		}
	}
	if len(m.Lo) != len(m.Hi) || len(m.Lo) != 0 && len(m.Lo) != nFeatures {
		return nil, fmt.Errorf("model has %d/%d feature bounds, want %d", len(m.Lo), len(m.Hi), nFeatures)
	}
	for i := range m.Lo {
		if !(m.Lo[i] <= m.Hi[i]) {
			return nil, fmt.Errorf("model feature %d has bounds %g > %g", i, m.Lo[i], m.Hi[i])
		}
	}
	for ti, t := range m.Trees {
		if len(t.Nodes) == 0 {
			return nil, fmt.Errorf("model tree %d is empty", ti)
		}
		for _, n := range t.Nodes {
			if !n.Leaf && (n.Feature < 0 || n.Feature >= nFeatures || n.Left <= 0 || n.Right <= 0 ||
				n.Left >= len(t.Nodes) || n.Right >= len(t.Nodes)) {
				return nil, fmt.Errorf("model tree %d has a bad node", ti)
			}
		}
	}
	m.fold()
	return &m, nil
}

func (m *Model) fold() {
	m.scaled = make([]float64, len(m.Weights))
	m.offset = m.Bias
	for i, w := range m.Weights {
		s := m.Std[i]
		if s == 0 {
			s = 1
		}
		m.scaled[i] = w / s
		m.offset -= w * m.Mean[i] / s
	}
}

// LoadModel reads a model file.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	return ParseModel(b)
}

// Score returns the calibrated probability for feature vector x.
func (m *Model) Score(x []float64) float64 {
	if len(m.Lo) == len(x) {
		var c [nFeatures]float64
		for i, v := range x {
			c[i] = min(max(v, m.Lo[i]), m.Hi[i])
		}
		x = c[:len(x)]
	}
	z := m.margin(x)
	for i := range m.Trees {
		z += m.Trees[i].eval(x)
	}
	return 1 / (1 + math.Exp(-z))
}

// UpperBound returns the highest Score any x' can get that agrees with x
// on the known features, the others ranging over the training range. It
// is exact for the linear part and walks both branches of a tree split on
// an unknown feature. A model without ranges cannot bound: it returns 1.
func (m *Model) UpperBound(x []float64, known []bool) float64 {
	z, ok := m.upperMargin(x, known)
	if !ok {
		return 1
	}
	return 1 / (1 + math.Exp(-z))
}

// upperMargin is UpperBound's log-odds; ok is false when the model cannot
// bound.
func (m *Model) upperMargin(x []float64, known []bool) (z float64, ok bool) {
	if len(m.Lo) != len(x) || len(m.scaled) != len(x) {
		return 0, false
	}
	z = m.offset
	for i, w := range m.scaled {
		switch {
		case known[i]:
			z += w * min(max(x[i], m.Lo[i]), m.Hi[i])
		case w > 0:
			z += w * m.Hi[i]
		default:
			z += w * m.Lo[i]
		}
	}
	for i := range m.Trees {
		z += m.Trees[i].maxEval(x, known, m.Lo, m.Hi, 0, 0)
	}
	return z, true
}

// marginBase is upperMargin's part that does not depend on x: the offset
// plus the unknown features at their extremes; ok as upperMargin's (n
// features). prune computes it once per post rather than per candidate.
func (m *Model) marginBase(n int, known []bool) (z float64, ok bool) {
	if len(m.Lo) != n || len(m.scaled) != n {
		return 0, false
	}
	z = m.offset
	for i, w := range m.scaled {
		switch {
		case known[i]:
		case w > 0:
			z += w * m.Hi[i]
		default:
			z += w * m.Lo[i]
		}
	}
	return z, true
}

// boundBelowBase is boundBelow given marginBase's z0. Its log-odds sum
// in another order than upperMargin's, which moves them by some ulps: the
// cut's margin (1e-6) absorbs that, and near the cut the bound is
// computed as boundBelow does, so the answer is the same.
func (m *Model) boundBelowBase(z0 float64, x []float64, known []bool, minScore float64, cut cutoff) bool {
	if !cut.ok {
		return m.boundBelow(x, known, minScore, cut)
	}
	z := z0
	for i, w := range m.scaled {
		if known[i] {
			v := x[i]
			if v < m.Lo[i] {
				v = m.Lo[i]
			}
			if v > m.Hi[i] {
				v = m.Hi[i]
			}
			z += w * v
		}
	}
	for i := range m.Trees {
		z += m.Trees[i].maxEval(x, known, m.Lo, m.Hi, 0, 0)
	}
	if z < cut.lo {
		return true
	}
	if z > cut.hi {
		return false
	}
	return m.UpperBound(x, known) < minScore
}

// boundBelow reports whether UpperBound(x, known) < minScore, deciding by
// comparing the log-odds with logit(minScore) (cut, from cutoff) when they
// are far apart and computing the bound only near the cut: the same
// answer without an exp per candidate.
func (m *Model) boundBelow(x []float64, known []bool, minScore float64, cut cutoff) bool {
	if z, ok := m.upperMargin(x, known); ok && cut.ok {
		if z < cut.lo {
			return true
		}
		if z > cut.hi {
			return false
		}
	}
	return m.UpperBound(x, known) < minScore
}

// cutoff brackets logit(minScore) by a margin far wider than the rounding
// of the logistic function, for minScores where its slope keeps the
// margin meaningful.
type cutoff struct {
	lo, hi float64
	ok     bool
}

func newCutoff(minScore float64) cutoff {
	if !(minScore >= 1e-3 && minScore <= 1-1e-3) {
		return cutoff{}
	}
	// The logistic's slope at the cut is at least 1e-3, so 1e-6 in
	// log-odds moves the score by ≥1e-9, some 10^7 ulps.
	l := math.Log(minScore / (1 - minScore))
	return cutoff{lo: l - 1e-6, hi: l + 1e-6, ok: true}
}

// setRange records each feature's range over the training rows.
func (m *Model) setRange(X [][]float64) {
	if len(X) == 0 {
		return
	}
	m.Lo, m.Hi = slices.Clone(X[0]), slices.Clone(X[0])
	for _, x := range X {
		for j, v := range x {
			m.Lo[j], m.Hi[j] = min(m.Lo[j], v), max(m.Hi[j], v)
		}
	}
}

// margin is the linear part of the log-odds.
func (m *Model) margin(x []float64) float64 {
	if len(m.scaled) == len(x) {
		z := m.offset
		for i, w := range m.scaled {
			z += w * x[i]
		}
		return z
	}
	z := m.Bias
	for i, w := range m.Weights {
		s := m.Std[i]
		if s == 0 {
			s = 1
		}
		z += w * (x[i] - m.Mean[i]) / s
	}
	return z
}

// fitLogistic fits weights by Newton's method with an L2 penalty lambda on
// standardised features: 19 features make the Hessian tiny, and Newton
// converges in a few deterministic steps without a learning rate to tune.
func fitLogistic(X [][]float64, y []float64, lambda float64) (*Model, error) {
	if len(X) == 0 {
		return nil, errors.New("no training examples")
	}
	m := standardised(X, lambda)
	d := len(m.Weights)
	Z := make([][]float64, len(X))
	for i, x := range X {
		z := make([]float64, d+1)
		for j := range d {
			z[j] = (x[j] - m.Mean[j]) / m.Std[j]
		}
		z[d] = 1
		Z[i] = z
	}
	w := make([]float64, d+1)
	n := d + 1
	for iter := 0; iter < 50; iter++ {
		g := make([]float64, n)
		H := make([][]float64, n)
		for j := range H {
			H[j] = make([]float64, n)
		}
		for i, z := range Z {
			s := 0.0
			for j := range n {
				s += w[j] * z[j]
			}
			p := 1 / (1 + math.Exp(-s))
			r := p - y[i]
			v := max(p*(1-p), 1e-9)
			for j := range n {
				g[j] += r * z[j]
				for k := 0; k <= j; k++ {
					H[j][k] += v * z[j] * z[k]
				}
			}
		}
		for j := range n {
			for k := 0; k < j; k++ {
				H[k][j] = H[j][k]
			}
			if j < d { // the bias is not penalised
				g[j] += lambda * w[j]
				H[j][j] += lambda
			}
			H[j][j] += 1e-9
		}
		step, err := solve(H, g)
		if err != nil {
			return nil, err
		}
		delta := 0.0
		for j := range n {
			w[j] -= step[j]
			delta = max(delta, math.Abs(step[j]))
		}
		if delta < 1e-7 {
			break
		}
	}
	copy(m.Weights, w[:d])
	m.Bias = w[d]
	return m, nil
}

// standardised returns a model with X's column means and standard
// deviations and zero weights.
func standardised(X [][]float64, lambda float64) *Model {
	d := len(X[0])
	m := &Model{Features: featureNames, Mean: make([]float64, d), Std: make([]float64, d), Weights: make([]float64, d), Lambda: lambda, Objective: objectiveLogistic}
	for _, x := range X {
		for j := range d {
			m.Mean[j] += x[j]
		}
	}
	for j := range d {
		m.Mean[j] /= float64(len(X))
	}
	for _, x := range X {
		for j := range d {
			v := x[j] - m.Mean[j]
			m.Std[j] += v * v
		}
	}
	for j := range d {
		m.Std[j] = math.Sqrt(m.Std[j] / float64(len(X)))
		if m.Std[j] < 1e-9 {
			m.Std[j] = 1
		}
	}
	return m
}

// solve solves A x = b by Gaussian elimination with partial pivoting.
func solve(A [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	M := make([][]float64, n)
	for i := range M {
		M[i] = append(append([]float64{}, A[i]...), b[i])
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(M[r][c]) > math.Abs(M[p][c]) {
				p = r
			}
		}
		if math.Abs(M[p][c]) < 1e-12 {
			return nil, errors.New("singular system in logistic fit")
		}
		M[c], M[p] = M[p], M[c]
		for r := c + 1; r < n; r++ {
			f := M[r][c] / M[c][c]
			for k := c; k <= n; k++ {
				M[r][k] -= f * M[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := M[r][n]
		for k := r + 1; k < n; k++ {
			s -= M[r][k] * x[k]
		}
		x[r] = s / M[r][r]
	}
	return x, nil
}
