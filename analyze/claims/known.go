package claims

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/trendwatch/trendwatch/schema"
)

// Known holds posts known to restate fact-checks, keyed by the fact's
// claim text rather than its id: ids are per database, while the same
// fact-check imported into another database keeps its wording. The index
// adds them to a fact's own Appearances.
//
// The embedded table (known.tsv.gz) holds the labelled training posts of
// the shared data (CheckThat! 2020 train, 2022 train), so a deployment
// that imports those fact-checks starts with their known appearances, as
// it would after its analysts had confirmed those matches. It is written
// by "trendwatch train match --known-out" from the training qrels only.
type Known struct {
	byKey map[uint64][]string
}

// knownKey identifies a fact's claim: FNV-64a of schema.ClaimText.
func knownKey(f *schema.Fact) uint64 {
	h := fnv.New64a()
	h.Write([]byte(schema.ClaimText(f.Claim, f.Title)))
	return h.Sum64()
}

// For returns the posts known to restate f (none for a nil Known).
func (k *Known) For(f *schema.Fact) []string {
	if k == nil || len(k.byKey) == 0 {
		return nil
	}
	return k.byKey[knownKey(f)]
}

// Len returns how many claims have known appearances.
func (k *Known) Len() int {
	if k == nil {
		return 0
	}
	return len(k.byKey)
}

// NewKnown collects, for each fact, the distinct texts of the labelled
// queries that the qrels say restate it.
func NewKnown(facts []schema.Fact, qs []Query, qrels Qrels) *Known {
	byID := map[string]*schema.Fact{}
	for i := range facts {
		byID[facts[i].ID] = &facts[i]
	}
	k := &Known{byKey: map[uint64][]string{}}
	apps := appearancesOf(qs, qrels, func(Query) bool { return true })
	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs) // facts sharing a claim: a fixed order
	for _, id := range ids {
		texts := apps[id]
		f := byID[id]
		if f == nil {
			continue
		}
		for _, t := range texts {
			k.add(knownKey(f), t)
		}
	}
	return k
}

// add appends t to key's texts unless it is there already.
func (k *Known) add(key uint64, t string) {
	if !slices.Contains(k.byKey[key], t) {
		k.byKey[key] = append(k.byKey[key], t)
	}
}

// Merge adds o's entries to k.
func (k *Known) Merge(o *Known) {
	if k.byKey == nil {
		k.byKey = map[uint64][]string{}
	}
	for key, ts := range o.byKey {
		for _, t := range ts {
			k.add(key, t)
		}
	}
}

// WriteTo writes k as gzipped lines "key<TAB>text" (key in hex; tabs and
// line breaks in the text become spaces), sorted by key, texts in their
// order, so rewriting the same table gives the same bytes.
func (k *Known) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if err := k.writeTSV(zw); err != nil {
		return cw.n, err
	}
	if err := zw.Close(); err != nil {
		return cw.n, fmt.Errorf("cannot write known appearances: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (k *Known) writeTSV(w io.Writer) error {
	keys := make([]uint64, 0, len(k.byKey))
	for key := range k.byKey {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	bw := bufio.NewWriter(w)
	flat := strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")
	for _, key := range keys {
		for _, t := range k.byKey[key] {
			if _, err := fmt.Fprintf(bw, "%016x\t%s\n", key, flat.Replace(t)); err != nil {
				return fmt.Errorf("cannot write known appearances: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("cannot write known appearances: %w", err)
	}
	return nil
}

// ReadKnown reads what WriteTo wrote.
func ReadKnown(r io.Reader) (*Known, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read known appearances: %w", err)
	}
	k := &Known{byKey: map[uint64][]string{}}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		hexKey, t, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return nil, fmt.Errorf("known appearances line %d: want key<TAB>text", line)
		}
		key, err := strconv.ParseUint(hexKey, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("known appearances line %d: bad key %q", line, hexKey)
		}
		k.byKey[key] = append(k.byKey[key], t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read known appearances: %w", err)
	}
	return k, nil
}

//go:embed known.tsv.gz
var knownGz []byte

// EmbeddedKnown returns the committed table of known appearances, or an
// empty one if it is unreadable (TestEmbeddedKnown guards it).
var EmbeddedKnown = sync.OnceValue(func() *Known {
	k, err := ReadKnown(bytes.NewReader(knownGz))
	if err == nil {
		return k
	}
	slog.Error("cannot read the embedded known appearances", "err", err)
	return &Known{}
})
