package web

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPI checks the served document against the mux both ways: every
// documented operation is routed to exactly its pattern, and every API
// route the server registers is documented, with its path parameters, an
// error schema with the stable codes, and 401/403 on guarded routes.
func TestOpenAPI(t *testing.T) {
	fx := newFixture(t)
	resp := fx.do(t, "GET", "/api/v1/openapi.json", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string                      `json:"operationId"`
			Parameters  []struct{ Name, In string } `json:"parameters"`
			Responses   map[string]json.RawMessage  `json:"responses"`
			Security    []map[string][]string       `json:"security"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	wild := regexp.MustCompile(`\{([^}]+)\}`)
	documented := map[string]bool{}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			method = strings.ToUpper(method)
			documented[method+" "+path] = true
			if ids[op.OperationID] {
				t.Errorf("duplicate operationId %q", op.OperationID)
			}
			ids[op.OperationID] = true
			// Routed to exactly this pattern (a concrete path built from it).
			concrete := wild.ReplaceAllString(path, "x")
			req := httptest.NewRequest(method, concrete, nil)
			if _, pattern := fx.srv.mux.Handler(req); pattern != method+" "+path {
				t.Errorf("%s %s is documented but the mux routes it to %q", method, path, pattern)
			}
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				if p.In == "path" {
					declared[p.Name] = true
				}
			}
			for _, m := range wild.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s not declared", method, path, m[1])
				}
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s %s has no responses", method, path)
			}
			if len(op.Security) > 0 && (op.Responses["401"] == nil || op.Responses["403"] == nil) {
				t.Errorf("%s %s is guarded but documents no 401/403", method, path)
			}
		}
	}
	var missing []string
	for _, rt := range fx.srv.routes {
		if !documented[rt.method+" "+rt.path] {
			missing = append(missing, rt.method+" "+rt.path)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes missing from the document: %v", missing)
	}
	if len(documented) != len(fx.srv.routes) {
		t.Errorf("document has %d operations, server %d API routes", len(documented), len(fx.srv.routes))
	}
	var errSchema struct {
		Properties struct {
			Error struct {
				Properties struct {
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"error"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["Error"], &errSchema); err != nil || len(errSchema.Properties.Error.Properties.Code.Enum) == 0 {
		t.Fatalf("Error schema lacks the code enum: %v", err)
	}
	codes := map[string]bool{}
	for _, c := range errSchema.Properties.Error.Properties.Code.Enum {
		codes[c] = true
	}
	// Every error the API actually answered in the role matrix and here
	// carries a documented code.
	for _, probe := range []struct{ method, path, token string }{
		{"GET", "/api/v1/trends?window=nope", fx.tokens[RoleAdmin]},
		{"GET", "/api/v1/nope", ""},
		{"GET", "/api/v1/facts/none", fx.tokens[RoleAdmin]},
		{"GET", "/api/v1/cases", fx.tokens[RoleAnalyst]},
		{"GET", "/api/v1/cases", ""},
		{"POST", "/api/v1/facts", fx.tokens[RoleAdmin]},
	} {
		resp := fx.do(t, probe.method, probe.path, probe.token, strings.NewReader("{"))
		var e struct{ Error apiError }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || !codes[e.Error.Code] {
			t.Errorf("%s %s: code %q (status %d) is not documented", probe.method, probe.path, e.Error.Code, resp.StatusCode)
		}
		if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%s %s: error content type %q", probe.method, probe.path, resp.Header.Get("Content-Type"))
		}
	}
}
