package facts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

func TestDetect(t *testing.T) {
	f := func(head, name, want string) {
		t.Helper()
		got, err := Detect([]byte(head), name)
		if want == "" {
			if err == nil {
				t.Errorf("Detect(%q) = %q, want an error", clip(head, 40), got)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("Detect(%q, %q) = %q, %v; want %q", clip(head, 40), name, got, err, want)
		}
	}
	f("\tvclaim\ttitle\n0\tx\ty\n", "v.tsv", FormatCheckThat2020)
	f("vclaim_id\tvclaim\ttitle\n", "v.txt", FormatCheckThat2020)
	f(`{"title": "t", "vclaim_id": "a", "vclaim": "c"}`+"\n{}", "x", FormatCheckThat2022)
	f(`{"v":1,"id":"a","claim":"c"}`+"\n", "export.jsonl", FormatJSONL)
	f(`{"claims":[]}`, "r.json", FormatGoogle)
	f("{\n  \"claims\": [\n {\"text\":\"x\",\"claimReview\":[]}]}", "r.json", FormatGoogle)
	f("{\n \"@context\": \"https://schema.org\", \"@type\": \"ClaimReview\"}", "r.json", FormatClaimReview)
	f(`[{"@type":"ClaimReview"}]`, "r.json", FormatClaimReview)
	f("\xef\xbb\xbf  <!DOCTYPE html><html>", "page", FormatClaimReview)
	f("claim,rating\nx,False\n", "f.txt", FormatCSV)
	f("claim;rating\n", "f", FormatCSV)
	f("claim\trating\n", "f", FormatTSV)
	f("claim\n", "f.csv", FormatCSV)
	f("", "empty.csv", "")
	f("   \n\t", "blank", "")
	f(`{"foo":1}`+"\n", "x.jsonl", "")
	f("<?xml version=\"1.0\"?><rss>", "feed.xml", "")
	f("\x00\x01\xff\xfe binary", "x.bin", "")
	f("just some prose without any delimiter", "notes", "")
}

func TestParseDate(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := parseDate(in)
		if want == "error" {
			if err == nil {
				t.Errorf("parseDate(%q) = %v, want an error", in, got)
			}
			return
		}
		if err != nil {
			t.Errorf("parseDate(%q): %v", in, err)
			return
		}
		if g := got.Format(time.RFC3339); g != want {
			t.Errorf("parseDate(%q) = %s, want %s", in, g, want)
		}
	}
	f("2024-09-12T14:05:31+02:00", "2024-09-12T12:05:31Z")
	f("2024-09-12T14:05:31.250Z", "2024-09-12T14:05:31Z")
	f("2024-09-12", "2024-09-12T00:00:00Z")
	f("2024-09-12 08:15", "2024-09-12T08:15:00Z")
	f("Mon, 14 Oct 2024 10:12:00 +0100", "2024-10-14T09:12:00Z")
	f("26 May 2015", "2015-05-26T00:00:00Z")
	f("21February 2009", "2009-02-21T00:00:00Z")
	f("March 3, 2023", "2023-03-03T00:00:00Z")
	f("Mar 3, 2023", "2023-03-03T00:00:00Z")
	f("02/11/2024", "2024-11-02T00:00:00Z") // day first
	f("5.11.2024", "2024-11-05T00:00:00Z")
	f("15-08-2024 07:30", "2024-08-15T07:30:00Z")
	f("11/25/2024", "2024-11-25T00:00:00Z") // US order, unambiguous
	f("", "0001-01-01T00:00:00Z")
	f("31/02/2024", "error")
	f("13/13/2024", "error")
	f("yesterday", "error")
	f("2024", "error")
	f("1/2/24", "error")
}

