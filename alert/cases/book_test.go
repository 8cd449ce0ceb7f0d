package cases

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
	"github.com/trendwatch/trendwatch/alert/policy"
	"github.com/trendwatch/trendwatch/schema"
)

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func match(fact, post, author string, score float64, at time.Time) schema.Alert {
	return schema.Alert{Key: schema.AlertKey(fact, post), FactID: fact, PostID: post, Verdict: schema.VerdictFalse,
		Claim: "claim " + fact, Score: score, Lang: "en", Platform: "bluesky", Author: author, Published: at, Detected: at}
}

func cmd(fact, id, kind string, at time.Time) schema.Alert {
	return schema.Alert{FactID: fact, Command: &schema.CaseCommand{ID: id, Kind: kind, Actor: "lan", Time: at}}
}

var deskRoutes = []policy.Route{
	{Name: "desk", Channels: []string{"desk"}, Escalate: []string{"duty"}},
	{Name: "vi", Langs: []string{"vi"}, Channels: []string{"vi-desk"}},
	{Name: "health", Tags: []string{"health"}, MinSeverity: policy.SeverityMedium, Channels: []string{"health"}},
}

func newBook(mut func(*policy.Config)) *Book {
	p := policy.Default()
	if mut != nil {
		mut(&p)
	}
	return NewBook(p, deskRoutes, func(id string) []string {
		if id == "f-health" {
			return []string{"health"}
		}
		return nil
	})
}

func keys(out []Outgoing) []string {
	var s []string
	for _, o := range out {
		s = append(s, fmt.Sprintf("%s:%s>%v", o.N.Kind, o.N.Key, o.Channels))
	}
	return s
}

func TestFirstMatchOpensAndDedupes(t *testing.T) {
	b := newBook(nil)
	a := match("f1", "p1", "ann", 0.9, t0)
	eff := b.Apply([]schema.Alert{a, a}, t0)
	id := ID("f1", 1)
	if got, want := keys(eff.Notify), []string{"opened:" + id + "-1>[desk]"}; !slices.Equal(got, want) {
		t.Fatalf("notify %v, want %v", got, want)
	}
	if len(eff.Deltas) != 1 || len(eff.Deltas[0].Seen) != 1 {
		t.Fatalf("deltas %+v", eff.Deltas)
	}
	// Redelivery: nothing changes.
	if eff := b.Apply([]schema.Alert{a}, t0.Add(time.Minute)); len(eff.Deltas)+len(eff.Notify)+len(eff.Events) != 0 {
		t.Fatalf("redelivered alert had effects: %+v", eff)
	}
	c, _ := b.Case("f1")
	if c.Posts != 1 || c.Status != StatusOpen || c.EscalateAt != t0.Add(30*time.Minute) || !slices.Equal(c.Escalate, []string{"duty"}) {
		t.Fatalf("case %+v", c)
	}
}

func TestQualification(t *testing.T) {
	f := func(name string, a schema.Alert, opens bool) {
		t.Helper()
		b := newBook(nil)
		eff := b.Apply([]schema.Alert{a}, t0)
		if got := len(eff.Notify) == 1; got != opens {
			t.Errorf("%s: opened=%v, want %v", name, got, opens)
		}
	}
	// The default policy's thresholds: 0.5, 0.6 for undetermined language.
	a := match("f", "p", "u", 0.51, t0)
	f("above threshold", a, true)
	a.Score = 0.49
	f("below threshold", a, false)
	a.Score, a.Lang = 0.55, ""
	f("undetermined language needs 0.6", a, false)
	a.Score, a.Verdict = 0.99, schema.VerdictTrue
	f("true verdict", a, false)
	a.Verdict = schema.VerdictMisleading
	f("misleading verdict", a, true)
}

