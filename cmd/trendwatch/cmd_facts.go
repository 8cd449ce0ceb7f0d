package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/schema"
)

// newFactSink opens the sink imported facts are published to (the
// compacted facts topic). It is set by the Kafka wiring; while it is nil,
// only `facts import --dry-run` works. The returned func closes the sink.
var newFactSink func(ctx context.Context, c *config, stderr io.Writer) (facts.Sink, func() error, error)

// newFactSource opens a reader of the current facts database (the facts
// topic or its ClickHouse mirror) for `facts export`. The returned func
// closes it.
var newFactSource func(ctx context.Context, c *config) (func(ctx context.Context) ([]schema.Fact, error), func() error, error)

// factBatch is how many facts go to the sink per call: large enough to
// amortise a produce round trip, small enough to stay under broker limits.
const factBatch = 500

// maxShownErrors caps the per-record errors printed; the count is exact.
const maxShownErrors = 50

func init() {
	register("facts", "import or export the facts database (ClaimReview, Google Fact Check, CSV/TSV, CheckThat!, JSONL)", runFacts)
}

func runFacts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "Usage:\n  trendwatch facts import FILE|- [--format F] [--strict] [--dry-run] [--default-verdict V] [--alert-verdicts L]\n  trendwatch facts export [--format jsonl|csv|claimreview] [--out FILE]")
		fmt.Fprintf(stderr, "Import formats (detected when --format is empty): %s\n", strings.Join(facts.Formats, ", "))
		if len(args) == 0 {
			return usagef("facts needs a subcommand: import or export")
		}
		return errHelp
	}
	switch args[0] {
	case "import":
		return runFactsImport(ctx, args[1:], stdout, stderr)
	case "export":
		return runFactsExport(ctx, args[1:], stdout, stderr)
	}
	return usagef("unknown facts subcommand %q (want import or export)", args[0])
}

func runFactsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("facts import", stderr)
	format := fs.String("format", "", "input format, one of "+strings.Join(facts.Formats, ", ")+"; empty detects it")
	strict := fs.Bool("strict", false, "reject the whole file on the first bad record")
	dryRun := fs.Bool("dry-run", false, "parse and report counts and errors; publish nothing")
	alertVerdicts := fs.String("alert-verdicts", "false,misleading", "fact verdicts that raise alerts (as the analyzers run with); facts with other verdicts are counted in a warning")
	defVerdict := fs.String("default-verdict", "", "verdict for facts that have none (one of "+strings.Join(facts.Verdicts, ", ")+"), e.g. false for a set of debunked claims")
	c := bindClientConfig(fs, kafkaClientFlags, apiClientFlags)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trendwatch facts import FILE|- [flags]")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("facts import needs exactly one FILE (or - for stdin), got %d", len(pos))
	}
	path := pos[0]
	if *defVerdict != "" && !slices.Contains(facts.Verdicts, *defVerdict) {
		return usagef("--default-verdict %q is not one of %s", *defVerdict, strings.Join(facts.Verdicts, ", "))
	}

	var (
		list []schema.Fact
		errs []facts.RecordError
	)
	if path == "-" {
		list, errs, err = facts.Read(os.Stdin, "stdin", *format)
	} else {
		list, errs, err = facts.Load(path, *format)
	}
	if err != nil {
		return err
	}
	name := path
	if name == "-" {
		name = "stdin"
	}
	if *strict && len(errs) > 0 {
		return fmt.Errorf("%s rejected (--strict), nothing imported: %v", name, errs[0])
	}
	for i, e := range errs {
		if i == maxShownErrors {
			fmt.Fprintf(stderr, "%s: … and %d more bad records\n", name, len(errs)-i)
			break
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, e)
	}
	list, dups := dedupeFacts(list)
	if *defVerdict != "" {
		for i := range list {
			if list[i].Verdict == "" {
				list[i].Verdict = *defVerdict
			}
		}
	}
	printImportSummary(stdout, name, list, len(errs), dups)
	if len(list) == 0 {
		return fmt.Errorf("%s: no usable facts", name)
	}
	warnSilentFacts(stderr, list, splitList(*alertVerdicts))
	if *dryRun {
		return nil
	}
	if newFactSink == nil {
		return errors.New("this build has no fact sink wired (Kafka); use --dry-run or a build with the facts topic configured")
	}
	if _, err := c.useLocalRun(fs); err != nil {
		return err
	}
	sink, closeSink, err := newFactSink(ctx, c, stderr)
	if err != nil {
		return fmt.Errorf("cannot open fact sink: %w", err)
	}
	now := time.Now().UTC()
	for i := range list {
		list[i].Updated = now
	}
	sent := 0
	for start := 0; start < len(list); start += factBatch {
		end := min(start+factBatch, len(list))
		if err := sink.PutFacts(ctx, list[start:end]); err != nil {
			_ = closeSink()
			return fmt.Errorf("published %d of %d facts, then: %w", sent, len(list), err)
		}
		sent = end
	}
	if err := closeSink(); err != nil {
		return fmt.Errorf("cannot flush fact sink after %d facts: %w", sent, err)
	}
	fmt.Fprintf(stdout, "published\t%d\n", sent)
	return nil
}

