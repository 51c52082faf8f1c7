package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"parley/internal/store"
)

// The SQL of accounts, sessions and tokens. An insert that meets an existing
// key does nothing, and the store reports store.ErrConflict.
const (
	sqlCreateAccount = `INSERT INTO accounts (name, role, party, recipient, password, created, disabled)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlAccount       = `SELECT name, role, party, recipient, created, disabled, password FROM accounts WHERE name = ?`
	sqlListAccounts  = `SELECT name, role, party, recipient, created, disabled, password FROM accounts ORDER BY name`
	sqlUpdateAccount = `UPDATE accounts SET role = ?, party = ?, recipient = ?, disabled = ? WHERE name = ?`
	sqlSetPassword   = `UPDATE accounts SET password = ? WHERE name = ?`
	sqlAccountExists = `SELECT count(*) FROM accounts WHERE name = ?`

	sqlCreateSession = `INSERT INTO sessions (hash, account, csrf, created, expires) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlSession       = `SELECT hash, account, csrf, created, expires FROM sessions WHERE hash = ?`
	sqlDeleteSession = `DELETE FROM sessions WHERE hash = ?`
	sqlDeleteAll     = `DELETE FROM sessions WHERE account = ?`

	sqlCreateToken = `INSERT INTO tokens (hash, id, account, label, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlToken       = `SELECT hash, id, account, label, created FROM tokens WHERE hash = ?`
	sqlTokens      = `SELECT hash, id, account, label, created FROM tokens WHERE account = ? ORDER BY created, rowid`
	sqlDeleteToken = `DELETE FROM tokens WHERE account = ? AND id = ?`
)

// accountTime is how the account tables write times: RFC 3339 in UTC with
// all nine fractional digits, so that text order is time order.
const accountTime = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(accountTime) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// exec runs a statement that changes rows and returns how many it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CreateAccount stores a new account with its password hash, or returns
// store.ErrConflict if the name is taken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account, passwordHash string) error {
	n, err := s.exec(ctx, sqlCreateAccount, a.Name, a.Role, a.Party, a.Recipient, passwordHash, formatTime(a.Created), a.Disabled)
	if err != nil {
		return fmt.Errorf("create account %q: %w", a.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("create account %q: the name is taken: %w", a.Name, store.ErrConflict)
	}
	return nil
}

// Account returns the account called name and its password hash.
func (s *Store) Account(ctx context.Context, name string) (store.Account, string, error) {
	st, err := s.prepared(ctx, sqlAccount)
	if err != nil {
		return store.Account{}, "", fmt.Errorf("account %q: %w", name, err)
	}
	a, hash, err := scanAccount(st.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Account{}, "", fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, "", fmt.Errorf("account %q: %w", name, err)
	}
	return a, hash, nil
}

// ListAccounts returns every account, by name.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	st, err := s.prepared(ctx, sqlListAccounts)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	rows, err := st.QueryContext(ctx)
	out, err := collect(rows, err, func(r scanner) (store.Account, error) {
		a, _, err := scanAccount(r)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// A scanner is a row, of a query or of a query of one row.
type scanner interface{ Scan(...any) error }

// collect reads every row of a query with scan. It takes the query's error
// too, so that a caller wraps one error for both.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func scanAccount(row scanner) (store.Account, string, error) {
	var (
		a             store.Account
		created, hash string
	)
	if err := row.Scan(&a.Name, &a.Role, &a.Party, &a.Recipient, &created, &a.Disabled, &hash); err != nil {
		return a, "", err
	}
	var err error
	a.Created, err = parseTime(created)
	return a, hash, err
}

// UpdateAccount replaces the role, party, recipient and disabled flag of
// the account called a.Name.
func (s *Store) UpdateAccount(ctx context.Context, a store.Account) error {
	n, err := s.exec(ctx, sqlUpdateAccount, a.Role, a.Party, a.Recipient, a.Disabled, a.Name)
	if err != nil {
		return fmt.Errorf("update account %q: %w", a.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("update account %q: %w", a.Name, store.ErrNotFound)
	}
	return nil
}

// SetPassword replaces the password hash of the account called name.
func (s *Store) SetPassword(ctx context.Context, name, passwordHash string) error {
	n, err := s.exec(ctx, sqlSetPassword, passwordHash, name)
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("set password of %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// insertFor runs insert, an INSERT … ON CONFLICT DO NOTHING of something
// that belongs to account, in a transaction that first checks the account
// exists: store.ErrNotFound if it does not, store.ErrConflict if the insert
// met an existing key.
func (s *Store) insertFor(ctx context.Context, account, insert string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	exists, err := s.prepared(ctx, sqlAccountExists)
	if err != nil {
		return err
	}
	var n int
	if err := tx.StmtContext(ctx, exists).QueryRowContext(ctx, account).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("account %q: %w", account, store.ErrNotFound)
	}
	ins, err := s.prepared(ctx, insert)
	if err != nil {
		return err
	}
	res, err := tx.StmtContext(ctx, ins).ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	if added, err := res.RowsAffected(); err != nil {
		return err
	} else if added == 0 {
		return fmt.Errorf("already stored: %w", store.ErrConflict)
	}
	return tx.Commit()
}

// CreateSession stores a new session: store.ErrNotFound if its account does
// not exist, store.ErrConflict if its hash is already stored.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	err := s.insertFor(ctx, ss.Account, sqlCreateSession,
		ss.Hash[:], ss.Account, ss.CSRF, formatTime(ss.Created), formatTime(ss.Expires))
	if err != nil {
		return fmt.Errorf("create session for %q: %w", ss.Account, err)
	}
	return nil
}

// Session returns the session whose cookie hashes to hash, expired or not.
func (s *Store) Session(ctx context.Context, hash [32]byte) (store.Session, error) {
	st, err := s.prepared(ctx, sqlSession)
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	var (
		ss               store.Session
		h                []byte
		created, expires string
	)
	err = st.QueryRowContext(ctx, hash[:]).Scan(&h, &ss.Account, &ss.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	copy(ss.Hash[:], h)
	if ss.Created, err = parseTime(created); err != nil {
		return store.Session{}, fmt.Errorf("session of %q: created: %w", ss.Account, err)
	}
	if ss.Expires, err = parseTime(expires); err != nil {
		return store.Session{}, fmt.Errorf("session of %q: expires: %w", ss.Account, err)
	}
	return ss, nil
}

// DeleteSession deletes one session, or returns store.ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, hash [32]byte) error {
	n, err := s.exec(ctx, sqlDeleteSession, hash[:])
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteSessions deletes every session of account (none is not an error).
func (s *Store) DeleteSessions(ctx context.Context, account string) error {
	if _, err := s.exec(ctx, sqlDeleteAll, account); err != nil {
		return fmt.Errorf("delete sessions of %q: %w", account, err)
	}
	return nil
}

// CreateToken stores a new API token: store.ErrNotFound if its account does
// not exist, store.ErrConflict if its hash or public id is already stored.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	err := s.insertFor(ctx, t.Account, sqlCreateToken, t.Hash[:], t.ID, t.Account, t.Label, formatTime(t.Created))
	if err != nil {
		return fmt.Errorf("create token %s for %q: %w", t.ID, t.Account, err)
	}
	return nil
}

// Token returns the token whose secret hashes to hash.
func (s *Store) Token(ctx context.Context, hash [32]byte) (store.Token, error) {
	st, err := s.prepared(ctx, sqlToken)
	if err != nil {
		return store.Token{}, fmt.Errorf("token: %w", err)
	}
	t, err := scanToken(st.QueryRowContext(ctx, hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// Tokens returns the tokens of account, oldest first.
func (s *Store) Tokens(ctx context.Context, account string) ([]store.Token, error) {
	st, err := s.prepared(ctx, sqlTokens)
	if err != nil {
		return nil, fmt.Errorf("tokens of %q: %w", account, err)
	}
	rows, err := st.QueryContext(ctx, account)
	out, err := collect(rows, err, scanToken)
	if err != nil {
		return nil, fmt.Errorf("tokens of %q: %w", account, err)
	}
	return out, nil
}

func scanToken(row scanner) (store.Token, error) {
	var (
		t       store.Token
		h       []byte
		created string
	)
	if err := row.Scan(&h, &t.ID, &t.Account, &t.Label, &created); err != nil {
		return t, err
	}
	copy(t.Hash[:], h)
	var err error
	t.Created, err = parseTime(created)
	return t, err
}

// DeleteToken revokes the token of account with the public id, or returns
// store.ErrNotFound if account has no such token.
func (s *Store) DeleteToken(ctx context.Context, account, id string) error {
	n, err := s.exec(ctx, sqlDeleteToken, account, id)
	if err != nil {
		return fmt.Errorf("delete token %s of %q: %w", id, account, err)
	}
	if n == 0 {
		return fmt.Errorf("delete token %s of %q: %w", id, account, store.ErrNotFound)
	}
	return nil
}
