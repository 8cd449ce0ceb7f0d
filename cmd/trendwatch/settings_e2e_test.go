package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metric sums the samples of a Prometheus metric whose line contains
// every one of labels, from a process's /metrics; -1 when unreachable.
func metric(addr, name string, labels ...string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sum, seen := 0.0, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum, seen = sum+v, true
		}
	}
	if !seen {
		return 0
	}
	return sum
}

// call sends a JSON request with a bearer token.
func call(t *testing.T, method, u, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitRevision polls a process's settings revision gauge every 2 ms and
// returns how long after start it reached rev, or -1 after 30 s.
func waitRevision(addr, setting string, rev int, start time.Time) time.Duration {
	for time.Since(start) < 30*time.Second {
		if metric(addr, "trendwatch_settings_revision", `setting="`+setting+`"`) >= float64(rev) {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return -1
}

// measureRevision starts polling both processes at once; the channel gets
// the analyzer's then the alerter's delay.
func measureRevision(ana, alert string, rev int, start time.Time) <-chan [2]time.Duration {
	out := make(chan [2]time.Duration, 1)
	go func() {
		a := make(chan time.Duration, 1)
		go func() { a <- waitRevision(alert, "thresholds", rev, start) }()
		d := waitRevision(ana, "thresholds", rev, start)
		out <- [2]time.Duration{d, <-a}
	}()
	return out
}

// TestSettingsReachRunningStages runs serve, analyze and alert as separate
// processes on the real services and changes the thresholds through the
// API while they run: each change reaches the analyzer and the alerter
// within a second (measured), the very next post is judged by it, every
// change is audited, only an admin may change it, a bad value is refused
// by name, and an analyzer started later finds the latest value.
func TestSettingsReachRunningStages(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	run := fmt.Sprintf("set-%d", time.Now().UnixNano())
	dataDir := t.TempDir()
	env := migratedEnv(t, run, dataDir)
	env = append(env, "TRENDWATCH_API_TOKEN=settings-admin-token")
	const admin = "settings-admin-token"
	api, anaMetrics, alertMetrics := freePort(t), freePort(t), freePort(t)
	startProc(t, "serve", env, "serve", "--listen", api)
	startProc(t, "analyze", env, "analyze", "--metrics-listen", anaMetrics)
	startProc(t, "alert", env, "alert", "--metrics-listen", alertMetrics)
	base := "http://" + api
	waitFor(t, "API ready", 60*time.Second, func() (bool, string) { return getJSON(t, base+"/readyz", nil) == 200, "" })

	fact := `{"id":"set-lemon","claim":"Drinking hot water with lemon cures COVID-19.","title":"Does hot lemon water cure COVID-19?","rating":"False","lang":"en","publisher":"Checkers","url":"https://checkers.example/lemon"}`
	if code, body := call(t, "POST", base+"/api/v1/facts", admin, fact); code != http.StatusAccepted {
		t.Fatalf("POST fact: %d %s", code, body)
	}
	waitFor(t, "fact mirrored", 30*time.Second, func() (bool, string) {
		code, _ := call(t, "GET", base+"/api/v1/facts/set-lemon", admin, "")
		return code == 200, strconv.Itoa(code)
	})
	time.Sleep(1500 * time.Millisecond) // the analyzer's index follows the facts topic
	code, body := call(t, "POST", base+"/api/v1/tokens", admin, `{"label":"desk","role":"editor"}`)
	var tok struct {
		Secret string `json:"secret"`
		Token  string `json:"token"`
	}
	_ = json.Unmarshal([]byte(body), &tok)
	editor := tok.Secret + tok.Token
	if code != http.StatusCreated || editor == "" {
		t.Fatalf("create editor token: %d %s", code, body)
	}

	// push sends one matching post and returns how many alerts the
	// analyzer emitted for it, once it has committed it.
	n := 0
	push := func() (alerts float64, took time.Duration) {
		t.Helper()
		n++
		before := metric(anaMetrics, "trendwatch_bus_messages_consumed_total", `topic="trendwatch.posts"`)
		alerted := metric(anaMetrics, "trendwatch_analyze_alerts_total")
		item := map[string]any{"id": fmt.Sprintf("%s-%d", run, n), "lang": "en", "platform": "push", "author": fmt.Sprintf("user%d", n),
			"text": fmt.Sprintf("A viral post claims that drinking hot water with lemon cures COVID-19 (%d)", n), "published": time.Now().UTC().Format(time.RFC3339)}
		b, _ := json.Marshal(map[string]any{"items": []any{item}})
		start := time.Now()
		if code, body := call(t, "POST", base+"/api/v1/ingest", admin, string(b)); code/100 != 2 {
			t.Fatalf("push: %d %s", code, body)
		}
		waitFor(t, "post analyzed", 30*time.Second, func() (bool, string) {
			return metric(anaMetrics, "trendwatch_bus_messages_consumed_total", `topic="trendwatch.posts"`) > before, ""
		})
		took = time.Since(start)
		time.Sleep(200 * time.Millisecond) // alerts go out beside the ClickHouse write
		return metric(anaMetrics, "trendwatch_analyze_alerts_total") - alerted, took
	}
	if a, took := push(); a != 1 {
		t.Fatalf("under the default threshold the post raised %v alerts, want 1", a)
	} else {
		t.Logf("baseline post analyzed %v after the push", took)
	}

	// Change: nothing can reach 1.
	// put changes the thresholds, measuring from the moment the request
	// is sent until each process has the change in force.
	put := func(value string, rev int) (delays <-chan [2]time.Duration, putTook time.Duration) {
		t.Helper()
		start := time.Now()
		delays = measureRevision(anaMetrics, alertMetrics, rev, start)
		code, body := call(t, "PUT", base+"/api/v1/settings/thresholds", admin, value)
		if code != http.StatusOK {
			t.Fatalf("PUT thresholds %s: %d %s", value, code, body)
		}
		return delays, time.Since(start)
	}
	delays, putTook := put(`{"en": 1}`, 1)
	a, took := push() // at once: the very next post
	d := <-delays
	anaDelay, alertDelay := d[0], d[1]
	t.Logf("thresholds en=1: PUT answered in %v; in force in the analyzer %v and the alerter %v after the PUT was sent; next post analyzed %v after its push",
		putTook, anaDelay, alertDelay, took)
	if a != 0 {
		t.Errorf("the post after raising en to 1 raised %v alerts, want 0", a)
	}
	if anaDelay < 0 || alertDelay < 0 || anaDelay > time.Second || alertDelay > time.Second {
		t.Errorf("the change took %v (analyzer) and %v (alerter), over a second", anaDelay, alertDelay)
	}

	delays, putTook = put(`{"thresholds": {"en": 0.3}}`, 2)
	a, took = push()
	d = <-delays
	anaDelay, alertDelay = d[0], d[1]
	t.Logf("thresholds en=0.3: PUT answered in %v; in force in the analyzer %v and the alerter %v after the PUT was sent; next post analyzed %v after its push",
		putTook, anaDelay, alertDelay, took)
	if a != 1 {
		t.Errorf("the post after lowering en to 0.3 raised %v alerts, want 1", a)
	}
	if anaDelay < 0 || alertDelay < 0 || anaDelay > time.Second || alertDelay > time.Second {
		t.Errorf("the change took %v (analyzer) and %v (alerter), over a second", anaDelay, alertDelay)
	}
	// The alerter judged by the same thresholds: the case counts the two
	// posts that alerted, not the one under en=1.
	waitFor(t, "case with the two alerting posts", 30*time.Second, func() (bool, string) {
		var cs struct {
			Cases []struct {
				Detail struct {
					Posts int `json:"posts"`
				} `json:"detail"`
			} `json:"cases"`
		}
		_, body := call(t, "GET", base+"/api/v1/cases?fact_id=set-lemon", admin, "")
		_ = json.Unmarshal([]byte(body), &cs)
		return len(cs.Cases) == 1 && cs.Cases[0].Detail.Posts == 2, body
	})

	// Audited: who, when, old → new.
	var audit struct {
		Changes []struct {
			Time                     time.Time
			Setting, Actor, Old, New string
		} `json:"changes"`
	}
	_, body = call(t, "GET", base+"/api/v1/settings/audit?setting=thresholds", admin, "")
	if err := json.Unmarshal([]byte(body), &audit); err != nil || len(audit.Changes) != 2 {
		t.Fatalf("audit: %v %s", err, body)
	}
	last, first := audit.Changes[0], audit.Changes[1]
	if !strings.Contains(first.Old, `"en":0.5`) || !strings.Contains(first.New, `"en":1`) || !strings.Contains(last.Old, `"en":1`) ||
		!strings.Contains(last.New, `"en":0.3`) || last.Actor != "api-token" || time.Since(last.Time) > time.Minute {
		t.Errorf("audit rows: %+v", audit.Changes)
	}
	t.Logf("audit: %s %s %s → %s", last.Time.Format(time.RFC3339), last.Actor, last.Old, last.New)

	// Only an admin; a bad value is named.
	if code, body := call(t, "PUT", base+"/api/v1/settings/thresholds", editor, `{"en": 0.9}`); code != http.StatusForbidden {
		t.Errorf("editor PUT: %d %s, want 403", code, body)
	}
	code, body = call(t, "PUT", base+"/api/v1/settings/thresholds", admin, `{"en": 0.4, "fr": 1.7}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "fr") || !strings.Contains(body, "1.7") || !strings.Contains(body, "invalid_setting") {
		t.Errorf("bad value: %d %s, want 400 naming fr and 1.7", code, body)
	}
	_, body = call(t, "GET", base+"/api/v1/settings/thresholds", admin, "")
	if !strings.Contains(body, `"en":0.3`) || !strings.Contains(body, `"revision":2`) {
		t.Errorf("after refused changes: %s", body)
	}

	// An analyzer started now reads the latest value from the topic.
	late := freePort(t)
	startProc(t, "analyze-late", env, "analyze", "--metrics-listen", late)
	if d := waitRevision(late, "thresholds", 2, time.Now()); d < 0 {
		t.Error("an analyzer started after the changes never had revision 2")
	} else {
		t.Logf("an analyzer started after the changes had revision 2 %v after it was started", d)
	}
}
