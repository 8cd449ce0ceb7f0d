package main

// Trends on real Vietnamese news (issue 17, item 8): a shared vi-news day
// pushed through POST /api/v1/ingest of a `trendwatch run` on the real
// Kafka and ClickHouse, each item with its own published time, then the
// 3 h and 24 h lists read at several moments of the day through
// /api/v1/trends?to=..., and story recall against a hand-made list of the
// day's multi-outlet stories.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/chromedp/chromedp"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/internal/testsvc"
)

// The check's thresholds (issue 17's acceptance).
const (
	minSupportedShare = 0.9 // of a top 10 with at least 3 posts
	minStoryRecall    = 0.8
)

// storiesFile is the hand-made list of the shared days' multi-outlet
// stories; devStories stands in while it is not there.
var storiesFile = filepath.Join("..", "..", "analyze", "trends", "testdata", "vinews_stories.jsonl")

// story is one line of storiesFile: an event headlined by at least three
// outlets within 6 hours, its items (vi-news ids) and when the third
// outlet reported it.
type story struct {
	Story string    `json:"story"`
	Day   string    `json:"day"`
	Items []string  `json:"items"`
	Third time.Time `json:"third"`
}

// devStories are two stories of 2026-08-17, picked by hand (three
// outlets each), for developing the harness before the full list exists.
// The second spans 7 hours, beyond the list's 6: its 6 h window after the
// third report holds two of its items, which the recall rule asks for.
var devStories = []story{
	{Story: "Bán kết lượt về Việt Nam - Malaysia", Day: "2026-08-17",
		Items: []string{"a3422d88a596b1a78430e19a00e83363", "13a9fe5fff9ef911362a80a9c8d2e9df", "3e54db7d166ca73f115831e09f5ae1fd"},
		Third: time.Date(2026, 8, 17, 12, 13, 0, 0, time.FixedZone("+07", 7*3600))},
	{Story: "Lê Thanh Thản bị truy tố", Day: "2026-08-17",
		Items: []string{"0322d97e33a83a5decc8f336ad0d18df", "048d0338bbf6ceaaa09defa47f40f6ef", "864f3ac3ef61f832649fcacb7f89203d"},
		Third: time.Date(2026, 8, 17, 15, 31, 23, 0, time.FixedZone("+07", 7*3600))},
}

func loadStories(t *testing.T) []story {
	f, err := os.Open(storiesFile)
	if os.IsNotExist(err) {
		t.Logf("%s not found: using the 2 development stories", storiesFile)
		return devStories
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []story
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var s story
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s line %d: %v", storiesFile, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type newsItem struct {
	ID, Title, Summary, Link, Source string
	Published                        time.Time
}

// foldLabel is a label's identity: lower case, no diacritics, one space.
func foldLabel(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(text.FoldDiacritics(s))), " ")
}

type trendRow struct {
	Topic, Label, Kind string
	Posts, Sources     int64
	Authors            int64
	Score              float64
	BaselineRate       float64 `json:"baseline_rate"`
}

