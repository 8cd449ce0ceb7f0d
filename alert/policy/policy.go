// Package policy decides which matches count toward a case, when a case is
// worth a notification, how severe it is and where notifications go. It is
// pure configuration plus pure functions: no I/O, no clock, so the case
// engine can replay it deterministically.
//
// Standard library only: the rules are a few comparisons; a rules engine
// (CEL, expr) would make configuration harder to validate and to read.
package policy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// Severities, lowest first.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// SeverityRank orders severities; unknown ones rank below low.
func SeverityRank(s string) int {
	switch s {
	case SeverityLow:
		return 1
	case SeverityMedium:
		return 2
	case SeverityHigh:
		return 3
	case SeverityCritical:
		return 4
	}
	return 0
}

// SeverityRule assigns Severity when the velocity window holds at least
// Posts matching posts by at least Authors distinct authors, or when the
// case has reached at least Reach distinct authors in total (0 disables
// that test).
type SeverityRule struct {
	Severity string `json:"severity"`
	Posts    int    `json:"posts"`
	Authors  int    `json:"authors"`
	Reach    int    `json:"reach,omitempty"`
}

// Config is the alerting policy.
type Config struct {
	// Verdicts that alert (normalised schema.Verdict* values).
	Verdicts []string `json:"verdicts"`
	// Thresholds is the minimum match confidence per language; languages
	// not listed use DefaultThreshold.
	Thresholds       map[string]float64 `json:"thresholds"`
	DefaultThreshold float64            `json:"default_threshold"`
	// Velocity rule: a case opens when, within Window, at least MinPosts
	// matching posts by at least MinAuthors distinct authors were seen.
	Window     time.Duration `json:"window"`
	MinPosts   int           `json:"min_posts"`
	MinAuthors int           `json:"min_authors"`
	// Watchlist facts open a case on their first qualifying match.
	Watchlist []string `json:"watchlist,omitempty"`
	// RenotifyFactor: an open case notifies again when the posts in the
	// window reach this multiple of the count at its last notification.
	RenotifyFactor float64 `json:"renotify_factor"`
	// Severity rules, checked highest first; none matching gives low.
	Severity []SeverityRule `json:"severity"`
	// Cooldown is the least time between two notifications of one case;
	// a jump inside it is sent, summarised, when it ends.
	Cooldown time.Duration `json:"cooldown"`
	// EscalateAfter is the default time to acknowledge before escalation.
	EscalateAfter time.Duration `json:"escalate_after"`
	// Samples is how many sample posts a case keeps.
	Samples int `json:"samples"`
}

// Default returns the default policy: false and misleading verdicts, the
// analyzer's calibrated 0.5 threshold (0.6 for undetermined language), one
// post in an hour opens a case (the walking skeleton's one post, one
// notification), renotify when the hourly rate doubles but at most every
// 10 minutes, escalate after 30 minutes without acknowledgement.
func Default() Config {
	return Config{
		Verdicts:         []string{schema.VerdictFalse, schema.VerdictMisleading},
		Thresholds:       map[string]float64{"und": 0.6},
		DefaultThreshold: 0.5,
		Window:           time.Hour,
		MinPosts:         1,
		MinAuthors:       1,
		RenotifyFactor:   2,
		Severity: []SeverityRule{
			{Severity: SeverityCritical, Posts: 200, Authors: 50, Reach: 500},
			{Severity: SeverityHigh, Posts: 50, Authors: 15, Reach: 100},
			{Severity: SeverityMedium, Posts: 10, Authors: 4},
		},
		Cooldown:      10 * time.Minute,
		EscalateAfter: 30 * time.Minute,
		Samples:       5,
	}
}

