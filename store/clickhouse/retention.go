package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Retention is how long each class of data is kept; zero keeps it for
// ever. Facts, sources, cases and their events, alerts (the evidence of
// cases), users and tokens are never dropped.
type Retention struct {
	// Raw is for posts and the rows they spread into (topic_posts,
	// matches), by the post's publish time: the bulk of the disk.
	Raw time.Duration
	// Aggregates is for hourly rollups, the compactor's exact hours and
	// trend flags, which keep long dashboard windows answerable after the
	// raw rows are gone.
	Aggregates time.Duration
}

// DefaultRetention keeps raw posts 90 days and aggregates about 13 months
// (a year-on-year view).
var DefaultRetention = Retention{Raw: 90 * 24 * time.Hour, Aggregates: 400 * 24 * time.Hour}

// Retention classes.
const (
	ClassRaw        = "raw"
	ClassAggregates = "aggregates"
	ClassKept       = "kept"
)

// partitioning says how a table is partitioned, so a partition's id tells
// when its rows end.
type partitioning int

const (
	unpartitioned partitioning = iota
	byMonth                    // toYYYYMM(t): "202608"
	byDay                      // toYYYYMMDD(t): "20260817"
)

// retained lists every table the migrations create, with its class and
// partitioning (a test checks the list against the migrations).
var retained = []struct {
	table string
	class string
	parts partitioning
}{
	{"posts", ClassRaw, unpartitioned},
	{"topic_posts", ClassRaw, byDay},
	{"matches", ClassRaw, byMonth},
	{"topic_hour", ClassAggregates, byMonth},
	{"topic_hour_exact", ClassAggregates, byMonth},
	{"topic_day_authors", ClassAggregates, byMonth},
	{"topic_hour_keys", ClassAggregates, byMonth},
	{"topic_hour_facts", ClassAggregates, byMonth},
	{"trend_flags", ClassAggregates, byMonth},
	{"topic_labels", ClassAggregates, byMonth},    // spellings: a topic keeps its name as long as its counts
	{"hour_deliveries", ClassKept, unpartitioned}, // one row an hour: the compactor's check that an hour is complete
	{"compactions", ClassKept, unpartitioned},
	{"facts", ClassKept, unpartitioned},
	{"alerts", ClassKept, byMonth},
	{"sources", ClassKept, unpartitioned},
	{"source_status", ClassKept, unpartitioned},
	{"cases", ClassKept, unpartitioned},
	{"case_events", ClassKept, unpartitioned},
	{"users", ClassKept, unpartitioned},
	{"api_tokens", ClassKept, unpartitioned},
	{"sessions", ClassKept, unpartitioned},
	{"settings_audit", ClassKept, unpartitioned},
	{"schema_migrations", ClassKept, unpartitioned},
}

const (
	qTablePartitions = `SELECT DISTINCT partition FROM system.parts WHERE database = ? AND table = ? AND active ORDER BY partition`
	qTableSizes      = `SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE database = ? AND active GROUP BY table ORDER BY table`
	// Posts are not partitioned (FINAL needs every delivery of a post in
	// one part set, and rebuilding the table online would lose writes), so
	// their expired rows go by a mutation that the server applies in the
	// background. args: cutoff
	qDeleteOldPosts = `ALTER TABLE posts DELETE WHERE published < toDateTime(?)`
	qCountOldPosts  = `SELECT count() FROM posts WHERE published < toDateTime(?)`
	// args: table, partition id (digits only)
	qDropPartition = `ALTER TABLE %s DROP PARTITION %s`
)

// partitionEnd is when the rows of partition id end (exclusive), or false
// when the id is not a month or a day.
func partitionEnd(p partitioning, id string) (time.Time, bool) {
	switch p {
	case byMonth:
		t, err := time.Parse("200601", id)
		return t.AddDate(0, 1, 0), err == nil
	case byDay:
		t, err := time.Parse("20060102", id)
		return t.AddDate(0, 0, 1), err == nil
	}
	return time.Time{}, false
}

// RetentionReport is what one EnforceRetention round did.
type RetentionReport struct {
	Dropped   []string // "table/partition"
	PostsTill time.Time
}

