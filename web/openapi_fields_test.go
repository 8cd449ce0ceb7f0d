package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// The served OpenAPI document passes an independent validator (PyPI's
// openapi-spec-validator, installed by scripts/test.sh).
func TestOpenAPIValidates(t *testing.T) {
	s := &Server{}
	s.routes = append(s.apiRoutes(), ingestRoute(http.NotFoundHandler()))
	b, err := json.MarshalIndent(s.openAPIDoc(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "-m", "openapi_spec_validator", file).CombinedOutput()
	if err != nil {
		t.Fatalf("openapi-spec-validator (pip install openapi-spec-validator): %v\n%s", err, out)
	}
}

// Every field the document promises appears in real answers: each route is
// called on the seeded fixture and the answers of all routes sharing a
// schema together must hold every documented property, at every depth.
func TestOpenAPIFieldsExistInResponses(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	admin := fx.tokens[RoleAdmin]
	// What the seed lacks: a flag, a confirmed appearance, a source with a
	// status and a token with an expiry.
	if err := fx.st.WriteFlags(ctx, []schema.Flag{{Time: fx.now.Add(-10 * time.Minute), Topic: "#giadien", Kind: "burst", Score: 4.2, Count: 40, Authors: 7, PostIDs: []string{"p1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.PutSourceStatus(ctx, schema.SourceStatus{SourceID: "src-ok", LastAttempt: fx.now, LastSuccess: fx.now, LastError: "GET x: HTTP 503",
		LastErrorAt: fx.now.Add(-time.Hour), ItemsPerDay: 12, NextPoll: fx.now.Add(time.Minute), LastNewItems: 2, Health: schema.HealthSilent,
		HealthDetail: "no new item for 3h", ErrorKind: "http_503", Title: "OK news"}); err != nil {
		t.Fatal(err)
	}
	answers := map[string][]any{} // schema name → answers
	call := func(method, path, schemaName string, body any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		resp := fx.do(t, method, path, admin, rd)
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		answers[schemaName] = append(answers[schemaName], v)
	}
	var trends struct {
		Topics []struct{ Topic, Kind string }
	}
	fx.getJSON(t, "/api/v1/trends?window=24h&min_sources=0&min_posts=1&limit=100", admin, &trends)
	call("GET", "/healthz", "Status", nil)
	call("GET", "/readyz", "Status", nil)
	call("GET", "/api/v1/me", "Me", nil)
	call("GET", "/api/v1/trends?window=24h&min_sources=0&min_posts=1&limit=100", "Trends", nil)
	call("GET", "/api/v1/flags?window=24h", "Flags", nil)
	for _, tr := range trends.Topics {
		if tr.Kind == "fact" || tr.Topic == "#giadien" {
			call("GET", "/api/v1/topics/"+url.PathEscape(tr.Topic)+"?window=24h", "Timeline", nil)
			call("GET", "/api/v1/topics/"+url.PathEscape(tr.Topic)+"/spread?window=24h", "Spread", nil)
		}
	}
	full := map[string]any{"id": "f-full", "claim": "Uống nước chanh chữa khỏi ung thư", "title": "Nước chanh không chữa ung thư",
		"summary": "Không có bằng chứng", "lang": "vi", "verdict": "false", "rating": "Sai", "publisher": "Báo Chính phủ",
		"url": "https://baochinhphu.example/nuoc-chanh", "date": fx.now.Add(-24 * time.Hour), "tags": []string{"sức khỏe"},
		"translations": map[string]string{"en": "Lemon water cures cancer"}, "updated": fx.now}
	call("POST", "/api/v1/facts", "Accepted", []any{full, map[string]any{"id": "f-new", "claim": "Tin đồn mới", "verdict": "false"}, map[string]any{"id": "f-bad"}})
	call("POST", "/api/v1/facts/f-full/appearances", "Accepted", map[string]string{"text": "uống nước chanh là khỏi ung thư đó"})
	call("GET", "/api/v1/facts?q=nuoc+chanh", "Facts", nil)
	call("GET", "/api/v1/facts/f-full", "Fact", nil)
	{ // a file import (the raw file as the body), whose bad records are numbered
		req, _ := http.NewRequest("POST", fx.http.URL+"/api/v1/facts/import?format=csv",
			strings.NewReader("id,claim,verdict\nf-csv,Tin đồn CSV,false\nf-q,\"never closed,false\n"))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := fx.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v any
		if err := json.Unmarshal(raw, &v); err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("import: %d %s", resp.StatusCode, raw)
		}
		answers["Accepted"] = append(answers["Accepted"], v)
	}
	call("DELETE", "/api/v1/facts/f-new", "Deleted", nil)
	call("POST", "/api/v1/sources", "Source", map[string]any{"kind": "feed", "url": "https://so.example/rss", "name": "Sở", "lang": "vi",
		"interval": int64(time.Hour), "options": map[string]string{"note": "x"}})
	call("GET", "/api/v1/sources", "Sources", nil)
	call("POST", "/api/v1/sources/src-ok/pause", "Source", nil)
	call("DELETE", "/api/v1/sources/src-ok", "Deleted", nil)
	var cases struct{ Cases []struct{ ID string } }
	fx.getJSON(t, "/api/v1/cases", admin, &cases)
	call("GET", "/api/v1/cases", "Cases", nil)
	if len(cases.Cases) == 0 {
		t.Fatal("fixture has no case")
	}
	call("POST", "/api/v1/cases/"+cases.Cases[0].ID+"/snooze", "CaseCommandSent", map[string]any{"until": fx.now.Add(time.Hour), "note": "chờ"})
	call("POST", "/api/v1/cases/"+cases.Cases[0].ID+"/response", "CaseCommandSent", map[string]any{"url": "https://so.example/dinh-chinh"})
	// The alerter, stubbed here, writes a case's history.
	if err := fx.st.AppendCaseEvents(ctx, []clickhouse.CaseEvent{{CaseID: cases.Cases[0].ID, ID: "e1", Time: fx.now, Actor: "responder1", Action: "note", Detail: "đã báo Sở"}}); err != nil {
		t.Fatal(err)
	}
	call("GET", "/api/v1/cases/"+cases.Cases[0].ID, "Case", nil)
	call("GET", "/api/v1/thresholds", "Thresholds", nil)
	call("PUT", "/api/v1/settings/thresholds", "ThresholdsSetting", map[string]float64{"vi": 0.6})
	call("GET", "/api/v1/settings/thresholds", "ThresholdsSetting", nil)
	call("PUT", "/api/v1/settings/alert-policy", "AlertPolicySetting", map[string]any{"min_posts": 2})
	call("GET", "/api/v1/settings/alert-policy", "AlertPolicySetting", nil)
	call("GET", "/api/v1/settings/audit", "SettingsAudit", nil)
	call("GET", "/api/v1/routes", "Routes", nil)
	call("GET", "/api/v1/users", "Users", nil)
	call("POST", "/api/v1/users", "User", map[string]any{"name": "newuser", "role": RoleAnalyst, "password": testPassword})
	call("POST", "/api/v1/tokens", "NewToken", map[string]any{"label": "ci", "role": RoleAnalyst, "ttl": "720h"})
	call("GET", "/api/v1/tokens", "Tokens", nil)
	var toks struct{ Tokens []struct{ ID string } }
	fx.getJSON(t, "/api/v1/tokens", admin, &toks)
	call("DELETE", "/api/v1/tokens/"+toks.Tokens[0].ID, "Revoked", nil)

	doc := fx.srv.openAPIDoc()
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	// Every response schema of the JSON routes was exercised above.
	for _, rt := range fx.srv.routes {
		if rt.resp == "" || rt.csv || rt.resp == "Document" || !strings.HasPrefix(rt.path, "/api/") && rt.path != "/healthz" && rt.path != "/readyz" {
			continue
		}
		if rt.path == ingestPath {
			continue // TestOpenAPIIngest and the push tests
		}
		if _, ok := answers[rt.resp]; !ok {
			t.Errorf("%s %s answers %s, which this test does not call", rt.method, rt.path, rt.resp)
		}
	}
	refs, checked := map[string][]any{}, map[string]bool{}
	names := make([]string, 0, len(answers))
	for n := range answers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		sc, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("schema %s is not documented", name)
			continue
		}
		for _, miss := range missingFields(schemas, sc, answers[name], name, refs) {
			t.Errorf("documented but in no answer: %s", miss)
		}
	}
	// A referenced schema (a Fact inside a Spread) is checked once over all
	// the places it appears.
	for len(refs) > 0 {
		var name string
		for name = range refs {
			break
		}
		vals := refs[name]
		delete(refs, name)
		if checked[name] {
			continue
		}
		checked[name] = true
		for _, miss := range missingFields(schemas, schemas[name].(map[string]any), vals, name, refs) {
			t.Errorf("documented but in no answer: %s", miss)
		}
	}
}

// missingFields lists the documented properties (dotted paths) that none
// of values holds.
func missingFields(schemas map[string]any, sc map[string]any, values []any, path string, refs map[string][]any) []string {
	if r, ok := sc["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		refs[name] = append(refs[name], values...)
		return nil
	}
	var out []string
	if props, ok := sc["properties"].(map[string]any); ok {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var sub []any
			for _, v := range values {
				if m, ok := v.(map[string]any); ok {
					if x, ok := m[k]; ok {
						sub = append(sub, x)
					}
				}
			}
			if len(sub) == 0 {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, missingFields(schemas, props[k].(map[string]any), sub, path+"."+k, refs)...)
		}
	}
	if items, ok := sc["items"].(map[string]any); ok {
		var elems []any
		for _, v := range values {
			if a, ok := v.([]any); ok {
				elems = append(elems, a...)
			}
		}
		if len(elems) > 0 {
			out = append(out, missingFields(schemas, items, elems, path+"[]", refs)...)
		} else if items["properties"] != nil || items["$ref"] != nil {
			out = append(out, path+"[] (always empty)")
		}
	}
	return out
}
