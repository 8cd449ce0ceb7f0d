package text

import (
	"slices"
	"strings"
	"testing"
)

// AppendLower and AppendLowerFold must equal the two-string forms they
// replace in analyze/trends' keys, byte for byte, for any input.
func FuzzAppendLowerFold(f *testing.F) {
	for _, s := range []string{
		"", "ABC xyz 123", "HÀ NỘI Đà Nẵng", "Ǆ ǅ ǆ Æ Œ ß ẞ İ", "ÉCOLE e\u0301cole",
		"Москва ΑΘΗΝΑ", "\xff\xfeA\xc3", "\uFFFD\u200b\u00ad", "ＡＢＣ", "𐐀",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendLower([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
			t.Errorf("AppendLower(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(AppendLowerFold(nil, s)), FoldDiacritics(strings.ToLower(s)); got != want {
			t.Errorf("AppendLowerFold(%q) = %q, want %q", s, got, want)
		}
	})
}

// IsFoldedStopword of a folded word is IsStopword in any language.
func TestIsFoldedStopword(t *testing.T) {
	var words []string
	for _, l := range []map[string]bool{stopEN, stopFR, stopVI, stopVIFolded, vietnameseOnly} {
		for w := range l {
			words = append(words, w, FoldDiacritics(w))
		}
	}
	words = append(words, "etait", "ete", "nguoi", "houston", "xyz", "")
	for _, w := range words {
		f := FoldDiacritics(w)
		want := IsStopword(f, LangEN) || IsStopword(f, LangFR) || IsStopword(f, LangVI)
		if got := IsFoldedStopword(f); got != want {
			t.Errorf("IsFoldedStopword(%q) = %v, want %v", f, got, want)
		}
	}
}

// DetectLang stops early on Vietnamese letters only when the rest of the
// text cannot outweigh them with another script.
func TestDetectLangVietnameseThenOtherScript(t *testing.T) {
	vi := "Đà Nẵng mưa lớn "
	if got := DetectLang(vi + strings.Repeat("Москва объявила новые меры ", 20)); got != LangUnd {
		t.Errorf("Vietnamese head, long Cyrillic tail: %q, want %q", got, LangUnd)
	}
	if got := DetectLang(vi + strings.Repeat("Bộ Công an cho biết ", 20) + "Москва"); got != LangVI {
		t.Errorf("long Vietnamese text: %q, want %q", got, LangVI)
	}
}

// Tokens, Bigrams and Keywords share one allocation: appending to one must
// not change the next.
func TestDocSlicesIndependent(t *testing.T) {
	for _, in := range []string{"Officials in Houston said the flood photo was fake", "Hà Nội mưa lớn gây ngập nặng"} {
		d := Analyze(in, "")
		if len(d.Bigrams) == 0 || len(d.Keywords) == 0 {
			t.Fatalf("Analyze(%q): no bigrams or keywords: %#v", in, d)
		}
		bigrams, keywords := slices.Clone(d.Bigrams), slices.Clone(d.Keywords)
		_ = append(d.Tokens, "x")
		_ = append(d.Bigrams, "x")
		if !slices.Equal(d.Bigrams, bigrams) || !slices.Equal(d.Keywords, keywords) {
			t.Errorf("Analyze(%q): appending changed the next slice: %q %q", in, d.Bigrams, d.Keywords)
		}
	}
}
