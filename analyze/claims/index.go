package claims

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/trendwatch/trendwatch/analyze/embed"
	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// Fields of a fact that BM25F weighs separately.
const (
	fClaim   = iota // claim and its translations
	fTitle          // headline of the fact-check
	fSummary        // summary, tags, publisher
	nFields
)

// Options configure an Index. The zero value is usable.
type Options struct {
	// Thresholds are the alert thresholds on the calibrated score, per
	// language ("vi", "fr", "en", "und"); missing languages use
	// DefaultThresholds, then DefaultThreshold.
	Thresholds map[string]float64
	// Model re-ranks candidates; nil uses the embedded, trained model.
	Model *Model
	// Candidates is how many BM25F hits are re-ranked (default: the
	// model's training depth, else 40).
	Candidates int
	// Background supplies document frequencies and field lengths that
	// make scores independent of the collection's size; nil uses the
	// embedded table (EmbeddedBackground).
	Background *Background
	// MinScore lets Match skip the re-ranker for candidates whose score
	// provably cannot reach it (an upper bound from the cheap features),
	// and drop results below it. 0 keeps every result. The analyzer,
	// which stores matches ≥ 0.3, should set 0.3: most posts in a stream
	// match nothing and then cost only the first stage.
	MinScore float64
	// Known adds posts known to restate facts (by claim text) to the
	// facts' own Appearances; nil uses the embedded table (EmbeddedKnown),
	// &Known{} none.
	Known *Known
}

// DefaultThreshold is the alert threshold for a language with none set.
const DefaultThreshold = 0.5

// DefaultThresholds are per-language alert thresholds on the calibrated
// score. The re-ranker is trained on English tweets and Vietnamese news
// rewrites (with a language feature), so vi and en scores are calibrated
// alike; French has no training data and undetermined text is the least
// reliable, so "und" sits higher.
var DefaultThresholds = map[string]float64{"en": 0.5, "fr": 0.5, "vi": 0.5, "und": 0.6}

// Result is one matched fact.
type Result struct {
	FactID  string
	Score   float64 // calibrated confidence in 0..1 that the fact checks this text
	Verdict string
	Rating  string
	Lang    string // the fact's language
	URL     string
	BM25    float64 // first-stage score, for debugging and evaluation
}

// fact is an indexed fact with the per-fact data the features need.
type fact struct {
	f        schema.Fact
	lang     string
	alive    bool
	fieldLen [nFields]float32
}

// Feature sets of a fact, in factSets.h in this order.
const (
	setClaim    = iota // claim terms
	setBigrams         // bigrams of all fields
	setNumbers         // numbers
	setEntities        // named entities
	setCGrams          // char trigrams of the claim
	setTGrams          // char trigrams of claim+title not in cgrams: each gram is probed once
	setSeen            // terms of the fact's known appearances
	nSets
)

// factSets are a fact's feature sets as unique hashes (see hashSet): a
// query tests each against a bitset, far cheaper than merging strings.
// They sit back to back in one slice, kept in a dense per-document array
// apart from fact: a candidate's probes then start on one cold line, where
// six separate slices in a large struct cost a miss each.
type factSets struct {
	h   []uint32
	end [nSets]uint32 // end of set i in h; set i starts at end[i-1]
	// claimLen is the claim_len feature, log1p of the claim set's size,
	// computed once here rather than per candidate and post.
	claimLen float64
	// date is the fact-check's date, here rather than in fact so that a
	// candidate's features start from this one dense entry.
	date time.Time
	// emb is the meaning vector (analyze/embed) of the claim and title,
	// empty when they have no words.
	emb embed.Quantized
	// vi marks a Vietnamese fact: the lang_vi feature is 1 for a
	// Vietnamese post against a Vietnamese fact only.
	vi bool
}

// seenBitsWords sizes Index.seenBits: 2^16 bits.
const seenBitsWords = 1 << 10

// maxAppearances bounds the appearances a fact is compared with: the most
// recent ones, so a viral claim's thousands of confirmed posts do not
// swamp its terms.
const maxAppearances = 16

// seenRecall is the share of a post's term weight (idf-weighted, as
// qcov_idf) a fact's known appearances must hold for recallSeen to make
// the fact a candidate, and maxSeenRecall caps how many it adds per post.
const (
	seenRecall    = 0.5
	maxSeenRecall = 10
)

func (s *factSets) set(i int) []uint32 {
	lo := uint32(0)
	if i > 0 {
		lo = s.end[i-1]
	}
	return s.h[lo:s.end[i]]
}

