package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// The matching rule, without a store: folded case and diacritics (đ → d),
// every word somewhere, in any order.
func TestFactsSearchMatchRule(t *testing.T) {
	fs := []clickhouse.FactText{
		{ID: "nc", Claim: "Uống NƯỚC CHANH nóng chữa khỏi ung thư", Lang: "vi"},
		{ID: "ds", Claim: "Đường sắt cao tốc Bắc Nam khởi công năm nay", Lang: "vi"},
		{ID: "pe", Claim: "Donald Trump paid Sarah Palin $10 million for her endorsement", Lang: "en"},
		{ID: "pv", Claim: "Sarah Palin said vaccinations were linked to homosexuality", Lang: "en"},
		{ID: "en", Title: "An endorsement deal", Summary: "No one named", Lang: "en"},
		{ID: "tag", Claim: "Một tin đồn", Tags: []string{"Hà Nội"}},
		{ID: "tr", Claim: "Une rumeur", Translations: []string{"Tin đồn về nước mắm"}},
		{ID: "nfd", Claim: "Nu\u031bo\u031b\u0301c chanh (decomposed)"},
		{ID: "hp", Claim: "Hải Phòng làm phố đi bộ"},
		{ID: "thai", Claim: "Đừng chỉ hạ nhiệt căn phòng, hãy hạ nhiệt cả trạng thái"},
		{ID: "vax", Claim: "COVID-19 vaccines are for sale on the dark web", Lang: "en"},
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"nước chanh", []string{"nc", "nfd"}},
		{"nuoc chanh", []string{"nc", "nfd"}},
		{"NUOC   Chanh", []string{"nc", "nfd"}},
		{"chanh nước", []string{"nc", "nfd"}},
		{"duong sat", []string{"ds"}},
		{"đuong sắt", []string{"ds"}},
		{"Palin endorsement", []string{"pe"}},
		{"endorsement, palin!", []string{"pe"}},
		{"palin", []string{"pe", "pv"}},
		{"endorsement", []string{"pe", "en"}},
		{"ha noi", []string{"tag"}},
		{"nuoc mam", []string{"tr"}},
		{"hai phong", []string{"hp"}}, // not "trạng thái … phòng": a word inside another is no match
		{"Hải Phòng", []string{"hp"}},
		{"covid vaccine", []string{"vax"}},
		{"vaccin", []string{"pv", "vax"}}, // the start of a word matches: vaccinations, vaccines
		{"alin", nil},
		{"palin's", []string{"pe", "pv"}},
		{"palin chanh", nil},
		{"  ", nil},
	} {
		var got []string
		for _, f := range filterFacts(c.q, fs) {
			got = append(got, f.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("q=%q: got %v, want %v", c.q, got, c.want)
		}
	}
}

// Ranking is the matcher's, not recency: the fact whose claim is about
// the query comes first although it is the oldest; facts the matcher does
// not retrieve keep their recency order after it.
func TestFactsSearchRanking(t *testing.T) {
	cands := []clickhouse.FactText{ // newest first, as the store lists them
		{ID: "new", Claim: "Endorsement deals of the week", Summary: "Palin is among the names listed", Lang: "en"},
		{ID: "mid", Claim: "Sarah Palin wants to ban Arabic numerals", Lang: "en"},
		{ID: "old", Claim: "Donald Trump paid Sarah Palin for her endorsement", Lang: "en"},
	}
	// As the handler does: the facts holding every word, then the matcher.
	got := rankFacts("Palin endorsement", filterFacts("Palin endorsement", cands))
	if len(got) != 2 || got[0] != "old" {
		t.Errorf("ranked %v, want old first (and mid, without the word endorsement, left out)", got)
	}
	// Before the matcher (which ranks at most maxRanked), matches with the
	// words in their claim or title come before newer ones with them only
	// in the summary.
	var order []string
	for _, f := range filterFacts("palin", cands) {
		order = append(order, f.ID)
	}
	if !slices.Equal(order, []string{"mid", "old", "new"}) {
		t.Errorf("filter order %v, want [mid old new]", order)
	}
}

