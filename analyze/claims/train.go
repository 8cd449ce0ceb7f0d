package claims

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/trendwatch/trendwatch/schema"
)

// TrainSet is one labelled collection: facts, posts and which facts check
// which posts. Only training splits belong here.
type TrainSet struct {
	Name    string
	Facts   []schema.Fact
	Queries []Query
	Qrels   Qrels
	// Synthetic marks sets whose posts are no fact's known appearances:
	// posts made from the facts themselves (the news rewrites), and the
	// news summary → headline sets, where each fact has one post (as
	// appearances, other folds' summaries would only teach that a fact
	// with appearances is wrong). Other real posts are, for the other
	// folds' posts (see Train).
	Synthetic bool
}

// TrainOptions control Train. Zero values take the defaults.
type TrainOptions struct {
	Folds   int       // cross-validation folds (default 5)
	Lambdas []float64 // L2 penalties tried (default 0.01…10000)
	// Objectives tried for the linear part (default logistic and
	// listwise), each with every lambda.
	Objectives []string
	Rounds     []int // boosting rounds tried (default 0, 25, 50, 100, 200)
	Candidates int   // candidates per training query (default 40)
	// Depths are the first-stage depths tried for serving (default 40, 80,
	// 150): the model is trained on Candidates per query, then each depth
	// is cross-validated with the fold models; starting at the shallowest,
	// going deeper must beat the depth chosen so far by depthMargin, and
	// the choice is recorded as the model's Candidates. The re-ranker can
	// lift a fact BM25F ranks low, so depth can pay.
	Depths  []int
	Command string // recorded in the model for provenance
}

// treeMargin is the cross-validated MAP@5 gain boosting must bring to be
// kept. Half a point: on the 2026-11 data trees added 0.002, not worth
// an ensemble walk per candidate and a loose score bound in the stream.
const treeMargin = 0.005

// depthMargin is the cross-validated MAP@5 gain a deeper first stage must
// bring over a shallower one to be chosen. On the 2026-11 data depth 80
// gained 0.0014 in cross-validation (CheckThat! 2022 devtest 0.940 →
// 0.959) but cost a quarter of the stream's throughput (Stream15k 25k →
// 19.6k posts/s, under the 20k budget), so it must gain more than that.
const depthMargin = 0.002

// labelled is one query's candidates with labels.
type labelled struct {
	fold int
	ids  []string
	x    [][nFeatures]float64
	y    []float64
	nrel int
	seen []bool // recalled by known appearances: a candidate at any depth
}

