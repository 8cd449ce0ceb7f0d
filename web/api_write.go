package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

const maxBody = 8 << 20

func (s *Server) listFacts(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 50, 1, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 1<<30)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	q := r.URL.Query()
	fs, err := s.searchFacts(r.Context(), clickhouse.FactQuery{Q: q.Get("q"), Verdict: q.Get("verdict"), Lang: q.Get("lang"), Limit: limit, Offset: offset})
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"facts": nonNilFacts(fs), "limit": limit, "offset": offset, "next_offset": nextOffset(offset, limit, len(fs))})
}

func nextOffset(offset, limit, n int) any {
	if n < limit {
		return nil
	}
	return offset + n
}

func (s *Server) getFact(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.pathFact(w, r); ok {
		writeJSON(w, http.StatusOK, toFactOut(f))
	}
}

// pathFact reads the stored fact named by the path's id; when it cannot,
// it has answered (404 or a store error) and ok is false.
func (s *Server) pathFact(w http.ResponseWriter, r *http.Request) (schema.Fact, bool) {
	f, err := s.opts.Store.Fact(r.Context(), r.PathValue("id"))
	if err != nil {
		if errors.Is(err, clickhouse.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no fact %q", r.PathValue("id"))
			return f, false
		}
		s.storeError(w, err)
		return f, false
	}
	return f, true
}

