package main

// Issue 5 acceptance, the case lifecycle end to end: the team's commands go
// from the API through trendwatch.alerts to the alerter, as in production,
// and the receiver sees their effect — acknowledging stops escalation, a
// snooze silences the case until its time, resolving closes it.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify/webhook"
)

// kindLog records every accepted notification with its arrival time.
type kindLog struct {
	mu   sync.Mutex
	got  map[string]bool // idempotency keys seen
	list []arrival
}

type arrival struct {
	caseID, kind string
	at           time.Time
}

func (k *kindLog) of(caseID string) []arrival {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []arrival
	for _, a := range k.list {
		if a.caseID == caseID {
			out = append(out, a)
		}
	}
	return out
}

func kinds(as []arrival) string {
	var s []string
	for _, a := range as {
		s = append(s, a.kind)
	}
	return strings.Join(s, ",")
}

func TestCaseLifecycleThroughAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	log := &kindLog{got: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.Verify([]byte("life-secret"), r, 10*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var n struct {
			CaseID string `json:"case_id"`
			Kind   string `json:"kind"`
		}
		_ = json.Unmarshal(body, &n)
		log.mu.Lock()
		if key := r.Header.Get(webhook.HeaderIdempotencyKey); !log.got[key] {
			log.got[key] = true
			log.list = append(log.list, arrival{n.CaseID, n.Kind, time.Now()})
		}
		log.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	run := fmt.Sprintf("life-%d", time.Now().UnixNano())
	dataDir := t.TempDir()
	// Escalation late enough for the commands to land first, even on a
	// loaded machine; a short cooldown so the snoozed case's update is
	// sent as soon as its snooze ends.
	const escalateAfter = 30 * time.Second
	routes := filepath.Join(dataDir, "routes.json")
	pol := filepath.Join(dataDir, "policy.json")
	if err := os.WriteFile(routes, []byte(fmt.Sprintf(`{"routes":[{"name":"desk","channels":["webhook"],"escalate":["webhook"],"escalate_after":%q}]}`, escalateAfter)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pol, []byte(`{"cooldown": "1s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	api := freePort(t)
	env := migratedEnv(t, run, dataDir)
	startProc(t, "serve", env, "serve", "--listen", api)
	startProc(t, "analyze", env, "analyze", "--metrics-listen", "")
	startProc(t, "alert", append(env, "TRENDWATCH_WEBHOOK_URL="+srv.URL, "TRENDWATCH_WEBHOOK_SECRET=life-secret"),
		"alert", "--metrics-listen", "", "--alert-routes", routes, "--alert-policy", pol)

	base := "http://" + api
	waitFor(t, "API ready", 60*time.Second, func() (bool, string) { return getJSON(t, base+"/readyz", nil) == 200, "" })
	postFalseFacts(t, base)

	n := 0
	posts := func(fact int, count int) {
		var items []map[string]any
		for range count {
			f := falseFacts[fact]
			items = append(items, map[string]any{"id": fmt.Sprintf("%s-p%d", run, n), "text": f.posts[n%len(f.posts)], "author": fmt.Sprintf("user%d", n),
				"lang": "en", "platform": "push", "published": time.Now().UTC().Format(time.RFC3339)})
			n++
		}
		pushPosts(t, base, items)
	}
	for i := range falseFacts {
		posts(i, 4)
	}

	type caseT struct {
		ID     string `json:"id"`
		FactID string `json:"fact_id"`
		State  string `json:"state"`
	}
	byFact := map[string]caseT{}
	waitFor(t, "three cases, each notified once", 60*time.Second, func() (bool, string) {
		var cs struct {
			Cases []caseT `json:"cases"`
		}
		getJSON(t, base+"/api/v1/cases?limit=100", &cs)
		for _, c := range cs.Cases {
			byFact[c.FactID] = c
		}
		ok := len(byFact) == 3
		var desc []string
		for f, c := range byFact {
			k := kinds(log.of(c.ID))
			desc = append(desc, f+":"+k)
			ok = ok && k == "opened"
		}
		return ok, strings.Join(desc, " ")
	})
	acked, snoozed, resolved := byFact[falseFacts[0].id], byFact[falseFacts[1].id], byFact[falseFacts[2].id]
	action := func(c caseT, act string, body any) {
		t.Helper()
		if code, out := postJSON(t, base+"/api/v1/cases/"+c.ID+"/"+act, body); code != http.StatusAccepted {
			t.Fatalf("%s %s: %d %s", act, c.ID, code, out)
		}
	}
	until := time.Now().Add(10 * time.Second).UTC().Truncate(time.Second)
	action(acked, "acknowledge", map[string]any{})
	action(snoozed, "snooze", map[string]any{"until": until.Format(time.RFC3339)})
	action(resolved, "resolve", map[string]any{"note": "debunk published"})
	state := func(c caseT) string {
		var got struct {
			Case    caseT `json:"case"`
			History []struct {
				Action string `json:"action"`
			} `json:"history"`
		}
		getJSON(t, base+"/api/v1/cases/"+c.ID, &got)
		return got.Case.State
	}
	waitFor(t, "acknowledged and resolved in the API", 30*time.Second, func() (bool, string) {
		a, r := state(acked), state(resolved)
		return a == "acknowledged" && r == "resolved", "acked case " + a + ", resolved case " + r
	})
	// The snoozed claim keeps spreading during its snooze.
	posts(1, 8)

	// The snoozed case was never acknowledged: it escalates, but not before
	// its snooze ends; its update about the posts that came meanwhile also
	// waits for the snooze.
	waitFor(t, "the snoozed case's escalation", escalateAfter+60*time.Second, func() (bool, string) {
		as := log.of(snoozed.ID)
		return strings.Contains(kinds(as), "escalation"), kinds(as)
	})
	time.Sleep(3 * time.Second) // anything wrongly due would arrive by now
	for _, a := range log.of(snoozed.ID)[1:] {
		if a.at.Before(until) {
			t.Errorf("snoozed case notified (%s) at %s, before its snooze ended at %s", a.kind, a.at.Format(time.RFC3339Nano), until.Format(time.RFC3339))
		}
	}
	if k := kinds(log.of(snoozed.ID)); !strings.Contains(k, "update") {
		t.Errorf("snoozed case notifications %s: want an update for the posts seen during the snooze", k)
	}
	if k := kinds(log.of(acked.ID)); strings.Contains(k, "escalation") {
		t.Errorf("acknowledged case notifications %s: acknowledging must stop escalation", k)
	}
	if k := kinds(log.of(resolved.ID)); k != "opened" {
		t.Errorf("resolved case notifications %s: want only the opening one", k)
	}
	if s := state(resolved); s != "resolved" {
		t.Errorf("resolved case is %s", s)
	}
	if s := state(snoozed); s != "open" {
		t.Errorf("snoozed case is %s after its snooze, want open", s)
	}
}
