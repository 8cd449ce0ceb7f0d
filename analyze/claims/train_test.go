package claims

import (
	"fmt"
	"testing"
)

// Train on a slice of CheckThat! 2020 train: the re-ranker beats BM25F in
// cross-validation, every depth tried is cross-validated, and the serving
// depth follows the rule (deeper only for depthMargin more MAP@5).
func TestTrainChoosesDepth(t *testing.T) {
	set := checkThat(t, "2020", "train")
	var qs []Query
	for _, q := range set.queries {
		if len(set.qrels[q.ID]) > 0 && len(qs) < 240 {
			qs = append(qs, q)
		}
	}
	m, err := Train([]TrainSet{{Name: "2020", Facts: set.facts, Queries: qs, Qrels: set.qrels}},
		TrainOptions{Folds: 3, Lambdas: []float64{100}, Rounds: []int{0}, Candidates: 40, Depths: []int{80, 10}})
	if err != nil {
		t.Fatal(err)
	}
	if m.CV["queries"] != float64(len(qs)) {
		t.Errorf("trained on %v queries, want %d", m.CV["queries"], len(qs))
	}
	if m.CV["map5"] <= m.CV["bm25f_map5"] {
		t.Errorf("CV MAP@5 %.4f does not beat BM25F %.4f", m.CV["map5"], m.CV["bm25f_map5"])
	}
	// The training depth is among those tried; each depth is scored.
	var cv [3]float64
	for i, d := range []int{10, 40, 80} {
		v, ok := m.CV[fmt.Sprintf("map5_depth_%d", d)]
		if !ok {
			t.Fatalf("depth %d not cross-validated: %v", d, m.CV)
		}
		cv[i] = v
	}
	if cv[1] != m.CV["map5"] {
		t.Errorf("CV at the training depth %.4f, model CV %.4f", cv[1], m.CV["map5"])
	}
	// The rule: start at the shallowest, go deeper only for depthMargin.
	want, best := 10, cv[0]
	for i, d := range []int{40, 80} {
		if cv[i+1] > best+depthMargin {
			want, best = d, cv[i+1]
		}
	}
	t.Logf("CV MAP@5 by depth 10/40/80: %.4f %.4f %.4f; serving depth %d", cv[0], cv[1], cv[2], m.Candidates)
	if m.Candidates != want {
		t.Errorf("serving depth %d, want %d (CV by depth 10/40/80: %.4f %.4f %.4f)", m.Candidates, want, cv[0], cv[1], cv[2])
	}
}
