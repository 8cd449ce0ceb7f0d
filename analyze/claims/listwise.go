package claims

import (
	"errors"
	"fmt"
	"math"
)

// Objectives the re-ranker's linear part can be fitted with (Model.Objective).
const (
	// objectiveLogistic fits each candidate on its own: is it a match?
	objectiveLogistic = "logistic"
	// objectiveListwise fits each query's candidates together: a softmax
	// over them should put its mass on the right facts. Ranking is what
	// MAP@5 measures, and a pointwise fit spends weight on telling apart
	// candidates of different queries, which never compete.
	objectiveListwise = "listwise"
)

// fitListwise fits weights for the candidates served at depth (labelled.rows)
// of every query outside fold k (all if k < 0) by Newton's method on the softmax
// cross-entropy (ListNet's top-one loss) with an L2 penalty lambda on
// standardised features. A softmax has no use for a bias, and its margins
// are no probabilities, so a Platt scaling is fitted on the result to
// turn them back into a calibrated confidence (see plattScale).
func fitListwise(data []labelled, k, depth int, lambda float64) (*Model, error) {
	X, y := examples(data, k, depth)
	if len(X) == 0 {
		return nil, errors.New("no training examples")
	}
	m := standardised(X, lambda)
	d := len(m.Weights)
	// Queries as ranges of standardised rows, only those with a right
	// fact among their candidates: the others carry no ranking signal.
	type group struct {
		z [][]float64
		t []float64
	}
	var groups []group
	for _, l := range data {
		if k >= 0 && l.fold == k {
			continue
		}
		rows := l.rows(depth)
		rel := 0.0
		for _, i := range rows {
			rel += l.y[i]
		}
		if rel == 0 {
			continue
		}
		g := group{z: make([][]float64, len(rows)), t: make([]float64, len(rows))}
		for r, i := range rows {
			z := make([]float64, d)
			for j := range d {
				z[j] = (l.x[i][j] - m.Mean[j]) / m.Std[j]
			}
			g.z[r], g.t[r] = z, l.y[i]/rel
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil, errors.New("no training query has a right fact among its candidates")
	}
	w := make([]float64, d)
	loss := func(w []float64) float64 {
		s := 0.0
		for _, g := range groups {
			lse, sc := logSumExp(g.z, w)
			for i, t := range g.t {
				if t > 0 {
					s -= t * (sc[i] - lse)
				}
			}
		}
		for _, v := range w {
			s += lambda / 2 * v * v
		}
		return s
	}
	cur := loss(w)
	for range 50 {
		grad := make([]float64, d)
		H := make([][]float64, d)
		for j := range H {
			H[j] = make([]float64, d)
		}
		mean := make([]float64, d)
		for _, g := range groups {
			lse, sc := logSumExp(g.z, w)
			clear(mean)
			for i, z := range g.z {
				p := math.Exp(sc[i] - lse)
				for j := range d {
					grad[j] += (p - g.t[i]) * z[j]
					mean[j] += p * z[j]
					for q := 0; q <= j; q++ {
						H[j][q] += p * z[j] * z[q]
					}
				}
			}
			for j := range d {
				for q := 0; q <= j; q++ {
					H[j][q] -= mean[j] * mean[q]
				}
			}
		}
		for j := range d {
			for q := 0; q < j; q++ {
				H[q][j] = H[j][q]
			}
			grad[j] += lambda * w[j]
			H[j][j] += lambda + 1e-9
		}
		step, err := solve(H, grad)
		if err != nil {
			return nil, err
		}
		// Damped: halve the step until the loss goes down, so a nearly
		// separable fold cannot overshoot.
		next := make([]float64, d)
		improved := false
		for f := 1.0; f > 1e-6; f /= 2 {
			for j := range d {
				next[j] = w[j] - f*step[j]
			}
			if l := loss(next); l <= cur {
				cur, improved = l, true
				break
			}
		}
		if !improved {
			break
		}
		delta := 0.0
		for j := range d {
			delta = max(delta, math.Abs(next[j]-w[j]))
		}
		copy(w, next)
		if delta < 1e-7 {
			break
		}
	}
	copy(m.Weights, w)
	m.Objective = objectiveListwise
	if err := plattScale(m, X, y); err != nil {
		return nil, err
	}
	return m, nil
}

// logSumExp returns log Σ exp(w·z) over the rows and each row's w·z.
func logSumExp(Z [][]float64, w []float64) (float64, []float64) {
	sc := make([]float64, len(Z))
	top := math.Inf(-1)
	for i, z := range Z {
		s := 0.0
		for j, v := range w {
			s += v * z[j]
		}
		sc[i] = s
		top = max(top, s)
	}
	sum := 0.0
	for _, s := range sc {
		sum += math.Exp(s - top)
	}
	return top + math.Log(sum), sc
}

// queryLevel are the features that are the same for every candidate of a
// post (its length, its language). A softmax over one post's candidates
// cannot use them, so the listwise fit leaves them at zero; they matter
// for calibration (a Vietnamese post's scores sit on another scale than
// an English tweet's), so plattScale fits them.
var queryLevel = []int{18, 21}

// plattScale turns m's margins into calibrated log-odds: it fits
// y ~ sigmoid(a·margin + Σ c_j·x_j + b) over the rows, x_j the
// query-level features, and folds a, c and b into the weights and bias,
// so scoring and its bounds stay one dot product. The ranking within a
// post is unchanged: a > 0, and the rest is the same for its candidates.
func plattScale(m *Model, X [][]float64, y []float64) error {
	m.fold()
	M := make([][]float64, len(X))
	for i, x := range X {
		r := []float64{m.margin(x)}
		for _, j := range queryLevel {
			r = append(r, x[j])
		}
		M[i] = r
	}
	p, err := fitLogistic(M, y, 1e-6)
	if err != nil {
		return fmt.Errorf("cannot calibrate: %w", err)
	}
	slope := func(k int) float64 { return p.Weights[k] / p.Std[k] }
	b := p.Bias
	for k := range p.Weights {
		b -= slope(k) * p.Mean[k]
	}
	a := slope(0)
	if a <= 0 {
		return errors.New("cannot calibrate: the fitted margins do not rank matches higher")
	}
	for j := range m.Weights {
		m.Weights[j] *= a
	}
	m.Bias = a*m.Bias + b
	for k, j := range queryLevel {
		c := slope(k + 1)
		// c·x_j = c·std_j·(x_j − mean_j)/std_j + c·mean_j
		m.Weights[j] += c * m.Std[j]
		m.Bias += c * m.Mean[j]
	}
	m.fold()
	return nil
}
