package claims

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/trendwatch/trendwatch/analyze/text"
)

// BM25F parameters. Field weights favour the claim: a post repeats the
// claim's wording more often than the fact-check's headline or summary.
var (
	bm25K1      = 1.2
	fieldWeight = [nFields]float64{1.0, 0.6, 0.3}
	fieldB      = [nFields]float64{0.75, 0.6, 0.75}
)

// featureNames name the re-ranker's inputs, in order.
var featureNames = []string{
	"bm25", "bm25_rel", "bm25_claim", "bm25_title", "bm25_summary", "rank_recip",
	"bigram_cov", "bigram_cnt", "gram_cos", "claim_gram_cov", "claim_term_cov",
	"num_match", "num_miss", "ent_cov", "ent_cnt", "signature", "date_near", "has_date", "qlen",
	"gram_cos_rel", "claim_gram_cov_rel",
}

const nFeatures = 21

// scratch holds per-query accumulators, pooled so Match does not allocate
// arrays the size of the index.
type scratch struct {
	acc     [][nFields + 2]float32 // per field, total, signature
	touched []int32
	heap    []int32
	bits    bitset
}

// query is an analysed post.
type query struct {
	doc      text.Doc
	terms    map[string]int // term → count in the post
	sig      []string
	bigrams  []uint32
	grams    []uint32
	nums     []uint32
	ents     []uint32
	termHash []uint32
	date     time.Time
}

func (ix *Index) analyzeQuery(s, langHint string) query {
	d := text.Analyze(s, langHint)
	ix.mu.RLock()
	known := ix.langs[d.Lang] > 0
	major, most := "", 0
	for l, n := range ix.langs {
		if n > most || n == most && l < major {
			major, most = l, n
		}
	}
	ix.mu.RUnlock()
	if !known && langHint == "" && major != "" && major != d.Lang {
		// Detection on a few words is unreliable; analysing as the
		// language most facts are in keeps the terms comparable.
		d = text.Analyze(s, major)
	}
	q := query{doc: d, terms: make(map[string]int, len(d.Tokens))}
	for _, t := range d.Tokens {
		q.terms[t]++
	}
	if d.SignatureName != "" || d.SignatureHandle != "" {
		sd := text.Analyze(d.SignatureName+" "+splitHandle(d.SignatureHandle), d.Lang)
		q.sig = uniq(sd.Tokens)
		if t, err := time.Parse("January 2, 2006", d.SignatureDate); err == nil {
			q.date = t
		}
	}
	q.bigrams = hashSet(seedBigram, d.Bigrams)
	q.grams = charGrams(d.Text)
	q.nums = hashSet(seedNumber, d.Numbers)
	q.ents = hashSet(seedEntity, d.Entities)
	q.termHash = hashSet(seedTerm, sortedKeys(q.terms))
	return q
}

func splitHandle(h string) string {
	if h == "" {
		return ""
	}
	return "@" + h // Clean splits @CamelCase into words
}

// candidate is a fact with its re-ranker features.
type candidate struct {
	doc   int32
	bm25  float64
	feats [nFeatures]float64
	score float64
}

// Match returns the k facts that best match s, best first, with calibrated
// scores; ties go to the smaller fact id so results are deterministic.
func (ix *Index) Match(s, langHint string, k int) []Result {
	if k <= 0 {
		return nil
	}
	q := ix.analyzeQuery(s, langHint)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	cands := ix.candidatesLocked(&q, max(ix.opts.Candidates, k))
	for i := range cands {
		cands[i].score = ix.model.Score(cands[i].feats[:])
	}
	ix.sortCands(cands)
	out := make([]Result, 0, min(k, len(cands)))
	for _, c := range cands[:min(k, len(cands))] {
		f := &ix.facts[c.doc].f
		out = append(out, Result{FactID: f.ID, Score: c.score, Verdict: f.Verdict, Rating: f.Rating,
			Lang: ix.facts[c.doc].lang, URL: f.URL, BM25: c.bm25})
	}
	return out
}

func (ix *Index) sortCands(cands []candidate) {
	slices.SortFunc(cands, func(a, b candidate) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(ix.facts[a.doc].f.ID, ix.facts[b.doc].f.ID)
	})
}

