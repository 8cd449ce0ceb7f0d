package claims

import (
	"cmp"
	"math"
	"slices"
	"strings"
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
	"claim_len", "query_gram_cov", "lang_vi", "emb_cos", "seen_cov2", "has_seen",
}

const nFeatures = 25

// midKnown are the features known before the post's character trigrams,
// the costliest input. (Bounding right after the first stage was tried:
// with the hashed-set features unknown too, the bound pruned nothing.)
var midKnown = knownMask(0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24)

func knownMask(idx ...int) (m [nFeatures]bool) {
	for _, i := range idx {
		m[i] = true
	}
	return m
}

// Slots of a candidate's accumulator after the per-field BM25 values. The
// BM25F total, all selection reads, is apart in scratch.tot: the posting
// loop then touches 4 bytes per document, an array that stays in cache.
const (
	accSig     = nFields     // idf mass of signature terms the fact contains
	accMatched = nFields + 1 // query weight of the terms the fact contains
	accLen     = nFields + 2
)

// scratch holds per-query accumulators, pooled so Match does not allocate
// arrays the size of the index.
type scratch struct {
	acc      [][accLen]float32 // by document; only candidates' are written
	tot      []float32         // BM25F by document
	touched  []int32
	heap     []hit
	cands    []candidate
	order    []int32
	qb       queryBufs
	ties     []hit
	scores   []float32
	bk       []uint8 // nthLargest's buckets
	bits     bitset
	terms    []qterm
	early    []qterm  // terms scored in selection, in order
	candBits []uint64 // candidate documents, for addFields
	ids      []int32
	grams    []uint32
	vec      []float32 // the post's meaning vector
	qw       []float64 // weight of q.sorted[i]
	seenW    []float32 // by document: post term weight in its appearances
	seenDocs []int32   // documents with seenW written
	sink     uint32    // keeps cache-warming loads from being optimised away
}

// qterm is a distinct query term with its weight; id is -1 when the index
// does not know it (it still counts in the post's total weight).
type qterm struct {
	id int32
	w  float64
}

// query is an analysed post.
type query struct {
	doc        text.Doc
	sorted     []string // distinct terms, sorted: float sums in a fixed order
	sortedHash []uint32 // hash32(seedTerm, sorted[i])
	counts     []int32  // occurrences of sorted[i] in the post
	sig        []string
	bigrams    []uint32
	nums       []uint32
	ents       []uint32
	date       time.Time
}

func (ix *Index) analyzeQuery(s, langHint string) query {
	return newQuery(ix.analyzeDoc(s, langHint), nil)
}

func (ix *Index) analyzeDoc(s, langHint string) text.Doc {
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
	return d
}

// queryBufs are the buffers of a query's slices, kept in a pooled scratch
// so a stream's posts do not allocate them anew.
type queryBufs struct {
	sorted                          []string
	counts                          []int32
	sortedHash, bigrams, nums, ents []uint32
}

// newQuery analyses d's terms into b's buffers (nil: new ones); the query
// is valid while b is not reused.
func newQuery(d text.Doc, b *queryBufs) query {
	if b == nil {
		b = &queryBufs{}
	}
	q := query{doc: d}
	b.sorted, b.counts, b.sortedHash = distinctTerms(d.Tokens, b.sorted[:0], b.counts[:0], b.sortedHash[:0])
	q.sorted, q.counts, q.sortedHash = b.sorted, b.counts, b.sortedHash
	if d.SignatureName != "" || d.SignatureHandle != "" {
		sd := text.Analyze(d.SignatureName+" "+splitHandle(d.SignatureHandle), d.Lang)
		q.sig = uniq(sd.Tokens)
		if t, err := time.Parse("January 2, 2006", d.SignatureDate); err == nil {
			q.date = t
		}
	}
	b.bigrams = queryHashSet(b.bigrams[:0], seedBigram, d.Bigrams)
	b.nums = queryHashSet(b.nums[:0], seedNumber, d.Numbers)
	b.ents = queryHashSet(b.ents[:0], seedEntity, d.Entities)
	q.bigrams, q.nums, q.ents = b.bigrams, b.nums, b.ents
	return q
}

