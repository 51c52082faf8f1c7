package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
)

// An outcome is what the matrix expects of one caller on one route.
type outcome int

const (
	allowed    outcome = iota // neither 401 nor 403: the route let the caller in
	refused401                // not signed in, where signing in is needed
	refused403                // signed in, but the role is too low
)

// A matrixRow states, for one route, the outcome for each caller: anonymous
// on a server without and with PublicRead, and each role. The outcomes are
// written out here, not derived from routes(): the point is to say them
// twice, independently.
type matrixRow struct {
	pattern                        string
	anon, public                   outcome
	reader, editor, monitor, admin outcome
	request                        func(m *matrix, u *testUser) call
	stream                         bool // the response is a stream: read the status only
}

// matrixRows is the role × endpoint matrix. A channel is hidden (404) from
// anyone not a member, and the requests name no real channel: for the
// channel routes the matrix only says who gets past the door.
//
// Columns: pattern; anonymous, anonymous on a PublicRead server; reader,
// editor, monitor, admin; the request; whether the answer is a stream.
var matrixRows = []matrixRow{
	{"GET /healthz", allowed, allowed, allowed, allowed, allowed, allowed, get("/healthz"), false},
	{"GET /readyz", allowed, allowed, allowed, allowed, allowed, allowed, get("/readyz"), false},
	{"GET /metrics", refused401, refused401, refused403, refused403, refused403, allowed, get("/metrics"), false},

	{"GET /checkpoint", refused401, allowed, allowed, allowed, allowed, allowed, get("/checkpoint"), false},
	{"GET /tile/{level}/{path...}", refused401, allowed, allowed, allowed, allowed, allowed, get("/tile/0/000.p/1"), false},

	{"GET /api/v1/openapi.json", allowed, allowed, allowed, allowed, allowed, allowed, get("/api/v1/openapi.json"), false},
	{"GET /api/v1/problems/{kind}", allowed, allowed, allowed, allowed, allowed, allowed, get("/api/v1/problems/invalid"), false},

	{"GET /api/v1/entries", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/entries?from=0&to=5"), false},
	{"GET /api/v1/entries/{index}", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/entries/0"), false},
	// A monitor may use the append routes, but files and reviews only
	// incident reports: a note from a monitor is refused, 403.
	{"POST /api/v1/entries", refused401, refused401, refused403, allowed, refused403, allowed, func(m *matrix, u *testUser) call {
		return call{method: "POST", path: "/api/v1/entries", body: m.ls.signNote(m.signerOf(u)).Leaf()}
	}, false},
	{"POST /api/v1/batches", refused401, refused401, refused403, allowed, refused403, allowed, func(m *matrix, u *testUser) call {
		s := m.signerOf(u)
		body := `{"entries":[` + string(m.ls.signNote(s).Leaf()) + `,` + string(m.ls.signNote(s).Leaf()) + `]}`
		return call{method: "POST", path: "/api/v1/batches", body: body}
	}, false},
	{"GET /api/v1/checkpoint", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/checkpoint"), false},
	{"GET /api/v1/checkpoints", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/checkpoints?from=1"), false},
	{"GET /api/v1/proofs/inclusion", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/proofs/inclusion?index=0"), false},
	{"GET /api/v1/proofs/consistency", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/proofs/consistency?from=1"), false},
	{"GET /api/v1/bundle", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/bundle"), false},
	{"GET /api/v1/feed", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/feed?from=0"), true},
	{"GET /api/v1/types", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/types"), false},
	{"GET /api/v1/keys", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/keys"), false},
	{"GET /api/v1/entities", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/entities?kind=party"), false},

	{"GET /api/v1/ask/{question}", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/ask/pending"), false},
	{"GET /api/v1/reports/daily", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/reports/daily?date=2025-03-22"), false},

	{"POST /api/v1/session", allowed, allowed, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		name := "reader" // anonymous signs in as someone: that is what the route is for
		if u != nil {
			name = u.name
		}
		return call{method: "POST", path: "/api/v1/session", body: SignIn{Name: name, Password: testPassword}}
	}, false},
	{"GET /api/v1/session", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/session"), false},
	{"DELETE /api/v1/session", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		c := call{method: "DELETE", path: "/api/v1/session"}
		if u != nil { // signing out is done with the session, not a token
			c.cookie, c.csrf = m.ls.signIn(u.name)
		}
		return c
	}, false},
	{"GET /api/v1/account", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/account"), false},
	{"PUT /api/v1/account/password", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "PUT", path: "/api/v1/account/password", body: PasswordChange{Current: testPassword, New: testPassword}}
	}, false},
	{"PUT /api/v1/account/recipient", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			m.t.Fatal(err)
		}
		return call{method: "PUT", path: "/api/v1/account/recipient", body: RecipientJSON{Recipient: id.Recipient().String()}}
	}, false},
	{"POST /api/v1/account/keys", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		_, vkey, err := note.GenerateKey(rand.Reader, "matrix-key")
		if err != nil {
			m.t.Fatal(err)
		}
		return call{method: "POST", path: "/api/v1/account/keys", body: KeyRegistration{Key: vkey}}
	}, false},
	{"POST /api/v1/account/tokens", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "POST", path: "/api/v1/account/tokens", body: TokenRequest{Label: "matrix"}}
	}, false},
	{"GET /api/v1/account/tokens", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/account/tokens"), false},
	{"DELETE /api/v1/account/tokens/{id}", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		id := "00000000"
		if u != nil {
			_, tok, err := m.ls.acc.NewToken(context.Background(), u.name, "to revoke")
			if err != nil {
				m.t.Fatal(err)
			}
			id = tok.ID
		}
		return call{method: "DELETE", path: "/api/v1/account/tokens/" + id}
	}, false},

	{"POST /api/v1/channels", refused401, refused401, refused403, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "POST", path: "/api/v1/channels", body: map[string]any{"name": "back channel", "members": []string{"reader"}}}
	}, false},
	{"GET /api/v1/channels", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/channels"), false},
	{"GET /api/v1/channels/{id}", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/channels/c1"), false},
	{"POST /api/v1/channels/{id}/members", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "POST", path: "/api/v1/channels/c1/members", body: map[string]any{"account": "reader"}}
	}, false},
	{"DELETE /api/v1/channels/{id}/members/{account}", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "DELETE", path: "/api/v1/channels/c1/members/reader"}
	}, false},
	{"POST /api/v1/channels/{id}/entries", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "POST", path: "/api/v1/channels/c1/entries", body: map[string]any{
			"epoch": 0, "commitment": "sha256:00", "ciphertext": base64.StdEncoding.EncodeToString([]byte("sealed"))}}
	}, false},
	{"GET /api/v1/channels/{id}/entries", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/channels/c1/entries"), false},
	{"GET /api/v1/channels/{id}/entries/{index}", refused401, refused401, allowed, allowed, allowed, allowed, get("/api/v1/channels/c1/entries/0"), false},

	{"POST /api/v1/evidence", refused401, refused401, refused403, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		return call{method: "POST", path: "/api/v1/evidence?name=matrix.txt", body: "a matrix upload", contentType: "text/plain"}
	}, false},
	{"GET /api/v1/evidence/{sha256}", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/evidence/" + strings.Repeat("0", 64)), false},
	{"GET /api/v1/evidence/{sha256}/meta", refused401, allowed, allowed, allowed, allowed, allowed, get("/api/v1/evidence/" + strings.Repeat("0", 64) + "/meta"), false},

	{"GET /api/v1/accounts", refused401, refused401, refused403, refused403, refused403, allowed, get("/api/v1/accounts"), false},
	{"POST /api/v1/accounts", refused401, refused401, refused403, refused403, refused403, allowed, func(m *matrix, u *testUser) call {
		name := "made-by-anyone"
		if u != nil {
			name = "made-by-" + u.name
		}
		return call{method: "POST", path: "/api/v1/accounts", body: NewAccount{Name: name, Password: testPassword, Role: "reader"}}
	}, false},
	{"PATCH /api/v1/accounts/{name}", refused401, refused401, refused403, refused403, refused403, allowed, func(m *matrix, u *testUser) call {
		role := "editor"
		return call{method: "PATCH", path: "/api/v1/accounts/target", body: AccountChange{Role: &role}}
	}, false},
	{"DELETE /api/v1/keys/{id}", refused401, refused401, allowed, allowed, allowed, allowed, func(m *matrix, u *testUser) call {
		id := "nobody"
		if u != nil { // one's own key, registered for the purpose
			s := m.ls.newKey(u)
			id = entry.KeyID(s.Name(), s.KeyHash())
		}
		return call{method: "DELETE", path: "/api/v1/keys/" + id}
	}, false},
}

// get is a request builder for a plain GET.
func get(path string) func(*matrix, *testUser) call {
	return func(*matrix, *testUser) call { return call{method: "GET", path: path} }
}

// A matrix is a live server set up for the matrix: each account has a key
// registered through the API, and there is an account for admins to change.
type matrix struct {
	t       *testing.T
	ls      *liveServer
	signers map[string]note.Signer
}

func newMatrix(t *testing.T, opts Options) *matrix {
	ls := startLive(t, opts, true)
	m := &matrix{t: t, ls: ls, signers: map[string]note.Signer{}}
	for _, u := range ls.users {
		m.signers[u.name] = ls.newKey(u)
	}
	ls.newUser("target", account.Reader)
	return m
}

// signerOf is the signer of u's entries; anonymous callers send an
// editor's entry (which they are refused before it is read).
func (m *matrix) signerOf(u *testUser) note.Signer {
	if u == nil {
		return m.signers["editor"]
	}
	return m.signers[u.name]
}

// run makes row's request as u and checks the outcome.
func (m *matrix) run(t *testing.T, row matrixRow, u *testUser, want outcome) {
	t.Helper()
	m = &matrix{t: t, ls: m.ls.on(t), signers: m.signers}
	c := row.request(m, u)
	if u != nil && c.cookie == "" {
		c.token = u.token
	}
	var r reply
	if row.stream {
		ctx, cancel := context.WithCancel(context.Background())
		resp := m.ls.send(ctx, c)
		r = reply{status: resp.StatusCode, header: resp.Header}
		if resp.StatusCode >= 400 { // a refusal is short: read it
			r.body, _ = io.ReadAll(resp.Body)
		}
		cancel()
		resp.Body.Close()
	} else {
		r = m.ls.do(c)
	}
	what := c.method + " " + c.path
	switch want {
	case allowed:
		if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden || r.status >= 500 {
			t.Errorf("%s: %d, want it allowed: %s", what, r.status, r.body)
		}
	case refused401:
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401: %s", what, r.status, r.body)
			return
		}
		r.problem(t, http.StatusUnauthorized, "unauthenticated")
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", what)
		}
	case refused403:
		if r.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403: %s", what, r.status, r.body)
			return
		}
		r.problem(t, http.StatusForbidden, "forbidden")
	}
}

