package facts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"

	"github.com/trendwatch/trendwatch/schema"
)

// errDocTooLarge is returned past MaxDocBytes of one JSON or HTML document.
var errDocTooLarge = fmt.Errorf("document larger than %d bytes", MaxDocBytes)

// maxDoc is MaxDocBytes, lowered by tests to keep them light.
var maxDoc int64 = MaxDocBytes

// capReader fails with errDocTooLarge, instead of io.LimitReader's silent
// EOF, so an oversized document is not misreported as truncated JSON.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errDocTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// readDoc reads a whole JSON or HTML document, failing past MaxDocBytes.
func readDoc(r io.Reader) ([]byte, error) {
	return io.ReadAll(&capReader{r: r, left: maxDoc})
}

// readClaimReview reads ClaimReview JSON-LD: one object, an array, objects
// with @graph (any nesting), or an HTML page whose ld+json scripts hold
// them. Records are numbered in document order of the ClaimReview objects.
func readClaimReview(r io.Reader) ([]schema.Fact, []RecordError, error) {
	b, err := readDoc(r)
	if err != nil {
		return nil, nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var scripts [][]byte
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '<' {
		scripts = ldJSONScripts(b)
		if len(scripts) == 0 {
			return nil, nil, errors.New("HTML page has no <script type=\"application/ld+json\">")
		}
	} else {
		scripts = [][]byte{b}
	}
	var (
		out  []schema.Fact
		errs []RecordError
		n    int
	)
	for i, s := range scripts {
		d := json.NewDecoder(bytes.NewReader(s))
		d.UseNumber()
		// A script or file may hold several top-level values (JSON Lines
		// of ClaimReview objects); each is walked in turn.
		for {
			var doc any
			err := d.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if len(scripts) == 1 {
					return out, errs, fmt.Errorf("invalid JSON: %w", err)
				}
				// Pages carry unrelated ld+json blocks (breadcrumbs, ads); a
				// broken one must not hide the ClaimReview beside it.
				errs = append(errs, RecordError{Record: n + 1, Reason: fmt.Sprintf("ld+json script %d is invalid JSON: %v", i+1, err)})
				break
			}
			walkLD(doc, 0, func(obj map[string]any) {
				n++
				f, err := claimReviewFact(obj)
				if err == nil {
					err = Normalize(&f)
				}
				if err != nil {
					errs = append(errs, RecordError{Record: n, Reason: err.Error()})
					return
				}
				out = append(out, f)
			})
		}
	}
	if n == 0 && len(errs) == 0 {
		return nil, nil, errors.New("no ClaimReview object found")
	}
	return out, errs, nil
}

// ldJSONScripts returns the bodies of <script type="application/ld+json">.
func ldJSONScripts(page []byte) [][]byte {
	var out [][]byte
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "script" || !hasAttr {
				continue
			}
			ld := false
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				if string(k) == "type" && strings.Contains(strings.ToLower(string(v)), "ld+json") {
					ld = true
				}
			}
			if ld && z.Next() == html.TextToken {
				out = append(out, bytes.Clone(z.Text()))
			}
		}
	}
}

// maxLDDepth bounds recursion on hostile nesting.
const maxLDDepth = 32

// walkLD calls fn for every object typed ClaimReview, in document order,
// looking inside arrays, @graph and nested values (a WebPage's mainEntity).
func walkLD(v any, depth int, fn func(map[string]any)) {
	if depth > maxLDDepth {
		return
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			walkLD(e, depth+1, fn)
		}
	case map[string]any:
		if hasType(x, "ClaimReview") {
			fn(x)
			return
		}
		for _, k := range []string{"@graph", "mainEntity", "hasPart", "review", "itemListElement", "item"} {
			if c, ok := x[k]; ok {
				walkLD(c, depth+1, fn)
			}
		}
	}
}

func hasType(obj map[string]any, want string) bool {
	match := func(s string) bool {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "http://schema.org/"), "https://schema.org/")
		return strings.EqualFold(strings.TrimPrefix(s, "schema:"), want)
	}
	switch t := obj["@type"].(type) {
	case string:
		return match(t)
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && match(s) {
				return true
			}
		}
	}
	return false
}

// text returns the textual value of a JSON-LD property: a string, a
// {"@value"} or {"name"} object, or the first of an array.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case map[string]any:
		for _, k := range []string{"@value", "name", "alternateName", "@id"} {
			if s := text(x[k]); s != "" {
				return s
			}
		}
	case []any:
		for _, e := range x {
			if s := text(e); s != "" {
				return s
			}
		}
	}
	return ""
}

func field(obj map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := strings.TrimSpace(text(obj[k])); s != "" {
			return s
		}
	}
	return ""
}