// rows returns the indexes of the candidates served at first-stage depth:
// the first depth in BM25F order and those recalled by appearances.
func (l *labelled) rows(depth int) []int {
	var out []int
	for i := range l.x {
		if i < depth || l.seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// Train builds the candidates of every training query, chooses the
// objective and L2 penalty by k-fold cross-validation (folds by a hash of
// the post's text) on MAP@5, and fits the re-ranker on all training
// queries with them.
func Train(sets []TrainSet, o TrainOptions) (*Model, error) {
	if o.Folds <= 1 {
		o.Folds = 5
	}
	if o.Candidates <= 0 {
		o.Candidates = 40
	}
	if len(o.Depths) == 0 {
		o.Depths = []int{40, 80, 150}
	}
	if !slices.Contains(o.Depths, o.Candidates) {
		o.Depths = append(o.Depths, o.Candidates)
	}
	slices.Sort(o.Depths)
	labelDepth := max(o.Candidates, slices.Max(o.Depths))
	if len(o.Lambdas) == 0 {
		o.Lambdas = []float64{0.01, 0.1, 1, 3, 10, 30, 100, 1000, 10000}
	}
	var data []labelled
	for _, s := range sets {
		if len(s.Facts) == 0 {
			return nil, fmt.Errorf("training set %s has no facts", s.Name)
		}
		// The labelled posts of the other folds are the facts' known
		// appearances when a fold's posts are labelled, as the training
		// posts are for posts served later: a post never sees itself.
		byFold := make([][]Query, o.Folds)
		for _, q := range s.Queries {
			if len(s.Qrels[q.ID]) > 0 {
				k := foldOf(q, o.Folds)
				byFold[k] = append(byFold[k], q)
			}
		}
		var shared *Index // a synthetic set's: no appearances, the same for every fold
		for k, qs := range byFold {
			if len(qs) == 0 {
				continue
			}
			ix := shared
			if ix == nil {
				ix = NewIndex(Options{Candidates: labelDepth, Model: bm25Model(), Known: &Known{}})
				var apps map[string][]string
				if !s.Synthetic {
					apps = appearancesOf(s.Queries, s.Qrels, func(q Query) bool { return foldOf(q, o.Folds) != k })
				}
				for _, f := range s.Facts {
					f.Appearances = append(slices.Clip(f.Appearances), apps[f.ID]...)
					ix.Upsert(f)
				}
				if ix.Len() == 0 {
					return nil, fmt.Errorf("training set %s has no valid facts", s.Name)
				}
				if s.Synthetic {
					shared = ix
				}
			}
			for _, q := range qs {
				data = append(data, ix.label(q, s.Qrels[q.ID], o.Folds))
			}
		}
	}
	if len(data) == 0 {
		return nil, errors.New("no labelled training queries")
	}
	// Rows beyond the training depth are for choosing the serving depth.
	train := o.Candidates
	cv := map[string]float64{"bm25f_map5": mapOf(data, nil, -1, train)}
	if len(o.Objectives) == 0 {
		o.Objectives = []string{objectiveLogistic, objectiveListwise}
	}
	best, objective, bestMAP := o.Lambdas[0], o.Objectives[0], -1.0
	for _, obj := range o.Objectives {
		for _, l := range o.Lambdas {
			total := 0.0
			for k := range o.Folds {
				m, err := fitLinear(data, k, train, obj, l)
				if err != nil {
					return nil, fmt.Errorf("cannot fit fold %d (%s, lambda %g): %w", k, obj, l, err)
				}
				total += mapOf(data, m, k, train) * float64(countFold(data, k))
			}
			mean := total / float64(len(data))
			key := fmt.Sprintf("map5_lambda_%g", l)
			if obj != objectiveLogistic {
				key = fmt.Sprintf("map5_%s_lambda_%g", obj, l)
			}
			cv[key] = mean
			if mean > bestMAP {
				best, objective, bestMAP = l, obj, mean
			}
		}
	}
	if len(o.Rounds) == 0 {
		o.Rounds = []int{0, 25, 50, 100, 200}
	}
	// Boosting rounds, chosen by the same folds on top of the chosen
	// linear model.
	maxRounds := slices.Max(o.Rounds)
	perRounds := map[int]float64{}
	perDepth := map[int]float64{}
	for k := range o.Folds {
		lm, err := fitLinear(data, k, train, objective, best)
		if err != nil {
			return nil, fmt.Errorf("cannot fit fold %d: %w", k, err)
		}
		for _, dp := range o.Depths {
			perDepth[dp] += mapOf(data, lm, k, dp) * float64(countFold(data, k))
		}
		perRounds[0] += mapOf(data, lm, k, train) * float64(countFold(data, k))
		if maxRounds == 0 {
			continue
		}
		X, y := examples(data, k, train)
		base := make([]float64, len(X))
		for i, x := range X {
			base[i] = lm.margin(x)
		}
		p := defaultBoost
		p.rounds = maxRounds
		boost(X, y, base, p, func(r int, trees []Tree) {
			if slices.Contains(o.Rounds, r) {
				bm := *lm
				bm.Trees = trees
				perRounds[r] += mapOf(data, &bm, k, train) * float64(countFold(data, k))
			}
		})
	}
	bestRounds := 0
	for _, r := range o.Rounds {
		v := perRounds[r] / float64(len(data))
		cv[fmt.Sprintf("map5_rounds_%d", r)] = v
		// Trees must pay for themselves: they cost more per candidate
		// than the linear part and make the stream's score bound looser.
		if v > bestMAP+treeMargin && r > 0 || r == 0 && v > bestMAP {
			bestRounds, bestMAP = r, v
		}
	}
	depth, depthMAP := o.Depths[0], -1.0
	for _, dp := range o.Depths { // ascending
		v := perDepth[dp] / float64(len(data))
		cv[fmt.Sprintf("map5_depth_%d", dp)] = v
		// A deeper first stage costs every stream post more candidates'
		// features: it must gain depthMargin over the depth chosen so far.
		if depthMAP < 0 || v > depthMAP+depthMargin {
			depth, depthMAP = dp, v
		}
	}
	if bestRounds > 0 {
		depth = o.Candidates // trees were chosen at the training depth
	}
	X, y := examples(data, -1, train)
	m, err := fitLinear(data, -1, train, objective, best)
	if err != nil {
		return nil, fmt.Errorf("cannot fit final model: %w", err)
	}
	if bestRounds > 0 {
		base := make([]float64, len(X))
		for i, x := range X {
			base[i] = m.margin(x)
		}
		p := defaultBoost
		p.rounds = bestRounds
		m.Trees = boost(X, y, base, p, nil)
	}
	m.setRange(X)
	cv["rounds"] = float64(bestRounds)
	cv["map5"] = bestMAP
	cv["queries"] = float64(len(data))
	m.CV = cv
	m.Command = o.Command
	m.Candidates = depth
	return m, nil
}

// fitLinear fits the linear re-ranker on the first depth candidates of the
// queries outside fold k (all if k < 0) with the named objective.
func fitLinear(data []labelled, k, depth int, objective string, lambda float64) (*Model, error) {
	switch objective {
	case objectiveLogistic:
		X, y := examples(data, k, depth)
		return fitLogistic(X, y, lambda)
	case objectiveListwise:
		return fitListwise(data, k, depth, lambda)
	}
	return nil, fmt.Errorf("unknown objective %q", objective)
}

func (ix *Index) label(q Query, rel map[string]bool, folds int) labelled {
	qq := ix.analyzeQuery(q.Text, "")
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	cands := ix.candidatesLocked(&qq, ix.opts.Candidates, 0)
	// BM25F order, for the first-stage baseline MAP@5 (mapOf with no model).
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.bm25, a.bm25); c != 0 {
			return c
		}
		return compareIDs(ix.facts[a.doc].f.ID, ix.facts[b.doc].f.ID)
	})
	l := labelled{fold: foldOf(q, folds), nrel: len(rel)}
	for _, c := range cands {
		id := ix.facts[c.doc].f.ID
		l.ids = append(l.ids, id)
		l.x = append(l.x, c.feats)
		y := 0.0
		if rel[id] {
			y = 1
		}
		l.y = append(l.y, y)
		l.seen = append(l.seen, c.seen)
	}
	return l
}

