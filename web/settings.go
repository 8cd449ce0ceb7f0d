package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trendwatch/trendwatch/schema"
	"github.com/trendwatch/trendwatch/settings"
	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// Run-time settings an admin edits (thresholds, alert policy): the API
// under /api/v1/settings, the forms on the Settings page and the audit.
// A change is validated against this process's flags (settings.Live),
// written to the audit table, then published to the settings topic, which
// every analyzer, the alerter and this server follow; the answer waits
// until this server's follower has it, so the page and GET show it at
// once. The audit row goes first: a change that fails to publish leaves
// an audit row for a change that did not happen (the error says so), but
// no change ever goes unaudited.

// SettingWriter publishes a setting's new record (bus.Producer).
type SettingWriter interface {
	PutSetting(ctx context.Context, s schema.Setting) error
}

// applyWait bounds how long a change waits to come back from the topic.
const applyWait = 5 * time.Second

func (s *Server) settingsRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/settings/thresholds", need: permAdmin, handler: s.getThresholds,
			summary: "Alert thresholds per language in force, and who set them", resp: "ThresholdsSetting"},
		{method: "PUT", path: "/api/v1/settings/thresholds", need: permAdmin, handler: s.putThresholds,
			summary: "Set the alert thresholds per language (0..1); reaches every analyzer and the alerter within a second", body: "ThresholdsInput", resp: "ThresholdsSetting"},
		{method: "GET", path: "/api/v1/settings/alert-policy", need: permAdmin, handler: s.getAlertPolicy,
			summary: "Alert policy in force (the --alert-policy file format, thresholds aside)", resp: "AlertPolicySetting"},
		{method: "PUT", path: "/api/v1/settings/alert-policy", need: permAdmin, handler: s.putAlertPolicy,
			summary: "Set the alert policy; fields left out keep the configured values", body: "AlertPolicyInput", resp: "AlertPolicySetting"},
		{method: "GET", path: "/api/v1/settings/audit", need: permAdmin, handler: s.getSettingsAudit,
			summary: "Changes of the settings, newest first: who, when, old and new value",
			params:  []param{q("setting", "string", "thresholds or alert-policy; default both"), q("limit", "integer", "at most this many (default 100, at most 1000)")}, resp: "SettingsAudit"},
	}
}

func (s *Server) settingsPageRoutes() []route {
	return []route{
		{method: "POST", path: "/settings/thresholds", need: permAdmin, handler: s.thresholdsPost},
		{method: "POST", path: "/settings/alert-policy", need: permAdmin, handler: s.alertPolicyPost},
	}
}

// settingsSchemas documents the settings routes' bodies.
func settingsSchemas() map[string]any {
	num := map[string]any{"type": "number", "minimum": 0, "maximum": 1}
	th := map[string]any{"type": "object", "description": "language code (vi, fr, en, und, ...) to threshold", "additionalProperties": num}
	meta := map[string]any{
		"stored":     map[string]any{"type": "boolean", "description": "a stored setting is in force (else the flags')"},
		"revision":   map[string]any{"type": "integer", "description": "changes of this setting so far"},
		"changed_by": map[string]any{"type": "string"},
		"changed_at": map[string]any{"type": "string", "format": "date-time"},
	}
	with := func(k string, v any) map[string]any {
		props := map[string]any{k: v}
		for mk, mv := range meta {
			props[mk] = mv
		}
		return map[string]any{"type": "object", "required": []string{k, "stored"}, "properties": props}
	}
	pol := map[string]any{"type": "object", "description": "alert policy: verdicts, window, min_posts, min_authors, watchlist, renotify_factor, severity, cooldown, escalate_after, samples (durations as \"15m\")"}
	return map[string]any{
		"ThresholdsInput":    th,
		"AlertPolicyInput":   pol,
		"ThresholdsSetting":  with("thresholds", th),
		"AlertPolicySetting": with("policy", pol),
		"SettingsAudit": map[string]any{"type": "object", "required": []string{"changes"}, "properties": map[string]any{
			"changes": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"time": map[string]any{"type": "string", "format": "date-time"}, "setting": map[string]any{"type": "string"},
				"revision": map[string]any{"type": "integer"}, "actor": map[string]any{"type": "string"},
				"old": map[string]any{"type": "string", "description": "JSON value before"}, "new": map[string]any{"type": "string", "description": "JSON value after"}}}}}},
	}
}

