package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/time/rate"

	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// The dashboard is server-rendered html/template, whose contextual
// escaping makes crawled text inert wherever it lands (element, attribute,
// URL). Templates and the stylesheet are embedded, so the dashboard needs
// no network and the CSP can say default-src 'self' with no script at all.

//go:embed templates/*.html static/*
var assets embed.FS

type pages struct {
	byName map[string]*template.Template
	static http.Handler
}

var pageNames = []string{"login", "trends", "topic", "cases", "facts", "fact_edit", "sources", "settings", "status"}

func loadPages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(template.FuncMap{
		"sparkline": sparkline, "barList": barList, "timeChart": timeChart,
		"topicURL": topicURL, "verdictClass": verdictClass, "zonesList": func() []string { return zones }, "list": func(s ...string) []string { return s }, "bytes": humanBytes, "pct": func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }, "rate": rateText,
	}).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("cannot parse layout: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("cannot parse page %s: %w", n, err)
		}
		p.byName[n] = t
	}
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("cannot open static assets: %w", err)
	}
	p.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return p, nil
}

// humanBytes writes a size in binary units: "3.2 GiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + "KMGTPE"[exp:exp+1] + "iB"
}

// rateText shows an expected number of posts: two significant digits
// below 10 (a prior's 0.0125 is not "0.0"), whole numbers above.
func rateText(f float64) string {
	if f >= 10 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'g', 2, 64)
}

// verdictClass keeps CSS class names to the known verdicts.
func verdictClass(v string) string { return "v-" + pick(v, verdicts, "other") }

func topicURL(key string) string { return "/topics/" + url.PathEscape(key) }

// view is what every page template receives.
type view struct {
	Lang    string
	Langs   []string
	TZ      *time.Location
	User    *principal
	CSRF    string
	Active  string
	Title   string
	Flash   string
	Error   string
	Path    string
	NowYear int
	Data    any
}

// Verdict names a verdict in the page's language.
func (v *view) Verdict(verdict string) string {
	if _, ok := messages["verdict."+verdict]; ok {
		return v.T("verdict." + verdict)
	}
	return verdict
}

// T translates a message key into the page's language.
func (v *view) T(key string) string { return translate(v.Lang, key) }

// Time formats t in the viewer's zone; zero times print as a dash.
func (v *view) Time(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "—"
	}
	return t.In(v.TZ).Format("02/01/2006 15:04")
}

// Can reports whether the viewer's role grants a permission by name.
func (v *view) Can(p string) bool { return v.User.can(perm(p)) }

// LangURL is the current page in another UI language.
func (v *view) LangURL(l string) string {
	u, _ := url.Parse(v.Path)
	q := u.Query()
	q.Set("hl", l)
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Server) newView(w http.ResponseWriter, r *http.Request, active string) *view {
	v := &view{Lang: uiLang(w, r), Langs: uiLangs, TZ: s.opts.TimeZone, User: principalOf(r), Active: active, Path: r.URL.RequestURI()}
	if c, err := r.Cookie(tzCookie); err == nil {
		if tz, err := time.LoadLocation(c.Value); err == nil && c.Value != "" && c.Value != "Local" {
			v.TZ = tz
		}
	}
	if v.User != nil && v.User.session != "" {
		v.CSRF = csrfToken(v.User.session)
	}
	v.Flash = r.URL.Query().Get("flash")
	if v.Flash != "" {
		v.Flash = v.T(v.Flash) // only known keys show; anything else prints as a key
	}
	return v
}

// render executes into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("cannot render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, p *principal, status int, key string) {
	r = r.WithContext(contextWith(r, p))
	v := s.newView(w, r, "")
	v.Title, v.Error = v.T("error"), v.T(key)
	s.render(w, status, "status", v)
}

func (s *Server) pageStoreError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("store query failed", "path", r.URL.Path, "err", err)
	s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "unavailable")
}

