package claims

import (
	"bytes"
	"compress/gzip"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

func TestEmbeddedBackground(t *testing.T) {
	bg, err := ParseBackground(bytes.NewReader(embeddedBackground))
	if err != nil {
		t.Fatalf("embedded background: %v", err)
	}
	if bg.Docs[bgEN] < 10000 || bg.Docs[bgVI] < 1000 || bg.Terms() < 10000 || bg.FactDocs == 0 {
		t.Errorf("embedded background too small: docs %v, %d terms, %d facts", bg.Docs, bg.Terms(), bg.FactDocs)
	}
	// A common English stem is frequent, a rare one is not.
	if c, r := bg.DF(text.Stem("vaccine", "en"), "en"), bg.DF(text.Stem("hydroxychloroquine", "en"), "en"); c <= r {
		t.Errorf("df(vaccine) %d <= df(hydroxychloroquine) %d", c, r)
	}
	if bg.DF("ha_noi", "vi") == 0 {
		t.Error("ha_noi missing from the Vietnamese background")
	}
}

func TestBackgroundRoundTrip(t *testing.T) {
	bg := BuildBackground(smallFacts, []BackgroundText{
		{Lang: "vi", Text: "Hà Nội cấm xe máy"}, {Lang: "vi", Text: "Hà Nội mưa lớn"},
	}, 1)
	bg.Command = "test\nwith newline"
	var buf bytes.Buffer
	if _, err := bg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ParseBackground(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Docs != bg.Docs || got.Terms() != bg.Terms() || got.FactDocs != len(smallFacts) || got.Command != "test with newline" {
		t.Fatalf("round trip: %+v vs %+v", got, bg)
	}
	for term := range bg.df {
		for _, l := range []string{"en", "fr", "vi", ""} {
			if got.DF(term, l) != bg.DF(term, l) {
				t.Errorf("df(%q, %q) = %d, want %d", term, l, got.DF(term, l), bg.DF(term, l))
			}
		}
	}
	if got.DF("noi", "vi") != 3 { // f5 and both texts
		t.Errorf("df(noi, vi) = %d, want 3", got.DF("noi", "vi"))
	}
}

func TestParseBackgroundErrors(t *testing.T) {
	gz := func(s string) *bytes.Reader {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return bytes.NewReader(b.Bytes())
	}
	for _, in := range []string{
		"not a table\n",
		bgMagic + "\ndocs\t1\t0\t0\nterm\t2\t0\t0\n", // df above the document count
		bgMagic + "\ndocs\tx\t0\t0\n",
		bgMagic + "\nfacts\t1\tNaN\t1\t1\n",
		bgMagic + "\nonly\ttwo\n",
	} {
		if _, err := ParseBackground(gz(in)); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
	if _, err := ParseBackground(strings.NewReader("plain text")); err == nil {
		t.Error("accepted uncompressed input")
	}
}

func FuzzParseBackground(f *testing.F) {
	f.Add(bgMagic + "\ndocs\t2\t0\t1\nfacts\t1\t3\t2\t0\nha_noi\t0\t0\t1\n")
	f.Add(bgMagic + "\ncommand\tx\n")
	f.Add(bgMagic + "\ndocs\t1\t1\t1\ndocs\t1\t0\t0\n")
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		bg, err := ParseBackground(&b)
		if err != nil {
			return
		}
		// Invariants: no frequency exceeds its language's document count,
		// and what parses writes back to the same table.
		for term, c := range bg.df {
			for i := range nBgLangs {
				if c[i] < 0 || int(c[i]) > bg.Docs[i] {
					t.Fatalf("df(%q)[%d] = %d with %d docs", term, i, c[i], bg.Docs[i])
				}
			}
		}
		var out bytes.Buffer
		if _, err := bg.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		again, err := ParseBackground(&out)
		if err != nil || again.Terms() != bg.Terms() || again.Docs != bg.Docs {
			t.Fatalf("rewrite does not parse back: %v", err)
		}
	})
}

// UpperBound must never be below the score of any completion of the known
// features: MinScore pruning relies on it.
func TestUpperBound(t *testing.T) {
	m := EmbeddedModel()
	if len(m.Lo) != nFeatures {
		t.Fatal("embedded model has no feature ranges")
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, nFeatures)
	y := make([]float64, nFeatures)
	for range 2000 {
		for i := range x {
			x[i] = m.Lo[i] + r.Float64()*(m.Hi[i]-m.Lo[i])*1.2 - 0.1*(m.Hi[i]-m.Lo[i])
		}
		ub := m.UpperBound(x, midKnown[:])
		for range 20 {
			copy(y, x)
			for i := range y {
				if !midKnown[i] {
					y[i] = m.Lo[i] + r.Float64()*(m.Hi[i]-m.Lo[i])
				}
			}
			if s := m.Score(y); s > ub+1e-12 {
				t.Fatalf("score %v above bound %v", s, ub)
			}
		}
		var all [nFeatures]bool
		for i := range all {
			all[i] = true
		}
		if s, b := m.Score(x), m.UpperBound(x, all[:]); math.Abs(s-b) > 1e-12 {
			t.Fatalf("bound with every feature known %v != score %v", b, s)
		}
	}
}

// boundBelow must answer as comparing UpperBound with minScore does, also
// for bounds at and a few ulps around minScore and for minScores where it
// falls back to the comparison.
func TestBoundBelow(t *testing.T) {
	m := EmbeddedModel()
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, nFeatures)
	for round := range 5000 {
		for i := range x {
			x[i] = m.Lo[i] + r.Float64()*(m.Hi[i]-m.Lo[i])
		}
		ub := m.UpperBound(x, midKnown[:])
		var minScore float64
		switch round % 4 {
		case 0:
			minScore = r.Float64()
		case 1:
			minScore = []float64{0, 1e-4, 0.3, 0.5, 0.999, 1}[r.IntN(6)]
		default:
			// At the bound, give or take a few ulps.
			minScore = math.Float64frombits(math.Float64bits(ub) + uint64(r.IntN(9)) - 4)
		}
		want := ub < minScore
		if got := m.boundBelow(x, midKnown[:], minScore, newCutoff(minScore)); got != want {
			t.Fatalf("minScore %v bound %v: boundBelow %v, want %v", minScore, ub, got, want)
		}
	}
}