func TestVelocityRuleAndWatchlist(t *testing.T) {
	b := newBook(func(p *policy.Config) {
		p.MinPosts, p.MinAuthors, p.Window = 3, 2, 10*time.Minute
		p.Watchlist = []string{"f-watch"}
	})
	// Three posts by one author: not enough authors.
	eff := b.Apply([]schema.Alert{match("f1", "1", "a", .9, t0), match("f1", "2", "a", .9, t0.Add(time.Minute)), match("f1", "3", "a", .9, t0.Add(2*time.Minute))}, t0)
	if len(eff.Notify) != 0 || len(b.Cases()) != 0 {
		t.Fatalf("opened on one author: %v", keys(eff.Notify))
	}
	// A second author 20 minutes later: the first three left the window.
	if eff := b.Apply([]schema.Alert{match("f1", "4", "b", .9, t0.Add(20*time.Minute))}, t0); len(eff.Notify) != 0 {
		t.Fatal("opened with posts outside the window")
	}
	eff = b.Apply([]schema.Alert{match("f1", "5", "c", .9, t0.Add(21*time.Minute)), match("f1", "6", "c", .9, t0.Add(22*time.Minute))}, t0)
	if len(eff.Notify) != 1 {
		t.Fatalf("3 posts by 2 authors in window did not open: %+v", eff)
	}
	c, _ := b.Case("f1")
	if c.Posts != 6 || c.Authors != 3 || c.Rate != 3 || !c.FirstSeen.Equal(t0) {
		t.Fatalf("case counts %+v", c)
	}
	// The watchlist opens on the first match.
	if eff := b.Apply([]schema.Alert{match("f-watch", "1", "a", .9, t0)}, t0); len(eff.Notify) != 1 {
		t.Fatal("watchlisted fact did not open on its first match")
	}
}

func TestRenotifyOnJumpWithCooldown(t *testing.T) {
	b := newBook(func(p *policy.Config) { p.RenotifyFactor, p.Cooldown = 3, 10*time.Minute })
	now := t0
	var seq []string
	post := 0
	add := func(n int) {
		var batch []schema.Alert
		for range n {
			post++
			batch = append(batch, match("f1", fmt.Sprint(post), fmt.Sprint("u", post%2), .9, t0))
		}
		for _, o := range b.Apply(batch, now).Notify {
			seq = append(seq, o.N.Kind)
		}
	}
	add(1) // opened at rate 1
	add(1) // rate 2 < 3
	now = now.Add(11 * time.Minute)
	add(1) // rate 3: jump
	add(5) // rate 8 < 9
	add(2) // rate 10 >= 9 but inside the cooldown: pending
	if !slices.Equal(seq, []string{"opened", "update"}) {
		t.Fatalf("notifications %v", seq)
	}
	if eff := b.Tick(now.Add(5 * time.Minute)); len(eff.Notify) != 0 {
		t.Fatal("update sent inside the cooldown")
	}
	eff := b.Tick(now.Add(10 * time.Minute))
	if len(eff.Notify) != 1 || eff.Notify[0].N.Kind != notify.KindUpdate || eff.Notify[0].N.Rate != 10 || eff.Notify[0].N.Seq != 3 {
		t.Fatalf("pending update not sent after the cooldown: %+v", eff.Notify)
	}
}

