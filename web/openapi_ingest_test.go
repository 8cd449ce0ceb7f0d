package web

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestOpenAPIIngest: the push route documents every body it reads, 202
// with a result schema, and a Post schema with the fields the handler
// accepts (not a generic object).
func TestOpenAPIIngest(t *testing.T) {
	s := &Server{routes: []route{ingestRoute(http.NotFoundHandler())}}
	b, err := json.Marshal(s.openAPIDoc())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref string `json:"$ref"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
				OneOf      []json.RawMessage          `json:"oneOf"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	op, ok := doc.Paths[ingestPath]["post"]
	if !ok {
		t.Fatal("no POST /api/v1/ingest in the document")
	}
	for _, mt := range []string{"application/json", "application/x-ndjson", "application/jsonl", "text/plain"} {
		if _, ok := op.RequestBody.Content[mt]; !ok {
			t.Errorf("request media type %s not documented", mt)
		}
	}
	if ref := op.RequestBody.Content["application/json"].Schema.Ref; ref != "#/components/schemas/IngestRequest" {
		t.Errorf("JSON body schema %q", ref)
	}
	if op.Responses["202"] == nil || op.Responses["200"] != nil {
		t.Errorf("responses %v: want 202, not 200", respKeys(op.Responses))
	}
	sc := doc.Components.Schemas
	if len(sc["IngestRequest"].OneOf) != 2 {
		t.Errorf("IngestRequest should be an array of posts or {items}: %+v", sc["IngestRequest"])
	}
	for _, f := range []string{"id", "url", "title", "text", "author", "published", "lang", "platform", "source"} {
		if sc["Post"].Properties[f] == nil {
			t.Errorf("Post schema lacks %s", f)
		}
	}
	for _, f := range []string{"received", "accepted", "rejected", "ids", "errors"} {
		if sc["IngestResult"].Properties[f] == nil {
			t.Errorf("IngestResult schema lacks %s", f)
		}
	}
}

func respKeys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
