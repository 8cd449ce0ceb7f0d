package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// routeFile is the on-disk shape of routes: durations as Go duration
// strings ("30m"), unknown fields rejected so a typo never silently
// disables a route.
type routeFile struct {
	Routes []struct {
		Name          string   `json:"name"`
		MinSeverity   string   `json:"min_severity"`
		Langs         []string `json:"langs"`
		Tags          []string `json:"tags"`
		Channels      []string `json:"channels"`
		Escalate      []string `json:"escalate"`
		EscalateAfter string   `json:"escalate_after"`
	} `json:"routes"`
}

// ParseRoutes reads a routes file, e.g.
//
//	{"routes": [
//	  {"name": "desk", "channels": ["webhook", "slack"], "escalate": ["telegram"], "escalate_after": "30m"},
//	  {"name": "editors", "min_severity": "high", "channels": ["email"]},
//	  {"name": "health", "tags": ["health"], "langs": ["vi"], "channels": ["telegram"]}
//	]}
//
// and checks it against the configured channel names.
func ParseRoutes(b []byte, channels func(string) bool) ([]Route, error) {
	var f routeFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("cannot parse routes: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("cannot parse routes: trailing data after the JSON object")
	}
	var out []Route
	for i, r := range f.Routes {
		rt := Route{Name: r.Name, MinSeverity: r.MinSeverity, Langs: r.Langs, Tags: r.Tags, Channels: r.Channels, Escalate: r.Escalate}
		if r.EscalateAfter != "" {
			d, err := time.ParseDuration(r.EscalateAfter)
			if err != nil {
				return nil, fmt.Errorf("route %d (%s): escalate_after: %w", i, r.Name, err)
			}
			rt.EscalateAfter = d
		}
		out = append(out, rt)
	}
	if err := ValidateRoutes(out, channels); err != nil {
		return nil, err
	}
	return out, nil
}

// ParsePolicy reads a policy file over base (usually Default()): fields
// the file leaves out keep base's values; durations are Go duration
// strings ("1h", "90s"); unknown fields are rejected. For example
//
//	{"window": "30m", "min_posts": 5, "min_authors": 3,
//	 "cooldown": "15m", "escalate_after": "20m", "watchlist": ["fact-42"]}
func ParsePolicy(b []byte, base Config) (Config, error) {
	// The file's shape: Config with its durations as strings. Decoding
	// over base keeps what the file does not mention.
	type plain Config
	f := struct {
		*plain
		Window        *string `json:"window"`
		Cooldown      *string `json:"cooldown"`
		EscalateAfter *string `json:"escalate_after"`
	}{plain: (*plain)(&base)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return base, fmt.Errorf("cannot parse policy: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return base, errors.New("cannot parse policy: trailing data after the JSON object")
	}
	for _, d := range []struct {
		name string
		s    *string
		to   *time.Duration
	}{{"window", f.Window, &base.Window}, {"cooldown", f.Cooldown, &base.Cooldown}, {"escalate_after", f.EscalateAfter, &base.EscalateAfter}} {
		if d.s == nil {
			continue
		}
		v, err := time.ParseDuration(*d.s)
		if err != nil {
			return base, fmt.Errorf("cannot parse policy: %s: %w", d.name, err)
		}
		*d.to = v
	}
	return base, base.Validate()
}
