package web

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestCSVExports(t *testing.T) {
	fx := newFixture(t)
	resp := fx.do(t, "GET", "/api/v1/topics/%23giadien/timeline.csv?window=24h&step=1h", fx.tokens[RoleEditor], nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("timeline.csv: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "timeline-_giadien.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "topic,time,posts,cumulative" || len(rows) < 24 {
		t.Fatalf("timeline rows: %v", rows[:min(len(rows), 3)])
	}
	if last := rows[len(rows)-1]; last[3] != "43" { // 40 rising + 3 older posts in the day
		t.Errorf("cumulative posts at the end = %s, want 43", last[3])
	}

	resp = fx.do(t, "GET", "/api/v1/topics/%23xsstest/spread.csv?window=24h", fx.tokens[RoleAdmin], nil)
	body, _ := io.ReadAll(resp.Body)
	rows, err = csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("spread.csv: %d %v", resp.StatusCode, err)
	}
	want := map[string]string{"total/posts": "5", "total/authors": "5", "source/evil.example": "5"}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[1]+"/"+r[2]] = r[3]
		if strings.HasPrefix(r[2], "=") {
			t.Errorf("formula not defused in %q", r)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("spread.csv %s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(string(body), "author,'=cmd|") {
		t.Errorf("author with a formula not quoted:\n%s", body)
	}
	if resp := fx.do(t, "GET", "/api/v1/topics/%23giadien/spread.csv", fx.tokens[RoleAnalyst], nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("analyst export: %d, want 403", resp.StatusCode)
	}
}

func TestFactsPaginationEditImport(t *testing.T) {
	fx := newFixture(t)
	tok := fx.tokens[RoleResponder]
	var facts []string
	for _, c := range []string{"một", "hai", "ba", "bốn", "năm"} {
		facts = append(facts, `{"id":"p-`+c+`","claim":"tin đồn số `+c+`","verdict":"false","lang":"vi"}`)
	}
	if resp := fx.do(t, "POST", "/api/v1/facts", tok, strings.NewReader("["+strings.Join(facts, ",")+"]")); resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("post facts: %d %s", resp.StatusCode, b)
	}
	seen := map[string]bool{}
	next := "0"
	for pages := 0; next != "" && pages < 10; pages++ {
		var page struct {
			Facts      []struct{ ID string }
			NextOffset *int `json:"next_offset"`
		}
		resp := fx.do(t, "GET", "/api/v1/facts?q=tin%20%C4%91%E1%BB%93n&limit=2&offset="+next, tok, nil)
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Facts {
			if seen[f.ID] {
				t.Errorf("fact %s on two pages", f.ID)
			}
			seen[f.ID] = true
		}
		next = ""
		if page.NextOffset != nil {
			next = strconv.Itoa(*page.NextOffset)
		}
	}
	if len(seen) != 5 {
		t.Errorf("paged through %d facts, want 5", len(seen))
	}
	// Edit: the path id wins.
	if resp := fx.do(t, "PUT", "/api/v1/facts/p-ba", tok, strings.NewReader(`{"id":"other","claim":"tin đồn số ba (sửa)","verdict":"misleading"}`)); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("put: %d", resp.StatusCode)
	}
	var f struct{ Claim, Verdict string }
	if err := json.NewDecoder(fx.do(t, "GET", "/api/v1/facts/p-ba", tok, nil).Body).Decode(&f); err != nil || f.Verdict != "misleading" {
		t.Errorf("after edit: %+v %v", f, err)
	}
	if resp := fx.do(t, "PUT", "/api/v1/facts/p-ba", tok, strings.NewReader(`{"claim":""}`)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("invalid edit: %d, want 400", resp.StatusCode)
	}
	// Import a JSONL file: one good record, one broken.
	req := "{\"id\":\"imp-1\",\"claim\":\"nhập từ tệp\",\"rating\":\"Sai\",\"url\":\"https://fc.example/1\"}\n{not json\n"
	resp := fx.do(t, "POST", "/api/v1/facts/import?name=x.jsonl", tok, strings.NewReader(req))
	var out struct {
		Accepted int
		Errors   []recordError
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted || out.Accepted != 1 || len(out.Errors) != 1 {
		t.Errorf("import: %d %+v %v", resp.StatusCode, out, err)
	}
}

// TestTopicPageByRole: analysts see the timeline but not the spread
// figures or exports, which are the editors'.
func TestTopicPageByRole(t *testing.T) {
	fx := newFixture(t)
	page := func(role string) string {
		resp := fx.do(t, "GET", "/topics/%23giadien?window=24h", fx.tokens[role], nil)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", role, resp.StatusCode)
		}
		return string(b)
	}
	a, e := page(RoleAnalyst), page(RoleEditor)
	if !strings.Contains(a, `id="timeline-chart"`) || strings.Contains(a, `id="spread"`) || strings.Contains(a, ".csv") {
		t.Error("analyst page: want the timeline without spread or exports")
	}
	if !strings.Contains(e, `id="spread"`) || !strings.Contains(e, "/api/v1/topics/%23giadien/spread.csv") {
		t.Error("editor page: want spread figures and the CSV link")
	}
}
