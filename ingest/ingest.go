// Package ingest holds what every collector shares: the Publisher that takes
// normalised posts onward (Kafka in production, memory in tests).
// Collectors live in sub-packages: fetch (the one HTTP client), feed,
// crawl, social/<platform>, push, replay.
package ingest

import (
	"context"
	"sync"

	"github.com/trendwatch/trendwatch/schema"
)

// Publisher takes posts onward. Publish returns only once the posts are
// durably accepted (for Kafka: acknowledged by all in-sync replicas), so a
// collector may advance its own state (ETag, seen set) after it returns.
type Publisher interface {
	Publish(ctx context.Context, posts ...schema.Post) error
}

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