// settingMeta says where a setting's value comes from.
type settingMeta struct {
	Stored    bool       `json:"stored"`
	Revision  uint64     `json:"revision,omitempty"`
	ChangedBy string     `json:"changed_by,omitempty"`
	ChangedAt *time.Time `json:"changed_at,omitempty"`
}

func (s *Server) metaOf(name string) settingMeta {
	r, ok := s.opts.Settings.Record(name)
	if !ok {
		return settingMeta{}
	}
	t := r.Time.UTC()
	return settingMeta{Stored: true, Revision: r.Revision, ChangedBy: r.Actor, ChangedAt: &t}
}

func (s *Server) thresholdsOut() any {
	return struct {
		Thresholds map[string]float64 `json:"thresholds"`
		settingMeta
	}{s.opts.Settings.Effective().Policy.Thresholds, s.metaOf(schema.SettingThresholds)}
}

func (s *Server) policyOut() any {
	return struct {
		Policy json.RawMessage `json:"policy"`
		settingMeta
	}{settings.PolicyJSON(s.opts.Settings.Effective().Policy), s.metaOf(schema.SettingAlertPolicy)}
}

func (s *Server) settingsOff(w http.ResponseWriter) bool {
	if s.opts.Settings == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "settings are not served by this process")
		return true
	}
	return false
}

func (s *Server) getThresholds(w http.ResponseWriter, r *http.Request) {
	if !s.settingsOff(w) {
		writeJSON(w, http.StatusOK, s.thresholdsOut())
	}
}

func (s *Server) getAlertPolicy(w http.ResponseWriter, r *http.Request) {
	if !s.settingsOff(w) {
		writeJSON(w, http.StatusOK, s.policyOut())
	}
}

// readSettingBody reads a JSON body, unwrapping {"<wrap>": value} (the
// shape GET answers) to value.
func readSettingBody(w http.ResponseWriter, r *http.Request, wrap string) (json.RawMessage, bool) {
	var raw json.RawMessage
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body larger than %d bytes", 1<<20)
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "bad_json", "cannot decode request body: %s", plainJSONError(err))
		return nil, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		if inner, ok := fields[wrap]; ok && bytes.HasPrefix(bytes.TrimSpace(inner), []byte("{")) {
			return inner, true
		}
	}
	return raw, true
}

func (s *Server) putThresholds(w http.ResponseWriter, r *http.Request) {
	if s.settingsOff(w) {
		return
	}
	body, ok := readSettingBody(w, r, "thresholds")
	if !ok {
		return
	}
	if err := s.setThresholds(r.Context(), principalOf(r), body); err != nil {
		s.settingErrorJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.thresholdsOut())
}

func (s *Server) putAlertPolicy(w http.ResponseWriter, r *http.Request) {
	if s.settingsOff(w) {
		return
	}
	body, ok := readSettingBody(w, r, "policy")
	if !ok {
		return
	}
	if err := s.setAlertPolicy(r.Context(), principalOf(r), body); err != nil {
		s.settingErrorJSON(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.policyOut())
}

func (s *Server) getSettingsAudit(w http.ResponseWriter, r *http.Request) {
	setting := r.URL.Query().Get("setting")
	if setting != "" && setting != schema.SettingThresholds && setting != schema.SettingAlertPolicy {
		writeError(w, http.StatusBadRequest, "bad_parameter", "setting %q: use thresholds or alert-policy", setting)
		return
	}
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "bad_parameter", "limit %q: use a whole number from 1 to 1000", l)
			return
		}
		limit = n
	}
	changes, err := s.opts.Store.SettingsAudit(r.Context(), setting, limit)
	if err != nil {
		s.storeError(w, err)
		return
	}
	if changes == nil {
		changes = []clickhouse.SettingChange{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": changes})
}

// Errors of a setting change that are not the value's fault.
var (
	errSettingAudit   = errors.New("cannot audit the change")
	errSettingPublish = errors.New("cannot publish the change")
)

func (s *Server) settingErrorJSON(w http.ResponseWriter, err error) {
	var inv *settings.Error
	switch {
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, "invalid_setting", "%s", inv.Error())
	case errors.Is(err, errSettingAudit):
		s.storeError(w, err)
	case errors.Is(err, errSettingPublish):
		s.log.Warn("setting not published", slog.Any("err", err))
		writeError(w, http.StatusServiceUnavailable, "bus_unavailable", "the change is audited but was not published (Kafka did not answer); try again")
	default:
		s.log.Warn("setting change failed", slog.Any("err", err))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the change did not take effect; try again")
	}
}

