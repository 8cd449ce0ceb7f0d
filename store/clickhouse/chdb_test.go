package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sampleArgs holds arguments for every registered query, so the query can
// run on an engine without clickhouse-go's client-side binding. A query
// missing here fails TestQueriesCurrentEngine: new queries must be added.
// INSERT entries are one row of values.
var sampleArgs = func() map[string][]any {
	ts := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	start, end := ts.Add(-time.Hour).Unix(), ts.Unix()
	spread := []any{"#t", start, end}
	h, day := int64(sampleHour), int64(sampleHour-8*3600) // Queries' instances
	all := []any{[]any{"#t"}, "", "", "", ""}
	vi := []any{[]any{"#t"}, "vi", "vi", "", ""}
	return map[string][]any{
		"hour_deliveries":        {int64(0), end + 3600},
		"data_version":           {start},
		"compactions":            {uint32(3600), int64(0), end + 3600},
		"insert_compactions":     {time.Unix(h, 0), uint32(3600), uint64(1), uint64(1)},
		"compact_1_hour":         {uint64(1), h, h + 3600, uint64(1), h, h + 3600},
		"compact_2_day":          {day, uint64(1)},
		"compact_1_hour_keys":    {uint64(1), h, h + 3600, h, h + 3600, h, h + 3600, h, h + 3600},
		"compact_1_hour_facts":   {uint64(1), h, h + 3600, h, h + 3600},
		"spread_keys_compacted":  {"#t", "#t", "#t"},
		"spread_key_hours":       {"#t"},
		"spread_facts_compacted": {"#t", "#t", 50},
		"topic_counts":           append(append([]any{}, all...), all...),
		"topic_counts_filtered":  append(append([]any{}, vi...), vi...),
		"topic_authors":          append(append(append([]any{}, all...), all...), all...),
		"trend_authors_exact":    {[]any{"#t"}, start, end, "", "", "", ""},
		"create_migrations":      nil,
		"applied_migrations":     nil,
		"record_migration":       {uint32(1), "posts", "abc"},
		"insert_posts":           {idHash("p1"), "p1", "src", "rss", "https://a.example/x", "", "ann", "vi", "T", "text", ts, ts, int64(1), int64(2), int64(3), []string{"#t"}, []string{"f1"}, ts},
		"insert_topic_posts":     {"#t", ts.Add(-10 * time.Minute), idHash("p1"), "ann", "src", "a.example", "rss", "vi", ts.Add(-10 * time.Minute), ts},
		"insert_matches":         {"p1", idHash("p1"), "f1", 0.9, "false", ts, ts},
		"insert_facts":           {"f1", "claim", "title", "sum", "en", "false", "Faux", "AFP", "https://f", ts, []string{"x"}, []string{"vi"}, []string{"tuyên bố"}, []string{"seen it"}, ts, uint8(0), uint64(1)},
		"insert_alerts":          {"k1", "f1", "p1", "false", "claim", "", 0.9, "vi", "rss", "src", "ann", "", "", "", ts, ts, ts},
		"insert_sources":         {"s1", "feed", "https://x", "X", "vi", int64(60000), uint8(1), []string{"k"}, []string{"v"}, ts, uint8(0), uint64(1)},
		"insert_source_status":   {"s1", ts, ts, "", ts, int64(0), 1.5, ts, int64(3), "failing", "", "http_404", "Sở Y tế", uint64(1)},
		"insert_cases":           {"c1", "f1", "open", "high", ts, ts, uint64(1), `{"a":1}`},
		"insert_case_events":     {"c1", "e1", ts, "ann", "note", "d"},
		"count_posts":            nil,
		"count_posts_uniq":       nil,
		"trends_top":             {start, end, "", "", "", "", uint64(1), 20},
		"timeline":               {start, int64(300), "#t", start, end},
		"timeline_rows":          {start, int64(300), "#t", start, end},
		"spread_check":           {"#t", "#t"},
		"spread_totals":          spread,
		"spread_lists":           append(spread, 10),
		"spread_samples":         append(spread, 5, 5),
		"spread_earliest":        append(spread, 5, 5),
		"facts":                  {"claim", "claim", "claim", "claim", "false", "false", "en", "en", 0, 50},
		"fact":                   {"f1"},
		"fact_texts":             {"false", "false", "en", "en"},
		"facts_by_id":            {[]any{"f1", "f2"}},
		"sources":                nil,
		"source_statuses":        nil,
		"cases":                  {"open", "open", "", "", 0, 50},
		"case_events":            {"c1"},
		"case":                   {"c1"},
		"insert_flags":           {"#t", "burst", ts, 4.5, int64(12), int64(7), []string{"p1", "p2"}, uint64(1)},
		"flags":                  {start, end + 3600, "burst", "burst", "", "", 100},
		"table_partitions":       {"default", "matches"},
		"table_sizes":            {"default"},
		"count_old_posts":        {start},
		"delete_old_posts":       {start},
		"drop_partition":         nil,
		"insert_labels":          {"kw:bao yagi", "bão Yagi", ts.Truncate(24 * time.Hour), uint64(3)},
		"topic_labels":           {[]any{"kw:bao yagi"}},
		"fact_labels":            {[]any{"f1"}},
		"trend_support":          {[]any{"#t"}, start, end, "", "", "", ""},
		"first_hour":             nil,
		// auth.go's statements (AuthQueries)
		"insert_user":       {"ann", "admin", "hash", uint8(0), ts, uint64(1)},
		"users":             {"ann", "ann"},
		"insert_token":      {"h1", "t1", "ci", "viewer", "ann", ts, ts.Add(time.Hour), uint8(0), uint64(1)},
		"tokens":            {"", ""},
		"insert_session":    {"s1", "ann", ts, ts.Add(time.Hour), uint8(0), uint64(1)},
		"session":           {"s1"},
		"count_credentials": nil,
		// settings.go's statements (SettingsQueries)
		"insert_settings_audit": {ts, "thresholds", uint64(1), "ann", `{"vi":0.5}`, `{"vi":0.6}`},
		"settings_audit":        {"", "", 100},
	}
}()

