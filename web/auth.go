package web

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trendwatch/trendwatch/store/clickhouse"
)

// Roles, from the issue: analysts read trends, topics and facts; editors
// also see spread and export; responders work cases and write facts;
// admins do everything, including users, tokens, sources and settings.
const (
	RoleAnalyst   = "analyst"
	RoleEditor    = "editor"
	RoleResponder = "responder"
	RoleAdmin     = "admin"
)

// Roles lists the valid roles, least privileged first.
var Roles = []string{RoleAnalyst, RoleEditor, RoleResponder, RoleAdmin}

// perm is what a route needs; a role is a set of perms.
type perm string

const (
	permPublic perm = ""       // no credentials needed
	permRead   perm = "read"   // trends, topics, timelines, fact search
	permSpread perm = "spread" // spread figures and CSV exports
	permCases  perm = "cases"  // case queue and actions
	permFacts  perm = "facts"  // create, edit, delete, import facts
	permAdmin  perm = "admin"  // users, tokens, sources, thresholds, routes, ingest
)

var rolePerms = map[string]map[perm]bool{
	RoleAnalyst:   {permRead: true},
	RoleEditor:    {permRead: true, permSpread: true},
	RoleResponder: {permRead: true, permCases: true, permFacts: true},
	RoleAdmin:     {permRead: true, permSpread: true, permCases: true, permFacts: true, permAdmin: true},
}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool { _, ok := rolePerms[r]; return ok }

// principal is who is making a request.
type principal struct {
	Name string
	Role string
	// session is the raw session id when the request came with the login
	// cookie; CSRF tokens derive from it and form posts must carry one.
	session string
}

func (p *principal) can(need perm) bool {
	return need == permPublic || (p != nil && rolePerms[p.Role][need])
}

// AuthStore keeps users, tokens and sessions; *clickhouse.Store is one.
type AuthStore interface {
	PutUser(ctx context.Context, u clickhouse.User) error
	Users(ctx context.Context) ([]clickhouse.User, error)
	User(ctx context.Context, name string) (clickhouse.User, error)
	PutToken(ctx context.Context, t clickhouse.Token) error
	Tokens(ctx context.Context) ([]clickhouse.Token, error)
	TokenByHash(ctx context.Context, hash string) (clickhouse.Token, error)
	PutSession(ctx context.Context, s clickhouse.Session) error
	SessionByHash(ctx context.Context, hash string) (clickhouse.Session, error)
	HasCredentials(ctx context.Context) (bool, error)
}

// Password hashing: PBKDF2-HMAC-SHA256 from the standard library (Go 1.24
// crypto/pbkdf2) with OWASP's 2023 iteration count, so no extra module is
// needed; the iteration count is stored with each hash so it can be raised
// later without invalidating existing passwords.
const (
	pbkdf2Iter   = 600_000
	pbkdf2Prefix = "pbkdf2-sha256"
	minPassword  = 10
)