// distinctTerms returns the distinct tokens sorted (float sums over them
// then run in a fixed order), their counts, and their seedTerm hashes
// (hashes[i] is hash32(seedTerm, sorted[i])). Counting with a hash table
// keyed by the hash the term set and the dictionary need anyway, then
// sorting only the distinct terms as integer keys, costs far less than
// sorting every token as a string.
//
// The results are appended to the given slices, which may be nil.
func distinctTerms(tokens []string, sorted []string, counts []int32, hashes []uint32) ([]string, []int32, []uint32) {
	if len(tokens) > maxFastTerms {
		s, c, h := distinctTermsSlow(tokens)
		return append(sorted, s...), append(counts, c...), append(hashes, h...)
	}
	// Everything but the results lives on the stack.
	var (
		table [2 * maxFastTerms]uint16 // index+1 into first, 0 empty
		first [maxFastTerms]int32      // a distinct term's first token
		cnt   [maxFastTerms]int32
		hs    [maxFastTerms]uint32
		keys  [maxFastTerms]uint64
	)
	mask := uint32(2*maxFastTerms - 1)
	n := 0
	for ti, s := range tokens {
		h := hash32(seedTerm, s)
		for i := (h * 0x9E3779B1) >> 23 & mask; ; i = (i + 1) & mask {
			j := table[i]
			if j == 0 {
				table[i] = uint16(n + 1)
				first[n], cnt[n], hs[n] = int32(ti), 1, h
				n++
				break
			}
			if hs[j-1] == h && tokens[first[j-1]] == s {
				cnt[j-1]++
				break
			}
		}
	}
	// Keys: the term's first 7 bytes, big-endian and zero-padded, so they
	// order as the strings do, and the term's index in the low byte. Runs
	// of terms sharing 7 bytes are then sorted as strings.
	for i := range n {
		s := tokens[first[i]]
		var k uint64
		if len(s) >= 7 {
			// Most terms: one combined load, no branch per byte.
			_ = s[6]
			k = uint64(s[0])<<48 | uint64(s[1])<<40 | uint64(s[2])<<32 | uint64(s[3])<<24 |
				uint64(s[4])<<16 | uint64(s[5])<<8 | uint64(s[6])
		} else {
			for b := 0; b < len(s); b++ {
				k |= uint64(s[b]) << (48 - 8*b)
			}
		}
		keys[i] = k<<8 | uint64(i)
	}
	ks := sortKeys(keys[:n])
	for i := 0; i < n; {
		j := i + 1
		for j < n && ks[j]>>8 == ks[i]>>8 {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(ks[i:j], func(a, b uint64) int {
				return strings.Compare(tokens[first[a&0xff]], tokens[first[b&0xff]])
			})
		}
		i = j
	}
	for _, k := range ks {
		d := k & 0xff
		sorted = append(sorted, tokens[first[d]])
		counts = append(counts, cnt[d])
		hashes = append(hashes, hs[d])
	}
	return sorted, counts, hashes
}

// sortKeys sorts distinctTerms' keys (at most maxFastTerms) and returns
// them. Keys are distributed by their top byte, a term's first byte, then
// an insertion sort puts each run in order: a post's terms spread over a
// few dozen first letters, so this costs a fraction of a comparison sort,
// which mispredicted about every other comparison. A post whose terms
// crowd under a few first bytes is sorted by comparison.
func sortKeys(ks []uint64) []uint64 {
	var start [257]uint16
	lo, hi := uint64(255), uint64(0) // first bytes present
	for _, k := range ks {
		start[k>>56+1]++
		lo, hi = min(lo, k>>56), max(hi, k>>56)
	}
	// Prefix sums over the first bytes present only (start[lo] is 0):
	// a post's terms span a few dozen of the 256.
	for b := lo + 1; b <= hi+1; b++ {
		if start[b] > maxBucket {
			slices.Sort(ks)
			return ks
		}
		start[b] += start[b-1]
	}
	var tmp [maxFastTerms]uint64
	out := tmp[:len(ks)]
	for _, k := range ks {
		b := k >> 56
		out[start[b]] = k
		start[b]++
	}
	// Runs are already in order of one another: elements move only within
	// their run.
	for i := 1; i < len(out); i++ {
		k := out[i]
		j := i
		for ; j > 0 && out[j-1] > k; j-- {
			out[j] = out[j-1]
		}
		out[j] = k
	}
	copy(ks, out)
	return ks
}

// maxBucket bounds the terms sortKeys insertion-sorts under one first
// byte.
const maxBucket = 48

// maxFastTerms bounds the posts distinctTerms handles on the stack: a
// distinct term's index must fit a key's low byte.
const maxFastTerms = 256

// distinctTermsSlow is distinctTerms for posts of more than maxFastTerms
// tokens.
func distinctTermsSlow(tokens []string) (sorted []string, counts []int32, hashes []uint32) {
	idx := map[string]int{}
	for _, s := range tokens {
		if i, ok := idx[s]; ok {
			counts[i]++
			continue
		}
		idx[s] = len(sorted)
		sorted = append(sorted, s)
		counts = append(counts, 1)
	}
	order := make([]int, len(sorted))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(sorted[a], sorted[b]) })
	s2 := make([]string, len(sorted))
	c2 := make([]int32, len(sorted))
	hashes = make([]uint32, len(sorted))
	for i, o := range order {
		s2[i], c2[i], hashes[i] = sorted[o], counts[o], hash32(seedTerm, sorted[o])
	}
	return s2, c2, hashes
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
	// seen marks a fact whose known appearances hold at least seenRecall
	// of the post's term weight: a candidate at any first-stage depth.
	seen bool
}

// Match returns the k facts that best match s, best first, with calibrated
// scores; ties go by fact id (compareIDs) so results are deterministic.
// langHint ("vi", "fr", "en") overrides language detection.
func (ix *Index) Match(s, langHint string, k int) []Result {
	if k <= 0 {
		return nil
	}
	d := ix.analyzeDoc(s, langHint)
	sc := ix.getScratch()
	defer ix.pool.Put(sc)
	q := newQuery(d, &sc.qb)
	return ix.match(sc, &q, k)
}

// MatchDoc is Match for a post the caller has already analysed with
// text.Analyze, so a stream analyses each post once. doc.Lang is taken as
// given.
func (ix *Index) MatchDoc(doc text.Doc, k int) []Result {
	if k <= 0 {
		return nil
	}
	sc := ix.getScratch()
	defer ix.pool.Put(sc)
	q := newQuery(doc, &sc.qb)
	return ix.match(sc, &q, k)
}

func (ix *Index) getScratch() *scratch {
	if sc, ok := ix.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{}
}

