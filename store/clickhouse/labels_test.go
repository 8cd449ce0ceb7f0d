package clickhouse

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestChooseLabel(t *testing.T) {
	f := func(topic string, cands []labelCount, want, kind string) {
		t.Helper()
		got := chooseLabel(topic, cands)
		if got.Text != want || got.Kind != kind {
			t.Errorf("chooseLabel(%q, %v) = %q %s, want %q %s", topic, cands, got.Text, got.Kind, want, kind)
		}
	}
	// The accented spelling wins over its more frequent unaccented twin.
	f("kw:bao yagi", []labelCount{{"bao Yagi", 54}, {"bão Yagi", 20}, {"Bão Yagi", 30}}, "Bão Yagi", KindPhrase)
	f("kw:paris", []labelCount{{"paris", 2}, {"Paris", 9}}, "Paris", KindPhrase)
	f("ent:ho chi minh", nil, "ho chi minh", KindEntity)
	f("#baoyagi", []labelCount{{"#BaoYagi", 3}, {"#baoyagi", 1}}, "#BaoYagi", KindHashtag)
	f("#baoyagi", nil, "#baoyagi", KindHashtag)
	f("url:vnexpress.net/a-1", []labelCount{{"Bão số 4 đổ bộ", 2}}, "Bão số 4 đổ bộ", KindURL)
	f("url:vnexpress.net/a-1", nil, "vnexpress.net", KindURL)
	f("fact:abc", nil, "", KindFact)
	f("story:aa55", nil, "", KindStory)
	// A story's central headline shares the most words with the others,
	// not the most frequent one-off angle.
	f("story:aa55", []labelCount{
		{"Sạt lở đèo Khánh Lê, giao thông tê liệt", 1},
		{"Đèo Khánh Lê sạt lở nghiêm trọng", 1},
		{"Mưa lớn gây sạt lở đèo Khánh Lê", 1},
		{"Hình ảnh hiện trường", 2},
	}, "Mưa lớn gây sạt lở đèo Khánh Lê", KindStory)
	// Ties in shared words go to the more frequent headline.
	f("story:b", []labelCount{{"A b c", 1}, {"A b d", 2}}, "A b d", KindStory)
}

func TestSignificance(t *testing.T) {
	f := func(k, e, want float64) {
		t.Helper()
		if got := significance(k, e); math.Abs(got-want) > 0.05 {
			t.Errorf("significance(%v, %v) = %.3f, want %.1f", k, e, got, want)
		}
	}
	f(3, 0.03, 21.7) // 2·(3·ln 100 − 2.97)
	f(12, 6, 4.6)
	f(40, 10, 50.9)
	f(5, 5, 0)
	f(2, 6, 0) // a fall is not a rise
	if significance(3, 0) <= significance(3, 0.03) {
		t.Error("a zero rate must score at least as high as a small one")
	}
	// More evidence at the same ratio is more significant.
	if significance(20, 10) <= significance(2, 1) {
		t.Error("G² must grow with the counts at a fixed ratio")
	}
	if r := trendRate(0, 0, 0.5, 6); r != 0.5 {
		t.Errorf("no history: rate %v, want the prior 0.5", r)
	}
	if r := trendRate(60, 6, 0, 6); r != 5 {
		t.Errorf("6 h of history at 10/h with a zero prior of weight 6 h: rate %v, want 5", r)
	}
}

