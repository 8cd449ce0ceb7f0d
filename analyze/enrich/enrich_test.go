package enrich

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

func TestEnrichAndAlerting(t *testing.T) {
	ix := claims.NewIndex(claims.Options{})
	ix.Upsert(schema.Fact{ID: "lemon", Claim: "Drinking hot water with lemon cures COVID-19.", Verdict: schema.VerdictFalse, Lang: "en"})
	ix.Upsert(schema.Fact{ID: "masks", Claim: "Face masks reduce the spread of respiratory viruses.", Verdict: schema.VerdictTrue, Lang: "en"})
	ix.Upsert(schema.Fact{ID: "dam", Claim: "Đập thủy điện Hòa Bình bị vỡ sau cơn bão.", Verdict: schema.VerdictFalse, Lang: "vi"})
	e := New(Options{Index: ix})
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	f := func(txt string, wantAlert string) {
		t.Helper()
		a := e.Enrich(schema.Post{ID: "p", Text: txt, Published: now})
		var got []string
		for _, m := range e.Alerting(&a) {
			got = append(got, m.FactID)
		}
		want := []string{}
		if wantAlert != "" {
			want = []string{wantAlert}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%q alerts %v, want %v (matches %+v)", txt, got, want, a.Matches)
		}
	}
	f("Viral post claims drinking hot water with lemon cures COVID-19 in days #health", "lemon")
	f("Wearing face masks reduces the spread of respiratory viruses, study finds", "") // a true fact never alerts
	f("dap thuy dien hoa binh bi vo sau con bao, mọi người sơ tán ngay", "dam")
	f("The council approved the metro budget on Monday", "")
}

func TestDefaultKeys(t *testing.T) {
	doc := text.Analyze("Lũ lớn ở Hà Nội #LuLut #lulut", "")
	keys := DefaultKeys(schema.Post{}, doc, []string{"f1"})
	seen := map[string]int{}
	for _, k := range keys {
		seen[k]++
	}
	if seen["fact:f1"] != 1 {
		t.Fatalf("keys %v lack the matched fact", keys)
	}
	for k, n := range seen {
		if n > 1 {
			t.Fatalf("key %s repeated", k)
		}
	}
}

func TestPrefix(t *testing.T) {
	s := strings.Repeat("ệ", 400)
	p := prefix(s, langSample)
	if len(p) > langSample || !utf8.ValidString(p) || !strings.HasPrefix(s, p) {
		t.Fatalf("prefix: %d bytes, valid %v", len(p), utf8.ValidString(p))
	}
}

// TestEnrichLabels: with KeysLabels, every topic has a label at the same
// index: the headline for the story and the post's own URL, names as
// written, "" for a fact.
func TestEnrichLabels(t *testing.T) {
	e := New(Options{KeysLabels: func(p schema.Post, doc text.Doc, ids []string) ([]string, []string) {
		return []string{"ent:hai phong", "story:1"}, []string{"Hải Phòng", p.Title}
	}})
	a := e.Enrich(schema.Post{ID: "p", Title: "Mưa lớn ở Hải Phòng", Text: "Hải Phòng ngập sâu."})
	if len(a.Labels) != len(a.Topics) || a.Labels[0] != "Hải Phòng" || a.Labels[1] != "Mưa lớn ở Hải Phòng" {
		t.Fatalf("topics %q labels %q", a.Topics, a.Labels)
	}
	bad := New(Options{KeysLabels: func(schema.Post, text.Doc, []string) ([]string, []string) {
		return []string{"kw:a", "kw:b"}, []string{"a"}
	}})
	if a := bad.Enrich(schema.Post{ID: "p", Text: "x"}); a.Labels != nil {
		t.Fatalf("misaligned labels stored: %q", a.Labels)
	}
}
