package bench

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/trendwatch/trendwatch/schema"
)

// AnalyzedWriter is the store's write path (clickhouse.Store.WriteAnalyzed).
type AnalyzedWriter interface {
	WriteAnalyzed(ctx context.Context, items []schema.Analyzed) error
}

// CeilingResult is the raw insert rate of the same rows the pipeline
// carried, with nothing else in the way.
type CeilingResult struct {
	Rows  int `json:"rows"`
	Batch int `json:"batch"`
	// StorePerS: clickhouse.Store.WriteAnalyzed (posts, topic rows and
	// matches, as the analyzer writes them), one client, posts/s.
	StorePerS float64 `json:"store_write_analyzed_per_s"`
	// PlainPerS: a plain columnar INSERT of the posts table's rows only,
	// one client, rows/s — the "ClickHouse alone" figure.
	PlainPerS float64 `json:"plain_insert_per_s"`
	// UnpartitionedPerS: the same plain INSERT into a table like posts but
	// without its PARTITION BY cityHash64(id) % 16, which makes every
	// insert write up to 16 parts; the difference is that clause's cost.
	UnpartitionedPerS float64 `json:"plain_insert_unpartitioned_per_s"`
}

// MeasureStore times w.WriteAnalyzed over rows in batches of batch.
func MeasureStore(ctx context.Context, w AnalyzedWriter, rows []schema.Analyzed, batch int) (float64, error) {
	if len(rows) == 0 || batch <= 0 {
		return 0, fmt.Errorf("cannot measure the store ceiling: %d rows, batch %d", len(rows), batch)
	}
	start := time.Now()
	for lo := 0; lo < len(rows); lo += batch {
		hi := min(lo+batch, len(rows))
		if err := w.WriteAnalyzed(ctx, rows[lo:hi]); err != nil {
			return 0, fmt.Errorf("cannot write ceiling batch at row %d: %w", lo, err)
		}
	}
	return float64(len(rows)) / time.Since(start).Seconds(), nil
}

// postsColumns is migration 001's posts table without its engine clause.
const postsColumns = `(id String, source String, platform String, url String, canonical_url String, author String,
    lang String, title String, text String, published DateTime, fetched DateTime, likes Int64, shares Int64,
    replies Int64, topics Array(String), fact_ids Array(String), ingested DateTime)`

// MeasurePlain creates table (like posts, in database db; partitioned as
// posts is, or not) and times a plain columnar INSERT of rows in batches
// of batch, then drops the table.
func MeasurePlain(ctx context.Context, addr []string, db, user, password, table string, partitioned bool, rows []schema.Analyzed, batch int) (float64, error) {
	if len(rows) == 0 || batch <= 0 {
		return 0, fmt.Errorf("cannot measure the plain insert ceiling: %d rows, batch %d", len(rows), batch)
	}
	conn, err := ch.Open(&ch.Options{Addr: addr, Auth: ch.Auth{Database: db, Username: user, Password: password},
		DialTimeout: 5 * time.Second})
	if err != nil {
		return 0, fmt.Errorf("cannot connect to ClickHouse %v: %w", addr, err)
	}
	defer conn.Close()
	// Same columns and engine as posts (migration 001), without the
	// store's topic and match tables.
	if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		return 0, fmt.Errorf("cannot drop %s: %w", table, err)
	}
	ddl := "CREATE TABLE " + table + " AS posts"
	if !partitioned {
		ddl = "CREATE TABLE " + table + " " + postsColumns + " ENGINE = ReplacingMergeTree(ingested) ORDER BY id"
	}
	if err := conn.Exec(ctx, ddl); err != nil {
		return 0, fmt.Errorf("cannot create %s: %w", table, err)
	}
	defer func() { _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) }()
	q := "INSERT INTO " + table + " (id, source, platform, url, canonical_url, author, lang, title, text, published, fetched, likes, shares, replies, topics, fact_ids, ingested)"
	start := time.Now()
	now := time.Now().UTC()
	for lo := 0; lo < len(rows); lo += batch {
		hi := min(lo+batch, len(rows))
		b, err := conn.PrepareBatch(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("cannot prepare plain insert: %w", err)
		}
		for i := lo; i < hi; i++ {
			a := &rows[i]
			facts := make([]string, 0, len(a.Matches))
			for _, m := range a.Matches {
				facts = append(facts, m.FactID)
			}
			topics := a.Topics
			if topics == nil {
				topics = []string{}
			}
			if err := b.Append(a.ID, a.Source, a.Platform, a.URL, a.CanonicalURL, a.Author, a.Lang, a.Title, a.Text,
				a.Published.UTC(), a.Fetched.UTC(), a.Engagement.Likes, a.Engagement.Shares, a.Engagement.Replies,
				topics, facts, now); err != nil {
				_ = b.Abort()
				return 0, fmt.Errorf("cannot append plain row %d: %w", i, err)
			}
		}
		if err := b.Send(); err != nil {
			return 0, fmt.Errorf("cannot send plain batch at row %d: %w", lo, err)
		}
	}
	return float64(len(rows)) / time.Since(start).Seconds(), nil
}

// DropDatabase removes db (a benchmark's scratch database).
func DropDatabase(ctx context.Context, addr []string, user, password, db string) error {
	conn, err := ch.Open(&ch.Options{Addr: addr, Auth: ch.Auth{Database: "default", Username: user, Password: password}, DialTimeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("cannot connect to ClickHouse %v: %w", addr, err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		return fmt.Errorf("cannot drop database %s: %w", db, err)
	}
	return nil
}
