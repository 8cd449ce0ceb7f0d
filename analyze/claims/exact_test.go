package claims

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// TestDistinctTerms checks distinctTerms against sorting and counting the
// tokens as strings: term order decides float summation order, so it must
// be exactly the string order, including terms sharing long prefixes,
// zero bytes, any first byte and more than 256 distinct terms.
func TestDistinctTerms(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := []string{"a", "b", "\x00", "_", "ng", "\xc3\xa0", "z"}
	for round := range 300 {
		n := r.IntN(700)
		if round%3 == 0 {
			n = r.IntN(40)
		}
		toks := make([]string, n)
		for i := range toks {
			var b strings.Builder
			if round%3 == 1 {
				// Any first byte: sortKeys distributes by it.
				b.WriteByte(byte(r.IntN(256)))
			}
			b.WriteString([]string{"", "nguoi_d", "abcdefg", "abcdefgh"}[r.IntN(4)])
			for range r.IntN(5) {
				b.WriteString(alpha[r.IntN(len(alpha))])
			}
			toks[i] = b.String()
		}
		sorted, counts, hashes := distinctTerms(toks, nil, nil, nil)
		want := slices.Clone(toks)
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(sorted, want) {
			t.Fatalf("round %d: sorted %q, want %q", round, sorted, want)
		}
		for i, s := range sorted {
			c := 0
			for _, x := range toks {
				if x == s {
					c++
				}
			}
			if int(counts[i]) != c || hashes[i] != hash32(seedTerm, s) {
				t.Fatalf("round %d: %q count %d hash %x, want %d %x", round, s, counts[i], hashes[i], c, hash32(seedTerm, s))
			}
		}
	}
}

// TestTermDict checks the dictionary against a map, with terms longer
// than the 11 bytes a slot holds and terms that differ only past them.
func TestTermDict(t *testing.T) {
	var d termDict
	m := map[string]int32{}
	r := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		return strings.Repeat("x", r.IntN(14)) + string(rune('a'+r.IntN(26))) + strings.Repeat("\x00", r.IntN(2))
	}
	for range 20000 {
		w := word()
		h := hash32(seedTerm, w)
		id, ok := d.lookup(w, h)
		want, wok := m[w]
		if ok != wok || ok && id != want {
			t.Fatalf("lookup(%q) = %d %v, want %d %v", w, id, ok, want, wok)
		}
		if !ok {
			m[w] = d.add(w, h)
		}
	}
	if d.len() != len(m) {
		t.Fatalf("len %d, want %d", d.len(), len(m))
	}
}

// TestNthLargest checks the bucketed selection against sorting, on inputs
// with many repeats and signed zeros as first-stage scores have, scores
// ulps apart and scores spanning many orders of magnitude.
func TestNthLargest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 2000 {
		n := 1 + r.IntN(60)
		if round%10 == 0 {
			n = 1 + r.IntN(3000) // more than the buckets
		}
		a := make([]float32, n)
		for i := range a {
			switch r.IntN(6) {
			case 0:
				a[i] = float32(r.IntN(3))
			case 1:
				a[i] = float32(math.Copysign(0, -1))
			case 2:
				a[i] = math.Float32frombits(math.Float32bits(1) + uint32(r.IntN(4)))
			case 3:
				a[i] = float32(math.Exp(r.NormFloat64() * 20))
			default:
				a[i] = r.Float32()*10 - 2
			}
		}
		want := slices.Clone(a)
		slices.Sort(want)
		h := make([]hit, n)
		for i, v := range a {
			h[i] = hit{s: v, d: int32(i)}
		}
		k := 1 + r.IntN(n)
		lo, hi := slices.Min(a), slices.Max(a)
		got, top, _, _ := nthLargest(slices.Clone(h), k, lo, hi, nil, nil)
		if got != want[n-k] {
			t.Fatalf("round %d: nthLargest(%v, %d) = %v, want %v", round, a, k, got, want[n-k])
		}
		// The hits it keeps for topLocked: in their order, and every one
		// scoring at least the threshold among them.
		at, above := 0, 0
		for _, x := range top {
			for at < n && h[at] != x {
				at++
			}
			if at == n {
				t.Fatalf("round %d: top %v is not a subsequence of %v", round, top, h)
			}
			at++
			if x.s >= got {
				above++
			}
		}
		if wantAbove := n - firstAtLeast(want, got); above != wantAbove {
			t.Fatalf("round %d: top holds %d hits ≥ %v, want %d", round, above, got, wantAbove)
		}
	}
}

