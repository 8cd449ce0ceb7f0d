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

// featureNames name the re-ranker's inputs, in order. Every feature is
// absolute — computed from the post, the candidate and background-mixed
// term statistics — never relative to the other candidates or to the
// collection's size, so a score means the same with one fact or 100k.
var featureNames = []string{
	"bm25", "bm25_norm", "bm25_claim", "bm25_title", "bm25_summary", "qcov_idf",
	"bigram_cov", "bigram_cnt", "gram_cos", "claim_gram_cov", "claim_term_cov",
	"num_match", "num_miss", "ent_cov", "ent_cnt", "signature", "date_near", "has_date", "qlen",
	"claim_len", "query_gram_cov", "lang_vi",
}

const nFeatures = 22

// midKnown are the features known before the post's character trigrams,
// the costliest input. (Bounding right after the first stage was tried:
// with the hashed-set features unknown too, the bound pruned nothing.)
var midKnown = knownMask(0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21)

func knownMask(idx ...int) (m [nFeatures]bool) {
	for _, i := range idx {
		m[i] = true
	}
	return m
}

// Slots of a scratch accumulator after the per-field BM25 values.
const (
	accTotal   = nFields     // BM25F
	accSig     = nFields + 1 // idf mass of signature terms the fact contains
	accMatched = nFields + 2 // query weight of the terms the fact contains
	accLen     = nFields + 3
)

// scratch holds per-query accumulators, pooled so Match does not allocate
// arrays the size of the index.
type scratch struct {
	acc     [][accLen]float32
	touched []int32
	heap    []hit
	bits    bitset
	terms   []qterm
}

// qterm is a distinct query term with its weight; id is -1 when the index
// does not know it (it still counts in the post's total weight).
type qterm struct {
	id int32
	w  float64
}

// query is an analysed post.
type query struct {
	doc      text.Doc
	sorted   []string // distinct terms, sorted: float sums in a fixed order
	counts   []int32  // occurrences of sorted[i] in the post
	sig      []string
	bigrams  []uint32
	grams    []uint32 // computed lazily: the costliest feature input
	gramsSet bool
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
	return newQuery(d)
}

func newQuery(d text.Doc) query {
	q := query{doc: d}
	// Sorting the tokens and counting runs gives the distinct terms in a
	// fixed order with one sort and no map.
	q.sorted = slices.Clone(d.Tokens)
	slices.Sort(q.sorted)
	w := 0
	for i, t := range q.sorted {
		if i > 0 && t == q.sorted[w-1] {
			q.counts[w-1]++
			continue
		}
		q.sorted[w] = t
		q.counts = append(q.counts, 1)
		w++
	}
	q.sorted = q.sorted[:w]
	if d.SignatureName != "" || d.SignatureHandle != "" {
		sd := text.Analyze(d.SignatureName+" "+splitHandle(d.SignatureHandle), d.Lang)
		q.sig = uniq(sd.Tokens)
		if t, err := time.Parse("January 2, 2006", d.SignatureDate); err == nil {
			q.date = t
		}
	}
	q.bigrams = queryHashSet(seedBigram, d.Bigrams)
	q.nums = queryHashSet(seedNumber, d.Numbers)
	q.ents = queryHashSet(seedEntity, d.Entities)
	q.termHash = queryHashSet(seedTerm, q.sorted)
	return q
}

