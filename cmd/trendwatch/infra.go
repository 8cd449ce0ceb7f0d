package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// infra is the connections a process's stages share.
type infra struct {
	cfg      *config
	log      *slog.Logger
	brokers  []string
	chAddr   string // the ClickHouse native address in use ("" without a store)
	bus      bus.Config
	producer *bus.Producer
	store    *clickhouse.Store
	closers  []func()
	settings *processSettings // liveSettings, once a stage asked
}

// connect reaches (or, when embedded is true and nothing is configured,
// starts) Kafka and ClickHouse, creates the topics and migrates the
// database. withStore=false skips ClickHouse for stages that do not use it.
func connect(ctx context.Context, c *config, log *slog.Logger, embedded, withStore bool) (*infra, error) {
	in := &infra{cfg: c, log: log}
	ok := false
	defer func() {
		if !ok {
			in.close()
		}
	}()

	if c.KafkaBrokers == "" {
		if !embedded {
			return nil, usagef("--kafka-brokers (TRENDWATCH_KAFKA_BROKERS) is required; `trendwatch run` starts an embedded broker instead")
		}
		e, err := bus.StartEmbedded(c.path("kafka"), 0, log)
		if err != nil {
			return nil, err
		}
		in.closers = append(in.closers, e.Close)
		in.brokers = e.Brokers()
	} else {
		in.brokers, _ = bus.ParseBrokers(c.KafkaBrokers)
	}
	in.bus = c.busConfig(in.brokers)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(tctx, in.bus); err != nil {
		return nil, err
	}
	in.producer = bus.NewProducer(in.bus, log)
	in.closers = append(in.closers, func() { _ = in.producer.Close() })

	if withStore {
		addr := c.ClickHouseAddr
		if addr == "" {
			if !embedded {
				return nil, usagef("--clickhouse-addr (TRENDWATCH_CLICKHOUSE_ADDR) is required; `trendwatch run` supervises a local server instead")
			}
			a, stop, err := startLocalClickHouse(ctx, c, log)
			if err != nil {
				return nil, err
			}
			in.closers = append(in.closers, stop)
			addr = a
			log.Info("embedded ClickHouse started", slog.String("addr", addr), slog.String("dir", c.path("clickhouse")))
		}
		st, err := openStore(ctx, c, addr, log)
		if err != nil {
			return nil, err
		}
		in.store, in.chAddr = st, addr
		in.closers = append(in.closers, func() { _ = st.Close() })
	}
	ok = true
	return in, nil
}

// openStore connects to ClickHouse, retrying while it starts, and migrates.
func openStore(ctx context.Context, c *config, addr string, log *slog.Logger) (*clickhouse.Store, error) {
	opts := clickhouse.Options{Addrs: strings.Split(addr, ","), Database: c.ClickHouseDatabase, Username: c.ClickHouseUser, Password: c.ClickHousePassword}
	var lastErr error
	for attempt := 0; attempt < 30; attempt++ {
		st, err := clickhouse.Open(ctx, opts, log)
		if err == nil {
			if err = st.Migrate(ctx); err == nil {
				return st, nil
			}
			st.Close()
		}
		lastErr = err
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		log.Info("waiting for ClickHouse", slog.String("addr", addr), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil, fmt.Errorf("cannot use ClickHouse at %s: %w", addr, lastErr)
}

// close releases everything in reverse order of acquisition.
func (in *infra) close() {
	for i := len(in.closers) - 1; i >= 0; i-- {
		in.closers[i]()
	}
	in.closers = nil
}

// ready is the readiness check of stages: ClickHouse answers (when used).
func (in *infra) ready(ctx context.Context) error {
	if in.store != nil {
		if err := in.store.Ping(ctx); err != nil {
			return fmt.Errorf("ClickHouse: %w", err)
		}
	}
	if len(in.brokers) == 0 {
		return errors.New("no Kafka brokers")
	}
	return nil
}
