package claims

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// robustCases are one checked claim per language with a close paraphrase
// (as a post would restate it) and an unrelated post in the same language.
var robustCases = []struct {
	fact                  schema.Fact
	paraphrase, unrelated string
}{
	{
		fact:       schema.Fact{ID: "zz-en", Claim: "Drinking hot water with lemon cures COVID-19.", Verdict: "false", Lang: "en"},
		paraphrase: "Viral post: hot lemon water cures COVID-19. A viral post claims that drinking hot water with lemon cures COVID-19 and kills the coronavirus.",
		unrelated:  "The city council approved the new budget for road repairs on Tuesday after a long debate.",
	},
	{
		fact:       schema.Fact{ID: "zz-fr", Claim: "Le gouvernement supprime les retraites des fonctionnaires.", Verdict: "faux", Lang: "fr"},
		paraphrase: "Selon une publication virale, le gouvernement va supprimer la retraite des fonctionnaires dès l'an prochain.",
		unrelated:  "Le match de football de samedi a été reporté à cause de la pluie et du vent.",
	},
	{
		fact:       schema.Fact{ID: "zz-vi", Claim: "Uống nước chanh nóng chữa khỏi COVID-19", Verdict: "sai", Lang: "vi"},
		paraphrase: "Tin đồn trên mạng: uống nước chanh nóng giúp chữa khỏi COVID-19 và diệt virus corona",
		unrelated:  "Đội tuyển bóng đá Việt Nam thắng 2-0 trong trận giao hữu tối qua tại sân Mỹ Đình",
	},
	{
		fact:       schema.Fact{ID: "zz-vi2", Claim: "Hà Nội cấm xe máy từ năm 2030", Verdict: "sai", Lang: "vi"},
		paraphrase: text.FoldDiacritics("Nghe nói Hà Nội sẽ cấm xe máy từ năm 2030, ai cũng phải chuyển sang xe buýt"),
		unrelated:  text.FoldDiacritics("Giá vàng hôm nay tăng mạnh sau phiên giao dịch cuối tuần"),
	},
}

// TestScoreCollectionSize checks that scores do not depend on how many
// facts the index holds: a deployment starts with one fact. With 1, 10,
// 1,000 and all facts, the paraphrase must score at least its language's
// threshold (and rank its fact first), the unrelated post at most half of
// it.
func TestScoreCollectionSize(t *testing.T) {
	fillers := func(t *testing.T, n int) []schema.Fact {
		if n >= 0 && n <= len(smallFacts) {
			return smallFacts[:n]
		}
		all := sharedFacts(t)
		if n < 0 || n > len(all) {
			return all
		}
		return all[:n]
	}
	for _, n := range []int{0, 9, 999, -1} {
		name := fmt.Sprintf("facts=%d", n+1)
		if n < 0 {
			name = "facts=all"
		}
		t.Run(name, func(t *testing.T) {
			if n > len(smallFacts) || n < 0 {
				if testing.Short() {
					t.Skip("needs the shared data")
				}
			}
			base := fillers(t, n)
			for _, c := range robustCases {
				ix := NewIndex(Options{})
				for _, f := range base {
					ix.Upsert(f)
				}
				ix.Upsert(c.fact)
				th := ix.Threshold(c.fact.Lang)
				// With the real collections another fact may check the
				// same claim (Snopes has one on lemons and COVID-19): the
				// fact must then be in the top 5, still above threshold.
				depth := 1
				if n < 0 || n > len(smallFacts) {
					depth = 5
				}
				rs := ix.Match(c.paraphrase, "", depth)
				i := slices.IndexFunc(rs, func(r Result) bool { return r.FactID == c.fact.ID })
				if i < 0 || rs[i].Score < th {
					t.Errorf("%d facts: paraphrase of %s: got %+v, want %s in the top %d with score ≥ %.2f", ix.Len(), c.fact.ID, rs, c.fact.ID, depth, th)
				} else {
					t.Logf("%d facts: %s paraphrase %.3f", ix.Len(), c.fact.ID, rs[i].Score)
				}
				for _, r := range ix.Match(c.unrelated, "", 3) {
					if r.Score > th/2 {
						t.Errorf("%d facts: unrelated %s post matched %s with %.3f > %.2f", ix.Len(), c.fact.Lang, r.FactID, r.Score, th/2)
					}
				}
			}
		})
	}
}

