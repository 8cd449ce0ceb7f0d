package embed

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"
)

type golden struct {
	Dim   int `json:"dim"`
	Cases []struct {
		Text  string    `json:"text"`
		Words []string  `json:"words"`
		IDs   [][]int32 `json:"ids"`
		Vec   []float32 `json:"vec"`
	} `json:"cases"`
}

func model(t testing.TB) *Model {
	t.Helper()
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The tokenizer and the pooled vectors match the reference implementation
// (Hugging Face tokenizers over the same table), word for word.
func TestGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	m := model(t)
	if g.Dim != m.Dim() || m.Dim() != Dim {
		t.Fatalf("dim %d, golden %d, const %d", m.Dim(), g.Dim, Dim)
	}
	if len(g.Cases) < 5 {
		t.Fatalf("only %d golden cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		var words []string
		forWords(c.Text, nil, func(w []byte) { words = append(words, string(w)) })
		if !slices.Equal(words, c.Words) {
			t.Errorf("%q: words %q, want %q", c.Text, words, c.Words)
			continue
		}
		for i, w := range words {
			if got := m.Tokens(w); !slices.Equal(got, c.IDs[i]) {
				t.Errorf("%q: tokens %v, want %v", w, got, c.IDs[i])
			}
		}
		v := make([]float32, m.Dim())
		m.Embed(c.Text, v)
		for i := range v {
			if math.Abs(float64(v[i]-c.Vec[i])) > 1e-4 {
				t.Errorf("%q: dim %d = %v, want %v", c.Text, i, v[i], c.Vec[i])
				break
			}
		}
	}
}

func TestSimilarityOrders(t *testing.T) {
	m := model(t)
	emb := func(s string) []float32 {
		v := make([]float32, m.Dim())
		m.Embed(s, v)
		return v
	}
	q := emb("Kids in cages. This is what happens when a government believes people are illegal")
	near := emb("A photograph depicts a small boy detained by ICE being held in a cage")
	far := emb("The stock market closed higher on Tuesday after strong earnings")
	if Cos(q, near) <= Cos(q, far)+0.1 {
		t.Errorf("cos near %.3f, far %.3f", Cos(q, near), Cos(q, far))
	}
	if c := Cos(near, near); math.Abs(c-1) > 1e-5 {
		t.Errorf("self cosine %v", c)
	}
	if c := Quantize(near).Cos(q) - Cos(near, q); math.Abs(c) > 0.005 {
		t.Errorf("quantised cosine off by %v", c)
	}
	// Case and punctuation do not change the vector.
	if c := Cos(emb("Kids, in CAGES!"), emb("kids in cages")); c < 0.99999 {
		t.Errorf("case/punctuation changed the vector: cos %v", c)
	}
}

func TestEmptyAndWordless(t *testing.T) {
	m := model(t)
	v := make([]float32, m.Dim())
	for _, s := range []string{"", "  ", "!!! ... ???", "🔥🔥"} {
		if m.Embed(s, v) {
			t.Errorf("%q has words", s)
		}
		for _, x := range v {
			if x != 0 {
				t.Fatalf("%q: non-zero vector", s)
			}
		}
		if c := Quantize(v).Cos(v); c != 0 {
			t.Errorf("%q: cos %v", s, c)
		}
	}
}

func TestLoadRejectsBadTables(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	// Truncations of the real table at several points, and wrong headers.
	var raw bytes.Buffer
	zr, _ := gzip.NewReader(bytes.NewReader(table))
	raw.ReadFrom(zr)
	full := raw.Bytes()
	cases := map[string][]byte{
		"not gzip":      []byte("TWEMB1\n"),
		"bad magic":     gz([]byte("NOTEMB\n\x00\x00\x00\x00")),
		"huge sizes":    gz(append([]byte("TWEMB1\n"), 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0)),
		"cut in header": gz(full[:12]),
		"cut in vocab":  gz(full[:5000]),
		"cut in merges": gz(full[:len(full)/8]),
		"cut in vecs":   gz(full[:len(full)-10]),
	}
	for name, b := range cases {
		if _, err := Load(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := Load(bytes.NewReader(gz(full))); err != nil {
		t.Errorf("re-gzipped table: %v", err)
	}
}

// The cache does not change results, and the same word from many
// goroutines gets the same tokens.
func TestConcurrentTokens(t *testing.T) {
	m := model(t)
	want := m.bpe("misinformation")
	done := make(chan []int32)
	for range 8 {
		go func() { done <- m.Tokens("misinformation") }()
	}
	for range 8 {
		if got := <-done; !slices.Equal(got, want) {
			t.Fatalf("tokens %v, want %v", got, want)
		}
	}
}

func FuzzEmbed(f *testing.F) {
	for _, s := range []string{"", "Kids in cages", "Ông Nguyễn Văn A", "l'école", "\xff\xfe", "a\u0301", "🦁 zxq 中文"} {
		f.Add(s)
	}
	m := model(f)
	f.Fuzz(func(t *testing.T, s string) {
		v := make([]float32, m.Dim())
		has := m.Embed(s, v)
		var n float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%q: %v in vector", s, x)
			}
			n += float64(x) * float64(x)
		}
		if has && math.Abs(n-1) > 1e-4 || !has && n != 0 {
			t.Fatalf("%q: has words %v, norm² %v", s, has, n)
		}
		// Every word tokenises to ids of the vocabulary, and the tokens
		// spell the word back ("▁" + word, bytes as bytes).
		forWords(s, nil, func(wb []byte) {
			w := string(wb)
			ids := m.Tokens(w)
			if len(ids) == 0 {
				t.Fatalf("%q: no tokens", w)
			}
			if got := m.spell(ids); got != "▁"+toValid(w) {
				t.Fatalf("%q: tokens spell %q", w, got)
			}
		})
		w := make([]float32, m.Dim())
		m.Embed(s, w)
		if !slices.Equal(v, w) {
			t.Fatalf("%q: not deterministic", s)
		}
		// Embed's inline word loop splits as forWords does.
		u := make([]float32, m.Dim())
		forWords(s, nil, func(w []byte) { m.add(w, u) })
		var un float64
		for _, x := range u {
			un += float64(x) * float64(x)
		}
		for i := range u {
			if un > 0 && math.Abs(float64(u[i])/math.Sqrt(un)-float64(v[i])) > 1e-5 {
				t.Fatalf("%q: Embed and forWords disagree at %d", s, i)
			}
		}
	})
}

func toValid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}