// TestGramHashes checks the sliding-window trigram hashing against
// building the padded rune text and hashing each window.
func TestGramHashes(t *testing.T) {
	ref := func(s string) []uint32 {
		n := text.FoldDiacritics(text.Normalize(s))
		b := []rune{' '}
		for _, r := range n {
			if isAlnum(r) {
				b = append(b, r)
			} else if b[len(b)-1] != ' ' {
				b = append(b, ' ')
			}
		}
		if b[len(b)-1] != ' ' {
			b = append(b, ' ')
		}
		var out []uint32
		for i := 0; i+3 <= len(b); i++ {
			h := uint32(2166136261) ^ seedGram*0x9E3779B1
			for _, r := range b[i : i+3] {
				h = (h ^ uint32(r)) * 16777619
			}
			out = append(out, h)
		}
		return out
	}
	for _, s := range []string{"", " ", "a", "ab", "!!", "Người dân ở Hà Nội đã nhận 1.000 đồng",
		"COVID-19 vaccines don't alter DNA!", "  x  y  ", "état, où ça?", "日本語 テキスト", "\xff\xfe bad utf8"} {
		if got, want := gramHashes([]uint32{7}, s), append([]uint32{7}, ref(s)...); !slices.Equal(got, want) {
			t.Errorf("gramHashes(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestSeekPosting checks the galloping search against a linear scan.
func TestSeekPosting(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 500 {
		var ps []posting
		d := int32(0)
		for range r.IntN(300) {
			d += 1 + int32(r.IntN(5))
			ps = append(ps, posting{doc: d})
		}
		from := 0
		for doc := int32(0); doc < d+3; doc += 1 + int32(r.IntN(4)) {
			want := from
			for want < len(ps) && ps[want].doc < doc {
				want++
			}
			if got := seekPosting(ps, from, doc); got != want {
				t.Fatalf("round %d: seekPosting(from %d, doc %d) = %d, want %d", round, from, doc, got, want)
			}
			from = want
		}
	}
}

// The per-version norm and idf tables must give exactly the results of
// computing per hit, and must not outlive the index version they were
// built at (every Upsert and Delete changes average lengths and df).
func TestDerivedTablesExact(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 15k facts")
	}
	facts := factsAt(t, 15000) // enough for terms past frequentFloor: late terms
	posts := streamPosts(t)[:400]
	ix := NewIndex(Options{})
	for _, f := range facts {
		ix.Upsert(f)
	}
	run := func(tables bool) [][]Result {
		var out [][]Result
		for _, p := range posts {
			if tables {
				// Build on the next post.
				ix.normMisses.Store(1 << 40)
				for i := range ix.idfMisses {
					ix.idfMisses[i].Store(1 << 40)
				}
			} else {
				ix.norms.Store(nil)
				ix.normMisses.Store(-1 << 40)
				for i := range ix.idfs {
					ix.idfs[i].Store(nil)
					ix.idfMisses[i].Store(-1 << 40)
				}
			}
			out = append(out, ix.MatchDoc(text.Analyze(p, ""), 10))
		}
		return out
	}
	// Each check starts with the tables of the previous version, if any.
	check := func(stage string) {
		got := run(true)
		if nt := ix.norms.Load(); nt == nil || nt.version != ix.version {
			t.Fatalf("%s: norm table not built for version %d", stage, ix.version)
		}
		want := run(false)
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("%s: post %d with tables %+v, without %+v", stage, i, got[i], want[i])
			}
		}
		run(true) // tables of this version for the next stage
	}
	check("built")
	ix.Delete(facts[9].ID)
	if nt := ix.norms.Load(); nt.version == ix.version {
		t.Fatal("norm table current after Delete")
	}
	ix.normMisses.Store(0)
	if ix.normsFor(&[nFields]float64{1, 1, 1}) != nil {
		t.Fatal("stale norm table rebuilt on the first post")
	}
	check("after Delete")
	ix.Upsert(facts[9])
	check("after Upsert")
	// A field longer than the norm table's lengths takes the computed
	// path; the fact shares the posts' words, so it is scored and selected.
	long := schema.Fact{ID: "long-summary", Claim: posts[0], Title: posts[1],
		Summary: strings.Join(posts, "\n"), Lang: "en"}
	ix.Upsert(long)
	check("after a long fact")
	if l := ix.norms.Load().lens[ix.byID[long.ID]]; l[0] != lenLong {
		t.Fatalf("long fact's lengths %v, want the computed path", l)
	}
}

// firstAtLeast returns the index of the first of sorted a not below v.
func firstAtLeast(a []float32, v float32) int {
	i, _ := slices.BinarySearch(a, v)
	return i
}

// TestCandidateFieldSums checks the candidates' BM25F total, per-field
// BM25 sums and matched share — summed for them apart from selection
// (addFields, addLate) — against scoring each candidate on its own: every
// known query term in the order selection uses (selecting terms, then the
// frequent ones, each group in term order), its posting found by search,
// each field's value computed from the field length. The values must be
// the same floats, not close ones.
func TestCandidateFieldSums(t *testing.T) {
	ix := NewIndex(Options{})
	for _, f := range factsAt(t, 15000) {
		ix.Upsert(f)
	}
	var texts []string
	for _, q := range checkThat(t, "2022", "devtest").queries {
		texts = append(texts, q.Text)
	}
	texts = append(texts, streamPosts(t)[:400]...) // past the tables' rebuild point too
	checked := 0
	for qi, s := range texts {
		q := newQuery(text.Analyze(s, ""), nil)
		ix.mu.RLock()
		cands := ix.candidatesLocked(&q, 40, 0)
		st := ix.statsFor(q.doc.Lang)
		frequent := max(float64(frequentFloor), frequentShare*float64(ix.live))
		var early, late []qterm
		var totalW float64
		for i, term := range q.sorted {
			id, ok := ix.dict.lookup(term, hash32(seedTerm, term))
			idf := st.idf(0)
			if ok {
				idf = st.idf(st.dfOf(id))
			}
			qw := idf * (1 + logCount(q.counts[i]))
			totalW += qw
			switch {
			case !ok || ix.df[id] <= 0:
			case float64(ix.df[id]) > frequent:
				late = append(late, qterm{id, qw})
			default:
				early = append(early, qterm{id, qw})
			}
		}
		for _, c := range cands {
			m := &ix.meta[c.doc]
			var tot, matched float32
			var field [nFields]float32
			for _, term := range append(slices.Clone(early), late...) {
				p := findPosting(ix.post[term.id], c.doc)
				if p == nil {
					continue
				}
				var tfw float64
				for f := range nFields {
					if p.tf[f] == 0 {
						continue
					}
					norm := float64(p.tf[f]) / lenNorm(m, &st.avg, f)
					field[f] += float32(term.w * norm / (bm25K1 + norm))
					tfw += fieldWeight[f] * norm
				}
				tot += float32(term.w * tfw / (bm25K1 + tfw))
				matched += float32(term.w)
			}
			want := [5]float64{float64(tot), float64(field[fClaim]), float64(field[fTitle]),
				float64(field[fSummary]), min(float64(matched)/max(totalW, 1e-9), 1)}
			got := [5]float64{c.feats[0], c.feats[2], c.feats[3], c.feats[4], c.feats[5]}
			if got != want {
				ix.mu.RUnlock()
				t.Fatalf("query %d doc %d: total, fields, matched share %v, want %v", qi, c.doc, got, want)
			}
			checked++
		}
		ix.mu.RUnlock()
	}
	if checked < 1000 {
		t.Fatalf("only %d candidates checked", checked)
	}
}