func TestRateTableRoundTrip(t *testing.T) {
	tb := BuildRateTable(map[string]int{"kw:cong an": 48, "kw:once": 1, "story:abc": 9, "#tag": 2, "url:x.example/a": 5}, 120, 2, "trendwatch train trend-background --news x")
	var buf bytes.Buffer
	if _, err := tb.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRateTable(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != 2 || got.Rate("kw:cong an") != 0.4 || got.Rate("#tag") != 2.0/120 || got.Command != tb.Command {
		t.Errorf("round trip: %d keys, rates %v %v, command %q", got.Len(), got.Rate("kw:cong an"), got.Rate("#tag"), got.Command)
	}
	// Events and rare keys take the default rate.
	for _, k := range []string{"kw:once", "story:abc", "url:x.example/a", "kw:never"} {
		if got.Rate(k) != got.Default || got.Default != 0.5/120 {
			t.Errorf("rate of %s = %v, want the default %v", k, got.Rate(k), 0.5/120)
		}
	}
	if d := DefaultRateTable(); d.Len() == 0 || d.Hours <= 0 || d.Command == "" {
		t.Errorf("committed table: %d keys over %v hours, command %q", d.Len(), d.Hours, d.Command)
	}
	if _, err := ReadRateTable(bytes.NewReader([]byte("not gzip"))); err == nil {
		t.Error("garbage accepted")
	}
}

// TestTopicLabels: the analyzer's spellings are stored per post and read
// back as one label per topic; facts take the mirror's claim.
func TestTopicLabels(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	at := t0.Add(2 * time.Hour)
	var items []schema.Analyzed
	add := func(id string, topics, labels []string) {
		items = append(items, schema.Analyzed{Post: schema.Post{ID: id, Text: "x", Published: at}, Topics: topics, Labels: labels})
	}
	add("p1", []string{"kw:bao yagi", "story:s1", "fact:f1"}, []string{"bao Yagi", "Bão Yagi đổ bộ Hải Phòng", ""})
	add("p2", []string{"kw:bao yagi", "story:s1"}, []string{"bao Yagi", "Bão Yagi đổ bộ vào Hải Phòng chiều nay"})
	add("p3", []string{"kw:bao yagi", "story:s1", "kw:bao yagi"}, []string{"bão Yagi", "Hải Phòng tan hoang", "bão Yagi"})
	add("p4", []string{"url:a.example/x"}, nil) // no labels: an older analyzer
	if err := s.WriteAnalyzed(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFacts(ctx, []schema.Fact{{V: 1, ID: "f1", Claim: "Bão Yagi làm sập cầu", Verdict: schema.VerdictFalse, Lang: "vi", Updated: at}}); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT sum(posts) FROM topic_labels WHERE topic = 'kw:bao yagi'").Scan(&n); err != nil || n != 3 {
		t.Fatalf("kw:bao yagi spellings counted %d times (err %v), want 3: once per post", n, err)
	}
	ls, err := s.TopicLabels(ctx, []string{"kw:bao yagi", "story:s1", "fact:f1", "url:a.example/x", "kw:unknown"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Label{
		"kw:bao yagi":     {Text: "bão Yagi", Kind: KindPhrase},
		"story:s1":        {Text: "Bão Yagi đổ bộ Hải Phòng", Kind: KindStory},
		"fact:f1":         {Text: "Bão Yagi làm sập cầu", Kind: KindFact, Verdict: schema.VerdictFalse},
		"url:a.example/x": {Text: "a.example", Kind: KindURL},
		"kw:unknown":      {Text: "unknown", Kind: KindPhrase},
	}
	for k, w := range want {
		if ls[k] != w {
			t.Errorf("label of %s = %+v, want %+v", k, ls[k], w)
		}
	}
	// Writing the batch again adds counts but changes no choice.
	if err := s.WriteAnalyzed(ctx, items); err != nil {
		t.Fatal(err)
	}
	if ls2, err := s.TopicLabels(ctx, []string{"story:s1"}); err != nil || ls2["story:s1"] != want["story:s1"] {
		t.Errorf("after a re-delivery: %+v, %v", ls2, err)
	}
}

// The bands of one social story are three topics with one headline: the
// list shows it once, and stays full.
func TestTrendsOneRowPerLabel(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := t0.Add(3 * time.Hour)
	var items []schema.Analyzed
	for i := range 4 {
		for j, src := range []string{"a.example", "b.example"} {
			id := "dup" + string(rune('0'+i)) + src
			items = append(items, schema.Analyzed{Post: schema.Post{ID: id, Source: src, Text: "Cháy lớn ở chợ Đồng Xuân", Published: now.Add(-time.Duration(10+i+j) * time.Minute)},
				Topics: []string{"story:a1", "story:b2", "story:c3", "kw:cho dong xuan"},
				Labels: []string{"Cháy lớn ở chợ Đồng Xuân", "Cháy lớn ở chợ Đồng Xuân", "Chay lon o cho Dong Xuan", "chợ Đồng Xuân"}})
		}
	}
	if err := s.WriteAnalyzed(ctx, items); err != nil {
		t.Fatal(err)
	}
	got, err := s.Trends(ctx, TrendsQuery{Window: time.Hour, Now: now, Limit: 2, Sort: "posts"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label == got[1].Label {
		t.Fatalf("trends = %+v, want two rows with different labels", got)
	}
	labels := map[string]bool{}
	for _, tr := range got {
		labels[tr.Label] = true
	}
	if !labels["chợ Đồng Xuân"] {
		t.Errorf("the phrase was pushed out by the story's other bands: %+v", got)
	}
}