func (s *Server) pageRoutes() []route {
	return []route{
		{method: "GET", path: "/static/", need: permPublic, handler: s.pages.static.ServeHTTP},
		{method: "GET", path: "/login", need: permPublic, handler: s.loginPage},
		{method: "POST", path: "/login", need: permPublic, handler: s.loginPost},
		{method: "POST", path: "/logout", need: permRead, handler: s.logoutPost},
		{method: "GET", path: "/{$}", need: permPublic, handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/trends", http.StatusSeeOther) }},
		{method: "GET", path: "/trends", need: permRead, handler: s.trendsPage},
		{method: "GET", path: "/topics/{key}", need: permRead, handler: s.topicPage},
		{method: "GET", path: "/cases", need: permCases, handler: s.casesPage},
		{method: "POST", path: "/cases/{id}/{action}", need: permCases, handler: s.caseActionPost},
		{method: "POST", path: "/cases/{id}/samples/{i}/confirm", need: permFacts, handler: s.caseConfirmPost},
		{method: "GET", path: "/facts", need: permRead, handler: s.factsPage},
		{method: "GET", path: "/facts/new", need: permFacts, handler: s.factEditPage},
		{method: "GET", path: "/facts/{id}/edit", need: permFacts, handler: s.factEditPage},
		{method: "POST", path: "/facts", need: permFacts, handler: s.factPost},
		{method: "POST", path: "/facts/import", need: permFacts, handler: s.factImportPost},
		{method: "GET", path: "/sources", need: permAdmin, handler: s.sourcesPage},
		{method: "POST", path: "/sources", need: permAdmin, handler: s.sourcePost},
		{method: "POST", path: "/sources/{id}/{action}", need: permAdmin, handler: s.sourceActionPost},
		{method: "GET", path: "/settings", need: permAdmin, handler: s.settingsPage},
		{method: "POST", path: "/settings/users", need: permAdmin, handler: s.userPost},
		{method: "POST", path: "/settings/tokens", need: permAdmin, handler: s.tokenPost},
		{method: "POST", path: "/settings/tokens/{id}/revoke", need: permAdmin, handler: s.tokenRevokePost},
		{method: "POST", path: "/settings/prefs", need: permRead, handler: s.prefsPost},
	}
}

// ---- login ----

// loginLimiter slows password guessing across all clients; PBKDF2 already
// costs ~0.3 s of CPU per attempt, and this caps the CPU it can take.
var loginLimiter = rate.NewLimiter(rate.Every(250*time.Millisecond), 20)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "login")
	v.Title = v.T("login")
	v.Data = map[string]string{"Next": safeNext(r.URL.Query().Get("next"))}
	s.render(w, http.StatusOK, "login", v)
}

