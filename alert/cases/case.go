// Package cases keeps one case per fact: it folds matching posts into the
// fact's case (counts, authors, platforms, languages, peak rate, samples),
// applies responders' commands (acknowledge, snooze, resolve, note,
// response, reopen), runs the escalation and snooze timers, and decides
// which notifications to send. It is pure logic — no Kafka, no ClickHouse,
// no clock of its own (callers pass now) — so the alert worker can journal
// its effects and replay them after a crash.
//
// Persistence goes through Store; MemoryStore and FileStore (JSON lines)
// live here, ClickHouse in store/clickhouse. Standard library only.
package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/alert/notify"
)

// Case statuses. A case is "watching" while its fact's matches have not yet
// passed the velocity rule: it gathers counts but is not shown or notified.
const (
	StatusWatching     = "watching"
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Event kinds recorded in a case's history.
const (
	EventOpened         = "opened"
	EventNotified       = "notified"  // a notification was queued for a channel
	EventDelivered      = "delivered" // the channel accepted it
	EventDeadLettered   = "dead_lettered"
	EventDropped        = "dropped" // queue full
	EventUnrouted       = "unrouted"
	EventEscalated      = "escalated"
	EventAcknowledged   = "acknowledged"
	EventSnoozed        = "snoozed"
	EventSnoozeExpired  = "snooze_expired"
	EventResolved       = "resolved"
	EventReopened       = "reopened"
	EventNote           = "note"
	EventResponse       = "response"
	EventSeverity       = "severity_changed"
	EventCommandIgnored = "command_ignored"
)

// Actor of transitions the alerter makes by itself.
const ActorSystem = "trendwatch"

// Event is one transition or action on a case, with who and when.
type Event struct {
	CaseID  string    `json:"case_id"`
	FactID  string    `json:"fact_id"`
	Kind    string    `json:"kind"`
	Actor   string    `json:"actor"`
	Time    time.Time `json:"time"`
	Detail  string    `json:"detail,omitempty"`
	Key     string    `json:"key,omitempty"`     // notification idempotency key
	Channel string    `json:"channel,omitempty"` // notification channel
}

// Note is a responder's remark.
type Note struct {
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
	Time  time.Time `json:"time"`
}

// Response is a published correction attached to the case.
type Response struct {
	Actor string    `json:"actor"`
	URL   string    `json:"url"`
	Note  string    `json:"note,omitempty"`
	Time  time.Time `json:"time"`
}

// Case is the state of one spreading claim.
type Case struct {
	ID         string   `json:"id"`
	FactID     string   `json:"fact_id"`
	Generation int      `json:"generation"` // 1 for a fact's first case, +1 after each resolution
	Status     string   `json:"status"`
	Severity   string   `json:"severity"`
	Claim      string   `json:"claim"`
	Verdict    string   `json:"verdict"`
	FactURL    string   `json:"fact_url,omitempty"`
	Tags       []string `json:"tags,omitempty"`

	Posts     int             `json:"posts"`
	Authors   int             `json:"authors"`
	Platforms []string        `json:"platforms,omitempty"`
	Langs     []string        `json:"langs,omitempty"`
	FirstSeen time.Time       `json:"first_seen"`
	LastSeen  time.Time       `json:"last_seen"`
	Rate      int             `json:"rate"`      // matching posts in the current window
	PeakRate  int             `json:"peak_rate"` // most matching posts seen in one window
	Samples   []notify.Sample `json:"samples,omitempty"`

	Opened       time.Time  `json:"opened,omitzero"`
	Updated      time.Time  `json:"updated"`
	AckedBy      string     `json:"acked_by,omitempty"`
	AckedAt      time.Time  `json:"acked_at,omitzero"`
	SnoozedBy    string     `json:"snoozed_by,omitempty"`
	SnoozedUntil time.Time  `json:"snoozed_until,omitzero"`
	ResolvedBy   string     `json:"resolved_by,omitempty"`
	ResolvedAt   time.Time  `json:"resolved_at,omitzero"`
	Notes        []Note     `json:"notes,omitempty"`
	Responses    []Response `json:"responses,omitempty"`

	// Notification bookkeeping.
	NotifySeq     int       `json:"notify_seq"` // sequence of the last notification
	NotifiedAt    time.Time `json:"notified_at,omitzero"`
	NotifiedRate  int       `json:"notified_rate"`  // Rate at the last notification
	PendingUpdate bool      `json:"pending_update"` // a jump waits for the cooldown or snooze to end
	EscalateAt    time.Time `json:"escalate_at,omitzero"`
	Escalated     bool      `json:"escalated"`
	Escalate      []string  `json:"escalate,omitempty"` // channels escalation goes to

	// History holds the latest events (at most MaxHistory); the Store
	// keeps them all.
	History []Event `json:"history,omitempty"`
}

// MaxHistory bounds Case.History.
const MaxHistory = 200

// Visible reports whether c is a case responders see (not merely watched).
func (c *Case) Visible() bool { return c.Status != StatusWatching && c.Status != "" }

// Snoozed reports whether c is silenced at now.
func (c *Case) Snoozed(now time.Time) bool { return now.Before(c.SnoozedUntil) }

// Clone returns a deep copy.
func (c *Case) Clone() Case {
	d := *c
	d.Tags = slices.Clone(c.Tags)
	d.Platforms = slices.Clone(c.Platforms)
	d.Langs = slices.Clone(c.Langs)
	d.Samples = slices.Clone(c.Samples)
	d.Notes = slices.Clone(c.Notes)
	d.Responses = slices.Clone(c.Responses)
	d.Escalate = slices.Clone(c.Escalate)
	d.History = slices.Clone(c.History)
	return d
}

// ID returns the stable id of a fact's gen-th case: stable across restarts
// and redelivery, so notification keys derived from it are too.
func ID(factID string, gen int) string {
	sum := sha256.Sum256([]byte(factID))
	return fmt.Sprintf("c-%s-%d", hex.EncodeToString(sum[:8]), gen)
}

// Store persists cases and their events for the API.
type Store interface {
	Load(ctx context.Context) ([]Case, error)
	Save(ctx context.Context, c Case) error
	AppendEvent(ctx context.Context, e Event) error
}

// BatchStore is a Store that writes many cases and events at once. The
// alerter uses it when the Store has it: one write per table for a whole
// backlog instead of one per record, so a burst of cases does not wait on
// hundreds of database round trips.
type BatchStore interface {
	Store
	SaveAll(ctx context.Context, cs []Case, es []Event) error
}

// MemoryStore is a Store for tests and single-process runs.
type MemoryStore struct {
	mu     sync.Mutex
	cases  map[string]Case
	order  []string
	events []Event
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{cases: map[string]Case{}} }

// Load returns every case in first-save order.
func (s *MemoryStore) Load(context.Context) ([]Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Case, 0, len(s.order))
	for _, id := range s.order {
		c := s.cases[id]
		out = append(out, c.Clone())
	}
	return out, nil
}

// Save stores c, replacing the case with the same id.
func (s *MemoryStore) Save(_ context.Context, c Case) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cases[c.ID]; !ok {
		s.order = append(s.order, c.ID)
	}
	s.cases[c.ID] = c.Clone()
	return nil
}

// AppendEvent records e.
func (s *MemoryStore) AppendEvent(_ context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return nil
}

// Events returns the events recorded so far.
func (s *MemoryStore) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}