// postFacts accepts one fact or an array of facts. The facts are published
// to the facts topic; analyzers pick them up within a second.
func (s *Server) postFacts(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "fact writes are not configured on this server")
		return
	}
	var raw json.RawMessage
	if !decodeJSON(w, r, maxBody, &raw) {
		return
	}
	var facts []schema.Fact
	trimmed := strings.TrimSpace(string(raw))
	var err error
	if strings.HasPrefix(trimmed, "[") {
		err = strictUnmarshal(raw, &facts)
	} else {
		var f schema.Fact
		err = strictUnmarshal(raw, &f)
		facts = []schema.Fact{f}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_json", "cannot decode fact: %s", plainJSONError(err))
		return
	}
	type itemError struct {
		Index   int    `json:"index"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var errs []itemError
	good := make([]schema.Fact, 0, len(facts))
	now := s.opts.Now().UTC()
	for i := range facts {
		f := facts[i]
		if f.Verdict == "" && f.Rating != "" {
			f.Verdict = schema.NormalizeVerdict(f.Rating)
		}
		if s.opts.NormalizeFact != nil {
			err = s.opts.NormalizeFact(&f)
		} else {
			err = f.Validate()
		}
		if err != nil {
			errs = append(errs, itemError{Index: i, Code: "invalid_fact", Message: err.Error()})
			continue
		}
		f.Updated = now
		good = append(good, f)
	}
	if len(good) > 0 {
		if err := s.opts.Facts.PutFacts(r.Context(), good); err != nil {
			s.log.Warn("cannot publish facts", "err", err)
			writeError(w, http.StatusServiceUnavailable, "bus_unavailable", "cannot publish facts; nothing was accepted, try again")
			return
		}
	}
	status := http.StatusAccepted
	if len(good) == 0 {
		status = http.StatusBadRequest
	}
	ids := make([]string, 0, len(good))
	for _, f := range good {
		ids = append(ids, f.ID)
	}
	if errs == nil {
		errs = []itemError{}
	}
	writeJSON(w, status, map[string]any{"accepted": len(good), "ids": ids, "errors": errs})
}

// plainJSONError says what is wrong with a request body in the words of
// the JSON, not of Go: encoding/json names Go types ("Go struct field
// Fact.claim of type string") and time layouts ("2006-01-02T15:04:05Z07:00").
func plainJSONError(err error) string {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
		pe *time.ParseError
	)
	switch {
	case errors.As(err, &te):
		want := "a value of another type"
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			want = "a number"
		case reflect.Bool:
			want = "true or false"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.Struct, reflect.Map:
			want = "an object"
		}
		if te.Field == "" {
			return fmt.Sprintf("the body must be %s, not %s", want, te.Value)
		}
		return fmt.Sprintf("field %q must be %s, not %s", te.Field, want, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &pe):
		return fmt.Sprintf("time %q is not an RFC 3339 time such as 2024-05-01T09:30:00Z", pe.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "the body is empty or cut short"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) deleteFact(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "fact writes are not configured on this server")
		return
	}
	id := r.PathValue("id")
	if err := s.opts.Facts.DeleteFact(r.Context(), id); err != nil {
		writeError(w, http.StatusServiceUnavailable, "bus_unavailable", "cannot publish the deletion; try again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"deleted": id})
}

type sourceJSON struct {
	schema.Source
	// Health: healthy, failing, silent, pending (not polled yet) or paused.
	Health string               `json:"health"`
	Label  string               `json:"label"` // name, feed title or address: what people call it
	Status *schema.SourceStatus `json:"status,omitempty"`
}

// listSources lists sources with their health, worst first.
func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	out, err := s.sourceEntries(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": out})
}

func (s *Server) postSource(w http.ResponseWriter, r *http.Request) {
	var src schema.Source
	if !decodeJSON(w, r, 64<<10, &src) {
		return
	}
	if err := s.checkSource(r.Context(), &src); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_source", "%v", err)
		return
	}
	if err := s.opts.Store.PutSource(r.Context(), src); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, src)
}

func checkURL(u string) error {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("url %q must be http(s)", u)
	}
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) {
	if err := s.opts.Store.DeleteSource(r.Context(), r.PathValue("id")); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": r.PathValue("id")})
}

type caseJSON struct {
	ID       string          `json:"id"`
	FactID   string          `json:"fact_id"`
	State    string          `json:"state"`
	Severity string          `json:"severity"`
	Opened   time.Time       `json:"opened"`
	Updated  time.Time       `json:"updated"`
	Detail   json.RawMessage `json:"detail,omitempty"`
}

func toCaseJSON(c clickhouse.CaseRow) caseJSON {
	cj := caseJSON{ID: c.ID, FactID: c.FactID, State: c.State, Severity: c.Severity, Opened: c.Opened.UTC(), Updated: c.Updated.UTC()}
	if json.Valid([]byte(c.Body)) {
		cj.Detail = json.RawMessage(c.Body)
	}
	return cj
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 50, 1, 1000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 1<<30)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	q := r.URL.Query()
	rows, err := s.opts.Store.Cases(r.Context(), clickhouse.CaseQuery{State: q.Get("state"), FactID: q.Get("fact_id"), Limit: limit, Offset: offset})
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]caseJSON, 0, len(rows))
	for _, c := range rows {
		out = append(out, toCaseJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out, "limit": limit, "offset": offset, "next_offset": nextOffset(offset, limit, len(rows))})
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	c, ok, err := s.opts.Store.Case(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no case %q", r.PathValue("id"))
		return
	}
	evs, err := s.opts.Store.CaseEvents(r.Context(), c.ID)
	if err != nil {
		s.storeError(w, err)
		return
	}
	type eventJSON struct {
		Time   time.Time `json:"time"`
		Actor  string    `json:"actor"`
		Action string    `json:"action"`
		Detail string    `json:"detail,omitempty"`
	}
	hist := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		hist = append(hist, eventJSON{Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Detail: e.Detail})
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": toCaseJSON(c), "history": hist})
}

var caseActions = map[string]string{
	"acknowledge": schema.CmdAcknowledge, "snooze": schema.CmdSnooze, "resolve": schema.CmdResolve,
	"notes": schema.CmdNote, "response": schema.CmdResponse, "reopen": schema.CmdReopen,
}

// caseAction publishes a command for the alerter that owns the case; the
// alerter applies it in order with the case's matches and records it.
func (s *Server) caseAction(w http.ResponseWriter, r *http.Request) {
	if s.opts.Commands == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "case actions are not configured on this server")
		return
	}
	kind, ok := caseActions[r.PathValue("action")]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no case action %q (acknowledge, snooze, resolve, notes, response, reopen)", r.PathValue("action"))
		return
	}
	var body struct {
		Actor string    `json:"actor"`
		Until time.Time `json:"until"`
		Note  string    `json:"note"`
		URL   string    `json:"url"`
	}
	if r.ContentLength != 0 {
		if !decodeJSON(w, r, 64<<10, &body) {
			return
		}
	}
	switch kind {
	case schema.CmdSnooze:
		if !body.Until.After(s.opts.Now()) {
			writeError(w, http.StatusBadRequest, "bad_parameter", "snooze needs \"until\" in the future (RFC 3339)")
			return
		}
	case schema.CmdNote:
		if strings.TrimSpace(body.Note) == "" || len(body.Note) > 10000 {
			writeError(w, http.StatusBadRequest, "bad_parameter", "a note needs 1 to 10000 bytes of text")
			return
		}
	case schema.CmdResponse:
		if err := checkURL(body.URL); err != nil {
			writeError(w, http.StatusBadRequest, "bad_parameter", "response needs the published correction's URL: %v", err)
			return
		}
	}
	c, found, err := s.opts.Store.Case(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "not_found", "no case %q", r.PathValue("id"))
		return
	}
	// The actor is who authenticated; a machine credential (token, loopback)
	// may name the person it acts for, recorded alongside it.
	actor := "api"
	if p := principalOf(r); p != nil {
		actor = p.Name
		if body.Actor != "" && p.session == "" {
			actor = body.Actor + " via " + p.Name
		}
	}
	cmd := schema.CaseCommand{ID: newID(), Kind: kind, CaseID: c.ID, Actor: actor, Until: body.Until, Note: body.Note, URL: body.URL, Time: s.opts.Now().UTC()}
	if err := s.opts.Commands.PublishAlerts(r.Context(), []schema.Alert{{FactID: c.FactID, Command: &cmd}}); err != nil {
		writeError(w, http.StatusServiceUnavailable, "bus_unavailable", "cannot publish the case command; try again")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"case_id": c.ID, "command": cmd})
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