// safeNext keeps post-login redirects on this site.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") || strings.ContainsAny(n, "\r\n") {
		return "/trends"
	}
	return n
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	next := safeNext(r.PostFormValue("next"))
	fail := func(status int, key string) {
		v := s.newView(w, r, "login")
		v.Title, v.Error = v.T("login"), v.T(key)
		v.Data = map[string]string{"Next": next}
		s.render(w, status, "login", v)
	}
	if !loginLimiter.Allow() {
		fail(http.StatusTooManyRequests, "login.busy")
		return
	}
	id, err := s.auth.login(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"))
	if errors.Is(err, errBadCredentials) {
		s.log.Info("login failed", "user", r.PostFormValue("username"), "remote", r.RemoteAddr)
		fail(http.StatusUnauthorized, "login.failed")
		return
	}
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	http.SetCookie(w, s.auth.sessionCookie(id, int(sessionTTL.Seconds())))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logoutPost(w http.ResponseWriter, r *http.Request) {
	if p := principalOf(r); p.session != "" {
		if err := s.auth.logout(r.Context(), p.session); err != nil {
			s.log.Warn("cannot record logout", "err", err)
		}
	}
	http.SetCookie(w, s.auth.sessionCookie("", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// ---- trends ----

var windows = []string{"15m", "1h", "6h", "24h", "7d"}

type trendsData struct {
	Window, Lang, Platform, Sort string
	To                           string // the moment shown, as the picker's value ("" = now)
	Windows                      []string
	Langs, Platforms             []string
	Topics                       []clickhouse.Trend
	// NoAuthors: no listed topic has authors (feeds): the column counts
	// sources and says so.
	NoAuthors bool
}

// pickerLayout is the value format of an <input type="datetime-local">.
const pickerLayout = "2006-01-02T15:04"

// pageTime reads the trends page's to: the picker's local date-time in
// the viewer's zone, or RFC 3339.
func pageTime(v string, tz *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(pickerLayout, v, tz); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Server) trendsPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "trends")
	v.Title = v.T("nav.trends")
	qs := r.URL.Query()
	sortBy := qs.Get("sort")
	if sortBy == "burst" {
		sortBy = "score"
	}
	d := trendsData{Window: pick(qs.Get("window"), windows, "1h"), Lang: qs.Get("lang"), Platform: qs.Get("platform"),
		Sort: pick(sortBy, []string{"posts", "score"}, "score"), Windows: windows,
		Langs: []string{"vi", "fr", "en"}, Platforms: []string{"rss", "web", "push", "mastodon", "bluesky", "reddit", "telegram", "youtube"}}
	if len(d.Lang) > 8 || len(d.Platform) > 32 {
		d.Lang, d.Platform = "", ""
	}
	var to time.Time
	if raw := qs.Get("to"); raw != "" {
		t, err := pageTime(raw, v.TZ)
		if err != nil {
			v.Error, v.Data = v.T("trends.bad_to"), d
			s.render(w, http.StatusBadRequest, "trends", v)
			return
		}
		to, d.To = t, t.In(v.TZ).Format(pickerLayout)
	}
	win, _ := queryDurationValue(d.Window)
	ts, err := s.trendsCached(r.Context(), s.trendsPageQuery(win, d.Lang, d.Platform, d.Sort, to))
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	d.Topics = ts
	d.NoAuthors = len(ts) > 0
	for _, t := range ts {
		if t.Authors > 0 {
			d.NoAuthors = false
		}
	}
	v.Data = d
	s.render(w, http.StatusOK, "trends", v)
}

func pick(v string, allowed []string, def string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return def
}

func queryDurationValue(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		return time.Duration(days) * 24 * time.Hour, err
	}
	return time.ParseDuration(v)
}

// ---- topic ----

type topicData struct {
	Key, Window   string
	Label         clickhouse.Label
	Windows       []string
	Timeline      []clickhouse.Point
	Spread        clickhouse.Spread
	Samples       []samplePost
	Facts         []factView
	CSVQuery      string
	TimelineTotal int64
}

type samplePost struct {
	schema.Post
	Body string // plain text: any markup from the source stripped
}

type factView struct {
	schema.Fact
	SummaryHTML template.HTML // sanitised
}

// stripHTML turns crawled text that may carry markup into plain text; the
// template escapes the result, so this is about readability, not safety.
var stripHTML = bluemonday.StrictPolicy()

// factHTML allows the harmless formatting fact-checkers put in summaries
// (links, emphasis, lists) and nothing else.
var factHTML = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
})

func toFactView(f schema.Fact) factView {
	return factView{Fact: f, SummaryHTML: template.HTML(factHTML().Sanitize(f.Summary))}
}

func (s *Server) topicPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "trends")
	key := r.PathValue("key")
	d := topicData{Key: key, Window: pick(r.URL.Query().Get("window"), windows, "24h"), Windows: windows}
	// The label is a small lookup of its own: it runs while the spread is
	// counted.
	labelled := make(chan clickhouse.Label, 1)
	go func() { labelled <- s.topicLabel(r.Context(), key) }()
	defer func() {
		if labelled != nil {
			<-labelled
		}
	}()
	win, _ := queryDurationValue(d.Window)
	now := s.opts.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	from := now.Add(-win)
	step := max(win/96, time.Minute).Truncate(time.Minute)
	d.CSVQuery = "window=" + d.Window + "&step=" + step.String()
	var err error
	sp, err := s.spreadCached(r.Context(), key, from, now, clickhouse.SpreadOptions{Step: step, Top: 10, Samples: 8})
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	d.Spread, d.Timeline = sp, sp.Timeline
	for _, p := range sp.Timeline {
		d.TimelineTotal += p.Posts
	}
	for _, p := range sp.SamplePosts {
		d.Samples = append(d.Samples, samplePost{Post: p, Body: stripHTML.Sanitize(p.Text)})
	}
	// Fact lookups are independent point queries: run them together so
	// the page waits for one round trip, not ten.
	ids := sp.FactIDs[:min(len(sp.FactIDs), 10)]
	found := make([]*schema.Fact, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			if f, err := s.opts.Store.Fact(r.Context(), id); err == nil {
				found[i] = &f
			}
		})
	}
	wg.Wait()
	for _, f := range found {
		if f != nil {
			d.Facts = append(d.Facts, toFactView(*f))
		}
	}
	d.Label, labelled = <-labelled, nil
	v.Title = d.Label.Text
	if v.Title == "" {
		v.Title = v.T("kind." + d.Label.Kind)
	}
	v.Data = d
	s.render(w, http.StatusOK, "topic", v)
}

