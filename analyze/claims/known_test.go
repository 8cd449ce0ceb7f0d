package claims

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/text"
	"github.com/trendwatch/trendwatch/schema"
)

// A fact's known appearances lift it for a post restating one of them in
// words the fact-check itself does not use.
func TestAppearancesLiftRestatements(t *testing.T) {
	facts := []schema.Fact{
		{ID: "1", Claim: "A photograph shows columns of tanks in President Kennedy's inaugural parade.", Lang: "en"},
		{ID: "2", Claim: "Tanks and missile launchers were requested for the presidential parade.", Lang: "en"},
		{ID: "3", Claim: "The parade route was closed for tanks last year.", Lang: "en"},
	}
	post := "JFK's 1961 parade had four nuclear missiles rolling down Pennsylvania Avenue, unbelievable footage"
	score := func(ix *Index, id string) (float64, int) {
		for i, r := range ix.Match(post, "", 10) {
			if r.FactID == id {
				return r.Score, i + 1
			}
		}
		return 0, 0
	}
	plain := NewIndex(Options{Known: &Known{}})
	for _, f := range facts {
		plain.Upsert(f)
	}
	before, _ := score(plain, "1")

	withApp := NewIndex(Options{Known: &Known{}})
	f1 := facts[0]
	f1.Appearances = []string{"Four nuclear missiles rolled down Pennsylvania Avenue in JFK's 1961 inaugural parade"}
	withApp.Upsert(f1)
	for _, f := range facts[1:] {
		withApp.Upsert(f)
	}
	after, rank := score(withApp, "1")
	if after <= before || rank != 1 {
		t.Errorf("fact 1 with a matching appearance: score %.4f (without %.4f), rank %d; want higher and first", after, before, rank)
	}

	// The same appearance through a Known table keyed by the claim text,
	// whatever its case and spacing.
	k := NewKnown([]schema.Fact{{ID: "x", Claim: strings.ToUpper(facts[0].Claim) + "  "}},
		[]Query{{ID: "q1", Text: f1.Appearances[0]}}, Qrels{"q1": {"x": true}})
	viaKnown := NewIndex(Options{Known: k})
	for _, f := range facts {
		viaKnown.Upsert(f)
	}
	if got, _ := score(viaKnown, "1"); got != after {
		t.Errorf("appearance from Known: score %.4f, from the fact %.4f; want equal", got, after)
	}
	// Known appearances are matching evidence, not part of the fact.
	if f, _ := viaKnown.Get("1"); len(f.Appearances) != 0 {
		t.Errorf("Get returns known appearances %q", f.Appearances)
	}
}

// Only the last maxAppearances count, and deleting a fact with
// appearances leaves the index as if it had never been added.
func TestAppearancesBoundedAndDeleted(t *testing.T) {
	ix := NewIndex(Options{Known: &Known{}})
	ix.Upsert(schema.Fact{ID: "base", Claim: "Vaccines contain microchips for tracking people.", Lang: "en"})
	base := ix.Match("microchips in vaccines track people", "", 5)

	var apps []string
	for i := range maxAppearances + 5 {
		apps = append(apps, fmt.Sprintf("zebra number %s crossing", strings.Repeat("x", i+1)))
	}
	ix.Upsert(schema.Fact{ID: "z", Claim: "A zebra escaped from the zoo.", Lang: "en", Appearances: apps})
	seen := ix.sets[ix.byID["z"]].set(setSeen)
	for i, a := range apps {
		kept := i >= len(apps)-maxAppearances
		for _, h := range hashSet(seedTerm, text.Analyze(a, "").Tokens) {
			if _, found := slices.BinarySearch(seen, h); !found && kept {
				t.Errorf("appearance %d (%q) is among the last %d but its terms are not kept", i, a, maxAppearances)
			}
		}
		x := hash32(seedTerm, strings.Repeat("x", i+1))
		if _, found := slices.BinarySearch(seen, x); found != kept {
			t.Errorf("appearance %d: its own term kept %v, want %v", i, found, kept)
		}
	}
	ix.Delete("z")
	if got := ix.Match("microchips in vaccines track people", "", 5); !slices.Equal(ids(got), ids(base)) || got[0].Score != base[0].Score {
		t.Errorf("after delete: %v, want %v", got, base)
	}
}

