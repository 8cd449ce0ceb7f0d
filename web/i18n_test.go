package web

import (
	"regexp"
	"strings"
	"testing"
)

// Every word a page shows comes from the messages table, so each exists
// in vi, fr and en: literal text between tags is a string someone forgot
// to translate. Attribute values that people read (placeholder, title,
// aria-label) count too.
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	var (
		action   = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
		comment  = regexp.MustCompile(`(?s)<!--.*?-->`)
		readable = regexp.MustCompile(`(?i)\s(?:placeholder|title|aria-label|alt)="([^"]*)"`)
		tag      = regexp.MustCompile(`(?s)<[^>]*>`)
		entity   = regexp.MustCompile(`&[#a-z0-9]+;`)
		word     = regexp.MustCompile(`\p{L}{2,}`)
	)
	// Not words of any one language: the product's name and format names.
	allowed := map[string]bool{"trendwatch": true, "https": true, "rss": true, "csv": true, "json": true}
	for _, name := range append(pageNames, "layout") {
		b, err := assets.ReadFile("templates/" + name + ".html")
		if err != nil {
			t.Fatal(err)
		}
		s := comment.ReplaceAllString(string(b), " ")
		s = action.ReplaceAllString(s, " ")
		var texts []string
		for _, m := range readable.FindAllStringSubmatch(s, -1) {
			texts = append(texts, m[1])
		}
		texts = append(texts, tag.ReplaceAllString(s, "\n"))
		for _, text := range texts {
			for _, w := range word.FindAllString(entity.ReplaceAllString(text, " "), -1) {
				if !allowed[strings.ToLower(w)] {
					t.Errorf("template %s shows untranslated text %q", name, w)
				}
			}
		}
	}
}
