package schema

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPostIDStable(t *testing.T) {
	a := PostID("https://vnexpress.net/a.html", "feed1", "g1")
	b := PostID("https://vnexpress.net/a.html", "feed2", "other-guid")
	if a != b {
		t.Fatalf("same canonical URL through two feeds gave %s and %s", a, b)
	}
	if c := PostID("", "feed1", "g1"); c == a || c != PostID("", "feed1", "g1") {
		t.Fatalf("source+guid id not distinct or not stable: %s", c)
	}
	if PostID("", "feed1", "g1") == PostID("", "feed1", "g2") {
		t.Fatal("different guids share an id")
	}
	// The separator keeps ("ab","c") and ("a","bc") apart.
	if PostID("", "ab", "c") == PostID("", "a", "bc") {
		t.Fatal("ambiguous id")
	}
	if len(a) != 32 {
		t.Fatalf("id length %d", len(a))
	}
}

func TestNormalizeVerdict(t *testing.T) {
	f := func(rating, want string) {
		t.Helper()
		if got := NormalizeVerdict(rating); got != want {
			t.Fatalf("NormalizeVerdict(%q) = %q, want %q", rating, got, want)
		}
	}
	f("False", VerdictFalse)
	f("Pants on Fire!", VerdictFalse)
	f("Faux", VerdictFalse)
	f("Sai sự thật", VerdictFalse)
	f("Not true", VerdictFalse)
	f("Untrue", VerdictFalse)
	f("Misleading", VerdictMisleading)
	f("Trompeur", VerdictMisleading)
	f("Missing context", VerdictMisleading)
	f("Mostly false", VerdictMixed)
	f("Half True", VerdictMixed)
	f("True", VerdictTrue)
	f("Vrai", VerdictTrue)
	f("Unproven", VerdictUnproven)
	f("Satire", VerdictOther)
	f("", "")
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := Post{ID: "p1", Source: "s", Platform: "rss", Text: "Hà Nội mưa lớn", Published: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	b, err := Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"v":1`) {
		t.Fatalf("no version stamp: %s", b)
	}
	got, err := DecodePost(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != p.Text || !got.Published.Equal(p.Published) || got.V != Version {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		_, err := DecodePost([]byte(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("DecodePost(%s) error = %v, want it to mention %q", in, err, wantErr)
		}
	}
	f(`{`, "cannot decode post")
	f(`{"v":2,"id":"x","text":"t","published":"2026-01-01T00:00:00Z"}`, "newer than this build")
	f(`{"v":1,"text":"t","published":"2026-01-01T00:00:00Z"}`, "no id")
	f(`{"v":1,"id":"x","published":"2026-01-01T00:00:00Z"}`, "neither text nor title")
	f(`{"v":1,"id":"x","text":"t"}`, "no published time")
	// encoding/json replaces invalid UTF-8 with U+FFFD: the post survives, valid.
	if p, err := DecodePost([]byte("{\"v\":1,\"id\":\"x\",\"text\":\"a\xffb\",\"published\":\"2026-01-01T00:00:00Z\"}")); err != nil || p.Text != "a\uFFFDb" {
		t.Fatalf("invalid UTF-8: %q %v", p.Text, err)
	}
	if _, err := DecodeFact([]byte(`{"v":1,"id":"f"}`)); err == nil {
		t.Fatal("fact without claim accepted")
	}
	if _, err := DecodeAlert([]byte(`{"v":1,"fact_id":"f","command":{"kind":"acknowledge"}}`)); err == nil {
		t.Fatal("command without id accepted")
	}
	if _, err := DecodeTopicEvent([]byte(`{"v":1,"topic":"#a"}`)); err == nil {
		t.Fatal("topic event without post and time accepted")
	}
}

func TestClampKeepsUTF8(t *testing.T) {
	p := Post{Text: strings.Repeat("ệ", MaxTextBytes), Title: strings.Repeat("đ", MaxTitleBytes)}
	p.Clamp()
	if len(p.Text) > MaxTextBytes || len(p.Title) > MaxTitleBytes || !utf8.ValidString(p.Text) || !utf8.ValidString(p.Title) {
		t.Fatalf("clamp: %d/%d bytes, valid %v/%v", len(p.Text), len(p.Title), utf8.ValidString(p.Text), utf8.ValidString(p.Title))
	}
}

// FuzzDecodePost: never panics; whatever it accepts re-encodes and decodes
// to the same post.
func FuzzDecodePost(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":"p","text":"x","published":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":0,"id":"p","title":"t","published":"2026-01-01T00:00:00+07:00","engagement":{"likes":3}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePost(b)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted invalid post: %v", err)
		}
		out, err := Encode(&p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := DecodePost(out)
		if err != nil || q.ID != p.ID || q.Text != p.Text {
			t.Fatalf("re-decode: %v %+v", err, q)
		}
	})
}

func TestClaimText(t *testing.T) {
	for _, c := range []struct{ claim, title, want string }{
		{"The  Moon is\tMADE of cheese ", "ignored", "the moon is made of cheese"},
		{" \n", "Only A Title", "only a title"},
		{"", "", ""},
		{"Đà Nẵng  ngập", "", "đà nẵng ngập"},
	} {
		if got := ClaimText(c.claim, c.title); got != c.want {
			t.Errorf("ClaimText(%q, %q) = %q, want %q", c.claim, c.title, got, c.want)
		}
	}
}
