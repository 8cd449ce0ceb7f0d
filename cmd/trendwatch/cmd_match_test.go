package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	f(1, "line 1", "--facts", bad, "--queries", filepath.Join(dir, "queries.tsv"))
	f(2, "--top must be positive", "--facts", bad, "--queries", "x", "--top", "0")
}