// ---- cases ----

// caseDetail is the part of the alerter's case JSON the queue shows.
type caseDetail struct {
	Claim     string    `json:"claim"`
	Verdict   string    `json:"verdict"`
	FactURL   string    `json:"fact_url"`
	Posts     int       `json:"posts"`
	Authors   int       `json:"authors"`
	Platforms []string  `json:"platforms"`
	Langs     []string  `json:"langs"`
	Rate      int       `json:"rate"`
	AckedBy   string    `json:"acked_by"`
	Snoozed   time.Time `json:"snoozed_until"`
	Notes     []struct {
		Time  time.Time `json:"time"`
		Actor string    `json:"actor"`
		Text  string    `json:"text"`
	} `json:"notes"`
	Samples []struct {
		Title  string `json:"title"`
		Text   string `json:"text"`
		URL    string `json:"url"`
		Author string `json:"author"`
	} `json:"samples"`
}

type caseView struct {
	clickhouse.CaseRow
	D caseDetail
}

type casesData struct {
	State  string
	States []string
	Cases  []caseView
	Offset int
	Next   int
}

var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}

func sevRank(s string) int {
	if r, ok := severityRank[strings.ToLower(s)]; ok {
		return r
	}
	return 4
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "cases")
	v.Title = v.T("nav.cases")
	states := []string{"open", "acknowledged", "snoozed", "resolved"}
	d := casesData{State: pick(r.URL.Query().Get("state"), append([]string{""}, states...), ""), States: states}
	d.Offset, _ = strconv.Atoi(r.URL.Query().Get("offset"))
	d.Offset = min(max(d.Offset, 0), 1<<20)
	const pageSize = 100
	rows, err := s.opts.Store.Cases(r.Context(), clickhouse.CaseQuery{State: d.State, Limit: pageSize, Offset: d.Offset})
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	if len(rows) == pageSize {
		d.Next = d.Offset + pageSize
	}
	for _, c := range rows {
		cv := caseView{CaseRow: c}
		_ = json.Unmarshal([]byte(c.Body), &cv.D) // a body we cannot read still lists the case
		for i := range cv.D.Samples {
			cv.D.Samples[i].Text = stripHTML.Sanitize(cv.D.Samples[i].Text)
		}
		d.Cases = append(d.Cases, cv)
	}
	// The queue: unresolved first, then by severity, then most recent.
	sort.SliceStable(d.Cases, func(i, j int) bool {
		a, b := d.Cases[i], d.Cases[j]
		if (a.State == "resolved") != (b.State == "resolved") {
			return b.State == "resolved"
		}
		if sevRank(a.Severity) != sevRank(b.Severity) {
			return sevRank(a.Severity) < sevRank(b.Severity)
		}
		return a.Updated.After(b.Updated)
	})
	v.Data = d
	s.render(w, http.StatusOK, "cases", v)
}

func (s *Server) caseActionPost(w http.ResponseWriter, r *http.Request) {
	if s.opts.Commands == nil {
		s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "unavailable")
		return
	}
	kind, ok := caseActions[r.PathValue("action")]
	if !ok {
		s.renderStatus(w, r, principalOf(r), http.StatusNotFound, "not_found")
		return
	}
	p := principalOf(r)
	cmd := schema.CaseCommand{ID: newID(), Kind: kind, Actor: p.Name, Time: s.opts.Now().UTC()}
	switch kind {
	case schema.CmdSnooze:
		h, err := strconv.Atoi(r.PostFormValue("hours"))
		if err != nil || h < 1 || h > 24*14 {
			s.renderStatus(w, r, p, http.StatusBadRequest, "bad_input")
			return
		}
		cmd.Until = cmd.Time.Add(time.Duration(h) * time.Hour)
	case schema.CmdNote:
		cmd.Note = strings.TrimSpace(r.PostFormValue("note"))
		if cmd.Note == "" || len(cmd.Note) > 10000 {
			s.renderStatus(w, r, p, http.StatusBadRequest, "bad_input")
			return
		}
	case schema.CmdResponse:
		cmd.URL = r.PostFormValue("url")
		if checkURL(cmd.URL) != nil {
			s.renderStatus(w, r, p, http.StatusBadRequest, "bad_input")
			return
		}
	}
	c, ok := s.pathCase(w, r)
	if !ok {
		return
	}
	cmd.CaseID = c.ID
	if err := s.opts.Commands.PublishAlerts(r.Context(), []schema.Alert{{FactID: c.FactID, Command: &cmd}}); err != nil {
		s.log.Warn("cannot publish case command", "err", err)
		s.renderStatus(w, r, p, http.StatusServiceUnavailable, "unavailable")
		return
	}
	http.Redirect(w, r, "/cases?flash=action.sent", http.StatusSeeOther)
}

