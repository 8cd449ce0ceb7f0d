package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Auth records: users, API tokens and dashboard sessions (005_auth.sql).
// Like every other table they are append-only versions read with argMax,
// so a re-sent write is harmless and the latest write wins. The statements
// live here rather than in queries.go because this file has its own owner;
// AuthQueries lists them for the engine tests.
const (
	qInsertUser = `INSERT INTO users (name, role, password_hash, disabled, created, version)`
	// args: name x2
	qUsers = `SELECT name, argMax(role, version), argMax(password_hash, version), argMax(disabled, version),
    argMax(created, version)
FROM users WHERE (? = '' OR name = ?) GROUP BY name ORDER BY name`

	qInsertToken = `INSERT INTO api_tokens (hash, id, label, role, owner, created, expires, revoked, version)`
	// args: hash x2
	qTokens = `SELECT hash, argMax(id, version), argMax(label, version), argMax(role, version), argMax(owner, version),
    argMax(created, version), argMax(expires, version), argMax(revoked, version)
FROM api_tokens WHERE (? = '' OR hash = ?) GROUP BY hash ORDER BY hash`

	qInsertSession = `INSERT INTO sessions (hash, username, created, expires, revoked, version)`
	// args: hash
	qSession = `SELECT hash, argMax(username, version), argMax(created, version), argMax(expires, version),
    argMax(revoked, version)
FROM sessions WHERE hash = ? GROUP BY hash`
	// Whether any credential exists decides if the server runs open
	// (loopback-only writes) or enforces login.
	qCountCredentials = `SELECT (SELECT count() FROM users) + (SELECT count() FROM api_tokens)`
)

// AuthQueries returns the auth statements by name, like Queries.
func AuthQueries() map[string]string {
	return map[string]string{
		"insert_user": qInsertUser, "users": qUsers,
		"insert_token": qInsertToken, "tokens": qTokens,
		"insert_session": qInsertSession, "session": qSession,
		"count_credentials": qCountCredentials,
	}
}

// User is a dashboard account. PasswordHash is opaque to the store (the
// web package owns the hash format).
type User struct {
	Name         string
	Role         string
	PasswordHash string
	Disabled     bool
	Created      time.Time
}

// Token is an API token; Hash is the SHA-256 of the secret, hex encoded.
type Token struct {
	Hash    string
	ID      string // public handle for listing and revoking
	Label   string
	Role    string
	Owner   string
	Created time.Time
	Expires time.Time // zero: never
	Revoked bool
}

// Session is a dashboard login; Hash is the SHA-256 of the cookie value.
type Session struct {
	Hash     string
	Username string
	Created  time.Time
	Expires  time.Time
	Revoked  bool
}

func flag(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// PutUser stores a new version of a user.
func (s *Store) PutUser(ctx context.Context, u User) error {
	if u.Name == "" {
		return errors.New("cannot put user: empty name")
	}
	b, err := s.prepare(ctx, "users", qInsertUser)
	if err != nil {
		return err
	}
	if err := b.append(u.Name, u.Role, u.PasswordHash, flag(u.Disabled), dt(u.Created), s.nextVersion()); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// Users lists every user (disabled ones too) by name.
func (s *Store) Users(ctx context.Context) ([]User, error) { return s.users(ctx, "") }

// User returns one user, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	if name == "" {
		return User{}, ErrNotFound
	}
	us, err := s.users(ctx, name)
	if err != nil {
		return User{}, err
	}
	if len(us) == 0 {
		return User{}, ErrNotFound
	}
	return us[0], nil
}

func (s *Store) users(ctx context.Context, name string) ([]User, error) {
	rows, err := s.conn.Query(ctx, qUsers, name, name)
	if err != nil {
		return nil, fmt.Errorf("cannot query users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var disabled uint8
		if err := rows.Scan(&u.Name, &u.Role, &u.PasswordHash, &disabled, &u.Created); err != nil {
			return nil, fmt.Errorf("cannot read users: %w", err)
		}
		u.Disabled, u.Created = disabled == 1, zeroEpoch(u.Created)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read users: %w", err)
	}
	return out, nil
}

// PutToken stores a new version of a token (revoking is Revoked = true).
func (s *Store) PutToken(ctx context.Context, t Token) error {
	if t.Hash == "" || t.ID == "" {
		return errors.New("cannot put token: empty hash or id")
	}
	b, err := s.prepare(ctx, "api_tokens", qInsertToken)
	if err != nil {
		return err
	}
	if err := b.append(t.Hash, t.ID, t.Label, t.Role, t.Owner, dt(t.Created), dt(t.Expires), flag(t.Revoked), s.nextVersion()); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// Tokens lists every token (revoked ones too).
func (s *Store) Tokens(ctx context.Context) ([]Token, error) { return s.tokens(ctx, "") }

// TokenByHash returns the token with that hash, or ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, error) {
	if hash == "" {
		return Token{}, ErrNotFound
	}
	ts, err := s.tokens(ctx, hash)
	if err != nil {
		return Token{}, err
	}
	if len(ts) == 0 {
		return Token{}, ErrNotFound
	}
	return ts[0], nil
}

func (s *Store) tokens(ctx context.Context, hash string) ([]Token, error) {
	rows, err := s.conn.Query(ctx, qTokens, hash, hash)
	if err != nil {
		return nil, fmt.Errorf("cannot query tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var revoked uint8
		if err := rows.Scan(&t.Hash, &t.ID, &t.Label, &t.Role, &t.Owner, &t.Created, &t.Expires, &revoked); err != nil {
			return nil, fmt.Errorf("cannot read tokens: %w", err)
		}
		t.Revoked, t.Created, t.Expires = revoked == 1, zeroEpoch(t.Created), zeroEpoch(t.Expires)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read tokens: %w", err)
	}
	return out, nil
}

// PutSession stores a new version of a session (logout is Revoked = true).
func (s *Store) PutSession(ctx context.Context, se Session) error {
	if se.Hash == "" {
		return errors.New("cannot put session: empty hash")
	}
	b, err := s.prepare(ctx, "sessions", qInsertSession)
	if err != nil {
		return err
	}
	if err := b.append(se.Hash, se.Username, dt(se.Created), dt(se.Expires), flag(se.Revoked), s.nextVersion()); err != nil {
		b.batch.Abort()
		return err
	}
	return b.send()
}

// SessionByHash returns the session with that hash, or ErrNotFound.
func (s *Store) SessionByHash(ctx context.Context, hash string) (Session, error) {
	rows, err := s.conn.Query(ctx, qSession, hash)
	if err != nil {
		return Session{}, fmt.Errorf("cannot query session: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Session{}, fmt.Errorf("cannot read session: %w", err)
		}
		return Session{}, ErrNotFound
	}
	var se Session
	var revoked uint8
	if err := rows.Scan(&se.Hash, &se.Username, &se.Created, &se.Expires, &revoked); err != nil {
		return Session{}, fmt.Errorf("cannot read session: %w", err)
	}
	se.Revoked, se.Created, se.Expires = revoked == 1, zeroEpoch(se.Created), zeroEpoch(se.Expires)
	return se, nil
}

// HasCredentials reports whether any user or token was ever created.
func (s *Store) HasCredentials(ctx context.Context) (bool, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, qCountCredentials).Scan(&n); err != nil {
		return false, fmt.Errorf("cannot count credentials: %w", err)
	}
	return n > 0, nil
}