// TestViNewsTrends is the measurement of issue 17 item 8. Days:
// TRENDWATCH_VINEWS_DAYS (comma-separated, default 2026-08-17).
func TestViNewsTrends(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	brokers := testsvc.Kafka(t)
	chAddr := testsvc.ClickHouse(t)
	db := testsvc.Database(t, chAddr)
	days := split(os.Getenv("TRENDWATCH_VINEWS_DAYS"))
	if len(days) == 0 { // the five shared days, about 2,850 items
		days = []string{"2026-08-17", "2026-08-18", "2026-08-19", "2026-08-20", "2026-08-21"}
	}
	var items []newsItem
	for _, d := range days {
		items = append(items, readNews(t, filepath.Join("..", "..", "..", "shared", "data", "vi-news", d+".jsonl"))...)
	}
	api := freePort(t)
	group := fmt.Sprintf("vinews-%d", time.Now().UnixNano())
	env := []string{
		"TRENDWATCH_KAFKA_BROKERS=" + brokers,
		"TRENDWATCH_CLICKHOUSE_ADDR=" + chAddr,
		"TRENDWATCH_CLICKHOUSE_DATABASE=" + db,
		"TRENDWATCH_ANALYZE_GROUP=" + group,
		"TRENDWATCH_KAFKA_TOPIC_PREFIX=" + group + ".",
		"TRENDWATCH_DATA_DIR=" + t.TempDir(),
		"TRENDWATCH_BATCH_LINGER=50ms",
		"TRENDWATCH_COMPACT_EVERY=0",   // the replayed hours are read raw, as they are the first minutes after a push
		"TRENDWATCH_RETAIN_RAW_DAYS=0", // the shared days are months old: keep their raw rows
	}
	cmd := execEnv(env, "migrate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	startProc(t, "run", env, "run", "--listen", api, "--metrics-listen", "")
	base := "http://" + api
	waitFor(t, "the API", 60*time.Second, func() (bool, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})

	// Push the day, a batch of at most 500 items at a time.
	type pushItem struct {
		ID        string    `json:"id"`
		URL       string    `json:"url"`
		Title     string    `json:"title"`
		Text      string    `json:"text"`
		Published time.Time `json:"published"`
		Lang      string    `json:"lang"`
		Platform  string    `json:"platform"`
		Source    string    `json:"source"`
	}
	accepted := map[string]bool{} // distinct posts: a day file repeats some items of the days before
	for start := 0; start < len(items); start += 500 {
		var batch []pushItem
		for _, it := range items[start:min(start+500, len(items))] {
			batch = append(batch, pushItem{ID: it.ID, URL: it.Link, Title: it.Title, Text: it.Summary, Published: it.Published,
				Lang: "vi", Platform: "rss", Source: it.Source})
		}
		status, body := postJSON(t, base+"/api/v1/ingest", map[string]any{"items": batch})
		if status != http.StatusOK && status != http.StatusAccepted {
			t.Fatalf("ingest: %d %s", status, tail(body, 2000))
		}
		var r struct {
			IDs    []string
			Errors []struct {
				Index         int
				Code, Message string
			}
		}
		_ = json.Unmarshal([]byte(body), &r)
		for _, id := range r.IDs {
			accepted[id] = true
		}
		for _, e := range r.Errors {
			if e.Code != "duplicate_in_batch" { // vi-news lists an item once per VnExpress section
				t.Logf("item %d refused: %s %s", start+e.Index, e.Code, e.Message)
			}
		}
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{chAddr}, Auth: ch.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	waitFor(t, "every pushed item stored", 120*time.Second, func() (bool, string) {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT uniqExact(id) FROM posts").Scan(&n); err != nil {
			return false, err.Error()
		}
		return int(n) >= len(accepted), fmt.Sprintf("%d of %d", n, len(accepted))
	})
	// A vi-news item's post, by its link (the ingest makes its own ids).
	postOf := map[string]uint64{}
	rows, err := conn.Query(ctx, "SELECT url, h FROM posts GROUP BY url, h")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		var h uint64
		if err := rows.Scan(&u, &h); err != nil {
			t.Fatal(err)
		}
		postOf[u] = h
	}
	rows.Close()

	trendsAt := func(window string, to time.Time, extra ...string) []trendRow {
		t.Helper()
		var b struct{ Topics []trendRow }
		u := base + "/api/v1/trends?limit=10&window=" + window + "&to=" + url.QueryEscape(to.Format(time.RFC3339)) + strings.Join(extra, "")
		if code := getJSON(t, u, &b); code != 200 {
			t.Fatalf("GET %s: %d", u, code)
		}
		return b.Topics
	}

	// The lists at several moments of each day (Vietnam time).
	vn := time.FixedZone("+07", 7*3600)
	var lists, full, supported, unlabelled, dupes int
	perWindow := map[string]int{} // listed topics (all with >= 3 posts by the support rule) per window
	for _, d := range days {
		day, err := time.ParseInLocation("2006-01-02", d, vn)
		if err != nil {
			t.Fatal(err)
		}
		for _, hour := range []int{9, 12, 15, 18, 21} {
			to := day.Add(time.Duration(hour) * time.Hour)
			for _, w := range []string{"3h", "24h"} {
				top := trendsAt(w, to)
				lists++
				full += len(top)
				perWindow[w] += len(top)
				seen := map[string]string{}
				var shown []string
				for _, tr := range top {
					if tr.Posts >= 3 {
						supported++
					}
					if strings.TrimSpace(tr.Label) == "" {
						unlabelled++
					}
					f := foldLabel(tr.Label)
					if prev, ok := seen[f]; ok && f != "" {
						dupes++
						t.Logf("%s %s at %s: %q and %q share the folded label %q", d, w, to.Format("15:04"), prev, tr.Topic, f)
					}
					seen[f] = tr.Topic
					shown = append(shown, fmt.Sprintf("%q(%s,%d posts,%d src,G²=%.1f)", tr.Label, tr.Kind, tr.Posts, tr.Sources, tr.Score))
				}
				t.Logf("%s %s top 10 at %s: %s", d, w, to.Format("15:04"), strings.Join(shown, " "))
				if len(top) < 10 { // what lacked support: the most active topics without the check
					var most []string
					for _, tr := range trendsAt(w, to, "&sort=posts&min_posts=1&min_sources=0") {
						most = append(most, fmt.Sprintf("%q(%s,%d posts,%d src)", tr.Label, tr.Kind, tr.Posts, tr.Sources))
					}
					t.Logf("    fewer than 10 with support; most posts: %s", strings.Join(most, " "))
				}
			}
		}
	}
	// The share is of the topics a top 10 shows: a quiet evening's 3 h list
	// shows fewer than ten rather than pad itself with one-post fragments,
	// so the places it fills are reported beside it.
	share := 0.0
	if full > 0 {
		share = float64(supported) / float64(full)
	}
	t.Logf("FIGURES lists %d: %d of %d listed top-10 topics have >= 3 posts (%.3f); places filled %d of %d (3h %d, 24h %d of %d each); %d unlabelled; %d folded-label duplicates",
		lists, supported, full, share, full, 10*lists, perWindow["3h"], perWindow["24h"], 5*lists, unlabelled, dupes)
	if full == 0 || share < minSupportedShare {
		t.Errorf("%.3f of the listed top-10 topics have >= 3 posts, want >= %.2f", share, minSupportedShare)
	}
	if perWindow["24h"] < 9*len(days)*5*10/10 {
		t.Errorf("the 24 h lists fill %d of %d places: a day of news holds more than that", perWindow["24h"], len(days)*5*10)
	}
	if unlabelled > 0 {
		t.Errorf("%d listed topics have no label", unlabelled)
	}
	if dupes > 0 {
		t.Errorf("%d pairs of listed topics share a folded label", dupes)
	}

	// Story recall: a story is found when, at some moment from its third
	// outlet's report to an hour later (every 10 minutes), a topic of the
	// 6 h top 10 has at least 2 of the story's items among its posts in
	// that window.
	var stories []story
	for _, s := range loadStories(t) {
		if slices.Contains(days, s.Day) {
			stories = append(stories, s)
		}
	}
	linkOf := map[string]string{}
	for _, it := range items {
		linkOf[it.ID] = it.Link
	}
	found := 0
	for _, s := range stories {
		want := map[uint64]bool{}
		for _, id := range s.Items {
			if h, ok := postOf[linkOf[id]]; ok {
				want[h] = true
			}
		}
		hit := ""
		for step := 0; step <= 6 && hit == ""; step++ {
			to := s.Third.Add(time.Duration(step) * 10 * time.Minute).UTC().Truncate(time.Minute).Add(time.Minute)
			for _, tr := range trendsAt("6h", to) {
				n := 0
				rows, err := conn.Query(ctx, `SELECT DISTINCT post_h FROM topic_posts
WHERE topic = ? AND minute >= toDateTime(?) AND minute < toDateTime(?)`, tr.Topic, to.Add(-6*time.Hour).Unix(), to.Unix())
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var h uint64
					if err := rows.Scan(&h); err != nil {
						t.Fatal(err)
					}
					if want[h] {
						n++
					}
				}
				rows.Close()
				if n >= 2 {
					hit = fmt.Sprintf("%q (%s) at %s", tr.Label, tr.Kind, to.In(vn).Format("15:04"))
					break
				}
			}
		}
		if hit != "" {
			found++
			t.Logf("story %q found: %s", s.Story, hit)
		} else {
			t.Logf("story %q (third report %s) not in the 6 h top 10 within the hour", s.Story, s.Third.In(vn).Format("15:04"))
		}
	}
	recall := 0.0
	if len(stories) > 0 {
		recall = float64(found) / float64(len(stories))
	}
	t.Logf("FIGURES story recall %.3f (%d of %d stories of %v)", recall, found, len(stories), days)
	if len(stories) == 0 || recall < minStoryRecall {
		t.Errorf("story recall %.3f (%d of %d), want >= %.2f", recall, found, len(stories), minStoryRecall)
	}

	screenshotTrends(t, base, days[len(days)-1])
}

