package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/trendwatch/trendwatch/alert/cases"
	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/notify/email"
	"github.com/trendwatch/trendwatch/alert/notify/slack"
	"github.com/trendwatch/trendwatch/alert/notify/telegram"
	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/alert/policy"
	alertworker "github.com/trendwatch/trendwatch/alert/worker"
	"github.com/trendwatch/trendwatch/analyze/claims"
	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/settings"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// chCases keeps the alerter's cases in ClickHouse, where the API and the
// dashboard read them.
type chCases struct{ store *clickhouse.Store }

func (s chCases) Load(ctx context.Context) ([]cases.Case, error) {
	var out []cases.Case
	for off := 0; ; off += 1000 {
		rows, err := s.store.Cases(ctx, clickhouse.CaseQuery{Limit: 1000, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			var c cases.Case
			if err := json.Unmarshal([]byte(r.Body), &c); err != nil {
				return nil, fmt.Errorf("cannot decode case %s: %w", r.ID, err)
			}
			out = append(out, c)
		}
		if len(rows) < 1000 {
			return out, nil
		}
	}
}

func (s chCases) Save(ctx context.Context, c cases.Case) error {
	return s.SaveAll(ctx, []cases.Case{c}, nil)
}

func (s chCases) AppendEvent(ctx context.Context, e cases.Event) error {
	return s.SaveAll(ctx, nil, []cases.Event{e})
}

func caseEventRow(e cases.Event) clickhouse.CaseEvent {
	detail := e.Detail
	if e.Channel != "" {
		detail = strings.TrimSpace(e.Channel + " " + e.Key + " " + detail)
	}
	return clickhouse.CaseEvent{CaseID: e.CaseID, Time: e.Time, Actor: e.Actor, Action: e.Kind, Detail: detail}
}

// SaveAll writes a backlog in two inserts (cases.BatchStore), cases first
// so that an event never names a case the dashboard cannot show.
func (s chCases) SaveAll(ctx context.Context, cs []cases.Case, es []cases.Event) error {
	rows := make([]clickhouse.CaseRow, 0, len(cs))
	for _, c := range cs {
		body, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("cannot encode case %s: %w", c.ID, err)
		}
		rows = append(rows, clickhouse.CaseRow{ID: c.ID, FactID: c.FactID, State: c.Status, Severity: c.Severity, Opened: c.Opened, Updated: c.Updated, Body: string(body)})
	}
	if err := s.store.PutCases(ctx, rows); err != nil {
		return err
	}
	evs := make([]clickhouse.CaseEvent, 0, len(es))
	for _, e := range es {
		evs = append(evs, caseEventRow(e))
	}
	return s.store.AppendCaseEvents(ctx, evs)
}

// dlqSink records notifications that missed their deadline on the DLQ.
type dlqSink struct{ p *bus.Producer }

func (d dlqSink) DeadLetter(ctx context.Context, n notify.Notification, reason string) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return d.p.DeadLetter(ctx, "alert", kafka.Message{Topic: "notification", Key: []byte(n.Key), Value: b}, reason)
}

// channels builds the configured notification channels.
func channels(c *config) (map[string]notify.Channel, error) {
	out := map[string]notify.Channel{}
	if c.WebhookURL != "" {
		ch, err := webhook.New(webhook.Config{URL: c.WebhookURL, Secret: []byte(c.WebhookSecret)})
		if err != nil {
			return nil, err
		}
		out["webhook"] = ch
	}
	if c.SlackWebhookURL != "" {
		ch, err := slack.New(slack.Config{WebhookURL: c.SlackWebhookURL})
		if err != nil {
			return nil, err
		}
		out["slack"] = ch
	}
	if c.TelegramToken != "" {
		ch, err := telegram.New(telegram.Config{Token: c.TelegramToken, ChatID: c.TelegramChat})
		if err != nil {
			return nil, err
		}
		out["telegram"] = ch
	}
	if c.SMTPAddr != "" {
		ch, err := email.New(email.Config{Addr: c.SMTPAddr, User: c.SMTPUser, Password: c.SMTPPassword, From: c.SMTPFrom, To: splitList(c.EmailTo)})
		if err != nil {
			return nil, err
		}
		out["email"] = ch
	}
	return out, nil
}

