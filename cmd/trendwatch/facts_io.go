package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// Facts reach a deployment through Kafka when --kafka-brokers is set or a
// local `trendwatch run` is recorded in --data-dir, and otherwise through
// the HTTP API of a running trendwatch (--listen, default 127.0.0.1:8080).
func init() {
	newFactSink = func(ctx context.Context, c *config, stderr io.Writer) (facts.Sink, func() error, error) {
		if c.KafkaBrokers != "" {
			brokers, _ := bus.ParseBrokers(c.KafkaBrokers)
			cfg := c.busConfig(brokers)
			if err := bus.EnsureTopics(ctx, cfg); err != nil {
				return nil, nil, err
			}
			p := bus.NewProducer(cfg, slog.New(slog.NewTextHandler(stderr, nil)))
			return p, p.Close, nil
		}
		return &apiFacts{base: "http://" + c.Listen, token: c.APIToken, client: &http.Client{Timeout: 60 * time.Second}}, func() error { return nil }, nil
	}
	newFactSource = func(ctx context.Context, c *config) (func(ctx context.Context) ([]schema.Fact, error), func() error, error) {
		if c.ClickHouseAddr != "" {
			st, err := clickhouse.Open(ctx, clickhouse.Options{Addrs: strings.Split(c.ClickHouseAddr, ","), Database: c.ClickHouseDatabase, Username: c.ClickHouseUser, Password: c.ClickHousePassword}, nil)
			if err != nil {
				return nil, nil, err
			}
			load := func(ctx context.Context) ([]schema.Fact, error) {
				var all []schema.Fact
				for off := 0; ; off += 1000 {
					fs, err := st.Facts(ctx, clickhouse.FactQuery{Limit: 1000, Offset: off})
					if err != nil {
						return nil, err
					}
					all = append(all, fs...)
					if len(fs) < 1000 {
						return all, nil
					}
				}
			}
			return load, st.Close, nil
		}
		api := &apiFacts{base: "http://" + c.Listen, token: c.APIToken, client: &http.Client{Timeout: 60 * time.Second}}
		return api.all, func() error { return nil }, nil
	}
}

// authHint tells a CLI user refused by the API how to authenticate.
const authHint = "pass a token of a responder or admin with --api-token or TRENDWATCH_API_TOKEN_FILE " +
	"(create one with `trendwatch users token LABEL --role responder`), or run the command on the same machine as a trendwatch " +
	"that has no users or tokens yet (loopback clients need none then), or with --data-dir of a local `trendwatch run`"

// apiFacts talks to a running trendwatch's facts API.
type apiFacts struct {
	base, token string
	client      *http.Client
}

func (a *apiFacts) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the trendwatch API at %s (set --listen, or --data-dir of a local `trendwatch run`, or --kafka-brokers to publish directly): %w", a.base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("the trendwatch API at %s refused %s %s (%s): %s", a.base, method, path, resp.Status, authHint)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *apiFacts) PutFacts(ctx context.Context, fs []schema.Fact) error {
	return a.do(ctx, http.MethodPost, "/api/v1/facts", fs, nil)
}

func (a *apiFacts) DeleteFact(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodDelete, "/api/v1/facts/"+url.PathEscape(id), nil, nil)
}

func (a *apiFacts) all(ctx context.Context) ([]schema.Fact, error) {
	var all []schema.Fact
	for off := 0; ; off += 1000 {
		var page struct {
			Facts []schema.Fact `json:"facts"`
		}
		if err := a.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/facts?limit=1000&offset=%d", off), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Facts...)
		if len(page.Facts) < 1000 {
			return all, nil
		}
	}
}