// candidatesLocked runs BM25F over the postings of the query terms and
// computes the features of the n best documents.
func (ix *Index) candidatesLocked(q *query, n int) []candidate {
	sc, _ := ix.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer ix.pool.Put(sc)
	if len(sc.acc) < len(ix.facts) {
		sc.acc = make([][nFields + 2]float32, len(ix.facts)+len(ix.facts)/4)
	}
	sc.touched = sc.touched[:0]
	N := float64(ix.live)
	var avg [nFields]float64
	for i := range nFields {
		avg[i] = max(ix.totalLen[i]/max(N, 1), 1)
	}
	var sigTotal float64
	idfOf := func(df int32) float64 {
		return math.Log(1 + (N-float64(df)+0.5)/(float64(df)+0.5))
	}
	// Deterministic order over query terms keeps float sums reproducible.
	terms := sortedKeys(q.terms)
	// Terms in more than frequentShare of the facts do not choose the
	// candidates: their postings are most of the work and their idf is low.
	// They still score every candidate exactly, looked up per candidate.
	frequent := max(float64(frequentFloor), frequentShare*N)
	var late []int32
	var lateW []float64
	for _, t := range terms {
		id, ok := ix.termID[t]
		if !ok || ix.df[id] <= 0 {
			continue
		}
		idf := idfOf(ix.df[id])
		qw := idf * (1 + math.Log(float64(q.terms[t])))
		if float64(ix.df[id]) > frequent {
			late = append(late, id)
			lateW = append(lateW, qw)
			continue
		}
		for _, p := range ix.post[id] {
			m := &ix.meta[p.doc]
			if !m.alive {
				continue
			}
			a := &sc.acc[p.doc]
			if a[nFields] == 0 {
				sc.touched = append(sc.touched, p.doc)
			}
			addPosting(a, &p, m, qw, &avg)
		}
	}
	if len(sc.touched) == 0 && len(late) > 0 {
		// Only frequent terms matched: let them choose after all.
		for i, id := range late {
			for _, p := range ix.post[id] {
				m := &ix.meta[p.doc]
				if !m.alive {
					continue
				}
				a := &sc.acc[p.doc]
				if a[nFields] == 0 {
					sc.touched = append(sc.touched, p.doc)
				}
				addPosting(a, &p, m, lateW[i], &avg)
			}
		}
		late = nil
	}
	cands := ix.topLocked(sc, n)
	if len(late) > 0 {
		for i := range cands {
			d := cands[i].doc
			a := &sc.acc[d]
			for j, id := range late {
				if p := findPosting(ix.post[id], d); p != nil {
					addPosting(a, p, &ix.meta[d], lateW[j], &avg)
				}
			}
			cands[i].bm25 = float64(a[nFields])
		}
		slices.SortFunc(cands, func(a, b candidate) int {
			if c := cmp.Compare(b.bm25, a.bm25); c != 0 {
				return c
			}
			return cmp.Compare(ix.facts[a.doc].f.ID, ix.facts[b.doc].f.ID)
		})
	}
	for _, t := range q.sig {
		id, ok := ix.termID[t]
		if !ok || ix.df[id] <= 0 {
			continue
		}
		idf := idfOf(ix.df[id])
		sigTotal += idf
		for i := range cands {
			if findPosting(ix.post[id], cands[i].doc) != nil {
				sc.acc[cands[i].doc][nFields+1] += float32(idf)
			}
		}
	}
	top := 1.0
	if len(cands) > 0 {
		top = max(cands[0].bm25, 1e-9)
	}
	bits := &sc.bits
	defer bits.reset()
	for _, hs := range [][]uint32{q.bigrams, q.grams, q.nums, q.ents, q.termHash} {
		bits.add(hs)
	}
	for r := range cands {
		c := &cands[r]
		fc := &ix.facts[c.doc]
		a := sc.acc[c.doc]
		x := &c.feats
		x[0] = c.bm25
		x[1] = c.bm25 / top
		x[2], x[3], x[4] = float64(a[fClaim]), float64(a[fTitle]), float64(a[fSummary])
		x[5] = 1 / float64(1+r)
		bi := bits.count(fc.bigrams)
		x[6] = float64(bi) / float64(max(1, len(q.bigrams)))
		x[7] = math.Log1p(float64(bi))
		cg := bits.count(fc.cgrams)
		g := cg + bits.count(fc.tgrams)
		x[8] = float64(g) / math.Sqrt(float64(max(1, len(q.grams)*(len(fc.cgrams)+len(fc.tgrams)))))
		x[9] = float64(cg) / float64(max(1, len(fc.cgrams)))
		x[10] = float64(bits.count(fc.claimSet)) / float64(max(1, len(fc.claimSet)))
		nm := bits.count(fc.numbers)
		x[11] = float64(nm)
		if len(fc.numbers) > 0 && nm == 0 {
			x[12] = 1
		}
		em := bits.count(fc.entities)
		x[13] = float64(em) / float64(max(1, len(fc.entities)))
		x[14] = math.Log1p(float64(em))
		if sigTotal > 0 {
			x[15] = float64(a[nFields+1]) / sigTotal
		}
		if !q.date.IsZero() && !fc.date.IsZero() {
			days := math.Abs(fc.date.Sub(q.date).Hours() / 24)
			x[16] = math.Exp(-days / 60)
			x[17] = 1
		}
		x[18] = math.Log1p(float64(len(q.doc.Tokens)))
	}
	// Character evidence relative to the best candidate of this post: what
	// matters is being the closest, not the absolute overlap.
	var best8, best9 float64
	for i := range cands {
		best8, best9 = max(best8, cands[i].feats[8]), max(best9, cands[i].feats[9])
	}
	for i := range cands {
		x := &cands[i].feats
		x[19] = x[8] / max(best8, 1e-9)
		x[20] = x[9] / max(best9, 1e-9)
	}
	for _, d := range sc.touched {
		sc.acc[d] = [nFields + 2]float32{}
	}
	return cands
}