// EnforceRetention drops every partition whose rows all end before its
// class's cutoff, and asks the server to delete raw posts published before
// the raw cutoff. Partitions are dropped whole (18.16 has no TTL), so a
// month partition goes once its last day is older than the cutoff. Run it
// in one process of a deployment (serve's --retention-every).
func (s *Store) EnforceRetention(ctx context.Context, r Retention, now time.Time) (RetentionReport, error) {
	var rep RetentionReport
	cutoff := map[string]time.Time{}
	if r.Raw > 0 {
		cutoff[ClassRaw] = now.Add(-r.Raw).UTC()
	}
	if r.Aggregates > 0 {
		cutoff[ClassAggregates] = now.Add(-r.Aggregates).UTC()
	}
	for _, t := range retained {
		c, ok := cutoff[t.class]
		if !ok || t.parts == unpartitioned {
			continue
		}
		parts, err := s.partitions(ctx, t.table)
		if err != nil {
			return rep, err
		}
		for _, id := range parts {
			end, ok := partitionEnd(t.parts, id)
			if !ok || end.After(c) {
				continue
			}
			// The id is digits only (checked by partitionEnd's parse), so
			// it is safe to write into the statement.
			if err := s.conn.Exec(ctx, fmt.Sprintf(qDropPartition, t.table, id)); err != nil {
				return rep, fmt.Errorf("cannot drop partition %s of %s: %w", id, t.table, err)
			}
			retentionDropped.WithLabelValues(t.table).Inc()
			rep.Dropped = append(rep.Dropped, t.table+"/"+id)
		}
	}
	if c, ok := cutoff[ClassRaw]; ok {
		var old uint64
		if err := s.conn.QueryRow(ctx, qCountOldPosts, c.Unix()).Scan(&old); err != nil {
			return rep, fmt.Errorf("cannot count expired posts: %w", err)
		}
		if old > 0 {
			if err := s.conn.Exec(ctx, qDeleteOldPosts, c.Unix()); err != nil {
				return rep, fmt.Errorf("cannot delete posts published before %s: %w", c.Format(time.RFC3339), err)
			}
			rep.PostsTill = c
		}
	}
	return rep, nil
}

func (s *Store) partitions(ctx context.Context, table string) ([]string, error) {
	rows, err := s.conn.Query(ctx, qTablePartitions, s.db, table)
	if err != nil {
		return nil, fmt.Errorf("cannot list partitions of %s: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("cannot list partitions of %s: %w", table, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// TableSize is one table's share of the disk.
type TableSize struct {
	Table string
	Class string // raw, aggregates or kept
	Rows  uint64
	Bytes uint64
}

// TableSizes lists the database's tables with their rows and bytes on disk.
func (s *Store) TableSizes(ctx context.Context) ([]TableSize, error) {
	rows, err := s.conn.Query(ctx, qTableSizes, s.db)
	if err != nil {
		return nil, fmt.Errorf("cannot read table sizes: %w", err)
	}
	defer rows.Close()
	class := map[string]string{}
	for _, t := range retained {
		class[t.table] = t.class
	}
	var out []TableSize
	for rows.Next() {
		var ts TableSize
		if err := rows.Scan(&ts.Table, &ts.Rows, &ts.Bytes); err != nil {
			return nil, fmt.Errorf("cannot read table sizes: %w", err)
		}
		if ts.Class = class[ts.Table]; ts.Class == "" {
			ts.Class = ClassKept
		}
		out = append(out, ts)
	}
	return out, rows.Err()
}

var (
	retentionDropped = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "retention_dropped_partitions_total",
		Help: "Partitions dropped by retention, by table.",
	}, []string{"table"})
	retentionErrors = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "retention_errors_total",
		Help: "Retention rounds that failed.",
	})
	tableBytes = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "table_bytes",
		Help: "Bytes on disk per ClickHouse table (active parts), with its retention class.",
	}, []string{"table", "class"})
	tableRows = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "trendwatch", Subsystem: "store", Name: "table_rows",
		Help: "Rows per ClickHouse table (active parts, before merges collapse duplicates).",
	}, []string{"table", "class"})
)

// Janitor enforces retention and publishes table sizes every Interval.
type Janitor struct {
	store    *Store
	interval time.Duration
	keep     Retention
	log      *slog.Logger
}

// NewJanitor returns a Janitor; interval defaults to 1h.
func NewJanitor(s *Store, keep Retention, interval time.Duration, log *slog.Logger) *Janitor {
	if interval <= 0 {
		interval = time.Hour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Janitor{store: s, interval: interval, keep: keep, log: log.With(slog.String("component", "retention"))}
}

// Run enforces retention at once, then every interval, until ctx ends; a
// failed round is logged, counted and retried at the next.
func (j *Janitor) Run(ctx context.Context) error {
	t := time.NewTicker(j.interval)
	defer t.Stop()
	for {
		rep, err := j.store.EnforceRetention(ctx, j.keep, j.store.now())
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			retentionErrors.Inc()
			j.log.Warn("retention round failed; retrying next round", slog.Any("err", err))
		case len(rep.Dropped) > 0 || !rep.PostsTill.IsZero():
			j.log.Info("retention", slog.Any("dropped", rep.Dropped), slog.Time("posts_before", rep.PostsTill))
		}
		if sizes, err := j.store.TableSizes(ctx); err == nil {
			for _, s := range sizes {
				tableBytes.WithLabelValues(s.Table, s.Class).Set(float64(s.Bytes))
				tableRows.WithLabelValues(s.Table, s.Class).Set(float64(s.Rows))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