// pathCase reads the case named by the path's id; when it cannot, it has
// rendered the error page (404 or a store error) and ok is false.
func (s *Server) pathCase(w http.ResponseWriter, r *http.Request) (clickhouse.CaseRow, bool) {
	c, found, err := s.opts.Store.Case(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageStoreError(w, r, err)
		return c, false
	}
	if !found {
		s.renderStatus(w, r, principalOf(r), http.StatusNotFound, "not_found")
		return c, false
	}
	return c, true
}

// caseConfirmPost records that a sample post of a case restates the
// case's fact: the sample's text (as stored in the case, not as sent by
// the browser) joins the fact's appearances, so the matcher recognises
// the next restatement sooner.
func (s *Server) caseConfirmPost(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if s.opts.Facts == nil {
		s.renderStatus(w, r, p, http.StatusServiceUnavailable, "unavailable")
		return
	}
	i, err := strconv.Atoi(r.PathValue("i"))
	if err != nil || i < 0 {
		s.renderStatus(w, r, p, http.StatusBadRequest, "bad_input")
		return
	}
	c, ok := s.pathCase(w, r)
	if !ok {
		return
	}
	var d caseDetail
	_ = json.Unmarshal([]byte(c.Body), &d) // an unreadable body has no samples
	if i >= len(d.Samples) {
		s.renderStatus(w, r, p, http.StatusNotFound, "not_found")
		return
	}
	smp := d.Samples[i]
	text := strings.TrimSpace(stripHTML.Sanitize(smp.Text))
	if t := strings.TrimSpace(stripHTML.Sanitize(smp.Title)); t != "" {
		text = strings.TrimSpace(t + "\n" + text)
	}
	f, err := s.opts.Store.Fact(r.Context(), c.FactID)
	if errors.Is(err, clickhouse.ErrNotFound) {
		s.renderStatus(w, r, p, http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	if text == "" || slices.Contains(f.Appearances, text) {
		http.Redirect(w, r, "/cases?flash=appearance.saved", http.StatusSeeOther)
		return
	}
	f.Appearances = append(f.Appearances, text)
	if err := s.saveFacts(r, []schema.Fact{f}); err != nil {
		s.log.Warn("cannot save a confirmed appearance", "fact", f.ID, "err", err)
		s.renderStatus(w, r, p, http.StatusServiceUnavailable, "unavailable")
		return
	}
	http.Redirect(w, r, "/cases?flash=appearance.saved", http.StatusSeeOther)
}

// ---- facts ----

type factsData struct {
	Q, Verdict, Lang string
	Verdicts         []string
	Facts            []factView
	Offset, Next     int
	Imported         string
}

var verdicts = []string{schema.VerdictFalse, schema.VerdictMisleading, schema.VerdictMixed, schema.VerdictTrue, schema.VerdictUnproven}

func (s *Server) factsPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "facts")
	v.Title = v.T("nav.facts")
	qs := r.URL.Query()
	d := factsData{Q: qs.Get("q"), Verdict: pick(qs.Get("verdict"), verdicts, ""), Lang: pick(qs.Get("lang"), []string{"vi", "fr", "en"}, ""), Verdicts: verdicts, Imported: qs.Get("imported")}
	if len(d.Q) > 200 {
		d.Q = d.Q[:200]
	}
	d.Offset, _ = strconv.Atoi(qs.Get("offset"))
	d.Offset = min(max(d.Offset, 0), 1<<20)
	const pageSize = 50
	fs, err := s.searchFacts(r.Context(), clickhouse.FactQuery{Q: d.Q, Verdict: d.Verdict, Lang: d.Lang, Limit: pageSize, Offset: d.Offset})
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	if len(fs) == pageSize {
		d.Next = d.Offset + pageSize
	}
	for _, f := range fs {
		d.Facts = append(d.Facts, toFactView(f))
	}
	v.Data = d
	s.render(w, http.StatusOK, "facts", v)
}

