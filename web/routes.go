package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// route is one endpoint: the mux pattern, who may call it and what the
// OpenAPI document says about it. The document is built from this table,
// so a route cannot exist without being documented; TestOpenAPI checks the
// served document against the mux in both directions.
type route struct {
	method, path string
	need         perm
	handler      http.HandlerFunc
	summary      string
	params       []param
	body         string // request body schema name, "" for none
	resp         string // success response schema name
	status       int    // success status; default 200
	csv          bool   // answers text/csv
}

type param struct {
	name, in, typ, desc string
}

func q(name, typ, desc string) param { return param{name, "query", typ, desc} }

var (
	pKey    = param{"key", "path", "string", "topic key (URL-escaped; e.g. %23tag, url:host%2Fpath)"}
	pID     = param{"id", "path", "string", "identifier"}
	pWindow = q("window", "string", "duration ending now: 15m, 1h, 24h, 7d")
	pFrom   = q("from", "string", "RFC 3339 start (instead of window); rounded down to the minute")
	pTo     = q("to", "string", "RFC 3339 end, exclusive; default now; rounded down to the minute")
	pLimit  = q("limit", "integer", "page size")
	pOffset = q("offset", "integer", "rows to skip (use next_offset from the previous page)")
)

func (s *Server) apiRoutes() []route {
	rangeParams := []param{pKey, pWindow, pFrom, pTo}
	return append([]route{
		{method: "GET", path: "/healthz", need: permPublic, handler: s.healthz, summary: "Liveness", resp: "Status"},
		{method: "GET", path: "/readyz", need: permPublic, handler: s.ready, summary: "Readiness: ClickHouse answers", resp: "Status"},
		{method: "GET", path: "/api/v1/openapi.json", need: permPublic, handler: s.openapi, summary: "This document", resp: "Document"},
		{method: "GET", path: "/api/v1/me", need: permRead, handler: s.me, summary: "Who the credentials belong to", resp: "Me"},
		{method: "GET", path: "/api/v1/trends", need: permRead, handler: s.trends, summary: "Rising topics",
			params: []param{pWindow, q("to", "string", "RFC 3339 end of the window, exclusive: what was rising at that moment; default now; rounded down to the minute"),
				q("lang", "string", "language code"), q("platform", "string", "platform"), pLimit,
				q("sort", "string", "score (default: the most significant rise, Poisson G² against baseline_rate; burst is an old name for it) or posts"),
				q("min_posts", "integer", "support: at least this many posts in the window (default 3, or the server's --trend-min-posts)"),
				q("min_sources", "integer", "support: at least this many distinct sources or authors (default 2, or the server's --trend-min-sources); 0 turns the check off")}, resp: "Trends"},
		{method: "GET", path: "/api/v1/topics/{key}", need: permRead, handler: s.topic, summary: "Topic timeline",
			params: append(rangeParams, q("step", "string", "bucket width, e.g. 1m, 1h; rounded down to whole minutes")), resp: "Timeline"},
		{method: "GET", path: "/api/v1/topics/{key}/timeline.csv", need: permSpread, handler: s.timelineCSV, summary: "Topic timeline as CSV",
			params: append(rangeParams, q("step", "string", "bucket width; default 1h; rounded down to whole minutes")), csv: true},
		{method: "GET", path: "/api/v1/topics/{key}/spread", need: permSpread, handler: s.spread, summary: "How a topic spread", params: rangeParams, resp: "Spread"},
		{method: "GET", path: "/api/v1/topics/{key}/spread.csv", need: permSpread, handler: s.spreadCSV, summary: "Spread figures as CSV", params: rangeParams, csv: true},
		{method: "GET", path: "/api/v1/flags", need: permRead, handler: s.flags, summary: "Trend flags raised by the velocity detector, newest first",
			params: []param{pWindow, pFrom, pTo, q("kind", "string", "flag kind, e.g. emerging, burst"), q("topic", "string", "one topic key"),
				q("limit", "integer", "at most this many flags (default 100, at most 1000)")}, resp: "Flags"},
		{method: "GET", path: "/api/v1/facts", need: permRead, handler: s.listFacts, summary: "Search facts",
			params: []param{q("q", "string", "words in claim, title, summary, tags or translations, in any order; case and diacritics ignored; results ranked by the claim matcher"), q("verdict", "string", "verdict"), q("lang", "string", "language"), pLimit, pOffset}, resp: "Facts"},
		{method: "GET", path: "/api/v1/facts/{id}", need: permRead, handler: s.getFact, summary: "One fact", params: []param{pID}, resp: "Fact"},
		{method: "POST", path: "/api/v1/facts", need: permFacts, handler: s.postFacts, summary: "Create or replace facts (one or an array)", body: "FactInput", resp: "Accepted", status: 202},
		{method: "PUT", path: "/api/v1/facts/{id}", need: permFacts, handler: s.putFact, summary: "Edit a fact", params: []param{pID}, body: "FactInput", resp: "Accepted", status: 202},
		{method: "POST", path: "/api/v1/facts/import", need: permFacts, handler: s.importFacts, summary: "Import a fact file (JSON, JSONL, CSV, ClaimReview)",
			params: []param{q("format", "string", "file format; default detected")}, body: "File", resp: "Accepted", status: 202},
		{method: "POST", path: "/api/v1/facts/{id}/appearances", need: permFacts, handler: s.appendAppearance,
			summary: "Confirm a post restates the fact: its text joins the fact's known appearances", params: []param{pID}, body: "Appearance", resp: "Accepted", status: 202},
		{method: "DELETE", path: "/api/v1/facts/{id}", need: permFacts, handler: s.deleteFact, summary: "Delete a fact", params: []param{pID}, resp: "Deleted", status: 202},
		{method: "GET", path: "/api/v1/sources", need: permAdmin, handler: s.listSources, summary: "Sources with collector health, failing first", resp: "Sources"},
		{method: "POST", path: "/api/v1/sources", need: permAdmin, handler: s.postSource, summary: "Add or replace a source", body: "Source", resp: "Source", status: 201},
		{method: "DELETE", path: "/api/v1/sources/{id}", need: permAdmin, handler: s.deleteSource, summary: "Remove a source", params: []param{pID}, resp: "Deleted"},
		{method: "POST", path: "/api/v1/sources/{id}/{action}", need: permAdmin, handler: s.sourceAction, summary: "pause or resume a source",
			params: []param{pID, {"action", "path", "string", "pause or resume"}}, resp: "Source"},
		{method: "GET", path: "/api/v1/cases", need: permCases, handler: s.listCases, summary: "Case queue",
			params: []param{q("state", "string", "open, acknowledged, snoozed, resolved"), q("fact_id", "string", "fact"), pLimit, pOffset}, resp: "Cases"},
		{method: "GET", path: "/api/v1/cases/{id}", need: permCases, handler: s.getCase, summary: "One case with its history", params: []param{pID}, resp: "Case"},
		{method: "POST", path: "/api/v1/cases/{id}/{action}", need: permCases, handler: s.caseAction, summary: "acknowledge, snooze, resolve, notes, response or reopen",
			params: []param{pID, {"action", "path", "string", "acknowledge, snooze, resolve, notes, response, reopen"}}, body: "CaseCommand", resp: "CaseCommandSent", status: 202},
		{method: "GET", path: "/api/v1/thresholds", need: permAdmin, handler: s.thresholds, summary: "Alert thresholds per language", resp: "Thresholds"},
		{method: "GET", path: "/api/v1/routes", need: permAdmin, handler: s.alertRoutes, summary: "Alert routing rules in force", resp: "Routes"},
		{method: "GET", path: "/api/v1/users", need: permAdmin, handler: s.listUsers, summary: "Dashboard users", resp: "Users"},
		{method: "POST", path: "/api/v1/users", need: permAdmin, handler: s.postUser, summary: "Create or update a user", body: "UserInput", resp: "User", status: 201},
		{method: "GET", path: "/api/v1/tokens", need: permAdmin, handler: s.listTokens, summary: "API tokens (never their secrets)", resp: "Tokens"},
		{method: "POST", path: "/api/v1/tokens", need: permAdmin, handler: s.postToken, summary: "Create a token; the secret is shown once", body: "TokenInput", resp: "NewToken", status: 201},
		{method: "DELETE", path: "/api/v1/tokens/{id}", need: permAdmin, handler: s.revokeToken, summary: "Revoke a token", params: []param{pID}, resp: "Revoked"},
	}, s.settingsRoutes()...)
}

