package clickhouse

import (
	"context"
	"io/fs"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Every table the migrations create has a retention class: a new table
// must say whether it is raw, an aggregate or kept for ever.
func TestRetentionCoversEveryTable(t *testing.T) {
	create := regexp.MustCompile(`(?i)CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)`)
	dropped := regexp.MustCompile(`(?i)DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(\w+)`)
	tables := map[string]bool{"schema_migrations": true}
	err := fs.WalkDir(migrationsFS, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrationsFS.ReadFile(path)
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			tables[m[1]] = true
		}
		for _, m := range dropped.FindAllStringSubmatch(string(b), -1) {
			delete(tables, m[1])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range retained {
		listed[r.table] = true
		if !tables[r.table] {
			t.Errorf("retention lists %s, which no migration creates", r.table)
		}
	}
	for tbl := range tables {
		if !listed[tbl] {
			t.Errorf("table %s has no retention class", tbl)
		}
	}
}

func TestPartitionEnd(t *testing.T) {
	f := func(p partitioning, id string, want string) {
		t.Helper()
		end, ok := partitionEnd(p, id)
		got := ""
		if ok {
			got = end.Format(time.DateOnly)
		}
		if got != want {
			t.Errorf("partitionEnd(%d, %q) = %q, want %q", p, id, got, want)
		}
	}
	f(byMonth, "202612", "2027-01-01")
	f(byDay, "20260831", "2026-09-01")
	f(byMonth, "tuple()", "")
	f(byDay, "2026'; DROP", "")
	f(unpartitioned, "202612", "")
}

// Old raw partitions go, the aggregates of the same days stay, and so do
// facts and cases; aggregates older than their own limit go too.
func TestEnforceRetention(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	old := genPosts(7, 40, now.AddDate(0, 0, -200), time.Hour)     // raw expired, aggregates kept
	ancient := genPosts(8, 30, now.AddDate(0, 0, -500), time.Hour) // both expired
	recent := genPosts(9, 50, now.Add(-48*time.Hour), time.Hour)   // kept
	for _, batch := range [][]schema.Analyzed{old, ancient, recent} {
		for i := range batch {
			batch[i].Matches = []schema.Match{{FactID: "f1", Score: 0.9, Verdict: schema.VerdictFalse}}
		}
		if err := s.WriteAnalyzed(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WriteFacts(ctx, []schema.Fact{{ID: "f1", Claim: "Uống nước chanh chữa ung thư", Lang: "vi", Verdict: schema.VerdictFalse, Updated: now.AddDate(-2, 0, 0)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCase(ctx, CaseRow{ID: "c1", FactID: "f1", State: "open", Severity: "high", Opened: now.AddDate(-2, 0, 0), Updated: now.AddDate(-2, 0, 0), Version: 1, Body: "{}"}); err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) uint64 {
		t.Helper()
		var n uint64
		if err := s.conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := func(tbl, col string, days int) uint64 {
		return count("SELECT count() FROM "+tbl+" WHERE "+col+" < toDateTime(?)", now.AddDate(0, 0, -days).Unix())
	}
	if before("topic_posts", "minute", 90) == 0 || before("topic_hour", "hour", 400) == 0 {
		t.Fatal("fixture wrote no old rows")
	}

	rep, err := s.EnforceRetention(ctx, DefaultRetention, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dropped %v", rep.Dropped)
	if n := before("topic_posts", "minute", 90); n != 0 {
		t.Errorf("%d topic rows older than 90 days remain", n)
	}
	if n := before("matches", "published", 120); n != 0 { // a month partition goes once all of it is older
		t.Errorf("%d matches of expired months remain", n)
	}
	// The posts' mutation runs in the background.
	deadline := time.Now().Add(30 * time.Second)
	for before("posts", "published", 90) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d posts older than 90 days remain", before("posts", "published", 90))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := count("SELECT count() FROM topic_hour WHERE hour >= toDateTime(?) AND hour < toDateTime(?)", now.AddDate(0, 0, -201).Unix(), now.AddDate(0, 0, -199).Unix()); n == 0 {
		t.Error("the aggregates of 200 days ago went with the raw rows")
	}
	if n := before("topic_hour", "hour", 430); n != 0 {
		t.Errorf("%d aggregate rows older than the aggregates' limit remain", n)
	}
	if got, want := count("SELECT uniqExact(id) FROM posts"), uint64(len(recent)); got != want {
		t.Errorf("posts left: %d, want the %d recent ones", got, want)
	}
	if f, err := s.Fact(ctx, "f1"); err != nil || f.Claim == "" {
		t.Errorf("the fact went: %+v %v", f, err)
	}
	if cs, err := s.Cases(ctx, CaseQuery{}); err != nil || len(cs) != 1 {
		t.Errorf("cases after retention: %v %v", cs, err)
	}
	// A second round finds nothing more to do.
	if rep, err := s.EnforceRetention(ctx, DefaultRetention, now); err != nil || len(rep.Dropped) != 0 {
		t.Errorf("second round: %+v %v", rep, err)
	}
	sizes, err := s.TableSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(sizes, func(ts TableSize) bool { return ts.Table == "posts" })
	if i < 0 || sizes[i].Class != ClassRaw || sizes[i].Bytes == 0 {
		t.Errorf("table sizes: %+v", sizes)
	}
}
