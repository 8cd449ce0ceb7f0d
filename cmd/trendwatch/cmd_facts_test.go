package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/schema"
)

const factsFixtures = "../../analyze/facts/testdata/"

// memSink records what the import command publishes.
type memSink struct {
	calls  int
	facts  []schema.Fact
	fail   error
	closed bool
}

func (m *memSink) PutFacts(_ context.Context, fs []schema.Fact) error {
	m.calls++
	if m.fail != nil {
		return m.fail
	}
	m.facts = append(m.facts, fs...)
	return nil
}

func (m *memSink) DeleteFact(context.Context, string) error { return nil }

// withSink installs sink as newFactSink for one test.
func withSink(t *testing.T, sink *memSink) {
	t.Helper()
	old := newFactSink
	t.Cleanup(func() { newFactSink = old })
	newFactSink = func(context.Context, *config, io.Writer) (facts.Sink, func() error, error) {
		return sink, func() error { sink.closed = true; return nil }, nil
	}
}

func runFactsCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), append([]string{"facts"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestFactsImport(t *testing.T) {
	sink := &memSink{}
	withSink(t, sink)

	// Flags after the file work, bad records are listed, good ones published.
	out, errOut, code := runFactsCmd(t, "import", factsFixtures+"bad_date.csv", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "facts\t1\nbad\t3\n") || !strings.Contains(out, "published\t1\n") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errOut, "bad_date.csv: record 3: unrecognised date \"31/02/2024\"") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if len(sink.facts) != 1 || sink.facts[0].Updated.IsZero() || !sink.closed {
		t.Errorf("sink got %+v (closed %v)", sink.facts, sink.closed)
	}

	// --strict rejects the whole file and publishes nothing.
	*sink = memSink{}
	_, errOut, code = runFactsCmd(t, "import", "--strict", factsFixtures+"bad_date.csv")
	if code != 1 || sink.calls != 0 || !strings.Contains(errOut, "rejected (--strict)") || !strings.Contains(errOut, "record 3") {
		t.Errorf("strict: exit %d, %d sink calls, stderr %s", code, sink.calls, errOut)
	}

	// --dry-run publishes nothing.
	out, _, code = runFactsCmd(t, "import", factsFixtures+"google_factcheck.json", "--dry-run")
	if code != 0 || sink.calls != 0 || !strings.Contains(out, "facts\t4\nbad\t2\n") || !strings.Contains(out, "lang:vi\t1") {
		t.Errorf("dry-run: exit %d, %d sink calls, stdout %s", code, sink.calls, out)
	}

	// A sink failure is reported with how far it got.
	*sink = memSink{fail: errors.New("broker down")}
	_, errOut, code = runFactsCmd(t, "import", factsFixtures+"baochinhphu_vi.csv")
	if code != 1 || !strings.Contains(errOut, "published 0 of 4 facts, then: broker down") {
		t.Errorf("sink failure: exit %d, stderr %s", code, errOut)
	}
}

func TestFactsImportErrors(t *testing.T) {
	old := newFactSink
	t.Cleanup(func() { newFactSink = old })
	newFactSink = nil
	f := func(wantCode int, want string, args ...string) {
		t.Helper()
		_, errOut, code := runFactsCmd(t, args...)
		if code != wantCode || !strings.Contains(errOut, want) {
			t.Errorf("facts %q: exit %d, stderr %q; want exit %d and %q", args, code, errOut, wantCode, want)
		}
	}
	f(1, "no fact sink wired", "import", factsFixtures+"baochinhphu_vi.csv")
	f(2, "exactly one FILE", "import")
	f(2, "exactly one FILE", "import", "a.csv", "b.csv")
	f(2, "flag provided but not defined", "import", "a.csv", "--bogus")
	f(1, "unknown facts format", "import", factsFixtures+"baochinhphu_vi.csv", "--format", "xml")
	f(1, "cannot open facts file", "import", "testdata/nope.csv")
	f(1, "broken_json.json as claimreview: invalid JSON", "import", factsFixtures+"broken_json.json")
	empty := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(empty, []byte("claim,rating\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f(1, "no usable facts", "import", "--dry-run", empty)
	f(1, "unrecognised content", "import", "--dry-run", "../../go.mod")
	f(2, "unknown facts subcommand", "delete")
	f(2, "needs a subcommand")
}

func TestFactsExport(t *testing.T) {
	in, _, err := facts.Load(factsFixtures+"baochinhphu_vi.csv", "")
	if err != nil {
		t.Fatal(err)
	}
	old := newFactSource
	t.Cleanup(func() { newFactSource = old })
	newFactSource = func(context.Context, *config) (func(context.Context) ([]schema.Fact, error), func() error, error) {
		rev := make([]schema.Fact, len(in))
		for i := range in {
			rev[len(in)-1-i] = in[i]
		}
		return func(context.Context) ([]schema.Fact, error) { return rev, nil }, func() error { return nil }, nil
	}
	for _, format := range facts.ExportFormats {
		out, errOut, code := runFactsCmd(t, "export", "--format", format)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		back, errs, err := facts.Read(strings.NewReader(out), "export", "")
		if err != nil || len(errs) > 0 || len(back) != len(in) || back[0].ID != "vn-001" {
			t.Errorf("%s: read back %d facts (%v %v)", format, len(back), err, errs)
		}
	}
	path := filepath.Join(t.TempDir(), "facts.csv")
	if _, errOut, code := runFactsCmd(t, "export", "--format", "csv", "--out", path); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.HasPrefix(string(b), "id,claim,title,") {
		t.Errorf("--out file: %v %q", err, b)
	}
	if _, errOut, code := runFactsCmd(t, "export", "--format", "xml"); code != 2 || !strings.Contains(errOut, "unknown export format") {
		t.Errorf("bad format: exit %d %s", code, errOut)
	}
	newFactSource = nil
	if _, errOut, code := runFactsCmd(t, "export"); code != 1 || !strings.Contains(errOut, "no fact source wired") {
		t.Errorf("no source: exit %d %s", code, errOut)
	}
}

// A claim that merely begins with a quote is text: the rows after it
// import (RFC 4180 quotes only a whole quoted field).
func TestFactsImportQuotes(t *testing.T) {
	for _, c := range []struct {
		name, in   string
		facts, bad int
		stderr     string
	}{
		{"quote opening the second claim",
			"id\tclaim\n1\tVaccines contain microchips\n2\t\"Miracle\" cure for diabetes claims to work in a week\n3\tPope endorsed a candidate\n", 3, 0, ""},
		{"three columns, quote mid-claim",
			"id\tclaim\trating\n1\tA\tFalse\n2\tShe said \"never\" twice\tFalse\n3\t\"Miracle\" cure\tFake\n4\tD\tFalse\n", 4, 0, ""},
		{"whole quoted claim over two lines",
			"id\tclaim\n1\t\"line one\nline two\"\n2\tB\n", 2, 0, ""},
		{"unterminated quote names its line, the rest imports",
			"id\tclaim\n1\tA\n2\t\"never closed\n3\tC\n", 2, 1, "record 3: quoted field is never closed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "claims.tsv")
			if err := os.WriteFile(path, []byte(c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runFactsCmd(t, "import", "--dry-run", path)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			want := fmt.Sprintf("facts\t%d\nbad\t%d\n", c.facts, c.bad)
			if !strings.Contains(out, want) || (c.stderr != "" && !strings.Contains(errOut, c.stderr)) {
				t.Errorf("stdout:\n%s\nstderr:\n%s\nwant %q and %q", out, errOut, want, c.stderr)
			}
		})
	}
}

// Facts whose verdict cannot alert under --alert-verdicts are counted in
// a warning that says how to fix it; --default-verdict fixes it.
func TestFactsImportSilentWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claims.tsv")
	in := "id\tclaim\trating\n1\tA\t\n2\tB\t\n3\tC\tTrue\n4\tD\tFalse\n"
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
		not  string
	}{
		{nil, []string{"warning: 2 facts have verdict none and cannot alert with --alert-verdicts false,misleading; set a verdict",
			"--default-verdict", "warning: 1 facts have verdict true and cannot alert with --alert-verdicts false,misleading; add it to --alert-verdicts"}, ""},
		{[]string{"--alert-verdicts", "false,true"}, []string{"warning: 2 facts have verdict none"}, "verdict true"},
		{[]string{"--default-verdict", "false", "--alert-verdicts", "false,true"}, nil, "warning"},
	} {
		_, errOut, code := runFactsCmd(t, append([]string{"import", "--dry-run", path}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, errOut)
			}
		}
		if c.not != "" && strings.Contains(errOut, c.not) {
			t.Errorf("%v: stderr has %q:\n%s", c.args, c.not, errOut)
		}
	}
	if _, errOut, code := runFactsCmd(t, "import", "--dry-run", "--default-verdict", "banana", path); code != 2 || !strings.Contains(errOut, "not one of false, misleading") {
		t.Errorf("bad --default-verdict: exit %d, %s", code, errOut)
	}
}
