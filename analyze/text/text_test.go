package text

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFoldDiacritics(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := FoldDiacritics(in); got != want {
			t.Errorf("FoldDiacritics(%q) = %q, want %q", in, got, want)
		}
	}
	f("Hà Nội", "Ha Noi")
	f("Đường Nguyễn Huy Tự", "Duong Nguyen Huy Tu")
	f("người dân cần tỉnh táo", "nguoi dan can tinh tao")
	f("L'État réduit les impôts", "L'Etat reduit les impots")
	f("cœur", "coeur")
	f("e\u0301", "e") // decomposed accent
	f("plain ascii", "plain ascii")
	f("Москва", "Москва") // other scripts untouched
}

func TestNormalize(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	f("  Hello   WORLD \n", "hello world")
	f("Cafe\u0301", "café") // NFC
	f("STRASSE ß", "strasse ss")
	f("\xff bad", "\ufffd bad")
	f("", "")
}

func TestClean(t *testing.T) {
	s := Clean("How are butterflies surviving the #AustralianFires? pic.twitter.com/0eJtwJyS1J — Center for Bio Div (@CenterForBioDiv) January 14, 2020")
	if s.Text != "How are butterflies surviving the  Australian Fires ?" {
		t.Errorf("Text = %q", s.Text)
	}
	if s.SignatureName != "Center for Bio Div" || s.SignatureHandle != "CenterForBioDiv" || s.SignatureDate != "January 14, 2020" {
		t.Errorf("signature = %q %q %q", s.SignatureName, s.SignatureHandle, s.SignatureDate)
	}
	if !slices.Equal(s.Hashtags, []string{"AustralianFires"}) || !slices.Equal(s.URLs, []string{"pic.twitter.com/0eJtwJyS1J"}) {
		t.Errorf("hashtags %q urls %q", s.Hashtags, s.URLs)
	}
	s = Clean("RT @JoeBiden: We&apos;re a democracy. https://t.co/xyz, mail a@b.c")
	if !slices.Equal(s.Mentions, []string{"JoeBiden"}) || !slices.Equal(s.URLs, []string{"https://t.co/xyz"}) {
		t.Errorf("mentions %q urls %q", s.Mentions, s.URLs)
	}
	if !strings.Contains(s.Text, "Joe Biden") || strings.HasPrefix(s.Text, "RT") || !strings.Contains(s.Text, "We're") {
		t.Errorf("Text = %q", s.Text)
	}
	if strings.Contains(Clean("mail a@b.c").Text, "  ") {
		t.Error("an e-mail address is not a mention")
	}
}

func TestDetectLang(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := DetectLang(in); got != want {
			t.Errorf("DetectLang(%q) = %q, want %q", in, got, want)
		}
	}
	f("Bộ Công an: Không chia sẻ thông tin chưa kiểm chứng vụ tai nạn", LangVI)
	f("Bo Cong an: khong chia se thong tin chua kiem chung vu tai nan tren duong", LangVI)
	f("nguoi dan can tinh tao khi tham gia khong gian mang", LangVI)
	f("Le gouvernement a annoncé une hausse des impôts pour les ménages", LangFR)
	f("The president said the vaccine is not safe for children", LangEN)
	f("Die Regierung hat heute neue Steuern für alle Bürger angekündigt und das Parlament stimmt morgen ab", LangUnd)
	f("Москва объявила новые меры", LangUnd)
	f("😀😀", LangUnd)
	f("", LangUnd)
}

func TestAnalyze(t *testing.T) {
	type want struct {
		lang   string
		tokens []string
	}
	f := func(in, hint string, w want) {
		t.Helper()
		d := Analyze(in, hint)
		if d.Lang != w.lang || !slices.Equal(d.Tokens, w.tokens) {
			t.Errorf("Analyze(%q) = %s %q, want %s %q", in, d.Lang, d.Tokens, w.lang, w.tokens)
		}
	}
	f("The vaccines are causing 1,000 deaths, Trump's doctor said", "",
		want{LangEN, []string{"vaccin", "caus", "1000", "death", "trump", "doctor"}})
	f("L'État a décidé qu'il fallait réduire les impôts de 3,5 %", "fr",
		want{LangFR, []string{"etat", "decid", "fall", "reduir", "impot", "3.5"}})
	f("Hà Nội mưa lớn", "",
		want{LangVI, []string{"ha", "hà", "noi", "nội", "ha_noi", "mua", "mưa", "noi_mua", "lon", "lớn", "mua_lon"}})
	f("Ha Noi mua lon", "vi",
		want{LangVI, []string{"ha", "noi", "ha_noi", "mua", "noi_mua", "lon", "mua_lon"}})
}

