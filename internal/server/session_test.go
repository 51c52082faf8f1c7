package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"parley/internal/account"
)

// TestSessionCookie signs in and checks the cookie is one a browser keeps
// to itself: HttpOnly, Secure, SameSite=Lax, for the whole site.
func TestSessionCookie(t *testing.T) {
	ls := startLive(t, Options{}, false)
	r := ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: "editor", Password: testPassword}}).
		want(t, http.StatusOK, "sign in")
	var s SessionJSON
	r.decode(t, &s)
	if s.Account.Name != "editor" || s.Account.Role != "editor" || s.CSRF == "" || !s.Expires.After(time.Now()) {
		t.Errorf("session %+v: want editor's, with a CSRF token and an expiry ahead", s)
	}
	ck := r.cookie
	if ck == nil {
		t.Fatalf("no %s cookie set: %v", SessionCookie, r.header["Set-Cookie"])
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Value == "" {
		t.Errorf("cookie %q: want HttpOnly, Secure, SameSite=Lax, Path=/ and a value", r.header.Get("Set-Cookie"))
	}
	if !ck.Expires.After(time.Now()) {
		t.Errorf("cookie expires %v, want a time ahead", ck.Expires)
	}
	if strings.Contains(string(r.body), ck.Value) {
		t.Errorf("the body repeats the cookie's value: %s", r.body)
	}

	var got SessionJSON
	ls.do(call{method: "GET", path: "/api/v1/session", cookie: ck.Value}).want(t, http.StatusOK, "GET session with the cookie").decode(t, &got)
	if got.Account.Name != "editor" || got.CSRF != s.CSRF {
		t.Errorf("GET session: %+v, want editor's with CSRF %q", got, s.CSRF)
	}
}