// The API and the page on the real store: the queries of issues #17 and
// #18 find what they should.
func TestFactsSearchAPI(t *testing.T) {
	fx := newFixture(t)
	tok := fx.tokens[RoleResponder]
	body := `[
{"id":"s-nc","claim":"Uống nước chanh nóng chữa khỏi ung thư","verdict":"false","lang":"vi"},
{"id":"s-ds","claim":"Đường sắt cao tốc Bắc Nam khởi công năm nay","verdict":"misleading","lang":"vi"},
{"id":"s-pe","claim":"Donald Trump paid Sarah Palin $10 million for her endorsement","verdict":"false","lang":"en"},
{"id":"s-pv","claim":"Sarah Palin said vaccinations were linked to autism","verdict":"false","lang":"en"},
{"id":"s-en","claim":"A senator's endorsement was bought","title":"Endorsement deal","verdict":"false","lang":"en"}]`
	if resp := fx.do(t, "POST", "/api/v1/facts", tok, strings.NewReader(body)); resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("post facts: %d %s", resp.StatusCode, b)
	}
	search := func(q string) []string {
		t.Helper()
		var page struct{ Facts []struct{ ID string } }
		resp := fx.do(t, "GET", "/api/v1/facts?q="+url.QueryEscape(q), tok, nil)
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("q=%q: %d %v", q, resp.StatusCode, err)
		}
		var ids []string
		for _, f := range page.Facts {
			ids = append(ids, f.ID)
		}
		return ids
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"nước chanh", []string{"s-nc"}},
		{"nuoc chanh", []string{"s-nc"}},
		{"NƯỚC Chanh", []string{"s-nc"}},
		{"duong sat", []string{"s-ds"}},
		{"Palin endorsement", []string{"s-pe"}},
		{"endorsement palin", []string{"s-pe"}},
	} {
		if got := search(c.q); !slices.Equal(got, c.want) {
			t.Errorf("q=%q: got %v, want %v", c.q, got, c.want)
		}
	}
	if got := search("palin"); len(got) != 2 || !slices.Contains(got, "s-pe") || !slices.Contains(got, "s-pv") {
		t.Errorf("q=palin: got %v", got)
	}
	if got := search("endorsement"); len(got) != 2 {
		t.Errorf("q=endorsement: got %v", got)
	}
	// Filters still apply, and paging walks the ranked list.
	var page struct{ Facts []struct{ ID string } }
	if err := json.NewDecoder(fx.do(t, "GET", "/api/v1/facts?q=palin&verdict=misleading", tok, nil).Body).Decode(&page); err != nil || len(page.Facts) != 0 {
		t.Errorf("q=palin&verdict=misleading: %+v %v", page, err)
	}
	first := search("palin")
	var p1, p2 struct{ Facts []struct{ ID string } }
	json.NewDecoder(fx.do(t, "GET", "/api/v1/facts?q=palin&limit=1", tok, nil).Body).Decode(&p1)
	json.NewDecoder(fx.do(t, "GET", "/api/v1/facts?q=palin&limit=1&offset=1", tok, nil).Body).Decode(&p2)
	if len(p1.Facts) != 1 || len(p2.Facts) != 1 || p1.Facts[0].ID != first[0] || p2.Facts[0].ID != first[1] {
		t.Errorf("pages %+v %+v, want %v", p1, p2, first)
	}
	// The Facts page searches the same way.
	resp := fx.do(t, "GET", "/facts?q="+url.QueryEscape("nuoc chanh"), tok, nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("Uống nước chanh nóng")) || bytes.Contains(b, []byte("Palin")) {
		t.Errorf("facts page q=nuoc chanh: %d, finds nước chanh %v", resp.StatusCode, bytes.Contains(b, []byte("Uống nước chanh nóng")))
	}
}

// A fact with an unknown verdict is refused with the accepted values; a
// fact without a date has none in the API, not 0001-01-01; an oversized
// import answers 413 body_too_large.
func TestFactsValidationAPI(t *testing.T) {
	fx := newFixture(t)
	fx.srv.opts.NormalizeFact = facts.Normalize // as serve wires it
	tok := fx.tokens[RoleResponder]
	resp := fx.do(t, "POST", "/api/v1/facts", tok, strings.NewReader(`{"claim":"x","verdict":"banana"}`))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `verdict \"banana\" is not one of false, misleading, mixed, true, unproven, other`) {
		t.Errorf("banana: %d %s", resp.StatusCode, b)
	}
	// Decoding errors in the words of the JSON, not of Go.
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/api/v1/facts", `{"claim":5}`, `field \"claim\" must be a string, not number`},
		{"POST", "/api/v1/facts", `[{"claim":"x","date":"yesterday"}]`, `time \"yesterday\" is not an RFC 3339 time`},
		{"POST", "/api/v1/facts", `{"claim":"x","colour":"red"}`, `unknown field \"colour\"`},
		{"PUT", "/api/v1/facts/x", `{"claim":"x","tags":"a"}`, `field \"tags\" must be an array, not string`},
		{"POST", "/api/v1/facts", `{"claim":`, `cut short`},
	} {
		resp := fx.do(t, c.method, c.path, tok, strings.NewReader(c.body))
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), c.want) ||
			strings.Contains(string(b), "Go ") || strings.Contains(string(b), "schema.") || strings.Contains(string(b), "2006") {
			t.Errorf("%s %s: %d %s, want 400 saying %s", c.method, c.body, resp.StatusCode, b, c.want)
		}
	}
	resp = fx.do(t, "POST", "/api/v1/facts", tok, strings.NewReader(`{"id":"nodate","claim":"a claim without a date","rating":"Satire"}`))
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("no date: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/api/v1/facts/nodate", "/api/v1/facts?q=without"} {
		b, _ := io.ReadAll(fx.do(t, "GET", path, tok, nil).Body)
		if bytes.Contains(b, []byte("0001-01-01")) || !bytes.Contains(b, []byte(`"verdict":"other"`)) || !bytes.Contains(b, []byte(`"rating":"Satire"`)) {
			t.Errorf("%s: %s", path, b)
		}
	}
	// Many good records past the limit, with and without a Content-Length.
	line := `{"id":"x","claim":"` + strings.Repeat("a", 1000) + `"}` + "\n"
	bigFile := strings.Repeat(line, maxBody/len(line)+10)
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(bigFile)
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		resp = fx.do(t, "POST", "/api/v1/facts/import?name=big.jsonl", tok, body)
		b, _ = io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"body_too_large"`) {
			t.Errorf("big import (chunked %v): %d %s", chunked, resp.StatusCode, b)
		}
	}
	resp = fx.do(t, "POST", "/api/v1/facts", tok, strings.NewReader(`{"claim":"`+strings.Repeat("a", maxBody)+`"}`))
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"body_too_large"`) {
		t.Errorf("big post: %d %s", resp.StatusCode, b)
	}
}
