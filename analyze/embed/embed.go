// Package embed gives texts a dense meaning vector, so a claim matcher can
// see that "kids in cages" and "a photograph depicts a small boy held in a
// cage" say the same thing with few words in common.
//
// The vectors are static token embeddings averaged over a text's tokens,
// the way WordLlama (github.com/dleemiller/WordLlama, MIT licence) computes
// them: its "l2_supercat" table, trained for sentence similarity on the
// Llama 2 tokenizer's 32,000 BPE tokens. A text's vector is the normalised
// sum of its tokens' rows — no network, no matrix products — so embedding a
// post costs a few microseconds on one core, which is what stream matching
// can afford; a transformer encoder costs milliseconds.
//
// The table (wordllama128.bin.gz, 4.4 MB) is the first 128 of the 256
// dimensions (the table is Matryoshka-trained: a prefix is an embedding
// too, and on CheckThat! 2020 claim matching 128 did as well as 256),
// quantised to int8 with one scale per token, plus the tokenizer's
// vocabulary and merges. It is made from the PyPI wheel by
// scripts/export-embeddings.py, which also writes testdata/golden.json:
// token ids and vectors from the reference tokenizer (Hugging Face
// tokenizers), which the tests hold this package's tokenizer to. The
// embedding table derives from Llama 2's token embeddings; the Llama 2
// Community License applies to it as well as WordLlama's MIT licence
// (both in NOTICE).
//
// Texts are lower-cased and split into words (runs of letters, digits and
// marks); each word is tokenised as the Llama 2 tokenizer tokenises
// " word" (SentencePiece-style BPE with byte fallback), with a bounded
// per-model cache of word → tokens because a stream repeats its words.
// Only the standard library is used: the tokenizer is 80 lines and the
// libraries that implement it (cgo bindings to Hugging Face tokenizers,
// or general-purpose ports) are far larger than that.
package embed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:embed wordllama128.bin.gz
var table []byte

// Dim is the length of the embedded model's vectors.
const Dim = 128

// Model is a static token-embedding model and its tokenizer. It is safe for
// concurrent use.
type Model struct {
	dim    int
	pieces map[string]int32
	merges map[[2]int32]merge
	scale  []float32
	vecs   []int8 // vocab × dim

	mu    sync.RWMutex
	cache map[string][]int32

	byID []string // pieces by id, for the tests' spell
}

type merge struct {
	rank, result int32
}

// maxCache bounds the word cache: a stream brings new words (names,
// typos, handles) forever; past the bound words are tokenised each time.
const maxCache = 1 << 17

// byteBase is the id of the <0x00> token; bytes 0x00–0xFF follow it.
const byteBase = 3

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// Default returns the embedded model, loaded once.
func Default() (*Model, error) {
	defaultOnce.Do(func() {
		defaultModel, defaultErr = Load(bytes.NewReader(table))
	})
	return defaultModel, defaultErr
}

// Load reads a model in the format scripts/export-embeddings.py writes.
func Load(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read embedding table: %w", err)
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, 7)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "TWEMB1\n" {
		return nil, errors.New("cannot read embedding table: not a TWEMB1 file")
	}
	var hdr [3]uint32
	if err := binary.Read(br, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("cannot read embedding table header: %w", err)
	}
	nv, dim, nm := int(hdr[0]), int(hdr[1]), int(hdr[2])
	if nv <= byteBase+256 || nv > 1<<20 || dim <= 0 || dim > 4096 || nm > 1<<22 {
		return nil, fmt.Errorf("cannot read embedding table: implausible sizes %d×%d, %d merges", nv, dim, nm)
	}
	m := &Model{dim: dim, pieces: make(map[string]int32, nv), merges: make(map[[2]int32]merge, nm),
		cache: map[string][]int32{}, byID: make([]string, nv)}
	var buf []byte
	for i := range nv {
		var n uint16
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("cannot read vocabulary entry %d: %w", i, err)
		}
		buf = append(buf[:0], make([]byte, n)...)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("cannot read vocabulary entry %d: %w", i, err)
		}
		m.byID[i] = string(buf)
		m.pieces[m.byID[i]] = int32(i)
	}
	if m.byID[byteBase] != "<0x00>" || m.byID[byteBase+255] != "<0xFF>" {
		return nil, fmt.Errorf("cannot read embedding table: byte tokens are not at ids %d–%d", byteBase, byteBase+255)
	}
	mb := make([]uint32, 3*nm)
	if err := binary.Read(br, binary.LittleEndian, mb); err != nil {
		return nil, fmt.Errorf("cannot read merges: %w", err)
	}
	for i := range nm {
		a, b, r := mb[3*i], mb[3*i+1], mb[3*i+2]
		if int(a) >= nv || int(b) >= nv || int(r) >= nv {
			return nil, fmt.Errorf("cannot read merges: merge %d names token %d of %d", i, max(a, b, r), nv)
		}
		m.merges[[2]int32{int32(a), int32(b)}] = merge{rank: int32(i), result: int32(r)}
	}
	m.scale = make([]float32, nv)
	if err := binary.Read(br, binary.LittleEndian, m.scale); err != nil {
		return nil, fmt.Errorf("cannot read scales: %w", err)
	}
	m.vecs = make([]int8, nv*dim)
	if err := binary.Read(br, binary.LittleEndian, m.vecs); err != nil {
		return nil, fmt.Errorf("cannot read vectors: %w", err)
	}
	return m, nil
}