type ctxKey struct{}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(ctxKey{}).(*principal)
	return p
}

// guard authenticates and authorises a request before h. API routes
// answer 401/403 in JSON; dashboard routes (html) send people to the login
// page instead. Cookie-authenticated writes must carry the session's CSRF
// token (form field csrf or header X-CSRF-Token).
func (s *Server) guard(need perm, html bool, h http.HandlerFunc) http.Handler {
	if need == permPublic {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.auth.authenticate(r)
		switch {
		case errors.Is(err, errBadCredentials):
			w.Header().Set("WWW-Authenticate", `Bearer realm="trendwatch"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the credentials are not valid")
			return
		case err != nil:
			if html {
				s.pageStoreError(w, r, err)
				return
			}
			s.storeError(w, err)
			return
		case p == nil:
			if html {
				next := r.URL.RequestURI()
				if r.Method != http.MethodGet { // a form cannot be replayed by a redirect
					next = "/trends"
				}
				http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="trendwatch"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "log in or send a bearer token")
			return
		case !p.can(need):
			if html {
				s.renderStatus(w, r, p, http.StatusForbidden, "forbidden")
				return
			}
			writeError(w, http.StatusForbidden, "forbidden", "role %s may not do this (needs %s)", p.Role, need)
			return
		}
		if p.session != "" && !safeMethod(r.Method) && !s.checkCSRF(w, r, p) {
			if html {
				s.renderStatus(w, r, p, http.StatusForbidden, "csrf")
				return
			}
			writeError(w, http.StatusForbidden, "csrf", "missing or wrong CSRF token; reload the page")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request, p *principal) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := r.ParseMultipartForm(maxBody); err != nil {
				return false
			}
		}
		got = r.PostFormValue("csrf")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(p.session))) == 1
}

// openAPIDoc builds the OpenAPI 3 document from the route table.
func (s *Server) openAPIDoc() map[string]any {
	paths := map[string]map[string]any{}
	errResp := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	for _, rt := range s.routes {
		if !strings.HasPrefix(rt.path, "/api/") && rt.path != "/healthz" && rt.path != "/readyz" {
			continue
		}
		op := map[string]any{"summary": rt.summary, "operationId": opID(rt)}
		var ps []map[string]any
		for _, p := range rt.params {
			ps = append(ps, map[string]any{"name": p.name, "in": p.in, "required": p.in == "path", "description": p.desc, "schema": map[string]any{"type": p.typ}})
		}
		if ps != nil {
			op["parameters"] = ps
		}
		if rt.body != "" {
			ct := "application/json"
			if rt.body == "File" {
				ct = "application/octet-stream"
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{ct: map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.body}}}}
		}
		status := rt.status
		if status == 0 {
			status = 200
		}
		ok := map[string]any{"description": "success"}
		if rt.csv {
			ok["content"] = map[string]any{"text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}
		} else if rt.resp != "" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + rt.resp}}}
		}
		resps := map[string]any{strconv.Itoa(status): ok, "400": errResp, "503": errResp}
		if rt.need != permPublic {
			resps["401"], resps["403"] = errResp, errResp
			op["security"] = []map[string][]string{{"bearer": {}}, {"session": {}}}
			op["x-role-permission"] = string(rt.need)
		}
		if strings.Contains(rt.path, "{") {
			resps["404"] = errResp
		}
		op["responses"] = resps
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	schemas := map[string]any{
		"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{"error": map[string]any{
			"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
				"code":    map[string]any{"type": "string", "enum": errorCodes},
				"message": map[string]any{"type": "string"}}}}},
		"File": map[string]any{"type": "string", "format": "binary"},
		"Appearance": map[string]any{"type": "object", "required": []string{"text"}, "additionalProperties": false,
			"properties": map[string]any{"text": map[string]any{"type": "string", "description": "the confirmed post's text"}}},
	}
	str, num, integer := map[string]any{"type": "string"}, map[string]any{"type": "number"}, map[string]any{"type": "integer"}
	desc := func(m map[string]any, d string) map[string]any {
		out := map[string]any{"description": d}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	kind := map[string]any{"type": "string", "enum": []string{"story", "fact", "phrase", "entity", "hashtag", "url"},
		"description": "what the topic is: a story (near-duplicate reports), a fact (matched fact-check), a phrase, an entity, a hashtag or a url"}
	label := desc(str, "how to show the topic: a story's most central headline, a fact's claim, a phrase's or entity's most frequent accented spelling, #tag, a page title or domain; keys belong in URLs only")
	topicKey := desc(str, "the topic key, for URLs (topics/{key}) only")
	object := func(props map[string]any, required ...string) map[string]any {
		return map[string]any{"type": "object", "additionalProperties": true, "required": required, "properties": props}
	}
	trend := object(map[string]any{
		"topic": topicKey, "label": label, "kind": kind, "verdict": desc(str, "a fact's verdict"),
		"posts": desc(integer, "posts in the window"), "authors": desc(integer, "distinct authors in the window"),
		"authors_estimated": map[string]any{"type": "boolean"},
		"sources":           desc(integer, "distinct sources in the window: the support of feeds, which have no authors"),
		"baseline":          desc(integer, "posts in the baseline period before the window"),
		"baseline_rate":     desc(num, "posts expected in the window: the topic's history mixed with the committed background rate (the rate score uses)"),
		"burst":             desc(num, "posts / baseline_rate"),
		"score":             desc(num, "Poisson log-likelihood ratio G² = 2(k ln(k/e) − (k − e)) of the posts k against baseline_rate e; 0 unless k > e"),
		"series":            map[string]any{"type": "array", "items": integer},
	}, "topic", "label", "kind", "posts", "authors", "sources", "baseline_rate", "score")
	schemas["Trends"] = object(map[string]any{"window": str, "to": desc(str, "end of the window (RFC 3339)"), "sort": str,
		"generated": desc(str, "when the list was computed (RFC 3339)"),
		"min_posts": integer, "min_sources": integer, "topics": map[string]any{"type": "array", "items": trend}}, "topics")
	schemas["Flags"] = object(map[string]any{"from": str, "to": str, "flags": map[string]any{"type": "array", "items": object(map[string]any{
		"topic": topicKey, "label": label, "topic_kind": kind, "kind": desc(str, "the flag's kind: emerging or burst"),
		"time": str, "score": num, "count": integer, "authors": integer, "post_ids": map[string]any{"type": "array", "items": str},
	}, "topic", "label", "topic_kind", "kind")}}, "flags")
	dt := map[string]any{"type": "string", "format": "date-time"}
	pointList := map[string]any{"type": "array", "items": schemaOf(pointJSON{})}
	countList := map[string]any{"type": "array", "items": schemaOf(countJSON{})}
	schemas["Timeline"] = object(map[string]any{"topic": topicKey, "label": label, "kind": kind, "from": dt, "to": dt,
		"step": desc(str, "bucket width, e.g. 1h0m0s"), "posts": desc(integer, "posts in the range"), "points": pointList},
		"topic", "label", "kind", "from", "to", "step", "posts", "points")
	schemas["Spread"] = object(map[string]any{"topic": topicKey, "label": label, "kind": kind, "from": dt, "to": dt,
		"posts": integer, "authors": integer, "sources": integer, "domains": integer,
		"first_seen": map[string]any{"type": "string", "format": "date-time", "nullable": true},
		"last_seen":  map[string]any{"type": "string", "format": "date-time", "nullable": true},
		"timeline":   pointList, "cumulative": pointList,
		"top_authors": countList, "top_sources": countList, "top_domains": countList, "languages": countList, "platforms": countList,
		"sample_posts": map[string]any{"type": "array", "items": schemaOf(postJSON{})},
		"facts":        map[string]any{"type": "array", "items": ref("Fact")},
	}, "topic", "label", "kind", "from", "to", "posts", "authors", "sources", "domains", "timeline", "cumulative",
		"top_authors", "top_sources", "top_domains", "languages", "platforms", "sample_posts", "facts")
	documentResources(schemas)
	documentIngest(paths, schemas)
	for name, sc := range settingsSchemas() {
		schemas[name] = sc
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": "trendwatch API", "version": "1", "description": "Trends, spread, facts, cases and administration. Roles: analyst (read), editor (+spread, exports), responder (+cases, facts), admin (everything)."},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
			},
		},
	}
}

// errorCodes are the stable values of error.code.
var errorCodes = []string{"bad_parameter", "bad_json", "body_too_large", "invalid_fact", "invalid_appearance", "invalid_source", "invalid_user", "invalid_setting", "not_found",
	"unauthorized", "forbidden", "csrf", "unavailable", "bus_unavailable", "store_unavailable", "not_ready", "internal"}

func opID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, seg := range strings.Split(rt.path, "/") {
		seg = strings.Trim(seg, "{}")
		seg = strings.NewReplacer(".", "_", "-", "_").Replace(seg)
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		b.WriteString("_" + seg)
	}
	return b.String()
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPIDoc())
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func contextWith(r *http.Request, p *principal) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, p)
}