func (s *factSets) len(i int) int {
	if i == 0 {
		return int(s.end[0])
	}
	return int(s.end[i] - s.end[i-1])
}

func newFactSets(sets [nSets][]uint32) factSets {
	var fs factSets
	n := 0
	for _, s := range sets {
		n += len(s)
	}
	fs.h = make([]uint32, 0, n)
	for i, s := range sets {
		fs.h = append(fs.h, s...)
		fs.end[i] = uint32(len(fs.h))
	}
	fs.claimLen = math.Log1p(float64(fs.len(setClaim)))
	return fs
}

// docMeta is what the posting loop reads per document, kept apart from
// fact so the loop touches 16 bytes per hit instead of a cache line or more.
type docMeta struct {
	fieldLen [nFields]float32
	alive    bool
}

type posting struct {
	doc int32
	tf  [nFields]uint16
}

// Index is an in-memory facts index. Match may run concurrently with
// Upsert and Delete.
type Index struct {
	opts  Options
	model *Model
	bg    *Background

	mu    sync.RWMutex
	facts []fact
	meta  []docMeta  // hot per-document data, dense for the posting loop
	sets  []factSets // per-document feature sets, dense for the re-ranker
	byID  map[string]int32
	dict  termDict // term ids
	post  [][]posting
	// seenPost maps a term's hash to the documents whose known
	// appearances hold it (recallSeen); dead documents stay until
	// compaction, like postings.
	seenPost map[uint32][]int32
	// seenBits has a bit set for every hash ever in seenPost (deleted
	// ones stay: a stale bit only costs the map look-up it would have
	// saved). Most of a post's terms are in no appearance, and testing
	// a bit in 8 KB costs far less than a map look-up.
	seenBits *[seenBitsWords]uint64
	df       []int32
	bgdf     [][nBgLangs]int32 // background df per term id
	live     int
	dead     int
	totalLen [nFields]float64
	langs    map[string]int
	// version counts changes (Upsert, Delete); derived tables built under
	// the read lock record the version they were built at.
	version uint64

	norms      atomic.Pointer[normTable]
	normMisses atomic.Int64 // posts matched since norms went stale
	// idfs per statistics variant (stats.li+1).
	idfs      [nBgLangs + 1]atomic.Pointer[idfTable]
	idfMisses [nBgLangs + 1]atomic.Int64

	pool sync.Pool // *scratch
}

// NewIndex returns an empty index.
func NewIndex(opts Options) *Index {
	m := opts.Model
	if m == nil {
		m = EmbeddedModel()
	}
	if opts.Candidates <= 0 {
		opts.Candidates = m.Candidates
	}
	if opts.Candidates <= 0 {
		opts.Candidates = 40
	}
	bg := opts.Background
	if bg == nil {
		bg = EmbeddedBackground()
	}
	if opts.Known == nil {
		opts.Known = EmbeddedKnown()
	}
	ix := &Index{
		opts:  opts,
		model: m,
		bg:    bg,
		byID:  map[string]int32{},
		langs: map[string]int{},
	}
	// The background's terms enter the dictionary with empty postings, so
	// a query term needs one look-up for both its postings and its df.
	ix.dict.resize(len(bg.df))
	for _, t := range sortedKeys(bg.df) {
		ix.dict.add(t, hash32(seedTerm, t))
		ix.post = append(ix.post, nil)
		ix.df = append(ix.df, 0)
		ix.bgdf = append(ix.bgdf, bg.df[t])
	}
	return ix
}

// Threshold returns the alert threshold for lang.
func (ix *Index) Threshold(lang string) float64 {
	if t, ok := ix.opts.Thresholds[lang]; ok {
		return t
	}
	if t, ok := DefaultThresholds[lang]; ok {
		return t
	}
	return DefaultThreshold
}

// Thresholds returns every configured threshold (defaults merged), for the
// API to show.
func (ix *Index) Thresholds() map[string]float64 {
	out := map[string]float64{}
	for k, v := range DefaultThresholds {
		out[k] = v
	}
	for k, v := range ix.opts.Thresholds {
		out[k] = v
	}
	return out
}

// Len returns the number of live facts.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// Get returns the fact stored under id.
func (ix *Index) Get(id string) (schema.Fact, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if d, ok := ix.byID[id]; ok {
		return ix.facts[d].f, true
	}
	return schema.Fact{}, false
}

// prepared is a fact analysed outside the lock.
type prepared struct {
	fact
	sets factSets
	tf   map[string]*[nFields]uint16
}