func (q *query) charGrams() []uint32 {
	if !q.gramsSet {
		q.grams, q.gramsSet = dedupe(gramHashes(q.doc.Text)), true
	}
	return q.grams
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
// langHint ("vi", "fr", "en") overrides language detection.
func (ix *Index) Match(s, langHint string, k int) []Result {
	if k <= 0 {
		return nil
	}
	q := ix.analyzeQuery(s, langHint)
	return ix.match(&q, k)
}

// MatchDoc is Match for a post the caller has already analysed with
// text.Analyze, so a stream analyses each post once. doc.Lang is taken as
// given.
func (ix *Index) MatchDoc(doc text.Doc, k int) []Result {
	if k <= 0 {
		return nil
	}
	q := newQuery(doc)
	return ix.match(&q, k)
}

func (ix *Index) match(q *query, k int) []Result {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	cands := ix.candidatesLocked(q, max(ix.opts.Candidates, k), ix.opts.MinScore)
	for i := range cands {
		cands[i].score = ix.model.Score(cands[i].feats[:])
	}
	out := make([]Result, 0, min(k, len(cands)))
	for _, i := range ix.rankCands(cands) {
		c := &cands[i]
		if len(out) == k || c.score < ix.opts.MinScore {
			break
		}
		f := &ix.facts[c.doc].f
		out = append(out, Result{FactID: f.ID, Score: c.score, Verdict: f.Verdict, Rating: f.Rating,
			Lang: ix.facts[c.doc].lang, URL: f.URL, BM25: c.bm25})
	}
	return out
}

// rankCands returns the candidates' indexes by score, ties by fact id.
// Sorting indexes moves 4 bytes a swap instead of a 200-byte candidate.
func (ix *Index) rankCands(cands []candidate) []int32 {
	order := make([]int32, len(cands))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &cands[i], &cands[j]
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(ix.facts[a.doc].f.ID, ix.facts[b.doc].f.ID)
	})
	return order
}

// stats are the collection statistics of one query's language: background
// and live counts added, so idf is stable from the first fact on.
type stats struct {
	li  int // background language, -1 for all
	n   float64
	avg [nFields]float64
	ix  *Index
}

func (ix *Index) statsFor(lang string) stats {
	st := stats{li: bgLang(lang), ix: ix}
	n := 0
	if st.li >= 0 && ix.bg.Docs[st.li] > 0 {
		// Documents of the post's language, background and live: facts
		// in other languages would inflate every idf of this one.
		n = ix.bg.Docs[st.li] + ix.langs[lang]
	} else {
		// No background for this language (French: no corpus yet): use
		// all languages, so idf still reflects a large collection.
		st.li = -1
		for _, d := range ix.bg.Docs {
			n += d
		}
		n += ix.live
	}
	st.n = float64(n)
	for i := range nFields {
		tot := ix.totalLen[i] + ix.bg.AvgLen[i]*float64(ix.bg.FactDocs)
		st.avg[i] = max(tot/max(float64(ix.live+ix.bg.FactDocs), 1), 1)
	}
	return st
}

func (st *stats) idf(df float64) float64 {
	return math.Log(1 + (st.n-df+0.5)/(df+0.5))
}

// dfOf returns the mixed (background + live) document frequency of term
// id.
func (st *stats) dfOf(id int32) float64 {
	ix := st.ix
	c, live := ix.bgdf[id], max(ix.df[id], 0)
	if st.li >= 0 {
		return float64(c[st.li] + live)
	}
	return float64(c[bgEN] + c[bgFR] + c[bgVI] + live)
}

