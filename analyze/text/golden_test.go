package text

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/trendwatch/trendwatch/internal/testdata"
)

var update = flag.Bool("update", false, "rewrite testdata/analyze_golden.jsonl from the current Analyze")

const goldenFile = "testdata/analyze_golden.jsonl"

// goldenCase is one input of the golden test.
type goldenCase struct {
	src, hint, text string
}

// goldenLine is one line of the golden file. The Doc is stored as a hash of
// its complete JSON (every field, nil and empty slices told apart), which
// keeps the file small while any change of output shows.
type goldenLine struct {
	Src  string `json:"src"`
	Hint string `json:"hint,omitempty"`
	In   string `json:"in"`   // hash of the input, so a changed data set is told apart from a changed Analyze
	Lang string `json:"lang"` // for a human reading a diff
	Doc  string `json:"doc"`
}

func hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

// goldenCases reads real texts of every kind Analyze meets: Vietnamese news
// (accented and, folded, unaccented), English tweets with signatures,
// Snopes claims, RSS items in several languages with HTML and entities, raw
// feed bytes (including invalid UTF-8), and hand-written edge cases.
func goldenCases(t *testing.T) []goldenCase {
	dir := testdata.SharedDir(t)
	var cs []goldenCase
	add := func(src, hint, s string) { cs = append(cs, goldenCase{src, hint, s}) }

	files, err := filepath.Glob(filepath.Join(dir, "vi-news", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vi-news files: %v", err)
	}
	slices.Sort(files)
	for _, fn := range files {
		lines := readLines(t, fn)
		for i := 0; i < len(lines); i += 5 {
			var it struct{ Title, Summary string }
			if err := json.Unmarshal([]byte(lines[i]), &it); err != nil {
				t.Fatalf("%s:%d: %v", fn, i+1, err)
			}
			src := fmt.Sprintf("vi-news/%s:%d", filepath.Base(fn), i+1)
			add(src, "", it.Title+"\n"+it.Summary)
			if i%10 == 0 {
				add(src+"/folded", "", FoldDiacritics(it.Title+". "+it.Summary))
			} else {
				add(src+"/title", "vi", it.Title)
			}
		}
	}
	for _, f := range []string{"checkthat2022/train-dev.queries.tsv", "checkthat2022/devtest.queries.tsv",
		"checkthat2020/train/tweets.queries.tsv", "checkthat2020/dev/tweets.queries.tsv"} {
		for i, l := range readLines(t, filepath.Join(dir, f)) {
			_, tweet, ok := strings.Cut(l, "\t")
			if !ok || i%2 == 1 && strings.HasPrefix(f, "checkthat2020") {
				continue
			}
			hint := ""
			if i%50 == 7 {
				hint = "fr" // a wrong hint must still be honoured
			}
			add(fmt.Sprintf("%s:%d", f, i+1), hint, tweet)
		}
	}
	for i, l := range readLines(t, filepath.Join(dir, "checkthat2020", "verified_claims.docs.tsv")) {
		if i%40 == 1 {
			add(fmt.Sprintf("checkthat2020/verified_claims.docs.tsv:%d", i+1), "", l)
		}
	}
	feeds, err := filepath.Glob(filepath.Join(dir, "feeds", "captured", "*"))
	if err != nil || len(feeds) == 0 {
		t.Fatalf("no captured feeds: %v", err)
	}
	slices.Sort(feeds)
	for _, fn := range feeds {
		raw, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		name := "feeds/" + filepath.Base(fn)
		// Raw markup in pieces: entities, invalid UTF-8, odd punctuation.
		for off, k := 0, 0; off < len(raw) && k < 6; off, k = off+len(raw)/6+1, k+1 {
			add(fmt.Sprintf("%s@%d", name, off), "", string(raw[off:min(len(raw), off+1500)]))
		}
		feed, err := gofeed.NewParser().ParseString(string(raw))
		if err != nil {
			continue // the unrecognised document; its raw pieces are in
		}
		for i, it := range feed.Items {
			if i >= 60 {
				break
			}
			add(fmt.Sprintf("%s#%d", name, i), "", it.Title+"\n"+it.Description)
		}
	}
	for i, s := range []string{
		"", " ", "\n\t ", "#", "@", "'", "’s", "1.2.3,4", "\xff", "\xff\xfe bad \xc3", "RT @x: l'homme qu'on aime 1,000.5 https://x.y",
		"Hà Nội mưa lớn", "Ha Noi mua lon", "Cafe\u0301 au lait", "e\u0301\u0301\u0301", "STRASSE ß GROSS ẞ", "ǅemal ǈubljana",
		"İstanbul'da DİYARBAKIR ıi", "ΣΊΣΥΦΟΣ Οδυσσεύς", "Москва объявила новые меры", "北京 东京 1,000", "😀😀 #Covid19Vaccine @Joe_Biden",
		"l'État jusqu'à aujourd'hui, qu'il presqu'île", "don't won't O'Neill's rock'n'roll", "1,000 1.000 3,5 3.5 1,00 12,345,678 .5 5.",
		"a\u00a0b\u2003c\u3000d\u200be", "  leading and trailing  ", "Ǆ ǅ ǆ Ⅻ ⅻ Ⓐ ﬁ ﬀ", "\u0345\u0399 ᾳ ᾼ", "x&amp;y &lt;b&gt; &#39;q&#39; &nbsp;&eacute;",
		"A.B.C. NASA WHO U.S. COVID-19 iPhone McDonald eBay", "tp.HCM Tp HCM TP.HCM", "a_b __init__ snake_case_word",
		"see www.example.com/x?y=1, and HTTP://A.B/C). then pic.twitter.com/abc", "mail a@b.c #tag#tag @@x ##y",
		"Good news — Name Here (@handle_1) March 3, 2021", "-- Someone (@x) May 1, 2020!!!", "Θ θ Ϊ ϊ ΐ", "ʼapostrophe ʼs",
	} {
		add(fmt.Sprintf("edge:%d", i), "", s)
		add(fmt.Sprintf("edge:%d", i), "VI", s)
	}
	return cs
}

func readLines(t *testing.T, fn string) []string {
	t.Helper()
	f, err := os.Open(fn)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return out
}

func analyzeGolden(c goldenCase) goldenLine {
	d := Analyze(c.text, c.hint)
	j, err := json.Marshal(d)
	if err != nil {
		panic(err) // Doc holds only strings and slices
	}
	return goldenLine{Src: c.src, Hint: c.hint, In: hash([]byte(c.text)), Lang: d.Lang, Doc: hash(j)}
}

// TestAnalyzeGolden pins Analyze's complete output on a few thousand real
// texts, so optimisations stay byte-identical. Regenerate with
// `go test ./analyze/text -run Golden -update` only for an intended change
// of output.
func TestAnalyzeGolden(t *testing.T) {
	cs := goldenCases(t)
	if *update {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		for _, c := range cs {
			if err := enc.Encode(analyzeGolden(c)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(goldenFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d cases to %s", len(cs), goldenFile)
		return
	}
	var want []goldenLine
	for i, l := range readLines(t, goldenFile) {
		var g goldenLine
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatalf("%s:%d: %v", goldenFile, i+1, err)
		}
		want = append(want, g)
	}
	if len(want) != len(cs) {
		t.Fatalf("golden file has %d cases, the data gives %d (data changed? run with -update)", len(want), len(cs))
	}
	bad := 0
	for i, c := range cs {
		got := analyzeGolden(c)
		if got.In != want[i].In || got.Src != want[i].Src {
			t.Fatalf("case %d: input %s/%s differs from golden %s/%s (data changed? run with -update)",
				i, got.Src, got.In, want[i].Src, want[i].In)
		}
		if got != want[i] {
			bad++
			if bad <= 5 {
				j, _ := json.Marshal(Analyze(c.text, c.hint))
				t.Errorf("%s (hint %q): Doc hash %s, golden %s; input %q\ngot %s", c.src, c.hint, got.Doc, want[i].Doc, c.text, j)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d cases differ", bad, len(cs))
	}
}