// alertPolicy is the default policy with --alert-verdicts and --thresholds,
// or the JSON file named by --alert-policy.
func alertPolicy(c *config) (policy.Config, error) {
	p := policy.Default()
	// The analyzer emits an alert event when a match reaches its language's
	// threshold; the policy starts from the same calibrated values, so the
	// thresholds the API shows are the ones that open cases.
	p.Thresholds = maps.Clone(claims.DefaultThresholds)
	p.DefaultThreshold = claims.DefaultThreshold
	if c.AlertPolicy != "" {
		b, err := os.ReadFile(c.AlertPolicy)
		if err != nil {
			return p, fmt.Errorf("cannot read --alert-policy: %w", err)
		}
		if p, err = policy.ParsePolicy(b, p); err != nil {
			return p, fmt.Errorf("invalid --alert-policy %s: %w", c.AlertPolicy, err)
		}
	}
	p.Verdicts = splitList(c.AlertVerdicts)
	if th, _ := parseThresholds(c.Thresholds); len(th) > 0 {
		if p.Thresholds == nil {
			p.Thresholds = map[string]float64{}
		}
		for k, v := range th {
			p.Thresholds[k] = v
		}
	}
	return p, p.Validate()
}

// alertRoutes reads --alert-routes, or routes every case to every
// configured channel.
func alertRoutes(c *config, chans map[string]notify.Channel) ([]policy.Route, error) {
	if c.AlertRoutes != "" {
		b, err := os.ReadFile(c.AlertRoutes)
		if err != nil {
			return nil, fmt.Errorf("cannot read --alert-routes: %w", err)
		}
		rs, err := policy.ParseRoutes(b, func(name string) bool { return chans[name] != nil })
		if err != nil {
			return nil, fmt.Errorf("invalid --alert-routes %s: %w", c.AlertRoutes, err)
		}
		return rs, nil
	}
	if len(chans) == 0 {
		return nil, nil
	}
	r := policy.Route{Name: "default"}
	for _, name := range []string{"webhook", "slack", "telegram", "email"} {
		if chans[name] != nil {
			r.Channels = append(r.Channels, name)
		}
	}
	return []policy.Route{r}, nil
}

// alertStage builds the alerter: a consumer of trendwatch.alerts feeding the
// case engine, which delivers notifications from its durable journal.
func alertStage(c *config, in *infra) ([]actor, error) {
	log := in.log.With(slog.String("stage", "alert"))
	chans, err := channels(c)
	if err != nil {
		return nil, err
	}
	pol, err := alertPolicy(c)
	if err != nil {
		return nil, usagef("invalid alert policy: %v", err)
	}
	routes, err := alertRoutes(c, chans)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if len(chans) == 0 {
		log.Warn("no notification channel configured: cases are kept, nobody is notified (set --webhook-url, --slack-webhook-url, --telegram-token or --smtp-addr)")
	}
	opts := alertworker.Options{
		Policy: pol, Routes: routes, Channels: chans, StateDir: c.path("alert"), PublicURL: c.PublicURL,
		DLQ: dlqSink{in.producer},
	}
	if in.store != nil {
		opts.Store = chCases{in.store}
	}
	eng, err := alertworker.New(opts, log)
	if err != nil {
		return nil, err
	}
	ps, settingsActors, err := in.liveSettings(c)
	if err != nil {
		eng.Close()
		return nil, err
	}
	cons, err := bus.NewConsumer(bus.ConsumerOptions{Config: in.bus, Group: c.AlertGroup, Topic: schema.TopicAlerts, MaxBatch: 500, Linger: 20 * time.Millisecond},
		func(ctx context.Context, batch []kafka.Message) error {
			alerts := make([]schema.Alert, 0, len(batch))
			for _, m := range batch {
				a, err := schema.DecodeAlert(m.Value)
				if err != nil {
					if err := in.producer.DeadLetter(ctx, "alert", m, err.Error()); err != nil {
						return err
					}
					continue
				}
				alerts = append(alerts, a)
			}
			if len(alerts) == 0 {
				return nil
			}
			return eng.Handle(ctx, alerts)
		}, log)
	if err != nil {
		return nil, err
	}
	return append(settingsActors, actor{"alert-engine", eng.Run}, actor{"alert-consumer", func(ctx context.Context) error {
		// Alerts are decided under the settings stored before this start,
		// then every change enters the engine (journaled between batches).
		if !ps.waitSettings(ctx) {
			return nil
		}
		ps.live.OnChange(func(e *settings.Effective) {
			if err := eng.SetPolicy(e.Policy); err != nil {
				log.Error("alert policy change not applied", slog.Any("revisions", e.Revisions), slog.Any("err", err))
				return
			}
			log.Info("alert policy in force", slog.Any("revisions", e.Revisions), slog.Any("thresholds", e.Policy.Thresholds))
		})
		return cons.Run(ctx)
	}}), nil
}
