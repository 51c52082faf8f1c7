package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
)

// The SQL of accounts, sessions and tokens. An insert that meets an existing
// key does nothing, and the store reports store.ErrConflict. Times are kept
// to the microsecond, PostgreSQL's precision.
const (
	sqlCreateAccount = `INSERT INTO accounts (name, role, party, recipient, password, created, disabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`
	sqlAccount       = `SELECT name, role, party, recipient, created, disabled, password FROM accounts WHERE name = $1`
	sqlListAccounts  = `SELECT name, role, party, recipient, created, disabled, password FROM accounts ORDER BY name`
	sqlUpdateAccount = `UPDATE accounts SET role = $1, party = $2, recipient = $3, disabled = $4 WHERE name = $5`
	sqlSetPassword   = `UPDATE accounts SET password = $1 WHERE name = $2`
	// Locks the account, so that it cannot go before what is made for it
	// is stored.
	sqlLockAccount = `SELECT true FROM accounts WHERE name = $1 FOR KEY SHARE`

	sqlCreateSession = `INSERT INTO sessions (hash, account, csrf, created, expires) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	sqlSession       = `SELECT hash, account, csrf, created, expires FROM sessions WHERE hash = $1`
	sqlDeleteSession = `DELETE FROM sessions WHERE hash = $1`
	sqlDeleteAll     = `DELETE FROM sessions WHERE account = $1`

	sqlCreateToken = `INSERT INTO tokens (hash, id, account, label, created) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	sqlToken       = `SELECT hash, id, account, label, created FROM tokens WHERE hash = $1`
	sqlTokens      = `SELECT hash, id, account, label, created FROM tokens WHERE account = $1 ORDER BY created, seq`
	sqlDeleteToken = `DELETE FROM tokens WHERE account = $1 AND id = $2`
)

// exec runs a statement that changes rows and returns how many it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// CreateAccount stores a new account with its password hash, or returns
// store.ErrConflict if the name is taken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account, passwordHash string) error {
	n, err := s.exec(ctx, sqlCreateAccount, a.Name, a.Role, a.Party, a.Recipient, passwordHash, a.Created, a.Disabled)
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
	a, hash, err := scanAccount(s.pool.QueryRow(ctx, sqlAccount, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Account{}, "", fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Account{}, "", fmt.Errorf("account %q: %w", name, err)
	}
	return a, hash, nil
}

// ListAccounts returns every account, by name.
func (s *Store) ListAccounts(ctx context.Context) ([]store.Account, error) {
	rows, err := s.pool.Query(ctx, sqlListAccounts)
	out, err := collect(rows, err, func(r pgx.Row) (store.Account, error) {
		a, _, err := scanAccount(r)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// collect reads every row of a query with scan: nil if there are none, as
// the SQLite store answers. It takes the query's error too, so that a caller
// wraps one error for both.
func collect[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
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

func scanAccount(row pgx.Row) (store.Account, string, error) {
	var (
		a    store.Account
		hash string
	)
	err := row.Scan(&a.Name, &a.Role, &a.Party, &a.Recipient, &a.Created, &a.Disabled, &hash)
	a.Created = a.Created.UTC()
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
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := requireAccount(ctx, tx, account); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, insert, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("already stored: %w", store.ErrConflict)
		}
		return nil
	})
}

// requireAccount returns store.ErrNotFound if there is no account called
// name, and otherwise keeps it from going until tx ends.
func requireAccount(ctx context.Context, tx pgx.Tx, name string) error {
	var ok bool
	err := tx.QueryRow(ctx, sqlLockAccount, name).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	return err
}

// CreateSession stores a new session: store.ErrNotFound if its account does
// not exist, store.ErrConflict if its hash is already stored.
func (s *Store) CreateSession(ctx context.Context, ss store.Session) error {
	err := s.insertFor(ctx, ss.Account, sqlCreateSession, ss.Hash[:], ss.Account, ss.CSRF, ss.Created, ss.Expires)
	if err != nil {
		return fmt.Errorf("create session for %q: %w", ss.Account, err)
	}
	return nil
}

// Session returns the session whose cookie hashes to hash, expired or not.
func (s *Store) Session(ctx context.Context, hash [32]byte) (store.Session, error) {
	var (
		ss store.Session
		h  []byte
	)
	err := s.pool.QueryRow(ctx, sqlSession, hash[:]).Scan(&h, &ss.Account, &ss.CSRF, &ss.Created, &ss.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	copy(ss.Hash[:], h)
	ss.Created, ss.Expires = ss.Created.UTC(), ss.Expires.UTC()
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
	err := s.insertFor(ctx, t.Account, sqlCreateToken, t.Hash[:], t.ID, t.Account, t.Label, t.Created)
	if err != nil {
		return fmt.Errorf("create token %s for %q: %w", t.ID, t.Account, err)
	}
	return nil
}

// Token returns the token whose secret hashes to hash.
func (s *Store) Token(ctx context.Context, hash [32]byte) (store.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, sqlToken, hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// Tokens returns the tokens of account, oldest first.
func (s *Store) Tokens(ctx context.Context, account string) ([]store.Token, error) {
	rows, err := s.pool.Query(ctx, sqlTokens, account)
	out, err := collect(rows, err, scanToken)
	if err != nil {
		return nil, fmt.Errorf("tokens of %q: %w", account, err)
	}
	return out, nil
}

func scanToken(row pgx.Row) (store.Token, error) {
	var (
		t store.Token
		h []byte
	)
	err := row.Scan(&h, &t.ID, &t.Account, &t.Label, &t.Created)
	copy(t.Hash[:], h)
	t.Created = t.Created.UTC()
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
