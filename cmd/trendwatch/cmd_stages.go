package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/web"
)

func init() {
	register("run", "start every stage in one process (embedded Kafka and ClickHouse unless configured)", cmdRun)
	register("ingest", "run the collectors: feeds, crawler, social connectors", stageCommand("ingest", false, true, func(c *config, in *infra) ([]actor, error) {
		a, _, err := ingestStage(c, in)
		return a, err
	}))
	register("analyze", "run an analyzer worker (consumer group member)", stageCommand("analyze", false, true, func(c *config, in *infra) ([]actor, error) {
		a, _, err := analyzeStage(c, in)
		return a, err
	}))
	register("alert", "run the alerter: cases, routing and notification delivery", stageCommand("alert", false, true, alertStage))
	register("serve", "serve the HTTP API, dashboard and metrics", stageCommand("serve", false, true, func(c *config, in *infra) ([]actor, error) {
		_, push, err := ingestPush(c, in)
		if err != nil {
			return nil, err
		}
		return serveStage(c, in, push)
	}))
	register("migrate", "apply ClickHouse migrations and create Kafka topics, then exit", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		c, err := loadConfig("migrate", args, stderr)
		if err != nil {
			return err
		}
		log := c.logger(stderr)
		in, err := connect(ctx, c, log, false, true)
		if err != nil {
			return err
		}
		defer in.close()
		fmt.Fprintf(stdout, "topics ready on %v; ClickHouse database %s migrated (server %s)\n", in.brokers, in.store.Database(), in.store.ServerVersion())
		return nil
	})
}

// stageCommand runs one stage alone, as in a distributed deployment, with
// its metrics and health endpoints.
func stageCommand(name string, embedded, withStore bool, build func(*config, *infra) ([]actor, error)) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		c, err := loadConfig(name, args, stderr)
		if err != nil {
			return err
		}
		log := c.logger(stderr).With(slog.String("process", name))
		in, err := connect(ctx, c, log, embedded, withStore)
		if err != nil {
			return err
		}
		defer in.close()
		actors, err := build(c, in)
		if err != nil {
			return err
		}
		if name != "serve" {
			actors = append(actors, opsActor(c, in)...)
		}
		log.Info("stage started", slog.String("stage", name))
		return runGroup(ctx, log, actors...)
	}
}

// cmdRun starts every stage in one process.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := loadConfig("run", args, stderr)
	if err != nil {
		return err
	}
	log := c.logger(stderr)
	in, err := connect(ctx, c, log, true, true)
	if err != nil {
		return err
	}
	defer in.close()
	var actors []actor
	ia, push, err := ingestStage(c, in)
	if err != nil {
		return err
	}
	actors = append(actors, ia...)
	aa, _, err := analyzeStage(c, in)
	if err != nil {
		return err
	}
	actors = append(actors, aa...)
	al, err := alertStage(c, in)
	if err != nil {
		return err
	}
	actors = append(actors, al...)
	sa, err := serveStage(c, in, push)
	if err != nil {
		return err
	}
	actors = append(actors, sa...)
	actors = append(actors, runOpsActor(c, in, log)...)
	removeAddrs, err := writeLocalRun(c, localRun{
		PID: os.Getpid(), Started: time.Now().UTC(),
		KafkaBrokers: strings.Join(in.brokers, ","), KafkaTopicPrefix: c.KafkaTopicPrefix,
		ClickHouseAddr: in.chAddr, ClickHouseDatabase: c.ClickHouseDatabase,
		Listen: c.Listen, MetricsListen: c.MetricsListen,
	})
	if err != nil {
		return err
	}
	defer removeAddrs()
	log.Info("trendwatch running", slog.String("api", "http://"+c.Listen), slog.Any("kafka", in.brokers),
		slog.String("clickhouse", in.chAddr), slog.String("addresses", c.path(localRunFile)))
	return runGroup(ctx, log, actors...)
}

// runOpsActor serves /metrics, /healthz and /readyz on --metrics-listen
// under run too (they are also on the API listener). Unlike a lone stage,
// run keeps going when that address is taken: its API, which also serves
// them, is what an operator of the one-process default looks at first,
// and a second run on the same machine must not die of the default port.
func runOpsActor(c *config, in *infra, log *slog.Logger) []actor {
	if c.MetricsListen == "" {
		return nil
	}
	return []actor{{"metrics", func(ctx context.Context) error {
		err := web.Serve(ctx, c.MetricsListen, web.OpsMux(in.ready), in.log.With("stage", "metrics"))
		if err != nil && ctx.Err() == nil {
			log.Error("metrics and health are served on the API listener only", slog.String("metrics_listen", c.MetricsListen), slog.Any("err", err))
			<-ctx.Done()
		}
		return nil
	}}}
}
