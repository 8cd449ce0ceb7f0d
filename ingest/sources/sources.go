// Package sources keeps the list of things collectors watch
// (schema.Source): a Store interface the collectors poll for changes, a
// memory and a file-backed implementation (the ClickHouse one lives with
// the store), and OPML import/export so analysts can move feed lists
// between trendwatch and ordinary feed readers. OPML is parsed with
// encoding/xml: the format is three elements deep and needs no library.
package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Store lists the sources to watch. Collectors call List periodically, so
// a source added through any implementation is picked up within seconds.
type Store interface {
	List(ctx context.Context) ([]schema.Source, error)
}

// Kinds of source.
const (
	KindFeed     = "feed"
	KindCrawl    = "crawl"
	KindMastodon = "mastodon"
	KindBluesky  = "bluesky"
	KindReddit   = "reddit"
	KindTelegram = "telegram"
	KindYouTube  = "youtube"
)

var knownKinds = []string{KindFeed, KindCrawl, KindMastodon, KindBluesky, KindReddit, KindTelegram, KindYouTube}

// Normalize fills the derived fields of s (ID, Created) and checks it.
func Normalize(s schema.Source, now time.Time) (schema.Source, error) {
	s.Kind = strings.ToLower(strings.TrimSpace(s.Kind))
	s.URL = strings.TrimSpace(s.URL)
	if !slices.Contains(knownKinds, s.Kind) {
		return s, fmt.Errorf("source %q: unknown kind %q (want one of %s)", s.URL, s.Kind, strings.Join(knownKinds, ", "))
	}
	if s.URL == "" {
		return s, errors.New("source has no URL")
	}
	if s.Kind == KindFeed || s.Kind == KindCrawl || s.Kind == KindYouTube {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, fmt.Errorf("source %q: %s needs an absolute http(s) URL", s.URL, s.Kind)
		}
	}
	if s.Interval < 0 {
		return s, fmt.Errorf("source %q: negative interval", s.URL)
	}
	if s.ID == "" {
		s.ID = schema.SourceID(s.Kind, s.URL)
	}
	if s.Created.IsZero() {
		s.Created = now.UTC()
	}
	return s, nil
}

// Memory is an in-memory Store; safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	sources map[string]schema.Source
}

// NewMemory returns a Memory holding srcs (normalised).
func NewMemory(srcs ...schema.Source) (*Memory, error) {
	m := &Memory{sources: map[string]schema.Source{}}
	for _, s := range srcs {
		if err := m.Put(s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Put adds or replaces a source.
func (m *Memory) Put(s schema.Source) error {
	s, err := Normalize(s, time.Now())
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources[s.ID] = s
	return nil
}

// Delete removes a source by id.
func (m *Memory) Delete(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sources, id)
}

// List implements Store, sorted by id for stable output.
func (m *Memory) List(context.Context) ([]schema.Source, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]schema.Source, 0, len(m.sources))
	for _, s := range m.sources {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b schema.Source) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// File is a Store backed by a JSON file (an array of sources). List
// re-reads the file when it changed, so an operator editing it (or another
// process calling Put) is seen on the next reload. Writes are atomic
// (temp file + rename).
type File struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	cache   []schema.Source
}

// NewFile returns a File store at path; a missing file is an empty list.
func NewFile(path string) *File { return &File{path: path} }

// List implements Store.
func (f *File) List(context.Context) ([]schema.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.load()
}

func (f *File) load() ([]schema.Source, error) {
	st, err := os.Stat(f.path)
	if errors.Is(err, os.ErrNotExist) {
		f.cache, f.modTime, f.size = nil, time.Time{}, 0
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot stat sources file: %w", err)
	}
	if f.cache != nil && st.ModTime().Equal(f.modTime) && st.Size() == f.size {
		return slices.Clone(f.cache), nil
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("cannot read sources file: %w", err)
	}
	var raw []schema.Source
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("cannot parse sources file %s: %w", f.path, err)
	}
	out := make([]schema.Source, 0, len(raw))
	for i, s := range raw {
		n, err := Normalize(s, st.ModTime())
		if err != nil {
			return nil, fmt.Errorf("sources file %s, entry %d: %w", f.path, i, err)
		}
		out = append(out, n)
	}
	f.cache, f.modTime, f.size = out, st.ModTime(), st.Size()
	return slices.Clone(out), nil
}

// Put adds or replaces (same id) sources and writes the file.
func (f *File) Put(srcs ...schema.Source) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, err := f.load()
	if err != nil {
		return err
	}
	for _, s := range srcs {
		n, err := Normalize(s, time.Now())
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(cur, func(c schema.Source) bool { return c.ID == n.ID }); i >= 0 {
			cur[i] = n
		} else {
			cur = append(cur, n)
		}
	}
	return f.write(cur)
}

// Delete removes a source by id and writes the file.
func (f *File) Delete(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, err := f.load()
	if err != nil {
		return err
	}
	return f.write(slices.DeleteFunc(cur, func(s schema.Source) bool { return s.ID == id }))
}

func (f *File) write(srcs []schema.Source) error {
	b, err := json.MarshalIndent(srcs, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode sources: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".sources-*.json")
	if err != nil {
		return fmt.Errorf("cannot write sources file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write sources file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write sources file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("cannot replace sources file: %w", err)
	}
	f.cache = nil // force a re-read (and re-stat) next time
	return nil
}