// candidatesLocked runs BM25F over the postings of the query terms and
// computes the features of the n best documents. With minScore > 0,
// candidates whose score bound falls below it are dropped before their
// costlier features are computed.
func (ix *Index) candidatesLocked(q *query, n int, minScore float64) []candidate {
	sc, _ := ix.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer ix.pool.Put(sc)
	if len(sc.acc) < len(ix.facts) {
		sc.acc = make([][accLen]float32, len(ix.facts)+len(ix.facts)/4)
	}
	sc.touched = sc.touched[:0]
	defer func() {
		for _, d := range sc.touched {
			sc.acc[d] = [accLen]float32{}
		}
	}()
	st := ix.statsFor(q.doc.Lang)
	// Terms in more than frequentShare of the facts do not choose the
	// candidates: their postings are most of the work and their idf is low.
	// They still score every candidate exactly, looked up per candidate.
	frequent := max(float64(frequentFloor), frequentShare*float64(ix.live))
	var late []qterm
	var totalW float64
	for i, t := range q.sorted {
		// One look-up: the dictionary holds the background's terms too.
		id, ok := ix.termID[t]
		df := 0.0
		if ok {
			df = st.dfOf(id)
		}
		qw := st.idf(df) * (1 + math.Log(float64(q.counts[i])))
		totalW += qw
		if !ok || ix.df[id] <= 0 {
			continue
		}
		if float64(ix.df[id]) > frequent {
			late = append(late, qterm{id, qw})
			continue
		}
		ix.scorePostings(sc, id, qw, &st.avg)
	}
	if len(sc.touched) == 0 && len(late) > 0 {
		// Only frequent terms matched: let them choose after all.
		for _, lt := range late {
			ix.scorePostings(sc, lt.id, lt.w, &st.avg)
		}
		late = nil
	}
	cands := ix.topLocked(sc, n)
	if len(late) > 0 {
		for i := range cands {
			d := cands[i].doc
			a := &sc.acc[d]
			for _, lt := range late {
				if p := findPosting(ix.post[lt.id], d); p != nil {
					addPosting(a, p, &ix.meta[d], lt.w, &st.avg)
				}
			}
			cands[i].bm25 = float64(a[accTotal])
		}
	}
	if len(cands) == 0 {
		return cands
	}
	var sigTotal float64
	for _, t := range q.sig {
		id, ok := ix.termID[t]
		df := 0.0
		if ok {
			df = st.dfOf(id)
		}
		idf := st.idf(df)
		sigTotal += idf
		if !ok || ix.df[id] <= 0 {
			continue
		}
		for i := range cands {
			if findPosting(ix.post[id], cands[i].doc) != nil {
				sc.acc[cands[i].doc][accSig] += float32(idf)
			}
		}
	}
	totalW = max(totalW, 1e-9)
	qlen := math.Log1p(float64(len(q.doc.Tokens)))
	for r := range cands {
		c := &cands[r]
		fc := &ix.facts[c.doc]
		a := &sc.acc[c.doc]
		x := &c.feats
		x[0] = c.bm25
		x[1] = c.bm25 / totalW
		x[2], x[3], x[4] = float64(a[fClaim]), float64(a[fTitle]), float64(a[fSummary])
		x[5] = min(float64(a[accMatched])/totalW, 1)
		if sigTotal > 0 {
			x[15] = float64(a[accSig]) / sigTotal
		}
		if !q.date.IsZero() && !fc.date.IsZero() {
			days := math.Abs(fc.date.Sub(q.date).Hours() / 24)
			x[16] = math.Exp(-days / 60)
			x[17] = 1
		}
		x[18] = qlen
		x[19] = math.Log1p(float64(len(fc.claimSet)))
		if q.doc.Lang == text.LangVI {
			// Vietnamese terms (syllables, both spellings, bigrams) give
			// other feature scales than English stems.
			x[21] = 1
		}
	}
	bits := &sc.bits
	defer bits.reset()
	for _, hs := range [][]uint32{q.bigrams, q.nums, q.ents, q.termHash} {
		bits.add(hs)
	}
	for r := range cands {
		c := &cands[r]
		fc := &ix.facts[c.doc]
		x := &c.feats
		bi := bits.count(fc.bigrams)
		x[6] = float64(bi) / float64(max(1, len(q.bigrams)))
		x[7] = math.Log1p(float64(bi))
		x[10] = float64(bits.count(fc.claimSet)) / float64(max(1, len(fc.claimSet)))
		nm := bits.count(fc.numbers)
		x[11] = float64(nm)
		if len(fc.numbers) > 0 && nm == 0 {
			x[12] = 1
		}
		em := bits.count(fc.entities)
		x[13] = float64(em) / float64(max(1, len(fc.entities)))
		x[14] = math.Log1p(float64(em))
	}
	if cands = ix.prune(cands, &midKnown, minScore); len(cands) == 0 {
		return cands
	}
	grams := q.charGrams()
	bits.add(grams)
	for r := range cands {
		c := &cands[r]
		fc := &ix.facts[c.doc]
		x := &c.feats
		cg := bits.count(fc.cgrams)
		g := cg + bits.count(fc.tgrams)
		x[8] = float64(g) / math.Sqrt(float64(max(1, len(grams)*(len(fc.cgrams)+len(fc.tgrams)))))
		x[9] = float64(cg) / float64(max(1, len(fc.cgrams)))
		x[20] = float64(g) / float64(max(1, len(grams)))
	}
	return cands
}

