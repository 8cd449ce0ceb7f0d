package clickhouse

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/trendwatch/trendwatch/schema"
)

func TestSplitStatements(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		got, err := SplitStatements(in)
		if err != nil {
			t.Fatalf("SplitStatements(%q): %v", in, err)
		}
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("SplitStatements(%q) = %q, want %q", in, got, want)
		}
	}
	f("")
	f(" ;; \n-- only a comment\n;")
	f("SELECT 1", "SELECT 1")
	f("SELECT 1;SELECT 2;", "SELECT 1", "SELECT 2")
	f("-- requires: 20.1\nCREATE TABLE t (a String); -- trailing\n", "CREATE TABLE t (a String)")
	f("SELECT ';' AS x; SELECT 2", "SELECT ';' AS x", "SELECT 2")
	f(`SELECT 'it''s;' , "a;b", `+"`c;d`", `SELECT 'it''s;' , "a;b", `+"`c;d`")
	f(`SELECT 'a\';b'; SELECT 3`, `SELECT 'a\';b'`, "SELECT 3")
	f("SELECT /* ; */ 1; SELECT 2", "SELECT   1", "SELECT 2")
	f("SELECT '-- not a comment;'", "SELECT '-- not a comment;'")
	bad := func(in string) {
		t.Helper()
		if got, err := SplitStatements(in); err == nil {
			t.Errorf("SplitStatements(%q) = %q, want an error", in, got)
		}
	}
	bad("SELECT 'open")
	bad("SELECT /* open")
	bad("SELECT `x")
}

// FuzzSplitStatements: never panics; statements are non-empty, trimmed,
// valid UTF-8 when the input is, and splitting the joined output again is
// stable (the split is idempotent).
func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 2", "SELECT ';'", "-- x\nA;/*;*/B", "'a''b';\"c\\\"d\"", "`", "/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := SplitStatements(in)
		if err != nil {
			return
		}
		for _, s := range got {
			if s == "" || s != strings.TrimSpace(s) {
				t.Fatalf("statement %q empty or untrimmed", s)
			}
			if utf8.ValidString(in) && !utf8.ValidString(s) {
				t.Fatalf("statement %q is invalid UTF-8 from valid input", s)
			}
		}
		again, err := SplitStatements(strings.Join(got, ";\n"))
		if err != nil {
			t.Fatalf("re-split of %q failed: %v", got, err)
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("re-split changed statements: %q -> %q", got, again)
		}
	})
}

func TestParseVersion(t *testing.T) {
	f := func(in string, want Version, ok bool) {
		t.Helper()
		got, err := ParseVersion(in)
		if (err == nil) != ok || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v, ok=%v", in, got, err, want, ok)
		}
	}
	f("18.16.1", Version{18, 16, 1}, true)
	f("20.1", Version{20, 1, 0}, true)
	f("25.8.3.1", Version{25, 8, 3}, true)
	f(" 21.3 ", Version{21, 3, 0}, true)
	f("20", Version{}, false)
	f("a.b", Version{}, false)
	f("1.-2", Version{}, false)
	f("", Version{}, false)
	if !(Version{18, 16, 1}).Less(Version{20, 1, 0}) || (Version{20, 1, 0}).Less(Version{20, 1, 0}) || (Version{21, 0, 0}).Less(Version{20, 9, 9}) {
		t.Error("Version.Less is wrong")
	}
}

func FuzzParseVersion(f *testing.F) {
	f.Add("18.16.1")
	f.Add("20.1")
	f.Fuzz(func(t *testing.T, in string) {
		v, err := ParseVersion(in)
		if err != nil {
			return
		}
		back, err := ParseVersion(v.String())
		if err != nil || back != v {
			t.Fatalf("%q -> %v does not round-trip: %v, %v", in, v, back, err)
		}
	})
}

