package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"parley/internal/problem"
	"parley/internal/store"
)

// newSecret returns 32 random bytes in unpadded base64url: a cookie, a CSRF
// token, or the body of an API token.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// unauthenticated is a refusal of who the caller says they are.
func unauthenticated(format string, args ...any) error {
	return problem.New(problem.Unauthenticated, "", format, args...)
}

// wrongSignIn is the one refusal of a wrong name and of a wrong password:
// it does not tell which.
func wrongSignIn() error { return unauthenticated("wrong account name or password") }

// SignIn checks an account's name and password and starts a session. It
// returns the cookie value to give the browser (the store keeps only its
// SHA-256), the session, and the account.
//
// A wrong name and a wrong password get the same refusal, in about the same
// time. After Options.MaxFailures failures within Options.Window for the
// same name, or from the same remote address (host, without the port;
// an IPv6 address counts by its /64), attempts are refused before the
// password is checked, as problem.RateLimited whose Err is a *Throttled.
// A success clears the name's failures.
func (s *Service) SignIn(ctx context.Context, name, password, remote string) (cookie string, sess store.Session, a store.Account, err error) {
	now := s.now()
	nk, ak := nameKey(name), addrKey(remote)
	if wait := s.limit.acquire(now, nk, ak); wait > 0 {
		t := &Throttled{RetryAfter: wait}
		return "", store.Session{}, store.Account{}, &problem.Error{Kind: problem.RateLimited, Message: t.Error(), Err: t}
	}
	// From here on the attempt counts as a failure unless it is released.
	a, hash, err := s.st.Account(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		burnHash(password, s.argon)
		return "", store.Session{}, store.Account{}, wrongSignIn()
	}
	if err != nil {
		s.limit.release(now, nk, ak)
		return "", store.Session{}, store.Account{}, fmt.Errorf("sign in as %q: %w", name, err)
	}
	ok, err := checkPassword(password, hash)
	if err != nil {
		s.limit.release(now, nk, ak)
		return "", store.Session{}, store.Account{}, fmt.Errorf("sign in as %q: %w", name, err)
	}
	if !ok {
		return "", store.Session{}, store.Account{}, wrongSignIn()
	}
	if a.Disabled {
		s.limit.release(now, nk, ak)
		return "", store.Session{}, store.Account{}, unauthenticated("account %q is disabled; an admin can enable it", name)
	}
	s.limit.clear(nk)
	s.limit.release(now, ak)

	cookie = newSecret()
	created := now.UTC().Truncate(time.Microsecond)
	sess = store.Session{
		Hash:    sha256.Sum256([]byte(cookie)),
		Account: a.Name,
		CSRF:    newSecret(),
		Created: created,
		Expires: created.Add(s.ttl),
	}
	if err := s.st.CreateSession(ctx, sess); err != nil {
		return "", store.Session{}, store.Account{}, fmt.Errorf("sign in as %q: %w", name, err)
	}
	return cookie, sess, a, nil
}

// CheckPassword checks an account's current password, as when it is
// changed, without starting a session. It counts toward the same limits
// as SignIn; a wrong password is problem.Forbidden (the caller is known).
func (s *Service) CheckPassword(ctx context.Context, name, password, remote string) error {
	now := s.now()
	nk, ak := nameKey(name), addrKey(remote)
	if wait := s.limit.acquire(now, nk, ak); wait > 0 {
		t := &Throttled{RetryAfter: wait}
		return &problem.Error{Kind: problem.RateLimited, Message: t.Error(), Err: t}
	}
	_, hash, err := s.st.Account(ctx, name)
	if err != nil {
		s.limit.release(now, nk, ak)
		return fmt.Errorf("check the password of %q: %w", name, err)
	}
	ok, err := checkPassword(password, hash)
	if err != nil {
		s.limit.release(now, nk, ak)
		return fmt.Errorf("check the password of %q: %w", name, err)
	}
	if !ok {
		return problem.New(problem.Forbidden, "", "that is not the account's current password")
	}
	s.limit.clear(nk)
	s.limit.release(now, ak)
	return nil
}

// Session returns the session of a cookie and its account. It refuses, as
// problem.Unauthenticated, a cookie that is unknown or expired (and forgets
// the expired session), and the session of a disabled account.
func (s *Service) Session(ctx context.Context, cookie string) (store.Session, store.Account, error) {
	if cookie == "" {
		return store.Session{}, store.Account{}, unauthenticated("not signed in")
	}
	h := sha256.Sum256([]byte(cookie))
	sess, err := s.st.Session(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, store.Account{}, unauthenticated("the session has ended; sign in again")
	}
	if err != nil {
		return store.Session{}, store.Account{}, fmt.Errorf("session: %w", err)
	}
	if !s.now().Before(sess.Expires) {
		if err := s.st.DeleteSession(ctx, h); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, store.Account{}, fmt.Errorf("forget expired session: %w", err)
		}
		return store.Session{}, store.Account{}, unauthenticated("the session has expired; sign in again")
	}
	a, err := s.active(ctx, sess.Account)
	if err != nil {
		return store.Session{}, store.Account{}, err
	}
	return sess, a, nil
}

// active returns the account called name if it exists and is not
// disabled, and a refusal as problem.Unauthenticated otherwise.
func (s *Service) active(ctx context.Context, name string) (store.Account, error) {
	a, _, err := s.st.Account(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, unauthenticated("account %q no longer exists", name)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("account %q: %w", name, err)
	}
	if a.Disabled {
		return store.Account{}, unauthenticated("account %q is disabled; an admin can enable it", name)
	}
	return a, nil
}

// SignOut ends the session of a cookie. Signing out of a session that has
// already ended is not an error.
func (s *Service) SignOut(ctx context.Context, cookie string) error {
	err := s.st.DeleteSession(ctx, sha256.Sum256([]byte(cookie)))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}