// TestCSRF checks that a request made with the session cookie changes
// nothing without the session's CSRF token, and works with it.
func TestCSRF(t *testing.T) {
	ls := startLive(t, Options{}, true)
	ctx := context.Background()
	editor := ls.users[account.Editor]
	signer := ls.newKey(editor)
	cookie, csrf := ls.signIn(editor.name)
	_, tok, err := ls.acc.NewToken(ctx, editor.name, "to keep")
	if err != nil {
		t.Fatal(err)
	}
	tokens := func() int {
		ts, err := ls.acc.Tokens(ctx, editor.name)
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	recipient := func() string {
		a, err := ls.acc.Get(ctx, editor.name)
		if err != nil {
			t.Fatal(err)
		}
		return a.Recipient
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	age1 := id.Recipient().String()
	size := ls.size()

	changes := []struct {
		name    string
		request func() call
		status  int // with the right token
		changed func() bool
	}{
		{"POST a token", func() call {
			return call{method: "POST", path: "/api/v1/account/tokens", body: TokenRequest{Label: "csrf"}}
		}, http.StatusCreated, func() bool { return tokens() != 2 }},
		{"PUT a recipient", func() call {
			return call{method: "PUT", path: "/api/v1/account/recipient", body: RecipientJSON{Recipient: age1}}
		}, http.StatusNoContent, func() bool { return recipient() != "" }},
		{"DELETE a token", func() call {
			return call{method: "DELETE", path: "/api/v1/account/tokens/" + tok.ID}
		}, http.StatusNoContent, func() bool { return tokens() != 2 }},
		{"POST an entry", func() call {
			return call{method: "POST", path: "/api/v1/entries", body: ls.signNote(signer).Leaf()}
		}, http.StatusCreated, func() bool { return ls.size() != size }},
	}
	if n := tokens(); n != 2 {
		t.Fatalf("editor has %d tokens, want 2", n)
	}
	for _, c := range changes {
		for _, bad := range []string{"", "not-the-token", csrf + "x"} {
			req := c.request()
			req.cookie, req.csrf = cookie, bad
			r := ls.do(req)
			if r.status != http.StatusForbidden {
				t.Fatalf("%s with CSRF token %q: %d, want 403: %s", c.name, bad, r.status, r.body)
			}
			if p := r.problem(t, http.StatusForbidden, "forbidden"); p.Where != CSRFHeader {
				t.Errorf("%s: where %q, want %s", c.name, p.Where, CSRFHeader)
			}
			if c.changed() {
				t.Fatalf("%s with CSRF token %q changed something", c.name, bad)
			}
		}
	}
	// With the token, each succeeds, in order.
	for _, c := range changes {
		req := c.request()
		req.cookie, req.csrf = cookie, csrf
		ls.do(req).want(t, c.status, c.name+" with the CSRF token")
	}
	if recipient() != age1 {
		t.Errorf("recipient %q, want %s", recipient(), age1)
	}
	// Reading needs no CSRF token.
	ls.do(call{method: "GET", path: "/api/v1/account", cookie: cookie}).want(t, http.StatusOK, "GET with the cookie alone")
}

// TestCrossSite checks that a state-changing request from another site is
// refused even with the cookie and the CSRF token, while reading is not.
func TestCrossSite(t *testing.T) {
	ls := startLive(t, Options{}, false)
	ctx := context.Background()
	cookie, csrf := ls.signIn("editor")
	count := func() int {
		ts, err := ls.acc.Tokens(ctx, "editor")
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	before := count()
	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://elsewhere.example"},
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"},
	} {
		r := ls.do(call{method: "POST", path: "/api/v1/account/tokens", cookie: cookie, csrf: csrf, header: h,
			body: TokenRequest{Label: "cross-site"}})
		p := r.problem(t, http.StatusForbidden, "forbidden")
		if p.Where != "Origin" {
			t.Errorf("%v: where %q, want Origin", h, p.Where)
		}
		// Signing in from another site (login CSRF) is refused too.
		ls.do(call{method: "POST", path: "/api/v1/session", header: h, body: SignIn{Name: "editor", Password: testPassword}}).
			problem(t, http.StatusForbidden, "forbidden")
	}
	if count() != before {
		t.Errorf("a cross-site request made a token")
	}
	ls.do(call{method: "GET", path: "/api/v1/account", cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}).
		want(t, http.StatusOK, "a cross-site GET")
	ls.do(call{method: "POST", path: "/api/v1/account/tokens", cookie: cookie, csrf: csrf,
		header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ls.http.URL}, body: TokenRequest{Label: "same site"}}).
		want(t, http.StatusCreated, "a same-origin POST")
}

// TestSignOut checks signing out ends the session: the cookie no longer
// signs anyone in.
func TestSignOut(t *testing.T) {
	ls := startLive(t, Options{}, false)
	cookie, csrf := ls.signIn("reader")
	ls.do(call{method: "GET", path: "/api/v1/session", cookie: cookie}).want(t, http.StatusOK, "before signing out")
	// Signing out changes state: it needs the CSRF token too.
	ls.do(call{method: "DELETE", path: "/api/v1/session", cookie: cookie}).problem(t, http.StatusForbidden, "forbidden")
	r := ls.do(call{method: "DELETE", path: "/api/v1/session", cookie: cookie, csrf: csrf}).want(t, http.StatusNoContent, "sign out")
	if r.cookie == nil || r.cookie.MaxAge >= 0 || r.cookie.Value != "" {
		t.Errorf("sign-out Set-Cookie %q: want the cookie cleared", r.header.Get("Set-Cookie"))
	}
	ls.do(call{method: "GET", path: "/api/v1/session", cookie: cookie}).problem(t, http.StatusUnauthorized, "unauthenticated")
	ls.do(call{method: "GET", path: "/api/v1/account", cookie: cookie}).problem(t, http.StatusUnauthorized, "unauthenticated")
	// A token cannot sign out: there is no session to end.
	ls.do(call{method: "DELETE", path: "/api/v1/session", token: ls.users[account.Reader].token}).problem(t, http.StatusBadRequest, "invalid")
}

// TestWrongSignIn checks a wrong password and an unknown name get the
// same refusal, and neither sets a cookie.
func TestWrongSignIn(t *testing.T) {
	ls := startLive(t, Options{}, false)
	wrong := ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: "editor", Password: "not the password at all"}})
	unknown := ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: "nobody", Password: testPassword}})
	pw := wrong.problem(t, http.StatusUnauthorized, "unauthenticated")
	pn := unknown.problem(t, http.StatusUnauthorized, "unauthenticated")
	if pw.Detail != pn.Detail || pw.Where != pn.Where {
		t.Errorf("a wrong password says %q (where %q), an unknown name %q (where %q): they must not differ",
			pw.Detail, pw.Where, pn.Detail, pn.Where)
	}
	if wrong.cookie != nil || unknown.cookie != nil {
		t.Errorf("a refused sign-in set a cookie")
	}
}

