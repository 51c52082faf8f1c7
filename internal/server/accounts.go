package server

import (
	"net"
	"net/http"
	"time"

	"parley/internal/account"
	"parley/internal/problem"
	"parley/internal/store"
)

// AccountJSON is an account as the API shows it.
type AccountJSON struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Party     string    `json:"party,omitempty"`
	Recipient string    `json:"recipient,omitempty"`
	Created   time.Time `json:"created"`
	Disabled  bool      `json:"disabled,omitzero"`
}

func accountJSON(a store.Account) AccountJSON {
	return AccountJSON{Name: a.Name, Role: a.Role, Party: a.Party, Recipient: a.Recipient, Created: a.Created, Disabled: a.Disabled}
}

// SessionJSON is a signed-in session.
type SessionJSON struct {
	Account AccountJSON `json:"account"`
	CSRF    string      `json:"csrf,omitempty"`
	Expires time.Time   `json:"expires,omitzero"`
}

// SignIn is the body of POST /api/v1/session.
type SignIn struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	var in SignIn
	if err := decode(r, &in); err != nil {
		return err
	}
	cookie, sess, a, err := s.accounts.SignIn(r.Context(), in.Name, in.Password, remoteHost(r))
	if err != nil {
		s.log.WarnContext(r.Context(), "sign-in refused", "name", in.Name, "remote", remoteHost(r), "kind", problem.KindOf(err))
		return err
	}
	s.setSessionCookie(w, cookie, sess.Expires)
	return writeJSON(w, http.StatusOK, SessionJSON{Account: accountJSON(a), CSRF: sess.CSRF, Expires: sess.Expires})
}

