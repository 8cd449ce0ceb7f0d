package claims

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// readOutletBench reads the shared vi-news/outlet-bench pools (days
// 2026-08-20/21), the Vietnamese dev set: never trained on.
func readOutletBench(tb testing.TB) []OutletSet {
	tb.Helper()
	dir := filepath.Join(testdata.SharedDir(tb), "vi-news", "outlet-bench")
	var out []OutletSet
	for _, o := range []string{"thanhnien", "tuoitre", "vnexpress"} {
		d := filepath.Join(dir, o)
		out = append(out, OutletSet{
			Outlet:  o,
			Facts:   loadFacts(tb, filepath.Join(d, "facts.tsv")),
			Queries: readQueriesFile(tb, filepath.Join(d, "queries.tsv")),
			Qrels:   readQrelsFile(tb, filepath.Join(d, "qrels.tsv")),
		})
	}
	return out
}

// outletScores are MAP@5 figures of one system on the outlet pools.
type outletScores struct {
	all, accented, unaccented float64
	n, nAccented              int // posts, accented posts
	per                       map[string]float64
}

// scoreOutlets runs rank over every pool and scores the pools as one run,
// as the data README defines, and by outlet and by spelling.
func scoreOutlets(sets []OutletSet, rank func(s OutletSet) map[string][]string) outletScores {
	run, qrels := map[string][]string{}, Qrels{}
	acc, unacc := Qrels{}, Qrels{}
	sc := outletScores{per: map[string]float64{}}
	for _, s := range sets {
		r := rank(s)
		sc.per[s.Outlet] = Evaluate(r, s.Qrels).MAP5
		for id, ids := range r {
			run[id] = ids
		}
		for _, q := range s.Queries {
			qrels[q.ID] = s.Qrels[q.ID]
			if text.HasDiacritics(q.Text) {
				acc[q.ID] = s.Qrels[q.ID]
			} else {
				unacc[q.ID] = s.Qrels[q.ID]
			}
		}
	}
	sc.n, sc.nAccented = len(qrels), len(acc)
	sc.all = Evaluate(run, qrels).MAP5
	sc.accented = Evaluate(run, acc).MAP5
	sc.unaccented = Evaluate(run, unacc).MAP5
	return sc
}

func (s outletScores) String() string {
	var b strings.Builder
	b.WriteString(fmtF("MAP@5 %.4f (accented %.4f, unaccented %.4f;", s.all, s.accented, s.unaccented))
	for _, o := range slices.Sorted(mapsKeys(s.per)) {
		b.WriteString(fmtF(" "+o+" %.4f", s.per[o]))
	}
	b.WriteString(")")
	return b.String()
}

// matcherRun ranks each pool's queries with an index built with opts.
func matcherRun(opts Options) func(s OutletSet) map[string][]string {
	return func(s OutletSet) map[string][]string {
		ix := NewIndex(opts)
		for _, f := range s.Facts {
			ix.Upsert(f)
		}
		return runQueries(ix, s.Queries, 10)
	}
}

// TestOutletBench is the Vietnamese dev set: per-outlet summary →
// headline matching on real paraphrase (vi-news/outlet-bench), scored as
// one run. The plain BM25 the issue names (folded syllables + adjacent
// syllable bigrams, k1 1.2, b 0.75) is measured in the same run.
func TestOutletBench(t *testing.T) {
	sets := readOutletBench(t)
	full := scoreOutlets(sets, matcherRun(Options{}))
	first := scoreOutlets(sets, matcherRun(Options{Model: bm25Model()}))
	plain := scoreOutlets(sets, plainBM25Run)
	t.Logf("trendwatch %v", full)
	t.Logf("its BM25F  %v", first)
	t.Logf("plain BM25 %v", plain)
	if full.all < plain.all {
		t.Errorf("outlet-bench MAP@5 %.4f below plain BM25 %.4f", full.all, plain.all)
	}
	// Reached 0.8338 (plain BM25 0.8181; 0.797 before facts written in
	// Vietnamese were indexed as Vietnamese whatever their declared
	// language). The bar is 0.88: not reached.
	if full.all < 0.83 {
		t.Errorf("outlet-bench MAP@5 %.4f < 0.83", full.all)
	}
}