// sharedFacts are the CheckThat! 2020 and 2022 claims and the vi-news
// headlines, interleaved so any prefix mixes editions and languages.
func sharedFacts(t testing.TB) []schema.Fact {
	t.Helper()
	dir := testdata.SharedDir(t)
	a := readCheckThat2020(t, filepath.Join(dir, "checkthat2020", "verified_claims.docs.tsv"))
	b := readCheckThat2022(t, filepath.Join(dir, "checkthat2022", "vclaims.jsonl"))
	v := viNewsFacts(t, filepath.Join(dir, "vi-news"))
	var out []schema.Fact
	for i := 0; i < max(len(a), len(b), len(v)); i++ {
		for _, s := range [][]schema.Fact{a, b, v} {
			if i < len(s) {
				out = append(out, s[i])
			}
		}
	}
	return out
}

func viNewsFacts(t testing.TB, dir string) []schema.Fact {
	t.Helper()
	items := readViNews(t, dir)
	var out []schema.Fact
	seen := map[string]bool{}
	for _, it := range items {
		if it.Title == "" || seen[it.Title] {
			continue
		}
		seen[it.Title] = true
		out = append(out, schema.Fact{ID: "vi-" + it.ID, Claim: it.Title, Lang: "vi"})
	}
	return out
}

// TestSingleFactStream mirrors the pipeline's end-to-end test: the index
// holds ONE false fact, a feed brings six posts (title + text, as the
// analyzer joins them), and only the one restating the claim may reach the
// English alert threshold; the others must stay below the store floor.
func TestSingleFactStream(t *testing.T) {
	ix := NewIndex(Options{MinScore: 0.3})
	ix.Upsert(schema.Fact{ID: "e2e-lemon-covid", Claim: "Drinking hot water with lemon cures COVID-19.",
		Title: "Does hot lemon water cure COVID-19?", Rating: "False", Verdict: "false", Lang: "en",
		Publisher: "Test Checkers", URL: "https://checkers.example/lemon"})
	posts := []struct {
		title, text string
		match       bool
	}{
		{"River levels rise in Hanoi #floodwatch", "Authorities warn residents near the Red River as water levels rise after three days of rain. #floodwatch", false},
		{"Schools closed in low districts #floodwatch", "Several schools in low-lying districts closed on Tuesday while pumps worked through the night. #floodwatch", false},
		{"Volunteers fill sandbags", "Hundreds of volunteers filled sandbags along the dyke. #floodwatch #volunteers", false},
		{"Power restored to most homes", "Electricity was restored to most homes by the evening, the utility said. #FloodWatch", false},
		{"Viral post: hot lemon water cures COVID-19", "A viral post claims that drinking hot water with lemon cures COVID-19 and kills the coronavirus.", true},
		{"City budget approved for new metro line", "The council approved the budget for the second metro line.", false},
	}
	// A lexical near-miss (drink, hot, water) may be stored but must not
	// alert.
	nearMiss := text.Analyze("Drinking water restored after flood\nHot weather returns; the water utility says tap water is safe to drink again.", "")
	if rs := ix.MatchDoc(nearMiss, 3); len(rs) > 0 && rs[0].Score >= ix.Threshold(nearMiss.Lang) {
		t.Errorf("near miss alerts: %+v", rs)
	}
	for _, p := range posts {
		d := text.Analyze(p.title+"\n"+p.text, "")
		rs := ix.MatchDoc(d, 3)
		switch {
		case p.match && (len(rs) != 1 || rs[0].Score < ix.Threshold(d.Lang)):
			t.Errorf("%q: %+v, want the fact above %.2f", p.title, rs, ix.Threshold(d.Lang))
		case !p.match && len(rs) > 0:
			t.Errorf("%q: %+v, want nothing above the 0.3 floor", p.title, rs)
		}
	}
}
