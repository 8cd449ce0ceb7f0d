package clickhouse

import (
	"context"
	"testing"
	"time"
)

// The audit keeps every change, newest first, filtered by setting; a
// re-sent row shows once.
func TestSettingsAudit(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)
	changes := []SettingChange{
		{Time: t0, Setting: "thresholds", Revision: 1, Actor: "admin", Old: "", New: `{"vi":0.6}`},
		{Time: t0.Add(time.Minute), Setting: "alert-policy", Revision: 1, Actor: "lan", Old: "", New: `{"min_posts":3}`},
		{Time: t0.Add(2 * time.Minute), Setting: "thresholds", Revision: 2, Actor: "lan", Old: `{"vi":0.6}`, New: `{"vi":0.7}`},
	}
	for _, c := range append(changes, changes[2]) { // the last one twice
		if err := s.AuditSetting(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AuditSetting(ctx, SettingChange{Setting: "thresholds"}); err == nil {
		t.Error("a change without actor was audited")
	}
	all, err := s.SettingsAudit(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0] != changes[2] || all[1] != changes[1] || all[2] != changes[0] {
		t.Fatalf("audit = %+v", all)
	}
	th, err := s.SettingsAudit(ctx, "thresholds", 1)
	if err != nil || len(th) != 1 || th[0].Old != `{"vi":0.6}` || th[0].New != `{"vi":0.7}` || th[0].Actor != "lan" {
		t.Fatalf("thresholds audit = %+v, %v", th, err)
	}
}
