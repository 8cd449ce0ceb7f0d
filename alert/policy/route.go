package policy

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Route sends matching cases' notifications to Channels; when a case
// stays unacknowledged for EscalateAfter (0: the policy default), its
// escalation goes to Escalate. Empty match lists match anything; a case
// matches a list when any of its languages or tags is in it. MinSeverity
// is inclusive. Every matching route is used (channels deduplicated), so
// a "critical to the editor" route adds to, rather than replaces, the
// desk's route.
type Route struct {
	Name          string        `json:"name"`
	MinSeverity   string        `json:"min_severity,omitempty"`
	Langs         []string      `json:"langs,omitempty"`
	Tags          []string      `json:"tags,omitempty"`
	Channels      []string      `json:"channels"`
	Escalate      []string      `json:"escalate,omitempty"`
	EscalateAfter time.Duration `json:"escalate_after,omitempty"`
}

// Target is what routing decided for one case.
type Target struct {
	Channels      []string
	Escalate      []string
	EscalateAfter time.Duration // 0 when there is nothing to escalate to
}

// ValidateRoutes checks routes against the configured channel names.
func ValidateRoutes(routes []Route, channels func(string) bool) error {
	var errs []error
	for i, r := range routes {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		if r.MinSeverity != "" && SeverityRank(r.MinSeverity) == 0 {
			errs = append(errs, fmt.Errorf("route %s: unknown severity %q", name, r.MinSeverity))
		}
		if len(r.Channels) == 0 && len(r.Escalate) == 0 {
			errs = append(errs, fmt.Errorf("route %s: no channels", name))
		}
		for _, c := range append(slices.Clone(r.Channels), r.Escalate...) {
			if !channels(c) {
				errs = append(errs, fmt.Errorf("route %s: unknown channel %q", name, c))
			}
		}
		if r.EscalateAfter < 0 {
			errs = append(errs, fmt.Errorf("route %s: negative escalate_after", name))
		}
	}
	if len(routes) == 0 {
		errs = append(errs, errors.New("no routes: notifications would go nowhere"))
	}
	return errors.Join(errs...)
}

func overlaps(want, have []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}

// Matches reports whether r applies to a case.
func (r Route) Matches(severity string, langs, tags []string) bool {
	if r.MinSeverity != "" && SeverityRank(severity) < SeverityRank(r.MinSeverity) {
		return false
	}
	return overlaps(r.Langs, langs) && overlaps(r.Tags, tags)
}

// Resolve returns the union of the matching routes' channels and
// escalation channels, in route order, with the shortest escalation delay.
func Resolve(routes []Route, severity string, langs, tags []string, defaultEscalate time.Duration) Target {
	var t Target
	for _, r := range routes {
		if !r.Matches(severity, langs, tags) {
			continue
		}
		for _, c := range r.Channels {
			if !slices.Contains(t.Channels, c) {
				t.Channels = append(t.Channels, c)
			}
		}
		if len(r.Escalate) == 0 {
			continue
		}
		for _, c := range r.Escalate {
			if !slices.Contains(t.Escalate, c) {
				t.Escalate = append(t.Escalate, c)
			}
		}
		after := r.EscalateAfter
		if after == 0 {
			after = defaultEscalate
		}
		if after > 0 && (t.EscalateAfter == 0 || after < t.EscalateAfter) {
			t.EscalateAfter = after
		}
	}
	if t.EscalateAfter == 0 {
		t.Escalate = nil
	}
	return t
}
