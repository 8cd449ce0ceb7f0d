package facts

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/unicode/norm"

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
	br := bufio.NewReaderSize(&lineCapReader{r: r, max: MaxRecordBytes}, 64<<10)
	if delim == 0 {
		head, err := br.Peek(64 << 10)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, err
		}
		delim = sniffDelim(firstLine(head))
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	// Quotes are RFC 4180 ("" escapes) but a quote inside an unquoted
	// field, common in hand-made sheets and in the CheckThat! data, is
	// kept as text rather than rejected.
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("no header line")
		}
		return nil, nil, fmt.Errorf("cannot read header: %w", err)
	}
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
			return nil, nil, fmt.Errorf("header maps two columns to %s", cols[i])
		}
		have[cols[i]] = true
	}
	if !have["claim"] && !have["title"] {
		return nil, nil, fmt.Errorf("header %q has no claim, text, vclaim or title column", clip(strings.Join(header, string(delim)), 120))
	}
	var (
		out  []schema.Fact
		errs []RecordError
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, errs, nil
		}
		if err != nil {
			// FieldPos is only defined for a record that was returned, so
			// an error's line comes from the ParseError.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return out, errs, err
			}
			if errors.Is(err, csv.ErrFieldCount) || errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote) {
				errs = append(errs, RecordError{Record: pe.StartLine, Reason: pe.Err.Error()})
				continue
			}
			return out, errs, fmt.Errorf("line %d: %w", pe.Line, pe.Err)
		}
		line, _ := cr.FieldPos(0)
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

// errLineTooLong is returned by lineCapReader.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxRecordBytes)

// lineCapReader fails once a physical line exceeds max bytes, because
// encoding/csv buffers a whole record with no limit of its own.
type lineCapReader struct {
	r   io.Reader
	max int
	cur int
}

func (l *lineCapReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.cur = 0
			continue
		}
		if l.cur++; l.cur > l.max {
			return 0, errLineTooLong
		}
	}
	return n, err
}