// prune drops the candidates whose score cannot reach minScore whatever
// the features not yet computed turn out to be.
func (ix *Index) prune(cands []candidate, known *[nFeatures]bool, minScore float64) []candidate {
	if minScore <= 0 {
		return cands
	}
	return slices.DeleteFunc(cands, func(c candidate) bool {
		return ix.model.UpperBound(c.feats[:], known[:]) < minScore
	})
}

// scorePostings adds term id's BM25F contributions to every live document
// in its postings.
func (ix *Index) scorePostings(sc *scratch, id int32, qw float64, avg *[nFields]float64) {
	for i := range ix.post[id] {
		p := &ix.post[id][i]
		m := &ix.meta[p.doc]
		if !m.alive {
			continue
		}
		a := &sc.acc[p.doc]
		if a[accTotal] == 0 {
			sc.touched = append(sc.touched, p.doc)
		}
		addPosting(a, p, m, qw, avg)
	}
}

// hit is a first-stage result: the score travels with the document so
// the heap compares without reaching into the accumulators.
type hit struct {
	s float32
	d int32
}

// worse orders first-stage hits: lower BM25F first, then larger fact id,
// so the selection is deterministic.
func (ix *Index) worse(a, b hit) bool {
	if a.s != b.s {
		return a.s < b.s
	}
	return ix.facts[a.d].f.ID > ix.facts[b.d].f.ID
}

// topLocked selects the n best touched documents with a bounded min-heap:
// sorting every touched document costs more than the rest of Match.
func (ix *Index) topLocked(sc *scratch, n int) []candidate {
	h := sc.heap[:0]
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && ix.worse(h[r], h[l]) {
				m = r
			}
			if !ix.worse(h[m], h[i]) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for _, d := range sc.touched {
		x := hit{sc.acc[d][accTotal], d}
		if len(h) < n {
			h = append(h, x)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !ix.worse(h[i], h[p]) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		// Most documents lose to the heap's minimum on score alone.
		if x.s < h[0].s {
			continue
		}
		if ix.worse(h[0], x) {
			h[0] = x
			down(0)
		}
	}
	sc.heap = h
	cands := make([]candidate, len(h))
	for i, x := range h {
		cands[i] = candidate{doc: x.d, bm25: float64(x.s)}
	}
	// Heap order: the features do not depend on the first-stage rank, and
	// the results are sorted by score.
	return cands
}

// Candidate selection skips terms in more than frequentShare of the facts
// (and more than frequentFloor facts); see candidatesLocked. At 100k facts
// 1% keeps terms with idf below ~4.6 out of selection, where their long
// postings were most of the latency, while at CheckThat! sizes (≤25k)
// the floor decides and selection is as before.
const (
	frequentShare = 0.01
	frequentFloor = 1000
)

// addPosting adds one posting's BM25F and per-field BM25 contributions.
func addPosting(a *[accLen]float32, p *posting, m *docMeta, qw float64, avg *[nFields]float64) {
	var tfw float64
	for f := range nFields {
		if p.tf[f] == 0 {
			continue
		}
		norm := float64(p.tf[f]) / (1 - fieldB[f] + fieldB[f]*float64(m.fieldLen[f])/avg[f])
		a[f] += float32(qw * norm / (bm25K1 + norm)) // per-field BM25 is a feature
		tfw += fieldWeight[f] * norm
	}
	a[accTotal] += float32(qw * tfw / (bm25K1 + tfw))
	a[accMatched] += float32(qw)
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
