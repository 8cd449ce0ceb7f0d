package cases

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{StatusOpen, StatusAcknowledged, StatusResolved} {
		if err := s.Save(ctx, Case{ID: "c-1", FactID: "f", Status: status, Posts: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	s.Save(ctx, Case{ID: "c-2", FactID: "g", Status: StatusOpen})
	s.AppendEvent(ctx, Event{CaseID: "c-1", Kind: EventResolved, Actor: "lan"})
	s.Close()

	// A torn line, as a SIGKILL mid-write leaves.
	f, _ := os.OpenFile(filepath.Join(dir, "cases.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"c-3","sta`)
	f.Close()

	s, err = OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "c-1" || list[0].Status != StatusResolved || list[0].Posts != 3 || list[1].ID != "c-2" {
		t.Fatalf("loaded %+v", list)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "cases.jsonl"))
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("not compacted: %d lines", n)
	}
	ev, err := s.Events()
	if err != nil || len(ev) != 1 || ev[0].Actor != "lan" {
		t.Fatalf("events %+v, %v", ev, err)
	}
}

func TestFileStoreCorruptLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cases.jsonl"), []byte("{\"id\":\"a\"}\nnot json\n"), 0o644)
	if _, err := OpenFileStore(dir); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("want an error naming line 2, got %v", err)
	}
}
