// Package facts reads, detects and writes the files that feed the facts
// database: schema.org ClaimReview JSON-LD (bare, array, @graph, or embedded
// in an HTML page), Google Fact Check Tools API responses, generic CSV/TSV
// with a header, the CheckThat! 2020 TSV and 2022 JSONL research sets, and
// our own JSONL export (one schema.Fact a line).
//
// The package is pure: it neither publishes nor stores. The import command
// hands what Read returns to a Sink (the Kafka adapter), and the HTTP API
// shares Normalize so a fact posted by hand obeys the same rules as one
// imported from a file.
//
// Libraries: internal/delimited for CSV/TSV (RFC 4180 quoting, which the
// CheckThat! 2020 file uses with "" escapes, applied only to a wholly
// quoted field: encoding/csv either rejects a claim that begins with a
// quotation or, with LazyQuotes, lets it swallow the rows after it),
// encoding/csv to write, encoding/json streaming (json.Decoder) so a large
// array is decoded one record at a time, and golang.org/x/net/html's
// tokenizer to pull <script type="application/ld+json"> out of a page
// without a full DOM. A bad record is reported as a RecordError and the
// rest of the file is still read; only unreadable or unrecognisable input
// fails the whole file.
package facts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/schema"
)

// Format names accepted by Load, Read and Write.
const (
	FormatClaimReview   = "claimreview"   // schema.org ClaimReview JSON-LD, or an HTML page embedding it
	FormatGoogle        = "google"        // Google Fact Check Tools API claims:search response
	FormatCSV           = "csv"           // generic CSV with a header (delimiter , ; or tab sniffed)
	FormatTSV           = "tsv"           // generic TSV with a header
	FormatCheckThat2020 = "checkthat2020" // vclaim_id<TAB>vclaim<TAB>title
	FormatCheckThat2022 = "checkthat2022" // {"title","subtitle","author","date","vclaim_id","vclaim"} lines
	FormatJSONL         = "jsonl"         // our export: one schema.Fact a line
)

// Formats lists every format name, for usage messages.
var Formats = []string{FormatClaimReview, FormatGoogle, FormatCSV, FormatTSV, FormatCheckThat2020, FormatCheckThat2022, FormatJSONL}

// Size caps. A record larger than MaxRecordBytes is reported and skipped
// (line formats) or fails the file (CSV, whose quoting makes resync
// unreliable); a JSON document larger than MaxDocBytes fails the file, so
// a hostile or truncated-at-the-wrong-place upload cannot exhaust memory.
const (
	MaxRecordBytes = 1 << 20
	MaxDocBytes    = 256 << 20
	// Field caps applied by Normalize; they sit above every real fact-check
	// we have seen and well below what would hurt the matcher.
	MaxClaimBytes   = 8 << 10
	MaxTitleBytes   = schema.MaxTitleBytes
	MaxSummaryBytes = 16 << 10
	MaxShortBytes   = 512 // lang, verdict, rating, publisher
	MaxURLBytes     = 2 << 10
	MaxTags         = 64
	// MaxAppearances is how many appearance texts a fact keeps (the
	// matcher compares posts with the last 16 of them).
	MaxAppearances = 64
)

// headBytes is how much of a file Detect looks at.
const headBytes = 64 << 10

// RecordError is one record that could not be imported.
type RecordError struct {
	Record int // 1-based line number (line formats, CSV) or record number (JSON documents)
	Reason string
}

func (e RecordError) Error() string { return fmt.Sprintf("record %d: %s", e.Record, e.Reason) }

// Sink receives imported facts. The Kafka adapter publishes them to the
// compacted facts topic keyed by id; DeleteFact publishes a tombstone.
type Sink interface {
	PutFacts(ctx context.Context, fs []schema.Fact) error
	DeleteFact(ctx context.Context, id string) error
}

// Load reads the facts file at path. format "" detects it from the name
// and the first bytes.
func Load(path, format string) ([]schema.Fact, []RecordError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open facts file: %w", err)
	}
	defer f.Close()
	return Read(f, path, format)
}

