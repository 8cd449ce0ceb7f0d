package claims

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

// TestCheckThat measures the dev splits (never used for training) and
// fails when a change makes them regress below the reached level.
func TestCheckThat(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 25k facts")
	}
	for _, c := range []struct {
		edition, split string
		minMAP5        float64
	}{
		// 2020: reached 0.8548 (0.8502 before the Vietnamese summary →
		// headline sets joined the training), the target 0.85
		// with two queries to spare (one query from rank 2 to 1 is
		// 0.0025); 0.8221 with the same
		// clean training before known appearances. (The 0.8297 reported
		// earlier trained on CheckThat! 2022 train, which holds these
		// dev tweets.)
		{"2020", "dev", 0.85},
		{"2022", "devtest", 0.935}, // reached 0.9418
	} {
		t.Run(c.edition+"/"+c.split, func(t *testing.T) {
			set := checkThat(t, c.edition, c.split)
			ix := buildIndex(set.facts)
			m := Evaluate(runQueries(ix, set.queries, 10), set.qrels)
			// Calibration of the top result: expected calibration error
			// over 10 score bins (|mean score − share correct|, weighted).
			var sum, cnt [10]float64
			var ok [10]float64
			for _, q := range set.queries {
				rs := ix.Match(q.Text, "", 1)
				if len(rs) == 0 || set.qrels[q.ID] == nil {
					continue
				}
				b := min(int(rs[0].Score*10), 9)
				sum[b] += rs[0].Score
				cnt[b]++
				if set.qrels[q.ID][rs[0].FactID] {
					ok[b]++
				}
			}
			var ece, n float64
			for b := range 10 {
				if cnt[b] > 0 {
					ece += math.Abs(sum[b] - ok[b])
					n += cnt[b]
				}
			}
			t.Logf("top-1 expected calibration error %.3f", ece/max(n, 1))
			t.Logf("queries %d MAP@1 %.4f MAP@3 %.4f MAP@5 %.4f MAP@10 %.4f MRR %.4f",
				m.Queries, m.MAP1, m.MAP3, m.MAP5, m.MAP10, m.MRR)
			if m.MAP5 < c.minMAP5 {
				t.Errorf("MAP@5 %.4f < %.2f", m.MAP5, c.minMAP5)
			}
		})
	}
}

// TestVietnameseNews is the Vietnamese benchmark. It measures the real
// task — a Vietnamese post, often without diacritics, restating a claim
// that is in the facts database — on real news (see NewsRewrites):
//
//   - facts: the unique headlines of all five days of vi-news, ~2,400;
//   - posts: one per news item of the last two days (2026-08-20/21),
//     rotating through four rewrites: the lede (first sentence) of the
//     summary, which restates the event in other words, with and without
//     diacritics; and the headline as a social post, lower-case without
//     diacritics or accented, a word dropped, in a social frame;
//   - relevant: the item's own headline. Several outlets headline the same
//     event, so part of the residual error is genuinely ambiguous.
//
// The re-ranker's training may use the first three days' rewrites
// (train match --news), never these two days'. Ledes are the hard half.
func TestVietnameseNews(t *testing.T) {
	days := readViNewsDays(t, filepath.Join(testdata.SharedDir(t), "vi-news"))
	var all, held []NewsItem
	for i, d := range days {
		all = append(all, d...)
		if i >= len(days)-2 {
			held = append(held, d...)
		}
	}
	facts, queries, qrels, style := NewsRewrites(all, held, "vi")
	styles := make([]Qrels, NumRewrites)
	for i := range styles {
		styles[i] = Qrels{}
	}
	for q, st := range style {
		styles[st][q] = qrels[q]
	}
	ix := buildIndex(facts)
	run := runQueries(ix, queries, 10)
	m := Evaluate(run, qrels)
	var per [NumRewrites]float64
	for i := range styles {
		per[i] = Evaluate(run, styles[i]).MAP5
	}
	if os.Getenv("TRENDWATCH_DEBUG_VI") != "" {
		byID := map[string]string{}
		for _, f := range facts {
			byID[f.ID] = f.Claim
		}
		n := 0
		for i, q := range queries {
			r := run[q.ID]
			for want := range qrels[q.ID] {
				if len(r) > 0 && r[0] != want && n < 15 {
					n++
					t.Logf("%d Q: %.150s\n   want: %s\n   got:  %s", i, q.Text, byID[want], byID[r[0]])
				}
			}
		}
	}
	t.Logf("vi-news: %d facts, %d posts: MAP@1 %.4f MAP@5 %.4f MRR %.4f; MAP@5 by rewrite: lede %.4f, lede unaccented %.4f, headline unaccented %.4f, headline accented %.4f",
		len(facts), m.Queries, m.MAP1, m.MAP5, m.MRR, per[0], per[1], per[2], per[3])
	if m.MAP5 < 0.85 { // reached 0.8680
		t.Errorf("Vietnamese MAP@5 %.4f < 0.85", m.MAP5)
	}
}

// readViNewsDays reads the vi-news day files, in date order.
func readViNewsDays(t testing.TB, dir string) [][]NewsItem {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vi-news files in %s: %v", dir, err)
	}
	slices.Sort(files)
	var days [][]NewsItem
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			t.Fatal(err)
		}
		items, err := ReadNewsItems(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		days = append(days, items)
	}
	return days
}

// readViNews reads every vi-news item.
func readViNews(t testing.TB, dir string) []NewsItem {
	t.Helper()
	var all []NewsItem
	for _, d := range readViNewsDays(t, dir) {
		all = append(all, d...)
	}
	return all
}