func TestNormalize(t *testing.T) {
	long := strings.Repeat("é", MaxClaimBytes) // 2 bytes a rune: must be cut on a rune boundary
	f := func(in schema.Fact, want schema.Fact, wantErr string) {
		t.Helper()
		got := in
		err := Normalize(&got)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("Normalize(%+v) error = %v, want %q", in, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Errorf("Normalize(%+v): %v", in, err)
			return
		}
		if want.ID == "" {
			want.ID = got.ID
		}
		want.V = schema.Version
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Normalize(%+v)\n got %+v\nwant %+v", in, got, want)
		}
		again := got
		if err := Normalize(&again); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Normalize is not idempotent: %+v then %+v (%v)", got, again, err)
		}
	}
	f(schema.Fact{ID: " a ", Claim: "  c  ", Rating: "Pants on Fire!", Lang: "EN-us"},
		schema.Fact{ID: "a", Claim: "c", Rating: "Pants on Fire!", Verdict: schema.VerdictFalse, Lang: "en"}, "")
	f(schema.Fact{Claim: "c", Verdict: "Sai sự thật"},
		schema.Fact{Claim: "c", Rating: "Sai sự thật", Verdict: schema.VerdictFalse}, "")
	f(schema.Fact{Claim: "c", Verdict: schema.VerdictMixed, Rating: "Faux"},
		schema.Fact{Claim: "c", Verdict: schema.VerdictMixed, Rating: "Faux"}, "")
	// An unknown verdict is refused, naming the field and the accepted
	// values; the same wording as a rating is kept and maps to other.
	f(schema.Fact{Claim: "x", Verdict: "banana"}, schema.Fact{}, `verdict "banana" is not one of false, misleading, mixed, true, unproven, other`)
	f(schema.Fact{Claim: "x", Rating: "banana"}, schema.Fact{Claim: "x", Rating: "banana", Verdict: schema.VerdictOther}, "")
	f(schema.Fact{Claim: "x", Rating: "Satire"}, schema.Fact{Claim: "x", Rating: "Satire", Verdict: schema.VerdictOther}, "")
	f(schema.Fact{Claim: "x", Verdict: "False"}, schema.Fact{Claim: "x", Rating: "False", Verdict: schema.VerdictFalse}, "")
	f(schema.Fact{Claim: "c", Lang: "Français", Tags: []string{" a", "", "A", "b "}},
		schema.Fact{Claim: "c", Lang: "fr", Tags: []string{"a", "b"}}, "")
	f(schema.Fact{Claim: "c", Translations: map[string]string{"EN": " x ", "fr": " "}},
		schema.Fact{Claim: "c", Translations: map[string]string{"en": "x"}}, "")
	f(schema.Fact{Claim: "c", Date: time.Date(2024, 1, 2, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))},
		schema.Fact{Claim: "c", Date: time.Date(2024, 1, 2, 2, 0, 0, 0, time.UTC)}, "")
	f(schema.Fact{Claim: long + "x"}, schema.Fact{Claim: long[:MaxClaimBytes]}, "")
	f(schema.Fact{Claim: " ", Title: "\t"}, schema.Fact{}, "neither claim nor title")
	f(schema.Fact{Claim: "c", URL: "javascript:alert(1)"}, schema.Fact{}, "not an absolute http(s) URL")
	f(schema.Fact{Claim: "c", URL: "/relative/path"}, schema.Fact{}, "not an absolute http(s) URL")
	f(schema.Fact{Claim: "c", URL: "http://[::1"}, schema.Fact{}, "invalid url")
	f(schema.Fact{Claim: "c", URL: "https://x/" + strings.Repeat("a", MaxURLBytes)}, schema.Fact{}, "url longer")
	f(schema.Fact{Claim: "c", Lang: "english language"}, schema.Fact{}, "not a language code")
	f(schema.Fact{Claim: "c", Publisher: "\xff"}, schema.Fact{}, "publisher is not valid UTF-8")
	f(schema.Fact{Claim: "c", ID: strings.Repeat("x", 300)}, schema.Fact{}, "longer than 256")
	f(schema.Fact{Claim: "c", Translations: map[string]string{"??": "x"}}, schema.Fact{}, "not a language code")
	f(schema.Fact{Claim: "c", Appearances: []string{" p1 ", "", "p1", "p2"}},
		schema.Fact{Claim: "c", Appearances: []string{"p1", "p2"}}, "")
	var many []string
	for i := range MaxAppearances + 3 {
		many = append(many, fmt.Sprint("post ", i))
	}
	f(schema.Fact{Claim: "c", Appearances: many}, schema.Fact{Claim: "c", Appearances: many[3:]}, "")
	f(schema.Fact{Claim: "c", Appearances: []string{"ok", "\xff"}}, schema.Fact{}, "appearance 2 is not valid UTF-8")
}

func TestDeriveIDStable(t *testing.T) {
	a := DeriveID("https://x/1", "The  Moon is made of cheese", "")
	if b := DeriveID("https://x/1", "the moon is MADE of\tcheese", ""); a != b {
		t.Errorf("case/space changes the id: %s vs %s", a, b)
	}
	if b := DeriveID("https://x/1", "The sun is cold", ""); a == b {
		t.Error("two claims on one page share an id")
	}
	if b := DeriveID("https://x/2", "The Moon is made of cheese", ""); a == b {
		t.Error("two pages share an id")
	}
}

