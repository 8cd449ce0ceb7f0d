package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/analyze/facts"
	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	var perms []string
	for _, pm := range []perm{permRead, permSpread, permCases, permFacts, permAdmin} {
		if p.can(pm) {
			perms = append(perms, string(pm))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": p.Name, "role": p.Role, "permissions": perms})
}

// csvSafe defuses spreadsheet formula injection: crawled authors and
// titles starting with = + - @ (or a tab/CR) would otherwise run as
// formulas when an editor opens the export.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	for _, row := range rows {
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

// fileSafe keeps a topic key usable in a download file name.
func fileSafe(key string) string {
	var b strings.Builder
	for _, c := range key {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}

func (s *Server) timelineCSV(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	from, to, err := s.queryRange(r, 24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	step, err := queryStep(r, time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	if to.Sub(from)/step > 10000 {
		writeError(w, http.StatusBadRequest, "bad_parameter", "range/step gives more than 10000 points; use a larger step")
		return
	}
	ps, err := s.opts.Store.Timeline(r.Context(), key, from, to, step)
	if err != nil {
		s.storeError(w, err)
		return
	}
	rows := make([][]string, 0, len(ps))
	var total int64
	for _, p := range ps {
		total += p.Posts
		rows = append(rows, []string{key, p.Time.UTC().Format(time.RFC3339), strconv.FormatInt(p.Posts, 10), strconv.FormatInt(total, 10)})
	}
	writeCSV(w, "timeline-"+fileSafe(key)+".csv", []string{"topic", "time", "posts", "cumulative"}, rows)
}

func (s *Server) spreadCSV(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	from, to, err := s.queryRange(r, 7*24*time.Hour)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_parameter", "%v", err)
		return
	}
	sp, err := s.opts.Store.Spread(r.Context(), key, from, to)
	if err != nil {
		s.storeError(w, err)
		return
	}
	// One long table: (section, key, posts), so a spreadsheet can pivot it.
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	rows := [][]string{
		{key, "total", "posts", n(sp.Posts)}, {key, "total", "authors", n(sp.AuthorCount)},
		{key, "total", "sources", n(sp.SourceCount)}, {key, "total", "domains", n(sp.DomainCount)},
	}
	for _, p := range sp.Timeline {
		rows = append(rows, []string{key, "timeline", p.Time.UTC().Format(time.RFC3339), n(p.Posts)})
	}
	for _, sec := range []struct {
		name string
		cs   []clickhouse.Count
	}{{"author", sp.Authors}, {"source", sp.Sources}, {"domain", sp.Domains}, {"language", sp.Languages}, {"platform", sp.Platforms}} {
		for _, c := range sec.cs {
			rows = append(rows, []string{key, sec.name, c.Key, n(c.Posts)})
		}
	}
	writeCSV(w, "spread-"+fileSafe(key)+".csv", []string{"topic", "section", "key", "posts"}, rows)
}

// putFact replaces one fact; the id in the path wins over the body's.
func (s *Server) putFact(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "fact writes are not configured on this server")
		return
	}
	var f schema.Fact
	if !decodeJSON(w, r, 1<<20, &f) {
		return
	}
	f.ID = r.PathValue("id")
	if err := s.saveFacts(r, []schema.Fact{f}); err != nil {
		s.factError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": 1, "ids": []string{f.ID}, "errors": []any{}})
}

// appendAppearance records a post confirmed to restate a fact: its text
// joins the fact's appearances, which the matcher uses as evidence for
// the next restatement (and to find the fact when its own words differ).
// The rest of the fact is kept as stored.
func (s *Server) appendAppearance(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "fact writes are not configured on this server")
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if !decodeJSON(w, r, 1<<20, &body) {
		return
	}
	text := strings.TrimSpace(body.Text)
	if text == "" {
		writeError(w, http.StatusBadRequest, "invalid_appearance", "text is empty")
		return
	}
	f, ok := s.pathFact(w, r)
	if !ok {
		return
	}
	// Confirming the same post twice changes nothing.
	if !slices.Contains(f.Appearances, text) {
		f.Appearances = append(f.Appearances, text)
		if err := s.saveFacts(r, []schema.Fact{f}); err != nil {
			s.factError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": 1, "ids": []string{f.ID}, "appearances": len(f.Appearances)})
}

type invalidFactError struct{ err error }

func (e invalidFactError) Error() string { return e.err.Error() }

// Unwrap lets a body cut at its size limit (http.MaxBytesError) be told
// apart from a bad file.
func (e invalidFactError) Unwrap() error { return e.err }

// saveFacts normalises and publishes facts; the first invalid one refuses
// the whole call.
func (s *Server) saveFacts(r *http.Request, fs []schema.Fact) error {
	now := s.opts.Now().UTC()
	for i := range fs {
		f := &fs[i]
		if f.Verdict == "" && f.Rating != "" {
			f.Verdict = schema.NormalizeVerdict(f.Rating)
		}
		var err error
		if s.opts.NormalizeFact != nil {
			err = s.opts.NormalizeFact(f)
		} else {
			err = f.Validate()
		}
		if err != nil {
			return invalidFactError{fmt.Errorf("fact %d (%q): %w", i, f.ID, err)}
		}
		f.Updated = now
	}
	if err := s.opts.Facts.PutFacts(r.Context(), fs); err != nil {
		return fmt.Errorf("cannot publish facts: %w", err)
	}
	return nil
}

func (s *Server) factError(w http.ResponseWriter, err error) {
	var inv invalidFactError
	if errors.As(err, &inv) {
		writeError(w, http.StatusBadRequest, "invalid_fact", "%v", inv.err)
		return
	}
	s.log.Warn("cannot publish facts", "err", err)
	writeError(w, http.StatusServiceUnavailable, "bus_unavailable", "cannot publish facts; nothing was accepted, try again")
}

// importFacts reads a fact file with the same parsers as `trendwatch
// facts import`; records that do not parse are reported, the rest are
// published.
func (s *Server) importFacts(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "fact writes are not configured on this server")
		return
	}
	if r.ContentLength > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the file is larger than %d bytes; split it and import the parts", maxBody)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	n, recErrs, err := s.importFrom(r, r.Body, r.URL.Query().Get("name"), r.URL.Query().Get("format"))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "the file is larger than %d bytes; split it and import the parts", maxBody)
			return
		}
		s.factError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": n, "errors": recErrs})
}