// prepare analyses f; known are further posts known to restate it.
func prepare(f schema.Fact, known []string) prepared {
	lang := f.Lang
	if lang == "" {
		lang = text.DetectLang(f.Claim + " " + f.Title)
	} else if lang != text.LangVI && writtenInVietnamese(f.Claim) {
		// A declaration the text plainly contradicts is wrong (the
		// CheckThat! TSV layout is read as English, and Vietnamese sheets
		// use it too): analysed as English, Vietnamese syllables would be
		// stemmed and never meet a post's.
		lang = text.LangVI
	}
	p := prepared{tf: map[string]*[nFields]uint16{}}
	p.f, p.lang, p.alive = f, lang, true
	var bigrams, claimTerms, ents, nums []string
	add := func(field int, d text.Doc) {
		for _, t := range d.Tokens {
			c := p.tf[t]
			if c == nil {
				c = new([nFields]uint16)
				p.tf[t] = c
			}
			if c[field] < math.MaxUint16 {
				c[field]++
			}
		}
		p.fieldLen[field] += float32(len(d.Tokens))
		bigrams = append(bigrams, d.Bigrams...)
		ents = append(ents, d.Entities...)
		nums = append(nums, d.Numbers...)
	}
	cd := text.Analyze(f.Claim, lang)
	add(fClaim, cd)
	for _, t := range cd.Tokens {
		// Accented Vietnamese variants are left out of claim coverage: an
		// unaccented post can only match their folded twins, which are
		// already in the set.
		if lang != text.LangVI || !text.HasDiacritics(t) {
			claimTerms = append(claimTerms, t)
		}
	}
	for _, l := range sortedKeys(f.Translations) {
		add(fClaim, text.Analyze(f.Translations[l], l))
	}
	add(fTitle, text.Analyze(f.Title, lang))
	add(fSummary, text.Analyze(f.Summary+"\n"+strings.Join(f.Tags, "\n"), lang))
	var sets [nSets][]uint32
	sets[setClaim] = hashSet(seedTerm, claimTerms)
	sets[setBigrams] = hashSet(seedBigram, bigrams)
	sets[setEntities] = hashSet(seedEntity, ents)
	sets[setNumbers] = hashSet(seedNumber, nums)
	cgrams := charGrams(f.Claim)
	sets[setCGrams] = cgrams
	sets[setTGrams] = slices.DeleteFunc(charGrams(f.Claim+" "+f.Title), func(h uint32) bool {
		_, found := slices.BinarySearch(cgrams, h)
		return found
	})
	// The fact's own appearances come last: they are the most recent.
	apps := append(slices.Clip(known), f.Appearances...)
	apps = apps[max(0, len(apps)-maxAppearances):]
	var seen []string
	for _, a := range apps {
		seen = append(seen, text.Analyze(a, "").Tokens...)
	}
	sets[setSeen] = hashSet(seedTerm, seen)
	p.sets = newFactSets(sets)
	p.sets.date = f.Date
	p.sets.vi = lang == text.LangVI
	if em := embedder(); em != nil {
		v := make([]float32, em.Dim())
		if em.Embed(f.Claim+" "+f.Title, v) {
			p.sets.emb = embed.Quantize(v)
		}
	}
	return p
}

// Upsert adds f or replaces the fact with the same id.
func (ix *Index) Upsert(f schema.Fact) {
	p := prepare(f, ix.opts.Known.For(&f)) // the costly part runs without the lock
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deleteLocked(f.ID)
	doc := int32(len(ix.facts))
	ix.facts = append(ix.facts, p.fact)
	ix.meta = append(ix.meta, docMeta{fieldLen: p.fieldLen, alive: true})
	ix.sets = append(ix.sets, p.sets)
	ix.byID[f.ID] = doc
	for _, t := range sortedKeys(p.tf) { // sorted: the layout is deterministic
		h := hash32(seedTerm, t)
		id, ok := ix.dict.lookup(t, h)
		if !ok {
			id = ix.dict.add(t, h)
			ix.post = append(ix.post, nil)
			ix.df = append(ix.df, 0)
			ix.bgdf = append(ix.bgdf, ix.bg.df[t])
		}
		ix.post[id] = append(ix.post[id], posting{doc: doc, tf: *p.tf[t]})
		ix.df[id]++
	}
	for _, h := range p.sets.set(setSeen) {
		if ix.seenPost == nil {
			ix.seenPost = map[uint32][]int32{}
		}
		ix.seenPost[h] = append(ix.seenPost[h], doc)
		if ix.seenBits == nil {
			ix.seenBits = new([seenBitsWords]uint64)
		}
		ix.seenBits[h/64%seenBitsWords] |= 1 << (h % 64)
	}
	for i := range nFields {
		ix.totalLen[i] += float64(p.fieldLen[i])
	}
	ix.live++
	ix.langs[p.lang]++
	ix.version++
}

