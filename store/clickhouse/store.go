// Package clickhouse stores trendwatch's posts, topic counts, facts,
// matches, alerts, sources and cases in ClickHouse and answers the API's
// queries.
//
// It talks to the server with github.com/ClickHouse/clickhouse-go/v2 over
// the native protocol (clickhouse.Open, not database/sql): the native
// protocol is the only one that works with the oldest supported server
// (Debian's 18.16; its HTTP interface does not speak what clickhouse-go v2
// sends), and columnar batches are the fast insert path.
//
// Post ids are hashed with github.com/go-faster/city (CH64, bit-for-bit
// ClickHouse's cityHash64, already in the module graph through ch-go): posts
// and topic rows are keyed by the 64-bit hash, which makes FINAL and
// distinct counts read 8 bytes a post instead of a 32-byte string.
//
// Correctness under at-least-once delivery is a table-design property:
// every table is a ReplacingMergeTree keyed by the record's identity and
// every count is uniqExact over an id hash, a GROUP BY per id, FINAL, or
// argMax per id (or a sum of such counts made by the compactor), so a
// record delivered many times is stored and counted once, whether or not
// ClickHouse has merged the duplicates yet.
//
// Speed at 10M posts comes from ranking before counting and from adding
// up closed hours. The per-hour rollup holds only delivery counts (upper
// bounds of the posts, merged as integers): Trends ranks all topics by them
// and counts exactly only the candidates it proves can place (trendsTop).
// The compactor (compact.go, run by serve) writes each closed hour's exact
// counts once: posts, rows, author sketches, Spread's lists and facts,
// per topic (migration 009). A post counts once per hour it has rows in,
// which makes hours add up: a week's Trends adds ~170 numbers per topic
// instead of hashing millions of posts. Readers split every window into
// compacted hours whose recorded row count still matches (late rows make
// an hour raw again until it is recompacted) and raw ranges read from
// topic_posts (plan.go), counting the same unit both ways, so an answer is
// the same whether or not an hour was compacted. Spread and Timeline count
// rows when every post is one row in each hour (the usual case: duplicates
// merged, no post moved within an hour), which the compacted hours' posts
// and rows and a check of the raw ranges tell; otherwise they dedup per
// post and hour (a GROUP BY, several times the work).
//
// Trends ranks by significance, not by a ratio: a topic's window count k
// is scored against the posts e it was expected to have, with the Poisson
// log-likelihood ratio G² = 2(k·ln(k/e) − (k − e)) (Dunning's statistic;
// 0 unless k > e; χ²₁ asymptotically, so 10.8 is p = 0.001). e comes from
// the topic's own rate in the baseline period before the window, mixed as
// a Gamma-Poisson posterior with a prior rate from a committed background
// table (posts per hour per key on the shared vi-news days, a default for
// unseen keys; `trendwatch train trend-background` rebuilds it), weighted
// as 6 hours of history and counting only hours the store has data for
// (trendRate): a new deployment's first hour ranks against the background,
// not against zero, and a word that occurs every day ranks only when its
// count truly surges. A topic enters a ranked list only with support:
// MinPosts posts from MinSources distinct sources or authors (feeds have
// no authors; their support is the outlets). Labels (migration 011,
// labels.go) turn keys into what analysts read: a story's most central
// headline, a fact's claim and verdict, a phrase's most frequent accented
// spelling, #tag, a page title or domain.
//
// Every SQL statement the package issues is a named entry in queries.go,
// so a test can run them all on both the oldest and the current engine.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Options configure a connection.
type Options struct {
	Addrs    []string // host:port of native TCP endpoints; default 127.0.0.1:9000
	Database string   // created when absent; default "trendwatch"
	Username string   // default "default"
	Password string

	DialTimeout  time.Duration // default 5s
	MaxOpenConns int           // default 8
	// Compress enables LZ4 block compression (worth it across a network).
	Compress bool
}

// Store is a connection pool to one ClickHouse database.
type Store struct {
	conn    driver.Conn
	db      string
	logger  *slog.Logger
	version Version
	now     func() time.Time // injectable for tests
}

var dbNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Open connects, creates the database when absent and returns a Store
// using it. It does not migrate; call Migrate.
func Open(ctx context.Context, opts Options, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(opts.Addrs) == 0 {
		opts.Addrs = []string{"127.0.0.1:9000"}
	}
	if opts.Database == "" {
		opts.Database = "trendwatch"
	}
	if !dbNameRE.MatchString(opts.Database) {
		// The name is spliced into CREATE DATABASE; refuse anything that is
		// not a plain identifier.
		return nil, fmt.Errorf("invalid ClickHouse database name %q", opts.Database)
	}
	if opts.Username == "" {
		opts.Username = "default"
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = 8
	}
	// The handshake fails when the database does not exist, so create it
	// through a connection to "default" first.
	boot, err := dial(ctx, opts, "default")
	if err != nil {
		return nil, err
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+opts.Database)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot create database %s on %s: %w", opts.Database, strings.Join(opts.Addrs, ","), err)
	}
	conn, err := dial(ctx, opts, opts.Database)
	if err != nil {
		return nil, err
	}
	sv, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot read ClickHouse server version: %w", err)
	}
	s := &Store{
		conn:    conn,
		db:      opts.Database,
		logger:  logger,
		version: Version{Major: int(sv.Version.Major), Minor: int(sv.Version.Minor), Patch: int(sv.Version.Patch)},
		now:     time.Now,
	}
	logger.Info("connected to ClickHouse", slog.String("addr", strings.Join(opts.Addrs, ",")),
		slog.String("database", opts.Database), slog.String("server_version", s.version.String()))
	return s, nil
}

func dial(ctx context.Context, opts Options, database string) (driver.Conn, error) {
	o := &ch.Options{
		Addr:            opts.Addrs,
		Auth:            ch.Auth{Database: database, Username: opts.Username, Password: opts.Password},
		DialTimeout:     opts.DialTimeout,
		MaxOpenConns:    opts.MaxOpenConns,
		MaxIdleConns:    opts.MaxOpenConns,
		ConnMaxLifetime: time.Hour,
		Protocol:        ch.Native,
	}
	if opts.Compress {
		o.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	}
	conn, err := ch.Open(o)
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse %s: %w", strings.Join(opts.Addrs, ","), err)
	}
	ctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot reach ClickHouse %s: %w", strings.Join(opts.Addrs, ","), err)
	}
	return conn, nil
}

// Close releases the connections.
func (s *Store) Close() error { return s.conn.Close() }

// Database is the name of the database in use.
func (s *Store) Database() string { return s.db }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ClickHouse ping: %w", err)
	}
	return nil
}

// Version is a server version, comparable with Less.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// ParseVersion reads "20.1" or "18.16.1" (further parts ignored).
func ParseVersion(s string) (Version, error) {
	var v Version
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return v, fmt.Errorf("invalid version %q: want MAJOR.MINOR[.PATCH]", s)
	}
	dst := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(parts) && i < 3; i++ {
		n, err := atoiSmall(parts[i])
		if err != nil {
			return Version{}, fmt.Errorf("invalid version %q: %w", s, err)
		}
		*dst[i] = n
	}
	return v, nil
}

func atoiSmall(s string) (int, error) {
	if s == "" || len(s) > 6 {
		return 0, errors.New("bad number")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("bad number")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// ServerVersion is the version the server reported at Open.
func (s *Store) ServerVersion() Version { return s.version }