func ids(rs []Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.FactID)
	}
	return out
}

// Train's labelled posts are the other folds' appearances, never their
// own; synthetic sets give none.
func TestAppearancesOfExcludesOwnFold(t *testing.T) {
	qs := []Query{{ID: "a", Text: "post a"}, {ID: "b", Text: "post b"}, {ID: "c", Text: "post b"}, {ID: "d", Text: " "}}
	qrels := Qrels{"a": {"f1": true}, "b": {"f1": true, "f2": true}, "c": {"f1": true}, "d": {"f1": true}}
	got := appearancesOf(qs, qrels, func(q Query) bool { return q.ID != "a" })
	if !slices.Equal(got["f1"], []string{"post b"}) || !slices.Equal(got["f2"], []string{"post b"}) {
		t.Errorf("appearances %v: want post b once for f1 and f2, never the held-out post a or a blank one", got)
	}
}

func TestKnownRoundTrip(t *testing.T) {
	facts := []schema.Fact{{ID: "1", Claim: "Claim one"}, {ID: "2", Title: "Only a title"}}
	qs := []Query{{ID: "a", Text: "first\tpost\nwith breaks"}, {ID: "b", Text: "second post"}}
	k := NewKnown(facts, qs, Qrels{"a": {"1": true, "2": true}, "b": {"1": true}, "zz": {"1": true}})
	var buf, again bytes.Buffer
	if _, err := k.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := ReadKnown(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteTo(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("rewriting a read table changed its bytes")
	}
	if got := r.For(&schema.Fact{Claim: "claim  ONE"}); !slices.Equal(got, []string{"first post with breaks", "second post"}) {
		t.Errorf("For(claim one) = %q", got)
	}
	if got := r.For(&schema.Fact{Title: "only a title"}); !slices.Equal(got, []string{"first post with breaks"}) {
		t.Errorf("For(title) = %q", got)
	}
	if got := r.For(&schema.Fact{Claim: "another claim"}); got != nil {
		t.Errorf("For(unknown) = %q", got)
	}
}

// Facts sharing a claim under several ids (CheckThat! lists some twice)
// give one entry whose texts come in a fixed order, run after run.
func TestKnownDeterministic(t *testing.T) {
	var facts []schema.Fact
	var qs []Query
	qrels := Qrels{}
	for i := range 20 {
		id := fmt.Sprint(i)
		facts = append(facts, schema.Fact{ID: id, Claim: "the same claim"})
		qs = append(qs, Query{ID: "q" + id, Text: "post " + id})
		qrels["q"+id] = map[string]bool{id: true}
	}
	var first []byte
	for range 10 {
		var b bytes.Buffer
		if _, err := NewKnown(facts, qs, qrels).WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b.Bytes()
		} else if !bytes.Equal(first, b.Bytes()) {
			t.Fatal("the same input wrote different tables")
		}
	}
}

