package text

import (
	"slices"
	"strings"
	"testing"
)

// Teencode and abbreviations in Vietnamese posts read as the words they
// stand for, spelt like the rest of the post.
func TestTeencode(t *testing.T) {
	for _, c := range []struct {
		in, hint, want string // want: the words of the post, space-separated
	}{
		{"mik ko bik j hết", "vi", "mình không biết gì hết"},
		{"tui k dc đi hn vs ng yêu", "vi", "tui không được đi hà nội với người yêu"},
		{"Hok phải đâu, đc rồi", "vi", "không phải đâu được rồi"},
		{"trc giờ bt mà", "vi", "trước giờ bình thường mà"},
		{"ở sg giá 50 k thôi", "vi", "ở tp hcm giá 50 k thôi"},
		{"TP HCM và tphcm và hcm", "vi", "tp hcm và tp hcm và tp hcm"},
		// Unaccented posts get unaccented expansions.
		{"ko dc di hn r", "vi", "khong duoc di ha noi roi"},
		{"ns ntn cx dc", "vi", "noi nhu the nao cung duoc"},
		// Ambiguous abbreviations stay as written.
		{"đt việt nam thắng bn bàn", "vi", "đt việt nam thắng bn bàn"},
		// Other languages are left alone.
		{"Vaccines vs autism: k?", "en", ""},
	} {
		words := tokenize(nil, Normalize(c.in), c.hint)
		if c.hint == LangVI {
			words = expandTeencode(words, HasDiacritics(c.in))
		}
		var got []string
		for _, w := range words {
			got = append(got, w.s)
		}
		if c.want == "" {
			if d := Analyze(c.in, c.hint); slices.Contains(d.Tokens, "khong") || slices.Contains(d.Tokens, "voi") {
				t.Errorf("Analyze(%q, %s) expanded teencode: %q", c.in, c.hint, d.Tokens)
			}
			continue
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%q: words %q, want %q", c.in, g, c.want)
		}
	}
	// Through Analyze: the expansion's terms and bigrams match the full
	// spelling's.
	a, b := Analyze("ko dc đi hn", LangVI), Analyze("không được đi hà nội", LangVI)
	if !slices.Equal(a.Tokens, b.Tokens) {
		t.Errorf("teencode tokens %q, spelt out %q", a.Tokens, b.Tokens)
	}
}
