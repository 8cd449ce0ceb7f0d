package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The settings audit (013_settings_audit.sql): one row per accepted change
// of a run-time setting. The statements live here, beside their only
// user; SettingsQueries lists them for the engine tests.
const (
	qInsertSettingsAudit = `INSERT INTO settings_audit (time, setting, revision, actor, old, new)`
	// args: setting x2, limit. FINAL: a re-sent row shows once.
	qSettingsAudit = `SELECT time, setting, revision, actor, old, new FROM settings_audit FINAL
WHERE (? = '' OR setting = ?) ORDER BY time DESC, setting, revision DESC LIMIT ?`
)

// SettingsQueries returns the settings statements by name, like Queries.
func SettingsQueries() map[string]string {
	return map[string]string{"insert_settings_audit": qInsertSettingsAudit, "settings_audit": qSettingsAudit}
}

// SettingChange is one audited change: Old and New are the setting's JSON
// values (Old is empty for the first change).
type SettingChange struct {
	Time     time.Time `json:"time"`
	Setting  string    `json:"setting"`
	Revision uint64    `json:"revision"`
	Actor    string    `json:"actor"`
	Old      string    `json:"old"`
	New      string    `json:"new"`
}

// AuditSetting records a change of a setting.
func (s *Store) AuditSetting(ctx context.Context, c SettingChange) error {
	if c.Setting == "" || c.Actor == "" {
		return errors.New("cannot audit a setting change without setting or actor")
	}
	b, err := s.prepare(ctx, "settings_audit", qInsertSettingsAudit)
	if err != nil {
		return err
	}
	if err := b.append(dt(c.Time), c.Setting, c.Revision, c.Actor, c.Old, c.New); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// SettingsAudit lists the changes of setting ("" for all), newest first,
// at most limit.
func (s *Store) SettingsAudit(ctx context.Context, setting string, limit int) ([]SettingChange, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.conn.Query(ctx, qSettingsAudit, setting, setting, limit)
	if err != nil {
		return nil, fmt.Errorf("cannot query settings audit: %w", err)
	}
	defer rows.Close()
	var out []SettingChange
	for rows.Next() {
		var c SettingChange
		if err := rows.Scan(&c.Time, &c.Setting, &c.Revision, &c.Actor, &c.Old, &c.New); err != nil {
			return nil, fmt.Errorf("cannot read settings audit: %w", err)
		}
		c.Time = c.Time.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read settings audit: %w", err)
	}
	return out, nil
}