func TestLifecycle(t *testing.T) {
	b := newBook(nil)
	b.Apply([]schema.Alert{match("f1", "1", "a", .9, t0)}, t0)
	id := ID("f1", 1)

	// Snooze silences escalation until its time.
	snooze := cmd("f1", "c1", schema.CmdSnooze, t0.Add(time.Minute))
	snooze.Command.Until = t0.Add(time.Hour)
	b.Apply([]schema.Alert{snooze}, t0.Add(time.Minute))
	if eff := b.Tick(t0.Add(45 * time.Minute)); len(eff.Notify) != 0 {
		t.Fatalf("escalated while snoozed: %v", keys(eff.Notify))
	}
	eff := b.Tick(t0.Add(61 * time.Minute))
	if got := keys(eff.Notify); !slices.Equal(got, []string{"escalation:" + id + "-2>[duty]"}) {
		t.Fatalf("after the snooze: %v", got)
	}
	if eff := b.Tick(t0.Add(2 * time.Hour)); len(eff.Notify) != 0 {
		t.Fatal("escalated twice")
	}
	// Acknowledge, note, response, resolve; each recorded with who and when.
	resp := cmd("f1", "c3", schema.CmdResponse, t0.Add(3*time.Hour))
	resp.Command.URL = "https://press.example/correction"
	note := cmd("f1", "c4", schema.CmdNote, t0.Add(3*time.Hour))
	note.Command.Note = "called the ministry"
	eff = b.Apply([]schema.Alert{cmd("f1", "c2", schema.CmdAcknowledge, t0.Add(2*time.Hour)), resp, note,
		cmd("f1", "c5", schema.CmdResolve, t0.Add(4*time.Hour))}, t0.Add(4*time.Hour))
	var kinds []string
	for _, e := range eff.Events {
		kinds = append(kinds, e.Kind+"/"+e.Actor)
	}
	if want := []string{"acknowledged/lan", "response/lan", "note/lan", "resolved/lan"}; !slices.Equal(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	c, _ := b.Case("f1")
	if c.Status != StatusResolved || c.AckedBy != "lan" || !c.AckedAt.Equal(t0.Add(2*time.Hour)) || len(c.Responses) != 1 || len(c.Notes) != 1 {
		t.Fatalf("case %+v", c)
	}
	// Commands for another case, repeated, or invalid are ignored, visibly.
	bad := cmd("f1", "c6", schema.CmdAcknowledge, t0)
	bad.Command.CaseID = "c-other"
	eff = b.Apply([]schema.Alert{bad, cmd("f1", "c5", schema.CmdResolve, t0), cmd("nofact", "c7", schema.CmdAcknowledge, t0)}, t0.Add(5*time.Hour))
	if len(eff.Events) != 2 || eff.Events[0].Kind != EventCommandIgnored || eff.Events[1].Kind != EventCommandIgnored {
		t.Fatalf("ignored commands: %+v", eff.Events)
	}
	// A match after resolution begins the fact's next case.
	eff = b.Apply([]schema.Alert{match("f1", "2", "b", .9, t0.Add(6*time.Hour))}, t0.Add(6*time.Hour))
	if got := keys(eff.Notify); !slices.Equal(got, []string{"opened:" + ID("f1", 2) + "-1>[desk]"}) {
		t.Fatalf("after resolution: %v", got)
	}
	if c, _ := b.Case("f1"); c.Posts != 1 || c.Generation != 2 {
		t.Fatalf("new case %+v", c)
	}
}

func TestAcknowledgeStopsEscalation(t *testing.T) {
	b := newBook(nil)
	b.Apply([]schema.Alert{match("f1", "1", "a", .9, t0)}, t0)
	b.Apply([]schema.Alert{cmd("f1", "ack", schema.CmdAcknowledge, t0.Add(time.Minute))}, t0.Add(time.Minute))
	if eff := b.Tick(t0.Add(2 * time.Hour)); len(eff.Notify) != 0 {
		t.Fatalf("escalated an acknowledged case: %v", keys(eff.Notify))
	}
	if !b.NextTimer().IsZero() {
		t.Fatalf("timer left: %v", b.NextTimer())
	}
}

func TestRoutingByLanguageTagSeverity(t *testing.T) {
	b := newBook(func(p *policy.Config) { p.Cooldown = 0 })
	a := match("f-health", "1", "a", .9, t0)
	a.Lang = "vi"
	eff := b.Apply([]schema.Alert{a}, t0)
	if got := keys(eff.Notify); len(got) != 1 || got[0] != "opened:"+ID("f-health", 1)+"-1>[desk vi-desk]" {
		t.Fatalf("low severity: %v", got)
	}
	// Ten posts by four authors: medium, which the health route wants.
	var batch []schema.Alert
	for i := range 9 {
		x := match("f-health", fmt.Sprint(i+2), fmt.Sprint("u", i%4), .9, t0)
		x.Lang = "vi"
		batch = append(batch, x)
	}
	eff = b.Apply(batch, t0)
	if len(eff.Notify) == 0 {
		t.Fatal("no update at medium severity")
	}
	last := eff.Notify[len(eff.Notify)-1]
	if last.N.Severity != policy.SeverityMedium || !slices.Equal(last.Channels, []string{"desk", "vi-desk", "health"}) {
		t.Fatalf("medium: %v", keys(eff.Notify))
	}
}

func TestSamples(t *testing.T) {
	b := newBook(func(p *policy.Config) { p.Samples = 2 })
	b.Apply([]schema.Alert{match("f", "1", "a", .7, t0), match("f", "2", "a", .8, t0), match("f", "3", "b", .75, t0), match("f", "4", "c", .9, t0)}, t0)
	c, _ := b.Case("f")
	var got []string
	for _, s := range c.Samples {
		got = append(got, s.PostID)
	}
	if !slices.Equal(got, []string{"4", "2"}) {
		t.Fatalf("samples %v, want the best post of the two best authors", got)
	}
}

// TestReplayRebuilds: replaying the deltas (as the journal does) or a
// snapshot rebuilds the same book.
func TestReplayRebuilds(t *testing.T) {
	b := newBook(nil)
	var deltas []Delta
	for i := range 50 {
		eff := b.Apply([]schema.Alert{match(fmt.Sprint("f", i%3), fmt.Sprint(i), fmt.Sprint("u", i%7), .9, t0.Add(time.Duration(i)*time.Minute))}, t0)
		deltas = append(deltas, eff.Deltas...)
	}
	deltas = append(deltas, b.Apply([]schema.Alert{cmd("f1", "r", schema.CmdResolve, t0)}, t0).Deltas...)
	r1, r2 := newBook(nil), newBook(nil)
	for _, d := range deltas {
		r1.Replay(d)
	}
	for _, d := range b.Snapshot() {
		r2.Replay(d)
	}
	for _, r := range []*Book{r1, r2} {
		if !slices.EqualFunc(r.Snapshot(), b.Snapshot(), func(x, y Delta) bool { return fmt.Sprint(x) == fmt.Sprint(y) }) {
			t.Fatal("replayed book differs")
		}
		if !r.Seen("f0", schema.AlertKey("f0", "0")) {
			t.Fatal("dedupe key lost")
		}
	}
}

// FuzzApply: any sequence of alerts and commands never panics, keeps one
// visible case per fact, and counts each alert key once.
func FuzzApply(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("acknowledge snooze resolve reopen note response"))
	kinds := []string{"", schema.CmdAcknowledge, schema.CmdSnooze, schema.CmdResolve, schema.CmdReopen, schema.CmdNote, schema.CmdResponse, "bogus"}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBook(func(p *policy.Config) { p.MinPosts, p.MinAuthors = 2, 1 })
		for i := 0; i+1 < len(data); i += 2 {
			fact := fmt.Sprint("f", data[i]%3)
			at := t0.Add(time.Duration(data[i+1]) * time.Minute)
			var a schema.Alert
			if k := kinds[int(data[i+1])%len(kinds)]; k != "" && data[i]&8 != 0 {
				a = cmd(fact, fmt.Sprint(i), k, at)
				a.Command.Until = at.Add(time.Duration(data[i]) * time.Minute)
				a.Command.Note, a.Command.URL = "n", "https://x.example/"
			} else {
				post := fmt.Sprint(data[i+1] % 16)
				a = match(fact, post, fmt.Sprint(data[i]%5), float64(data[i])/255, at)
			}
			b.Apply([]schema.Alert{a}, at)
			checkIndex(t, b)
			b.Tick(at.Add(time.Hour))
			checkIndex(t, b)
		}
		for _, c := range b.Cases() {
			if c.Posts < 1 || c.Posts > 16 || c.NotifySeq < 1 || c.Rate > c.Posts || c.PeakRate > c.Posts {
				t.Fatalf("case %+v", c)
			}
		}
	})
}