// Delete removes the fact with id, if present.
func (ix *Index) Delete(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deleteLocked(id)
}

func (ix *Index) deleteLocked(id string) {
	doc, ok := ix.byID[id]
	if !ok {
		return
	}
	delete(ix.byID, id)
	fc := &ix.facts[doc]
	fc.alive = false
	ix.meta[doc].alive = false
	for i := range nFields {
		ix.totalLen[i] -= float64(fc.fieldLen[i])
	}
	ix.live--
	ix.dead++
	ix.version++
	ix.langs[fc.lang]--
	// df counts live documents only; postings of dead ones are skipped and
	// dropped at the next compaction.
	seen := map[int32]bool{}
	for _, t := range fc.termsForDF(ix) {
		if !seen[t] {
			seen[t] = true
			ix.df[t]--
		}
	}
	if ix.dead > 1024 && ix.dead > ix.live {
		ix.compactLocked()
	}
}

// termsForDF finds the term ids a dead fact contributed to by re-analysing
// it: deletes are rare, and keeping per-fact term lists would double memory.
func (fc *fact) termsForDF(ix *Index) []int32 {
	p := prepare(fc.f, nil) // appearances add no postings
	out := make([]int32, 0, len(p.tf))
	for t := range p.tf {
		if id, ok := ix.dict.lookup(t, hash32(seedTerm, t)); ok {
			out = append(out, id)
		}
	}
	return out
}

