package store

import (
	"context"
	"time"
)

// An Account is a person or a program that works on the record through a
// server. Its password hash is kept beside it and never leaves the store
// layer except to be checked.
type Account struct {
	Name  string
	Role  string // admin, editor, monitor or reader
	Party string // the party an editor appends for; "" for none
	// Recipient is the account's age X25519 recipient ("age1…"), to which
	// confidential channel entries are encrypted; "" until registered.
	Recipient string
	Created   time.Time
	Disabled  bool
}

// A Session is a signed-in browser. Only the SHA-256 of its cookie value is
// stored, so a copy of the database does not sign anyone in.
type Session struct {
	Hash    [32]byte
	Account string
	CSRF    string // the token every state-changing form must carry
	Created time.Time
	Expires time.Time
}

// A Token is an API token for a program. Only the SHA-256 of its secret is
// stored.
type Token struct {
	Hash    [32]byte
	ID      string // a short public id, to list and revoke it by
	Account string
	Label   string
	Created time.Time
}

// Accounts is where a server keeps its accounts, sessions and tokens. Lookups
// of something missing return ErrNotFound; creating something that exists
// returns ErrConflict.
type Accounts interface {
	CreateAccount(ctx context.Context, a Account, passwordHash string) error
	// Account returns the account called name and its password hash.
	Account(ctx context.Context, name string) (Account, string, error)
	// ListAccounts returns every account, by name.
	ListAccounts(ctx context.Context) ([]Account, error)
	// UpdateAccount replaces the role, party, recipient and disabled flag.
	UpdateAccount(ctx context.Context, a Account) error
	SetPassword(ctx context.Context, name, passwordHash string) error

	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, hash [32]byte) (Session, error)
	DeleteSession(ctx context.Context, hash [32]byte) error
	// DeleteSessions signs an account out everywhere.
	DeleteSessions(ctx context.Context, account string) error

	CreateToken(ctx context.Context, t Token) error
	Token(ctx context.Context, hash [32]byte) (Token, error)
	// Tokens returns an account's tokens, oldest first.
	Tokens(ctx context.Context, account string) ([]Token, error)
	// DeleteToken revokes the token with the public id of account.
	DeleteToken(ctx context.Context, account, id string) error
}