func readNews(t *testing.T, path string) []newsItem {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("vi-news day: %v", err)
	}
	var out []newsItem
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var it newsItem
		if err := json.Unmarshal(line, &it); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, it)
	}
	return out
}

// screenshotTrends saves the Trends page (Vietnamese, 3 h and 24 h, at
// 18:00 of the day) to $TRENDWATCH_SCREENSHOTS (default
// $TMPDIR/trendwatch-screenshots), as the browser suite does; without a
// Chromium it says so and saves none.
func screenshotTrends(t *testing.T, base, day string) {
	exe := os.Getenv("TRENDWATCH_CHROMIUM")
	if exe == "" {
		for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
			if _, err := os.Stat(p); err == nil {
				exe = p
				break
			}
		}
	}
	if exe == "" {
		t.Log("no Chromium (apt-get install -y chromium): Trends screenshots not saved")
		return
	}
	dir := os.Getenv("TRENDWATCH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "trendwatch-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	for _, w := range []string{"3h", "24h"} {
		u := base + "/trends?hl=vi&window=" + w + "&to=" + day + "T18:00"
		if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
			t.Errorf("open %s: %v", u, err)
			continue
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
		if err != nil {
			t.Errorf("screenshot of %s: %v", u, err)
			continue
		}
		name := filepath.Join(dir, "vinews-trends-"+day+"-"+w+".png")
		if err := os.WriteFile(name, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", name)
	}
}
