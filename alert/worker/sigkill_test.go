package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

// The subprocess test re-runs this test binary as an alerter process.
const helperEnv = "TRENDWATCH_ALERT_HELPER"

type helperInput struct {
	Dir     string           `json:"dir"`
	URL     string           `json:"url"`
	Batches [][]schema.Alert `json:"batches"`
}

func helperRoutes() []policy.Route { return []policy.Route{{Name: "desk", Channels: []string{"desk"}}} }

// helperMain handles every batch, printing "handled N" once batch N is
// durable (when the lead's consumer would commit its offset), then keeps
// delivering until killed.
func helperMain() int {
	var in helperInput
	b, err := os.ReadFile(os.Getenv(helperEnv))
	if err == nil {
		err = json.Unmarshal(b, &in)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ch, err := webhook.New(webhook.Config{URL: in.URL, Secret: secret})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	e, err := New(testOptions(in.Dir, map[string]notify.Channel{"desk": ch}, helperRoutes()), slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	go e.Run(context.Background())
	for i, batch := range in.Batches {
		if err := e.Handle(context.Background(), batch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("handled %d\n", i)
		time.Sleep(2 * time.Millisecond) // let deliveries interleave with batches
	}
	select {}
}

// TestSIGKILLRestart kills a real alerter process with SIGKILL mid-stream
// and finishes the stream in a new engine on the same state dir: every
// notification reaches the receiver, none under a new key.
func TestSIGKILLRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	rcv := newReceiver(t, 2)
	dir := t.TempDir()
	bs := batches(workload(time.Now().Add(-24*time.Hour)), 40)
	in, _ := json.Marshal(helperInput{Dir: filepath.Join(dir, "state"), URL: rcv.srv.URL, Batches: bs})
	inFile := filepath.Join(dir, "input.json")
	if err := os.WriteFile(inFile, in, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+inFile)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "handled "); ok {
			committed, _ = strconv.Atoi(n)
			if len(rcv.keys()) > 0 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if committed < 0 {
		t.Fatal("the alerter process handled nothing")
	}
	t.Logf("killed after batch %d of %d; receiver had %d keys", committed, len(bs), len(rcv.keys()))

	e, err := New(testOptions(filepath.Join(dir, "state"), map[string]notify.Channel{"desk": rcv.channel(t)}, helperRoutes()), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pending at restart: %d", e.Pending())
	stop := started(t, e)
	// Kafka redelivers everything after the last committed offset; the
	// batch being handled at the kill may or may not have been journaled.
	for _, b := range bs[committed+1:] {
		if err := e.Handle(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	cs := e.Cases()
	if len(cs) != 3 {
		t.Fatalf("%d cases after restart, want 3", len(cs))
	}
	for _, c := range cs {
		if c.Posts != 300 {
			t.Errorf("case %s: %d posts, want 300", c.ID, c.Posts)
		}
	}
	want := expectedKeys(cs, "desk")
	waitFor(t, "every notification", func() bool { return slices.Equal(rcv.keys(), want) && e.Pending() == 0 })
	stop()
	// Every key names a notification the cases recorded: none was invented
	// by the restart.
	for _, k := range rcv.keys() {
		if !slices.Contains(want, k) {
			t.Errorf("unexpected key %s", k)
		}
	}
}