func (s *Server) setThresholds(ctx context.Context, p *principal, body []byte) error {
	th, err := settings.ParseThresholds(body)
	if err != nil {
		return err
	}
	value, _ := json.Marshal(th) // sorted keys: one spelling per value
	old := s.opts.Settings.Effective().Policy.Thresholds
	return s.changeSetting(ctx, p, schema.SettingThresholds, value, mustJSON(old), func(e *settings.Effective) string {
		return mustJSON(e.Policy.Thresholds)
	})
}

func (s *Server) setAlertPolicy(ctx context.Context, p *principal, body []byte) error {
	// Checked over what is in force (a document may repeat the thresholds
	// in force, stored ones included); stored, it replaces the previous
	// document over the flags' policy, which changeSetting checks too.
	cur := s.opts.Settings.Effective().Policy
	doc, _, err := settings.ParsePolicy(body, cur)
	if err != nil {
		return err
	}
	return s.changeSetting(ctx, p, schema.SettingAlertPolicy, doc, compactJSON(settings.PolicyJSON(cur)), func(e *settings.Effective) string {
		return compactJSON(settings.PolicyJSON(e.Policy))
	})
}

// changeSetting checks value against the other settings in force, audits
// the change (old → what follows from the new value), publishes it and
// waits for this server's follower to apply it.
func (s *Server) changeSetting(ctx context.Context, p *principal, name string, value json.RawMessage, old string, render func(*settings.Effective) string) error {
	if s.opts.SettingWriter == nil {
		return fmt.Errorf("%w: no bus", errSettingPublish)
	}
	prev, _ := s.opts.Settings.Record(name)
	rec := schema.Setting{Name: name, Revision: prev.Revision + 1, Value: value, Actor: p.Name, Time: s.opts.Now().UTC()}
	eff, err := s.opts.Settings.With(rec)
	if err != nil {
		return &settings.Error{Key: "settings.err.policy", Args: []any{err.Error()}}
	}
	ch := clickhouse.SettingChange{Time: rec.Time, Setting: name, Revision: rec.Revision, Actor: rec.Actor, Old: old, New: render(eff)}
	if ch.New == ch.Old {
		return nil // nothing would change: no audit row, no new revision
	}
	if err := s.opts.Store.AuditSetting(ctx, ch); err != nil {
		return fmt.Errorf("%w: %w", errSettingAudit, err)
	}
	if err := s.opts.SettingWriter.PutSetting(ctx, rec); err != nil {
		return fmt.Errorf("%w: %w", errSettingPublish, err)
	}
	s.log.Info("setting changed", slog.String("setting", name), slog.Uint64("revision", rec.Revision), slog.String("actor", rec.Actor),
		slog.String("old", ch.Old), slog.String("new", ch.New))
	wctx, cancel := context.WithTimeout(ctx, applyWait)
	defer cancel()
	if err := s.opts.Settings.Wait(wctx, name, rec.Revision); err != nil {
		// Published and audited: it will apply; this server is behind.
		s.log.Warn("setting published but not yet back from the topic", slog.String("setting", name), slog.Any("err", err))
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

// ---- page ----

// settingsEdit is the Settings page's editable part.
type settingsEdit struct {
	Enabled    bool // this process serves settings
	Thresholds []struct {
		Lang  string
		Value string
	}
	ThresholdsStored, PolicyStored bool
	Policy                         string
	Audit                          []auditRow
}

type auditRow struct {
	Time    time.Time
	Setting string
	Actor   string
	Changes []string // "field: old → new"
}

func (s *Server) settingsEditData(ctx context.Context, policyText string, formTh map[string]string) (settingsEdit, error) {
	var d settingsEdit
	if s.opts.Settings == nil {
		return d, nil
	}
	d.Enabled = true
	eff := s.opts.Settings.Effective()
	th := eff.Policy.Thresholds
	langs := make([]string, 0, len(th))
	for l := range th {
		langs = append(langs, l)
	}
	for l := range formTh {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs)
	for _, l := range langs {
		v, ok := formTh[l]
		if !ok {
			v = strconv.FormatFloat(th[l], 'f', -1, 64)
		}
		d.Thresholds = append(d.Thresholds, struct {
			Lang  string
			Value string
		}{l, v})
	}
	_, d.ThresholdsStored = s.opts.Settings.Record(schema.SettingThresholds)
	_, d.PolicyStored = s.opts.Settings.Record(schema.SettingAlertPolicy)
	d.Policy = policyText
	if d.Policy == "" {
		d.Policy = string(settings.PolicyJSON(eff.Policy))
	}
	changes, err := s.opts.Store.SettingsAudit(ctx, "", 50)
	if err != nil {
		return d, err
	}
	for _, c := range changes {
		d.Audit = append(d.Audit, auditRow{Time: c.Time, Setting: c.Setting, Actor: c.Actor, Changes: diffJSON(c.Old, c.New)})
	}
	return d, nil
}

// diffJSON lists the top-level fields whose value differs between two
// JSON objects, "field: old → new", so a policy change reads as what
// changed rather than two long documents.
func diffJSON(oldDoc, newDoc string) []string {
	var o, n map[string]json.RawMessage
	if json.Unmarshal([]byte(oldDoc), &o) != nil || json.Unmarshal([]byte(newDoc), &n) != nil {
		return []string{oldDoc + " → " + newDoc}
	}
	keys := map[string]bool{}
	for k := range o {
		keys[k] = true
	}
	for k := range n {
		keys[k] = true
	}
	var out []string
	for _, k := range sortedSet(keys) {
		ov, nv := compactJSON(o[k]), compactJSON(n[k])
		if ov == nv {
			continue
		}
		if ov == "" {
			ov = "—"
		}
		if nv == "" {
			nv = "—"
		}
		out = append(out, k+": "+ov+" → "+nv)
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// thresholdsPost takes the Settings page's thresholds form: one field
// th_<lang> per language (blank: back to the configured value) and an
// optional new language. A decimal comma is read as a point.
func (s *Server) thresholdsPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderStatus(w, r, principalOf(r), http.StatusBadRequest, "bad_input")
		return
	}
	if s.opts.Settings == nil {
		s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "settings.unavailable")
		return
	}
	form := map[string]string{}
	raw := map[string]json.RawMessage{}
	add := func(lang, v string) {
		lang, v = strings.ToLower(strings.TrimSpace(lang)), strings.TrimSpace(v)
		if lang == "" || v == "" {
			return
		}
		form[lang] = v
		num := strings.Replace(v, ",", ".", 1)
		if _, err := strconv.ParseFloat(num, 64); err == nil && json.Valid([]byte(num)) {
			raw[lang] = json.RawMessage(num)
		} else {
			raw[lang], _ = json.Marshal(v) // reported as "not a number", by name
		}
	}
	for k, vs := range r.PostForm {
		if lang, ok := strings.CutPrefix(k, "th_"); ok && len(vs) > 0 {
			add(lang, vs[0])
		}
	}
	add(r.PostFormValue("new_lang"), r.PostFormValue("new_value"))
	body, _ := json.Marshal(raw)
	if err := s.setThresholds(r.Context(), principalOf(r), body); err != nil {
		s.settingsPageError(w, r, err, "", form)
		return
	}
	http.Redirect(w, r, "/settings?flash=settings.saved#thresholds", http.StatusSeeOther)
}

func (s *Server) alertPolicyPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	text := r.PostFormValue("policy")
	if s.opts.Settings == nil {
		s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "settings.unavailable")
		return
	}
	if err := s.setAlertPolicy(r.Context(), principalOf(r), []byte(text)); err != nil {
		s.settingsPageError(w, r, err, text, nil)
		return
	}
	http.Redirect(w, r, "/settings?flash=settings.saved#policy", http.StatusSeeOther)
}

