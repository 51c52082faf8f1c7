// Package account keeps who may work on the record through a server: the
// accounts and their roles, passwords hashed with argon2id, signed-in
// browser sessions, API tokens for programs, and a limit on failed sign-ins.
//
// It returns *problem.Error for everything a caller did wrong, so that the
// server maps each to its HTTP status in one place. Secrets (passwords,
// cookies, token secrets) never reach the store: only their hashes do.
package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"

	"parley/internal/problem"
	"parley/internal/store"
)

// A Role is what an account may do on the record.
type Role string

// The roles, from most to least trusted.
const (
	Admin   Role = "admin"   // manages accounts and the record's settings
	Editor  Role = "editor"  // appends entries, for its party if it has one
	Monitor Role = "monitor" // records incidents and evidence
	Reader  Role = "reader"  // reads the record
)

// Roles lists every role, for forms and error messages.
var Roles = []Role{Admin, Editor, Monitor, Reader}

// ParseRole returns the role called s, or a problem.Invalid listing the
// roles there are.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	if s == "" {
		return "", problem.New(problem.Invalid, "role", "a role is required: one of %s", strings.Join(names, ", "))
	}
	return "", problem.New(problem.Invalid, "role", "%q is not a role: use one of %s", s, strings.Join(names, ", "))
}

// Options configure a Service. The zero value of each field means its
// default.
type Options struct {
	Now        func() time.Time // default time.Now
	SessionTTL time.Duration    // how long a sign-in lasts; default 12h
	// MaxFailures is how many failed sign-ins are allowed per account name
	// and per remote address within Window; default 5.
	MaxFailures int
	Window      time.Duration // default 15 minutes
	// Argon is the cost of hashing new passwords; default time 2, memory
	// 19 MiB, threads 1, key 32 bytes, with a 16-byte salt (OWASP).
	Argon ArgonParams
}

// Service manages accounts, sessions and tokens over a store. It is safe
// for concurrent use; its limit on failed sign-ins is held in memory, per
// process.
type Service struct {
	st    store.Accounts
	now   func() time.Time
	ttl   time.Duration
	argon ArgonParams
	limit *limiter
	// mu serialises read-modify-write updates of an account, so that two
	// concurrent changes (a role and a recipient, say) do not undo each other.
	mu sync.Mutex
}

// New returns a service keeping its accounts in st.
func New(st store.Accounts, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	return &Service{
		st:    st,
		now:   opts.Now,
		ttl:   opts.SessionTTL,
		argon: opts.Argon.orDefault(),
		limit: newLimiter(opts.MaxFailures, opts.Window, limiterSize),
	}
}

// Limits on what accounts are made of.
const (
	maxName     = 64
	minPassword = 12
	maxPassword = 1024
	maxLabel    = 100
)

// checkName checks an account name (or a party id, which has the same
// form): 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit.
func checkName(field, name string) error {
	const form = "1 to 64 lower-case letters a-z, digits, and . _ - after the first character"
	switch {
	case name == "":
		return problem.New(problem.Invalid, field, "a %s is required: %s", field, form)
	case utf8.RuneCountInString(name) > maxName:
		return problem.New(problem.Invalid, field, "the %s is %d characters long; at most %d", field, utf8.RuneCountInString(name), maxName)
	case strings.ToLower(name) != name:
		return problem.New(problem.Invalid, field, "%q has upper-case letters; a %s is lower-case: %q", name, field, strings.ToLower(name))
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._-", r)
		if !ok {
			return problem.New(problem.Invalid, field, "%q has %q at character %d; a %s is %s", name, r, utf8.RuneCountInString(name[:i])+1, field, form)
		}
	}
	return nil
}

// checkPasswordRules checks a new password's length, without echoing it.
func checkPasswordRules(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < minPassword:
		return problem.New(problem.Invalid, "password", "the password is %d characters long; use at least %d (a few unrelated words make a good one)", n, minPassword)
	case n > maxPassword:
		return problem.New(problem.Invalid, "password", "the password is %d characters long; at most %d", n, maxPassword)
	}
	return nil
}

// checkParty checks the party an account acts for: none, or a party id.
func checkParty(party string) error {
	if party == "" {
		return nil
	}
	return checkName("party", party)
}

// accountError turns a store error about the account called name into a
// refusal the caller can act on.
func accountError(name string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &problem.Error{Kind: problem.NotFound, Message: fmt.Sprintf("there is no account called %q", name), Err: err}
	case errors.Is(err, store.ErrConflict):
		return &problem.Error{Kind: problem.Conflict, Where: "name", Message: fmt.Sprintf("an account called %q already exists; choose another name", name), Err: err}
	}
	return fmt.Errorf("account %q: %w", name, err)
}

