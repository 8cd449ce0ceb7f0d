package claims

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/embed"
	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

var smallFacts = []schema.Fact{
	{ID: "f1", Claim: "Drinking bleach cures COVID-19.", Title: "Does Bleach Cure Coronavirus?", Verdict: "false", Lang: "en"},
	{ID: "f2", Claim: "Bill Gates plans to implant microchips with the coronavirus vaccine.", Title: "Gates Microchip Vaccine", Verdict: "false", Lang: "en"},
	{ID: "f3", Claim: "Ilhan Omar advised Iran on how to attack the United States.", Title: "Did Ilhan Omar Commit Treason?", Verdict: "false", Lang: "en"},
	{ID: "f4", Claim: "The Eiffel Tower will close for 2 years.", Title: "La tour Eiffel ferme", Lang: "en"},
	{ID: "f5", Claim: "Hà Nội cấm xe máy từ năm 2030", Title: "Hà Nội cấm xe máy", Lang: "vi", Verdict: "misleading"},
	{ID: "f6", Claim: "Le gouvernement supprime les retraites des fonctionnaires", Lang: "fr"},
}

func TestMatchSmall(t *testing.T) {
	ix := buildIndex(smallFacts)
	f := func(q, want string) {
		t.Helper()
		rs := ix.Match(q, "", 3)
		if len(rs) == 0 || rs[0].FactID != want {
			t.Errorf("Match(%q) = %+v, want %s first", q, rs, want)
			return
		}
		for _, r := range rs {
			if r.Score < 0 || r.Score > 1 || math.IsNaN(r.Score) {
				t.Errorf("score %v out of 0..1", r.Score)
			}
		}
	}
	f("BREAKING: Bill Gates wants to put microchips in everyone through the vaccine!! https://t.co/x", "f2")
	f("drink bleach to cure covid, says this guy", "f1")
	f("Ilhan Omar is giving Iran advice on attacking us — Some One (@someone) January 6, 2020", "f3")
	f("Ha Noi cam xe may tu nam 2030", "f5")
	f("le gouvernement va supprimer la retraite des fonctionnaires", "f6")
	if got := ix.Match("completely unrelated words zebra", "", 5); len(got) != 0 {
		t.Errorf("unrelated query matched %+v", got)
	}
	if got := ix.Match("bleach", "", 0); got != nil {
		t.Errorf("k=0 gave %v", got)
	}
}

func TestUpsertDelete(t *testing.T) {
	ix := buildIndex(smallFacts)
	if ix.Len() != len(smallFacts) {
		t.Fatalf("Len = %d", ix.Len())
	}
	ix.Upsert(schema.Fact{ID: "f1", Claim: "Garlic cures COVID-19.", Lang: "en"})
	if ix.Len() != len(smallFacts) {
		t.Fatalf("Len after replace = %d", ix.Len())
	}
	if rs := ix.Match("drinking bleach", "", 5); len(rs) > 0 && rs[0].FactID == "f1" {
		t.Errorf("replaced fact still matches its old text: %+v", rs)
	}
	if rs := ix.Match("garlic cures covid", "", 1); len(rs) != 1 || rs[0].FactID != "f1" {
		t.Errorf("replaced fact not found by its new text: %+v", rs)
	}
	ix.Delete("f1")
	ix.Delete("missing")
	if ix.Len() != len(smallFacts)-1 {
		t.Fatalf("Len after delete = %d", ix.Len())
	}
	for _, r := range ix.Match("garlic cures covid", "", 5) {
		if r.FactID == "f1" {
			t.Error("deleted fact matched")
		}
	}
}

// Compaction renumbers documents; matches must not change.
func TestCompaction(t *testing.T) {
	ix := NewIndex(Options{})
	for i := range 3000 {
		ix.Upsert(schema.Fact{ID: fmt.Sprintf("x%04d", i), Claim: fmt.Sprintf("filler claim number %d about topic %d", i, i%37), Lang: "en"})
	}
	ix.Upsert(smallFacts[1])
	before := ix.Match("Gates microchip vaccine", "", 3)
	for i := range 2500 {
		ix.Delete(fmt.Sprintf("x%04d", i))
	}
	after := ix.Match("Gates microchip vaccine", "", 3)
	if ix.Len() != 501 || len(after) == 0 || after[0].FactID != "f2" || before[0].FactID != "f2" {
		t.Fatalf("Len %d, before %+v, after %+v", ix.Len(), before, after)
	}
	if _, ok := ix.Get("x2999"); !ok {
		t.Error("live fact lost in compaction")
	}
}

func TestDeterministicTies(t *testing.T) {
	ix := NewIndex(Options{})
	for _, id := range []string{"c", "a", "b"} {
		ix.Upsert(schema.Fact{ID: id, Claim: "identical claim about moon landing", Lang: "en"})
	}
	rs := ix.Match("moon landing claim", "", 3)
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.FactID)
	}
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Errorf("ties = %v, want by id", ids)
	}
}

func TestConcurrentMatchUpsert(t *testing.T) {
	ix := buildIndex(smallFacts)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if w == 0 {
					ix.Upsert(schema.Fact{ID: fmt.Sprintf("n%d", i), Claim: "vaccine microchip rumour " + fmt.Sprint(i), Lang: "en"})
					if i%3 == 0 {
						ix.Delete(fmt.Sprintf("n%d", i-1))
					}
					continue
				}
				ix.Match("Bill Gates microchip vaccine", "", 5)
			}
		}()
	}
	wg.Wait()
}