// Accented and unaccented Vietnamese share their folded terms.
func TestVietnameseUnaccentedOverlap(t *testing.T) {
	a := Analyze("Người dân cần tỉnh táo, nâng cao cảnh giác trên không gian mạng", "")
	b := Analyze("Nguoi dan can tinh tao, nang cao canh giac tren khong gian mang", "")
	if a.Lang != LangVI || b.Lang != LangVI {
		t.Fatalf("langs %s %s", a.Lang, b.Lang)
	}
	// The accented text drops its stopwords as written ("cần", need);
	// unaccented, "can" is kept: it is also cán, cản, căn. Every other
	// unaccented term is in the accented analysis.
	dropped := map[string]bool{}
	for _, w := range strings.Fields(Normalize(a.Text)) {
		if w = strings.Trim(w, ","); IsStopword(w, LangVI) {
			dropped[FoldDiacritics(w)] = true
		}
	}
	for _, tok := range b.Tokens {
		if !slices.Contains(a.Tokens, tok) && !dropped[tok] {
			t.Errorf("unaccented term %q missing from the accented analysis %q", tok, a.Tokens)
		}
	}
}

// Vietnamese stopwords are judged on the form written: accented text on
// the accented list, text without any diacritics on the folded list,
// which leaves out folds shared with content words.
func TestVietnameseStopwords(t *testing.T) {
	for _, c := range []struct {
		in         string
		keep, drop []string
	}{
		// bàn (goal) folds to ban like bạn (friend), a stopword.
		{"Quang Hải ghi bàn thắng đẹp", []string{"bàn", "ban", "ban_thang"}, nil},
		{"Bạn của tôi ghi bàn", []string{"bàn"}, []string{"bạn", "của", "cua", "tôi", "toi"}},
		// Unaccented: "ban" may be bàn, bán or bạn, so it stays; "cua"
		// and "nhung" are only của and những.
		{"Quang Hai ghi ban thang dep", []string{"ban", "ban_thang"}, nil},
		{"nhung nguoi ban cua toi", []string{"ban"}, []string{"nhung", "cua"}},
		// An unaccented word in accented text is judged as written:
		// "ban" here is the committee, not a folded bạn.
		{"Ban chấp hành họp", []string{"ban"}, nil},
		{"Năm nay giá vàng tăng", []string{"vàng", "gia"}, []string{"năm", "nam"}},
	} {
		d := Analyze(c.in, LangVI)
		for _, w := range c.keep {
			if !slices.Contains(d.Tokens, w) {
				t.Errorf("Analyze(%q) dropped %q: %q", c.in, w, d.Tokens)
			}
		}
		for _, w := range c.drop {
			if slices.Contains(d.Tokens, w) {
				t.Errorf("Analyze(%q) kept stopword %q: %q", c.in, w, d.Tokens)
			}
		}
	}
	for w, want := range map[string]bool{"bạn": true, "bàn": false, "ban": false, "cua": true, "của": true, "năm": true, "nam": false} {
		if got := IsStopword(w, LangVI); got != want {
			t.Errorf("IsStopword(%q, vi) = %v, want %v", w, got, want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Hà Nội", "L'État", "  a  b ", "\xff\xfe", "ß", "e\u0301\u0301", "ǅ", "\u0345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if n2 := Normalize(n); n2 != n {
			t.Fatalf("Normalize not idempotent: %q → %q → %q", s, n, n2)
		}
		fd := FoldDiacritics(n)
		if !utf8.ValidString(fd) || FoldDiacritics(fd) != fd {
			t.Fatalf("FoldDiacritics not idempotent on %q: %q", n, fd)
		}
	})
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"How are butterflies surviving the #AustralianFires? — Center (@C) January 14, 2020",
		"RT @x: l'homme qu'on aime 1,000.5 https://x.y", "Hà Nội mưa lớn", "#", "@", "'", "’s", "1.2.3,4", "\xff",
	} {
		f.Add(s, "")
		f.Add(s, "fr")
	}
	f.Fuzz(func(t *testing.T, s, hint string) {
		d := Analyze(s, hint)
		switch d.Lang {
		case LangVI, LangFR, LangEN, LangUnd:
		default:
			t.Fatalf("Lang %q", d.Lang)
		}
		for _, list := range [][]string{d.Tokens, d.Keywords, d.Bigrams, d.Numbers, d.Entities, d.URLs, d.Mentions, d.Hashtags} {
			for _, tok := range list {
				if tok == "" || !utf8.ValidString(tok) {
					t.Fatalf("bad term %q from %q", tok, s)
				}
			}
		}
		if !utf8.ValidString(d.Text) {
			t.Fatalf("Text invalid UTF-8")
		}
		// Analysis is a function of the cleaned text: running it again on
		// the normalised tokens' source gives the same terms (idempotent).
		d2 := Analyze(d.Text, d.Lang)
		d3 := Analyze(d2.Text, d.Lang)
		if !slices.Equal(d2.Tokens, d3.Tokens) {
			t.Fatalf("not idempotent: %q vs %q", d2.Tokens, d3.Tokens)
		}
	})
}

// The one-pass path of Normalize must agree with the general one wherever
// it accepts the input.
func FuzzNormalizeFast(f *testing.F) {
	for _, s := range []string{"Hà Nội", "L'ÉTAT", "  a \u00a0 b\u2000c ", "STRASSE ẞ", "W\u030a", "İ", "Ǆ", "😀 x", "\u0345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if got, ok := normalizeFast(s); ok {
			if want := normalizeSlow(s); got != want {
				t.Fatalf("normalizeFast(%q) = %q, general path %q", s, got, want)
			}
		}
	})
}