// dedupeFacts keeps the last fact of each id, in first-seen order: a file
// that lists a fact twice means its later, corrected version.
func dedupeFacts(in []schema.Fact) ([]schema.Fact, int) {
	idx := make(map[string]int, len(in))
	out := in[:0:0]
	for _, f := range in {
		if i, ok := idx[f.ID]; ok {
			out[i] = f
			continue
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out, len(in) - len(out)
}

func printImportSummary(w io.Writer, name string, list []schema.Fact, bad, dups int) {
	verdicts := map[string]int{}
	langs := map[string]int{}
	for _, f := range list {
		verdicts[orNone(f.Verdict)]++
		langs[orNone(f.Lang)]++
	}
	fmt.Fprintf(w, "file\t%s\nfacts\t%d\nbad\t%d\nduplicates\t%d\n", name, len(list), bad, dups)
	for _, m := range []struct {
		label string
		c     map[string]int
	}{{"verdict", verdicts}, {"lang", langs}} {
		keys := make([]string, 0, len(m.c))
		for k := range m.c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s:%s\t%d\n", m.label, k, m.c[k])
		}
	}
}

// warnSilentFacts tells the user how many facts can never alert under the
// verdict rule in force, and how to change that: a fact without a verdict
// needs one, a fact with another verdict needs it in --alert-verdicts.
func warnSilentFacts(w io.Writer, list []schema.Fact, alerting []string) {
	silent := map[string]int{}
	for _, f := range list {
		if !slices.Contains(alerting, f.Verdict) {
			silent[orNone(f.Verdict)]++
		}
	}
	rule := strings.Join(alerting, ",")
	keys := make([]string, 0, len(silent))
	for k := range silent {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, v := range keys {
		fix := "add it to --alert-verdicts (of the analyzers and the alerter)"
		if v == "none" {
			fix = "set a verdict or rating in the file, or import with --default-verdict (e.g. --default-verdict false)"
		}
		fmt.Fprintf(w, "warning: %d facts have verdict %s and cannot alert with --alert-verdicts %s; %s\n", silent[v], v, rule, fix)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func runFactsExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("facts export", stderr)
	format := fs.String("format", facts.FormatJSONL, "output format, one of "+strings.Join(facts.ExportFormats, ", "))
	out := fs.String("out", "", "output file (written atomically); empty writes to stdout")
	c := bindClientConfig(fs, chClientFlags, apiClientFlags)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("facts export takes no arguments, got %q", fs.Args())
	}
	valid := false
	for _, f := range facts.ExportFormats {
		valid = valid || f == *format
	}
	if !valid {
		return usagef("unknown export format %q (want one of %s)", *format, strings.Join(facts.ExportFormats, ", "))
	}
	if newFactSource == nil {
		return errors.New("this build has no fact source wired (Kafka or ClickHouse); cannot export")
	}
	if _, err := c.useLocalRun(fs); err != nil {
		return err
	}
	load, closeSrc, err := newFactSource(ctx, c)
	if err != nil {
		return fmt.Errorf("cannot open fact source: %w", err)
	}
	list, err := load(ctx)
	if cerr := closeSrc(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot read facts: %w", err)
	}
	// Sorted by id so two exports of the same database diff cleanly.
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	if *out == "" {
		return facts.Write(stdout, *format, list)
	}
	return writeFileAtomic(*out, func(w io.Writer) error { return facts.Write(w, *format, list) })
}

// writeFileAtomic writes through a temporary file in the same directory and
// renames it, so a reader never sees a half-written export.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// parseInterspersed parses flags that may come after positional arguments
// (`facts import FILE --strict`), which package flag alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // parseFlags reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if err := parseFlags(fs, flags); err != nil {
		return nil, err
	}
	return append(pos, fs.Args()...), nil
}