func claimReviewFact(obj map[string]any) (schema.Fact, error) {
	f := schema.Fact{
		ID:      field(obj, "identifier"),
		Claim:   field(obj, "claimReviewed"),
		Title:   field(obj, "headline", "name"),
		Summary: field(obj, "description", "reviewBody"),
		URL:     field(obj, "url"),
		Lang:    field(obj, "inLanguage"),
	}
	if f.URL == "" {
		if id := field(obj, "@id"); strings.HasPrefix(id, "http") {
			f.URL = id
		}
	}
	if a, ok := obj["author"]; ok {
		f.Publisher = text(a)
	} else {
		f.Publisher = field(obj, "publisher")
	}
	item, _ := obj["itemReviewed"].(map[string]any)
	if f.Claim == "" && item != nil {
		f.Claim = field(item, "text", "name", "description")
	}
	if f.Lang == "" && item != nil {
		f.Lang = field(item, "inLanguage")
	}
	if item != nil {
		// Where the claim was seen: only appearances with text help the
		// matcher (most list a bare url).
		for _, k := range []string{"firstAppearance", "appearance"} {
			apps, ok := item[k].([]any)
			if !ok && item[k] != nil {
				apps = []any{item[k]}
			}
			for _, a := range apps {
				if m, ok := a.(map[string]any); ok {
					if t := field(m, "text", "headline", "description"); t != "" {
						f.Appearances = append(f.Appearances, t)
					}
				}
			}
		}
	}
	if rr, ok := obj["reviewRating"].(map[string]any); ok {
		f.Rating, f.Verdict = rating(rr)
	}
	date := field(obj, "datePublished", "dateCreated", "dateModified")
	var err error
	if f.Date, err = parseDate(date); err != nil {
		return f, err
	}
	switch k := obj["keywords"].(type) {
	case string:
		f.Tags = splitTags(k)
	case []any:
		for _, e := range k {
			f.Tags = append(f.Tags, text(e))
		}
	}
	if f.Claim == "" {
		return f, errors.New("ClaimReview has no claimReviewed")
	}
	return f, nil
}

// rating returns the publisher's wording and, for a bare numeric rating
// with no words, the rating as written ("1/5") plus a verdict read from
// its position on the scale (bottom fifth false, top fifth true).
func rating(rr map[string]any) (rating, verdict string) {
	if s := field(rr, "alternateName", "name"); s != "" {
		return s, ""
	}
	vs, bs := text(rr["ratingValue"]), text(rr["bestRating"])
	v, err1 := strconv.ParseFloat(vs, 64)
	best, err2 := strconv.ParseFloat(bs, 64)
	if err1 != nil {
		return "", ""
	}
	if err2 != nil {
		return vs, ""
	}
	worst, err := strconv.ParseFloat(text(rr["worstRating"]), 64)
	if err != nil {
		worst = 1 // schema.org's default
	}
	rating = vs + "/" + bs
	if best <= worst || v < worst || v > best {
		return rating, ""
	}
	switch frac := (v - worst) / (best - worst); {
	case frac <= 0.2:
		return rating, schema.VerdictFalse
	case frac >= 0.8:
		return rating, schema.VerdictTrue
	default:
		return rating, schema.VerdictMixed
	}
}

// readGoogle streams a Fact Check Tools claims:search response, one claim
// at a time; each claimReview of a claim becomes one fact (each publisher
// has its own rating and URL). Records are numbered by claim.
func readGoogle(r io.Reader) ([]schema.Fact, []RecordError, error) {
	d := json.NewDecoder(&capReader{r: r, left: maxDoc})
	if tok, err := d.Token(); err != nil {
		return nil, nil, fmt.Errorf("invalid JSON: %w", err)
	} else if tok != json.Delim('{') {
		return nil, nil, errors.New("want a JSON object with a claims array")
	}
	var (
		out   []schema.Fact
		errs  []RecordError
		found bool
	)
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return out, errs, fmt.Errorf("invalid JSON: %w", err)
		}
		if key, _ := tok.(string); key != "claims" {
			var skip json.RawMessage
			if err := d.Decode(&skip); err != nil {
				return out, errs, fmt.Errorf("invalid JSON in %q: %w", key, err)
			}
			continue
		}
		found = true
		if tok, err := d.Token(); err != nil {
			return out, errs, fmt.Errorf("invalid JSON: %w", err)
		} else if tok != json.Delim('[') {
			return out, errs, errors.New("claims is not an array")
		}
		for n := 1; d.More(); n++ {
			var c googleClaim
			if err := d.Decode(&c); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return out, errs, fmt.Errorf("invalid JSON in claim %d: %w", n, err)
				}
				errs = append(errs, RecordError{Record: n, Reason: err.Error()})
				continue
			}
			fs, err := c.facts()
			if err != nil {
				errs = append(errs, RecordError{Record: n, Reason: err.Error()})
				continue
			}
			out = append(out, fs...)
		}
		if _, err := d.Token(); err != nil {
			return out, errs, fmt.Errorf("invalid JSON: %w", err)
		}
	}
	if !found {
		return out, errs, errors.New("no claims array")
	}
	return out, errs, nil
}

type googleClaim struct {
	Text        string `json:"text"`
	Claimant    string `json:"claimant"`
	ClaimDate   string `json:"claimDate"`
	ClaimReview []struct {
		Publisher struct {
			Name string `json:"name"`
			Site string `json:"site"`
		} `json:"publisher"`
		URL           string `json:"url"`
		Title         string `json:"title"`
		ReviewDate    string `json:"reviewDate"`
		TextualRating string `json:"textualRating"`
		LanguageCode  string `json:"languageCode"`
	} `json:"claimReview"`
}

func (c googleClaim) facts() ([]schema.Fact, error) {
	if strings.TrimSpace(c.Text) == "" {
		return nil, errors.New("claim has no text")
	}
	if len(c.ClaimReview) == 0 {
		return nil, errors.New("claim has no claimReview")
	}
	var out []schema.Fact
	for i, cr := range c.ClaimReview {
		f := schema.Fact{Claim: c.Text, Title: cr.Title, Rating: cr.TextualRating, URL: cr.URL, Lang: cr.LanguageCode, Publisher: cr.Publisher.Name}
		if f.Publisher == "" {
			f.Publisher = cr.Publisher.Site
		}
		date := cr.ReviewDate
		if date == "" {
			date = c.ClaimDate
		}
		var err error
		if f.Date, err = parseDate(date); err == nil {
			err = Normalize(&f)
		}
		if err != nil {
			return nil, fmt.Errorf("claimReview %d: %w", i+1, err)
		}
		out = append(out, f)
	}
	return out, nil
}
