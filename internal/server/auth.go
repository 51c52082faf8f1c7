package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"parley/internal/account"
	"parley/internal/problem"
	"parley/internal/store"
)

// SessionCookie is the name of the sign-in cookie.
const SessionCookie = "parley_session"

// CSRFHeader carries the session's CSRF token on state-changing requests
// made with the session cookie (forms send it as the field "csrf").
const CSRFHeader = "X-CSRF-Token"

// An access level is who may use a route.
type access int

const (
	public   access = iota // anyone, signed in or not
	read                   // readers and up; anyone when the server is public
	signedIn               // any account
	write                  // editors, monitors and admins (the types each may append are checked per entry)
	admin                  // admins only
)

func (a access) String() string {
	return [...]string{"public", "reader", "signed-in", "editor", "admin"}[a]
}

// A caller is who made a request.
type caller struct {
	account store.Account // zero for anonymous
	role    account.Role  // "" for anonymous
	session *store.Session
	cookie  string
}

func (c caller) anonymous() bool { return c.account.Name == "" }

type callerKey struct{}

func callerOf(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

// identify finds who is calling: an API token in Authorization, or else a
// session cookie. A bad token or an expired session is refused rather than
// treated as anonymous, so that a program notices.
func (s *Server) identify(r *http.Request) (caller, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return caller{}, problem.New(problem.Unauthenticated, "Authorization", "use \"Bearer TOKEN\" with an API token")
		}
		_, a, err := s.accounts.ByToken(ctx, strings.TrimSpace(secret))
		if err != nil {
			return caller{}, err
		}
		return caller{account: a, role: account.Role(a.Role)}, nil
	}
	if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
		sess, a, err := s.accounts.Session(ctx, ck.Value)
		if err != nil {
			return caller{}, err
		}
		return caller{account: a, role: account.Role(a.Role), session: &sess, cookie: ck.Value}, nil
	}
	return caller{}, nil
}

// allowed checks the caller against a route's access level.
func (s *Server) allowed(c caller, need access) error {
	if need == public || (need == read && s.opts.PublicRead) {
		return nil
	}
	if c.anonymous() {
		return problem.New(problem.Unauthenticated, "", "sign in, or send an API token (Authorization: Bearer …)")
	}
	switch need {
	case read, signedIn:
		return nil
	case write:
		if c.role == account.Reader {
			return problem.New(problem.Forbidden, "", "%s is a reader: appending needs the editor, monitor or admin role", c.account.Name)
		}
		return nil
	case admin:
		if c.role != account.Admin {
			return problem.New(problem.Forbidden, "", "only an admin may do this; %s is %s", c.account.Name, c.role)
		}
		return nil
	}
	return problem.New(problem.Forbidden, "", "no access")
}

// checkCSRF requires the session's CSRF token on a state-changing request
// that a session cookie authenticates. API tokens are not sent by browsers
// on their own, so requests carrying one need no CSRF token.
func checkCSRF(r *http.Request, c caller) error {
	if c.session == nil {
		return nil
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue("csrf")
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.session.CSRF)) != 1 {
		return problem.New(problem.Forbidden, CSRFHeader, "a request made with the session cookie must carry the session's CSRF token (the %s header, or the form field csrf)", CSRFHeader)
	}
	return nil
}