// TestResolveAndReopenInOneBatch: the resolved case's final state is not
// lost when the same batch starts the fact's next case, and replaying the
// deltas gives the new case only its own history.
func TestResolveAndReopenInOneBatch(t *testing.T) {
	b := newBook(nil)
	var deltas []Delta
	deltas = append(deltas, b.Apply([]schema.Alert{match("f", "1", "a", .9, t0)}, t0).Deltas...)
	eff := b.Apply([]schema.Alert{cmd("f", "r", schema.CmdResolve, t0.Add(time.Hour)), match("f", "2", "b", .9, t0.Add(2*time.Hour))}, t0.Add(2*time.Hour))
	deltas = append(deltas, eff.Deltas...)
	if len(eff.Deltas) != 2 || eff.Deltas[0].Case.ID != ID("f", 1) || eff.Deltas[0].Case.Status != StatusResolved || eff.Deltas[1].Case.ID != ID("f", 2) {
		t.Fatalf("deltas %+v", eff.Deltas)
	}
	r := newBook(nil)
	for _, d := range deltas {
		r.Replay(d)
	}
	c, _ := r.Case("f")
	want, _ := b.Case("f")
	if c.ID != ID("f", 2) || len(c.History) != len(want.History) || c.History[0].Kind != EventOpened || c.History[0].CaseID != c.ID {
		t.Fatalf("replayed history %+v, want %+v", c.History, want.History)
	}
}