// setSessionCookie sets (or, with an empty value, clears) the sign-in
// cookie: HTTP-only, SameSite=Lax, Secure, for the whole site.
func (s *Server) setSessionCookie(w http.ResponseWriter, value string, expires time.Time) {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: !s.opts.InsecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: expires}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	out := SessionJSON{Account: accountJSON(c.account)}
	if c.session != nil {
		out.CSRF, out.Expires = c.session.CSRF, c.session.Expires
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	if c.session == nil {
		return problem.New(problem.Invalid, "", "this request is made with an API token, not a session: revoke the token instead")
	}
	if err := s.accounts.SignOut(r.Context(), c.cookie); err != nil {
		return err
	}
	s.setSessionCookie(w, "", time.Time{})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// MeJSON is one's own account with its keys and tokens.
type MeJSON struct {
	Account AccountJSON `json:"account"`
	Keys    []KeyJSON   `json:"keys"`
	Tokens  []TokenJSON `json:"tokens"`
}

// TokenJSON is an API token, without its secret.
type TokenJSON struct {
	ID      string    `json:"id"`
	Label   string    `json:"label"`
	Created time.Time `json:"created"`
	// Secret is shown once, when the token is made.
	Secret string `json:"secret,omitempty"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	out := MeJSON{Account: accountJSON(c.account), Keys: []KeyJSON{}, Tokens: []TokenJSON{}}
	for _, k := range sortedKeys(s.rec.Log.Keys()) {
		if k.Holder == Holder(c.account.Name) {
			out.Keys = append(out.Keys, keyJSON(k))
		}
	}
	ts, err := s.accounts.Tokens(r.Context(), c.account.Name)
	if err != nil {
		return err
	}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, TokenJSON{ID: t.ID, Label: t.Label, Created: t.Created})
	}
	return writeJSON(w, http.StatusOK, out)
}

// PasswordChange is the body of PUT /api/v1/account/password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	var in PasswordChange
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.accounts.CheckPassword(r.Context(), c.account.Name, in.Current, remoteHost(r)); err != nil {
		return problem.At("current", err)
	}
	if err := s.accounts.SetPassword(r.Context(), c.account.Name, in.New); err != nil {
		return problem.At("new", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RecipientJSON is the body of PUT /api/v1/account/recipient.
type RecipientJSON struct {
	Recipient string `json:"recipient"`
}

func (s *Server) setRecipient(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	var in RecipientJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.accounts.SetRecipient(r.Context(), c.account.Name, in.Recipient); err != nil {
		return problem.At("recipient", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// KeyRegistration is the body of POST /api/v1/account/keys.
type KeyRegistration struct {
	// Key is the public verifier key, "name+hash+base64".
	Key string `json:"key"`
}

// registerKey registers a public key under the caller's account: the
// operator signs a key.register entry naming the account as holder.
func (s *Server) registerKey(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	var in KeyRegistration
	if err := decode(r, &in); err != nil {
		return err
	}
	s.inflight.Add(1)
	k, a, err := s.rec.RegisterKey(r.Context(), in.Key, Holder(c.account.Name))
	s.inflight.Done()
	if err != nil {
		return err
	}
	s.metrics.appended.Inc()
	s.log.InfoContext(r.Context(), "key registered", "account", c.account.Name, "key", k.ID, "entry", a.Index)
	return writeJSON(w, http.StatusCreated, keyJSON(k))
}

// revokeKey revokes a key: its holder or an admin may.
func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	k, err := s.rec.FindKey(r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.role != account.Admin && k.Holder != Holder(c.account.Name) {
		return problem.New(problem.Forbidden, "", "key %s is not yours; only its holder or an admin may revoke it", k.ID)
	}
	if k.Revoked >= 0 {
		return problem.New(problem.Conflict, "", "key %s was already revoked at entry %d", k.ID, k.Revoked)
	}
	s.inflight.Add(1)
	k, _, err = s.rec.Revoke(r.Context(), k.ID, "revoked by "+c.account.Name)
	s.inflight.Done()
	if err != nil {
		return err
	}
	s.metrics.appended.Inc()
	return writeJSON(w, http.StatusOK, keyJSON(k))
}

// TokenRequest is the body of POST /api/v1/account/tokens.
type TokenRequest struct {
	Label string `json:"label"`
}

func (s *Server) newToken(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	var in TokenRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	secret, t, err := s.accounts.NewToken(r.Context(), c.account.Name, in.Label)
	if err != nil {
		return problem.At("label", err)
	}
	return writeJSON(w, http.StatusCreated, TokenJSON{ID: t.ID, Label: t.Label, Created: t.Created, Secret: secret})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	ts, err := s.accounts.Tokens(r.Context(), c.account.Name)
	if err != nil {
		return err
	}
	out := []TokenJSON{}
	for _, t := range ts {
		out = append(out, TokenJSON{ID: t.ID, Label: t.Label, Created: t.Created})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	c := callerOf(r.Context())
	if err := s.accounts.RevokeToken(r.Context(), c.account.Name, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	as, err := s.accounts.List(r.Context())
	if err != nil {
		return err
	}
	out := []AccountJSON{}
	for _, a := range as {
		out = append(out, accountJSON(a))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

// NewAccount is the body of POST /api/v1/accounts.
type NewAccount struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Party    string `json:"party,omitempty"`
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in NewAccount
	if err := decode(r, &in); err != nil {
		return err
	}
	role, err := account.ParseRole(in.Role)
	if err != nil {
		return problem.At("role", err)
	}
	if err := s.checkParty(r, in.Party); err != nil {
		return err
	}
	a, err := s.accounts.Create(r.Context(), in.Name, in.Password, role, in.Party)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "account created", "by", callerOf(r.Context()).account.Name, "account", a.Name, "role", a.Role)
	return writeJSON(w, http.StatusCreated, accountJSON(a))
}

// checkParty requires a party an editor is tied to to be on the record.
func (s *Server) checkParty(r *http.Request, party string) error {
	if party == "" {
		return nil
	}
	if _, err := s.rec.Ask.Entity(r.Context(), "party/"+party); err != nil {
		return problem.New(problem.NotFound, "party", "no party %q is on the record", party)
	}
	return nil
}

// AccountChange is the body of PATCH /api/v1/accounts/{name}: the fields
// given are changed.
type AccountChange struct {
	Role     *string `json:"role,omitempty"`
	Party    *string `json:"party,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
	Password *string `json:"password,omitempty"`
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var in AccountChange
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := s.accounts.Get(r.Context(), name)
	if err != nil {
		return err
	}
	if in.Role != nil || in.Party != nil {
		role, party := account.Role(a.Role), a.Party
		if in.Role != nil {
			if role, err = account.ParseRole(*in.Role); err != nil {
				return problem.At("role", err)
			}
		}
		if in.Party != nil {
			if err := s.checkParty(r, *in.Party); err != nil {
				return err
			}
			party = *in.Party
		}
		if a, err = s.accounts.SetRole(r.Context(), name, role, party); err != nil {
			return err
		}
	}
	if in.Password != nil {
		if err := s.accounts.SetPassword(r.Context(), name, *in.Password); err != nil {
			return problem.At("password", err)
		}
	}
	if in.Disabled != nil {
		if err := s.accounts.SetDisabled(r.Context(), name, *in.Disabled); err != nil {
			return err
		}
		a.Disabled = *in.Disabled
	}
	s.log.InfoContext(r.Context(), "account changed", "by", callerOf(r.Context()).account.Name, "account", name)
	return writeJSON(w, http.StatusOK, accountJSON(a))
}
