package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/record"
)

// testPassword is every test account's password.
const testPassword = "correct horse battery staple"

// liveServer is a server on a loopback port over a fresh record holding the
// seed case, with one account (and API token) per role.
type liveServer struct {
	t     *testing.T
	rec   *record.Record
	acc   *account.Service
	srv   *Server
	http  *httptest.Server
	users map[account.Role]*testUser
	// notes numbers the notes signNote makes, so that each is new.
	notes *atomic.Int64
}

// on returns ls failing t, for use in a subtest.
func (ls *liveServer) on(t *testing.T) *liveServer {
	c := *ls
	c.t = t
	return &c
}

// A testUser is an account the test signs in as.
type testUser struct {
	name  string
	role  account.Role
	token string
}

// startLive starts a liveServer with opts; seed says whether to load the
// seed case.
func startLive(t *testing.T, opts Options, seed bool) *liveServer {
	t.Helper()
	ctx := context.Background()
	rec, err := record.Init(ctx, t.TempDir(), "test.parley.example/record")
	if err != nil {
		t.Fatalf("init record: %v", err)
	}
	t.Cleanup(func() { rec.Close() })
	if seed {
		if _, err := rec.LoadSeed(ctx); err != nil {
			t.Fatalf("load seed: %v", err)
		}
	}
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := New(rec, acc, opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	ls := &liveServer{t: t, rec: rec, acc: acc, srv: srv, http: hs, users: map[account.Role]*testUser{}, notes: new(atomic.Int64)}
	for _, role := range account.Roles {
		ls.users[role] = ls.newUser(string(role), role)
	}
	return ls
}

// newUser makes an account with an API token.
func (ls *liveServer) newUser(name string, role account.Role) *testUser {
	ls.t.Helper()
	ctx := context.Background()
	if _, err := ls.acc.Create(ctx, name, testPassword, role, ""); err != nil {
		ls.t.Fatalf("create account %s: %v", name, err)
	}
	secret, _, err := ls.acc.NewToken(ctx, name, "tests")
	if err != nil {
		ls.t.Fatalf("token for %s: %v", name, err)
	}
	return &testUser{name: name, role: role, token: secret}
}

// A call is one request: with token or cookie (and csrf) as given.
type call struct {
	method, path string
	// body is sent as is if it is []byte or string, else as JSON.
	body        any
	contentType string // default application/json when there is a body
	token       string
	cookie      string
	csrf        string
	header      map[string]string
}

// A reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
	cookie *http.Cookie // the session cookie set, if any
}

// do makes the call and reads the reply.
func (ls *liveServer) do(c call) reply {
	ls.t.Helper()
	resp := ls.send(context.Background(), c)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ls.t.Fatalf("%s %s: read body: %v", c.method, c.path, err)
	}
	out := reply{status: resp.StatusCode, header: resp.Header, body: b}
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			out.cookie = ck
		}
	}
	return out
}

// send makes the call and returns the response unread, for streams.
func (ls *liveServer) send(ctx context.Context, c call) *http.Response {
	ls.t.Helper()
	var body io.Reader
	switch b := c.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			ls.t.Fatalf("%s %s: encode body: %v", c.method, c.path, err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, ls.http.URL+c.path, body)
	if err != nil {
		ls.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	if body != nil {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := ls.http.Client().Do(req)
	if err != nil {
		ls.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	return resp
}

// decode reads the reply's JSON body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// want fails the test unless the reply has status.
func (r reply) want(t *testing.T, status int, what string) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}

// problem reads the reply as a problem detail and checks that it is one:
// the media type, the type URI from the kind, the status repeated.
func (r reply) problem(t *testing.T, status int, kind string) Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	r.decode(t, &p)
	if p.Kind != kind || p.Type != "/api/v1/problems/"+kind || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem %+v, want kind %s, type /api/v1/problems/%s, status %d, a title and a detail", p, kind, kind, status)
	}
	return p
}

// signIn signs in with name and password and returns the cookie value and
// the session's CSRF token.
func (ls *liveServer) signIn(name string) (cookie, csrf string) {
	ls.t.Helper()
	r := ls.do(call{method: "POST", path: "/api/v1/session", body: SignIn{Name: name, Password: testPassword}})
	r.want(ls.t, http.StatusOK, "sign in as "+name)
	var s SessionJSON
	r.decode(ls.t, &s)
	if r.cookie == nil || r.cookie.Value == "" || s.CSRF == "" {
		ls.t.Fatalf("sign in as %s: no cookie or no CSRF token: %s", name, r.body)
	}
	return r.cookie.Value, s.CSRF
}

// newKey makes a signing key and registers it under u's account through
// the API.
func (ls *liveServer) newKey(u *testUser) note.Signer {
	ls.t.Helper()
	signer, vkey := generateKey(ls.t, u.name+"-key")
	ls.do(call{method: "POST", path: "/api/v1/account/keys", token: u.token, body: KeyRegistration{Key: vkey}}).
		want(ls.t, http.StatusCreated, "register a key for "+u.name)
	return signer
}

// generateKey makes a signing key called name, and its verifier key.
func generateKey(t *testing.T, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, vkey
}

// signNote signs a new note, as internal/entry signs entries.
func (ls *liveServer) signNote(signer note.Signer) *entry.Signed {
	ls.t.Helper()
	n := ls.notes.Add(1)
	body, err := entry.Object(map[string]any{"text": fmt.Sprintf("test note %d", n)})
	if err != nil {
		ls.t.Fatal(err)
	}
	at := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	se, err := entry.Sign(entry.Entry{Type: "note", Body: body, Time: at, Recorded: at,
		Sources: []entry.Source{{Citation: "a test"}}}, signer)
	if err != nil {
		ls.t.Fatal(err)
	}
	return se
}

// size is the record's size now.
func (ls *liveServer) size() int64 { return ls.rec.Log.Size() }
