package claims

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
)

// TestDistinctTerms checks distinctTerms against sorting and counting the
// tokens as strings: term order decides float summation order, so it must
// be exactly the string order, including terms sharing long prefixes,
// zero bytes and more than 256 distinct terms.
func TestDistinctTerms(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := []string{"a", "b", "\x00", "_", "ng", "\xc3\xa0", "z"}
	for round := range 300 {
		n := r.IntN(700)
		if round%3 == 0 {
			n = r.IntN(40)
		}
		toks := make([]string, n)
		for i := range toks {
			var b strings.Builder
			b.WriteString([]string{"", "nguoi_d", "abcdefg", "abcdefgh"}[r.IntN(4)])
			for range r.IntN(5) {
				b.WriteString(alpha[r.IntN(len(alpha))])
			}
			toks[i] = b.String()
		}
		sorted, counts, hashes := distinctTerms(toks, nil, nil, nil)
		want := slices.Clone(toks)
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(sorted, want) {
			t.Fatalf("round %d: sorted %q, want %q", round, sorted, want)
		}
		for i, s := range sorted {
			c := 0
			for _, x := range toks {
				if x == s {
					c++
				}
			}
			if int(counts[i]) != c || hashes[i] != hash32(seedTerm, s) {
				t.Fatalf("round %d: %q count %d hash %x, want %d %x", round, s, counts[i], hashes[i], c, hash32(seedTerm, s))
			}
		}
	}
}

// TestTermDict checks the dictionary against a map, with terms longer
// than the 11 bytes a slot holds and terms that differ only past them.
func TestTermDict(t *testing.T) {
	var d termDict
	m := map[string]int32{}
	r := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		return strings.Repeat("x", r.IntN(14)) + string(rune('a'+r.IntN(26))) + strings.Repeat("\x00", r.IntN(2))
	}
	for range 20000 {
		w := word()
		h := hash32(seedTerm, w)
		id, ok := d.lookup(w, h)
		want, wok := m[w]
		if ok != wok || ok && id != want {
			t.Fatalf("lookup(%q) = %d %v, want %d %v", w, id, ok, want, wok)
		}
		if !ok {
			m[w] = d.add(w, h)
		}
	}
	if d.len() != len(m) {
		t.Fatalf("len %d, want %d", d.len(), len(m))
	}
}

// TestKthSmallest checks the quickselect against sorting, on inputs with
// many repeats and signed zeros as first-stage scores have.
func TestKthSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 2000 {
		n := 1 + r.IntN(60)
		a := make([]float32, n)
		for i := range a {
			switch r.IntN(4) {
			case 0:
				a[i] = float32(r.IntN(3))
			case 1:
				a[i] = float32(math.Copysign(0, -1))
			default:
				a[i] = r.Float32()*10 - 2
			}
		}
		want := slices.Clone(a)
		slices.Sort(want)
		k := r.IntN(n)
		if got := kthSmallest(slices.Clone(a), k); got != want[k] {
			t.Fatalf("round %d: kthSmallest(%v, %d) = %v, want %v", round, a, k, got, want[k])
		}
	}
}

// TestGramHashes checks the sliding-window trigram hashing against
// building the padded rune text and hashing each window.
func TestGramHashes(t *testing.T) {
	ref := func(s string) []uint32 {
		n := text.FoldDiacritics(text.Normalize(s))
		b := []rune{' '}
		for _, r := range n {
			if isAlnum(r) {
				b = append(b, r)
			} else if b[len(b)-1] != ' ' {
				b = append(b, ' ')
			}
		}
		if b[len(b)-1] != ' ' {
			b = append(b, ' ')
		}
		var out []uint32
		for i := 0; i+3 <= len(b); i++ {
			h := uint32(2166136261) ^ seedGram*0x9E3779B1
			for _, r := range b[i : i+3] {
				h = (h ^ uint32(r)) * 16777619
			}
			out = append(out, h)
		}
		return out
	}
	for _, s := range []string{"", " ", "a", "ab", "!!", "Người dân ở Hà Nội đã nhận 1.000 đồng",
		"COVID-19 vaccines don't alter DNA!", "  x  y  ", "état, où ça?", "日本語 テキスト", "\xff\xfe bad utf8"} {
		if got, want := gramHashes([]uint32{7}, s), append([]uint32{7}, ref(s)...); !slices.Equal(got, want) {
			t.Errorf("gramHashes(%q) = %v, want %v", s, got, want)
		}
	}
}
