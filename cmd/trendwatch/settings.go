package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/trendwatch/trendwatch/bus"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/settings"
)

// settingRevision shows which change of each setting a process has put in
// force, so an operator (and the end-to-end test) can see a change reach
// every analyzer and the alerter.
var settingRevision = promauto.NewGaugeVec(prometheus.GaugeOpts{
	Namespace: "trendwatch", Subsystem: "settings", Name: "revision",
	Help: "Revision of each admin setting in force in this process (0: the flags' value).",
}, []string{"setting"})

// processSettings is a process's view of the settings topic, shared by its
// stages (under `run`, the analyzer, the alerter and the API use one
// follower).
type processSettings struct {
	live   *settings.Live
	synced <-chan struct{}
}

// liveSettings returns the process's settings over the flags' policy and,
// for the first stage that asks, the actor that follows the topic. A
// stored setting wins over the flags; the topic is read from its
// beginning, so a process that starts later finds the latest values once
// synced is closed.
func (in *infra) liveSettings(c *config) (*processSettings, []actor, error) {
	if in.settings != nil {
		return in.settings, nil, nil
	}
	base, err := alertPolicy(c)
	if err != nil {
		return nil, nil, usagef("invalid alert policy: %v", err)
	}
	log := in.log.With(slog.String("stage", "settings"))
	live := settings.NewLive(base, log)
	f := bus.NewSettingsFollower(in.bus, live, log)
	in.settings = &processSettings{live: live, synced: f.Synced()}
	return in.settings, []actor{{"settings-follower", func(ctx context.Context) error {
		go func() {
			select {
			case <-f.Synced():
				e := live.Effective()
				log.Info("settings loaded", slog.Any("revisions", e.Revisions), slog.Any("thresholds", e.Policy.Thresholds))
			case <-ctx.Done():
			}
		}()
		go func() {
			for {
				// Taken before reading, so no change is missed; set once
				// every stage of the process has applied the change.
				changed := live.Changed()
				e := live.Effective()
				for _, name := range []string{schema.SettingThresholds, schema.SettingAlertPolicy} {
					settingRevision.WithLabelValues(name).Set(float64(e.Revisions[name]))
				}
				select {
				case <-changed:
				case <-ctx.Done():
					return
				}
			}
		}()
		return f.Run(ctx)
	}}}, nil
}

// waitSettings blocks until the settings stored before start are applied.
func (ps *processSettings) waitSettings(ctx context.Context) bool {
	select {
	case <-ps.synced:
		return true
	case <-ctx.Done():
		return false
	}
}
