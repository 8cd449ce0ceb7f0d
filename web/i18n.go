package web

import (
	"net/http"

	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// UI languages: Vietnamese is the default (the press centre's), then French
// and English. Every key must exist in all three; TestMessagesComplete
// checks it.
var uiLangs = []string{"vi", "fr", "en"}

const (
	defaultUILang   = "vi"
	langCookie      = "tw_lang"
	tzCookie        = "tw_tz"
	DefaultTimeZone = "Asia/Ho_Chi_Minh"
)

var messages = map[string][3]string{
	// key: {vi, fr, en}
	"app":                        {"Theo dõi xu hướng", "Veille des tendances", "Trend watch"},
	"nav.trends":                 {"Xu hướng", "Tendances", "Trends"},
	"nav.cases":                  {"Vụ việc", "Dossiers", "Cases"},
	"nav.facts":                  {"Kiểm chứng", "Vérifications", "Facts"},
	"nav.sources":                {"Nguồn", "Sources", "Sources"},
	"nav.settings":               {"Cài đặt", "Réglages", "Settings"},
	"logout":                     {"Đăng xuất", "Se déconnecter", "Log out"},
	"login":                      {"Đăng nhập", "Connexion", "Log in"},
	"username":                   {"Tên đăng nhập", "Identifiant", "User name"},
	"password":                   {"Mật khẩu", "Mot de passe", "Password"},
	"login.failed":               {"Sai tên đăng nhập hoặc mật khẩu.", "Identifiant ou mot de passe incorrect.", "Wrong user name or password."},
	"login.busy":                 {"Quá nhiều lần thử; hãy đợi một chút.", "Trop de tentatives ; patientez un peu.", "Too many attempts; wait a moment."},
	"role":                       {"Vai trò", "Rôle", "Role"},
	"window":                     {"Khoảng thời gian", "Fenêtre", "Window"},
	"language":                   {"Ngôn ngữ", "Langue", "Language"},
	"platform":                   {"Nền tảng", "Plateforme", "Platform"},
	"sort":                       {"Sắp xếp", "Tri", "Sort"},
	"sort.posts":                 {"Nhiều bài nhất", "Plus de messages", "Most posts"},
	"sort.burst":                 {"Tăng nhanh nhất", "Hausse la plus forte", "Fastest rising"},
	"any":                        {"Tất cả", "Toutes", "Any"},
	"apply":                      {"Áp dụng", "Appliquer", "Apply"},
	"topic":                      {"Chủ đề", "Sujet", "Topic"},
	"posts":                      {"Bài đăng", "Messages", "Posts"},
	"authors":                    {"Tác giả", "Auteurs", "Authors"},
	"baseline":                   {"Mức nền", "Référence", "Baseline"},
	"burst":                      {"Tốc độ tăng", "Accélération", "Burst"},
	"trend":                      {"Diễn biến", "Évolution", "Trend"},
	"trends.empty":               {"Không có chủ đề nào trong khoảng này.", "Aucun sujet sur cette période.", "No topics in this window."},
	"timeline":                   {"Dòng thời gian", "Chronologie", "Timeline"},
	"spread":                     {"Lan truyền", "Propagation", "Spread"},
	"cumulative":                 {"Tích lũy", "Cumul", "Cumulative"},
	"sources":                    {"Nguồn", "Sources", "Sources"},
	"domains":                    {"Tên miền", "Domaines", "Domains"},
	"languages":                  {"Ngôn ngữ", "Langues", "Languages"},
	"platforms":                  {"Nền tảng", "Plateformes", "Platforms"},
	"first_seen":                 {"Xuất hiện lần đầu", "Première apparition", "First seen"},
	"last_seen":                  {"Lần cuối", "Dernière apparition", "Last seen"},
	"samples":                    {"Bài mẫu", "Exemples de messages", "Sample posts"},
	"linked_facts":               {"Kiểm chứng liên quan", "Vérifications liées", "Linked facts"},
	"export_csv":                 {"Xuất CSV", "Exporter en CSV", "Export CSV"},
	"none":                       {"Không có", "Aucun", "None"},
	"state":                      {"Trạng thái", "État", "State"},
	"severity":                   {"Mức độ", "Gravité", "Severity"},
	"claim":                      {"Luận điểm", "Affirmation", "Claim"},
	"verdict":                    {"Kết luận", "Verdict", "Verdict"},
	"opened":                     {"Mở lúc", "Ouvert", "Opened"},
	"updated":                    {"Cập nhật", "Mis à jour", "Updated"},
	"acknowledge":                {"Tiếp nhận", "Prendre en charge", "Acknowledge"},
	"snooze":                     {"Tạm hoãn", "Reporter", "Snooze"},
	"resolve":                    {"Đóng vụ việc", "Clore", "Resolve"},
	"reopen":                     {"Mở lại", "Rouvrir", "Reopen"},
	"note":                       {"Ghi chú", "Note", "Note"},
	"add_note":                   {"Thêm ghi chú", "Ajouter la note", "Add note"},
	"confirm_match":              {"Đúng tin này", "Confirmer", "Confirm match"},
	"confirm_match.hint":         {"Xác nhận bài này lặp lại tin đã kiểm chứng, để nhận ra các bài sau nhanh hơn", "Confirmer que ce message reprend l’affirmation vérifiée, pour reconnaître les suivants plus vite", "Confirm this post restates the checked claim, so later ones are recognised sooner"},
	"appearance.saved":           {"Đã ghi nhận; các bài lặp lại sau sẽ được nhận ra nhanh hơn.", "Enregistré ; les prochaines reprises seront reconnues plus vite.", "Saved; later restatements will be recognised sooner."},
	"cases.empty":                {"Không có vụ việc nào.", "Aucun dossier.", "No cases."},
	"action.sent":                {"Đã gửi yêu cầu; trạng thái sẽ cập nhật sau vài giây.", "Demande envoyée ; l’état se met à jour sous peu.", "Request sent; the state updates in a few seconds."},
	"state.open":                 {"Mới", "Ouvert", "Open"},
	"state.acknowledged":         {"Đã tiếp nhận", "Pris en charge", "Acknowledged"},
	"state.snoozed":              {"Tạm hoãn", "Reporté", "Snoozed"},
	"state.resolved":             {"Đã đóng", "Clos", "Resolved"},
	"search":                     {"Tìm kiếm", "Rechercher", "Search"},
	"new_fact":                   {"Thêm kiểm chứng", "Nouvelle vérification", "New fact"},
	"edit":                       {"Sửa", "Modifier", "Edit"},
	"save":                       {"Lưu", "Enregistrer", "Save"},
	"title":                      {"Tiêu đề", "Titre", "Title"},
	"summary":                    {"Tóm tắt", "Résumé", "Summary"},
	"publisher":                  {"Đơn vị kiểm chứng", "Éditeur", "Publisher"},
	"link":                       {"Liên kết", "Lien", "Link"},
	"import":                     {"Nhập tệp", "Importer un fichier", "Import a file"},
	"import.help":                {"JSON, JSONL, CSV hoặc ClaimReview.", "JSON, JSONL, CSV ou ClaimReview.", "JSON, JSONL, CSV or ClaimReview."},
	"facts.empty":                {"Không tìm thấy kiểm chứng nào.", "Aucune vérification trouvée.", "No facts found."},
	"saved":                      {"Đã lưu; các bộ phân tích sẽ dùng ngay trong giây lát.", "Enregistré ; les analyseurs l’utilisent d’ici quelques secondes.", "Saved; analyzers use it within seconds."},
	"imported":                   {"Đã nhập", "Importées", "Imported"},
	"next":                       {"Trang sau", "Page suivante", "Next page"},
	"prev":                       {"Trang trước", "Page précédente", "Previous page"},
	"kind":                       {"Loại", "Type", "Kind"},
	"failures":                   {"Lỗi liên tiếp", "Échecs consécutifs", "Failures"},
	"last_success":               {"Thành công gần nhất", "Dernier succès", "Last success"},
	"last_error":                 {"Lỗi gần nhất", "Dernière erreur", "Last error"},
	"next_poll":                  {"Lần lấy tiếp", "Prochaine collecte", "Next poll"},
	"items_per_day":              {"Bài/ngày", "Éléments/jour", "Items/day"},
	"healthy":                    {"Ổn định", "Sain", "Healthy"},
	"failing":                    {"Đang lỗi", "En échec", "Failing"},
	"unknown":                    {"Chưa rõ", "Inconnu", "Unknown"},
	"silent":                     {"Im lặng bất thường", "Silencieuse", "Silent"},
	"pending":                    {"Chờ lấy lần đầu", "En attente", "Pending"},
	"paused":                     {"Tạm dừng", "En pause", "Paused"},
	"pause":                      {"Tạm dừng", "Suspendre", "Pause"},
	"resume":                     {"Tiếp tục", "Reprendre", "Resume"},
	"remove":                     {"Xóa", "Supprimer", "Remove"},
	"remove.confirm":             {"Xóa nguồn này?", "Supprimer cette source ?", "Remove this source?"},
	"name":                       {"Tên", "Nom", "Name"},
	"address":                    {"Địa chỉ", "Adresse", "Address"},
	"source.add":                 {"Thêm nguồn", "Ajouter une source", "Add a source"},
	"source.add.help":            {"Địa chỉ nội bộ (mạng riêng, localhost) chỉ lấy được khi có trong --fetch-allow.", "Les adresses privées (intranet, localhost) ne sont collectées que si --fetch-allow les autorise.", "Private addresses (intranet, localhost) are fetched only when --fetch-allow allows them."},
	"source.added":               {"Đã thêm nguồn; lần lấy đầu tiên diễn ra trong ít phút.", "Source ajoutée ; première collecte d’ici quelques minutes.", "Source added; the first poll runs within minutes."},
	"source.paused":              {"Đã tạm dừng nguồn.", "Source suspendue.", "Source paused."},
	"source.resumed":             {"Nguồn đã hoạt động lại.", "Source reprise.", "Source resumed."},
	"source.deleted":             {"Đã xóa nguồn.", "Source supprimée.", "Source removed."},
	"source.invalid":             {"Địa chỉ phải bắt đầu bằng http:// hoặc https://.", "L’adresse doit commencer par http:// ou https://.", "The address must start with http:// or https://."},
	"source.err.blocked":         {"Địa chỉ nội bộ bị chặn; thêm vào --fetch-allow nếu tin cậy", "Adresse privée bloquée ; ajoutez-la à --fetch-allow si elle est sûre", "Private address blocked; add it to --fetch-allow if trusted"},
	"source.err.robots":          {"robots.txt của trang không cho phép thu thập", "Le robots.txt du site interdit la collecte", "The site's robots.txt forbids collecting"},
	"source.err.too_large":       {"Nội dung quá lớn", "Réponse trop volumineuse", "Response too large"},
	"source.err.unsupported_url": {"Địa chỉ không hợp lệ", "Adresse invalide", "Invalid address"},
	"source.err.http":            {"Máy chủ trả lời lỗi HTTP %s", "Le serveur a répondu HTTP %s", "The server answered HTTP %s"},
	"source.err.timeout":         {"Hết thời gian chờ máy chủ", "Le serveur n’a pas répondu à temps", "The server did not answer in time"},
	"source.err.dns":             {"Không tìm thấy tên miền", "Nom de domaine introuvable", "Domain name not found"},
	"source.err.refused":         {"Máy chủ từ chối kết nối", "Connexion refusée", "Connection refused"},
	"source.err.tls":             {"Lỗi chứng chỉ bảo mật (TLS)", "Erreur de certificat (TLS)", "Certificate (TLS) error"},
	"source.err.parse":           {"Nội dung không phải RSS/Atom/JSON Feed", "Le contenu n’est pas un flux RSS/Atom/JSON", "Not an RSS/Atom/JSON feed"},
	"source.err.other":           {"Lỗi khi lấy dữ liệu", "Erreur de collecte", "Fetch error"},
	"platform.rss":               {"Báo điện tử (RSS)", "Flux RSS", "News feeds (RSS)"},
	"platform.web":               {"Trang web", "Sites web", "Web pages"},
	"platform.push":              {"Đối tác gửi", "Envoi partenaire", "Partner push"},
	"role.analyst":               {"Phân tích viên", "Analyste", "Analyst"},
	"role.editor":                {"Biên tập viên", "Rédacteur", "Editor"},
	"role.responder":             {"Phản ứng nhanh", "Réponse rapide", "Responder"},
	"role.admin":                 {"Quản trị", "Administrateur", "Admin"},
	"lang.vi":                    {"Tiếng Việt", "Vietnamien", "Vietnamese"},
	"lang.fr":                    {"Tiếng Pháp", "Français", "French"},
	"lang.en":                    {"Tiếng Anh", "Anglais", "English"},
	"lang.und":                   {"Chưa xác định", "Indéterminée", "Undetermined"},
	"fact_id":                    {"Mã kiểm chứng", "Identifiant", "Fact id"},
	"storage":                    {"Lưu trữ", "Stockage", "Storage"},
	"retention.raw":              {"Bài gốc giữ", "Messages bruts gardés", "Raw posts kept"},
	"retention.aggregates":       {"Số liệu tổng hợp giữ", "Agrégats gardés", "Aggregates kept"},
	"retention.forever":          {"mãi mãi", "toujours", "for ever"},
	"retention.kept":             {"kiểm chứng, vụ việc, nguồn: giữ mãi", "vérifications, dossiers, sources : toujours gardés", "facts, cases, sources: kept for ever"},
	"retention.class":            {"Loại lưu trữ", "Classe", "Class"},
	"retention.config":           {"Đặt bằng --retain-raw-days và --retain-aggregates-days; dữ liệu hết hạn được xóa theo từng phân vùng mỗi giờ.", "Se règle avec --retain-raw-days et --retain-aggregates-days ; les partitions expirées sont supprimées toutes les heures.", "Set with --retain-raw-days and --retain-aggregates-days; expired partitions are dropped every hour."},
	"class.raw":                  {"Bài gốc", "Brut", "Raw"},
	"class.aggregates":           {"Tổng hợp", "Agrégats", "Aggregates"},
	"class.kept":                 {"Giữ mãi", "Gardé", "Kept"},
	"days":                       {"ngày", "jours", "days"},
	"table":                      {"Bảng", "Table", "Table"},
	"rows":                       {"Số dòng", "Lignes", "Rows"},
	"disk":                       {"Dung lượng", "Disque", "Disk"},
	"total":                      {"Tổng", "Total", "Total"},
	"tags":                       {"Thẻ", "Étiquettes", "Tags"},
	"users.empty":                {"Chưa có người dùng nào. Khi chưa có người dùng hay mã truy cập, chỉ truy cập từ chính máy chủ được phép; tạo người dùng bên dưới hoặc bằng lệnh trendwatch users add.", "Aucun utilisateur. Tant qu’il n’y a ni utilisateur ni jeton, seul l’accès depuis la machine elle-même est permis ; créez-en ci-dessous ou avec trendwatch users add.", "No users yet. Until a user or token exists, only access from the machine itself is allowed; add one below or with trendwatch users add."},
	"platform.feed":              {"RSS/Atom", "RSS/Atom", "RSS/Atom"},
	"platform.crawl":             {"Thu thập trang web", "Exploration de site", "Site crawl"},
	"platform.mastodon":          {"Mastodon", "Mastodon", "Mastodon"},
	"platform.bluesky":           {"Bluesky", "Bluesky", "Bluesky"},
	"platform.reddit":            {"Reddit", "Reddit", "Reddit"},
	"platform.telegram":          {"Telegram", "Telegram", "Telegram"},
	"platform.youtube":           {"YouTube", "YouTube", "YouTube"},
	"sources.empty":              {"Chưa có nguồn nào.", "Aucune source.", "No sources yet."},
	"thresholds":                 {"Ngưỡng cảnh báo theo ngôn ngữ", "Seuils d’alerte par langue", "Alert thresholds per language"},
	"routes":                     {"Định tuyến cảnh báo", "Routage des alertes", "Alert routes"},
	"routes.default":             {"Mặc định: gửi tới mọi kênh.", "Par défaut : tous les canaux.", "Default: every channel."},
	"users":                      {"Người dùng", "Utilisateurs", "Users"},
	"tokens":                     {"Mã truy cập API", "Jetons d’API", "API tokens"},
	"label":                      {"Nhãn", "Libellé", "Label"},
	"create":                     {"Tạo", "Créer", "Create"},
	"revoke":                     {"Thu hồi", "Révoquer", "Revoke"},
	"revoked":                    {"Đã thu hồi", "Révoqué", "Revoked"},
	"disabled":                   {"Bị khóa", "Désactivé", "Disabled"},
	"token.once":                 {"Mã mới (chỉ hiện một lần):", "Nouveau jeton (affiché une seule fois) :", "New token (shown once):"},
	"timezone":                   {"Múi giờ", "Fuseau horaire", "Time zone"},
	"times_in":                   {"Giờ hiển thị theo", "Heures affichées en", "Times shown in"},
	"forbidden":                  {"Vai trò của bạn không được phép xem trang này.", "Votre rôle ne permet pas d’accéder à cette page.", "Your role may not open this page."},
	"csrf":                       {"Phiên biểu mẫu đã hết hạn; hãy tải lại trang.", "Le formulaire a expiré ; rechargez la page.", "The form expired; reload the page."},
	"not_found":                  {"Không tìm thấy.", "Introuvable.", "Not found."},
	"error":                      {"Lỗi", "Erreur", "Error"},
	"unavailable":                {"Kho dữ liệu chưa phản hồi; hãy thử lại.", "La base ne répond pas ; réessayez.", "The store does not answer; try again."},
	"bad_input":                  {"Dữ liệu không hợp lệ", "Saisie invalide", "Invalid input"},
	"sev.critical":               {"Nghiêm trọng", "Critique", "Critical"},
	"sev.high":                   {"Cao", "Élevée", "High"},
	"sev.medium":                 {"Trung bình", "Moyenne", "Medium"},
	"sev.low":                    {"Thấp", "Faible", "Low"},
	"verdict.false":              {"Sai", "Faux", "False"},
	"verdict.misleading":         {"Gây hiểu lầm", "Trompeur", "Misleading"},
	"verdict.mixed":              {"Đúng một phần", "Mitigé", "Mixed"},
	"verdict.true":               {"Đúng", "Vrai", "True"},
	"verdict.unproven":           {"Chưa kiểm chứng được", "Non prouvé", "Unproven"},
	"hours":                      {"giờ", "h", "h"},
	"sort.score":                 {"Nổi bật nhất", "Hausse la plus significative", "Most significant rise"},
	"trends.at":                  {"Tại thời điểm", "À l'instant", "At"},
	"trends.now":                 {"bây giờ", "maintenant", "now"},
	"trends.bad_to":              {"Thời điểm (to) phải là ngày giờ, ví dụ 2026-08-17T10:00.", "L'instant (to) doit être une date et une heure, par exemple 2026-08-17T10:00.", "The moment (to) must be a date and time such as 2026-08-17T10:00."},
	"score":                      {"Mức nổi bật", "Significativité", "Score"},
	"score.help":                 {"Tỷ số hợp lý Poisson (G²) của số bài so với mức nền: trên 10 là rất khó xảy ra ngẫu nhiên", "Rapport de vraisemblance de Poisson (G²) des messages face à la référence : au-dessus de 10, très improbable par hasard", "Poisson likelihood ratio (G²) of the posts against the baseline: above 10 is very unlikely by chance"},
	"baseline.help":              {"Số bài dự kiến trong khoảng này, theo lịch sử của chủ đề và bảng nền", "Messages attendus sur cette période, d'après l'historique du sujet et la table de fond", "Posts expected in this window, from the topic's history and the background table"},
	"sources.short":              {"nguồn", "sources", "sources"},
	"authors_or_sources":         {"Tác giả / nguồn", "Auteurs / sources", "Authors / sources"},
	"kind.story":                 {"Sự kiện", "Événement", "Story"},
	"kind.fact":                  {"Kiểm chứng", "Vérification", "Fact"},
	"kind.phrase":                {"Cụm từ", "Expression", "Phrase"},
	"kind.entity":                {"Tên riêng", "Entité", "Entity"},
	"kind.hashtag":               {"Hashtag", "Hashtag", "Hashtag"},
	"kind.url":                   {"Liên kết", "Lien", "Link"},
	"unlabelled":                 {"(chưa có nhãn)", "(sans libellé)", "(no label)"},
}

func langIndex(l string) int {
	for i, x := range uiLangs {
		if x == l {
			return i
		}
	}
	return 0
}

// translate returns the message in lang, the key itself when unknown (a
// visible gap rather than an empty label).
func translate(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	return m[langIndex(lang)]
}

// uiLang picks the UI language: ?hl= (remembered in a cookie), then the
// cookie, then Vietnamese. Accept-Language is ignored on purpose: the
// issue makes Vietnamese the default whatever the browser's locale.
func uiLang(w http.ResponseWriter, r *http.Request) string {
	if hl := r.URL.Query().Get("hl"); validUILang(hl) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: hl, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		return hl
	}
	if c, err := r.Cookie(langCookie); err == nil && validUILang(c.Value) {
		return c.Value
	}
	return defaultUILang
}

func validUILang(l string) bool {
	for _, x := range uiLangs {
		if x == l {
			return true
		}
	}
	return false
}

// RoleName, LangName and PlatformName say a stored code in the page's
// language; an unknown code shows as itself.
func (v *view) RoleName(role string) string { return v.named("role.", role) }

func (v *view) LangName(code string) string {
	if code == "" {
		code = "und"
	}
	return v.named("lang.", code)
}

func (v *view) PlatformName(p string) string { return v.named("platform.", p) }

func (v *view) named(prefix, code string) string {
	if _, ok := messages[prefix+code]; ok {
		return v.T(prefix + code)
	}
	return code
}

// Named returns counts whose keys (platform or language codes) are said
// in the page's language, for the charts; prefix is "platform." or
// "lang.".
func (v *view) Named(prefix string, cs []clickhouse.Count) []clickhouse.Count {
	out := make([]clickhouse.Count, len(cs))
	for i, c := range cs {
		key := c.Key
		if key == "" && prefix == "lang." {
			key = "und"
		}
		out[i] = clickhouse.Count{Key: v.named(prefix, key), Posts: c.Posts}
	}
	return out
}