type recordError struct {
	Record  int    `json:"record"`
	Message string `json:"message"`
}

func (s *Server) importFrom(r *http.Request, body io.Reader, name, format string) (int, []recordError, error) {
	if name == "" {
		name = "upload"
	}
	fs, bad, err := facts.Read(body, name, format)
	if err != nil {
		return 0, nil, invalidFactError{fmt.Errorf("cannot read the file: %w", err)}
	}
	out := make([]recordError, 0, len(bad))
	for _, b := range bad {
		out = append(out, recordError{Record: b.Record, Message: b.Reason})
	}
	if len(fs) == 0 {
		return 0, out, nil
	}
	for start := 0; start < len(fs); start += 500 {
		end := min(start+500, len(fs))
		if err := s.saveFacts(r, fs[start:end]); err != nil {
			return start, out, err
		}
	}
	return len(fs), out, nil
}

func (s *Server) alertRoutes(w http.ResponseWriter, r *http.Request) {
	var v any = map[string]any{}
	if len(s.opts.Routes) > 0 {
		v = s.opts.Routes
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": v})
}

type userJSON struct {
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.auth.store.Users(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, userJSON{u.Name, u.Role, u.Disabled, u.Created.UTC()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
		Disabled bool   `json:"disabled"`
	}
	if !decodeJSON(w, r, 64<<10, &in) {
		return
	}
	u, err := s.saveUser(r, in.Name, in.Role, in.Password, in.Disabled)
	if err != nil {
		s.userError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, userJSON{u.Name, u.Role, u.Disabled, u.Created})
}

type invalidUserError struct{ error }

func (s *Server) userError(w http.ResponseWriter, err error) {
	var inv invalidUserError
	if errors.As(err, &inv) {
		writeError(w, http.StatusBadRequest, "invalid_user", "%v", inv.error)
		return
	}
	s.storeError(w, err)
}

// saveUser creates or updates a user; an empty password keeps the old one.
func (s *Server) saveUser(r *http.Request, name, role, password string, disabled bool) (clickhouse.User, error) {
	if err := checkUserName(name); err != nil {
		return clickhouse.User{}, invalidUserError{err}
	}
	if !ValidRole(role) {
		return clickhouse.User{}, invalidUserError{fmt.Errorf("role %q is not one of %s", role, strings.Join(Roles, ", "))}
	}
	old, err := s.auth.store.User(r.Context(), name)
	if err != nil && !errors.Is(err, clickhouse.ErrNotFound) {
		return clickhouse.User{}, err
	}
	u := clickhouse.User{Name: name, Role: role, Disabled: disabled, Created: s.opts.Now().UTC(), PasswordHash: old.PasswordHash}
	if err == nil {
		u.Created = old.Created
	}
	if password != "" || u.PasswordHash == "" {
		h, err := HashPassword(password)
		if err != nil {
			return clickhouse.User{}, invalidUserError{err}
		}
		u.PasswordHash = h
	}
	if err := s.auth.store.PutUser(r.Context(), u); err != nil {
		return clickhouse.User{}, err
	}
	s.auth.credentialsCreated()
	return u, nil
}

type tokenJSON struct {
	ID      string     `json:"id"`
	Label   string     `json:"label"`
	Role    string     `json:"role"`
	Owner   string     `json:"owner,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Revoked bool       `json:"revoked"`
}

func toTokenJSON(t clickhouse.Token) tokenJSON {
	tj := tokenJSON{ID: t.ID, Label: t.Label, Role: t.Role, Owner: t.Owner, Created: t.Created.UTC(), Revoked: t.Revoked}
	if !t.Expires.IsZero() {
		e := t.Expires.UTC()
		tj.Expires = &e
	}
	return tj
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.auth.store.Tokens(r.Context())
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toTokenJSON(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Label string `json:"label"`
		Role  string `json:"role"`
		TTL   string `json:"ttl"`
	}
	if !decodeJSON(w, r, 64<<10, &in) {
		return
	}
	secret, t, err := s.createToken(r, in.Label, in.Role, in.TTL)
	if err != nil {
		s.userError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "info": toTokenJSON(t)})
}

func (s *Server) createToken(r *http.Request, label, role, ttl string) (string, clickhouse.Token, error) {
	var d time.Duration
	if ttl != "" {
		var err error
		if d, err = time.ParseDuration(ttl); err != nil || d <= 0 {
			return "", clickhouse.Token{}, invalidUserError{fmt.Errorf("ttl %q must be a positive duration such as 720h", ttl)}
		}
	}
	if !ValidRole(role) || strings.TrimSpace(label) == "" || len(label) > 100 {
		return "", clickhouse.Token{}, invalidUserError{fmt.Errorf("a token needs a label (1-100 characters) and a role among %s", strings.Join(Roles, ", "))}
	}
	secret, t, err := NewToken(r.Context(), s.auth.store, label, role, principalOf(r).Name, d)
	if err != nil {
		return "", clickhouse.Token{}, err
	}
	s.auth.credentialsCreated()
	return secret, t, nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.revokeTokenID(r, r.PathValue("id")); err != nil {
		if errors.Is(err, clickhouse.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no token %q", r.PathValue("id"))
			return
		}
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": r.PathValue("id")})
}

func (s *Server) revokeTokenID(r *http.Request, id string) error {
	ts, err := s.auth.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			t.Revoked = true
			if err := s.auth.store.PutToken(r.Context(), t); err != nil {
				return err
			}
			s.auth.forget("t:" + t.Hash)
			return nil
		}
	}
	return clickhouse.ErrNotFound
}