// worse orders first-stage hits: lower BM25F first, then larger fact id,
// so the selection is deterministic.
func (ix *Index) worse(a, b int32, sa, sb float32) bool {
	if sa != sb {
		return sa < sb
	}
	return ix.facts[a].f.ID > ix.facts[b].f.ID
}

// topLocked selects the n best touched documents with a bounded min-heap:
// sorting every touched document costs more than the rest of Match.
func (ix *Index) topLocked(sc *scratch, n int) []candidate {
	h := sc.heap[:0]
	score := func(d int32) float32 { return sc.acc[d][nFields] }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && ix.worse(h[r], h[l], score(h[r]), score(h[l])) {
				m = r
			}
			if !ix.worse(h[m], h[i], score(h[m]), score(h[i])) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for _, d := range sc.touched {
		if len(h) < n {
			h = append(h, d)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !ix.worse(h[i], h[p], score(h[i]), score(h[p])) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if ix.worse(h[0], d, score(h[0]), score(d)) {
			h[0] = d
			down(0)
		}
	}
	sc.heap = h
	cands := make([]candidate, len(h))
	for i, d := range h {
		cands[i] = candidate{doc: d, bm25: float64(score(d))}
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if ix.worse(a.doc, b.doc, float32(a.bm25), float32(b.bm25)) {
			return 1
		}
		if ix.worse(b.doc, a.doc, float32(b.bm25), float32(a.bm25)) {
			return -1
		}
		return 0
	})
	return cands
}

// Candidate selection skips terms in more than frequentShare of the facts
// (and more than frequentFloor facts); see candidatesLocked.
const (
	frequentShare = 0.05
	frequentFloor = 1000
)

// addPosting adds one posting's BM25F and per-field BM25 contributions.
func addPosting(a *[nFields + 2]float32, p *posting, m *docMeta, qw float64, avg *[nFields]float64) {
	var tfw float64
	for f := range nFields {
		if p.tf[f] == 0 {
			continue
		}
		norm := float64(p.tf[f]) / (1 - fieldB[f] + fieldB[f]*float64(m.fieldLen[f])/avg[f])
		a[f] += float32(qw * norm / (bm25K1 + norm)) // per-field BM25 is a feature
		tfw += fieldWeight[f] * norm
	}
	a[nFields] += float32(qw * tfw / (bm25K1 + tfw))
}

// findPosting finds doc in a posting list; lists are sorted by document
// because documents are appended in order and compaction keeps it.
func findPosting(ps []posting, doc int32) *posting {
	i, ok := slices.BinarySearchFunc(ps, doc, func(p posting, d int32) int { return cmp.Compare(p.doc, d) })
	if !ok {
		return nil
	}
	return &ps[i]
}