func TestEmbedDoesNotAllocate(t *testing.T) {
	m := model(t)
	v := make([]float32, m.Dim())
	s := "A disturbing photograph depicts a small boy who was detained by ICE in 2018 being held in a cage."
	m.Embed(s, v) // fills the cache
	if n := testing.AllocsPerRun(100, func() { m.Embed(s, v) }); n != 0 {
		t.Errorf("%v allocations per Embed of cached words", n)
	}
}

func BenchmarkEmbed(b *testing.B) {
	m := model(b)
	v := make([]float32, m.Dim())
	s := "Trump, talking about migrants on the southern border: “How do you stop these people?” Crowd: “Shoot them.” Trump, chuckling: “That’s only in the Panhandle you can get away with that stuff.”"
	b.ReportAllocs()
	for b.Loop() {
		m.Embed(s, v)
	}
}

// Test helpers: the reference word splitter Embed's inline loop is held
// to, token look-up by string, cosine of float vectors, and spelling.

// forWords calls f with each lower-cased word of s, a run of letters,
// digits, marks and underscores (Python's \w+ on the lower-cased text),
// built in buf. (Embed has the same loop inline: a closure there allocates.)
func forWords(s string, buf []byte, f func([]byte)) {
	w := buf[:0]
	for _, r := range s {
		if isWord(r) {
			w = utf8.AppendRune(w, unicode.ToLower(r))
			continue
		}
		if len(w) > 0 {
			f(w)
			w = w[:0]
		}
	}
	if len(w) > 0 {
		f(w)
	}
}

// Tokens returns the token ids of word as the Llama 2 tokenizer gives
// them for " word".
func (m *Model) Tokens(word string) []int32 {
	return m.tokens([]byte(word))
}

// Cos is the cosine of two unit vectors.
func Cos(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// spell concatenates the pieces of ids, byte tokens as their bytes.
func (m *Model) spell(ids []int32) string {
	var b []byte
	for _, id := range ids {
		if id >= byteBase && id < byteBase+256 {
			b = append(b, byte(id-byteBase))
			continue
		}
		b = append(b, m.byID[id]...)
	}
	return string(b)
}