// clip shortens s for quoting in an error message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return strings.ToValidUTF8(s[:80], "") + "…"
}

// Create makes an account. name is 1–64 of a-z 0-9 . _ - starting with a
// letter or digit; password is 12 to 1024 characters; party is "" or the id
// of the party the account appends for.
func (s *Service) Create(ctx context.Context, name, password string, role Role, party string) (store.Account, error) {
	if err := checkName("name", name); err != nil {
		return store.Account{}, err
	}
	if err := checkPasswordRules(password); err != nil {
		return store.Account{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return store.Account{}, err
	}
	if err := checkParty(party); err != nil {
		return store.Account{}, err
	}
	a := store.Account{Name: name, Role: string(role), Party: party, Created: s.now().UTC().Truncate(time.Microsecond)}
	if err := s.st.CreateAccount(ctx, a, hashPassword(password, s.argon)); err != nil {
		return store.Account{}, accountError(name, err)
	}
	return a, nil
}

// Get returns the account called name.
func (s *Service) Get(ctx context.Context, name string) (store.Account, error) {
	a, _, err := s.st.Account(ctx, name)
	if err != nil {
		return store.Account{}, accountError(name, err)
	}
	return a, nil
}

// List returns every account, by name.
func (s *Service) List(ctx context.Context) ([]store.Account, error) {
	as, err := s.st.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	if as == nil {
		as = []store.Account{}
	}
	return as, nil
}

// update applies change to the account called name and stores it.
func (s *Service) update(ctx context.Context, name string, change func(*store.Account)) (store.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, err := s.st.Account(ctx, name)
	if err != nil {
		return store.Account{}, accountError(name, err)
	}
	change(&a)
	if err := s.st.UpdateAccount(ctx, a); err != nil {
		return store.Account{}, accountError(name, err)
	}
	return a, nil
}

// SetRole gives the account called name a role, and the party it acts for
// ("" for none).
func (s *Service) SetRole(ctx context.Context, name string, role Role, party string) (store.Account, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return store.Account{}, err
	}
	if err := checkParty(party); err != nil {
		return store.Account{}, err
	}
	return s.update(ctx, name, func(a *store.Account) { a.Role, a.Party = string(role), party })
}

// SetDisabled disables or enables the account called name. A disabled
// account cannot sign in or use its tokens, and disabling it signs it out
// everywhere.
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) error {
	if _, err := s.update(ctx, name, func(a *store.Account) { a.Disabled = disabled }); err != nil {
		return err
	}
	if disabled {
		if err := s.st.DeleteSessions(ctx, name); err != nil {
			return fmt.Errorf("sign %q out: %w", name, err)
		}
	}
	return nil
}

// SetPassword replaces the password of the account called name, and signs
// it out everywhere. Its API tokens stay valid.
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPasswordRules(password); err != nil {
		return err
	}
	if err := s.st.SetPassword(ctx, name, hashPassword(password, s.argon)); err != nil {
		return accountError(name, err)
	}
	if err := s.st.DeleteSessions(ctx, name); err != nil {
		return fmt.Errorf("sign %q out: %w", name, err)
	}
	return nil
}

// SetRecipient registers the age X25519 recipient ("age1…") to which
// confidential entries for the account called name are encrypted.
func (s *Service) SetRecipient(ctx context.Context, name, recipient string) error {
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		// Neither the message nor the cause quotes the input: it might be a
		// secret key pasted by mistake, and errors get logged.
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(recipient)), "AGE-SECRET-KEY-") {
			return problem.New(problem.Invalid, "recipient", "that is an age secret key: give its public recipient (\"age1…\", which age-keygen -y prints), and keep the secret key to yourself")
		}
		return problem.New(problem.Invalid, "recipient", "that is not an age X25519 recipient: give the public key that starts with \"age1\", as age-keygen prints it")
	}
	_, err = s.update(ctx, name, func(a *store.Account) { a.Recipient = r.String() })
	return err
}

// checkLabel checks a token's label: 1 to 100 characters, none of them a
// control character.
func checkLabel(label string) error {
	n := utf8.RuneCountInString(label)
	switch {
	case strings.TrimSpace(label) == "":
		return problem.New(problem.Invalid, "label", "a label is required: say what the token is for, such as \"nightly export\"")
	case n > maxLabel:
		return problem.New(problem.Invalid, "label", "the label is %d characters long; at most %d", n, maxLabel)
	case !utf8.ValidString(label):
		return problem.New(problem.Invalid, "label", "the label is not valid UTF-8")
	case strings.ContainsFunc(label, unicode.IsControl):
		return problem.New(problem.Invalid, "label", "the label has a control character (a line break or tab?); use plain text")
	}
	return nil
}
