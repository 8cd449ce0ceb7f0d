package trends

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

type vnItem struct {
	Title, Summary, Link, Source string
	Published                    time.Time
	story                        string
	units                        map[string]bool
}

// TestStoryKeysVINews measures story keys on the shared vi-news days: pairs
// of items from different outlets within 6 h that share at least three rare
// phrase units and a Jaccard similarity of them of at least 0.25 are
// candidates for one event (checked by eye when this was written: all of
// them report one event, the misses mostly with other wording), pairs that
// share at most one rare unit are unrelated. Reports of one event must
// share their story key often; unrelated ones next to never.
func TestStoryKeysVINews(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(testdata.SharedDir(t), "vi-news", "*.jsonl"))
	var items []*vnItem
	seen := map[string]bool{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r vnItem
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if seen[r.Link] {
				continue
			}
			seen[r.Link] = true
			post := schema.Post{Title: r.Title, Text: r.Summary, Lang: "vi"}
			doc := text.Analyze(Body(post), "vi")
			for _, k := range Keys(post, doc, nil) {
				if strings.HasPrefix(k, "story:") {
					r.story = k
				}
			}
			r.units = map[string]bool{}
			for _, u := range text.Units(doc.Text, "vi") {
				if u.DF <= 60 {
					r.units[u.Key] = true
				}
			}
			items = append(items, &r)
		}
		f.Close()
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Published.Before(items[j].Published) })
	same, shared, other, coll := 0, 0, 0, 0
	var show []string
	for i, a := range items {
		for _, b := range items[i+1:] {
			if b.Published.Sub(a.Published) > 6*time.Hour {
				break
			}
			if a.Source == b.Source {
				continue
			}
			inter := 0
			for u := range a.units {
				if b.units[u] {
					inter++
				}
			}
			union := len(a.units) + len(b.units) - inter
			j := float64(inter) / float64(max(union, 1))
			st := a.story != "" && a.story == b.story
			if inter >= 3 && j >= 0.25 {
				same++
				if st {
					shared++
					show = append(show, fmt.Sprintf("SHARE %.2f\n  %s\n  %s", j, a.Title, b.Title))
				} else if len(show) < 300 {
					show = append(show, fmt.Sprintf("MISS %.2f\n  %s\n  %s", j, a.Title, b.Title))
				}
			} else if inter <= 1 {
				other++
				if st {
					coll++
					show = append(show, fmt.Sprintf("COLL %.2f\n  %s\n  %s", j, a.Title, b.Title))
				}
			}
		}
	}
	nostory := 0
	for _, it := range items {
		if it.story == "" {
			nostory++
		}
	}
	t.Logf("items %d without story %d; candidate same-event pairs %d share %d (%.3f); unrelated pairs %d collide %d", len(items), nostory, same, shared, float64(shared)/float64(max(same, 1)), other, coll)
	if testing.Verbose() {
		for _, s := range show {
			t.Log(s)
		}
	}
	if same < 20 || float64(shared) < 0.2*float64(same) {
		t.Errorf("%d of %d same-event pairs share a story key, want >= 20%%", shared, same)
	}
	if float64(coll) > 1e-4*float64(other) {
		t.Errorf("%d of %d unrelated pairs share a story key", coll, other)
	}
}
