package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
)

// sourceHealth is what the API and the Sources page say of a source:
// paused (disabled), pending (not polled yet), the collector's own verdict
// (healthy, failing, silent), or failing/healthy from the failure count for
// collectors that give none.
func sourceHealth(src schema.Source, st *schema.SourceStatus) string {
	switch {
	case !src.Enabled:
		return schema.HealthPaused
	case st == nil:
		return schema.HealthPending
	case st.Health != "":
		return st.Health
	case st.Failures > 0:
		return schema.HealthFailing
	default:
		return schema.HealthHealthy
	}
}

// healthRank orders sources worst first.
var healthRank = map[string]int{schema.HealthFailing: 0, schema.HealthSilent: 1, schema.HealthPending: 2, schema.HealthHealthy: 3, schema.HealthPaused: 4}

// sourceLabel names a source for people: its name, else the title its feed
// gave, else its address without the scheme — never the hex id.
func sourceLabel(src schema.Source, st *schema.SourceStatus) string {
	if src.Name != "" {
		return src.Name
	}
	if st != nil && st.Title != "" {
		return st.Title
	}
	if u, err := url.Parse(src.URL); err == nil && u.Host != "" {
		return strings.TrimSuffix(u.Host+u.Path, "/")
	}
	if src.URL != "" {
		return src.URL
	}
	return src.ID
}

var sourceKinds = map[string]bool{"feed": true, "crawl": true, "mastodon": true, "bluesky": true, "reddit": true, "telegram": true, "youtube": true}

// checkSource validates a source from the API or the Sources form and
// fills in its id, state and creation time.
func (s *Server) checkSource(ctx context.Context, src *schema.Source) error {
	src.URL = strings.TrimSpace(src.URL)
	if src.Kind == "" {
		src.Kind = "feed"
	}
	if !sourceKinds[src.Kind] {
		return fmt.Errorf("kind %q is not one of feed, crawl, mastodon, bluesky, reddit, telegram, youtube", src.Kind)
	}
	if src.Kind == "feed" || src.Kind == "crawl" {
		if err := checkURL(src.URL); err != nil {
			return err
		}
		// Refused now rather than at every poll: the collectors' guard
		// would never fetch it.
		if s.opts.CheckSourceURL != nil {
			if err := s.opts.CheckSourceURL(ctx, src.URL); err != nil {
				return fmt.Errorf("the collectors may not fetch %s (%v): start trendwatch with --fetch-allow naming that host or network (e.g. --fetch-allow 127.0.0.1 or 10.0.0.0/8) to allow it", src.URL, err)
			}
		}
	} else if src.URL == "" {
		return fmt.Errorf("url is required")
	}
	if src.Interval != 0 && (src.Interval < time.Second || src.Interval > 7*24*time.Hour) {
		return fmt.Errorf("interval must be between 1s and 7 days (nanoseconds in JSON)")
	}
	if src.ID == "" {
		src.ID = schema.SourceID(src.Kind, src.URL)
	}
	src.Enabled = true
	if src.Created.IsZero() {
		src.Created = s.opts.Now().UTC()
	}
	return nil
}

// sourceByID finds a stored source.
func (s *Server) sourceByID(r *http.Request, id string) (schema.Source, bool, error) {
	srcs, err := s.opts.Store.Sources(r.Context())
	if err != nil {
		return schema.Source{}, false, err
	}
	for _, src := range srcs {
		if src.ID == id {
			return src, true, nil
		}
	}
	return schema.Source{}, false, nil
}

// sourceAction pauses or resumes a source (POST /api/v1/sources/{id}/pause|resume).
func (s *Server) sourceAction(w http.ResponseWriter, r *http.Request) {
	enable, ok := map[string]bool{"pause": false, "resume": true}[r.PathValue("action")]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "unknown source action %q: want pause or resume", r.PathValue("action"))
		return
	}
	src, found, err := s.sourceByID(r, r.PathValue("id"))
	if err != nil {
		s.storeError(w, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "not_found", "no source %q", r.PathValue("id"))
		return
	}
	src.Enabled = enable
	if err := s.opts.Store.PutSource(r.Context(), src); err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

// ---- the Sources page ----

// ErrorText says a source's last error (its fetch.ErrorKind) in the
// page's language; the raw error stays in the row's tooltip.
func (v *view) ErrorText(st *schema.SourceStatus) string {
	if st == nil || st.LastError == "" {
		return ""
	}
	kind := st.ErrorKind
	if code, ok := strings.CutPrefix(kind, "http_"); ok {
		return fmt.Sprintf(v.T("source.err.http"), code)
	}
	if _, known := messages["source.err."+kind]; !known {
		kind = "other"
	}
	return v.T("source.err." + kind)
}

// sourceEntries lists every source with its status, health and label,
// worst health first, then most failures, then by label: the API's list
// and the page's rows.
func (s *Server) sourceEntries(ctx context.Context) ([]sourceJSON, error) {
	srcs, err := s.opts.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	sts, err := s.opts.Store.SourceStatuses(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]schema.SourceStatus{}
	for _, st := range sts {
		byID[st.SourceID] = st
	}
	out := make([]sourceJSON, 0, len(srcs))
	for _, src := range srcs {
		e := sourceJSON{Source: src}
		if st, ok := byID[src.ID]; ok {
			e.Status = &st
		}
		e.Health, e.Label = sourceHealth(src, e.Status), sourceLabel(src, e.Status)
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if healthRank[a.Health] != healthRank[b.Health] {
			return healthRank[a.Health] < healthRank[b.Health]
		}
		if a.Status != nil && b.Status != nil && a.Status.Failures != b.Status.Failures {
			return a.Status.Failures > b.Status.Failures
		}
		return a.Label < b.Label
	})
	return out, nil
}

func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(w, r, "sources")
	v.Title = v.T("nav.sources")
	rows, err := s.sourceEntries(r.Context())
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	v.Data = map[string]any{"Rows": rows, "Kinds": []string{"feed", "crawl", "mastodon", "bluesky", "reddit", "telegram", "youtube"},
		"Error": r.URL.Query().Get("error")}
	s.render(w, http.StatusOK, "sources", v)
}

// sourcePost adds a source from the page's form.
func (s *Server) sourcePost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Redirect(w, r, "/sources?error=invalid", http.StatusSeeOther)
		return
	}
	src := schema.Source{Kind: r.PostFormValue("kind"), URL: r.PostFormValue("url"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Lang: r.PostFormValue("lang")}
	if err := s.checkSource(r.Context(), &src); err != nil {
		http.Redirect(w, r, "/sources?error=invalid", http.StatusSeeOther)
		return
	}
	if err := s.opts.Store.PutSource(r.Context(), src); err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	http.Redirect(w, r, "/sources?flash=source.added", http.StatusSeeOther)
}

// sourceActionPost pauses, resumes or removes a source from the page.
func (s *Server) sourceActionPost(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	src, found, err := s.sourceByID(r, r.PathValue("id"))
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	if !found {
		s.renderStatus(w, r, principalOf(r), http.StatusNotFound, "not_found")
		return
	}
	switch action {
	case "pause", "resume":
		src.Enabled = action == "resume"
		err = s.opts.Store.PutSource(r.Context(), src)
	case "delete":
		err = s.opts.Store.DeleteSource(r.Context(), src.ID)
	default:
		s.renderStatus(w, r, principalOf(r), http.StatusNotFound, "not_found")
		return
	}
	if err != nil {
		s.pageStoreError(w, r, err)
		return
	}
	http.Redirect(w, r, "/sources?flash=source."+action+"d", http.StatusSeeOther)
}