// HashPassword returns the storable hash of a password.
func HashPassword(password string) (string, error) {
	if len(password) < minPassword {
		return "", fmt.Errorf("password must have at least %d characters", minPassword)
	}
	if len(password) > 1024 {
		return "", errors.New("password longer than 1024 bytes")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("cannot draw salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, pbkdf2Iter, 32)
	if err != nil {
		return "", fmt.Errorf("cannot hash password: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", pbkdf2Prefix, pbkdf2Iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// dummyHash is verified against when the user does not exist, so that a
// login for an unknown name takes as long as one for a known name.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not-a-password-of-anyone")
	return h
})

// CheckPassword reports whether password matches hash; malformed hashes
// never match.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != pbkdf2Prefix {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1000 || iter > 10_000_000 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 || len(password) > 1024 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// newSecret returns 32 random bytes, URL-safe encoded: API tokens and
// session ids. They carry 256 bits of entropy, so a fast hash (SHA-256)
// is enough to store them.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// csrfToken binds a form to its session: only the holder of the HttpOnly
// session cookie (which scripts of other origins cannot read) can compute it.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("trendwatch csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

const (
	sessionCookie = "tw_session"
	sessionTTL    = 12 * time.Hour
	// Cached session and token lookups spare ClickHouse a query per
	// request; a logout or revocation on this server drops its entry at
	// once, on other servers within this delay.
	authCacheTTL = 15 * time.Second
)

type cachedPrincipal struct {
	p       principal
	expires time.Time
}

// authenticator resolves requests to principals.
type authenticator struct {
	store    AuthStore
	apiToken string // bootstrap admin token from --api-token; "" for none
	now      func() time.Time
	secure   bool // Secure cookies (behind TLS)

	mu        sync.Mutex
	cache     map[string]cachedPrincipal // by hashed token or session
	hasCreds  bool
	checkedAt time.Time
}

func newAuthenticator(st AuthStore, apiToken string, secure bool, now func() time.Time) *authenticator {
	return &authenticator{store: st, apiToken: apiToken, now: now, secure: secure, cache: map[string]cachedPrincipal{}}
}

// open reports whether no credential is configured at all: the server then
// runs as before auth existed, trusting loopback clients only.
func (a *authenticator) open(ctx context.Context) bool {
	if a.apiToken != "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hasCreds || a.now().Sub(a.checkedAt) < 5*time.Second {
		return !a.hasCreds
	}
	has, err := a.store.HasCredentials(ctx)
	if err != nil {
		return false // fail closed: an unreachable store must not open the server
	}
	a.hasCreds, a.checkedAt = has, a.now()
	return !has
}

func (a *authenticator) credentialsCreated() {
	a.mu.Lock()
	a.hasCreds = true
	a.mu.Unlock()
}

func (a *authenticator) cached(key string) (principal, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.cache[key]
	if !ok || a.now().After(c.expires) {
		delete(a.cache, key)
		return principal{}, false
	}
	return c.p, true
}

func (a *authenticator) remember(key string, p principal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) > 10000 { // bound memory; entries are cheap to reload
		clear(a.cache)
	}
	a.cache[key] = cachedPrincipal{p: p, expires: a.now().Add(authCacheTTL)}
}

func (a *authenticator) forget(key string) {
	a.mu.Lock()
	delete(a.cache, key)
	a.mu.Unlock()
}

var errBadCredentials = errors.New("invalid credentials")

// authenticate returns the request's principal, nil when it carries no
// credentials, or errBadCredentials when it carries wrong ones (a wrong
// token must not silently fall back to anonymous access).
func (a *authenticator) authenticate(r *http.Request) (*principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return nil, errBadCredentials
		}
		if a.apiToken != "" {
			want, got := sha256.Sum256([]byte(a.apiToken)), sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				return &principal{Name: "api-token", Role: RoleAdmin}, nil
			}
		}
		key := "t:" + hashSecret(tok)
		if p, ok := a.cached(key); ok {
			return &p, nil
		}
		t, err := a.store.TokenByHash(r.Context(), hashSecret(tok))
		if errors.Is(err, clickhouse.ErrNotFound) {
			return nil, errBadCredentials
		}
		if err != nil {
			return nil, fmt.Errorf("cannot look the token up: %w", err)
		}
		if t.Revoked || (!t.Expires.IsZero() && a.now().After(t.Expires)) || !ValidRole(t.Role) {
			return nil, errBadCredentials
		}
		p := principal{Name: "token:" + t.Label, Role: t.Role}
		a.remember(key, p)
		return &p, nil
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		key := "s:" + hashSecret(c.Value)
		if p, ok := a.cached(key); ok {
			p.session = c.Value
			return &p, nil
		}
		se, err := a.store.SessionByHash(r.Context(), hashSecret(c.Value))
		if errors.Is(err, clickhouse.ErrNotFound) {
			return nil, nil // stale cookie: treat as logged out
		}
		if err != nil {
			return nil, fmt.Errorf("cannot look the session up: %w", err)
		}
		if se.Revoked || a.now().After(se.Expires) {
			return nil, nil
		}
		u, err := a.store.User(r.Context(), se.Username)
		if err != nil && !errors.Is(err, clickhouse.ErrNotFound) {
			return nil, fmt.Errorf("cannot look the user up: %w", err)
		}
		if err != nil || u.Disabled || !ValidRole(u.Role) {
			return nil, nil
		}
		p := principal{Name: u.Name, Role: u.Role}
		a.remember(key, p)
		p.session = c.Value
		return &p, nil
	}
	if isLoopback(r) && a.open(r.Context()) {
		return &principal{Name: "local", Role: RoleAdmin}, nil
	}
	return nil, nil
}

