package text

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestEmbeddedPhrases: the committed table parses and holds what topic
// keys rely on.
func TestEmbeddedPhrases(t *testing.T) {
	tb, err := ParsePhraseTable(bytes.NewReader(embeddedPhrases))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Len() < 1000 || tb.Docs < 1000 {
		t.Fatalf("embedded table: %d rows, %d documents", tb.Len(), tb.Docs)
	}
	for _, k := range []string{"viet nam", "ha noi", "thai lan", "doi tuyen"} {
		if tb.DF(k) == 0 {
			t.Errorf("%q unknown to the table", k)
		}
	}
}

func unitKeys(us []Unit) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Key)
	}
	return out
}

func TestUnits(t *testing.T) {
	f := func(s, lang string, want, notWant []string) {
		t.Helper()
		got := unitKeys(Units(Clean(s).Text, lang))
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("Units(%q) = %q, missing %q", s, got, w)
			}
		}
		for _, w := range notWant {
			if slices.Contains(got, w) {
				t.Errorf("Units(%q) = %q, has %q", s, got, w)
			}
		}
	}
	// Names (capitalised runs), learned phrases, a title before a name.
	f("Sạt lở nghiêm trọng trên đèo Khánh Lê, giao thông chia cắt", "vi",
		[]string{"sat lo", "deo khanh le", "khanh le"}, []string{"lo deo", "deo khanh", "le", "giao thong chia"})
	// Never across punctuation; a number only inside a phrase.
	f("Người dân Hà Nội. Thái Lan thắng 2-0, ngày 2-9 nghỉ lễ", "vi",
		[]string{"ha noi", "thai lan"}, []string{"noi thai", "2-0", "2-9", "2 9", "ngay"})
	// The same keys with and without accents, any case, for known units.
	f("doi tuyen viet nam gap thai lan", "vi", []string{"doi tuyen", "viet nam", "thai lan"}, nil)
	// A sentence's capitalised first word is not part of the name after it.
	f("Giữa Hà Nội, mưa lớn", "vi", []string{"ha noi"}, []string{"giua ha noi"})
	// French and English: content words, names, never stopwords.
	f("Officials in Houston said the photo was fake", "en", []string{"houston", "photo"}, []string{"the", "was", "in houston"})
	f("Le gouvernement dément la rumeur sur Emmanuel Macron", "fr", []string{"emmanuel macron", "gouvernement"}, []string{"la", "sur"})
	// Title case and capitals say nothing about names.
	f("VIRAL PHOTO OF A SHARK ON A FLOODED HIGHWAY", "en", []string{"shark"}, []string{"viral photo of a shark"})
}

// TestTrainPhrases: collocations are learned, pairs across words are not,
// and the table survives writing and reading.
func TestTrainPhrases(t *testing.T) {
	var docs []TrainDoc
	for i := range 12 {
		docs = append(docs,
			TrainDoc{Lang: "vi", Text: []string{"Đội tuyển Việt Nam thắng", "Cổ động viên chờ đội tuyển Việt Nam", "Mưa lớn ở Hà Nội"}[i%3] + strings.Repeat(" x", i)},
			TrainDoc{Lang: "vi", Text: "Người hâm mộ đội tuyển Thái Lan buồn vì trận thua số " + string(rune('0'+i%10))})
	}
	tb := TrainPhrases(docs, PhraseOptions{})
	var buf bytes.Buffer
	if _, err := tb.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParsePhraseTable(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != tb.Len() || back.Docs != tb.Docs {
		t.Fatalf("round trip: %d/%d rows, %d/%d docs", back.Len(), tb.Len(), back.Docs, tb.Docs)
	}
	for _, k := range []string{"doi tuyen", "viet nam", "ha noi"} {
		if back.DF(k) == 0 {
			t.Errorf("%q not learned", k)
		}
	}
	got := unitKeys(back.Units("Đội tuyển Việt Nam gặp đội tuyển Thái Lan", LangVI))
	if !slices.Contains(got, "doi tuyen viet nam") && !slices.Contains(got, "viet nam") {
		t.Errorf("units %q", got)
	}
	for _, k := range got {
		if k == "tuyen viet" || k == "nam gap" {
			t.Errorf("a pair across words: %q", got)
		}
	}
}

var innerDot = regexp.MustCompile(`(\pL|\pN)\.(\pL|\pN)`)

func FuzzUnits(f *testing.F) {
	for _, s := range []string{"Sạt lở đèo Khánh Lê, bão số 4", "TP.HCM: Ông Trump nói 'không' 1.000 lần", "\xff\xfe Ai Cập-Hà Nội’s l'État", "A. B. C."} {
		f.Add(s, "vi")
		f.Add(s, "en")
	}
	f.Fuzz(func(t *testing.T, s, lang string) {
		us := Units(s, lang)
		seen := map[string]bool{}
		for _, u := range us {
			if u.Key == "" || seen[u.Key] || !utf8.ValidString(u.Key) || strings.Contains(u.Key, "  ") {
				t.Fatalf("bad or repeated key %q in %q", u.Key, unitKeys(us))
			}
			seen[u.Key] = true
			if u.Start < 0 || u.Start+len(u.Surface) > len(s) || s[u.Start:u.Start+len(u.Surface)] != u.Surface {
				t.Fatalf("unit %+v is not at its offset in %q", u, s)
			}
			// Only a dot inside an abbreviation or a number ("TP.HCM",
			// "1.000") may stand in a unit.
			if inner := innerDot.ReplaceAllString(u.Surface, ""); strings.ContainsAny(inner, ".,;!?\n()") {
				t.Fatalf("unit %q crosses punctuation", u.Surface)
			}
		}
	})
}
