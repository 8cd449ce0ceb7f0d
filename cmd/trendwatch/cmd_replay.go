package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/ingest/replay"
)

func init() {
	register("replay", "publish recorded items (JSON lines) on an accelerated clock, for demos and evaluation", runReplay)
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	speed := fs.Float64("speed", 60, "recorded seconds per wall-clock second (60: an hour in a minute); 0 publishes as fast as possible")
	loop := fs.Bool("loop", false, "replay forever; later passes get fresh ids (needs --speed > 0)")
	retime := fs.Bool("retime", false, "stamp posts with the wall-clock time they are replayed (live demos); default keeps recorded times")
	lang := fs.String("lang", "", "language of records that name none (e.g. vi for the vi-news files)")
	platform := fs.String("platform", "", `platform of records ("rss" for news items and "replay" for detect records when empty)`)
	dryRun := fs.Bool("dry-run", false, "parse and print a summary without publishing")
	c := bindClientConfig(fs, kafkaClientFlags)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: trendwatch replay [flags] FILE|-\n\nFILE holds JSON lines: news items {id,title,link,summary,source,category,published,fetched},\ndetect records {id,time,text,author,source,url,lang}, or trendwatch posts.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return usagef("invalid configuration:\n%w", err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: replay needs exactly one FILE (or - for stdin)", errUsage)
	}
	if *loop && *speed <= 0 {
		return fmt.Errorf("%w: --loop needs --speed > 0", errUsage)
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("cannot open replay file: %w", err)
		}
		defer f.Close()
		in = f
	}
	posts, bad, err := replay.Read(in, replay.Defaults{Lang: *lang, Platform: *platform})
	if err != nil {
		return err
	}
	for i, e := range bad {
		if i == 10 {
			fmt.Fprintf(stderr, "… and %d more unusable lines\n", len(bad)-10)
			break
		}
		fmt.Fprintf(stderr, "skipping %v\n", e)
	}
	if len(posts) == 0 {
		return errors.New("no usable records in the replay file")
	}
	span := posts[len(posts)-1].Published.Sub(posts[0].Published)
	fmt.Fprintf(stdout, "replay: %d posts (%d lines skipped) from %s to %s (%s recorded)\n", len(posts), len(bad),
		posts[0].Published.Format("2006-01-02 15:04"), posts[len(posts)-1].Published.Format("2006-01-02 15:04"), span)
	if *dryRun {
		return nil
	}
	log := c.logger(stderr)
	pub, err := openPostPublisher(ctx, c, fs, log)
	if err != nil {
		return err
	}
	st, err := replay.Play(ctx, pub, posts, replay.Options{Speed: *speed, Loop: *loop, Retime: *retime}, log)
	if cerr := pub.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot flush the last posts: %w", cerr)
	}
	fmt.Fprintf(stdout, "replay: published %d posts in %d pass(es)\n", st.Published, st.Passes)
	return err
}

// openPostPublisher connects to the Kafka given by --kafka-brokers, else
// to the embedded broker of the `trendwatch run` recorded in --data-dir,
// and makes sure the topics exist.
func openPostPublisher(ctx context.Context, c *config, fs *flag.FlagSet, log *slog.Logger) (*bus.Producer, error) {
	if _, err := c.useLocalRun(fs); err != nil {
		return nil, err
	}
	if c.KafkaBrokers == "" {
		return nil, usagef("no Kafka to publish to: set --kafka-brokers (TRENDWATCH_KAFKA_BROKERS), or start `trendwatch run` and pass its --data-dir (now %s, where no running instance is recorded)", c.DataDir)
	}
	brokers, err := bus.ParseBrokers(c.KafkaBrokers)
	if err != nil {
		return nil, usagef("--kafka-brokers: %v", err)
	}
	cfg := c.busConfig(brokers)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(tctx, cfg); err != nil {
		return nil, err
	}
	return bus.NewProducer(cfg, log), nil
}
