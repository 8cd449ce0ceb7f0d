package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/internal/testdata"
)

func TestMatchCommandGolden(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--top", "2"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want, err := os.ReadFile(filepath.Join(dir, "run.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("run differs from golden:\n%s\nwant:\n%s", out.String(), want)
	}
	// Same input, same output: the run is deterministic.
	var again bytes.Buffer
	runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--top", "2"}, &again, &errb)
	if again.String() != out.String() {
		t.Error("second run differs")
	}
}

func TestEvalMatchCommand(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"eval", "match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--qrels", filepath.Join(dir, "qrels.txt")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, w := range []string{"MAP@1\t1.0000", "MAP@5\t1.0000", "MRR\t1.0000", "queries\t3"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

func TestMatchCommandErrors(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := func(wantCode int, wantMsg string, args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runMain(context.Background(), append([]string{"match"}, args...), &out, &errb)
		if code != wantCode || !strings.Contains(errb.String(), wantMsg) {
			t.Errorf("match %v: exit %d, stderr %q; want %d and %q", args, code, errb.String(), wantCode, wantMsg)
		}
	}
	f(2, "--facts and --queries are required")
	f(1, "cannot read facts", "--facts", "/nonexistent/facts", "--queries", filepath.Join(dir, "queries.tsv"))
	f(1, "cannot open queries", "--facts", filepath.Join(dir, "facts.jsonl"), "--queries", "/nonexistent/q")
	f(1, "no known facts format", "--facts", bad, "--queries", filepath.Join(dir, "queries.tsv"))
	f(2, "--top must be positive", "--facts", bad, "--queries", "x", "--top", "0")
}

// The run echoes query ids exactly as written: TREC tools join on them.
func TestMatchCommandKeepsQueryIDs(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	qs := filepath.Join(t.TempDir(), "q.tsv")
	in := "id\ttext\nQ1\tBill Gates microchips in the vaccine\nTweet-ABC_7\tdrinking bleach cures covid\n"
	if err := os.WriteFile(qs, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", qs, "--top", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		ids = append(ids, strings.Fields(line)[0])
	}
	if strings.Join(ids, ",") != "Q1,Tweet-ABC_7" {
		t.Errorf("query ids %v, want [Q1 Tweet-ABC_7]:\n%s", ids, out.String())
	}
}

// train background builds a table the claims index can load.
func TestTrainBackgroundCommand(t *testing.T) {
	dir := t.TempDir()
	texts := filepath.Join(dir, "news.jsonl")
	if err := os.WriteFile(texts, []byte(`{"title":"Hà Nội cấm xe máy","summary":"Hà Nội sẽ cấm xe máy từ năm 2030."}`+"\n"+
		`{"title":"Hà Nội mưa lớn","summary":"Mưa lớn ở Hà Nội."}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bg.tsv.gz")
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"train", "background", "--facts", filepath.Join("testdata", "match", "facts.jsonl"),
		"--texts", texts, "--min-df", "1", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bg, err := claims.ParseBackground(f)
	if err != nil {
		t.Fatal(err)
	}
	if bg.Docs[2] != 2 || bg.DF("ha_noi", "vi") != 2 || bg.FactDocs != 4 || !strings.Contains(bg.Command, "--min-df 1") {
		t.Errorf("table: docs %v, df(ha_noi) %d, facts %d, command %q", bg.Docs, bg.DF("ha_noi", "vi"), bg.FactDocs, bg.Command)
	}
	if code := runMain(context.Background(), []string{"train", "background", "--texts", filepath.Join(dir, "none*.jsonl")}, &stdout, &stderr); code == 0 {
		t.Error("a glob matching nothing was accepted")
	}
}

// Every query of a file is matched, whatever its quotes; a line that
// cannot be read is named on stderr with the counts.
func TestMatchCommandQueryQuotes(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	for _, c := range []struct {
		name, in string
		ids      []string
		stderr   []string
	}{
		{"quote opening a query mid-file",
			"id\ttext\nq1\tBill Gates microchips in the vaccine\nq2\t\"Breaking\" drinking bleach cures covid\nq3\tmicrochips\nq4\tbleach\n",
			[]string{"q1", "q2", "q3", "q4"}, nil},
		{"whole quoted text over two lines",
			"q1\t\"bleach\ncures covid\"\nq2\tmicrochips\n", []string{"q1", "q2"}, nil},
		{"bad lines named, the rest kept",
			"id\ttext\nq1\tbleach\nno tab here\nq3\tmicrochips\n\tempty id\nq5\t\"unterminated\n",
			[]string{"q1", "q3"}, []string{"read 2 queries, skipped 3 bad records", "line 3: want id<TAB>text", "line 5: empty query id", "line 6: quoted field is never closed"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			qs := filepath.Join(t.TempDir(), "q.tsv")
			if err := os.WriteFile(qs, []byte(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			if code := runMain(context.Background(), []string{"match", "--facts", filepath.Join(dir, "facts.jsonl"),
				"--queries", qs, "--top", "1"}, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			var ids []string
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				ids = append(ids, strings.Fields(line)[0])
			}
			if !slices.Equal(ids, c.ids) {
				t.Errorf("queries %v, want %v", ids, c.ids)
			}
			for _, w := range c.stderr {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if c.stderr == nil && errb.Len() > 0 {
				t.Errorf("unexpected stderr: %s", errb.String())
			}
		})
	}
}

// eval match warns when qrels lines are skipped.
func TestEvalMatchBadQrels(t *testing.T) {
	dir := filepath.Join("testdata", "match")
	qrels, err := os.ReadFile(filepath.Join(dir, "qrels.txt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "qrels.txt")
	if err := os.WriteFile(path, append(qrels, "q9 0 x\nq9 0 x yes\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"eval", "match", "--facts", filepath.Join(dir, "facts.jsonl"),
		"--queries", filepath.Join(dir, "queries.tsv"), "--qrels", path}, &out, &errb)
	n := strings.Count(strings.TrimSpace(string(qrels)), "\n") + 1
	for _, w := range []string{fmt.Sprintf("read %d judgements, skipped 2", n), "want 4 fields", `relevance "yes" is not a number`} {
		if code != 0 || !strings.Contains(errb.String(), w) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, w, errb.String())
		}
	}
}

// FuzzReadQueries: every record is a query, the header or a named bad
// line; without quotes, records are the non-blank lines.
func FuzzReadQueries(f *testing.F) {
	f.Add("\ttweet_content\n1\ttext\n2\t\"Quoted\" start\n")
	f.Add("1\t\"a\"\"b\"\n2\t\"multi\nline\"\n3\t\"open\n")
	f.Add("\"\t\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		qs, bad, err := readQueries(strings.NewReader(s))
		if err != nil {
			t.Fatalf("error on in-memory input: %v", err)
		}
		for _, q := range qs {
			if q.ID == "" {
				t.Fatalf("empty id accepted from %q", s)
			}
		}
		for _, b := range bad {
			if b.Line < 1 || b.Reason == "" {
				t.Fatalf("bad line %+v", b)
			}
		}
		if !strings.Contains(s, `"`) {
			records := 0
			header := 0
			for _, l := range strings.Split(s, "\n") {
				if l = strings.TrimSuffix(l, "\r"); l == "" {
					continue
				}
				records++
				if records == 1 {
					id, _, _ := strings.Cut(l, "\t")
					if isQueryHeader(strings.TrimSpace(strings.TrimPrefix(id, "\ufeff"))) {
						header = 1
					}
				}
			}
			if len(qs)+len(bad)+header != records {
				t.Fatalf("%q: %d queries + %d bad + %d header != %d records", s, len(qs), len(bad), header, records)
			}
		}
	})
}

// Every shared queries and qrels file reads whole: exact counts (the
// non-blank lines less a header), no bad line.
func TestSharedQueryFiles(t *testing.T) {
	dir := testdata.SharedDir(t)
	for _, c := range []struct {
		path string
		want int
	}{
		{"checkthat2020/dev/tweets.queries.tsv", 197},
		{"checkthat2020/train/tweets.queries.tsv", 800},
		{"checkthat2022/devtest.queries.tsv", 202},
		{"checkthat2022/train-dev.queries.tsv", 1196},
		{"vi-news/outlet-bench/thanhnien/queries.tsv", 155},
		{"vi-news/outlet-bench/tuoitre/queries.tsv", 143},
		{"vi-news/outlet-bench/vnexpress/queries.tsv", 241},
		{"checkthat2020/dev/tweet-vclaim-pairs.qrels", 198},
		{"checkthat2020/train/tweet-vclaim-pairs.qrels", 801},
		{"checkthat2022/devtest.qrels.tsv", 202},
		{"checkthat2022/train.qrels.tsv", 995},
		{"vi-news/outlet-bench/thanhnien/qrels.tsv", 155},
		{"vi-news/outlet-bench/tuoitre/qrels.tsv", 143},
		{"vi-news/outlet-bench/vnexpress/qrels.tsv", 241},
	} {
		f, err := os.Open(filepath.Join(dir, c.path))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var bad []lineError
		if strings.Contains(c.path, "qrels") {
			_, n, bad, err = readQrels(f)
		} else {
			var qs []claims.Query
			qs, bad, err = readQueries(f)
			n = len(qs)
			// The same queries, text for text, as encoding/csv reads these
			// files (none has a quote that is not a whole quoted field).
			f.Seek(0, io.SeekStart)
			if old, oerr := claims.ReadQueries(f); oerr != nil || !slices.Equal(old, qs) {
				t.Errorf("%s: differs from claims.ReadQueries (%v)", c.path, oerr)
			}
		}
		f.Close()
		if err != nil || n != c.want || len(bad) > 0 {
			t.Errorf("%s: %d records, want %d; bad %v; %v", c.path, n, c.want, bad, err)
		}
	}
}

// FuzzReadQrels: every non-blank line is a judgement or a named bad line.
func FuzzReadQrels(f *testing.F) {
	f.Add("q1 0 f1 1\nq2\t0\tf2\t0\n\nq3 0 f3 yes\nq4 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, n, bad, err := readQrels(strings.NewReader(s))
		if err != nil {
			return // a line past the size cap: named by the error
		}
		lines := 0
		for _, l := range strings.Split(s, "\n") {
			if len(strings.Fields(l)) > 0 {
				lines++
			}
		}
		if n+len(bad) != lines {
			t.Fatalf("%q: %d judgements + %d bad != %d lines", s, n, len(bad), lines)
		}
	})
}
