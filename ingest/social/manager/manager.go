// Package manager runs one social connector per enabled source of kind
// mastodon, bluesky, reddit, telegram or youtube from a sources.Store,
// starting connectors for new sources and stopping those whose source was
// removed, disabled or changed, within one reload interval.
//
// Source fields by kind (Options are schema.Source.Options):
//
//	mastodon  URL https://instance; options tag, local=true, keywords (comma-separated)
//	bluesky   URL a Jetstream subscribe URL (wss://…), or empty for the public one; options keywords, langs, dids
//	reddit    URL https://www.reddit.com/r/<sub> (or options subreddit); options query
//	telegram  URL https://t.me/s/<channel> or the channel name
//	youtube   URL a channel id, /channel/UC… URL or feed URL
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/ingest"
	"github.com/trendwatch/trendwatch/ingest/fetch"
	"github.com/trendwatch/trendwatch/ingest/social/bluesky"
	"github.com/trendwatch/trendwatch/ingest/social/mastodon"
	"github.com/trendwatch/trendwatch/ingest/social/reddit"
	"github.com/trendwatch/trendwatch/ingest/social/telegram"
	"github.com/trendwatch/trendwatch/ingest/social/youtube"
	"github.com/trendwatch/trendwatch/ingest/sources"
	"github.com/trendwatch/trendwatch/schema"
)

// Kinds the manager runs.
var Kinds = []string{sources.KindMastodon, sources.KindBluesky, sources.KindReddit, sources.KindTelegram, sources.KindYouTube}

// Options configures a Manager.
type Options struct {
	Store     sources.Store
	Publisher ingest.Publisher
	Client    *fetch.Client
	// MastodonTokens maps an instance host to its access token (tokens are
	// secrets: they come from configuration, not from the source list).
	MastodonTokens map[string]string
	ReloadInterval time.Duration // default 10s
	// Endpoints overrides platform base URLs (tests): "reddit", "telegram".
	Endpoints map[string]string
}

// Runner is a connector.
type Runner interface {
	Run(ctx context.Context) error
}

// Manager supervises connectors.
type Manager struct {
	opts    Options
	log     *slog.Logger
	running map[string]*running
	failed  map[string]string // source id → fingerprint that failed to build (logged once)
}

type running struct {
	fingerprint string
	cancel      context.CancelFunc
	done        chan struct{}
}

// New checks the options.
func New(opts Options, logger *slog.Logger) (*Manager, error) {
	if opts.Store == nil || opts.Publisher == nil || opts.Client == nil {
		return nil, errors.New("social manager needs a source store, a publisher and a fetch client")
	}
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = 10 * time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: opts, log: logger.With(slog.String("component", "social")), running: map[string]*running{}, failed: map[string]string{}}, nil
}

// Run supervises until ctx ends, then stops every connector and waits.
func (m *Manager) Run(ctx context.Context) error {
	defer m.stopAll()
	for {
		if err := m.reload(ctx); err != nil {
			m.log.Warn("cannot reload social sources", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(m.opts.ReloadInterval):
		}
	}
}

func fingerprint(s schema.Source) string {
	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(s.Kind + "\x00" + s.URL + "\x00" + s.Lang + "\x00" + s.Interval.String())
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + s.Options[k])
	}
	return b.String()
}

func (m *Manager) reload(ctx context.Context) error {
	list, err := m.opts.Store.List(ctx)
	if err != nil {
		return err
	}
	want := map[string]schema.Source{}
	for _, s := range list {
		if s.Enabled && slices.Contains(Kinds, s.Kind) {
			want[s.ID] = s
		}
	}
	for id, r := range m.running {
		if s, ok := want[id]; !ok || fingerprint(s) != r.fingerprint {
			m.stop(id)
		}
	}
	for id, s := range want {
		if _, ok := m.running[id]; ok {
			continue
		}
		fp := fingerprint(s)
		if m.failed[id] == fp {
			continue
		}
		conn, err := m.Build(s)
		if err != nil {
			m.failed[id] = fp
			m.log.Warn("cannot start connector", slog.String("kind", s.Kind), slog.String("source", s.URL), slog.Any("err", err))
			continue
		}
		delete(m.failed, id)
		cctx, cancel := context.WithCancel(ctx)
		r := &running{fingerprint: fp, cancel: cancel, done: make(chan struct{})}
		m.running[id] = r
		m.log.Info("connector started", slog.String("kind", s.Kind), slog.String("source", s.URL))
		go func() {
			defer close(r.done)
			if err := conn.Run(cctx); err != nil {
				m.log.Warn("connector stopped", slog.String("source", s.URL), slog.Any("err", err))
			}
		}()
	}
	return nil
}

func (m *Manager) stop(id string) {
	r := m.running[id]
	r.cancel()
	<-r.done
	delete(m.running, id)
}

func (m *Manager) stopAll() {
	for id := range m.running {
		m.stop(id)
	}
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Build makes the connector for a source.
func (m *Manager) Build(s schema.Source) (Runner, error) {
	o := s.Options
	pub, client := m.opts.Publisher, m.opts.Client
	switch s.Kind {
	case sources.KindMastodon:
		u, err := url.Parse(s.URL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("mastodon source %q: URL must be the instance, https://host", s.URL)
		}
		local, _ := strconv.ParseBool(o["local"])
		return mastodon.New(mastodon.Options{Instance: s.URL, Tag: o["tag"], Local: local, Keywords: list(o["keywords"]),
			AccessToken: m.opts.MastodonTokens[u.Host], Publisher: pub, Client: client}, m.log)
	case sources.KindBluesky:
		return bluesky.New(bluesky.Options{Endpoint: s.URL, Keywords: list(o["keywords"]), Langs: list(o["langs"]), DIDs: list(o["dids"]),
			Publisher: pub, Client: client}, m.log)
	case sources.KindReddit:
		sub := o["subreddit"]
		base := m.opts.Endpoints["reddit"]
		if u, err := url.Parse(s.URL); err == nil && u.Host != "" {
			if rest, ok := strings.CutPrefix(u.Path, "/r/"); ok && sub == "" {
				sub = strings.Trim(rest, "/")
			}
			if base == "" {
				base = u.Scheme + "://" + u.Host
			}
		}
		return reddit.New(reddit.Options{Base: base, Subreddit: sub, Query: o["query"], Interval: s.Interval, Publisher: pub, Client: client}, m.log)
	case sources.KindTelegram:
		return telegram.New(telegram.Options{Base: m.opts.Endpoints["telegram"], Channel: s.URL, Lang: s.Lang, Interval: s.Interval, Publisher: pub, Client: client}, m.log)
	case sources.KindYouTube:
		return youtube.New(youtube.Options{Channel: s.URL, Lang: s.Lang, Interval: s.Interval, Publisher: pub, Client: client}, m.log)
	}
	return nil, fmt.Errorf("no connector for kind %q", s.Kind)
}