// foldOf is a query's cross-validation fold, by a hash of its text (case
// and spacing folded), not its id: CheckThat! 2022 train repeats the 2020
// train tweets under other ids, and a post held out must not have its
// twin in the folds that train the model scoring it.
func foldOf(q Query, folds int) int {
	h := fnv.New32a()
	h.Write([]byte(schema.FoldText(q.Text)))
	return int(h.Sum32() % uint32(folds))
}

// appearancesOf returns, per fact id, the distinct texts of the labelled
// queries that keep selects, in query order.
func appearancesOf(qs []Query, qrels Qrels, keep func(q Query) bool) map[string][]string {
	out := map[string][]string{}
	for _, q := range qs {
		if !keep(q) || strings.TrimSpace(q.Text) == "" {
			continue
		}
		for _, id := range sortedKeys(qrels[q.ID]) {
			if !slices.Contains(out[id], q.Text) {
				out[id] = append(out[id], q.Text)
			}
		}
	}
	return out
}

// examples returns the training rows outside fold k (all rows if k < 0),
// the first depth candidates of each query.
func examples(data []labelled, k, depth int) ([][]float64, []float64) {
	var X [][]float64
	var y []float64
	for _, d := range data {
		if k >= 0 && d.fold == k {
			continue
		}
		for _, i := range d.rows(depth) {
			X = append(X, d.x[i][:])
			y = append(y, d.y[i])
		}
	}
	return X, y
}

func countFold(data []labelled, k int) int {
	n := 0
	for _, d := range data {
		if d.fold == k {
			n++
		}
	}
	return n
}

// mapOf returns MAP@5 over the queries of fold k (all if k < 0), ranking
// the first depth candidates (in BM25F order) by m, or by BM25F when m is
// nil.
func mapOf(data []labelled, m *Model, k, depth int) float64 {
	sum, n := 0.0, 0
	for _, d := range data {
		if k >= 0 && d.fold != k {
			continue
		}
		n++
		order := d.rows(depth)
		scores := make([]float64, len(d.ids))
		for _, i := range order {
			if m != nil {
				scores[i] = m.Score(d.x[i][:])
			} else {
				scores[i] = -float64(i)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int {
			if c := cmp.Compare(scores[b], scores[a]); c != 0 {
				return c
			}
			return compareIDs(d.ids[a], d.ids[b])
		})
		hits, ap := 0, 0.0
		for r, i := range order {
			if r >= 5 {
				break
			}
			if d.y[i] == 1 {
				hits++
				ap += float64(hits) / float64(r+1)
			}
		}
		sum += ap / float64(d.nrel)
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
