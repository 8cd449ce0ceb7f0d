// Package ingest holds what every collector shares: the Publisher that takes
// normalised posts onward (Kafka in production, memory in tests).
// Collectors live in sub-packages: fetch (the one HTTP client), feed,
// crawl, social/<platform>, push, replay.
package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Publisher takes posts onward. Publish returns only once the posts are
// durably accepted (for Kafka: acknowledged by all in-sync replicas), so a
// collector may advance its own state (ETag, seen set) after it returns.
type Publisher interface {
	Publish(ctx context.Context, posts ...schema.Post) error
}

// UndatedBacklog is the published time of an item that carried no usable
// date and was already there when its source was first polled (the
// source's backlog): 1970-01-01T00:00:00Z, which keeps it out of every
// trend window and every rate, while it is still stored, searchable and
// matched against facts. Stamping such items with the fetch time, as
// collectors once did, made a new source's whole backlog look published
// in one minute: a burst that never happened. An undated item that
// appears after the first poll gets its first-seen (fetch) time, which is
// then within one poll interval of the truth.
//
// Dated items keep their dates: the trend detector runs on event time, so
// an old item counts at its old time and cannot make a burst now.
var UndatedBacklog = time.Unix(0, 0).UTC()

// MemoryPublisher collects posts in memory; for tests and dry runs.
type MemoryPublisher struct {
	mu    sync.Mutex
	posts []schema.Post
}

// Publish implements Publisher.
func (m *MemoryPublisher) Publish(_ context.Context, posts ...schema.Post) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.posts = append(m.posts, posts...)
	return nil
}

// Posts returns a copy of everything published so far.
func (m *MemoryPublisher) Posts() []schema.Post {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]schema.Post(nil), m.posts...)
}
