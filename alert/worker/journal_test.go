package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

func journalOptions(dir string) Options {
	return testOptions(dir, map[string]notify.Channel{"null": discard{}}, []policy.Route{{Name: "all", Channels: []string{"null"}}})
}

func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, journalName), []byte(`{"op":"delta","delta":{"fact_id":"f","case":{"id":"c-1","fact_id":"f","status":"open"}}}`+"\n"+`{"op":"queue","deliv`), 0o644)
	e, err := New(journalOptions(dir), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if cs := e.Cases(); len(cs) != 1 || cs[0].ID != "c-1" {
		t.Fatalf("cases %+v", cs)
	}
}

func TestJournalCorrupt(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, journalName), []byte("{\"op\":\"nope\"}\n"), 0o644)
	if _, err := New(journalOptions(dir), slog.Default()); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("want an error naming the line, got %v", err)
	}
}

// FuzzJournal: whatever bytes the journal holds, New never panics; when it
// accepts them, the state it loaded survives a compaction and reload.
func FuzzJournal(f *testing.F) {
	f.Add([]byte(`{"op":"epoch","epoch":3}` + "\n" + `{"op":"done","id":"x"}` + "\n"))
	f.Add([]byte(`{"op":"queue","delivery":{"id":"k/null","channel":"null","n":{"idempotency_key":"k"}}}` + "\n"))
	f.Add([]byte(`{"op":"delta","delta":{"fact_id":"f","case":{"id":"c","status":"open","posts":3},"window":[[1767225600000,"x"]],"seen":["k"]}}` + "\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, journalName), data, 0o644)
		e, err := New(journalOptions(dir), slog.New(slog.DiscardHandler))
		if err != nil {
			return
		}
		cases, pending := len(e.Cases()), e.Pending()
		e.Close()
		e2, err := New(journalOptions(dir), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("reload after compaction: %v", err)
		}
		if len(e2.Cases()) != cases || e2.Pending() != pending {
			t.Fatalf("reload changed state: %d/%d cases, %d/%d pending", len(e2.Cases()), cases, e2.Pending(), pending)
		}
		e2.Close()
	})
}

// TestCompactionKeepsState: compacting after every batch (tiny threshold)
// loses neither cases, dedupe keys nor pending deliveries.
func TestCompactionKeepsState(t *testing.T) {
	dir := t.TempDir()
	opts := journalOptions(dir)
	opts.CompactBytes = 1
	e, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var all []schema.Alert
	for i := range 30 {
		a := alert(fmt.Sprint("f", i%3), fmt.Sprint(i), "u", .9, schema.VerdictFalse, now)
		all = append(all, a)
		if err := e.Handle(context.Background(), []schema.Alert{a}); err != nil {
			t.Fatal(err)
		}
	}
	want, pending := e.Cases(), e.Pending()
	e.Close()
	e2, err := New(opts, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	// Redelivering everything changes nothing.
	if err := e2.Handle(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	got := e2.Cases()
	if len(got) != 3 || e2.Pending() != pending {
		t.Fatalf("%d cases, %d pending; want 3, %d", len(got), e2.Pending(), pending)
	}
	for i := range got {
		if got[i].Posts != want[i].Posts || got[i].NotifySeq != want[i].NotifySeq || got[i].Posts != 10 {
			t.Fatalf("case %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
