package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"parley/internal/problem"
	"parley/internal/store"
)

// tokenPrefix starts every API token's secret, so that a leaked one is
// recognisable (and secret scanners can find it).
const tokenPrefix = "pt_"

// tokenAttempts is how many new secrets NewToken tries before giving up on
// finding one whose public id is free.
const tokenAttempts = 5

// NewToken gives account a new API token labelled label (1 to 100
// characters). The secret, "pt_" and 32 random bytes in base64url, is
// returned only now: the store keeps its SHA-256, and the token's public ID
// is the first 8 hex digits of that hash.
func (s *Service) NewToken(ctx context.Context, account, label string) (secret string, t store.Token, err error) {
	if err := checkLabel(label); err != nil {
		return "", store.Token{}, err
	}
	created := s.now().UTC().Truncate(time.Microsecond)
	for range tokenAttempts {
		secret = tokenPrefix + newSecret()
		h := sha256.Sum256([]byte(secret))
		t = store.Token{Hash: h, ID: hex.EncodeToString(h[:4]), Account: account, Label: label, Created: created}
		err := s.st.CreateToken(ctx, t)
		if errors.Is(err, store.ErrConflict) {
			continue // the id is taken: draw another secret
		}
		if err != nil {
			return "", store.Token{}, accountError(account, err)
		}
		return secret, t, nil
	}
	return "", store.Token{}, fmt.Errorf("new token for %q: no free token id after %d tries", account, tokenAttempts)
}

// ByToken returns the token of an API secret and its account. It refuses,
// as problem.Unauthenticated, a secret that is unknown or revoked, and the
// token of a disabled account.
func (s *Service) ByToken(ctx context.Context, secret string) (store.Token, store.Account, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return store.Token{}, store.Account{}, unauthenticated("that is not a parley API token: they start with %q", tokenPrefix)
	}
	t, err := s.st.Token(ctx, sha256.Sum256([]byte(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, store.Account{}, unauthenticated("the API token is unknown or revoked")
	}
	if err != nil {
		return store.Token{}, store.Account{}, fmt.Errorf("token: %w", err)
	}
	a, err := s.active(ctx, t.Account)
	if err != nil {
		return store.Token{}, store.Account{}, err
	}
	return t, a, nil
}

// Tokens returns the API tokens of account, oldest first.
func (s *Service) Tokens(ctx context.Context, account string) ([]store.Token, error) {
	if _, err := s.Get(ctx, account); err != nil {
		return nil, err
	}
	ts, err := s.st.Tokens(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("tokens of %q: %w", account, err)
	}
	if ts == nil {
		ts = []store.Token{}
	}
	return ts, nil
}

// RevokeToken revokes the API token of account with the public id; it is
// problem.NotFound if account has no such token.
func (s *Service) RevokeToken(ctx context.Context, account, id string) error {
	err := s.st.DeleteToken(ctx, account, id)
	if errors.Is(err, store.ErrNotFound) {
		return &problem.Error{Kind: problem.NotFound, Where: "token", Err: err,
			Message: fmt.Sprintf("account %q has no token %q", account, clip(id))}
	}
	if err != nil {
		return fmt.Errorf("revoke token %q of %q: %w", clip(id), account, err)
	}
	return nil
}