func TestEmbeddedMigrations(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) < 4 {
		t.Fatalf("%d migrations embedded", len(migs))
	}
	create := regexp.MustCompile(`(?i)^CREATE (TABLE|MATERIALIZED VIEW|DATABASE|VIEW) `)
	for i, m := range migs {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d: versions must be 1..n without gaps", i, m.Version)
		}
		for _, s := range m.Statements {
			// Re-runnable by construction: the safety of concurrent and
			// repeated Migrate rests on this.
			if create.MatchString(s) && !strings.Contains(strings.ToUpper(s[:min(len(s), 40)]), "IF NOT EXISTS") {
				t.Errorf("migration %03d_%s: CREATE without IF NOT EXISTS: %.60s", m.Version, m.Name, s)
			}
			if strings.Contains(s, "toStartOfInterval") || strings.Contains(s, "DateTime64") || strings.Contains(s, " TTL ") {
				t.Errorf("migration %03d_%s uses a feature 18.16 lacks: %.60s", m.Version, m.Name, s)
			}
		}
	}
}

func TestLoadMigrationsErrors(t *testing.T) {
	f := func(files map[string]string, wantErr string) {
		t.Helper()
		fsys := fstest.MapFS{}
		for name, body := range files {
			fsys["m/"+name] = &fstest.MapFile{Data: []byte(body)}
		}
		_, err := loadMigrations(fsys, "m")
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("loadMigrations(%v) err = %v, want it to contain %q", files, err, wantErr)
		}
	}
	f(map[string]string{"1_a.sql": "SELECT 1"}, "NNN_name.sql")
	f(map[string]string{"001_a.sql": "SELECT 1", "001_b.sql": "SELECT 1"}, "share version 1")
	f(map[string]string{"001_a.sql": "-- nothing"}, "no statements")
	f(map[string]string{"001_a.sql": "-- requires: x\nSELECT 1"}, "invalid version")
	f(map[string]string{"001_a.sql": "SELECT 'x"}, "unterminated")

	migs, err := loadMigrations(fstest.MapFS{
		"m/002_b.sql": {Data: []byte("-- requires: 20.1\nALTER TABLE t MODIFY TTL d;")},
		"m/001_a.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS t (d DateTime) ENGINE = Log")},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != 2 || migs[0].Name != "a" || migs[1].Requires != (Version{20, 1, 0}) || migs[0].Requires != (Version{}) {
		t.Errorf("loadMigrations = %+v", migs)
	}
}

func TestQueriesRegistry(t *testing.T) {
	// Values go through PrepareBatch; INSERT ... SELECT (the compactor's)
	// names its columns too.
	insert := regexp.MustCompile(`(?is)^INSERT INTO \w+ \(([^)]+)\)(\s*|\s+SELECT\s.*)$`)
	for name, q := range allQueries(t) {
		if strings.HasPrefix(strings.ToUpper(q), "INSERT") && !insert.MatchString(q) {
			t.Errorf("%s: INSERT must name its columns and carry no VALUES (rows go through PrepareBatch): %s", name, q)
		}
		for _, bad := range []string{"toStartOfInterval", "JSONExtract", "DateTime64", " OVER (", "multiSearch", "LIMIT ? OFFSET"} {
			if strings.Contains(q, bad) {
				t.Errorf("%s uses %q, which 18.16 lacks", name, bad)
			}
		}
	}
}

func TestDomain(t *testing.T) {
	f := func(canonical, url, want string) {
		t.Helper()
		if got := Domain(&schema.Post{CanonicalURL: canonical, URL: url}); got != want {
			t.Errorf("Domain(%q, %q) = %q, want %q", canonical, url, got, want)
		}
	}
	f("https://www.LeMonde.fr/a", "https://other.example/x", "lemonde.fr")
	f("", "http://vnexpress.net:8080/p?q=1", "vnexpress.net")
	f("", "", "")
	f("::bad", "https://tuoitre.vn/", "tuoitre.vn")
	f("", "/relative/path", "")
}

func TestUniqueStrings(t *testing.T) {
	got := uniqueStrings([]string{"b", "", "a", "b", "a"})
	if !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("uniqueStrings = %q", got)
	}
	if got := uniqueStrings(nil); got == nil || len(got) != 0 {
		t.Errorf("uniqueStrings(nil) = %#v, want empty non-nil", got)
	}
}
