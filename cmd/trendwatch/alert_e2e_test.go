package main

// Issue 5 acceptance, end to end on real Kafka and ClickHouse: about a
// thousand posts about three false facts, in bursts, plus unrelated posts,
// pushed through the API; the webhook receiver fails every notification's
// first two attempts and the alerter is SIGKILLed midway and restarted.
// Exactly three cases must exist and every notification must reach the
// receiver, each idempotency key accepted once.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify/webhook"
	"github.com/trendwatch/trendwatch/internal/testsvc"
)

// flakyReceiver refuses each idempotency key's first two deliveries, then
// accepts it; later deliveries of an accepted key are duplicates.
type flakyReceiver struct {
	srv       *httptest.Server
	secret    []byte
	mu        sync.Mutex
	attempts  map[string]int
	accepted  map[string]map[string]any // key -> body
	dupes     map[string]int
	badSig    int
	routeHits map[string]int
}

func newFlakyReceiver(t *testing.T, secret string) *flakyReceiver {
	rc := &flakyReceiver{secret: []byte(secret), attempts: map[string]int{}, accepted: map[string]map[string]any{}, dupes: map[string]int{}, routeHits: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := webhook.Verify(rc.secret, r, 10*time.Minute)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err != nil {
			rc.badSig++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		key := r.Header.Get(webhook.HeaderIdempotencyKey)
		rc.attempts[key]++
		if _, done := rc.accepted[key]; done {
			rc.dupes[key]++ // a receiver drops these by key
			w.WriteHeader(http.StatusOK)
			return
		}
		if rc.attempts[key] <= 2 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		rc.accepted[key] = m
		rc.routeHits[r.URL.Path]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

type notice struct {
	caseID string
	seq    int
}

func (rc *flakyReceiver) notices() map[string]notice {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]notice{}
	for k, m := range rc.accepted {
		seq, _ := m["seq"].(float64)
		id, _ := m["case_id"].(string)
		out[k] = notice{caseID: id, seq: int(seq)}
	}
	return out
}

var falseFacts = []struct {
	id, claim, title string
	posts            []string
}{
	{"acc-5g-virus", "5G towers spread the coronavirus.", "Do 5G towers spread the coronavirus?", []string{
		"5G towers are spreading the coronavirus, share before they delete this",
		"they admit it now: the coronavirus spreads through 5G towers",
		"My cousin says the new 5G towers spread coronavirus in our district",
		"Why is nobody talking about 5G towers spreading the coronavirus?",
	}},
	{"acc-salt-water", "Gargling salt water kills the coronavirus in the throat.", "Does gargling with salt water kill the coronavirus?", []string{
		"Gargle salt water every morning, it kills the coronavirus in your throat",
		"Doctors hide that gargling with salt water kills the coronavirus",
		"salt water gargling kills coronavirus in the throat before it reaches the lungs",
		"Simple cure: gargling warm salt water kills the coronavirus in the throat",
	}},
	{"acc-dam-collapse", "The Hoa Binh dam collapsed after the storm.", "Did the Hoa Binh dam collapse after the storm?", []string{
		"BREAKING: the Hoa Binh dam has collapsed after the storm, evacuate now",
		"Hoa Binh dam collapsed after last night's storm, water is coming",
		"They are hiding that the Hoa Binh dam collapsed in the storm",
		"Video shows the Hoa Binh dam collapse after the storm",
	}},
}

var unrelated = []string{
	"The city council approved the budget for the second metro line on Monday",
	"Volunteers cleaned the beach after the weekend festival",
	"The national football team won the friendly match two goals to one",
	"Rice prices stayed stable this week according to the ministry",
	"A new public library opened in the old quarter with free reading rooms",
	"Traffic on the ring road was slow due to road works near the bridge",
}

// migratedEnv is the environment of a test's trendwatch processes on the
// real services, isolated by run (topics, consumer groups, database), with
// the migrations applied.
func migratedEnv(t *testing.T, run, dataDir string) []string {
	t.Helper()
	brokers := testsvc.Kafka(t)
	chAddr := testsvc.ClickHouse(t)
	db := testsvc.Database(t, chAddr)
	env := []string{
		"TRENDWATCH_KAFKA_BROKERS=" + brokers,
		"TRENDWATCH_KAFKA_TOPIC_PREFIX=" + run + ".",
		"TRENDWATCH_CLICKHOUSE_ADDR=" + chAddr,
		"TRENDWATCH_CLICKHOUSE_DATABASE=" + db,
		"TRENDWATCH_DATA_DIR=" + dataDir,
		"TRENDWATCH_BATCH_LINGER=50ms",
	}
	if out, err := execEnv(env, "migrate").CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	return env
}

// postFalseFacts adds falseFacts through the API and waits until the
// dashboard's mirror has them and the analyzers have had time to load them.
func postFalseFacts(t *testing.T, base string) {
	t.Helper()
	for _, f := range falseFacts {
		fact := map[string]any{"id": f.id, "claim": f.claim, "title": f.title, "rating": "False", "lang": "en", "publisher": "Checkers", "url": "https://checkers.example/" + f.id}
		if code, body := postJSON(t, base+"/api/v1/facts", fact); code != http.StatusAccepted {
			t.Fatalf("POST fact: %d %s", code, body)
		}
	}
	waitFor(t, "facts mirrored", 30*time.Second, func() (bool, string) {
		var fs struct {
			Facts []any `json:"facts"`
		}
		getJSON(t, base+"/api/v1/facts?limit=10", &fs)
		return len(fs.Facts) == 3, fmt.Sprint(len(fs.Facts), " facts")
	})
	time.Sleep(1500 * time.Millisecond) // the analyzers' index follows the same topic
}

func pushPosts(t *testing.T, api string, items []map[string]any) {
	t.Helper()
	for len(items) > 0 {
		n := min(len(items), 100)
		code, body := postJSON(t, api+"/api/v1/ingest", map[string]any{"items": items[:n]})
		if code != http.StatusOK && code != http.StatusAccepted {
			t.Fatalf("push: %d %s", code, body)
		}
		items = items[n:]
	}
}

func TestAlertCasesSurviveCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	rc := newFlakyReceiver(t, "acc-secret")
	run := fmt.Sprintf("acc-%d", time.Now().UnixNano())
	dataDir := t.TempDir()
	routes := filepath.Join(dataDir, "routes.json")
	// Every case goes to the desk over the signed webhook.
	if err := os.WriteFile(routes, []byte(`{"routes":[{"name":"desk","channels":["webhook"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	api := freePort(t)
	env := migratedEnv(t, run, dataDir)
	startProc(t, "serve", env, "serve", "--listen", api)
	startProc(t, "analyze", env, "analyze", "--metrics-listen", freePort(t))
	alertArgs := []string{"alert", "--metrics-listen", "", "--alert-routes", routes}
	alertEnv := append(env, "TRENDWATCH_WEBHOOK_URL="+rc.srv.URL+"/desk", "TRENDWATCH_WEBHOOK_SECRET=acc-secret")
	alerter := startProc(t, "alert-1", alertEnv, alertArgs...)

	base := "http://" + api
	waitFor(t, "API ready", 60*time.Second, func() (bool, string) { return getJSON(t, base+"/readyz", nil) == 200, "" })
	postFalseFacts(t, base)

	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	mk := func(i int, text string) map[string]any {
		return map[string]any{"id": fmt.Sprintf("%s-p%04d", run, i), "text": text, "author": fmt.Sprintf("user%03d", rng.IntN(400)),
			"lang": "en", "platform": "push", "published": now.Add(-time.Duration(1000-i) * time.Second).Format(time.RFC3339)}
	}
	var burst [3][]map[string]any
	var noise []map[string]any
	i := 0
	for b, f := range falseFacts {
		for range 250 {
			burst[b] = append(burst[b], mk(i, f.posts[rng.IntN(len(f.posts))]+fmt.Sprintf(" #%d", rng.IntN(1000))))
			i++
		}
	}
	for range 250 {
		noise = append(noise, mk(i, unrelated[rng.IntN(len(unrelated))]))
		i++
	}
	pushPosts(t, base, append(burst[0], noise[:125]...))
	pushPosts(t, base, burst[1][:125])
	// Midway: the alerter dies without any chance to clean up.
	waitFor(t, "first notifications attempted", 60*time.Second, func() (bool, string) {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.attempts) > 0, "no attempt yet"
	})
	if err := alerter.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-alerter.done
	pushPosts(t, base, burst[1][125:])
	pushPosts(t, base, append(burst[2], noise[125:]...))
	startProc(t, "alert-2", alertEnv, alertArgs...)

	// Exactly three cases, one per fact, each with every matching post.
	type caseJSONT struct {
		ID     string `json:"id"`
		FactID string `json:"fact_id"`
		Detail struct {
			Posts     int `json:"posts"`
			NotifySeq int `json:"notify_seq"`
		} `json:"detail"`
	}
	var cs struct {
		Cases []caseJSONT `json:"cases"`
	}
	waitFor(t, "three cases with all their posts", 120*time.Second, func() (bool, string) {
		cs.Cases = nil
		getJSON(t, base+"/api/v1/cases?limit=100", &cs)
		var desc []string
		ok := len(cs.Cases) == 3
		for _, c := range cs.Cases {
			desc = append(desc, fmt.Sprintf("%s:%d posts", c.FactID, c.Detail.Posts))
			if c.Detail.Posts < 240 { // a few paraphrases may score under the threshold
				ok = false
			}
		}
		return ok, strings.Join(desc, ", ")
	})
	facts := map[string]bool{}
	for _, c := range cs.Cases {
		facts[c.FactID] = true
		if c.Detail.Posts > 250 {
			t.Errorf("case %s counts %d posts, more than the 250 posted (a post counted twice?)", c.ID, c.Detail.Posts)
		}
	}
	for _, f := range falseFacts {
		if !facts[f.id] {
			t.Errorf("no case for %s", f.id)
		}
	}
	// Every notification each case made reached the receiver once.
	waitFor(t, "all notifications delivered", 120*time.Second, func() (bool, string) {
		cs.Cases = nil
		getJSON(t, base+"/api/v1/cases?limit=100", &cs)
		got := map[string][]int{}
		for _, n := range rc.notices() {
			got[n.caseID] = append(got[n.caseID], n.seq)
		}
		var desc []string
		ok := len(cs.Cases) == 3
		for _, c := range cs.Cases {
			seqs := got[c.ID]
			sort.Ints(seqs)
			desc = append(desc, fmt.Sprintf("%s want 1..%d got %v", c.ID, c.Detail.NotifySeq, seqs))
			if c.Detail.NotifySeq == 0 || len(seqs) != c.Detail.NotifySeq {
				ok = false
				continue
			}
			for i, s := range seqs {
				if s != i+1 {
					ok = false
				}
			}
		}
		return ok, strings.Join(desc, "; ")
	})
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.badSig > 0 {
		t.Errorf("%d deliveries had bad signatures", rc.badSig)
	}
	for k, n := range rc.attempts {
		if _, ok := rc.accepted[k]; ok && n < 3 {
			t.Errorf("key %s accepted after %d attempts; the receiver refused the first two", k, n)
		}
	}
	t.Logf("notifications: %d distinct keys, %d duplicate deliveries dropped by key, %d total attempts", len(rc.accepted), len(rc.dupes), total(rc.attempts))
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