// Validate reports every problem in c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Verdicts) == 0 {
		errs = append(errs, errors.New("policy: no alerting verdicts"))
	}
	check := func(name string, v float64) {
		if math.IsNaN(v) || v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("policy: threshold %s=%v is not within 0..1", name, v))
		}
	}
	check("default", c.DefaultThreshold)
	for l, v := range c.Thresholds {
		check(l, v)
	}
	if c.Window <= 0 {
		errs = append(errs, errors.New("policy: velocity window must be positive"))
	}
	if c.MinPosts < 1 || c.MinAuthors < 0 || c.MinAuthors > c.MinPosts {
		errs = append(errs, fmt.Errorf("policy: need min_posts >= 1 and 0 <= min_authors <= min_posts (got %d, %d)", c.MinPosts, c.MinAuthors))
	}
	if c.RenotifyFactor != 0 && (c.RenotifyFactor <= 1 || math.IsNaN(c.RenotifyFactor)) {
		errs = append(errs, fmt.Errorf("policy: renotify factor %v must be above 1 (0 disables)", c.RenotifyFactor))
	}
	for _, r := range c.Severity {
		if SeverityRank(r.Severity) == 0 {
			errs = append(errs, fmt.Errorf("policy: unknown severity %q", r.Severity))
		}
	}
	if c.Cooldown < 0 {
		errs = append(errs, errors.New("policy: cooldown must not be negative"))
	}
	if c.EscalateAfter < 0 {
		errs = append(errs, errors.New("policy: escalate_after must not be negative"))
	}
	if c.Samples < 0 || c.Samples > 50 {
		errs = append(errs, fmt.Errorf("policy: samples %d is not within 0..50", c.Samples))
	}
	return errors.Join(errs...)
}

// Threshold is the minimum confidence for lang.
func (c Config) Threshold(lang string) float64 {
	if v, ok := c.Thresholds[strings.ToLower(lang)]; ok {
		return v
	}
	if lang == "" {
		if v, ok := c.Thresholds["und"]; ok {
			return v
		}
	}
	return c.DefaultThreshold
}

// Qualifies reports whether a match counts toward its fact's case: its
// verdict alerts and its confidence reaches its language's threshold.
func (c Config) Qualifies(a schema.Alert) bool {
	if !slices.Contains(c.Verdicts, a.Verdict) {
		return false
	}
	return !math.IsNaN(a.Score) && a.Score >= c.Threshold(a.Lang)
}

// Watched reports whether factID is on the watchlist.
func (c Config) Watched(factID string) bool { return slices.Contains(c.Watchlist, factID) }

// Velocity is what the engine measured for one fact.
type Velocity struct {
	Posts        int // matching posts within the window
	Authors      int // distinct authors within the window
	TotalAuthors int // distinct authors since the case began
}

// Opens reports whether v (for factID) is enough to open a case.
func (c Config) Opens(factID string, v Velocity) bool {
	if c.Watched(factID) {
		return v.Posts >= 1
	}
	return v.Posts >= c.MinPosts && v.Authors >= c.MinAuthors
}

// Renotify reports whether an open case whose last notification saw
// atLast posts in the window should notify again now that it sees now.
func (c Config) Renotify(atLast, now int) bool {
	if c.RenotifyFactor == 0 {
		return false
	}
	return float64(now) >= c.RenotifyFactor*float64(max(atLast, 1))
}

// SeverityOf grades v by the first (highest) rule it passes.
func (c Config) SeverityOf(v Velocity) string {
	rules := slices.Clone(c.Severity)
	slices.SortStableFunc(rules, func(a, b SeverityRule) int { return SeverityRank(b.Severity) - SeverityRank(a.Severity) })
	for _, r := range rules {
		if (v.Posts >= r.Posts && v.Authors >= r.Authors) || (r.Reach > 0 && v.TotalAuthors >= r.Reach) {
			return r.Severity
		}
	}
	return SeverityLow
}

// ParseThresholds reads "vi=0.6,fr=0.65,und=0.7".
func ParseThresholds(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lang, val, ok := strings.Cut(part, "=")
		lang = strings.ToLower(strings.TrimSpace(lang))
		if !ok || lang == "" {
			return nil, fmt.Errorf("threshold %q is not lang=value", part)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
			return nil, fmt.Errorf("threshold %q: value must be a number within 0..1", part)
		}
		if _, dup := out[lang]; dup {
			return nil, fmt.Errorf("threshold for %q given twice", lang)
		}
		out[lang] = v
	}
	return out, nil
}
