package claims

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// loadFacts reads a facts file with analyze/facts, failing the test on
// any bad record: the shared research files are expected to be clean.
func loadFacts(tb testing.TB, path string) []schema.Fact {
	tb.Helper()
	fs, bad, err := facts.Load(path, "")
	if err != nil {
		tb.Fatal(err)
	}
	if len(bad) > 0 {
		tb.Fatalf("%s: %d bad records, first %v", path, len(bad), bad[0])
	}
	return fs
}

func readCheckThat2020(tb testing.TB, path string) []schema.Fact { return loadFacts(tb, path) }
func readCheckThat2022(tb testing.TB, path string) []schema.Fact { return loadFacts(tb, path) }

func readQueriesFile(tb testing.TB, path string) []Query {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	qs, err := ReadQueries(f)
	if err != nil {
		tb.Fatal(err)
	}
	return qs
}

func readQrelsFile(tb testing.TB, path string) Qrels {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	q, err := ReadQrels(f)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// benchSet is one edition's facts, queries and qrels.
type benchSet struct {
	facts   []schema.Fact
	queries []Query
	qrels   Qrels
}

func checkThat(tb testing.TB, edition, split string) benchSet {
	tb.Helper()
	dir := filepath.Join(testdata.SharedDir(tb), "checkthat"+edition)
	if edition == "2020" {
		return benchSet{
			facts:   readCheckThat2020(tb, filepath.Join(dir, "verified_claims.docs.tsv")),
			queries: readQueriesFile(tb, filepath.Join(dir, split, "tweets.queries.tsv")),
			qrels:   readQrelsFile(tb, filepath.Join(dir, split, "tweet-vclaim-pairs.qrels")),
		}
	}
	qf := "train-dev.queries.tsv"
	if split == "devtest" {
		qf = "devtest.queries.tsv"
	}
	return benchSet{
		facts:   readCheckThat2022(tb, filepath.Join(dir, "vclaims.jsonl")),
		queries: readQueriesFile(tb, filepath.Join(dir, qf)),
		qrels:   readQrelsFile(tb, filepath.Join(dir, split+".qrels.tsv")),
	}
}

func buildIndex(facts []schema.Fact) *Index {
	ix := NewIndex(Options{})
	for _, f := range facts {
		ix.Upsert(f)
	}
	return ix
}

func runQueries(ix *Index, qs []Query, k int) map[string][]string {
	run := map[string][]string{}
	for _, q := range qs {
		for _, r := range ix.Match(q.Text, "", k) {
			run[q.ID] = append(run[q.ID], r.FactID)
		}
	}
	return run
}
