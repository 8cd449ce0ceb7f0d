package clickhouse

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migration is one embedded migrations/NNN_name.sql file.
type Migration struct {
	Version    int
	Name       string
	Statements []string
	// Requires is the oldest server the migration runs on (from a
	// "-- requires: 20.1" header); zero means any supported server. Older
	// servers skip it without recording it, so it applies after an upgrade.
	Requires Version
	Checksum string
}

var migrationNameRE = regexp.MustCompile(`^(\d{3,})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) { return loadMigrations(migrationsFS, "migrations") }

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("cannot list migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := migrationNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must be NNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("cannot read migration %s: %w", e.Name(), err)
		}
		req, err := requiresHeader(string(b))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		stmts, err := SplitStatements(string(b))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		if len(stmts) == 0 {
			return nil, fmt.Errorf("migration %s has no statements", e.Name())
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: m[2], Statements: stmts, Requires: req, Checksum: hex.EncodeToString(sum[:8])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

var requiresRE = regexp.MustCompile(`(?m)^--\s*requires:\s*(\S+)\s*$`)

func requiresHeader(sql string) (Version, error) {
	m := requiresRE.FindStringSubmatch(sql)
	if m == nil {
		return Version{}, nil
	}
	return ParseVersion(m[1])
}

// Migrate applies the embedded migrations not yet recorded in
// schema_migrations, in order.
//
// ClickHouse has no transactions or locks, so safety comes from the
// statements themselves: every one is idempotent (CREATE ... IF NOT
// EXISTS), a migration is recorded only after all its statements succeed,
// and the record table collapses duplicate records. Two processes migrating
// at once therefore both succeed and leave one schema; a crash mid-way
// re-runs the migration next time.
func (s *Store) Migrate(ctx context.Context) error {
	migs, err := Migrations()
	if err != nil {
		return err
	}
	return s.migrate(ctx, migs)
}

func (s *Store) migrate(ctx context.Context, migs []Migration) error {
	if err := s.conn.Exec(ctx, qCreateMigrations); err != nil {
		return fmt.Errorf("cannot create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := s.conn.Query(ctx, qAppliedMigrations)
	if err != nil {
		return fmt.Errorf("cannot read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("cannot read schema_migrations: %w", err)
		}
		applied[int(v)] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read schema_migrations: %w", err)
	}
	for _, m := range migs {
		if applied[m.Version] {
			continue
		}
		if m.Requires != (Version{}) && s.version.Less(m.Requires) {
			s.logger.Warn("skipping migration that needs a newer ClickHouse",
				slog.Int("version", m.Version), slog.String("name", m.Name),
				slog.String("requires", m.Requires.String()), slog.String("server", s.version.String()))
			continue
		}
		for i, stmt := range m.Statements {
			if done, err := s.columnDone(ctx, stmt); err != nil {
				return fmt.Errorf("migration %03d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			} else if done {
				continue
			}
			if err := s.conn.Exec(ctx, stmt); err != nil {
				// A concurrent Migrate may have altered the column first.
				if done, cerr := s.columnDone(ctx, stmt); cerr == nil && done {
					continue
				}
				return fmt.Errorf("migration %03d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		b, err := s.prepare(ctx, "schema_migrations", qRecordMigration)
		if err != nil {
			return err
		}
		if err := b.append(uint32(m.Version), m.Name, m.Checksum); err != nil {
			b.batch.Abort()
			return err
		}
		if err := b.send(); err != nil {
			return fmt.Errorf("cannot record migration %03d_%s: %w", m.Version, m.Name, err)
		}
		s.logger.Info("applied migration", slog.Int("version", m.Version), slog.String("name", m.Name))
	}
	return nil
}

var (
	dropColumnRE = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\w+)\s+DROP\s+COLUMN\s+(\w+)$`)
	addColumnRE  = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)\s`)
)

// columnDone reports whether stmt drops a column that is already gone or
// adds one that is already there, so that a migration interrupted after
// its ALTER ran can run again (18.16 has no IF [NOT] EXISTS for columns).
func (s *Store) columnDone(ctx context.Context, stmt string) (bool, error) {
	stmt = strings.TrimSpace(stmt)
	want := uint64(0) // a dropped column is done when it is gone
	m := dropColumnRE.FindStringSubmatch(stmt)
	if m == nil {
		if m = addColumnRE.FindStringSubmatch(stmt); m == nil {
			return false, nil
		}
		want = 1
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, qColumnExists, s.db, m[1], m[2]).Scan(&n); err != nil {
		return false, fmt.Errorf("cannot check column %s.%s: %w", m[1], m[2], err)
	}
	return n == want, nil
}

// SplitStatements splits SQL text into statements at semicolons outside
// quotes, backquotes and comments, dropping comments and empty statements.
// An unterminated quote or block comment is an error.
func SplitStatements(sql string) ([]string, error) {
	var (
		out []string
		cur strings.Builder
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			// Line comment: skip to end of line, keep the newline.
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
				continue
			}
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated block comment at byte %d", i)
			}
			cur.WriteByte(' ')
			i += j + 4
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(sql); j++ {
				if sql[j] == '\\' {
					j++
					continue
				}
				if sql[j] == c {
					// A doubled quote is an escaped quote.
					if j+1 < len(sql) && sql[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(sql) {
				return nil, fmt.Errorf("unterminated %c quote at byte %d", c, i)
			}
			cur.WriteString(sql[i : j+1])
			i = j + 1
		case c == ';':
			flush()
			i++
		default:
			cur.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}
