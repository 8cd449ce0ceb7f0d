package cases

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// share is one post of a Twitter16 cascade.
type share struct {
	fact, user string
	at         time.Time
	seq        int
}

// loadFalseCascades reads the Twitter16 cascades labelled false: each
// source tweet stands for a false fact, each share for a matching post by
// its user at source time + delay (the README's replay recipe).
func loadFalseCascades(t *testing.T) (map[string]int, []share) {
	dir := filepath.Join(testdata.SharedDir(t), "propagation", "twitter16")
	labels, err := os.ReadFile(filepath.Join(dir, "label.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{}
	var all []share
	for _, line := range strings.Split(string(labels), "\n") {
		label, id, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || label != "false" {
			continue
		}
		sid, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			t.Fatalf("label.txt: bad id %q", id)
		}
		src := time.UnixMilli((sid >> 22) + 1288834974657).UTC()
		f, err := os.Open(filepath.Join(dir, "tree", id+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			// ['parent_uid', 'parent_tweet', 'delay']->['uid', 'tweet', 'delay']
			_, child, ok := strings.Cut(sc.Text(), "->")
			if !ok {
				continue
			}
			fields := strings.Split(strings.Trim(child, "[]"), ",")
			if len(fields) != 3 {
				continue
			}
			uid := strings.Trim(strings.TrimSpace(fields[0]), "'")
			delay, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(fields[2]), "'"), 64)
			if err != nil || delay < 0 {
				continue
			}
			all = append(all, share{fact: id, user: uid, at: src.Add(time.Duration(delay * float64(time.Minute))), seq: n})
			n++
		}
		f.Close()
		sizes[id] = n
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	return sizes, all
}

type replayStats struct {
	cases, notifications               int
	openMinutes, openFraction, perCase []float64
}

func replay(pol policy.Config, sizes map[string]int, shares []share) replayStats {
	b := NewBook(pol, []policy.Route{{Name: "desk", Channels: []string{"desk"}}}, nil)
	first := map[string]time.Time{}
	seen := map[string]int{}
	notes := map[string]int{}
	var st replayStats
	for _, s := range shares {
		if _, ok := first[s.fact]; !ok {
			first[s.fact] = s.at
		}
		seen[s.fact]++
		a := schema.Alert{Key: fmt.Sprint(s.fact, "/", s.seq), FactID: s.fact, PostID: fmt.Sprint(s.seq), Verdict: schema.VerdictFalse,
			Score: 0.9, Lang: "en", Platform: "twitter", Author: s.user, Published: s.at}
		eff := b.Apply([]schema.Alert{a}, s.at)
		eff.Notify = append(eff.Notify, b.Tick(s.at).Notify...)
		for _, o := range eff.Notify {
			notes[o.N.FactID]++
			st.notifications++
			if o.N.Seq == 1 {
				st.openMinutes = append(st.openMinutes, s.at.Sub(first[s.fact]).Minutes())
				st.openFraction = append(st.openFraction, float64(seen[s.fact])/float64(sizes[s.fact]))
			}
		}
	}
	st.cases = len(b.Cases())
	for _, n := range notes {
		st.perCase = append(st.perCase, float64(n))
	}
	return st
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func p90(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)*9/10]
}

// TestTwitter16Replay replays the 205 false Twitter16 cascades (real
// authors and share times) through the case book: one case per cascade,
// and the notification volume responders would get under the default and
// a stricter velocity rule. Run with -v for the figures.
func TestTwitter16Replay(t *testing.T) {
	sizes, shares := loadFalseCascades(t)
	if len(sizes) < 200 || len(shares) < 40000 {
		t.Fatalf("loaded %d cascades, %d shares", len(sizes), len(shares))
	}
	strict := policy.Default()
	strict.MinPosts, strict.MinAuthors, strict.Window = 20, 10, 30*time.Minute
	for _, c := range []struct {
		name string
		pol  policy.Config
	}{{"default", policy.Default()}, {"20 posts/10 authors in 30m", strict}} {
		st := replay(c.pol, sizes, shares)
		t.Logf("%s: %d cascades, %d shares -> %d cases, %d notifications (%.1f per case, median %.0f, p90 %.0f); first notification median %.1f min after the source at %.1f%% of final size",
			c.name, len(sizes), len(shares), st.cases, st.notifications, float64(st.notifications)/float64(max(st.cases, 1)),
			median(st.perCase), p90(st.perCase), median(st.openMinutes), 100*median(st.openFraction))
		if st.cases > len(sizes) {
			t.Errorf("%s: %d cases for %d facts", c.name, st.cases, len(sizes))
		}
		// Grouping must hold back the flood: far fewer notifications than posts.
		if st.notifications*20 > len(shares) {
			t.Errorf("%s: %d notifications for %d posts", c.name, st.notifications, len(shares))
		}
		if c.name == "default" && (st.cases != len(sizes) || median(st.openMinutes) != 0) {
			t.Errorf("default rule must open every cascade at its first share: %d cases, median %v min", st.cases, median(st.openMinutes))
		}
	}
}
