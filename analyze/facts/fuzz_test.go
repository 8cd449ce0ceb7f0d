package facts

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/schema"
)

// fuzzFormats indexes the format argument of FuzzRead; "" detects.
var fuzzFormats = append([]string{""}, Formats...)

// FuzzRead feeds every format arbitrary bytes, seeded with each fixture
// under its own format and under detection. Invariants: no panic; every
// fact is valid and already normalised; record numbers are 1-based; a
// fatal error names the input; jsonl export of the result reads back equal.
func FuzzRead(f *testing.F) {
	for _, path := range fixtures(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		format, _ := Detect(b, path)
		for i, name := range fuzzFormats {
			if name == "" || name == format {
				f.Add(b, uint8(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		format := fuzzFormats[int(which)%len(fuzzFormats)]
		fs, errs, err := Read(bytes.NewReader(data), "fuzz.in", format)
		if err != nil && !strings.Contains(err.Error(), "fuzz.in") {
			t.Errorf("error does not name the input: %v", err)
		}
		for _, e := range errs {
			if e.Record < 1 || e.Reason == "" || !utf8.ValidString(e.Reason) {
				t.Errorf("bad record error %#v", e)
			}
		}
		for i := range fs {
			if err := fs[i].Validate(); err != nil {
				t.Fatalf("fact %d invalid: %v (%+v)", i, err, fs[i])
			}
			again := fs[i]
			if err := Normalize(&again); err != nil || !reflect.DeepEqual(again, fs[i]) {
				t.Fatalf("fact %d not normalised: %+v then %+v (%v)", i, fs[i], again, err)
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, FormatJSONL, fs); err != nil {
			t.Fatal(err)
		}
		back, berrs, err := Read(&buf, "export", FormatJSONL)
		if len(fs) > 0 && (err != nil || len(berrs) > 0 || !reflect.DeepEqual(back, fs)) {
			t.Fatalf("jsonl round trip: %v %v\n got %+v\nwant %+v", err, berrs, back, fs)
		}
	})
}

// FuzzParseDate: no panic, and a parsed date is UTC and prints back to a
// date that parses to the same instant.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-09-12T14:05:31+02:00", "26 May 2015", "21February 2009", "02/11/2024", "11/25/2024 10:00", "Mon, 14 Oct 2024 10:12:00 +0100", "31/02/2024", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDate(s)
		if err != nil || d.IsZero() {
			return
		}
		if d.Location().String() != "UTC" {
			t.Fatalf("parseDate(%q) not UTC: %v", s, d)
		}
		back, err := parseDate(d.Format("2006-01-02T15:04:05.999999999Z07:00"))
		if err != nil || !back.Equal(d) {
			t.Fatalf("parseDate(%q) = %v does not round-trip: %v %v", s, d, back, err)
		}
	})
}

// FuzzNormalize: no panic; success means a valid fact that a second
// Normalize leaves unchanged, with caps honoured.
func FuzzNormalize(f *testing.F) {
	f.Add("", "Hà Nội cấm xe máy", "", "Sai sự thật", "vi-VN", "https://baochinhphu.vn/x", "a;b")
	f.Add("id", "", "Title", "mixed", "français", "javascript:x", "")
	f.Add(" ", "\xff", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, id, claim, title, rating, lang, url, tags string) {
		fact := schema.Fact{ID: id, Claim: claim, Title: title, Rating: rating, Verdict: rating, Lang: lang, URL: url, Tags: splitTags(tags)}
		if err := Normalize(&fact); err != nil {
			return
		}
		if err := fact.Validate(); err != nil {
			t.Fatalf("normalised fact invalid: %v", err)
		}
		if len(fact.Claim) > MaxClaimBytes || len(fact.Title) > MaxTitleBytes || len(fact.Tags) > MaxTags {
			t.Fatalf("caps not applied: %d %d %d", len(fact.Claim), len(fact.Title), len(fact.Tags))
		}
		again := fact
		if err := Normalize(&again); err != nil || !reflect.DeepEqual(again, fact) {
			t.Fatalf("not idempotent: %+v then %+v (%v)", fact, again, err)
		}
	})
}

// FuzzReadTableCounts builds a TSV of one claim per line from arbitrary
// text and checks that every row comes out as a fact or a bad record:
// facts + bad = rows whenever no quoted field can span rows (a row
// holding a quote may legitimately open one).
func FuzzReadTableCounts(f *testing.F) {
	f.Add("Vaccines contain microchips\n\"Miracle\" cure for diabetes\nPope endorsed a candidate")
	f.Add("a \"b\" c\n\"open\nclosed\"")
	f.Fuzz(func(t *testing.T, claims string) {
		var b strings.Builder
		b.WriteString("id\tclaim\n")
		rows := strings.Split(claims, "\n")
		for i, c := range rows {
			fmt.Fprintf(&b, "r%d\t%s\n", i, strings.ReplaceAll(c, "\t", " "))
		}
		fs, errs, err := Read(strings.NewReader(b.String()), "fuzz.tsv", FormatTSV)
		if err != nil {
			t.Fatalf("%v", err)
		}
		for _, e := range errs {
			if e.Record < 2 || e.Record > len(rows)+1 {
				t.Fatalf("bad record %+v outside rows 2..%d", e, len(rows)+1)
			}
		}
		if !strings.Contains(claims, `"`) && len(fs)+len(errs) != len(rows) {
			t.Fatalf("%d facts + %d bad != %d rows: %v", len(fs), len(errs), len(rows), errs)
		}
		if len(fs)+len(errs) > len(rows) {
			t.Fatalf("%d facts + %d bad > %d rows", len(fs), len(errs), len(rows))
		}
	})
}
