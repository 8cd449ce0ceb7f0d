package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/alert/policy"
)

// Error is a value an admin must correct. Key names the message in the
// dashboard's catalogue (web/i18n.go) and Args fill it; Error() is the
// English text the API answers with.
type Error struct {
	Key  string
	Args []any
	msg  string
}

func (e *Error) Error() string { return e.msg }

func invalid(key, format string, args ...any) *Error {
	return &Error{Key: key, Args: args, msg: fmt.Sprintf(format, args...)}
}

// langCode is what a threshold may be keyed by: a two- or three-letter
// language code (ISO 639-1/-3, lower case), "und" included.
var langCode = regexp.MustCompile(`^[a-z]{2,3}$`)

// ParseThresholds reads a thresholds value, a JSON object from language
// code to a number within 0..1, e.g. {"vi":0.6,"fr":0.55}. Every problem
// is reported, languages in order.
func ParseThresholds(b []byte) (map[string]float64, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return nil, invalid("settings.err.thresholds_json", `thresholds must be a JSON object from language to number, e.g. {"vi": 0.6}`)
	}
	out := make(map[string]float64, len(raw))
	var errs []error
	for _, lang := range slices.Sorted(maps.Keys(raw)) {
		v := strings.TrimSpace(string(raw[lang]))
		if !langCode.MatchString(lang) {
			errs = append(errs, invalid("settings.err.lang", "%q is not a language code (two or three lower-case letters, e.g. vi, fr, en, und)", lang))
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !json.Valid(raw[lang]) || strings.HasPrefix(v, `"`) {
			errs = append(errs, invalid("settings.err.number", "threshold for %s is %s, not a number", lang, v))
			continue
		}
		if math.IsNaN(f) || f < 0 || f > 1 {
			errs = append(errs, invalid("settings.err.range", "threshold for %s is %s; it must be within 0..1", lang, v))
			continue
		}
		out[lang] = f
	}
	if len(errs) > 0 {
		return nil, errs[0].(*Error).join(errs[1:])
	}
	return out, nil
}

// join keeps e's key and args (the dashboard shows the first problem in
// its language) and appends the others' English text.
func (e *Error) join(more []error) *Error {
	if len(more) == 0 {
		return e
	}
	msgs := []string{e.msg}
	for _, m := range more {
		msgs = append(msgs, m.Error())
	}
	return &Error{Key: e.Key, Args: e.Args, msg: strings.Join(msgs, "; ")}
}

// ParsePolicy validates an alert-policy value over base (the policy in
// force before any stored policy: defaults, --alert-policy and the
// thresholds) with policy.ParsePolicy, and returns the document to store:
// without thresholds, which belong to the thresholds setting. A document
// may repeat the thresholds in force (what GET answers) but not change
// them.
func ParsePolicy(b []byte, base policy.Config) (json.RawMessage, policy.Config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, base, invalid("settings.err.policy_syntax", "the policy is not valid JSON (error near byte %d)", syn.Offset)
		}
		return nil, base, invalid("settings.err.policy_json", "the policy must be a JSON object, e.g. {\"min_posts\": 3}")
	}
	if raw, ok := fields["thresholds"]; ok {
		var th map[string]float64
		if json.Unmarshal(raw, &th) != nil || !maps.Equal(th, base.Thresholds) {
			return nil, base, invalid("settings.err.policy_thresholds", "thresholds are changed with PUT /api/v1/settings/thresholds, not in the policy (leave \"thresholds\" out)")
		}
		delete(fields, "thresholds")
	}
	if raw, ok := fields["default_threshold"]; ok {
		var d float64
		if json.Unmarshal(raw, &d) != nil || d != base.DefaultThreshold {
			return nil, base, invalid("settings.err.policy_thresholds", "thresholds are changed with PUT /api/v1/settings/thresholds, not in the policy (leave \"default_threshold\" out)")
		}
		delete(fields, "default_threshold")
	}
	doc, err := json.Marshal(fields)
	if err != nil {
		return nil, base, fmt.Errorf("cannot encode policy: %w", err)
	}
	cfg, err := policy.ParsePolicy(doc, base)
	if err != nil {
		return nil, base, policyError(err)
	}
	return doc, cfg, nil
}

// policyError says what policy.ParsePolicy found without encoding/json's
// Go vocabulary (struct fields, Go types).
func policyError(err error) error {
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		field := typ.Field
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		return &Error{Key: "settings.err.policy_type", Args: []any{field},
			msg: fmt.Sprintf("policy field %s has the wrong type (%s given, %s expected)", field, typ.Value, jsonType(typ.Type.Kind().String()))}
	case strings.Contains(err.Error(), "json: unknown field "):
		_, name, _ := strings.Cut(err.Error(), "json: unknown field ")
		return invalid("settings.err.policy_field", "the policy has no field %s", name)
	case strings.Contains(err.Error(), "time: "):
		// "cannot parse policy: window: time: invalid duration \"an hour\""
		detail := strings.TrimPrefix(err.Error(), "cannot parse policy: ")
		field, _, _ := strings.Cut(detail, ":")
		return &Error{Key: "settings.err.policy_duration", Args: []any{field},
			msg: fmt.Sprintf("policy field %s is not a duration (%s); write e.g. \"90s\", \"15m\", \"1h\"", field, strings.TrimPrefix(detail, field+": "))}
	}
	msg := strings.TrimPrefix(err.Error(), "cannot parse policy: ")
	msg = strings.ReplaceAll(msg, "policy: ", "")
	msg = strings.ReplaceAll(msg, "\n", "; ")
	return invalid("settings.err.policy", "%s", msg)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// PolicyJSON renders c in the policy file format (durations as "1h0m0s"),
// which ParsePolicy reads back, without the thresholds: they are the
// thresholds setting's.
func PolicyJSON(c policy.Config) json.RawMessage {
	type plain policy.Config
	b, err := json.Marshal(struct {
		plain
		Thresholds       *struct{} `json:"thresholds,omitempty"`
		DefaultThreshold *struct{} `json:"default_threshold,omitempty"`
		Window           string    `json:"window"`
		Cooldown         string    `json:"cooldown"`
		EscalateAfter    string    `json:"escalate_after"`
	}{plain: plain(c), Window: dur(c.Window), Cooldown: dur(c.Cooldown), EscalateAfter: dur(c.EscalateAfter)})
	if err != nil { // only plain data: cannot fail
		return json.RawMessage(`{}`)
	}
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return b
	}
	return buf.Bytes()
}

func dur(d time.Duration) string { return d.String() }
