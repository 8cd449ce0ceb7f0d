package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// storedFact is a fact with every field the edit form does not show.
func storedFact(t *testing.T, fx *fixture) schema.Fact {
	t.Helper()
	f := schema.Fact{V: schema.Version, ID: "full-1", Claim: "Đập thủy điện Hòa Bình bị vỡ", Lang: "vi", Verdict: schema.VerdictFalse,
		Rating: "Sai sự thật", Publisher: "VnExpress", URL: "https://fc.example/dap", Date: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),
		Tags: []string{"lũ"}, Translations: map[string]string{"en": "The Hoa Binh dam has burst"},
		Appearances: []string{"dap thuy dien hoa binh vo roi, so tan ngay"}, Updated: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC)}
	if err := fx.st.WriteFacts(context.Background(), []schema.Fact{f}); err != nil {
		t.Fatal(err)
	}
	return f
}

// Saving the dashboard's edit form changes the fields it shows and keeps
// the others: rating, date, translations and appearances were lost before.
func TestFactFormEditKeepsOtherFields(t *testing.T) {
	fx := newFixture(t)
	f := storedFact(t, fx)
	c := browserClient(t)
	if resp := login(t, c, fx.http.URL, "responder1", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	_, token := pageCSRF(t, c, fx.http.URL+"/facts/"+f.ID+"/edit")
	form := url.Values{"csrf": {token}, "id": {f.ID}, "claim": {"Đập thủy điện Hòa Bình bị vỡ sau bão"}, "title": {""},
		"summary": {"Tin đồn lan trên mạng xã hội"}, "lang": {"vi"}, "verdict": {schema.VerdictMisleading}, "publisher": {"VnExpress"},
		"url": {f.URL}, "tags": {"lũ, bão"}}
	resp, err := c.PostForm(fx.http.URL+"/facts", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	got, err := fx.st.Fact(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Claim != form.Get("claim") || got.Summary != form.Get("summary") || got.Verdict != schema.VerdictMisleading ||
		!slices.Equal(got.Tags, []string{"lũ", "bão"}) {
		t.Errorf("edited fields not saved: %+v", got)
	}
	if got.Rating != f.Rating || !got.Date.Equal(f.Date) || got.Translations["en"] != f.Translations["en"] ||
		!slices.Equal(got.Appearances, f.Appearances) {
		t.Errorf("fields the form does not show were lost: %+v, want rating %q, date %v, translations %v, appearances %q",
			got, f.Rating, f.Date, f.Translations, f.Appearances)
	}
	// A new fact (no id) still works.
	form.Del("id")
	form.Set("claim", "Một tin đồn mới")
	if resp, err = c.PostForm(fx.http.URL+"/facts", form); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if fs, err := fx.st.Facts(context.Background(), clickhouse.FactQuery{Q: "Một tin đồn mới"}); err != nil || len(fs) != 1 || fs[0].Rating != "" {
		t.Errorf("new fact from the form: %+v %v", fs, err)
	}
}

// A responder confirms that a post restates a fact: its text joins the
// fact's appearances, and the rest of the fact is unchanged.
func TestAppendAppearance(t *testing.T) {
	fx := newFixture(t)
	f := storedFact(t, fx)
	post := func(id, token, body string) int {
		resp := fx.do(t, "POST", "/api/v1/facts/"+id+"/appearances", token, strings.NewReader(body))
		resp.Body.Close()
		return resp.StatusCode
	}
	text := "  Nghe nói đập Hòa Bình vỡ rồi, ai ở hạ lưu sơ tán đi  "
	for range 2 { // the same post twice is one appearance
		if got := post(f.ID, fx.tokens[RoleResponder], `{"text":`+quoteJSON(text)+`}`); got != http.StatusAccepted {
			t.Fatalf("append: %d", got)
		}
	}
	got, err := fx.st.Fact(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(f.Appearances), strings.TrimSpace(text))
	if !slices.Equal(got.Appearances, want) || got.Claim != f.Claim || got.Rating != f.Rating || got.Translations["en"] != f.Translations["en"] {
		t.Errorf("after append: %+v, want appearances %q and the rest unchanged", got, want)
	}
	for _, c := range []struct {
		name, id, token, body string
		want                  int
	}{
		{"unknown fact", "nope", fx.tokens[RoleResponder], `{"text":"x"}`, http.StatusNotFound},
		{"empty text", f.ID, fx.tokens[RoleResponder], `{"text":"   "}`, http.StatusBadRequest},
		{"unknown field", f.ID, fx.tokens[RoleResponder], `{"text":"x","post":"p1"}`, http.StatusBadRequest},
		{"not json", f.ID, fx.tokens[RoleResponder], `text=x`, http.StatusBadRequest},
		{"analyst may not", f.ID, fx.tokens[RoleAnalyst], `{"text":"x"}`, http.StatusForbidden},
	} {
		if got := post(c.id, c.token, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if again, _ := fx.st.Fact(context.Background(), f.ID); !slices.Equal(again.Appearances, want) {
		t.Errorf("refused requests changed the appearances: %q", again.Appearances)
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// On the case queue a responder confirms a sample post: the sample's text
// as the case stored it (markup stripped), not anything the browser sends,
// joins the case's fact's appearances, once.
func TestCaseSampleConfirm(t *testing.T) {
	fx := newFixture(t)
	c := browserClient(t)
	if resp := login(t, c, fx.http.URL, "responder1", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	body, token := pageCSRF(t, c, fx.http.URL+"/cases")
	if !strings.Contains(body, `action="/cases/case-high/samples/0/confirm"`) {
		t.Fatal("the cases page has no confirm form for the sample")
	}
	before, err := fx.st.Fact(context.Background(), "fc-dien")
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string, form url.Values) int { return postForm(t, c, fx.http.URL+path, form) }
	form := url.Values{"csrf": {token}, "text": {"forged text"}}
	for range 2 { // the second confirmation of the same post adds nothing
		if got := post("/cases/case-high/samples/0/confirm", form); got != http.StatusSeeOther {
			t.Fatalf("confirm: %d", got)
		}
	}
	after, err := fx.st.Fact(context.Background(), "fc-dien")
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(before.Appearances), strings.TrimSpace(stripHTML.Sanitize(xssTitle))+"\nx mẫu")
	if !slices.Equal(after.Appearances, want) || after.Claim != before.Claim {
		t.Errorf("appearances after confirming %q, want %q", after.Appearances, want)
	}
	for path, code := range map[string]int{
		"/cases/case-high/samples/1/confirm": http.StatusNotFound,
		"/cases/nope/samples/0/confirm":      http.StatusNotFound,
		"/cases/case-high/samples/x/confirm": http.StatusBadRequest,
	} {
		if got := post(path, form); got != code {
			t.Errorf("%s: %d, want %d", path, got, code)
		}
	}
	if got := post("/cases/case-high/samples/0/confirm", url.Values{}); got != http.StatusForbidden {
		t.Errorf("without csrf: %d, want 403", got)
	}
}