// TestSnoozeDefersUpdates: a jump during a snooze is sent once, when the
// snooze ends, summarising what arrived meanwhile.
func TestSnoozeDefersUpdates(t *testing.T) {
	b := newBook(func(p *policy.Config) { p.Cooldown = 0 })
	b.Apply([]schema.Alert{match("f", "0", "a", .9, t0)}, t0)
	s := cmd("f", "s", schema.CmdSnooze, t0)
	s.Command.Until = t0.Add(time.Hour)
	b.Apply([]schema.Alert{s}, t0)
	var batch []schema.Alert
	for i := range 8 {
		batch = append(batch, match("f", fmt.Sprint(i+1), fmt.Sprint("u", i), .9, t0.Add(time.Minute)))
	}
	if eff := b.Apply(batch, t0.Add(time.Minute)); len(eff.Notify) != 0 {
		t.Fatalf("notified while snoozed: %v", keys(eff.Notify))
	}
	if eff := b.Tick(t0.Add(59 * time.Minute)); len(eff.Notify) != 0 {
		t.Fatal("notified before the snooze ended")
	}
	// The update, then the escalation that waited for the snooze (the case
	// is still unacknowledged).
	eff := b.Tick(t0.Add(time.Hour))
	if len(eff.Notify) != 2 || eff.Notify[0].N.Kind != notify.KindUpdate || eff.Notify[0].N.Posts != 9 || eff.Notify[1].N.Kind != notify.KindEscalation {
		t.Fatalf("after the snooze: %+v", eff.Notify)
	}
	if eff.Events[0].Kind != EventSnoozeExpired {
		t.Fatalf("events %+v", eff.Events)
	}
}

func TestHitJSON(t *testing.T) {
	in := []Hit{{T: t0.Add(1500 * time.Millisecond), Author: `bluesky` + "\x00" + `"ann"`}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out []Hit
	if err := json.Unmarshal(b, &out); err != nil || len(out) != 1 || !out[0].T.Equal(in[0].T) || out[0].Author != in[0].Author {
		t.Fatalf("%s -> %+v, %v", b, out, err)
	}
	for _, bad := range []string{`[["x","a"]]`, `[[1]]`, `[{}]`, `[[1,2]]`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