// TestMatrix checks every route, for anonymous callers and each role,
// against the matrix; then anonymous callers on a server with PublicRead.
func TestMatrix(t *testing.T) {
	m := newMatrix(t, Options{})
	rows := map[string]matrixRow{}
	for _, row := range matrixRows {
		rows[row.pattern] = row
	}
	routes := map[string]bool{}
	for _, rt := range m.ls.srv.routes() {
		routes[rt.pattern] = true
		if _, ok := rows[rt.pattern]; !ok {
			t.Errorf("route %s has no row in the matrix: say who may use it", rt.pattern)
		}
	}
	for _, row := range matrixRows {
		if !routes[row.pattern] {
			t.Errorf("the matrix has a row for %s, which is not a route", row.pattern)
		}
	}

	callers := []struct {
		name string
		user *testUser
		want func(matrixRow) outcome
	}{
		{"anonymous", nil, func(r matrixRow) outcome { return r.anon }},
		{"reader", m.ls.users[account.Reader], func(r matrixRow) outcome { return r.reader }},
		{"editor", m.ls.users[account.Editor], func(r matrixRow) outcome { return r.editor }},
		{"monitor", m.ls.users[account.Monitor], func(r matrixRow) outcome { return r.monitor }},
		{"admin", m.ls.users[account.Admin], func(r matrixRow) outcome { return r.admin }},
	}
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			for _, row := range matrixRows {
				m.run(t, row, c.user, c.want(row))
			}
		})
	}

	t.Run("public-read", func(t *testing.T) {
		pm := newMatrix(t, Options{PublicRead: true})
		size := pm.ls.size()
		for _, row := range matrixRows {
			pm.run(t, row, nil, row.public)
		}
		if got := pm.ls.size(); got != size {
			t.Errorf("anonymous callers changed the record of a public server: size %d, was %d", got, size)
		}
	})
}