// allQueries is Queries and AuthQueries together; names must not clash.
func allQueries(t *testing.T) map[string]string {
	all := Queries()
	for name, q := range SettingsQueries() {
		all[name] = q
	}
	for name, q := range AuthQueries() {
		if _, dup := all[name]; dup {
			t.Errorf("query name %s is registered twice", name)
		}
		all[name] = q
	}
	return all
}

// literal renders v as a ClickHouse literal (test-only: the store itself
// lets clickhouse-go bind arguments).
func literal(v any) string {
	switch v := v.(type) {
	case string:
		r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
		return "'" + r.Replace(v) + "'"
	case time.Time:
		return fmt.Sprintf("toDateTime(%d)", v.Unix())
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = literal(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any: // a GroupSet: IN ('a', 'b')
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = literal(x)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

func bindSQL(q string, args []any) (string, error) {
	if isPlainInsert(q) {
		vals := make([]string, len(args))
		for i, a := range args {
			vals[i] = literal(a)
		}
		return q + " VALUES (" + strings.Join(vals, ", ") + ")", nil
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			if n >= len(args) {
				return "", fmt.Errorf("more placeholders than the %d sample args", len(args))
			}
			b.WriteString(literal(args[n]))
			n++
			continue
		}
		b.WriteRune(c)
	}
	if n != len(args) {
		return "", fmt.Errorf("%d placeholders, %d sample args", n, len(args))
	}
	return b.String(), nil
}

// isPlainInsert tells an INSERT of values from an INSERT ... SELECT.
func isPlainInsert(q string) bool {
	return strings.HasPrefix(q, "INSERT") && !strings.Contains(q, "SELECT")
}

// stage orders statements: plain inserts, then INSERT ... SELECT (which
// read them), then reads.
func stage(q string) int {
	switch {
	case isPlainInsert(q):
		return 0
	case strings.HasPrefix(q, "INSERT"):
		return 1
	}
	return 2
}

type chdbStatement struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// TestQueriesCurrentEngine runs every migration and every registered query
// through the current ClickHouse engine (chdb), as production pins a
// current server while the integration tests use 18.16. Inserts run before
// reads so the reads touch data.
func TestQueriesCurrentEngine(t *testing.T) {
	if err := exec.Command("python3", "-c", "import chdb").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chdb must be installed in CI (pip install chdb): %v", err)
		}
		t.Skipf("skipping: python3 with chdb not available: %v", err)
	}
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var stmts []chdbStatement
	stmts = append(stmts, chdbStatement{"create_migrations", qCreateMigrations})
	for _, m := range migs {
		for i, s := range m.Statements {
			stmts = append(stmts, chdbStatement{fmt.Sprintf("migration %03d_%s #%d", m.Version, m.Name, i+1), s})
		}
	}
	// Migrations twice: they must be re-runnable on the current engine too.
	// A DROP or ADD COLUMN is not: Migrate checks system.columns before
	// running one (TestMigrateDropColumnRunsAgain), as 18.16 has no IF
	// [NOT] EXISTS for columns.
	for _, m := range migs {
		for i, s := range m.Statements {
			if s = strings.TrimSpace(s); dropColumnRE.MatchString(s) || addColumnRE.MatchString(s) {
				continue
			}
			stmts = append(stmts, chdbStatement{fmt.Sprintf("migration %03d_%s #%d (again)", m.Version, m.Name, i+1), s})
		}
	}
	queries := allQueries(t)
	names := make([]string, 0, len(queries))
	for name := range queries {
		names = append(names, name)
	}
	// Inserts first, then INSERT ... SELECT, then reads, each group in
	// name order.
	sort.Slice(names, func(i, j int) bool {
		if si, sj := stage(queries[names[i]]), stage(queries[names[j]]); si != sj {
			return si < sj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		args, ok := sampleArgs[name]
		if !ok {
			t.Errorf("query %s has no sample args in chdb_test.go", name)
			continue
		}
		q, err := bindSQL(queries[name], args)
		if err != nil {
			t.Errorf("query %s: %v", name, err)
			continue
		}
		stmts = append(stmts, chdbStatement{name, q})
	}
	req, err := json.Marshal(map[string]any{"statements": stmts})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "testdata/chdb_run.py")
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 && os.Getenv("CI") != "true" {
			t.Skipf("skipping: %s", stderr.String())
		}
		t.Fatalf("chdb runner: %v: %s", err, stderr.String())
	}
	var resp struct {
		Version string `json:"version"`
		Results []struct {
			Name  string `json:"name"`
			OK    bool   `json:"ok"`
			Error string `json:"error"`
			Rows  string `json:"rows"`
		} `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("chdb runner output: %v: %.500s", err, stdout.String())
	}
	t.Logf("current engine: ClickHouse %s, %d statements", resp.Version, len(resp.Results))
	if len(resp.Results) != len(stmts) {
		t.Fatalf("chdb ran %d of %d statements", len(resp.Results), len(stmts))
	}
	rows := map[string]string{}
	for _, r := range resp.Results {
		if !r.OK {
			t.Errorf("%s fails on ClickHouse %s: %s", r.Name, resp.Version, r.Error)
		}
		rows[r.Name] = strings.TrimSpace(r.Rows)
	}
	// Spot-check that reads saw the inserted rows, i.e. that the queries
	// mean the same thing on the current engine.
	for name, want := range map[string]string{
		"count_posts":            "1",
		"count_posts_uniq":       "1",
		"fact":                   "f1\tclaim",
		"spread_lists":           "1\tann\t1\n2\tsrc\t1\n3\ta.example\t1\n4\tvi\t1\n5\trss\t1",
		"spread_samples":         "p1\tsrc",
		"spread_facts_compacted": "f1",
		"spread_check":           "1\t1\t",
		"topic_counts":           "#t\t0\t1",
		"topic_counts_filtered":  "#t\t0\t1",
		"topic_authors":          "#t\t1",
		"trend_authors_exact":    "#t\t1",
		"hour_deliveries":        "2026-03-10 08:00:00\t1",
		"compactions":            "2026-03-10 08:00:00\t1\t1",
		"timeline_rows":          "10\t1",
		"spread_earliest":        "p1\tsrc",
		"trends_top":             "#t\t1",
		"timeline":               "10\t1", // 08:50 in 5-minute buckets from 08:00
		"case_events":            "e1\t",
		"case":                   "c1\tf1\topen",
		"flags":                  "#t\tburst\t",
		"users":                  "ann\tadmin",
		"count_credentials":      "2",
	} {
		if !strings.HasPrefix(rows[name], want) {
			t.Errorf("%s on the current engine = %q, want prefix %q", name, rows[name], want)
		}
	}
}
