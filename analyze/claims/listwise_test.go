package claims

import (
	"math"
	"math/rand/v2"
	"testing"
)

// listwiseData makes queries of 10 candidates, one right. Feature 0 ranks
// within a query (noisily); feature 1 is the same for every candidate of a
// query but differs between queries, and there it tracks how many
// candidates are right per row: a pointwise fit uses it, a ranking has no
// use for it.
func listwiseData(seed uint64, queries int) []labelled {
	r := rand.New(rand.NewPCG(seed, 1))
	var data []labelled
	for q := range queries {
		l := labelled{fold: q % 3, nrel: 1}
		shift := r.NormFloat64()
		right := r.IntN(10)
		for i := range 10 {
			var x [nFeatures]float64
			x[0] = r.NormFloat64()
			y := 0.0
			if i == right {
				x[0] += 2
				y = 1
			}
			x[1] = shift
			l.ids = append(l.ids, string(rune('a'+i)))
			l.x = append(l.x, x)
			l.y = append(l.y, y)
			l.seen = append(l.seen, false)
		}
		data = append(data, l)
	}
	return data
}

func TestFitListwise(t *testing.T) {
	data := listwiseData(7, 300)
	for _, lambda := range []float64{0.1, 10} {
		m, err := fitListwise(data, -1, 10, lambda)
		if err != nil {
			t.Fatal(err)
		}
		if m.Objective != objectiveListwise {
			t.Errorf("objective %q", m.Objective)
		}
		// A feature constant within every query cannot change a softmax
		// over its candidates: the penalty sends its weight to zero.
		if math.Abs(m.Weights[1]) > 1e-6 {
			t.Errorf("lambda %g: weight of a query-constant feature %g, want 0", lambda, m.Weights[1])
		}
		if m.Weights[0] <= 0 {
			t.Errorf("lambda %g: weight of the ranking feature %g, want > 0", lambda, m.Weights[0])
		}
		// Platt scaling with a free intercept: the mean confidence equals
		// the share of right candidates.
		var sum, rate float64
		X, y := examples(data, -1, 10)
		for i, x := range X {
			sum += m.Score(x)
			rate += y[i]
		}
		if d := (sum - rate) / float64(len(X)); math.Abs(d) > 1e-6 {
			t.Errorf("lambda %g: mean confidence off the right share by %g", lambda, d)
		}
		// Only feature 0 ranks: the model ranks as it does.
		byX0 := &Model{Weights: make([]float64, nFeatures), Mean: make([]float64, nFeatures), Std: make([]float64, nFeatures)}
		byX0.Weights[0], byX0.Std[0] = 1, 1
		if got, want := mapOf(data, m, -1, 10), mapOf(data, byX0, -1, 10); got != want {
			t.Errorf("lambda %g: MAP@5 %.4f, ranking by the one informative feature %.4f", lambda, got, want)
		}
	}
	// Fold k is left out: a model trained without it differs.
	all, _ := fitListwise(data, -1, 10, 1)
	some, _ := fitListwise(data, 0, 10, 1)
	if all.Weights[0] == some.Weights[0] {
		t.Error("leaving fold 0 out changed nothing")
	}
}

func TestFitListwiseNoRightCandidate(t *testing.T) {
	data := listwiseData(3, 5)
	for i := range data {
		clear(data[i].y)
	}
	if _, err := fitListwise(data, -1, 10, 1); err == nil {
		t.Error("no query has a right candidate: want an error")
	}
}

// Twins (the same post, other ids, other case and spacing) share a fold.
func TestFoldOfByText(t *testing.T) {
	a := Query{ID: "1234", Text: "Vaccines  contain microchips"}
	b := Query{ID: "tweet-sno-9", Text: "vaccines contain MICROCHIPS "}
	for _, folds := range []int{3, 5, 10} {
		if foldOf(a, folds) != foldOf(b, folds) {
			t.Errorf("%d folds: twins in folds %d and %d", folds, foldOf(a, folds), foldOf(b, folds))
		}
	}
	spread := map[int]bool{}
	for i := range 50 {
		spread[foldOf(Query{Text: string(rune('a'+i%26)) + string(rune('a'+i/26))}, 10)] = true
	}
	if len(spread) < 8 {
		t.Errorf("50 posts fell in %d of 10 folds", len(spread))
	}
}
