package claims

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// Background is a committed table of document frequencies per language,
// built from reference corpora (fact-check claims, news). BM25F idf is
// computed on background + live collection together, so a term's weight —
// and hence every feature and the calibrated score — is about the same
// whether the index holds one fact or a hundred thousand. Without it, the
// single fact of a fresh deployment makes every term "rare in one of one"
// and scores collapse.
type Background struct {
	// Docs is the number of background documents per language.
	Docs [nBgLangs]int
	// FactDocs and AvgLen describe the fact documents among them: the
	// average analysed length of each BM25F field, mixed with the live
	// collection's for length normalisation.
	FactDocs int
	AvgLen   [nFields]float64
	// Command records how the table was built.
	Command string
	df      map[string][nBgLangs]int32
}

// Languages the background distinguishes. A term's idf for a post in one
// of them uses that language's documents; any other post uses all.
const (
	bgEN = iota
	bgFR
	bgVI
	nBgLangs
)

var bgLangNames = [nBgLangs]string{"en", "fr", "vi"}

func bgLang(lang string) int {
	for i, l := range bgLangNames {
		if l == lang {
			return i
		}
	}
	return -1
}

//go:embed background.tsv.gz
var embeddedBackground []byte

// EmbeddedBackground returns the committed background table, or an empty
// one if the embedded file is unreadable (TestEmbeddedBackground guards it;
// an empty background falls back to live statistics only).
func EmbeddedBackground() *Background { return embeddedBG() }

// embeddedBG parses the embedded table once; a Background is read-only
// after parsing, so every Index shares it.
var embeddedBG = sync.OnceValue(func() *Background {
	bg, err := ParseBackground(bytes.NewReader(embeddedBackground))
	if err != nil {
		return &Background{df: map[string][nBgLangs]int32{}}
	}
	return bg
})

// BackgroundText is one non-fact document (a news item, a post) for the
// background table.
type BackgroundText struct {
	Lang string // "vi", "fr", "en", or "" to detect
	Text string
}

// BuildBackground counts, per language, in how many documents each term
// occurs. Facts are analysed exactly as Upsert does; texts as Match does.
// Terms in fewer than minDF documents of every language are dropped: an
// absent term is treated as unseen, which for idf is nearly the same.
func BuildBackground(facts []schema.Fact, texts []BackgroundText, minDF int) *Background {
	bg := &Background{df: map[string][nBgLangs]int32{}}
	count := func(lang string, terms []string) {
		li := bgLang(lang)
		if li < 0 {
			return
		}
		bg.Docs[li]++
		for _, t := range terms {
			c := bg.df[t]
			c[li]++
			bg.df[t] = c
		}
	}
	var total [nFields]float64
	for _, f := range facts {
		p := prepare(f, nil)
		count(p.lang, sortedKeys(p.tf))
		for i := range nFields {
			total[i] += float64(p.fieldLen[i])
		}
		bg.FactDocs++
	}
	for i := range nFields {
		bg.AvgLen[i] = total[i] / float64(max(bg.FactDocs, 1))
	}
	for _, t := range texts {
		d := text.Analyze(t.Text, t.Lang)
		count(d.Lang, uniq(d.Tokens))
	}
	for t, c := range bg.df {
		if slices.Max(c[:]) < int32(minDF) {
			delete(bg.df, t)
		}
	}
	return bg
}

// Terms returns the number of terms in the table.
func (bg *Background) Terms() int { return len(bg.df) }

// DF returns the background document frequency of term in lang ("" or an
// unknown language: all languages).
func (bg *Background) DF(term, lang string) int {
	c := bg.df[term]
	if li := bgLang(lang); li >= 0 {
		return int(c[li])
	}
	return int(c[bgEN] + c[bgFR] + c[bgVI])
}

const bgMagic = "# trendwatch claims background v1"

// WriteTo writes the table as gzipped TSV (sorted, so rebuilding from the
// same inputs gives the same bytes).
func (bg *Background) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	fmt.Fprintln(&buf, bgMagic)
	fmt.Fprintf(&buf, "command\t%s\n", strings.ReplaceAll(bg.Command, "\n", " "))
	fmt.Fprintf(&buf, "docs\t%d\t%d\t%d\n", bg.Docs[bgEN], bg.Docs[bgFR], bg.Docs[bgVI])
	fmt.Fprintf(&buf, "facts\t%d\t%.4f\t%.4f\t%.4f\n", bg.FactDocs, bg.AvgLen[fClaim], bg.AvgLen[fTitle], bg.AvgLen[fSummary])
	for _, t := range sortedKeys(bg.df) {
		c := bg.df[t]
		fmt.Fprintf(&buf, "%s\t%d\t%d\t%d\n", t, c[bgEN], c[bgFR], c[bgVI])
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return 0, fmt.Errorf("cannot compress background: %w", err)
	}
	n, err := zw.Write(buf.Bytes())
	if err != nil {
		return int64(n), fmt.Errorf("cannot write background: %w", err)
	}
	if err := zw.Close(); err != nil {
		return int64(n), fmt.Errorf("cannot write background: %w", err)
	}
	return int64(n), nil
}

// ParseBackground reads a table written by WriteTo.
func ParseBackground(r io.Reader) (*Background, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("cannot decompress background: %w", err)
	}
	defer zr.Close()
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	bg := &Background{df: map[string][nBgLangs]int32{}}
	line := 0
	inTerms := false // header keys are only recognised before the first term, so a term "docs" stays a term
	for sc.Scan() {
		line++
		s := sc.Text()
		if line == 1 {
			if s != bgMagic {
				return nil, fmt.Errorf("background: not a background table (first line %.40q)", s)
			}
			continue
		}
		f := strings.Split(s, "\t")
		switch {
		case !inTerms && f[0] == "command" && len(f) == 2:
			bg.Command = f[1]
		case !inTerms && f[0] == "docs" && len(f) == 4:
			for i := range nBgLangs {
				if bg.Docs[i], err = strconv.Atoi(f[i+1]); err != nil || bg.Docs[i] < 0 {
					return nil, fmt.Errorf("background line %d: bad document count %q", line, f[i+1])
				}
			}
		case !inTerms && f[0] == "facts" && len(f) == 5:
			if bg.FactDocs, err = strconv.Atoi(f[1]); err != nil || bg.FactDocs < 0 {
				return nil, fmt.Errorf("background line %d: bad fact count %q", line, f[1])
			}
			for i := range nFields {
				v, err := strconv.ParseFloat(f[i+2], 64)
				if err != nil || v < 0 || v != v {
					return nil, fmt.Errorf("background line %d: bad average length %q", line, f[i+2])
				}
				bg.AvgLen[i] = v
			}
		case len(f) == 4:
			inTerms = true
			var c [nBgLangs]int32
			for i := range nBgLangs {
				v, err := strconv.ParseInt(f[i+1], 10, 32)
				if err != nil || v < 0 || int(v) > bg.Docs[i] {
					return nil, fmt.Errorf("background line %d: bad frequency %q for %q", line, f[i+1], f[0])
				}
				c[i] = int32(v)
			}
			bg.df[f[0]] = c
		default:
			return nil, fmt.Errorf("background line %d: want term<TAB>en<TAB>fr<TAB>vi", line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read background: %w", err)
	}
	return bg, nil
}
