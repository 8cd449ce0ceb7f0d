package facts

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Export formats accepted by Write.
var ExportFormats = []string{FormatJSONL, FormatCSV, FormatClaimReview}

// csvHeader is the column order of a CSV export; Read maps it back.
var csvHeader = []string{"id", "claim", "title", "summary", "lang", "verdict", "rating", "publisher", "url", "date", "tags"}

// Write serialises facts in one of ExportFormats. Each format reads back
// with Read: jsonl losslessly, csv without translations and update times,
// claimreview as the public subset schema.org defines.
func Write(w io.Writer, format string, fs []schema.Fact) error {
	switch format {
	case FormatJSONL:
		for i := range fs {
			b, err := schema.Encode(&fs[i])
			if err != nil {
				return fmt.Errorf("cannot encode fact %s: %w", fs[i].ID, err)
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return err
		}
		for _, f := range fs {
			date := ""
			if !f.Date.IsZero() {
				date = f.Date.UTC().Format(time.RFC3339)
			}
			// Tags are joined with '|' because ',' and ';' occur in tags less
			// rarely than '|'; Read splits on all three.
			if err := cw.Write([]string{f.ID, f.Claim, f.Title, f.Summary, f.Lang, f.Verdict, f.Rating, f.Publisher, f.URL, date, strings.Join(f.Tags, "|")}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case FormatClaimReview:
		out := make([]map[string]any, 0, len(fs))
		for _, f := range fs {
			out = append(out, claimReviewLD(f))
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"@context": "https://schema.org", "@graph": out})
	}
	return fmt.Errorf("unknown export format %q (want one of %s)", format, strings.Join(ExportFormats, ", "))
}

func claimReviewLD(f schema.Fact) map[string]any {
	m := map[string]any{"@type": "ClaimReview", "identifier": f.ID, "claimReviewed": f.Claim}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("headline", f.Title)
	set("description", f.Summary)
	set("inLanguage", f.Lang)
	set("url", f.URL)
	if !f.Date.IsZero() {
		m["datePublished"] = f.Date.UTC().Format(time.RFC3339)
	}
	if f.Publisher != "" {
		m["author"] = map[string]any{"@type": "Organization", "name": f.Publisher}
	}
	if r := f.Rating; r != "" || f.Verdict != "" {
		if r == "" {
			r = f.Verdict
		}
		m["reviewRating"] = map[string]any{"@type": "Rating", "alternateName": r}
	}
	if len(f.Tags) > 0 {
		m["keywords"] = f.Tags
	}
	return m
}
