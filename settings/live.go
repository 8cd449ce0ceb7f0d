package settings

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// Effective is what a stage uses: the flags' policy with the stored
// settings applied. Shared between goroutines: never modify it.
type Effective struct {
	// Policy is the alerter's policy; its Thresholds (every language with
	// one) and DefaultThreshold are the analyzers' thresholds too, and its
	// Verdicts the verdicts that alert.
	Policy policy.Config
	// Revisions of the stored settings applied (0: none stored).
	Revisions map[string]uint64
}

// Threshold returns the alert threshold for lang.
func (e *Effective) Threshold(lang string) float64 { return e.Policy.Threshold(lang) }

// Live is the latest stored value of every setting, as the settings topic
// delivers them, and what follows from them. Safe for concurrent use.
type Live struct {
	base policy.Config
	log  *slog.Logger

	mu      sync.Mutex
	records map[string]schema.Setting
	subs    []func(*Effective)
	changed chan struct{} // closed at every change

	eff atomic.Pointer[Effective]
}

// NewLive returns the settings over base, the policy the flags give
// (defaults, --alert-policy, --alert-verdicts, --thresholds).
func NewLive(base policy.Config, logger *slog.Logger) *Live {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Live{base: base, log: logger, records: map[string]schema.Setting{}, changed: make(chan struct{})}
	l.eff.Store(&Effective{Policy: base, Revisions: map[string]uint64{}})
	return l
}

// Base returns the policy the flags give.
func (l *Live) Base() policy.Config { return l.base }

// Effective returns what is in force now.
func (l *Live) Effective() *Effective { return l.eff.Load() }

// Record returns the stored record of a setting, if any.
func (l *Live) Record(name string) (schema.Setting, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.records[name]
	return r, ok
}

// OnChange calls f with what is in force now and after every change, in
// order, from the goroutine that applies the change.
func (l *Live) OnChange(f func(*Effective)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subs = append(l.subs, f)
	f(l.eff.Load())
}

// Apply takes the next record of a setting from the topic. A record whose
// value no longer validates against this process's flags (they changed
// since it was stored) is logged and leaves the setting as it was.
func (l *Live) Apply(rec schema.Setting) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := maps.Clone(l.records)
	next[rec.Name] = rec
	l.install(next)
}

// Remove takes a tombstone: the setting falls back to the flags.
func (l *Live) Remove(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := maps.Clone(l.records)
	delete(next, name)
	l.install(next)
}

func (l *Live) install(next map[string]schema.Setting) {
	eff, err := Derive(l.base, next)
	if err != nil {
		l.log.Error("stored setting ignored: it does not apply over this process's flags", slog.Any("err", err))
		return
	}
	l.records = next
	l.eff.Store(eff)
	for _, f := range l.subs {
		f(eff)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// Derive applies the stored records to base: the stored policy document
// over base, then the stored thresholds over both the policy's thresholds.
func Derive(base policy.Config, records map[string]schema.Setting) (*Effective, error) {
	eff := &Effective{Policy: base, Revisions: map[string]uint64{}}
	eff.Policy.Thresholds = maps.Clone(base.Thresholds)
	if r, ok := records[schema.SettingAlertPolicy]; ok {
		p, err := policy.ParsePolicy(r.Value, eff.Policy)
		if err != nil {
			return nil, fmt.Errorf("alert policy revision %d: %w", r.Revision, err)
		}
		eff.Policy = p
		eff.Revisions[r.Name] = r.Revision
	}
	if r, ok := records[schema.SettingThresholds]; ok {
		th, err := ParseThresholds(r.Value)
		if err != nil {
			return nil, fmt.Errorf("thresholds revision %d: %w", r.Revision, err)
		}
		if eff.Policy.Thresholds == nil {
			eff.Policy.Thresholds = map[string]float64{}
		}
		maps.Copy(eff.Policy.Thresholds, th)
		eff.Revisions[r.Name] = r.Revision
	}
	if err := eff.Policy.Validate(); err != nil {
		return nil, err
	}
	return eff, nil
}

// Changed returns a channel closed at the next change, once every OnChange
// function has run for it.
func (l *Live) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// Wait returns once the setting's revision rev (or a later one) is in
// force, or ctx ends.
func (l *Live) Wait(ctx context.Context, name string, rev uint64) error {
	for {
		l.mu.Lock()
		r, ok := l.records[name]
		ch := l.changed
		l.mu.Unlock()
		if ok && r.Revision >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// With returns what would be in force with rec stored: the check a new
// value must pass against this process's flags before it is published.
func (l *Live) With(rec schema.Setting) (*Effective, error) {
	l.mu.Lock()
	next := maps.Clone(l.records)
	l.mu.Unlock()
	next[rec.Name] = rec
	return Derive(l.base, next)
}