func TestThresholds(t *testing.T) {
	ix := NewIndex(Options{Thresholds: map[string]float64{"vi": 0.8}})
	if ix.Threshold("vi") != 0.8 || ix.Threshold("en") != DefaultThresholds["en"] || ix.Threshold("xx") != DefaultThreshold {
		t.Errorf("thresholds %v", ix.Thresholds())
	}
}

func TestEmbeddedModel(t *testing.T) {
	m, err := ParseModel(embeddedModel)
	if err != nil {
		t.Fatalf("embedded model.json: %v", err)
	}
	if m.CV["map5"] <= m.CV["bm25f_map5"] {
		t.Errorf("re-ranker cross-validated MAP@5 %.4f does not beat BM25F %.4f", m.CV["map5"], m.CV["bm25f_map5"])
	}
}

func TestReadQueries(t *testing.T) {
	in := "\ttweet_content\n1\tplain text\n2\t\"quoted \"\"inner\"\" text\"\n\n3\ttext\textra column\n"
	qs, err := ReadQueries(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Query{{"1", "plain text"}, {"2", `quoted "inner" text`}, {"3", "text"}}
	if !slices.Equal(qs, want) {
		t.Errorf("got %q, want %q", qs, want)
	}
	if _, err := ReadQueries(strings.NewReader("id\ttext\nno tab here\n")); err == nil {
		t.Error("a line without a tab was accepted")
	}
	qs, err = ReadQueries(strings.NewReader("tweet-sno-1\tno header\n"))
	if err != nil || len(qs) != 1 {
		t.Errorf("headerless file: %v %v", qs, err)
	}
}

func TestEvaluate(t *testing.T) {
	qrels := Qrels{"q1": {"a": true}, "q2": {"b": true, "c": true}, "q3": {"z": true}}
	run := map[string][]string{"q1": {"x", "a"}, "q2": {"b", "x", "c"}}
	m := Evaluate(run, qrels)
	// q1: AP@1 0, AP@3 1/2; q2: AP@1 1/2, AP@3 (1 + 2/3)/2; q3 absent: 0.
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	if !near(m.MAP1, 0.5/3) || !near(m.MAP3, (0.5+(1+2.0/3)/2)/3) || !near(m.MRR, (0.5+1)/3) || m.Queries != 3 {
		t.Errorf("metrics %+v", m)
	}
}

func FuzzReadQueries(f *testing.F) {
	f.Add("\ttweet_content\n1\ttext\n")
	f.Add("1\t\"a\"\"b\"\n2\t\"multi\nline\"\n")
	f.Add("\"\t\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		qs, err := ReadQueries(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, q := range qs {
			if q.ID == "" {
				t.Fatalf("empty id accepted from %q", s)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	ix := buildIndex(smallFacts)
	f.Add("Bill Gates microchip", "")
	f.Add("Hà Nội \xff", "vi")
	pruned := NewIndex(Options{MinScore: 0.3})
	for _, fc := range smallFacts {
		pruned.Upsert(fc)
	}
	f.Fuzz(func(t *testing.T, s, hint string) {
		rs := ix.Match(s, hint, 3)
		for i, r := range rs {
			if r.Score < 0 || r.Score > 1 || math.IsNaN(r.Score) || i > 0 && rs[i-1].Score < r.Score {
				t.Fatalf("bad results %+v", rs)
			}
		}
		// The pruned path returns exactly the results reaching its floor.
		d := text.Analyze(s, hint)
		ps := pruned.MatchDoc(d, 3)
		n := 0
		for _, r := range ix.MatchDoc(d, 3) {
			if r.Score >= 0.3 {
				n++
			}
		}
		if len(ps) != n {
			t.Fatalf("pruned %+v, unpruned %+v", ps, rs)
		}
	})
}

// emb_cos sees meaning without shared words: of two facts sharing one
// term with the post, the one saying what the post says scores higher;
// Vietnamese posts leave it 0.
func TestMeaningFeature(t *testing.T) {
	ix := buildIndex([]schema.Fact{
		{ID: "boy", Claim: "A photograph depicts a small boy detained by immigration agents and held in a cage.", Lang: "en"},
		{ID: "parrots", Claim: "A pet store kept parrots in cages above the fish tanks.", Lang: "en"},
		{ID: "vi", Claim: "Trẻ em bị nhốt trong lồng ở biên giới", Lang: "vi"},
	})
	feat := func(post, lang string) map[string]float64 {
		q := newQuery(text.Analyze(post, lang), nil)
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		got := map[string]float64{}
		for _, c := range ix.candidatesLocked(&q, 10, 0) {
			got[ix.facts[c.doc].f.ID] = c.feats[slices.Index(featureNames, "emb_cos")]
		}
		return got
	}
	en := feat("Kids in cages. This is what happens when a government believes children are illegal.", "")
	if len(en) < 2 || en["boy"] < en["parrots"]+0.05 {
		t.Errorf("emb_cos %v: the detained child should be clearly closer", en)
	}
	for id, c := range en {
		if c <= 0 || c > 1.001 {
			t.Errorf("emb_cos of %s = %v, want a cosine in (0, 1]", id, c)
		}
	}
	vi := feat("tre em bi nhot trong long o bien gioi", "vi")
	if len(vi) == 0 || vi["vi"] != 0 {
		t.Errorf("Vietnamese post: emb_cos %v, want candidates with 0", vi)
	}
}

// The embedded meaning-vector table loads; without it emb_cos would be 0
// for every candidate and the model would rank worse, silently.
func TestEmbedderLoads(t *testing.T) {
	if embedder() == nil {
		_, err := embed.Default()
		t.Fatalf("embedder: %v", err)
	}
}