// plainBM25Run is the reference baseline of the data README: BM25 (k1
// 1.2, b 0.75) over the claim's diacritic-folded syllables plus adjacent
// syllable bigrams, each distinct query term once, nothing else. It
// scores the README's 0.818 on outlet-bench.
func plainBM25Run(s OutletSet) map[string][]string {
	const k1, b = 1.2, 0.75
	docs := make([]map[string]int, len(s.Facts))
	df := map[string]int{}
	total := 0
	for i, f := range s.Facts {
		docs[i] = map[string]int{}
		terms := plainTerms(f.Claim + " " + f.Title)
		total += len(terms)
		for _, t := range terms {
			if docs[i][t] == 0 {
				df[t]++
			}
			docs[i][t]++
		}
		docs[i]["\x00len"] = len(terms)
	}
	avg := float64(total) / float64(len(docs))
	n := float64(len(docs))
	run := map[string][]string{}
	for _, q := range s.Queries {
		qt := slices.Compact(slices.Sorted(slices.Values(plainTerms(q.Text))))
		scores := make([]float64, len(docs))
		for i, d := range docs {
			norm := 1 - b + b*float64(d["\x00len"])/avg
			for _, t := range qt {
				tf := float64(d[t])
				if tf == 0 {
					continue
				}
				idf := math.Log(1 + (n-float64(df[t])+0.5)/(float64(df[t])+0.5))
				scores[i] += idf * tf * (k1 + 1) / (tf + k1*norm)
			}
		}
		order := make([]int, len(docs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			if scores[a] != scores[b] {
				if scores[a] > scores[b] {
					return -1
				}
				return 1
			}
			return strings.Compare(s.Facts[a].ID, s.Facts[b].ID)
		})
		for _, i := range order[:min(10, len(order))] {
			if scores[i] > 0 {
				run[q.ID] = append(run[q.ID], s.Facts[i].ID)
			}
		}
	}
	return run
}

// plainTerms are folded lower-case syllables and adjacent-syllable
// bigrams, split at anything not a letter or digit.
func plainTerms(s string) []string {
	words := strings.FieldsFunc(strings.ToLower(text.FoldDiacritics(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	out := slices.Clone(words)
	for i := 1; i < len(words); i++ {
		out = append(out, words[i-1]+"_"+words[i])
	}
	return out
}

func mapsKeys(m map[string]float64) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func fmtF(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// A fact declared in another language whose claim is Vietnamese is
// indexed as Vietnamese (the CheckThat! TSV layout is read as English);
// an English claim naming Vietnamese people stays English.
func TestWrittenInVietnamese(t *testing.T) {
	for s, want := range map[string]bool{
		"Bão số 4 có thể hình thành hôm nay":                              true,
		"Anne Hathaway 20 năm chinh phục Hollywood":                       true,
		"TP HCM quy hoạch không gian cho taxi bay ở độ cao 300-1.000 m":   true,
		"Nguyễn Phú Trọng said the vaccine is a hoax":                     false,
		"A photo shows Võ Nguyên Giáp with the leaders of the revolution": false,
		"Le président a rencontré Phạm Minh Chính à Paris pour un accord": false,
		"Ha Noi cam xe may tu nam 2030":                                   false, // unaccented: detection decides
		"Hà Nội":                                                          false, // too short to overrule
	} {
		if got := writtenInVietnamese(s); got != want {
			t.Errorf("writtenInVietnamese(%q) = %v, want %v", s, got, want)
		}
	}
	ix := NewIndex(Options{})
	ix.Upsert(schema.Fact{ID: "x", Claim: "Bão số 4 có thể hình thành hôm nay", Lang: "en"})
	if rs := ix.Match("bao so 4 co the hinh thanh", "", 1); len(rs) == 0 || rs[0].FactID != "x" || rs[0].Lang != "vi" {
		t.Errorf("Vietnamese claim declared English: %+v", rs)
	}
}