// With MinScore the results must be exactly those without it that reach
// MinScore: pruning may only skip work, never change an answer.
func TestMinScorePruningIsExact(t *testing.T) {
	facts := append(slicesClone(smallFacts), robustFacts()...)
	plain := buildIndex(facts)
	pruned := NewIndex(Options{MinScore: 0.3})
	for _, f := range facts {
		pruned.Upsert(f)
	}
	posts := []string{
		"Bill Gates wants microchips in everyone through the vaccine",
		"drink bleach to cure covid", "Ha Noi cam xe may tu nam 2030",
		"the weather is nice today in Paris", "Giá vàng hôm nay tăng mạnh",
		"le gouvernement va supprimer la retraite des fonctionnaires",
	}
	for _, c := range robustCases {
		posts = append(posts, c.paraphrase, c.unrelated)
	}
	for _, p := range posts {
		var want []Result
		for _, r := range plain.Match(p, "", 5) {
			if r.Score >= 0.3 {
				want = append(want, r)
			}
		}
		got := pruned.Match(p, "", 5)
		if len(got) != len(want) {
			t.Errorf("%q: pruned %+v, want %+v", p, got, want)
			continue
		}
		for i := range got {
			if got[i].FactID != want[i].FactID || math.Abs(got[i].Score-want[i].Score) > 1e-12 {
				t.Errorf("%q: pruned %+v, want %+v", p, got, want)
			}
		}
	}
}

// MatchDoc on text.Analyze's output is Match with that language.
func TestMatchDocEqualsMatch(t *testing.T) {
	ix := buildIndex(append(slicesClone(smallFacts), robustFacts()...))
	for _, c := range robustCases {
		for _, p := range []string{c.paraphrase, c.unrelated} {
			d := text.Analyze(p, "")
			a, b := ix.Match(p, d.Lang, 3), ix.MatchDoc(d, 3)
			if len(a) != len(b) {
				t.Fatalf("%q: Match %+v, MatchDoc %+v", p, a, b)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Errorf("%q: Match %+v, MatchDoc %+v", p, a, b)
				}
			}
		}
	}
	if ix.MatchDoc(text.Analyze("x", ""), 0) != nil {
		t.Error("k=0 gave results")
	}
}

func robustFacts() []schema.Fact {
	var out []schema.Fact
	for _, c := range robustCases {
		out = append(out, c.fact)
	}
	return out
}

func slicesClone(fs []schema.Fact) []schema.Fact { return append([]schema.Fact(nil), fs...) }
