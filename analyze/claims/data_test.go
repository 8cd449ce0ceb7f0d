package claims

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/internal/testdata"
	"github.com/trendwatch/trendwatch/schema"
)

// The CheckThat! readers below are private to the tests until
// analyze/facts (owned elsewhere) provides facts.Load.

func readCheckThat2020(tb testing.TB, path string) []schema.Fact {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
	var out []schema.Fact
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if len(rec) < 3 || rec[1] == "vclaim" {
			continue
		}
		out = append(out, schema.Fact{ID: rec[0], Claim: rec[1], Title: rec[2], Lang: "en"})
	}
	return out
}

func readCheckThat2022(tb testing.TB, path string) []schema.Fact {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []schema.Fact
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r struct {
			Title, Subtitle, Author, Date string
			ID                            string `json:"vclaim_id"`
			Claim                         string `json:"vclaim"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			tb.Fatal(err)
		}
		f := schema.Fact{ID: r.ID, Claim: r.Claim, Title: r.Title, Summary: r.Subtitle, Publisher: r.Author, Lang: "en"}
		f.Date, _ = time.Parse("2 January 2006", r.Date)
		out = append(out, f)
	}
	return out
}

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
