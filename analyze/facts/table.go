package facts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/trendwatch/trendwatch/internal/delimited"
	"github.com/trendwatch/trendwatch/schema"
)

// columnAliases maps header names (lower-cased) to Fact fields.
var columnAliases = map[string]string{
	"id": "id", "vclaim_id": "id", "fact_id": "id",
	"claim": "claim", "text": "claim", "vclaim": "claim", "claimreviewed": "claim",
	"title": "title", "headline": "title",
	"summary": "summary", "subtitle": "summary", "description": "summary",
	"lang": "lang", "language": "lang", "languagecode": "lang",
	"verdict": "verdict", "rating": "rating", "textualrating": "rating",
	"publisher": "publisher", "author": "publisher",
	"url": "url", "link": "url",
	"date": "date", "reviewdate": "date", "published": "date",
	"tags": "tags", "keywords": "tags",
	// French and Vietnamese headers, as the press centre's own sheets use.
	"affirmation": "claim", "allégation": "claim", "titre": "title", "résumé": "summary", "langue": "lang",
	"note": "rating", "auteur": "publisher", "éditeur": "publisher", "lien": "url", "mots-clés": "tags",
	"nội dung": "claim", "tuyên bố": "claim", "tiêu đề": "title", "tóm tắt": "summary", "ngôn ngữ": "lang",
	"kết luận": "rating", "đánh giá": "rating", "nguồn": "publisher", "đường dẫn": "url", "ngày": "date", "thẻ": "tags",
}

// readCheckThat2020 reads the CheckThat! 2020 verified claims, which are
// English by definition (Snopes).
// The published file's header leaves the id column unnamed, so the first
// column is the id whatever its header says.
func readCheckThat2020(r io.Reader) ([]schema.Fact, []RecordError, error) {
	return readTableLang(r, '\t', "en", true)
}

// readTable reads CSV/TSV with a header. delim 0 sniffs it from the header.
func readTable(r io.Reader, delim rune) ([]schema.Fact, []RecordError, error) {
	return readTableLang(r, delim, "", false)
}

func readTableLang(r io.Reader, delim rune, lang string, firstIsID bool) ([]schema.Fact, []RecordError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if delim == 0 {
		head, err := br.Peek(64 << 10)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, err
		}
		delim = sniffDelim(firstLine(head))
	}
	// RFC 4180 quoting where a field is wholly quoted, literal quotes
	// elsewhere (see internal/delimited): hand-made sheets and the
	// CheckThat! data have claims that merely begin with a quote.
	dr := delimited.NewReader(br, byte(delim))
	dr.SetMaxRecord(MaxRecordBytes)
	var (
		out    []schema.Fact
		errs   []RecordError
		cols   []string
		header []string
	)
	for {
		rec, line, _, err := dr.Next()
		if errors.Is(err, io.EOF) {
			if cols == nil {
				return nil, errs, errors.New("no header line")
			}
			return out, errs, nil
		}
		var re *delimited.RecordError
		if errors.As(err, &re) {
			if cols == nil {
				return nil, nil, fmt.Errorf("cannot read header: %w", err)
			}
			errs = append(errs, RecordError{Record: re.Line, Reason: re.Reason})
			continue
		}
		if err != nil {
			return out, errs, fmt.Errorf("line %d: %w", line, err)
		}
		if cols == nil {
			header = slices.Clone(rec)
			if cols, err = tableColumns(header, string(delim), firstIsID); err != nil {
				return nil, nil, err
			}
			continue
		}
		if len(rec) != len(header) {
			errs = append(errs, RecordError{Record: line, Reason: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		f, err := tableFact(cols, rec, lang)
		if err == nil {
			err = Normalize(&f)
		}
		if err != nil {
			errs = append(errs, RecordError{Record: line, Reason: err.Error()})
			continue
		}
		out = append(out, f)
	}
}

// tableColumns maps header cells to Fact fields ("" for columns that are
// not read).
func tableColumns(header []string, delim string, firstIsID bool) ([]string, error) {
	cols := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		// NFC because Vietnamese typed on some keyboards arrives decomposed.
		h = norm.NFC.String(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))))
		cols[i] = columnAliases[h]
		if i == 0 && firstIsID {
			cols[i] = "id" // CheckThat! 2020: unnamed id column
		}
		if cols[i] != "" && have[cols[i]] {
			return nil, fmt.Errorf("header maps two columns to %s", cols[i])
		}
		have[cols[i]] = true
	}
	if !have["claim"] && !have["title"] {
		return nil, fmt.Errorf("header %q has no claim, text, vclaim or title column", clip(strings.Join(header, delim), 120))
	}
	return cols, nil
}

func tableFact(cols, rec []string, lang string) (schema.Fact, error) {
	f := schema.Fact{Lang: lang}
	for i, v := range rec {
		switch cols[i] {
		case "id":
			f.ID = v
		case "claim":
			f.Claim = v
		case "title":
			f.Title = v
		case "summary":
			f.Summary = v
		case "lang":
			if strings.TrimSpace(v) != "" {
				f.Lang = v
			}
		case "verdict":
			f.Verdict = v
		case "rating":
			f.Rating = v
		case "publisher":
			f.Publisher = v
		case "url":
			f.URL = v
		case "date":
			t, err := parseDate(v)
			if err != nil {
				return f, err
			}
			f.Date = t
		case "tags":
			f.Tags = splitTags(v)
		}
	}
	return f, nil
}

// sniffDelim picks the delimiter that occurs most in the header line; a
// French spreadsheet export uses ';' because ',' is the decimal mark.
func sniffDelim(header []byte) rune {
	best, n := ',', 0
	for _, d := range []rune{',', ';', '\t', '|'} {
		if c := bytes.Count(header, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}
