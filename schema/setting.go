package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TopicSettings holds the settings an admin changes at run time
// (compacted, one partition, keyed by setting name): every analyzer, the
// alerter and the API follow it from the beginning, so the latest value
// of each setting reaches a process that starts later.
const TopicSettings = "trendwatch.settings"

// Setting names (the keys of TopicSettings).
const (
	SettingThresholds  = "thresholds"   // Value: {"vi":0.6,...}
	SettingAlertPolicy = "alert-policy" // Value: the policy file format (alert/policy.ParsePolicy)
)

// Setting is one version of a setting: its value, who set it and when.
// Revision counts the changes of that setting, from 1.
type Setting struct {
	V        int             `json:"v"`
	Name     string          `json:"name"`
	Revision uint64          `json:"revision"`
	Value    json.RawMessage `json:"value"`
	Actor    string          `json:"actor"`
	Time     time.Time       `json:"time"`
}

func (s *Setting) setVersion() { s.V = Version }

// DecodeSetting parses a setting message.
func DecodeSetting(b []byte) (Setting, error) {
	var s Setting
	if err := decode(b, &s, &s.V); err != nil {
		return Setting{}, fmt.Errorf("cannot decode setting: %w", err)
	}
	if s.Name == "" || len(s.Value) == 0 {
		return Setting{}, errors.New("setting lacks name or value")
	}
	return s, nil
}
