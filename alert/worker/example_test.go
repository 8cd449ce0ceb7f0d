package worker_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/notify/slack"
	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/alert/worker"
	"github.com/trendwatch/trendwatch/schema"
)

// How the alert stage wires the engine: channels by name, routes over
// them, a state dir for the journal; the consumer calls Handle per batch
// and commits offsets after it returns.
func Example() {
	hook, _ := webhook.New(webhook.Config{URL: "https://desk.example/hooks/trendwatch", Secret: []byte(os.Getenv("WEBHOOK_SECRET"))})
	sl, _ := slack.New(slack.Config{WebhookURL: "https://hooks.slack.com/services/T000/B000/XXXX"})
	store := cases.NewMemoryStore()
	e, err := worker.New(worker.Options{
		Policy:   policy.Default(),
		Channels: map[string]notify.Channel{"webhook": hook, "slack": sl},
		Routes: []policy.Route{
			{Name: "desk", Channels: []string{"webhook"}, Escalate: []string{"slack"}, EscalateAfter: 30 * time.Minute},
			{Name: "editors", MinSeverity: policy.SeverityHigh, Channels: []string{"slack"}},
		},
		StateDir: os.TempDir() + "/trendwatch-alerter-example",
		Store:    store,
	}, slog.Default())
	if err != nil {
		slog.Error("bad alerter configuration", slog.Any("err", err))
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	var batch []schema.Alert // decoded from trendwatch.alerts
	if err := e.Handle(ctx, batch); err != nil {
		return // do not commit offsets
	}
	// commit offsets here
}