// compactLocked drops dead facts and renumbers documents.
func (ix *Index) compactLocked() {
	remap := make([]int32, len(ix.facts))
	facts := make([]fact, 0, ix.live)
	meta := make([]docMeta, 0, ix.live)
	sets := make([]factSets, 0, ix.live)
	for i, fc := range ix.facts {
		remap[i] = -1
		if fc.alive {
			remap[i] = int32(len(facts))
			ix.byID[fc.f.ID] = remap[i]
			facts = append(facts, fc)
			meta = append(meta, ix.meta[i])
			sets = append(sets, ix.sets[i])
		}
	}
	ix.meta = meta
	ix.sets = sets
	for t, ps := range ix.post {
		out := ps[:0]
		for _, p := range ps {
			if d := remap[p.doc]; d >= 0 {
				p.doc = d
				out = append(out, p)
			}
		}
		ix.post[t] = slices.Clip(out)
	}
	for h, ds := range ix.seenPost {
		out := ds[:0]
		for _, d := range ds {
			if d = remap[d]; d >= 0 {
				out = append(out, d)
			}
		}
		if len(out) == 0 {
			delete(ix.seenPost, h)
		} else {
			ix.seenPost[h] = slices.Clip(out)
		}
	}
	ix.facts = facts
	ix.dead = 0
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// charGrams returns the sorted unique hashes of the character trigrams of
// the folded words of s: they match across inflections, typos and
// compounds the stemmer does not join.
func charGrams(s string) []uint32 {
	out := gramHashes(nil, s)
	slices.Sort(out)
	return slices.Compact(out)
}

// gramHashes appends to dst the hashes of s's character trigrams, repeats
// included, in text order: those of the folded text's alphanumeric runs,
// each padded with one space either side. The trigrams are hashed as a
// window slides over the runes, without building the padded text.
func gramHashes(dst []uint32, s string) []uint32 {
	n := text.FoldDiacritics(text.Normalize(s))
	dst = slices.Grow(dst, len(n)+2)
	// r0, r1 are the padded text's last two runes; it starts with a space.
	var r0 rune
	r1, have := ' ', 1
	emit := func(r rune) {
		if have >= 2 {
			h := uint32(2166136261) ^ seedGram*0x9E3779B1
			h = (h ^ uint32(r0)) * 16777619
			h = (h ^ uint32(r1)) * 16777619
			h = (h ^ uint32(r)) * 16777619
			dst = append(dst, h)
		}
		r0, r1 = r1, r
		have++
	}
	for _, r := range n {
		if isAlnum(r) {
			emit(r)
		} else if r1 != ' ' {
			emit(' ')
		}
	}
	if r1 != ' ' {
		emit(' ')
	}
	return dst
}

func isAlnum(r rune) bool {
	if r < 0x80 {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// Seeds keep the hash spaces of the feature sets apart in one bitset.
const (
	seedGram uint32 = iota + 1
	seedTerm
	seedBigram
	seedNumber
	seedEntity
)

func hash32(seed uint32, s string) uint32 {
	h := uint32(2166136261) ^ seed*0x9E3779B1
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// hashSet returns the sorted unique hashes of ss.
func hashSet(seed uint32, ss []string) []uint32 {
	out := make([]uint32, 0, len(ss))
	for _, s := range ss {
		out = append(out, hash32(seed, s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// queryHashSet appends to out the unique hashes of ss in no particular
// order. A post's sets only go into the bitset and count by size, so the
// query side skips hashSet's sort, a fifth of newQuery.
func queryHashSet(out []uint32, seed uint32, ss []string) []uint32 {
	for _, s := range ss {
		out = append(out, hash32(seed, s))
	}
	return dedupe(out)
}

// dedupeTables are dedupe's open-addressing tables, pooled: a post's few
// hundred hashes would otherwise allocate and zero one per set.
var dedupeTables = sync.Pool{New: func() any { return new([]uint64) }}

// dedupe removes repeated values from hs in place, keeping the first of
// each, with a hash table: for the hundreds of trigrams of a long post it
// is several times cheaper than sorting.
func dedupe(hs []uint32) []uint32 {
	if len(hs) < 2 {
		return hs
	}
	size := 16
	for size < 2*len(hs) {
		size <<= 1
	}
	tp := dedupeTables.Get().(*[]uint64)
	if len(*tp) < size {
		*tp = make([]uint64, size)
	}
	t := (*tp)[:size]
	mask := uint32(size - 1)
	w := 0
	for _, h := range hs {
		// Slots hold h with bit 32 set, so the zero value means empty.
		v := uint64(h) | 1<<32
		for i := (h * 0x9E3779B1) & mask; ; i = (i + 1) & mask {
			if t[i] == 0 {
				t[i] = v
				hs[w] = h
				w++
				break
			}
			if t[i] == v {
				break
			}
		}
	}
	clear(t)
	dedupeTables.Put(tp)
	return hs[:w]
}

// bitset is a query's feature sets as one Bloom-style bit array. With a
// few hundred members in 2^16 bits a false hit is ~1%: noise the
// re-ranker tolerates, for a cost of one probe per fact member into 8 KB
// that stays in L1 cache (2^18 bits, 32 KB, made probes the top cost).
type bitset struct {
	words *[bitsetBits / 64]uint64 // an array: probes need no bounds check
	set   []uint32                 // set bit indexes, to clear cheaply
}

const bitsetBits = 1 << 16

func (b *bitset) add(hs []uint32) {
	if b.words == nil {
		b.words = new([bitsetBits / 64]uint64)
	}
	for _, h := range hs {
		i := h % bitsetBits
		b.words[i/64] |= 1 << (i % 64)
		b.set = append(b.set, i)
	}
}

func (b *bitset) count(hs []uint32) int {
	n := 0
	for _, h := range hs {
		i := h % bitsetBits
		n += int(b.words[i/64] >> (i % 64) & 1)
	}
	return n
}

func (b *bitset) reset() {
	for _, i := range b.set {
		b.words[i/64] = 0
	}
	b.set = b.set[:0]
}

// embedder is the meaning-vector model, nil if its embedded table cannot
// be read (TestEmbedderLoads guards that; the emb_cos feature is then 0).
func embedder() *embed.Model {
	m, err := embed.Default()
	if err != nil {
		return nil
	}
	return m
}

// writtenInVietnamese reports a text of at least three words that uses a
// letter only Vietnamese has (ă đ ơ ư or a precomposed tone-marked vowel),
// where one word in four or more carries diacritics and fewer than one in
// five is an English or French stopword. An English or French claim
// quoting a Vietnamese name keeps its function words; a Vietnamese
// headline has tone marks on most syllables ("Bão số 4 có thể hình thành
// hôm nay").
func writtenInVietnamese(s string) bool {
	words, marked, other, viOnly := 0, 0, 0, false
	for _, w := range strings.Fields(text.Normalize(s)) {
		words++
		if text.HasDiacritics(w) {
			marked++
		}
		for _, r := range w {
			if r == 'ă' || r == 'đ' || r == 'ơ' || r == 'ư' || r >= 0x1EA0 && r <= 0x1EF9 {
				viOnly = true
			}
		}
		// French function words count too, as written: folded, several
		// are Vietnamese syllables (là → la, để → de).
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) })
		if text.IsStopword(w, text.LangEN) || !text.HasDiacritics(w) && text.IsStopword(w, text.LangFR) {
			other++
		}
	}
	return words >= 3 && viOnly && marked*4 >= words && other*5 < words
}