// match ranks q's candidates; q and the candidates use sc's buffers.
func (ix *Index) match(sc *scratch, q *query, k int) []Result {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	cands := ix.candidatesWith(sc, q, max(ix.opts.Candidates, k), ix.opts.MinScore)
	for i := range cands {
		cands[i].score = ix.model.Score(cands[i].feats[:])
	}
	sc.order = ix.rankCands(cands, sc.order[:0])
	// Sized to the results: most stream posts have none, and an empty
	// slice of capacity 0 does not allocate.
	m := 0
	for _, i := range sc.order {
		if m == k || cands[i].score < ix.opts.MinScore {
			break
		}
		m++
	}
	out := make([]Result, 0, m)
	for _, i := range sc.order[:m] {
		c := &cands[i]
		f := &ix.facts[c.doc].f
		out = append(out, Result{FactID: f.ID, Score: c.score, Verdict: f.Verdict, Rating: f.Rating,
			Lang: ix.facts[c.doc].lang, URL: f.URL, BM25: c.bm25})
	}
	return out
}

// rankCands returns the candidates' indexes by score, ties by fact id.
// Sorting indexes moves 4 bytes a swap instead of a 200-byte candidate.
func (ix *Index) rankCands(cands []candidate, order []int32) []int32 {
	for i := range cands {
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &cands[i], &cands[j]
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return compareIDs(ix.facts[a.doc].f.ID, ix.facts[b.doc].f.ID)
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

// logCounts holds math.Log of small term counts: most posts repeat few
// terms, and the table gives the very same values without a call each.
var logCounts = func() (t [64]float64) {
	for i := 1; i < len(t); i++ {
		t[i] = math.Log(float64(i))
	}
	return t
}()

func logCount(c int32) float64 {
	if c > 0 && int(c) < len(logCounts) {
		return logCounts[c]
	}
	return math.Log(float64(c))
}

func (st *stats) idf(df float64) float64 {
	return math.Log(1 + (st.n-df+0.5)/(df+0.5))
}

// idfTable holds every term's idf for one statistics variant at one index
// version: a post's known terms then cost one load each instead of two
// loads and a logarithm. The live df rides along (it changes only with
// the version), so the one load also tells whether the term has postings.
type idfTable struct {
	version uint64
	n       float64
	idf     []termStat // by term id
}

type termStat struct {
	idf float64
	df  int32 // ix.df at the table's version
}

// idfsFor returns st's idf table for the current version, or nil while
// rebuilding does not pay yet (as normsFor: once 1/64 as many posts as
// terms have been matched since it went stale). The caller holds the read
// lock.
func (ix *Index) idfsFor(st *stats) []termStat {
	v := st.li + 1
	if t := ix.idfs[v].Load(); t != nil && t.version == ix.version && t.n == st.n {
		return t.idf
	}
	if ix.idfMisses[v].Add(1) <= int64(len(ix.df)/64) {
		return nil
	}
	t := &idfTable{version: ix.version, n: st.n, idf: make([]termStat, len(ix.df))}
	for id := range t.idf {
		t.idf[id] = termStat{st.idf(st.dfOf(int32(id))), ix.df[id]}
	}
	ix.idfs[v].Store(t)
	ix.idfMisses[v].Store(0)
	return t.idf
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
	sc := ix.getScratch()
	defer ix.pool.Put(sc)
	return slices.Clone(ix.candidatesWith(sc, q, n, minScore))
}

// candidatesWith is candidatesLocked with the caller's scratch, whose
// buffer the candidates are in.
func (ix *Index) candidatesWith(sc *scratch, q *query, n int, minScore float64) []candidate {
	if len(sc.acc) < len(ix.facts) {
		sc.acc = make([][accLen]float32, len(ix.facts)+len(ix.facts)/4)
		sc.tot = make([]float32, len(sc.acc))
	}
	sc.touched = sc.touched[:0]
	defer func() {
		for _, d := range sc.touched {
			sc.tot[d] = 0
		}
	}()
	st := ix.statsFor(q.doc.Lang)
	nt := ix.normsFor(&st.avg)
	// Terms in more than frequentShare of the facts do not choose the
	// candidates: their postings are most of the work and their idf is low.
	// They still score every candidate exactly, looked up per candidate.
	frequent := max(float64(frequentFloor), frequentShare*float64(ix.live))
	var late []qterm
	early := sc.early[:0]
	var totalW float64
	// The look-ups run back to back, before the postings, so their cache
	// misses can overlap. One look-up per term: the dictionary holds the
	// background's terms too.
	sink := ix.dict.prefetch(q.sortedHash)
	ids := sc.ids[:0]
	for i, t := range q.sorted {
		id, _ := ix.dict.lookup(t, q.sortedHash[i])
		ids = append(ids, id)
	}
	sc.ids = ids
	idf0 := st.idf(0) // every unknown term's
	idfs := ix.idfsFor(&st)
	// Likewise the terms' idf and df entries: touched in a loop without
	// branches, their misses overlap.
	if idfs != nil {
		for _, id := range ids {
			sink += uint32(idfs[max(id, 0)].df)
		}
	}
	qws := sc.qw[:0]
	for i := range q.sorted {
		id := ids[i]
		ok := id >= 0
		idf, df := idf0, int32(0)
		if ok {
			if idfs != nil {
				idf, df = idfs[id].idf, idfs[id].df
			} else {
				idf, df = st.idf(st.dfOf(id)), ix.df[id]
			}
		}
		qw := idf * (1 + logCount(q.counts[i]))
		totalW += qw
		qws = append(qws, qw)
		if !ok || df <= 0 {
			continue
		}
		if float64(df) > frequent {
			late = append(late, qterm{id, qw})
			continue
		}
		early = append(early, qterm{id, qw})
	}
	sc.qw = qws[:0] // keep the grown buffer
	// The selecting terms' postings, in term order, their list headers
	// loaded together first.
	for _, t := range early {
		sink += uint32(len(ix.post[t.id]))
	}
	for _, t := range early {
		ix.scorePostings(sc, nt, t.id, t.w, &st.avg)
	}
	if len(sc.touched) == 0 && len(late) > 0 {
		// Only frequent terms matched: let them choose after all.
		for _, lt := range late {
			ix.scorePostings(sc, nt, lt.id, lt.w, &st.avg)
		}
		early = append(early, late...)
		late = nil
	}
	sc.early = early[:0]
	cands := ix.topLocked(sc, n)
	if len(ix.seenPost) > 0 {
		cands = ix.recallSeen(sc, q, cands, qws, totalW)
	}
	if len(cands) > 0 {
		// The candidates' feature sets are cold: start their loads now, so
		// the misses overlap with the work below instead of stalling the
		// feature loops one candidate at a time.
		for r := range cands {
			sink += uint32(len(ix.sets[cands[r].doc].h))
		}
		// Selection summed BM25F totals only; the per-field sums and the
		// matched weight, features of the candidates alone, are added now
		// for them, term by term in the same order, before the late terms.
		ix.addFields(sc, cands, early, nt, &st.avg)
		// Then every cache line of the candidates' mid-stage sets.
		for r := range cands {
			fs := &ix.sets[cands[r].doc]
			h := fs.h[:fs.end[setEntities]]
			for i := 0; i < len(h); i += 16 {
				sink += h[i]
			}
		}
		sc.sink += sink
		if len(late) > 0 {
			ix.addLate(sc, cands, ix.candsByDoc(sc, cands), late, nt, &st.avg)
		}
	}
	if len(cands) == 0 {
		return cands
	}
	var sigTotal float64
	for _, t := range q.sig {
		id, ok := ix.dict.lookup(t, hash32(seedTerm, t))
		idf := idf0
		if ok {
			if idfs != nil {
				idf = idfs[id].idf
			} else {
				idf = st.idf(st.dfOf(id))
			}
		}
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
		a := &sc.acc[c.doc]
		x := &c.feats
		x[0] = c.bm25
		x[1] = c.bm25 / totalW
		x[2], x[3], x[4] = float64(a[fClaim]), float64(a[fTitle]), float64(a[fSummary])
		x[5] = min(float64(a[accMatched])/totalW, 1)
		if sigTotal > 0 {
			x[15] = float64(a[accSig]) / sigTotal
		}
		if fd := ix.sets[c.doc].date; !q.date.IsZero() && !fd.IsZero() {
			days := math.Abs(fd.Sub(q.date).Hours() / 24)
			x[16] = math.Exp(-days / 60)
			x[17] = 1
		}
		x[18] = qlen
		x[19] = ix.sets[c.doc].claimLen
		if q.doc.Lang == text.LangVI && ix.sets[c.doc].vi {
			// Vietnamese terms (syllables, both spellings, bigrams) give
			// other feature scales than English stems. Only where both
			// sides are Vietnamese: a Vietnamese post meets an English
			// fact on names and numbers, English-scale evidence, and
			// with the Vietnamese offset its candidates passed the
			// stream's score floor far more often (Stream15k 15% slower
			// once the real Vietnamese paraphrase joined the training).
			x[21] = 1
		}
	}
	for r := range cands { // read for the last time: clear for the next query
		sc.acc[cands[r].doc] = [accLen]float32{}
	}
	bits := &sc.bits
	defer bits.reset()
	// The term hashes go in as they are: distinct terms sharing a hash set
	// the same bit, so they need no dedupe.
	for _, hs := range [][]uint32{q.bigrams, q.nums, q.ents, q.sortedHash} {
		bits.add(hs)
	}
	for r := range cands {
		c := &cands[r]
		fs := &ix.sets[c.doc]
		x := &c.feats
		bi := bits.count(fs.set(setBigrams))
		x[6] = float64(bi) / float64(max(1, len(q.bigrams)))
		x[7] = math.Log1p(float64(bi))
		x[10] = float64(bits.count(fs.set(setClaim))) / float64(max(1, fs.len(setClaim)))
		nm := bits.count(fs.set(setNumbers))
		x[11] = float64(nm)
		if fs.len(setNumbers) > 0 && nm == 0 {
			x[12] = 1
		}
		em := bits.count(fs.set(setEntities))
		x[13] = float64(em) / float64(max(1, fs.len(setEntities)))
		x[14] = math.Log1p(float64(em))
		if seen := fs.set(setSeen); len(seen) > 0 {
			// Weighted like qcov_idf: sharing "trump" with a known
			// appearance says little, sharing "baguette" much.
			// The bitset holds the post's term hashes: probing it with
			// each appearance term is cheap and branch-free, and only
			// the few hits look up their weight.
			var w float64
			for _, h := range seen {
				i := h % bitsetBits
				if bits.words[i/64]>>(i%64)&1 != 0 {
					if j := slices.Index(q.sortedHash, h); j >= 0 {
						w += qws[j]
					}
				}
			}
			// Squared: only a post that is mostly a known appearance's
			// words is strong evidence, one on the same topic is not.
			cov := min(w/totalW, 1)
			x[23] = cov * cov
			x[24] = 1
		}
	}
	// The meaning vectors' cosine: words in common are not needed, so it
	// lifts paraphrases the term features miss (CheckThat! 2020 dev MAP@5
	// 0.80 → 0.82). A few µs per post, paid only by posts with candidates.
	// Vietnamese posts get 0: the Llama 2 tokenizer spells Vietnamese in
	// bytes and fragments, and trained with them the feature's weight
	// halved (2020 dev 0.81) while Vietnamese gained nothing.
	if em := embedder(); em != nil && q.doc.Lang != text.LangVI {
		if cap(sc.vec) < em.Dim() {
			sc.vec = make([]float32, em.Dim())
		}
		if v := sc.vec[:em.Dim()]; em.Embed(q.doc.Text, v) {
			for r := range cands {
				cands[r].feats[22] = ix.sets[cands[r].doc].emb.Cos(v)
			}
		}
	}
	if cands = ix.prune(cands, &midKnown, minScore); len(cands) == 0 {
		return cands
	}
	// The post's trigrams, the costliest feature input, are computed only
	// now, into a pooled buffer.
	grams := dedupe(gramHashes(sc.grams[:0], q.doc.Text))
	sc.grams = grams[:0]
	bits.add(grams)
	for r := range cands {
		c := &cands[r]
		fs := &ix.sets[c.doc]
		x := &c.feats
		cg := bits.count(fs.set(setCGrams))
		g := cg + bits.count(fs.set(setTGrams))
		x[8] = float64(g) / math.Sqrt(float64(max(1, len(grams)*(fs.len(setCGrams)+fs.len(setTGrams)))))
		x[9] = float64(cg) / float64(max(1, fs.len(setCGrams)))
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
	// In place and by pointer: a candidate is 200 bytes.
	cut := newCutoff(minScore)
	z0, ok := ix.model.marginBase(nFeatures, known[:])
	w := 0
	for i := range cands {
		if ok {
			if ix.model.boundBelowBase(z0, cands[i].feats[:], known[:], minScore, cut) {
				continue
			}
		} else if ix.model.boundBelow(cands[i].feats[:], known[:], minScore, cut) {
			continue
		}
		if w != i {
			cands[w] = cands[i]
		}
		w++
	}
	return cands[:w]
}

// normTable holds, at one index version, the BM25 norm of a term
// occurring once in a field, 1/lenNorm, for every document. Nearly every
// posting has tf 1 in its fields, so the posting loop then divides once
// per field where it divided twice. The norm depends on the document only
// through the field's length, so it is tabled by length (byLen, a few
// hot kilobytes) and each document holds its lengths in 6 bytes: the
// posting loop's one random load per hit is a quarter of the 24-byte
// per-document norms it read before, and stays in cache.
type normTable struct {
	version uint64
	avg     [nFields]float64
	lens    [][nFields]uint16 // by document; lens[d][0] is lenDead or lenLong
	byLen   [nFields][lenTable]float64
}

const (
	lenTable = 1 << 12 // field lengths tabled; longer fields are computed
	lenLong  = 0xfffe  // a field is longer than the table: compute the norms
	lenDead  = 0xffff  // the document is dead
)

// docInv returns document d's norms, exactly as 1/lenNorm gives them.
func (t *normTable) docInv(d int32, m *docMeta) (inv [nFields]float64) {
	l := &t.lens[d]
	if l[0] >= lenLong {
		for f := range nFields {
			inv[f] = 1 / lenNorm(m, &t.avg, f)
		}
		return inv
	}
	for f := range nFields {
		inv[f] = t.byLen[f][l[f]%lenTable]
	}
	return inv
}

// lenNorm is BM25's length normaliser of a document's field f:
// 1 - b + b·len/avg.
func lenNorm(m *docMeta, avg *[nFields]float64, f int) float64 {
	return lenNormOf(float64(m.fieldLen[f]), avg, f)
}

func lenNormOf(l float64, avg *[nFields]float64, f int) float64 {
	return 1 - fieldB[f] + fieldB[f]*l/avg[f]
}

// normsFor returns the norms for the current version, or nil when they
// are stale and rebuilding does not pay yet. Every Upsert and Delete
// changes the average lengths, so the table is rebuilt — one pass over
// the documents — only once 1/64 as many posts as documents have been
// matched since it went stale: a bulk load interleaved with matching does
// not rebuild per post. The caller holds the read lock; concurrent
// builders build the same table.
func (ix *Index) normsFor(avg *[nFields]float64) *normTable {
	if t := ix.norms.Load(); t != nil && t.version == ix.version {
		return t
	}
	if ix.normMisses.Add(1) <= int64(len(ix.meta)/64) {
		return nil
	}
	t := &normTable{version: ix.version, avg: *avg, lens: make([][nFields]uint16, len(ix.meta))}
	for f := range nFields {
		for l := range lenTable {
			// float64(float32(l)) == float64(l): the very value lenNorm
			// computes from a document's float32 length.
			t.byLen[f][l] = 1 / lenNormOf(float64(l), avg, f)
		}
	}
	for d := range ix.meta {
		m := &ix.meta[d]
		if !m.alive {
			t.lens[d][0] = lenDead
			continue
		}
		for f := range nFields {
			l := m.fieldLen[f]
			if !(l >= 0 && l < lenTable && l == float32(int(l))) {
				t.lens[d] = [nFields]uint16{lenLong}
				break
			}
			t.lens[d][f] = uint16(l)
		}
	}
	ix.norms.Store(t)
	ix.normMisses.Store(0)
	return t
}

// scorePostings adds term id's BM25F contribution to the total of every
// live document in its postings; nt may be nil (norms computed per hit).
// The per-field sums are left to addFields: most documents touched never
// become candidates, so their three divisions a hit were wasted.
func (ix *Index) scorePostings(sc *scratch, nt *normTable, id int32, qw float64, avg *[nFields]float64) {
	ps := ix.post[id]
	if nt == nil {
		for i := range ps {
			p := &ps[i]
			m := &ix.meta[p.doc]
			if !m.alive {
				continue
			}
			a := &sc.tot[p.doc]
			if *a == 0 {
				sc.touched = append(sc.touched, p.doc)
			}
			tfw := postingTFW(p, nil, m, avg)
			*a += float32(qw * tfw / (bm25K1 + tfw))
		}
		return
	}
	byLen := &nt.byLen
	// Every posting's document is written at touched[w], and w moves on
	// only for a document not touched before: no branch on it, which
	// mispredicted wherever new and seen documents mix.
	touched := slices.Grow(sc.touched, len(ps))
	w := len(touched)
	touched = touched[:w+len(ps)]
	for i := range ps {
		p := &ps[i]
		l := &nt.lens[p.doc]
		// Some tf above 1 exactly when the tfs' bitwise or is: one test.
		if l[0] >= lenLong || p.tf[0]|p.tf[1]|p.tf[2] > 1 {
			if l[0] == lenDead {
				continue
			}
			// A tf above 1 (1.5% of postings) or an over-long field.
			m := &ix.meta[p.doc]
			inv := nt.docInv(p.doc, m)
			tfw := postingTFW(p, &inv, m, avg)
			a := &sc.tot[p.doc]
			if *a == 0 {
				touched[w] = p.doc
				w++
			}
			*a += float32(qw * tfw / (bm25K1 + tfw))
			continue
		}
		a := &sc.tot[p.doc]
		touched[w] = p.doc
		inc := 0
		if *a == 0 {
			inc = 1
		}
		w += inc
		// tf ≤ 1, without a branch per field: the pattern of fields varies
		// from posting to posting. An absent field adds +0 to tfw, which
		// leaves it unchanged; the sum is in addPosting's order.
		tfw := fieldWeight[0] * (float64(p.tf[0]) * byLen[0][l[0]%lenTable])
		tfw += fieldWeight[1] * (float64(p.tf[1]) * byLen[1][l[1]%lenTable])
		tfw += fieldWeight[2] * (float64(p.tf[2]) * byLen[2][l[2]%lenTable])
		*a += float32(qw * tfw / (bm25K1 + tfw))
	}
	sc.touched = touched[:w]
}

// fieldNorm is BM25's normalised tf of a posting's field f (tf > 0), as
// addPosting computes it; inv may be nil.
func fieldNorm(p *posting, inv *[nFields]float64, m *docMeta, avg *[nFields]float64, f int) float64 {
	if p.tf[f] == 1 && inv != nil {
		return inv[f] // = 1 / lenNorm
	}
	return float64(p.tf[f]) / lenNorm(m, avg, f)
}

// postingTFW is a posting's field-weighted tf, summed as addPosting does.
func postingTFW(p *posting, inv *[nFields]float64, m *docMeta, avg *[nFields]float64) float64 {
	var tfw float64
	for f := range nFields {
		if p.tf[f] != 0 {
			tfw += fieldWeight[f] * fieldNorm(p, inv, m, avg, f)
		}
	}
	return tfw
}

// addPostingFields adds one posting's per-field BM25 values and its
// matched weight: addPosting without the total.
func addPostingFields(a *[accLen]float32, p *posting, inv *[nFields]float64, m *docMeta, qw float64, avg *[nFields]float64) {
	for f := range nFields {
		if p.tf[f] != 0 {
			norm := fieldNorm(p, inv, m, avg, f)
			a[f] += float32(qw * norm / (bm25K1 + norm))
		}
	}
	a[accMatched] += float32(qw)
}

// candsByDoc returns the candidates' indexes in document order, in sc's
// buffer.
func (ix *Index) candsByDoc(sc *scratch, cands []candidate) []int32 {
	byDoc := sc.order[:0]
	for i := range cands {
		byDoc = append(byDoc, int32(i))
	}
	slices.SortFunc(byDoc, func(i, j int32) int { return cmp.Compare(cands[i].doc, cands[j].doc) })
	sc.order = byDoc[:0]
	return byDoc
}

// addFields adds the per-field sums and matched weight of the terms that
// selected the candidates (early, in their order) to the candidates'
// accumulators. The candidates are marked in a bitset over documents
// (2 KB at 15k facts, in cache), and each term's postings are walked again
// testing it: a sequential scan with a rarely taken branch, cheaper than
// searching each candidate in each list. A document that is a candidate
// twice (its total passed through 0) shares its accumulator and is
// visited once per posting, as before.
func (ix *Index) addFields(sc *scratch, cands []candidate, early []qterm, nt *normTable, avg *[nFields]float64) {
	if nw := (len(ix.meta) + 63) / 64; len(sc.candBits) < nw {
		sc.candBits = make([]uint64, nw+nw/4)
	}
	cb := sc.candBits
	for i := range cands {
		d := uint32(cands[i].doc)
		cb[d/64] |= 1 << (d % 64)
	}
	for _, t := range early {
		ps := ix.post[t.id]
		for i := range ps {
			p := &ps[i]
			d := uint32(p.doc)
			if cb[d/64]>>(d%64)&1 == 0 {
				continue
			}
			var inv *[nFields]float64
			if nt != nil {
				in := nt.docInv(int32(d), &ix.meta[d])
				inv = &in
			}
			addPostingFields(&sc.acc[d], p, inv, &ix.meta[d], t.w, avg)
		}
	}
	for i := range cands {
		cb[cands[i].doc/64] = 0
	}
}

// hit is a first-stage result: the score travels with the document so
// selection compares without reaching into the accumulators.
type hit struct {
	s float32
	d int32
}

// recallSeen marks the candidates whose fact's known appearances hold at
// least seenRecall of the post's term weight, and adds the best
// maxSeenRecall such facts that BM25F left out. A claim that spreads again
// reuses an earlier version's words, which need not be the fact-check's:
// the appearances retrieve it where the fact's own fields do not. Only
// facts with appearances have postings here, a small share of the index,
// so this costs a few map look-ups per post.
func (ix *Index) recallSeen(sc *scratch, q *query, cands []candidate, qws []float64, totalW float64) []candidate {
	if len(sc.seenW) < len(ix.facts) {
		sc.seenW = make([]float32, len(ix.facts)+len(ix.facts)/4)
	}
	docs := sc.seenDocs[:0]
	// As in selection, a term in more than frequentShare of the facts
	// (and frequentFloor) chooses nothing: its list would be most of the
	// work and its weight is low. It still counts in the post's total, so
	// the other terms must carry the share.
	frequent := max(frequentFloor, int(frequentShare*float64(ix.live)))
	bits := ix.seenBits
	for i, h := range q.sortedHash {
		if bits[h/64%seenBitsWords]>>(h%64)&1 == 0 {
			continue // in no appearance
		}
		ds := ix.seenPost[h]
		if len(ds) > frequent {
			continue
		}
		w := float32(qws[i])
		for _, d := range ds {
			if sc.seenW[d] == 0 {
				docs = append(docs, d)
			}
			sc.seenW[d] += w
		}
	}
	floor := float32(seenRecall * max(totalW, 1e-9))
	add := docs[:0] // compacts in place: add never passes the reader
	for _, d := range docs {
		if sc.seenW[d] >= floor && ix.meta[d].alive {
			add = append(add, d)
		} else {
			sc.seenW[d] = 0
		}
	}
	for i := range cands {
		if sc.seenW[cands[i].doc] > 0 {
			cands[i].seen = true
			sc.seenW[cands[i].doc] = 0 // already a candidate
		}
	}
	add = slices.DeleteFunc(add, func(d int32) bool { return sc.seenW[d] == 0 })
	slices.SortFunc(add, func(a, b int32) int {
		if c := cmp.Compare(sc.seenW[b], sc.seenW[a]); c != 0 {
			return c
		}
		return compareIDs(ix.facts[a].f.ID, ix.facts[b].f.ID)
	})
	for i, d := range add {
		sc.seenW[d] = 0
		if i >= maxSeenRecall {
			continue
		}
		if sc.tot[d] == 0 {
			// Untouched by the post's terms so far: the late terms may
			// write its total, which is cleared through touched.
			sc.touched = append(sc.touched, d)
		}
		cands = append(cands, candidate{doc: d, bm25: float64(sc.tot[d]), seen: true})
	}
	sc.seenDocs = docs[:0]
	sc.cands = cands
	return cands
}

// topLocked selects the n best touched documents: highest BM25F first,
// ties by fact id (compareIDs), so the selection is deterministic. The
// n-th best score is found on the scores alone; only documents tied at it
// compare fact ids, which sit in cold memory (a bounded heap of hits
// compared them on every tie along the way, and the synthetic and
// near-duplicate facts tie often).
func (ix *Index) topLocked(sc *scratch, n int) []candidate {
	h := sc.heap[:0]
	// The least and greatest scores, for nthLargest, as the hits are
	// gathered: compares rarely change them, so the branches predict.
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, d := range sc.touched {
		s := sc.tot[d]
		h = append(h, hit{s, d})
		if s < lo {
			lo = s
		}
		if s > hi {
			hi = s
		}
	}
	sc.heap = h
	if len(h) > n {
		var th float32
		var top []hit
		th, top, sc.scores, sc.bk = nthLargest(h, n, lo, hi, sc.scores[:0], sc.bk)
		w := 0
		ties := sc.ties[:0]
		for _, x := range top { // compacts in place: w never passes the reader
			if x.s > th { // above the threshold: all taken
				h[w] = x
				w++
			} else if x.s == th {
				ties = append(ties, x)
			}
		}
		sc.ties = ties
		if need := n - w; len(ties) > need {
			slices.SortFunc(ties, func(a, b hit) int {
				return compareIDs(ix.facts[a.d].f.ID, ix.facts[b.d].f.ID)
			})
			ties = ties[:need]
		}
		h = append(h[:w], ties...)
	}
	cands := sc.cands[:0]
	for _, x := range h {
		cands = append(cands, candidate{doc: x.d, bm25: float64(x.s)})
	}
	sc.cands = cands
	// The features do not depend on the first-stage rank, and the results
	// are sorted by score.
	return cands
}

// nthLargest returns the n-th largest score of h (1 ≤ n ≤ len(h)),
// counting repeats, given h's least and greatest scores (a ±0 extreme may
// come as either zero: the buckets are the same). The scores are counted
// into 256 buckets spaced evenly between the least and the greatest (the
// bucket index is monotone in the score, so the n-th largest lies in the
// bucket where the count from the top reaches n); only that bucket's
// scores are sorted. Each pass is a well-predicted loop, where
// quickselect's partitioning and a bounded heap's sifting mispredicted a
// branch about every other comparison.
//
// It also compacts into h's front, in order, the hits of the threshold's
// bucket and above, and returns them (top): every hit scoring at least the
// threshold is there, and the caller's pass to split them from the rest
// then runs over those few instead of every hit. buf (the bucket's scores)
// and bk (each hit's bucket) are buffers, returned grown for reuse.
func nthLargest(h []hit, n int, lo, hi float32, buf []float32, bk []uint8) (float32, []hit, []float32, []uint8) {
	if !(hi > lo) { // all equal
		return hi, h, buf, bk
	}
	const nb = 256
	scale := float32(nb-1) / (hi - lo)
	if cap(bk) < len(h) {
		bk = make([]uint8, len(h), 2*len(h))
	}
	bk = bk[:len(h)]
	var cnt [nb]int32
	for i, x := range h {
		b := uint8(min(int((x.s-lo)*scale), nb-1))
		bk[i] = b
		cnt[b]++
	}
	b, above := nb-1, 0
	for above+int(cnt[b]) < n {
		above += int(cnt[b])
		b--
	}
	// Buckets are monotone in the score: a hit in a higher bucket scores
	// above every hit of bucket b, one in a lower bucket below.
	buf = buf[:0]
	w := 0
	for i, x := range h { // w never passes the reader
		if c := int(bk[i]); c >= b {
			h[w] = x
			w++
			if c == b {
				buf = append(buf, x.s)
			}
		}
	}
	slices.Sort(buf)
	return buf[len(buf)-(n-above)], h[:w], buf, bk
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

// addPosting adds one posting's BM25F and per-field BM25 contributions;
// inv, if not nil, is the document's normTable entry, m its metadata
// (read only for a tf above 1 or without inv).
func addPosting(a *[accLen]float32, tot *float32, p *posting, inv *[nFields]float64, m *docMeta, qw float64, avg *[nFields]float64) {
	var tfw float64
	for f := range nFields {
		tf := p.tf[f]
		if tf == 0 {
			continue
		}
		var norm float64
		if tf == 1 && inv != nil {
			norm = inv[f] // = 1 / lenNorm, as computed below
		} else {
			norm = float64(tf) / lenNorm(m, avg, f)
		}
		a[f] += float32(qw * norm / (bm25K1 + norm)) // per-field BM25 is a feature
		tfw += fieldWeight[f] * norm
	}
	*tot += float32(qw * tfw / (bm25K1 + tfw))
	a[accMatched] += float32(qw)
}

// addLate adds the late (frequent) terms' contributions to the
// candidates. Each term's postings are long, so they are walked once with
// the candidates in document order, each search galloping on from the
// last, instead of a binary search from scratch per candidate. Every
// candidate still receives the terms in their order. byDoc is
// candsByDoc's.
func (ix *Index) addLate(sc *scratch, cands []candidate, byDoc []int32, late []qterm, nt *normTable, avg *[nFields]float64) {
	for i := 1; i < len(byDoc); i++ {
		if cands[byDoc[i]].doc == cands[byDoc[i-1]].doc {
			// A document touched twice (its sum passed through 0) is a
			// candidate twice; the per-candidate order keeps its sums.
			ix.addLateEach(sc, cands, late, nt, avg)
			return
		}
	}
	for _, lt := range late {
		ps := ix.post[lt.id]
		at := 0
		for _, ci := range byDoc {
			d := cands[ci].doc
			if at = seekPosting(ps, at, d); at == len(ps) {
				break
			}
			if p := &ps[at]; p.doc == d {
				var inv *[nFields]float64
				if nt != nil {
					in := nt.docInv(d, &ix.meta[d])
					inv = &in
				}
				addPosting(&sc.acc[d], &sc.tot[d], p, inv, &ix.meta[d], lt.w, avg)
			}
		}
	}
	for i := range cands {
		cands[i].bm25 = float64(sc.tot[cands[i].doc])
	}
}

// addLateEach is addLate candidate by candidate, a binary search each.
func (ix *Index) addLateEach(sc *scratch, cands []candidate, late []qterm, nt *normTable, avg *[nFields]float64) {
	for i := range cands {
		d := cands[i].doc
		var inv *[nFields]float64
		if nt != nil {
			in := nt.docInv(d, &ix.meta[d])
			inv = &in
		}
		for _, lt := range late {
			if p := findPosting(ix.post[lt.id], d); p != nil {
				addPosting(&sc.acc[d], &sc.tot[d], p, inv, &ix.meta[d], lt.w, avg)
			}
		}
		cands[i].bm25 = float64(sc.tot[d])
	}
}

// seekPosting returns the index of the first posting at or after from
// whose document is not below doc (len(ps) if none): it gallops from
// from, then searches the bracketed range.
func seekPosting(ps []posting, from int, doc int32) int {
	lo, hi, step := from, from, 1
	for hi < len(ps) && ps[hi].doc < doc {
		lo = hi + 1
		hi += step
		step <<= 1
	}
	hi = min(hi, len(ps))
	// ps[lo-1].doc < doc (or lo == from); ps[hi].doc >= doc (or hi == len).
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].doc < doc {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
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
