package facts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/schema"
)

// Verdicts are the accepted values of a fact's verdict.
var Verdicts = []string{schema.VerdictFalse, schema.VerdictMisleading, schema.VerdictMixed, schema.VerdictTrue, schema.VerdictUnproven, schema.VerdictOther}

// Normalize validates and normalises a fact in place, with the same rules
// for every way a fact enters the system (file import, HTTP API): fields
// trimmed, over-long text clamped at a rune boundary, Verdict derived from
// the publisher's Rating, Lang reduced to a lower-case primary subtag, a
// URL required to be absolute http(s), a stable ID derived when missing.
// It returns the first problem that makes the fact unusable.
func Normalize(f *schema.Fact) error {
	for _, fl := range []struct {
		name string
		p    *string
	}{{"id", &f.ID}, {"claim", &f.Claim}, {"title", &f.Title}, {"summary", &f.Summary}, {"lang", &f.Lang},
		{"verdict", &f.Verdict}, {"rating", &f.Rating}, {"publisher", &f.Publisher}, {"url", &f.URL}} {
		if !utf8.ValidString(*fl.p) {
			return fmt.Errorf("%s is not valid UTF-8", fl.name)
		}
		*fl.p = strings.TrimSpace(*fl.p)
	}
	f.V = schema.Version
	f.Claim = clamp(f.Claim, MaxClaimBytes)
	f.Title = clamp(f.Title, MaxTitleBytes)
	f.Summary = clamp(f.Summary, MaxSummaryBytes)
	f.Rating = clamp(f.Rating, MaxShortBytes)
	f.Publisher = clamp(f.Publisher, MaxShortBytes)
	if f.Claim == "" && f.Title == "" {
		return errors.New("fact has neither claim nor title")
	}

	// The verdict decides whether a fact alerts, so it is one of ours or
	// a publisher's wording NormalizeVerdict recognises ("Faux", "Pants on
	// Fire"; kept as the Rating); anything else is refused rather than
	// stored as "other". Free-text ratings belong in Rating, where any
	// wording is kept and an unrecognised one maps to "other": ClaimReview
	// ratings ("Satire", "Four Pinocchios") arrive that way.
	switch f.Verdict {
	case schema.VerdictFalse, schema.VerdictMisleading, schema.VerdictMixed, schema.VerdictTrue, schema.VerdictUnproven, schema.VerdictOther:
	case "":
		f.Verdict = schema.NormalizeVerdict(f.Rating)
	default:
		v := schema.NormalizeVerdict(f.Verdict)
		if v == schema.VerdictOther {
			return fmt.Errorf("verdict %q is not one of %s (a publisher's own wording goes in rating)", clip(f.Verdict, 40), strings.Join(Verdicts, ", "))
		}
		if f.Rating == "" {
			f.Rating = clamp(f.Verdict, MaxShortBytes)
		}
		f.Verdict = v
	}

	lang, err := normLang(f.Lang)
	if err != nil {
		return err
	}
	f.Lang = lang

	if f.URL != "" {
		if len(f.URL) > MaxURLBytes {
			return fmt.Errorf("url longer than %d bytes", MaxURLBytes)
		}
		u, err := url.Parse(f.URL)
		if err != nil {
			return fmt.Errorf("invalid url: %w", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q is not an absolute http(s) URL", clip(f.URL, 80))
		}
	}

	f.Tags, err = normTags(f.Tags)
	if err != nil {
		return err
	}
	if f.Appearances, err = normAppearances(f.Appearances); err != nil {
		return err
	}
	if len(f.Translations) > 0 {
		tr := make(map[string]string, len(f.Translations))
		for k, v := range f.Translations {
			l, err := normLang(k)
			if err != nil || l == "" {
				return fmt.Errorf("translation key %q is not a language code", clip(k, 20))
			}
			if !utf8.ValidString(v) {
				return fmt.Errorf("translation %s is not valid UTF-8", l)
			}
			if v = clamp(strings.TrimSpace(v), MaxClaimBytes); v != "" {
				tr[l] = v
			}
		}
		f.Translations = tr
		if len(tr) == 0 {
			f.Translations = nil
		}
	}

	if f.ID == "" {
		f.ID = DeriveID(f.URL, f.Claim, f.Title)
	}
	if !f.Date.IsZero() {
		f.Date = f.Date.UTC()
	}
	return f.Validate()
}

// DeriveID returns a stable id for a fact whose source gives none. The
// review URL alone is not enough: one fact-check page often reviews several
// claims, so the claim text (case and spacing folded) is part of the key.
func DeriveID(reviewURL, claim, title string) string {
	sum := sha256.Sum256([]byte("fact\x00" + reviewURL + "\x00" + schema.ClaimText(claim, title)))
	return hex.EncodeToString(sum[:12])
}

// langNames maps the language names people type in spreadsheets.
var langNames = map[string]string{
	"english": "en", "anglais": "en", "tiếng anh": "en",
	"french": "fr", "français": "fr", "francais": "fr", "tiếng pháp": "fr",
	"vietnamese": "vi", "vietnamien": "vi", "tiếng việt": "vi", "tieng viet": "vi",
}

// normLang reduces a BCP 47 tag or a language name to a lower-case primary
// subtag ("en-US" → "en", "Français" → "fr").
func normLang(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if l, ok := langNames[s]; ok {
		return l, nil
	}
	if i := strings.IndexAny(s, "-_"); i > 0 {
		s = s[:i]
	}
	if len(s) < 2 || len(s) > 3 {
		return "", fmt.Errorf("language %q is not a language code", clip(s, 20))
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return "", fmt.Errorf("language %q is not a language code", clip(s, 20))
		}
	}
	return s, nil
}

func normTags(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		if !utf8.ValidString(t) {
			return nil, errors.New("tag is not valid UTF-8")
		}
		t = clamp(strings.TrimSpace(t), MaxShortBytes)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
		if len(out) == MaxTags {
			break
		}
	}
	return out, nil
}

// normAppearances trims, clamps and dedupes appearance texts, keeping the
// most recent MaxAppearances (the last ones: appended as confirmed).
func normAppearances(in []string) ([]string, error) {
	var out []string
	for i, a := range in {
		if !utf8.ValidString(a) {
			return nil, fmt.Errorf("appearance %d is not valid UTF-8", i+1)
		}
		if a = clamp(strings.TrimSpace(a), MaxClaimBytes); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out[max(0, len(out)-MaxAppearances):], nil
}

// splitTags splits a tags cell or keywords string on , ; or |.
func splitTags(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' })
}

func clamp(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}