// Read reads facts from r; name (a file name or "-") is used for format
// detection and error messages. format "" detects it.
func Read(r io.Reader, name, format string) ([]schema.Fact, []RecordError, error) {
	br := bufio.NewReaderSize(r, headBytes)
	if format == "" {
		head, err := br.Peek(headBytes)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, fmt.Errorf("cannot read %s: %w", name, err)
		}
		if format, err = Detect(head, name); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var (
		fs   []schema.Fact
		errs []RecordError
		err  error
	)
	switch strings.ToLower(format) {
	case FormatClaimReview:
		fs, errs, err = readClaimReview(br)
	case FormatGoogle:
		fs, errs, err = readGoogle(br)
	case FormatCSV:
		fs, errs, err = readTable(br, 0)
	case FormatTSV:
		fs, errs, err = readTable(br, '\t')
	case FormatCheckThat2020:
		fs, errs, err = readCheckThat2020(br)
	case FormatCheckThat2022:
		fs, errs, err = readLines(br, parseCheckThat2022)
	case FormatJSONL:
		fs, errs, err = readLines(br, parseOwnJSONL)
	default:
		return nil, nil, fmt.Errorf("%s: unknown facts format %q (want one of %s)", name, format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fs, errs, fmt.Errorf("cannot read %s as %s: %w", name, format, err)
	}
	return fs, errs, nil
}

// Detect names the format of a file from its first bytes and its name.
// Content wins over the extension: exports are often misnamed .txt/.json.
func Detect(head []byte, name string) (string, error) {
	h := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	h = bytes.TrimLeft(h, " \t\r\n")
	ext := strings.ToLower(filepath.Ext(name))
	if len(h) == 0 {
		return "", errors.New("file is empty")
	}
	switch h[0] {
	case '<':
		if bytes.Contains(bytes.ToLower(h), []byte("<html")) || bytes.Contains(bytes.ToLower(h), []byte("<!doctype html")) ||
			bytes.Contains(bytes.ToLower(h), []byte("ld+json")) || ext == ".html" || ext == ".htm" {
			return FormatClaimReview, nil
		}
		return "", errors.New("looks like XML/markup but not an HTML page; no facts format is XML")
	case '[':
		return FormatClaimReview, nil
	case '{':
		line := h
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line = h[:i]
		}
		// One complete object on the first line followed by more lines is
		// JSON Lines; otherwise the whole file is one JSON document.
		var obj map[string]json.RawMessage
		oneLine := json.Unmarshal(line, &obj) == nil
		switch {
		case oneLine && obj["vclaim_id"] != nil:
			return FormatCheckThat2022, nil
		case oneLine && obj["claims"] != nil:
			return FormatGoogle, nil
		case oneLine && (obj["@context"] != nil || obj["@type"] != nil || obj["@graph"] != nil):
			return FormatClaimReview, nil
		case oneLine && obj["id"] != nil && (obj["claim"] != nil || obj["title"] != nil):
			return FormatJSONL, nil
		case oneLine:
			return "", errors.New("first line is a JSON object with none of the keys of a known format (vclaim_id, claims, @context/@type, id+claim)")
		}
		// Multi-line document or a first line longer than the head: look
		// for tell-tale keys near the start.
		switch {
		case bytes.Contains(line, []byte(`"vclaim_id"`)):
			return FormatCheckThat2022, nil
		case bytes.Contains(h, []byte(`"claims"`)) && bytes.Contains(h, []byte(`"claimReview"`)):
			return FormatGoogle, nil
		case bytes.Contains(h, []byte("ClaimReview")) || bytes.Contains(h, []byte(`"@graph"`)) || bytes.Contains(h, []byte(`"@context"`)):
			return FormatClaimReview, nil
		case bytes.Contains(h, []byte(`"claims"`)):
			return FormatGoogle, nil
		}
		return "", errors.New("JSON document of no known facts format (no claims, @context/@type ClaimReview or vclaim_id)")
	}
	if !utf8.Valid(firstLine(h)) {
		return "", errors.New("first line is not valid UTF-8 text; not a facts file")
	}
	// Leading tabs matter here: an unnamed first column is a header cell.
	header := strings.ToLower(string(firstLine(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), "\r\n"))))
	switch {
	case strings.HasPrefix(header, "vclaim_id\tvclaim\t") || strings.HasPrefix(header, "\tvclaim\ttitle"):
		return FormatCheckThat2020, nil
	case strings.Contains(header, "\t"):
		return FormatTSV, nil
	case strings.Contains(header, ",") || strings.Contains(header, ";"):
		return FormatCSV, nil
	case ext == ".tsv":
		return FormatTSV, nil
	case ext == ".csv":
		return FormatCSV, nil
	}
	return "", fmt.Errorf("unrecognised content starting %q (want JSON-LD, HTML, Google Fact Check JSON, CSV/TSV with a header, or JSONL)", clip(header, 40))
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimRight(b, "\r")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
