package sources

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// MaxOPMLBytes bounds an imported OPML document.
const MaxOPMLBytes = 8 << 20

type opmlDoc struct {
	XMLName xml.Name    `xml:"opml"`
	Version string      `xml:"version,attr"`
	Title   string      `xml:"head>title"`
	Body    []opmlEntry `xml:"body>outline"`
}

type opmlEntry struct {
	Text     string      `xml:"text,attr,omitempty"`
	Title    string      `xml:"title,attr,omitempty"`
	Type     string      `xml:"type,attr,omitempty"`
	XMLURL   string      `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string      `xml:"htmlUrl,attr,omitempty"`
	Language string      `xml:"language,attr,omitempty"`
	Children []opmlEntry `xml:"outline"`
}

// ImportOPML reads feed subscriptions from an OPML document. Nested
// outlines (folders) are flattened; the folder name becomes the
// "category" option. Outlines without xmlUrl are folders, not feeds.
func ImportOPML(r io.Reader) ([]schema.Source, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxOPMLBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read OPML: %w", err)
	}
	if len(b) > MaxOPMLBytes {
		return nil, fmt.Errorf("OPML larger than %d bytes", MaxOPMLBytes)
	}
	var doc opmlDoc
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = false // real exports contain unescaped & and HTML entities
	dec.Entity = xml.HTMLEntity
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("cannot parse OPML: %w", err)
	}
	var out []schema.Source
	var errs []error
	seen := map[string]bool{}
	var walk func(es []opmlEntry, folder string, depth int)
	walk = func(es []opmlEntry, folder string, depth int) {
		if depth > 16 {
			return
		}
		for _, e := range es {
			name := strings.TrimSpace(e.Title)
			if name == "" {
				name = strings.TrimSpace(e.Text)
			}
			if strings.TrimSpace(e.XMLURL) == "" {
				walk(e.Children, name, depth+1)
				continue
			}
			s := schema.Source{Kind: KindFeed, URL: strings.TrimSpace(e.XMLURL), Name: name, Lang: strings.TrimSpace(e.Language), Enabled: true}
			if folder != "" {
				s.Options = map[string]string{"category": folder}
			}
			n, err := Normalize(s, time.Now())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !seen[n.ID] {
				seen[n.ID] = true
				out = append(out, n)
			}
			walk(e.Children, folder, depth+1)
		}
	}
	walk(doc.Body, "", 0)
	if len(out) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("no usable feed in OPML: %w", errors.Join(errs...))
	}
	return out, nil
}

// ExportOPML writes the feed sources as OPML 2.0, grouped by the
// "category" option so a round trip keeps folders.
func ExportOPML(w io.Writer, title string, srcs []schema.Source) error {
	doc := opmlDoc{Version: "2.0", Title: title}
	folders := map[string]int{}
	for _, s := range srcs {
		if s.Kind != KindFeed {
			continue
		}
		e := opmlEntry{Text: s.Name, Title: s.Name, Type: "rss", XMLURL: s.URL, Language: s.Lang}
		if e.Text == "" {
			e.Text = s.URL
		}
		cat := s.Options["category"]
		if cat == "" {
			doc.Body = append(doc.Body, e)
			continue
		}
		i, ok := folders[cat]
		if !ok {
			i = len(doc.Body)
			folders[cat] = i
			doc.Body = append(doc.Body, opmlEntry{Text: cat, Title: cat})
		}
		doc.Body[i].Children = append(doc.Body[i].Children, e)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("cannot write OPML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("cannot write OPML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
