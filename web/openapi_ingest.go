package web

import "net/http"

// The push endpoint's part of the OpenAPI document. The handler lives in
// ingest/push (mounted through Options.Ingest); what it reads and answers
// is described here, beside the route table that serves the document.

const ingestPath = "/api/v1/ingest"

// ingestRoute mounts the push handler for admins.
func ingestRoute(h http.Handler) route {
	return route{method: "POST", path: ingestPath, need: permAdmin, handler: h.ServeHTTP,
		summary: `Push posts: a JSON array, JSON lines or {"items":[…]}; 202 with per-post results`,
		body:    "IngestRequest", resp: "IngestResult", status: 202}
}

// ingestMediaTypes are the request bodies the push endpoint reads.
var ingestMediaTypes = []string{"application/x-ndjson", "application/jsonl", "text/plain"}

// ingestCodes are the error codes of the push endpoint (whole request)
// and of its per-post errors.
var (
	ingestCodes     = []string{"bad_json", "no_items", "body_too_large", "too_many_items", "unsupported_media_type", "method_not_allowed", "unavailable", "unauthorized", "forbidden", "csrf"}
	ingestItemCodes = []string{"invalid_item", "unknown_field", "invalid_published", "published_in_future", "empty", "too_long", "invalid_platform", "invalid_lang", "invalid_url", "duplicate_in_batch"}
)

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// ingestSchemas are the Post, IngestRequest, IngestResult and IngestError
// schemas.
func ingestSchemas() map[string]any {
	post := map[string]any{
		"type": "object", "additionalProperties": false,
		"description": "A post. It needs a title or a text; every other field is optional. Unknown fields are refused, so a misspelt one is not lost silently.",
		"properties": map[string]any{
			"id":        str("the post's id at its source; with source (or the url) it makes the stored id, so resending a post is harmless"),
			"url":       map[string]any{"type": "string", "format": "uri", "description": "absolute http(s) URL of the post"},
			"title":     str("headline"),
			"text":      str("body text"),
			"author":    str("author or account"),
			"published": map[string]any{"type": "string", "format": "date-time", "description": "RFC 3339, e.g. 2026-08-20T07:30:00+07:00; default: the time of the request. At most 24 h ahead of the server clock.", "example": "2026-08-20T07:30:00+07:00"},
			"lang":      map[string]any{"type": "string", "description": "language tag (vi, fr, en-US); default: detected", "example": "vi"},
			"platform":  map[string]any{"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,31}$", "description": "platform name; default push", "example": "zalo"},
			"source":    str("the feed, channel or partner the post comes from; default push"),
		},
		"anyOf": []any{map[string]any{"required": []string{"title"}}, map[string]any{"required": []string{"text"}}},
	}
	posts := map[string]any{"type": "array", "items": ref("Post"), "minItems": 1, "maxItems": 1000}
	return map[string]any{
		"Post": post,
		"IngestRequest": map[string]any{
			"description": "Posts as a JSON array, or as {\"items\": [...]}. The same posts may be sent one JSON object per line as application/x-ndjson, application/jsonl or text/plain.",
			"oneOf":       []any{posts, map[string]any{"type": "object", "required": []string{"items"}, "additionalProperties": false, "properties": map[string]any{"items": posts}}},
		},
		"IngestResult": map[string]any{
			"type": "object", "required": []string{"received", "accepted", "rejected", "ids", "errors"},
			"description": "received = accepted + rejected: every post sent is either queued for analysis or reported by index.",
			"properties": map[string]any{
				"received": map[string]any{"type": "integer", "description": "posts in the request"},
				"accepted": map[string]any{"type": "integer", "description": "posts queued for analysis"},
				"rejected": map[string]any{"type": "integer", "description": "posts refused, each listed in errors"},
				"ids":      map[string]any{"type": "array", "items": str("stored id of an accepted post, in request order")},
				"errors": map[string]any{"type": "array", "items": map[string]any{
					"type": "object", "required": []string{"index", "code", "message"},
					"properties": map[string]any{
						"index":   map[string]any{"type": "integer", "description": "0-based position of the post in the request"},
						"line":    map[string]any{"type": "integer", "description": "1-based line of the post, for JSON lines"},
						"code":    map[string]any{"type": "string", "enum": ingestItemCodes},
						"message": str("what is wrong, in plain words"),
					}}},
			},
		},
		"IngestError": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{"error": map[string]any{
			"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
				"code":    map[string]any{"type": "string", "enum": ingestCodes},
				"message": str("what is wrong, in plain words")}}}},
	}
}

// documentIngest completes the push route's operation: its request media
// types and its own result and error schemas.
func documentIngest(paths map[string]map[string]any, schemas map[string]any) {
	op, ok := paths[ingestPath]["post"].(map[string]any)
	if !ok {
		return
	}
	for k, v := range ingestSchemas() {
		schemas[k] = v
	}
	content := map[string]any{"application/json": map[string]any{"schema": ref("IngestRequest")}}
	for _, mt := range ingestMediaTypes {
		content[mt] = map[string]any{"schema": map[string]any{"type": "string", "description": "one Post object (JSON) per line; blank lines are skipped"}}
	}
	op["requestBody"] = map[string]any{"required": true, "content": content}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref("IngestError")}}}
	}
	op["responses"] = map[string]any{
		"202": map[string]any{"description": "at least one post accepted; the others are listed in errors",
			"content": map[string]any{"application/json": map[string]any{"schema": ref("IngestResult")}}},
		"400": map[string]any{"description": "no post accepted: a body that cannot be read (IngestError), or posts that were all refused (IngestResult)",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"oneOf": []any{ref("IngestError"), ref("IngestResult")}}}}},
		"401": errResp("no credentials; send a bearer token of an admin"),
		"403": errResp("the credentials' role may not push"),
		"405": errResp("not POST"),
		"413": errResp("body over 8 MiB or more than 1000 posts"),
		"415": errResp("a content type other than JSON, JSON lines or text lines"),
		"503": errResp("the queue is unavailable; nothing was accepted, retry"),
	}
}