func TestReadKnownRejectsBadInput(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	for name, in := range map[string][]byte{
		"not gzip": []byte("0000000000000001\tpost\n"),
		"no tab":   gz("0000000000000001 post\n"),
		"bad key":  gz("xyz\tpost\n"),
	} {
		if _, err := ReadKnown(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The committed table loads and covers the training facts it was built
// from: CheckThat! 2020 train's first pair (tweet 1 → claim 394).
func TestEmbeddedKnown(t *testing.T) {
	k := EmbeddedKnown()
	if k.Len() < 500 {
		t.Fatalf("embedded known appearances cover %d claims, want the ~660 of the training qrels", k.Len())
	}
	set := checkThat(t, "2020", "train")
	var claim *schema.Fact
	for i := range set.facts {
		if set.facts[i].ID == "394" {
			claim = &set.facts[i]
		}
	}
	var post string
	for _, q := range set.queries {
		if q.ID == "1" {
			post = q.Text
		}
	}
	if claim == nil || post == "" {
		t.Fatal("CheckThat! 2020 train lacks claim 394 or tweet 1")
	}
	if !slices.ContainsFunc(k.For(claim), func(s string) bool { return schema.FoldText(s) == schema.FoldText(post) }) {
		t.Errorf("claim 394's known appearances %q lack train tweet 1 %q", k.For(claim), post)
	}
	// No dev tweet: the table is built from training posts only.
	dev := checkThat(t, "2020", "dev")
	all := map[string]bool{}
	for _, ts := range k.byKey {
		for _, s := range ts {
			all[schema.FoldText(s)] = true
		}
	}
	for _, q := range dev.queries {
		if all[schema.FoldText(q.Text)] {
			t.Fatalf("dev tweet %s is a known appearance: %q", q.ID, q.Text)
		}
	}
}

func FuzzReadKnown(f *testing.F) {
	var b bytes.Buffer
	NewKnown([]schema.Fact{{ID: "1", Claim: "c"}}, []Query{{ID: "q", Text: "t"}}, Qrels{"q": {"1": true}}).WriteTo(&b)
	f.Add(b.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ReadKnown(bytes.NewReader(in))
		if err != nil {
			return
		}
		// What reads writes back and reads the same.
		var out bytes.Buffer
		if _, err := k.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		k2, err := ReadKnown(&out)
		if err != nil {
			t.Fatalf("cannot read what was written: %v", err)
		}
		if k2.Len() != k.Len() {
			t.Fatalf("%d claims after a round trip, want %d", k2.Len(), k.Len())
		}
	})
}

// A fact whose own words BM25F ranks below the first-stage depth is still
// a candidate when its known appearances hold the post's words, and stays
// findable through deletes and a compaction that renumbers documents.
func TestAppearancesRecallFacts(t *testing.T) {
	post := "Hurricane shelters in Houston are turning away undocumented families, volunteers say"
	decoys := func(ix *Index, n int) {
		for i := range n {
			ix.Upsert(schema.Fact{ID: fmt.Sprintf("d%04d", i), Lang: "en",
				Claim: fmt.Sprintf("Houston hurricane shelters story number %d about volunteers and families", i)})
		}
	}
	target := schema.Fact{ID: "t", Lang: "en", Claim: "Immigration agents checked papers at Harvey evacuation centres."}
	rank := func(ix *Index) int {
		for i, r := range ix.Match(post, "", 50) {
			if r.FactID == "t" {
				return i + 1
			}
		}
		return 0
	}
	plain := NewIndex(Options{Known: &Known{}, Candidates: 5})
	decoys(plain, 30)
	plain.Upsert(target)
	if r := rank(plain); r != 0 {
		t.Fatalf("without appearances the target is found at rank %d: the test needs it out of the first stage", r)
	}

	ix := NewIndex(Options{Known: &Known{}, Candidates: 5})
	decoys(ix, 30)
	withApp := target
	withApp.Appearances = []string{"Houston hurricane shelters turning away undocumented families!!"}
	ix.Upsert(withApp)
	if r := rank(ix); r == 0 {
		t.Fatal("a fact whose appearance restates the post is not a candidate")
	}
	// An appearance holding too little of the post recalls nothing.
	weak := target
	weak.Appearances = []string{"undocumented"}
	ix.Upsert(weak)
	if r := rank(ix); r != 0 {
		t.Errorf("an appearance sharing one word recalls the fact (rank %d)", r)
	}
	ix.Upsert(withApp)

	// Enough deletes to compact: the recall postings follow the new
	// document numbers, and a deleted fact's are gone.
	for i := range 30 {
		ix.Delete(fmt.Sprintf("d%04d", i))
	}
	decoys(ix, 1100)
	for i := range 1100 {
		ix.Delete(fmt.Sprintf("d%04d", i))
	}
	if len(ix.facts) > 1000 {
		t.Fatalf("no compaction after 1130 deletes (%d documents)", len(ix.facts))
	}
	decoys(ix, 30)
	if r := rank(ix); r == 0 {
		t.Error("after compaction the appearance no longer recalls its fact")
	}
	ix.Delete("t")
	if r := rank(ix); r != 0 {
		t.Errorf("deleted fact returned at rank %d", r)
	}
}