// TestWriteRoundTrip writes facts in every export format and reads them
// back: jsonl is lossless, csv and claimreview keep what they can carry.
func TestWriteRoundTrip(t *testing.T) {
	in, errs, err := Load("testdata/baochinhphu_vi.csv", "")
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	more, _, err := Load("testdata/export_mixed.jsonl", "")
	if err != nil {
		t.Fatal(err)
	}
	in = append(in, more...)
	for _, format := range ExportFormats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, in); err != nil {
				t.Fatal(err)
			}
			detected, err := Detect(buf.Bytes(), "export")
			if err != nil || detected != format {
				t.Errorf("export detected as %q, %v", detected, err)
			}
			out, errs, err := Read(&buf, "export", format)
			if err != nil || len(errs) > 0 {
				t.Fatal(err, errs)
			}
			if len(out) != len(in) {
				t.Fatalf("got %d facts back, want %d", len(out), len(in))
			}
			for i := range in {
				want := in[i]
				if format != FormatJSONL {
					want.Translations, want.Updated = nil, time.Time{}
				}
				if !reflect.DeepEqual(out[i], want) {
					t.Errorf("fact %d:\n got %+v\nwant %+v", i, out[i], want)
				}
			}
		})
	}
	if err := Write(io.Discard, "xml", in); err == nil {
		t.Error("unknown export format accepted")
	}
}

// endless yields n bytes of 'a' with no newline: a 1 GB line in a few
// kilobytes of memory.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), e.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	e.n -= k
	return int(k), nil
}

// TestHugeLines checks the size caps: an over-long JSONL line is skipped
// and reported while the lines around it import; a CSV line likewise; a JSON document past MaxDocBytes is refused.
func TestHugeLines(t *testing.T) {
	good := `{"v":1,"id":"a","claim":"c"}` + "\n"
	r := io.MultiReader(strings.NewReader(good+`{"v":1,"id":"b","claim":"`), &endless{n: 64 << 20}, strings.NewReader("\"}\n"+good))
	fs, errs, err := Read(r, "big.jsonl", FormatJSONL)
	if err != nil || len(fs) != 2 || len(errs) != 1 || errs[0].Record != 2 || !strings.Contains(errs[0].Reason, "longer than") {
		t.Errorf("jsonl: got %d facts, errors %v, err %v", len(fs), errs, err)
	}

	r = io.MultiReader(strings.NewReader("claim,rating\nfirst,False\n\""), &endless{n: 64 << 20}, strings.NewReader("\nlast,False\n"))
	fs, errs, err = Read(r, "big.csv", FormatCSV)
	if err != nil || len(fs) != 2 || len(errs) != 1 || errs[0].Record != 3 || !strings.Contains(errs[0].Reason, "longer than") {
		t.Errorf("csv: got %d facts, errors %v, err %v", len(fs), errs, err)
	}

	defer func(old int64) { maxDoc = old }(maxDoc)
	maxDoc = 4 << 20
	r = io.MultiReader(strings.NewReader(`{"@type":"ClaimReview","claimReviewed":"`), &endless{n: 1 << 30})
	if _, _, err = Read(r, "big.json", FormatClaimReview); !errors.Is(err, errDocTooLarge) {
		t.Errorf("claimreview: err = %v, want document too large", err)
	}
	r = io.MultiReader(strings.NewReader(`{"claims":[{"text":"`), &endless{n: 1 << 30})
	if _, _, err = Read(r, "big.json", FormatGoogle); !errors.Is(err, errDocTooLarge) {
		t.Errorf("google: err = %v, want document too large", err)
	}
}

func TestReadErrors(t *testing.T) {
	f := func(in, format, want string) {
		t.Helper()
		_, _, err := Read(strings.NewReader(in), "in.x", format)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "in.x") {
			t.Errorf("Read(%q, %q) error = %v, want it to name in.x and say %q", clip(in, 30), format, err, want)
		}
	}
	f("claim,rating\n", "yaml", "unknown facts format")
	f("", "", "empty")
	f("id,rating\n1,False\n", "csv", "no claim, text, vclaim or title column")
	f("claim,text\n", "csv", "two columns")
	f("", "csv", "no header")
	f(`{"claims": {}}`, "google", "claims is not an array")
	f(`{"other": []}`, "google", "no claims array")
	f(`[1,2]`, "google", "want a JSON object")
	f(`{"@type":"WebPage"}`, "claimreview", "no ClaimReview")
	f(`<html><body>no scripts</body></html>`, "claimreview", "no <script")
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load("testdata/does-not-exist.csv", "")
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.csv") {
		t.Errorf("err = %v, want it to name the file", err)
	}
}