func isLoopback(r *http.Request) bool {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// login checks a password and opens a session, returning its cookie value.
func (a *authenticator) login(ctx context.Context, name, password string) (string, error) {
	u, err := a.store.User(ctx, name)
	if err != nil && !errors.Is(err, clickhouse.ErrNotFound) {
		return "", fmt.Errorf("cannot look the user up: %w", err)
	}
	if err != nil || u.Disabled {
		CheckPassword(dummyHash(), password)
		return "", errBadCredentials
	}
	if !CheckPassword(u.PasswordHash, password) {
		return "", errBadCredentials
	}
	id := newSecret()
	now := a.now().UTC()
	if err := a.store.PutSession(ctx, clickhouse.Session{Hash: hashSecret(id), Username: u.Name, Created: now, Expires: now.Add(sessionTTL)}); err != nil {
		return "", fmt.Errorf("cannot store the session: %w", err)
	}
	return id, nil
}

func (a *authenticator) logout(ctx context.Context, session string) error {
	h := hashSecret(session)
	a.forget("s:" + h)
	now := a.now().UTC()
	return a.store.PutSession(ctx, clickhouse.Session{Hash: h, Created: now, Expires: now, Revoked: true})
}

func (a *authenticator) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode}
}

// EnsureUser creates or updates a user with a password (the bootstrap
// admin, the users command). An existing user whose hash already matches
// the password is left alone, so restarts do not pile up versions.
func EnsureUser(ctx context.Context, st AuthStore, name, role, password string) error {
	if !ValidRole(role) {
		return fmt.Errorf("role %q is not one of %s", role, strings.Join(Roles, ", "))
	}
	if err := checkUserName(name); err != nil {
		return err
	}
	u, err := st.User(ctx, name)
	switch {
	case err == nil && u.Role == role && !u.Disabled && CheckPassword(u.PasswordHash, password):
		return nil
	case err != nil && !errors.Is(err, clickhouse.ErrNotFound):
		return fmt.Errorf("cannot look user %q up: %w", name, err)
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	created := time.Now().UTC()
	if !u.Created.IsZero() {
		created = u.Created
	}
	if err := st.PutUser(ctx, clickhouse.User{Name: name, Role: role, PasswordHash: h, Created: created}); err != nil {
		return fmt.Errorf("cannot store user %q: %w", name, err)
	}
	return nil
}

func checkUserName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a user name needs 1 to 64 characters")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)) {
			return fmt.Errorf("user name %q may only hold letters, digits and . _ - @", name)
		}
	}
	return nil
}

// NewToken creates an API token and returns its secret (shown once).
func NewToken(ctx context.Context, st AuthStore, label, role, owner string, ttl time.Duration) (string, clickhouse.Token, error) {
	if !ValidRole(role) {
		return "", clickhouse.Token{}, fmt.Errorf("role %q is not one of %s", role, strings.Join(Roles, ", "))
	}
	label = strings.TrimSpace(label)
	if label == "" || len(label) > 100 {
		return "", clickhouse.Token{}, errors.New("a token label needs 1 to 100 characters")
	}
	secret := "tw_" + newSecret()
	now := time.Now().UTC()
	t := clickhouse.Token{Hash: hashSecret(secret), ID: newID(), Label: label, Role: role, Owner: owner, Created: now}
	if ttl > 0 {
		t.Expires = now.Add(ttl)
	}
	if err := st.PutToken(ctx, t); err != nil {
		return "", clickhouse.Token{}, fmt.Errorf("cannot store token: %w", err)
	}
	return secret, t, nil
}