// Dim is the length of the model's vectors.
func (m *Model) Dim() int { return m.dim }

// Embed writes the unit-length embedding of s into dst (len Dim) and
// reports whether s had any word; without one dst is all zeros.
func (m *Model) Embed(s string, dst []float32) bool {
	dst = dst[:m.dim]
	clear(dst)
	found := false
	var buf [64]byte
	w := buf[:0]
	for i, r := range s {
		if isWord(r) {
			w = utf8.AppendRune(w, unicode.ToLower(r))
			if i+utf8.RuneLen(r) < len(s) {
				continue
			}
		}
		if len(w) > 0 {
			found = m.add(w, dst) || found
			w = w[:0]
		}
	}
	var n float64
	for _, v := range dst {
		n += float64(v) * float64(v)
	}
	if n == 0 {
		return false
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range dst {
		dst[i] *= inv
	}
	return found
}

// add adds the rows of w's tokens to dst.
func (m *Model) add(w []byte, dst []float32) bool {
	ids := m.tokens(w)
	for _, id := range ids {
		row := m.vecs[int(id)*m.dim : int(id+1)*m.dim]
		sc := m.scale[id]
		for i, v := range row {
			dst[i] += sc * float32(v)
		}
	}
	return len(ids) > 0
}

func isWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func (m *Model) tokens(w []byte) []int32 {
	m.mu.RLock()
	ids, ok := m.cache[string(w)] // no allocation: the compiler looks up by the bytes
	m.mu.RUnlock()
	if ok {
		return ids
	}
	ws := string(w)
	ids = m.bpe(ws)
	m.mu.Lock()
	if len(m.cache) < maxCache {
		m.cache[ws] = ids
	}
	m.mu.Unlock()
	return ids
}

// bpe tokenises "▁"+w: one symbol per character (a character outside the
// vocabulary becomes its UTF-8 bytes' tokens), then the adjacent pair with
// the lowest merge rank is merged, leftmost first, until none merges.
func (m *Model) bpe(w string) []int32 {
	if !utf8.ValidString(w) {
		w = strings.ToValidUTF8(w, "\uFFFD")
	}
	syms := make([]int32, 0, len(w)+1)
	var tmp [utf8.UTFMax]byte
	for _, r := range "▁" + w {
		n := utf8.EncodeRune(tmp[:], r)
		if id, ok := m.pieces[string(tmp[:n])]; ok {
			syms = append(syms, id)
			continue
		}
		for _, c := range tmp[:n] {
			syms = append(syms, byteBase+int32(c))
		}
	}
	for len(syms) > 1 {
		best, at := merge{rank: math.MaxInt32}, -1
		for i := 0; i+1 < len(syms); i++ {
			if mg, ok := m.merges[[2]int32{syms[i], syms[i+1]}]; ok && mg.rank < best.rank {
				best, at = mg, i
			}
		}
		if at < 0 {
			break
		}
		syms[at] = best.result
		syms = append(syms[:at+1], syms[at+2:]...)
	}
	return syms
}

// Quantized is a unit vector stored in int8 with one scale: a fact's
// vector at a quarter of float32's memory, for a cosine within ~0.002.
type Quantized struct {
	Scale float32
	V     []int8
}

// Quantize stores v (a unit vector) as int8.
func Quantize(v []float32) Quantized {
	var mx float32
	for _, x := range v {
		mx = max(mx, x, -x)
	}
	q := Quantized{V: make([]int8, len(v))}
	if mx == 0 {
		return q
	}
	q.Scale = mx / 127
	for i, x := range v {
		q.V[i] = int8(math.Round(float64(x / q.Scale)))
	}
	return q
}

// Cos is the cosine of the unit vector a and the quantised unit vector q;
// 0 when either is empty (a text without words).
func (q Quantized) Cos(a []float32) float64 {
	if len(q.V) == 0 || len(a) < len(q.V) {
		return 0
	}
	var s float32
	for i, v := range q.V {
		s += a[i] * float32(v)
	}
	return float64(s * q.Scale)
}