// TestSignInThrottle checks that after 5 failed sign-ins the 6th attempt,
// even with the right password, is refused with 429 and Retry-After.
func TestSignInThrottle(t *testing.T) {
	ls := startLive(t, Options{}, false)
	for i := range 5 {
		ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: "editor", Password: "wrong password " + strconv.Itoa(i)}}).
			problem(t, http.StatusUnauthorized, "unauthenticated")
	}
	r := ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: "editor", Password: testPassword}})
	r.problem(t, http.StatusTooManyRequests, "rate-limited")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 15*60+1 {
		t.Errorf("Retry-After %q: want whole seconds, at most the 15-minute window", r.header.Get("Retry-After"))
	}
	if r.cookie != nil {
		t.Errorf("a throttled sign-in set a cookie")
	}
}

// TestDisabledAccount checks that disabling an account ends its session
// and stops its tokens, and that enabling it again brings back the tokens
// but not the session.
func TestDisabledAccount(t *testing.T) {
	ls := startLive(t, Options{}, false)
	editor, admin := ls.users[account.Editor], ls.users[account.Admin]
	cookie, _ := ls.signIn(editor.name)
	setDisabled := func(v bool) {
		ls.do(call{method: "PATCH", path: "/api/v1/accounts/editor", token: admin.token, body: AccountChange{Disabled: &v}}).
			want(t, http.StatusOK, "PATCH disabled")
	}
	setDisabled(true)
	ls.do(call{method: "GET", path: "/api/v1/account", cookie: cookie}).problem(t, http.StatusUnauthorized, "unauthenticated")
	ls.do(call{method: "GET", path: "/api/v1/account", token: editor.token}).problem(t, http.StatusUnauthorized, "unauthenticated")
	ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: editor.name, Password: testPassword}}).
		problem(t, http.StatusUnauthorized, "unauthenticated")

	setDisabled(false)
	ls.do(call{method: "GET", path: "/api/v1/account", token: editor.token}).want(t, http.StatusOK, "the token, enabled again")
	ls.do(call{method: "GET", path: "/api/v1/account", cookie: cookie}).problem(t, http.StatusUnauthorized, "unauthenticated")
}

// TestRevokedToken checks a revoked API token, and ones that are not
// parley tokens at all, are refused.
func TestRevokedToken(t *testing.T) {
	ls := startLive(t, Options{}, false)
	reader := ls.users[account.Reader]
	var tok TokenJSON
	ls.do(call{method: "POST", path: "/api/v1/account/tokens", token: reader.token, body: TokenRequest{Label: "short-lived"}}).
		want(t, http.StatusCreated, "make a token").decode(t, &tok)
	if !strings.HasPrefix(tok.Secret, "pt_") || tok.ID == "" {
		t.Fatalf("token %+v: want a pt_ secret and an id", tok)
	}
	ls.do(call{method: "GET", path: "/api/v1/account", token: tok.Secret}).want(t, http.StatusOK, "the new token")
	var list struct {
		Tokens []TokenJSON `json:"tokens"`
	}
	ls.do(call{method: "GET", path: "/api/v1/account/tokens", token: tok.Secret}).want(t, http.StatusOK, "list tokens").decode(t, &list)
	for _, x := range list.Tokens {
		if x.Secret != "" {
			t.Errorf("the token list shows the secret of %s", x.ID)
		}
	}
	ls.do(call{method: "DELETE", path: "/api/v1/account/tokens/" + tok.ID, token: reader.token}).want(t, http.StatusNoContent, "revoke")
	ls.do(call{method: "GET", path: "/api/v1/account", token: tok.Secret}).problem(t, http.StatusUnauthorized, "unauthenticated")
	ls.do(call{method: "DELETE", path: "/api/v1/account/tokens/" + tok.ID, token: reader.token}).problem(t, http.StatusNotFound, "not-found")
	// One may not revoke another's token.
	_, other, err := ls.acc.NewToken(context.Background(), "editor", "editor's")
	if err != nil {
		t.Fatal(err)
	}
	ls.do(call{method: "DELETE", path: "/api/v1/account/tokens/" + other.ID, token: reader.token}).problem(t, http.StatusNotFound, "not-found")

	for _, h := range []string{"Bearer pt_madeup", "Bearer not-a-token", "Basic cmVhZGVyOnB3", "Bearer "} {
		ls.do(call{method: "GET", path: "/api/v1/keys", header: map[string]string{"Authorization": h}}).
			problem(t, http.StatusUnauthorized, "unauthenticated")
	}
}