type factEditData struct {
	Fact     schema.Fact
	New      bool
	Verdicts []string
}

func (s *Server) factEditPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "facts")
	d := factEditData{New: true, Verdicts: verdicts}
	if id := r.PathValue("id"); id != "" {
		f, err := s.opts.Store.Fact(r.Context(), id)
		if errors.Is(err, clickhouse.ErrNotFound) {
			s.renderStatus(w, r, principalOf(r), http.StatusNotFound, "not_found")
			return
		}
		if err != nil {
			s.pageStoreError(w, r, err)
			return
		}
		d.Fact, d.New = f, false
	}
	v.Title = v.T("new_fact")
	if !d.New {
		v.Title = v.T("edit")
	}
	v.Data = d
	s.render(w, http.StatusOK, "fact_edit", v)
}

func (s *Server) factPost(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "unavailable")
		return
	}
	// An edit starts from the stored fact: the form shows only some
	// fields, and the rest (rating, date, translations, appearances) must
	// survive a save.
	id := strings.TrimSpace(r.PostFormValue("id"))
	f := schema.Fact{V: 1, ID: id}
	if id != "" {
		stored, err := s.opts.Store.Fact(r.Context(), id)
		switch {
		case err == nil:
			f = stored
		case !errors.Is(err, clickhouse.ErrNotFound):
			s.pageStoreError(w, r, err)
			return
		}
	}
	f.Claim, f.Title = strings.TrimSpace(r.PostFormValue("claim")), strings.TrimSpace(r.PostFormValue("title"))
	f.Summary, f.Lang = strings.TrimSpace(r.PostFormValue("summary")), r.PostFormValue("lang")
	f.Verdict = pick(r.PostFormValue("verdict"), verdicts, "")
	f.Publisher, f.URL = strings.TrimSpace(r.PostFormValue("publisher")), strings.TrimSpace(r.PostFormValue("url"))
	f.Tags = nil
	if t := r.PostFormValue("tags"); t != "" {
		for _, tag := range strings.Split(t, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				f.Tags = append(f.Tags, tag)
			}
		}
	}
	if f.ID == "" {
		f.ID = "tw-" + newID()
	}
	if f.URL != "" && checkURL(f.URL) != nil {
		s.factFormError(w, r, f, "url must be http(s)")
		return
	}
	if err := s.saveFacts(r, []schema.Fact{f}); err != nil {
		var inv invalidFactError
		if errors.As(err, &inv) {
			s.factFormError(w, r, f, inv.err.Error())
			return
		}
		s.pageStoreError(w, r, err)
		return
	}
	http.Redirect(w, r, "/facts?flash=saved&q="+url.QueryEscape(firstNonEmpty(f.Claim, f.Title)), http.StatusSeeOther)
}

func (s *Server) factFormError(w http.ResponseWriter, r *http.Request, f schema.Fact, msg string) {
	v := s.newView(w, r, "facts")
	v.Title, v.Error = v.T("new_fact"), v.T("bad_input")+": "+msg
	v.Data = factEditData{Fact: f, New: true, Verdicts: verdicts}
	s.render(w, http.StatusBadRequest, "fact_edit", v)
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func (s *Server) factImportPost(w http.ResponseWriter, r *http.Request) {
	if s.opts.Facts == nil {
		s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "unavailable")
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		s.renderStatus(w, r, principalOf(r), http.StatusBadRequest, "bad_input")
		return
	}
	defer file.Close()
	n, bad, err := s.importFrom(r, file, hdr.Filename, r.PostFormValue("format"))
	if err != nil {
		var inv invalidFactError
		if errors.As(err, &inv) {
			v := s.newView(w, r, "facts")
			v.Title, v.Error = v.T("import"), v.T("bad_input")+": "+inv.err.Error()
			s.render(w, http.StatusBadRequest, "status", v)
			return
		}
		s.pageStoreError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/facts?flash=saved&imported=%d/%d", n, n+len(bad)), http.StatusSeeOther)
}

// ---- sources ----

// ---- settings ----

type settingsData struct {
	Thresholds []struct {
		Lang  string
		Value float64
	}
	Routes   string
	Users    []clickhouse.User
	Tokens   []clickhouse.Token
	Roles    []string
	NewToken string
	TZ       string
	Zones    []string
	// Storage: retention in days per class (0: kept) and each table's disk use.
	RetainRaw, RetainAggregates int
	Tables                      []clickhouse.TableSize
	TotalBytes                  uint64
	// Edit: the thresholds and alert policy forms and their audit (settings.go).
	Edit settingsEdit
}

var zones = []string{"Asia/Ho_Chi_Minh", "Asia/Bangkok", "Asia/Singapore", "Europe/Paris", "UTC"}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	s.settingsPageWith(w, r, s.newView(w, r, "settings"), http.StatusOK, "", nil)
}