// settingsPageError shows the Settings page again with the message in the
// page's language and what was typed kept.
func (s *Server) settingsPageError(w http.ResponseWriter, r *http.Request, err error, policyText string, form map[string]string) {
	var inv *settings.Error
	switch {
	case errors.As(err, &inv):
		v := s.newView(w, r, "settings")
		v.Error = v.T("bad_input") + ": " + fmt.Sprintf(v.T(inv.Key), inv.Args...)
		s.settingsPageWith(w, r, v, http.StatusBadRequest, policyText, form)
	case errors.Is(err, errSettingPublish):
		s.log.Warn("setting not published", slog.Any("err", err))
		s.renderStatus(w, r, principalOf(r), http.StatusServiceUnavailable, "settings.err.bus")
	default:
		s.pageStoreError(w, r, err)
	}
}

// settingsMessages are the Settings page's strings for the edit forms and
// the audit, and the validation messages (keys from settings.Error), in
// vi, fr and en; init adds them to messages. Their own table keeps this
// resource's strings beside its handlers.
var settingsMessages = map[string][3]string{
	"settings.thresholds.help": {"Một bài khớp với một tin đã được kiểm chứng là sai sẽ gây cảnh báo khi độ tin cậy đạt ngưỡng của ngôn ngữ bài viết (từ 0 đến 1). Để trống để dùng giá trị trong cấu hình.",
		"Une publication qui reprend une affirmation déjà vérifiée déclenche une alerte quand la confiance atteint le seuil de sa langue (de 0 à 1). Laissez vide pour revenir à la configuration.",
		"A post matching a checked claim alerts when the confidence reaches its language's threshold (0 to 1). Leave blank for the configured value."},
	"settings.lang_code":             {"Mã ngôn ngữ mới", "Code de la nouvelle langue", "New language code"},
	"settings.value":                 {"Ngưỡng", "Seuil", "Threshold"},
	"settings.policy":                {"Chính sách cảnh báo", "Politique d’alerte", "Alert policy"},
	"settings.policy.help":           {"Định dạng JSON; thời lượng viết như \"15m\", \"1h\". Trường bỏ đi giữ giá trị trong cấu hình. Ngưỡng sửa ở phần trên.", "Format JSON ; durées comme « 15m », « 1h ». Un champ omis garde la valeur de la configuration. Les seuils se règlent plus haut.", "JSON; durations like \"15m\", \"1h\". A field left out keeps the configured value. Thresholds are set above."},
	"settings.stored":                {"Đang dùng giá trị do quản trị viên lưu (thay cho cấu hình khởi động).", "Valeur enregistrée par un administrateur (remplace la configuration de démarrage).", "An admin's stored value is in force (it overrides the start-up configuration)."},
	"settings.from_flags":            {"Đang dùng giá trị từ cấu hình khởi động.", "Valeur de la configuration de démarrage.", "The start-up configuration's value is in force."},
	"settings.saved":                 {"Đã lưu; mọi bộ phân tích và bộ cảnh báo áp dụng trong vòng một giây.", "Enregistré ; chaque analyseur et l’alerteur l’appliquent en moins d’une seconde.", "Saved; every analyzer and the alerter apply it within a second."},
	"settings.unavailable":           {"Tiến trình này không phục vụ việc sửa thiết lập.", "Ce processus ne permet pas de modifier les réglages.", "This process does not serve settings changes."},
	"settings.audit":                 {"Lịch sử thay đổi thiết lập", "Historique des réglages", "Settings history"},
	"settings.audit.empty":           {"Chưa có thay đổi nào.", "Aucune modification.", "No changes yet."},
	"settings.audit.when":            {"Thời điểm", "Date", "When"},
	"settings.audit.who":             {"Người thay đổi", "Auteur", "Who"},
	"settings.audit.what":            {"Thiết lập", "Réglage", "Setting"},
	"settings.audit.change":          {"Cũ → mới", "Ancien → nouveau", "Old → new"},
	"settings.routes":                {"Định tuyến cảnh báo đặt trong cấu hình (--alert-routes).", "Le routage des alertes se règle dans la configuration (--alert-routes).", "Alert routes are set in the configuration (--alert-routes)."},
	"setting.thresholds":             {"Ngưỡng cảnh báo", "Seuils d’alerte", "Alert thresholds"},
	"setting.alert-policy":           {"Chính sách cảnh báo", "Politique d’alerte", "Alert policy"},
	"settings.err.bus":               {"Thay đổi đã được ghi nhật ký nhưng chưa gửi được (Kafka không phản hồi); hãy thử lại.", "La modification est journalisée mais n’a pas pu être publiée (Kafka ne répond pas) ; réessayez.", "The change is audited but could not be published (Kafka does not answer); try again."},
	"settings.err.thresholds_json":   {"ngưỡng phải là các cặp ngôn ngữ và số.", "les seuils doivent associer une langue à un nombre.", "thresholds must pair a language with a number."},
	"settings.err.lang":              {"%q không phải mã ngôn ngữ (hai hoặc ba chữ thường, ví dụ vi, fr, en, und).", "%q n’est pas un code de langue (deux ou trois lettres minuscules, par ex. vi, fr, en, und).", "%q is not a language code (two or three lower-case letters, e.g. vi, fr, en, und)."},
	"settings.err.number":            {"ngưỡng của %s là %s, không phải một số.", "le seuil de %s vaut %s, ce n’est pas un nombre.", "the threshold for %s is %s, not a number."},
	"settings.err.range":             {"ngưỡng của %s là %s; phải nằm trong khoảng 0 đến 1.", "le seuil de %s vaut %s ; il doit être compris entre 0 et 1.", "the threshold for %s is %s; it must be within 0 to 1."},
	"settings.err.policy_syntax":     {"chính sách không phải JSON hợp lệ (lỗi gần byte %d).", "la politique n’est pas du JSON valide (erreur vers l’octet %d).", "the policy is not valid JSON (error near byte %d)."},
	"settings.err.policy_json":       {"chính sách phải là một đối tượng JSON, ví dụ {\"min_posts\": 3}.", "la politique doit être un objet JSON, par ex. {\"min_posts\": 3}.", "the policy must be a JSON object, e.g. {\"min_posts\": 3}."},
	"settings.err.policy_thresholds": {"ngưỡng được sửa ở phần Ngưỡng cảnh báo, không sửa trong chính sách.", "les seuils se règlent dans « Seuils d’alerte », pas dans la politique.", "thresholds are set under Alert thresholds, not in the policy."},
	"settings.err.policy_type":       {"trường %s của chính sách có kiểu dữ liệu sai.", "le champ %s de la politique n’a pas le bon type.", "policy field %s has the wrong type."},
	"settings.err.policy_field":      {"chính sách không có trường %s.", "la politique n’a pas de champ %s.", "the policy has no field %s."},
	"settings.err.policy_duration":   {"trường %s không phải thời lượng; viết ví dụ \"90s\", \"15m\", \"1h\".", "le champ %s n’est pas une durée ; écrivez par ex. « 90s », « 15m », « 1h ».", "field %s is not a duration; write e.g. \"90s\", \"15m\", \"1h\"."},
	"settings.err.policy":            {"chính sách vi phạm quy tắc: %s", "la politique enfreint une règle : %s", "the policy breaks a rule: %s"},
}

func init() {
	for k, m := range settingsMessages {
		messages[k] = m
	}
}
