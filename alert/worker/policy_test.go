package worker

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// A policy change is journaled where it happened: an engine reopened on
// the state dir (from the journal, then from a snapshot) decides under the
// changed policy, not the one in its Options.
func TestSetPolicyJournaled(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	open := func() *Engine {
		t.Helper()
		e, err := New(testOptions(dir, nil, nil), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	opens := func(e *Engine, fact string, score float64) bool {
		t.Helper()
		if err := e.Handle(context.Background(), []schema.Alert{alert(fact, fact+"-p", "an", score, schema.VerdictFalse, now)}); err != nil {
			t.Fatal(err)
		}
		for _, c := range e.Cases() {
			if c.FactID == fact {
				return true
			}
		}
		return false
	}
	e := open()
	if !opens(e, "f1", 0.7) {
		t.Fatal("0.7 opens no case under the default policy")
	}
	strict := e.Policy()
	strict.Thresholds = map[string]float64{"vi": 0.8}
	if err := e.SetPolicy(strict); err != nil {
		t.Fatal(err)
	}
	if opens(e, "f2", 0.7) {
		t.Fatal("0.7 opened a case under a 0.8 threshold")
	}
	bad := strict
	bad.MinPosts = 0
	if err := e.SetPolicy(bad); err == nil {
		t.Fatal("an invalid policy was accepted")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = open() // from the journal
	if got := e.Policy().Threshold("vi"); got != 0.8 {
		t.Fatalf("after reopening, vi threshold %v, want the journaled 0.8", got)
	}
	if opens(e, "f3", 0.7) || !opens(e, "f4", 0.85) {
		t.Fatal("the reopened engine does not decide under the journaled policy")
	}
	stop := started(t, e)
	stop() // compacts into a snapshot

	e = open() // from the snapshot
	defer e.Close()
	if got := e.Policy().Threshold("vi"); got != 0.8 {
		t.Fatalf("after a snapshot, vi threshold %v, want 0.8", got)
	}
	if n := len(e.Cases()); n != 2 {
		t.Fatalf("%d cases after reopening, want 2 (f1, f4)", n)
	}
	// Setting the same policy again journals nothing.
	size := e.journal.size
	if err := e.SetPolicy(e.Policy()); err != nil || e.journal.size != size {
		t.Fatalf("re-setting the same policy: %v, journal %d -> %d bytes", err, size, e.journal.size)
	}
}