// settingsPageWith renders the Settings page with status; policyText and
// form, after a refused change, keep what the admin typed.
func (s *Server) settingsPageWith(w http.ResponseWriter, r *http.Request, v *view, status int, policyText string, form map[string]string) {
	v.Title = v.T("nav.settings")
	d := settingsData{Roles: Roles, TZ: v.TZ.String(), Zones: zones}
	if s.opts.Thresholds != nil {
		th := s.opts.Thresholds()
		for _, l := range sortedKeys(th) {
			d.Thresholds = append(d.Thresholds, struct {
				Lang  string
				Value float64
			}{l, th[l]})
		}
	}
	if len(s.opts.Routes) > 0 {
		var buf bytes.Buffer
		if json.Indent(&buf, s.opts.Routes, "", "  ") == nil {
			d.Routes = buf.String()
		}
	}
	var err error
	if d.Users, err = s.auth.store.Users(r.Context()); err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	if d.Tokens, err = s.auth.store.Tokens(r.Context()); err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	d.RetainRaw, d.RetainAggregates = int(s.opts.Retention.Raw.Hours()/24), int(s.opts.Retention.Aggregates.Hours()/24)
	if d.Tables, err = s.opts.Store.TableSizes(r.Context()); err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	for _, t := range d.Tables {
		d.TotalBytes += t.Bytes
	}
	// A new token's secret travels once, in a short-lived cookie set by
	// tokenPost, never in a URL (which would end up in logs and history).
	if c, err := r.Cookie("tw_newtoken"); err == nil {
		d.NewToken = c.Value
		http.SetCookie(w, &http.Cookie{Name: "tw_newtoken", Path: "/settings", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	if d.Edit, err = s.settingsEditData(r.Context(), policyText, form); err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	v.Data = d
	s.render(w, status, "settings", v)
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *Server) userPost(w http.ResponseWriter, r *http.Request) {
	_, err := s.saveUser(r, strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role"), r.PostFormValue("password"), r.PostFormValue("disabled") == "on")
	if err != nil {
		s.settingsError(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings?flash=saved", http.StatusSeeOther)
}

func (s *Server) settingsError(w http.ResponseWriter, r *http.Request, err error) {
	var inv invalidUserError
	if errors.As(err, &inv) {
		v := s.newView(w, r, "settings")
		v.Title, v.Error = v.T("nav.settings"), v.T("bad_input")+": "+inv.error.Error()
		s.render(w, http.StatusBadRequest, "status", v)
		return
	}
	s.pageStoreError(w, r, err)
}

func (s *Server) tokenPost(w http.ResponseWriter, r *http.Request) {
	secret, _, err := s.createToken(r, r.PostFormValue("label"), r.PostFormValue("role"), r.PostFormValue("ttl"))
	if err != nil {
		s.settingsError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "tw_newtoken", Value: secret, Path: "/settings", MaxAge: 60, HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

func (s *Server) tokenRevokePost(w http.ResponseWriter, r *http.Request) {
	if err := s.revokeTokenID(r, r.PathValue("id")); err != nil {
		if errors.Is(err, clickhouse.ErrNotFound) {
			s.renderStatus(w, r, principalOf(r), http.StatusNotFound, "not_found")
			return
		}
		s.pageStoreError(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings?flash=saved", http.StatusSeeOther)
}

// prefsPost stores the viewer's time zone.
func (s *Server) prefsPost(w http.ResponseWriter, r *http.Request) {
	tz := pick(r.PostFormValue("tz"), zones, DefaultTimeZone)
	http.SetCookie(w, &http.Cookie{Name: tzCookie, Value: tz, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}
