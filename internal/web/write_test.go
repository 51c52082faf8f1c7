package web_test

// Tests of the pages that write (pages_write.go), the entities API they
// sit beside, and the proof that an entry built and signed the way
// static/sign.js builds and signs it is one the server verifies.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/record"
	"parley/internal/server"
	"parley/internal/store"
	"parley/internal/vocab"
)

// wPassword is every test account's password.
const wPassword = "correct horse battery staple"

// wSite is a server over a fresh record holding the seed case, with an
// account per role: admin, editor (for Ukraine), monitor, reader.
type wSite struct {
	t   *testing.T
	rec *record.Record
	acc *account.Service
	hs  *httptest.Server
}

func wStart(t *testing.T) *wSite {
	t.Helper()
	ctx := context.Background()
	rec, err := record.Init(ctx, t.TempDir(), "test.parley.example/web-write")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	if _, err := rec.LoadSeed(ctx); err != nil {
		t.Fatal(err)
	}
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	for _, a := range []struct {
		name  string
		role  account.Role
		party string
	}{{"admin", account.Admin, ""}, {"editor", account.Editor, "ukraine"}, {"monitor", account.Monitor, ""}, {"reader", account.Reader, ""}} {
		if _, err := acc.Create(ctx, a.name, wPassword, a.role, a.party); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(rec, acc, server.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), InsecureCookies: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &wSite{t: t, rec: rec, acc: acc, hs: hs}
}

// A wSession is a signed-in browser: its cookie and CSRF token.
type wSession struct {
	name, cookie, csrf string
}

func (s *wSite) signIn(name string) wSession {
	s.t.Helper()
	if name == "" {
		return wSession{}
	}
	r := s.do(wSession{}, "POST", "/api/v1/session", fmt.Sprintf(`{"name":%q,"password":%q}`, name, wPassword))
	if r.status != http.StatusOK {
		s.t.Fatalf("sign in as %s: %d %s", name, r.status, r.body)
	}
	var out struct {
		CSRF string `json:"csrf"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		s.t.Fatal(err)
	}
	for _, c := range r.cookies {
		if c.Name == server.SessionCookie {
			return wSession{name: name, cookie: c.Value, csrf: out.CSRF}
		}
	}
	s.t.Fatalf("sign in as %s: no cookie", name)
	return wSession{}
}

type wReply struct {
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
}

// do makes a request as the session does from a page: with its cookie, and
// with its CSRF token on what changes something. Redirects are not followed.
func (s *wSite) do(as wSession, method, path, body string) wReply {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.hs.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if as.cookie != "" {
		req.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: as.cookie})
		if method != "GET" {
			req.Header.Set(server.CSRFHeader, as.csrf)
		}
	}
	c := s.hs.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return wReply{status: resp.StatusCode, header: resp.Header, body: b, cookies: resp.Cookies()}
}

// registerKey registers vkey under the session's account, as the account
// page does.
func (s *wSite) registerKey(as wSession, vkey string) {
	s.t.Helper()
	r := s.do(as, "POST", "/api/v1/account/keys", fmt.Sprintf(`{"key":%q}`, vkey))
	if r.status != http.StatusCreated {
		s.t.Fatalf("register key for %s: %d %s", as.name, r.status, r.body)
	}
}

// inlineCode finds what the Content-Security-Policy would block: event
// handler attributes, style attributes, and scripts that are neither
// files nor JSON data.
var inlineCode = regexp.MustCompile(`(?i)\son[a-z]+\s*=|\sstyle\s*=|<script(?:\s+(?:defer|async))*\s*>|javascript:`)

// TestWritePages renders each page of pages_write.go for the roles that
// may see it, and checks the refusals of those who may not.
func TestWritePages(t *testing.T) {
	s := wStart(t)
	ctx := context.Background()
	editor, reader, admin, monitor := s.signIn("editor"), s.signIn("reader"), s.signIn("admin"), s.signIn("monitor")

	// A key of the editor's, and a channel of the editor's with the admin.
	_, vkey := wKey(t, "editor-cli")
	s.registerKey(editor, vkey)
	r := s.do(editor, "POST", "/api/v1/channels", `{"name":"back channel","members":["admin"]}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create channel: %d %s", r.status, r.body)
	}
	var ch struct {
		ID string `json:"id"`
	}
	json.Unmarshal(r.body, &ch)
	if _, _, err := s.acc.NewToken(ctx, "editor", "laptop CLI"); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		as     wSession
		path   string
		status int
		want   []string
		absent []string
	}{
		{editor, "/add", 200, []string{`<a href="/add/position" id="add-position">`, `id="add-note"`, `<a href="/add" aria-current="page">Add</a>`,
			`<h2 id="h-add-monitoring">`, `id="add-agreement"`, `id="add-report"`}, []string{`id="add-review"`, `id="add-duplicate"`, `id="monitor-note"`}},
		{admin, "/add", 200, []string{`id="add-statement"`, `href="/admin"`, `id="add-agreement"`, `id="add-report"`, `id="add-review"`, `id="add-duplicate"`}, nil},
		{monitor, "/add", 200, []string{`id="monitor-note"`, `<a href="/add/report" id="add-report">`, `id="add-review"`, `id="add-duplicate"`},
			[]string{`id="add-types"`, `id="add-statement"`, `id="add-position"`, `id="add-note"`, `id="add-agreement"`}},
		{monitor, "/add/position", 403, []string{"a monitor files and reviews incident reports"}, nil},
		{monitor, "/add/agreement", 403, nil, nil},
		{editor, "/add/review", 403, []string{"only monitors review incidents"}, nil},
		{editor, "/add/duplicate", 403, nil, nil},
		{editor, "/add/agreement", 200, []string{`<input id="id" name="id" type="text" list="id-existing"`, `<option value="ceasefire-2025-03">`,
			`<select id="parties" name="parties" multiple`, `<input id="days" name="days" type="text" inputmode="numeric"`,
			`<select id="scope" name="scope" multiple size="4"`, `<option value="energy-infrastructure">energy-infrastructure</option>`,
			`<select id="status" name="status"`, `<option value="in-force">`, `<select id="monitors" name="monitors" multiple`}, nil},
		{monitor, "/add/report", 200, []string{`<select id="agreement" name="agreement"`, `<option value="agreement/ceasefire-2025-03">`,
			`<select id="reported_by" name="reported_by"`, `<optgroup label="party">`,
			`<fieldset class="group" id="incidents" aria-describedby="incidents-hint incidents-error">`,
			`<input id="incidents-time" name="incidents-time" type="datetime-local"`,
			`<input id="incidents-lat" name="incidents-lat" type="text" inputmode="decimal"`, `<input id="incidents-lon" name="incidents-lon" type="text" inputmode="decimal"`,
			`<p class="field-error" id="incidents-lat-error" hidden></p>`,
			`<select id="incidents-precision" name="incidents-precision"`, `<option value="region">region</option>`,
			`<select id="incidents-categories" name="incidents-categories" multiple size="8"`,
			`<option value="shelling">Shelling / artillery fire</option>`, `<option value="other">Other violation</option>`,
			`<input id="incidents-count" name="incidents-count" type="text" inputmode="numeric"`, `<select id="incidents-against" name="incidents-against"`,
			`<textarea id="incidents-evidence" name="incidents-evidence" rows="2" spellcheck="false"`, `<textarea id="evidence" name="evidence"`,
			`<datalist id="id-existing">`, `<option value="ua-0320">`}, nil},
		{monitor, "/add/review", 200, []string{`<select id="incident" name="incident"`, `<option value="incident/ua-0320.1">ua-0320.1 · `,
			`<select id="status" name="status"`, `<option value="under-review">under-review</option>`, `<option value="verified">`,
			`from reported, `, `: under-review; from under-review: verified, unverified, disputed, rejected`,
			`<textarea id="reasoning" name="reasoning"`, `<textarea id="evidence" name="evidence"`}, []string{`<option value="reported">`}},
		{monitor, "/add/duplicate", 200, []string{`<select id="incident" name="incident"`, `<select id="same_as" name="same_as"`, `<textarea id="reason" name="reason"`}, nil},
		{reader, "/add", 403, nil, []string{`href="/add"`}},
		{reader, "/add/position", 403, nil, nil},
		{wSession{}, "/add", 303, nil, nil},
		{editor, "/add/position", 200, []string{
			`<select id="party" name="party"`, `<option value="party/ukraine" selected>Ukraine</option>`, `<option value="party/russia">Russia</option>`,
			`<select id="proposal" name="proposal"`, `<select id="stance" name="stance"`, `<option value="accepts-in-principle">`,
			`<textarea id="conditions" name="conditions"`, `<select id="statement" name="statement"`,
			`<p class="field-error" id="party-error" hidden></p>`, `aria-describedby="party-error"`, `aria-describedby="conditions-hint conditions-error"`,
			`<input id="time" name="time" type="datetime-local"`, `<textarea id="sources" name="sources"`, `<input id="corrects" name="corrects" type="number"`,
			`<button type="button" id="preview">`, `<button type="button" id="sign-submit">`, `<pre id="preview-json"`, `<output id="add-result"`,
			`<script type="application/json" id="form-spec">`, `<script type="application/json" id="account-keys">`, `"editor-cli+`,
			`data-account="editor"`, `<script src="/static/sign.js" defer></script>`, `id="no-key"`, `href="/account"`,
		}, nil},
		{editor, "/add/message", 200, []string{`<select id="from" name="from"`, `<select id="via-0" name="via-0"`, `<select id="via-2"`, `<option value="actor/witkoff">`}, nil},
		{editor, "/add/actor", 200, []string{`<fieldset class="group" id="titles"`, `<input id="titles-title" name="titles-title"`, `<datalist id="id-existing">`, `<option value="putin">`}, nil},
		{editor, "/add/assessment", 200, []string{`<select id="of" name="of"`, `<optgroup label="proposal">`}, nil},
		{editor, "/add/nonsense", 404, nil, nil},
		{editor, "/account", 200, []string{`id="account-name">editor<`, `id="account-role">editor<`, `id="account-party">ukraine<`,
			`<button type="button" id="make-key">`, `<output id="key-status"`, `id="key-prompt"`, `<tr data-key-id="editor-cli&#43;`,
			`class="revoke-key" data-key-id="editor-cli&#43;`, `<form id="token-form"`, `<input id="token-label"`, `<button type="submit" id="make-token">`,
			`<output id="token-secret"`, `laptop CLI`, `class="revoke-token"`, `href="/channels"`}, []string{"operator"}},
		{reader, "/account", 200, []string{`id="account-role">reader<`, `id="no-keys" class="empty">`}, []string{`href="/add"`, `href="/admin"`}},
		{wSession{}, "/account", 303, nil, nil},
		{admin, "/admin", 200, []string{`<table id="account-list">`, `<tr data-account="editor">`, `<select id="role-editor" class="account-role"`,
			`<option value="editor" selected>editor</option>`, `<select id="party-editor"`, `<option value="ukraine" selected>Ukraine</option>`,
			`<input type="checkbox" id="disabled-editor"`, `class="save-account" data-account="editor"`,
			`<form id="new-account"`, `<input id="new-account-name"`, `<input id="new-account-password"`, `<select id="new-account-role"`,
			`<select id="new-account-party"`, `<button type="submit" id="create-account">`, `<output id="admin-result">`,
			`<table id="channel-list">`, `back channel`, `<table id="key-list">`, `class="revoke-key" data-key-id="editor-cli&#43;`, `(the record's operator)`}, nil},
		{editor, "/admin", 403, nil, nil},
		{reader, "/admin", 403, nil, nil},
		{editor, "/channels", 200, []string{`<table id="channel-list">`, `<a href="/channels/` + ch.ID + `">back channel</a>`}, nil},
		{reader, "/channels", 200, []string{`id="no-channels"`}, []string{"back channel"}},
		{editor, "/channels/" + ch.ID, 200, []string{`<h1>back channel</h1>`, `<table id="member-list">`, `<tr data-account="admin">`, `id="read-hint"`,
			"channel read " + ch.ID, `id="no-sealed"`}, nil},
		{admin, "/channels/" + ch.ID, 200, []string{`<tr data-account="editor">`}, nil},
		{reader, "/channels/" + ch.ID, 404, []string{"no such channel"}, []string{"back channel"}},
		{editor, "/channels/0123456789abcdef", 404, []string{"no such channel"}, nil},
		{editor, "/channels/not-an-id", 404, []string{"no such channel"}, nil},
	} {
		t.Run(c.as.name+c.path, func(t *testing.T) {
			r := s.do(c.as, "GET", c.path, "")
			if r.status != c.status {
				t.Fatalf("GET %s as %q: %d, want %d: %.300s", c.path, c.as.name, r.status, c.status, r.body)
			}
			body := string(r.body)
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s as %q: no %s", c.path, c.as.name, w)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(body, a) {
					t.Errorf("GET %s as %q: has %s, which it should not", c.path, c.as.name, a)
				}
			}
			if c.status == 200 {
				if m := inlineCode.FindString(body); m != "" {
					t.Errorf("GET %s: %q: the CSP would block it", c.path, m)
				}
				if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
					t.Errorf("GET %s: no CSP", c.path)
				}
			}
		})
	}

	// Every add form: every field the form spec names has its element, and
	// the fields are the JSON members of the type's body (a group's parts
	// those of its items), the required ones among them, each entered in
	// a way that makes the JSON its member reads. An admin may add every
	// type but the operator's.
	types := wListed(t, s, admin)
	var want []string
	for _, ty := range s.rec.Log.Types().Types() {
		if !slices.Contains([]string{"key.register", "key.revoke", "sealed"}, ty.Name) {
			want = append(want, ty.Name)
		}
	}
	if got := slices.Sorted(slices.Values(types)); !slices.Equal(got, want) {
		t.Errorf("/add lists %v to an admin, want every type of the vocabulary: %v", got, want)
	}
	for _, typ := range types {
		t.Run("form/"+typ, func(t *testing.T) {
			r := s.do(admin, "GET", "/add/"+typ, "")
			if r.status != 200 {
				t.Fatalf("GET /add/%s: %d", typ, r.status)
			}
			spec := readFormSpec(t, r.body)
			if spec.Type != typ {
				t.Errorf("spec type %q", spec.Type)
			}
			ty, ok := s.rec.Log.Types().Lookup(typ)
			if !ok {
				t.Fatalf("%s is not a type of the record", typ)
			}
			wCheckFields(t, typ, "", reflect.TypeOf(ty.New()).Elem(), spec.Body)
			var check func(fs []wFieldSpec)
			check = func(fs []wFieldSpec) {
				for _, f := range fs {
					ids := append([]string{f.ID}, f.Chain...)
					for _, id := range ids {
						if !bytes.Contains(r.body, []byte(`id="`+id+`"`)) {
							t.Errorf("no element #%s", id)
						}
					}
					if !bytes.Contains(r.body, []byte(`id="`+f.ID+`-error"`)) {
						t.Errorf("no #%s-error", f.ID)
					}
					if f.Label == "" {
						t.Errorf("field %s has no label", f.ID)
					}
					check(f.Parts)
				}
			}
			check(spec.Body)
			check(spec.Entry)
		})
	}
}

// wInputShapes are the Go types each way of entering a field makes JSON
// for (pages_write.go, sign.js's field).
var wInputShapes = map[string][]reflect.Type{
	"text":     {reflect.TypeFor[string]()},
	"suggest":  {reflect.TypeFor[string]()},
	"textarea": {reflect.TypeFor[string]()},
	"select":   {reflect.TypeFor[string]()},
	"entity":   {reflect.TypeFor[string]()},
	"id":       {reflect.TypeFor[string]()},
	"datetime": {reflect.TypeFor[string]()},
	"lines":    {reflect.TypeFor[[]string]()},
	"entities": {reflect.TypeFor[[]string]()},
	"choices":  {reflect.TypeFor[[]string]()},
	"chain":    {reflect.TypeFor[[]string]()},
	"int":      {reflect.TypeFor[int64](), reflect.TypeFor[*int64]()},
	"ints":     {reflect.TypeFor[[]int64]()},
	"number":   {reflect.TypeFor[int]()},
	"decimal":  {reflect.TypeFor[*float64](), reflect.TypeFor[float64]()},
	"evidence": {reflect.TypeFor[[]vocab.Evidence]()},
}

// wCheckFields checks a form's fields against the struct typ their JSON
// fills (the body of the entry type what, or at "incidents/" one of its
// items): each is a member, entered in a way that makes its type; every
// member without omitempty has a field; a group's parts are checked
// against its items' struct.
func wCheckFields(t *testing.T, what, at string, typ reflect.Type, fs []wFieldSpec) {
	t.Helper()
	members, required := wMembers(typ)
	var named []string
	for _, f := range fs {
		named = append(named, f.Name)
		if !slices.Contains(members, f.Name) {
			t.Errorf("field %s%s is not a member of the %s body (%s%v)", at, f.Name, what, at, members)
			continue
		}
		member := wMemberType(typ, f.Name)
		if f.Input == "group" {
			if member.Kind() != reflect.Slice || member.Elem().Kind() != reflect.Struct {
				t.Errorf("field %s%s is a group, but the %s body's %s%s is a %v, not a list of objects", at, f.Name, what, at, f.Name, member)
				continue
			}
			wCheckFields(t, what, at+f.Name+"/", member.Elem(), f.Parts)
			continue
		}
		if shapes, ok := wInputShapes[f.Input]; !ok {
			t.Errorf("field %s%s: input %q is not one this test knows", at, f.Name, f.Input)
		} else if !slices.Contains(shapes, member) {
			t.Errorf("field %s%s is entered as %s, which makes %v, but the %s body's %s%s is a %v", at, f.Name, f.Input, shapes, what, at, f.Name, member)
		}
	}
	for _, req := range required {
		if !slices.Contains(named, req) {
			t.Errorf("the %s body's member %s%s, which it requires, has no field", what, at, req)
		}
	}
}

// wMemberType is the Go type of the struct's JSON member name.
func wMemberType(typ reflect.Type, name string) reflect.Type {
	for f := range typ.Fields() {
		if n, _, _ := strings.Cut(f.Tag.Get("json"), ","); n == name {
			return f.Type
		}
	}
	return nil
}

// TestAddFollowsServer checks the add page against the server's rules for
// each role: the types /add lists to the role, and whose forms it serves,
// are exactly those the server does not refuse (403) from it. Each type is
// tried with an empty body, signed with a key of the account's: refused
// for its content (400) where the role may append it.
func TestAddFollowsServer(t *testing.T) {
	s := wStart(t)
	all := map[string]bool{}
	for _, typ := range wListed(t, s, s.signIn("admin")) {
		all[typ] = true
	}
	for _, role := range []string{"admin", "editor", "monitor"} {
		t.Run(role, func(t *testing.T) {
			as := s.signIn(role)
			priv, vkey := wKey(t, role+"-test")
			s.registerKey(as, vkey)
			name, rest, _ := strings.Cut(vkey, "+")
			author := name + "+" + rest[:8]
			listed := wListed(t, s, as)
			for typ := range all {
				now := time.Now().UTC().Format(time.RFC3339)
				canonical := jsCanonical(map[string]any{"type": typ, "body": map[string]any{}, "time": now, "recorded": now, "author": author})
				sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(canonical)))
				r := s.do(as, "POST", "/api/v1/entries", `{"entry":`+canonical+`,"sig":"`+sig+`"}`)
				refused, offered := r.status == http.StatusForbidden, slices.Contains(listed, typ)
				if refused == offered {
					t.Errorf("/add offers %s to %s: %v; but the server answers an empty %s from %s with %d %s", typ, role, offered, typ, role, r.status, r.body)
				}
				form := s.do(as, "GET", "/add/"+typ, "")
				if (form.status == http.StatusOK) == refused {
					t.Errorf("GET /add/%s as %s: %d, but the server refuses %s entries from %s: %v", typ, role, form.status, typ, role, refused)
				}
			}
		})
	}
}

// wListed lists the types /add offers to the session's account.
func wListed(t *testing.T, s *wSite, as wSession) []string {
	t.Helper()
	page := s.do(as, "GET", "/add", "")
	if page.status != http.StatusOK {
		t.Fatalf("GET /add as %s: %d", as.name, page.status)
	}
	var out []string
	for _, m := range regexp.MustCompile(`<a href="/add/([a-z]+)" id="add-`).FindAllStringSubmatch(string(page.body), -1) {
		out = append(out, m[1])
	}
	return out
}

// wFieldSpec and wFormSpec read the #form-spec block (FormSpec).
type wFieldSpec struct {
	Name     string       `json:"name"`
	ID       string       `json:"id"`
	Label    string       `json:"label"`
	Input    string       `json:"input"`
	Required bool         `json:"required"`
	Parts    []wFieldSpec `json:"parts"`
	Chain    []string     `json:"chain"`
}

type wFormSpec struct {
	Type  string       `json:"type"`
	Body  []wFieldSpec `json:"body"`
	Entry []wFieldSpec `json:"entry"`
}

var formSpecBlock = regexp.MustCompile(`(?s)<script type="application/json" id="form-spec">(.*?)</script>`)

func readFormSpec(t *testing.T, page []byte) wFormSpec {
	t.Helper()
	m := formSpecBlock.FindSubmatch(page)
	if m == nil {
		t.Fatal("no #form-spec")
	}
	var spec wFormSpec
	if err := json.Unmarshal(bytes.TrimSpace(m[1]), &spec); err != nil {
		t.Fatalf("#form-spec: %v: %s", err, m[1])
	}
	return spec
}

// wMembers lists a body type's JSON members, and those without omitempty.
func wMembers(typ reflect.Type) (members, required []string) {
	for f := range typ.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		members = append(members, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	return members, required
}

// TestEntitiesAPI lists the entities of a kind, as the pickers offer them.
func TestEntitiesAPI(t *testing.T) {
	s := wStart(t)
	reader := s.signIn("reader")
	type list struct {
		Entities []struct {
			Key  string `json:"key"`
			Name string `json:"name"`
		} `json:"entities"`
		Truncated bool `json:"truncated"`
	}
	keys := func(path string) []string {
		t.Helper()
		r := s.do(reader, "GET", path, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var l list
		if err := json.Unmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range l.Entities {
			if e.Name == "" {
				t.Errorf("GET %s: %s has no name", path, e.Key)
			}
			out = append(out, e.Key)
		}
		return out
	}
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/api/v1/entities?kind=party", []string{"party/russia", "party/ukraine", "party/united-states"}},
		{"/api/v1/entities?kind=party&q=U", []string{"party/ukraine", "party/united-states"}},
		{"/api/v1/entities?kind=party&q=united%20s", []string{"party/united-states"}},
		{"/api/v1/entities?kind=party&q=party/r", []string{"party/russia"}},
		{"/api/v1/entities?kind=party&q=nobody", nil},
		{"/api/v1/entities?kind=party&limit=1", []string{"party/russia"}},
	} {
		if got := keys(c.path); !slices.Equal(got, c.want) {
			t.Errorf("GET %s: %v, want %v", c.path, got, c.want)
		}
	}
	if got := keys("/api/v1/entities?kind=talks"); len(got) != 1 || !strings.HasPrefix(got[0], "talks/") {
		t.Errorf("talks: %v", got)
	}
	if got := keys("/api/v1/entities?kind=actor"); !slices.Contains(got, "actor/putin") || !slices.Contains(got, "actor/witkoff") {
		t.Errorf("actors: %v", got)
	}
	for _, c := range []struct {
		as     wSession
		path   string
		status int
	}{
		{reader, "/api/v1/entities", 400},
		{reader, "/api/v1/entities?kind=unicorn", 400},
		{reader, "/api/v1/entities?kind=party&limit=x", 400},
		{wSession{}, "/api/v1/entities?kind=party", 401},
	} {
		if r := s.do(c.as, "GET", c.path, ""); r.status != c.status {
			t.Errorf("GET %s: %d, want %d: %s", c.path, r.status, c.status, r.body)
		}
	}
}

// wKey makes an Ed25519 key and its verifier key the way sign.js does
// (P.makeKey, P.verifierKey):
//
//  1. generate an Ed25519 key pair; export the public key raw (32 bytes);
//  2. key = 0x01 || pub (0x01: the signed-note algorithm byte for Ed25519);
//  3. hash = the first 4 bytes of SHA-256(name + "\n" + key), as 8
//     lower-case hex digits;
//  4. id = name + "+" + hash (the entry's author);
//     vkey = id + "+" + standard base64 of key, with padding.
func wKey(t *testing.T, name string) (ed25519.PrivateKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := append([]byte{1}, pub...)
	sum := sha256.Sum256(append([]byte(name+"\n"), key...))
	id := name + "+" + hex.EncodeToString(sum[:4])
	vkey := id + "+" + base64.StdEncoding.EncodeToString(key)
	// The same key as x/mod/sumdb/note spells it.
	if want, err := note.NewEd25519VerifierKey(name, pub); err != nil || want != vkey {
		t.Fatalf("verifier key %s, note says %s (%v)", vkey, want, err)
	}
	return priv, vkey
}

// jsCanonical writes v as sign.js's P.canonical does: objects with their
// members sorted by the UTF-16 code units of their names (JavaScript's
// default sort), arrays in order, strings as JSON.stringify writes them,
// integers in decimal; no whitespace.
func jsCanonical(v any) string {
	switch x := v.(type) {
	case string:
		return jsStringify(x)
	case int:
		return fmt.Sprint(x)
	case float64:
		// Number.prototype.toString, for the numbers a form makes: 0, and
		// from 1e-6 to 1e21 (a latitude, a longitude), which it writes
		// without an exponent, in the fewest digits that read back the same.
		if x == 0 {
			return "0"
		}
		if a := math.Abs(x); a < 1e-6 || a >= 1e21 {
			panic(fmt.Sprintf("jsCanonical: %v needs an exponent", x))
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return fmt.Sprint(x)
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsCanonical(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		names := make([]string, 0, len(x))
		for k := range x {
			names = append(names, k)
		}
		slices.SortFunc(names, func(a, b string) int { return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b))) })
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = jsStringify(k) + ":" + jsCanonical(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	panic(fmt.Sprintf("jsCanonical: %T", v))
}

// jsStringify is JSON.stringify of a string: " and \ escaped, \b \f \n \r
// \t for those controls, \u00xx (lower-case hex) for the other controls,
// everything else as it is (U+2028, "<", "/" and all non-ASCII included).
func jsStringify(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestJSShapedEntry builds a position the way sign.js's P.build does, signs
// it as P.sign does, and checks that package entry reads the same bytes as
// canonical, that the signature verifies, and that the server appends it:
//
//  1. the body: each field's value by its input — a picker's key
//     ("party/ukraine"), a list one item per line (trimmed, empty lines
//     dropped), empty fields left out;
//  2. the time: the datetime-local value taken as UTC, seconds added:
//     "2025-03-14T12:00" → "2025-03-14T12:00:00Z";
//  3. recorded: now, to the second, RFC 3339 in UTC ("…Z");
//  4. sources: one a line, "URL-or-citation | quote": {url} when it starts
//     with http:// or https://, else {citation}; quote only if given;
//  5. the entry {type, body, time, recorded, author, sources?, corrects?}:
//     sources and corrects left out when empty (omitempty in entry.Entry);
//  6. canonical JSON (jsCanonical), signed as its UTF-8 bytes with the
//     Ed25519 key: the 64-byte signature in standard base64 — note.Signer's
//     Sign, which entry.Sign calls, is exactly that (no key hash prefix);
//  7. POST /api/v1/entries {"entry":<canonical>,"sig":"<base64>"}.
func TestJSShapedEntry(t *testing.T) {
	t.Run("canonical", func(t *testing.T) {
		for _, v := range []any{
			map[string]any{"é": 1, "😀": 2, "ﬀ": 3, "a": 4, "B": 5, "aa": []any{"x", 0, true, nil}},
			map[string]any{"s": "quote \" back\\slash / tab\t nl\n cr\r bell\a nul\x00 \x1f del\x7f ünï “curly” 😀 </script> \u2028 \u2029 \ufeff"},
			map[string]any{"nested": map[string]any{"z": []any{map[string]any{"b": 1, "a": -7}}, "": "empty name"}},
			map[string]any{"lat": 48.398, "lon": -0.5, "whole": 37.0, "zero": math.Copysign(0, -1), "small": 0.000123, "big": 1.0e20 + 4096, "long": 0.1 + 0.2},
		} {
			js := jsCanonical(v)
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			goCanon, err := entry.Canonical(b)
			if err != nil {
				t.Fatal(err)
			}
			if js != string(goCanon) {
				t.Errorf("sign.js writes\n%s\nGo canonicalises to\n%s", js, goCanon)
			}
		}
	})

	s := wStart(t)
	editor := s.signIn("editor")
	priv, vkey := wKey(t, "editor-browser")
	s.registerKey(editor, vkey)
	name, rest, _ := strings.Cut(vkey, "+")
	author := name + "+" + rest[:8]

	now := time.Now().UTC().Truncate(time.Second)
	e := map[string]any{
		"type": "position",
		"body": map[string]any{
			"party":    "party/ukraine",
			"proposal": "proposal/" + wFirstID(t, s, "proposal"),
			"stance":   "accepts-with-conditions",
			"conditions": []any{
				"a \"verifiable\" halt — on all fronts",
				"énergie: no strikes on the grid 😀",
				"</script><b>not markup</b> \\ \t tabbed",
			},
		},
		"time":     "2025-03-14T12:00:00Z",
		"recorded": now.Format(time.RFC3339),
		"author":   author,
		"sources": []any{
			map[string]any{"url": "https://example.org/report", "quote": "accepted, with conditions"},
			map[string]any{"citation": "press conference, Kyiv"},
		},
	}
	canonical := jsCanonical(e)
	if c, err := entry.Canonical([]byte(canonical)); err != nil || string(c) != canonical {
		t.Fatalf("the entry as sign.js writes it is not canonical to Go:\n%s\n%s (%v)", canonical, c, err)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(canonical)))

	se, err := entry.FromParts(jsontext.Value(canonical), sig, 0)
	if err != nil {
		t.Fatalf("FromParts: %v", err)
	}
	if string(se.Canonical) != canonical {
		t.Errorf("entry signs\n%s\nnot\n%s", se.Canonical, canonical)
	}
	v, err := entry.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.Verify(v); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !se.Entry.Time.Equal(time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)) || !se.Entry.Recorded.Equal(now) || se.Entry.Author != author {
		t.Errorf("entry %+v", se.Entry)
	}

	wire := `{"entry":` + canonical + `,"sig":"` + sig + `"}`
	r := s.do(editor, "POST", "/api/v1/entries", wire)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /api/v1/entries: %d %s", r.status, r.body)
	}
	// The position is now the editor's party's on the record.
	if _, err := s.rec.Store().Size(context.Background()); err != nil {
		t.Fatal(err)
	}
	found := false
	err = s.rec.Store().Facts(context.Background(), store.FactQuery{Kind: "position", Object: "party/ukraine", Latest: true}, func(f store.Fact) error {
		found = found || bytes.Contains(f.Data, []byte("énergie"))
		return nil
	})
	if err != nil || !found {
		t.Errorf("the position is not on the record (%v)", err)
	}
}

// wFirstID is the id of the first entity of kind the entities API lists.
func wFirstID(t *testing.T, s *wSite, kind string) string {
	t.Helper()
	r := s.do(s.signIn("reader"), "GET", "/api/v1/entities?kind="+kind, "")
	var l struct {
		Entities []struct {
			Key string `json:"key"`
		} `json:"entities"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil || len(l.Entities) == 0 {
		t.Fatalf("no %s on the record: %s", kind, r.body)
	}
	_, id, _ := strings.Cut(l.Entities[0].Key, "/")
	return id
}

// signJSDriver runs sign.js's pure part under Node: it makes a key, builds
// the entry from the form spec and the values given, signs it, and prints
// the verifier key and the wire form, or the errors by field; and where
// refusals of the server's shapes point in the form.
const signJSDriver = `
const P = require(process.argv[2]);
const spec = JSON.parse(process.argv[3]);
const values = JSON.parse(process.argv[4]);
(async () => {
  const k = await P.makeKey(process.argv[5]);
  const b = P.build(spec, values, k.id, new Date());
  if (b.errors) { console.log(JSON.stringify({errors: b.errors})); return; }
  const sig = await P.sign(k.pair.privateKey, b.canonical);
  const refused = {where: "entry: body/party", detail: "entry: body/party: editor edits for ukraine, not party/russia"};
  const quoted = {where: "entry: actor body", detail: "entry: actor body: \"titles/0/title\" is required"};
  const lat = {where: "entry: report body", detail: "entry: report body: \"incidents/0/lat\" is 91, out of range: a latitude is from -90 to 90"};
  const hash = {where: "entry: body/incidents/0/evidence/0/sha256", detail: "entry: body/incidents/0/evidence/0/sha256: no file with SHA-256 … is stored here"};
  const report = ["id", "incidents", "incidents-lat", "incidents-evidence", "evidence"];
  console.log(JSON.stringify({vkey: k.vkey, canonical: b.canonical, wire: P.wire(b.canonical, sig),
    fieldOf: [P.fieldOf(refused, ["party"]), P.fieldOf(quoted, ["id", "titles", "titles-title"]), P.fieldOf(lat, report), P.fieldOf(hash, report)],
    detail: P.detailOf(refused)}));
})().catch(e => { console.error(e); process.exit(1); });
`

// signJSResult is what signJSDriver prints.
type signJSResult struct {
	Errors    map[string]string `json:"errors"`
	VKey      string            `json:"vkey"`
	Canonical string            `json:"canonical"`
	Wire      string            `json:"wire"`
	FieldOf   []string          `json:"fieldOf"`
	Detail    string            `json:"detail"`
}

// runSignJS runs static/sign.js under Node, where Node is installed: it
// builds and signs an entry from the add form at path, as account, with
// the values given by element id.
func runSignJS(t *testing.T, s *wSite, as wSession, path string, values map[string]any) signJSResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: sign.js is checked against its Go mirror only (TestJSShapedEntry)")
	}
	page := s.do(as, "GET", path, "")
	spec := formSpecBlock.FindSubmatch(page.body)
	if spec == nil {
		t.Fatalf("no #form-spec on %s", path)
	}
	vb, _ := json.Marshal(values)
	driver := filepath.Join(t.TempDir(), "driver.js")
	if err := os.WriteFile(driver, []byte(signJSDriver), 0o600); err != nil {
		t.Fatal(err)
	}
	signJS, err := filepath.Abs("static/sign.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, driver, signJS, string(bytes.TrimSpace(spec[1])), string(vb), as.name).CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("Ed25519")) || bytes.Contains(out, []byte("NotSupportedError")) {
			t.Skipf("this node has no Ed25519 in WebCrypto: %s", out)
		}
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res signJSResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	return res
}

// verifySignJS checks that package entry reads what sign.js signed as the
// same canonical bytes, and that the signature verifies.
func verifySignJS(t *testing.T, res signJSResult) *entry.Signed {
	t.Helper()
	se, err := entry.Parse([]byte(res.Wire), 0)
	if err != nil {
		t.Fatalf("parse %s: %v", res.Wire, err)
	}
	if string(se.Canonical) != res.Canonical {
		t.Errorf("sign.js signed\n%s\nGo canonicalises it to\n%s", res.Canonical, se.Canonical)
	}
	v, err := entry.NewVerifier(res.VKey)
	if err != nil {
		t.Fatalf("verifier key %s: %v", res.VKey, err)
	}
	if err := se.Verify(v); err != nil {
		t.Fatalf("verify: %v", err)
	}
	return se
}

// TestSignJSUnderNode runs static/sign.js itself, where Node is installed:
// the entry it builds from the real add form's spec and signs with a
// WebCrypto key is verified by package entry and appended by the server.
func TestSignJSUnderNode(t *testing.T) {
	s := wStart(t)
	editor := s.signIn("editor")
	res := runSignJS(t, s, editor, "/add/position", map[string]any{
		"party":      "party/ukraine",
		"proposal":   "proposal/" + wFirstID(t, s, "proposal"),
		"stance":     "accepts-with-conditions",
		"conditions": "  first, \"quoted\"  \n\n second — ünï 😀 \\ </script>\n",
		"statement":  "",
		"counter":    "",
		"time":       "2025-03-14T12:00",
		"sources":    "https://example.org/a | the words\npress conference, Kyiv",
		"corrects":   "",
	})
	if res.Errors != nil {
		t.Fatalf("sign.js refused the form: %v", res.Errors)
	}
	if want := []string{"party", "titles-title", "incidents-lat", "incidents-evidence"}; !slices.Equal(res.FieldOf, want) ||
		res.Detail != "editor edits for ukraine, not party/russia" {
		t.Errorf("fieldOf %v, want %v; detailOf %q", res.FieldOf, want, res.Detail)
	}
	se := verifySignJS(t, res)
	var body struct {
		Conditions []string `json:"conditions"`
	}
	json.Unmarshal(se.Entry.Body, &body)
	if want := []string{`first, "quoted"`, "second — ünï 😀 \\ </script>"}; !slices.Equal(body.Conditions, want) {
		t.Errorf("conditions %q, want %q", body.Conditions, want)
	}
	if want := []entry.Source{{URL: "https://example.org/a", Quote: "the words"}, {Citation: "press conference, Kyiv"}}; !slices.Equal(se.Entry.Sources, want) {
		t.Errorf("sources %+v", se.Entry.Sources)
	}
	if se.Entry.Time.Format(time.RFC3339) != "2025-03-14T12:00:00Z" || se.Entry.Corrects != nil {
		t.Errorf("time %v, corrects %v", se.Entry.Time, se.Entry.Corrects)
	}

	s.registerKey(editor, res.VKey)
	if r := s.do(editor, "POST", "/api/v1/entries", res.Wire); r.status != http.StatusCreated {
		t.Fatalf("POST /api/v1/entries: %d %s", r.status, r.body)
	}
}

// TestSignJSReportUnderNode builds a report from the real report form
// under Node: decimal coordinates, several categories, counts and evidence
// become the JSON the report body reads, which the server appends; values
// that are not numbers or hashes are refused in the form, naming the field.
func TestSignJSReportUnderNode(t *testing.T) {
	s := wStart(t)
	monitor := s.signIn("monitor")
	hash := s.upload(monitor, "photo.jpg", "a photograph of the crater")
	values := map[string]any{
		"id":                   "node-0324",
		"agreement":            "agreement/ceasefire-2025-03",
		"reported_by":          "actor/monitoring-mission",
		"source":               "patrol north",
		"incidents-time":       "2025-03-24T09:30",
		"incidents-place":      "Avdiivka",
		"incidents-area":       "Donetsk",
		"incidents-lat":        " 48.139 ",
		"incidents-lon":        "-.5",
		"incidents-precision":  "exact",
		"incidents-categories": []string{"shelling", "explosion-impact"},
		"incidents-weapons":    "152mm artillery\n",
		"incidents-count":      "3",
		"incidents-fatalities": "0",
		"incidents-injured":    "",
		"incidents-against":    "party/russia",
		"incidents-notes":      "",
		"incidents-evidence":   strings.ToUpper(hash) + "  photo.jpg",
		"evidence":             "",
		"time":                 "2025-03-24T12:00",
		"sources":              "",
		"corrects":             "",
	}
	res := runSignJS(t, s, monitor, "/add/report", values)
	if res.Errors != nil {
		t.Fatalf("sign.js refused the form: %v", res.Errors)
	}
	se := verifySignJS(t, res)
	want := `{"agreement":"agreement/ceasefire-2025-03","id":"node-0324","incidents":[{"against":"party/russia","area":"Donetsk",` +
		`"categories":["shelling","explosion-impact"],"count":3,"evidence":[{"name":"photo.jpg","sha256":"` + hash + `"}],"fatalities":0,` +
		`"lat":48.139,"lon":-0.5,"place":"Avdiivka","precision":"exact","time":"2025-03-24T09:30:00Z","weapons":["152mm artillery"]}],` +
		`"reported_by":"actor/monitoring-mission","source":"patrol north"}`
	if string(se.Entry.Body) != want {
		t.Errorf("the report's body is\n%s\nwant\n%s", se.Entry.Body, want)
	}
	s.registerKey(monitor, res.VKey)
	if r := s.do(monitor, "POST", "/api/v1/entries", res.Wire); r.status != http.StatusCreated {
		t.Fatalf("POST /api/v1/entries: %d %s", r.status, r.body)
	}

	bad := maps.Clone(values)
	bad["incidents-lat"] = "48,139"
	bad["incidents-lon"] = "east"
	bad["incidents-count"] = "-2"
	bad["evidence"] = hash + "\nnot-a-hash"
	res = runSignJS(t, s, monitor, "/add/report", bad)
	for id, w := range map[string]string{
		"incidents-lat":   `Latitude: "48,139" is not a decimal number`,
		"incidents-lon":   `Longitude: "east" is not a decimal number`,
		"incidents-count": `Count: "-2" is not a whole number`,
		"evidence":        `Evidence, line 2: "not-a-hash" is not a SHA-256 hash`,
	} {
		if !strings.HasPrefix(res.Errors[id], w) {
			t.Errorf("sign.js says of #%s %q, want %q…", id, res.Errors[id], w)
		}
	}
	if len(res.Errors) != 4 || res.Wire != "" {
		t.Errorf("sign.js found %d errors (%v), and built %q", len(res.Errors), res.Errors, res.Wire)
	}
}

// upload stores a file as evidence, as the session's account, and returns
// its SHA-256.
func (s *wSite) upload(as wSession, name, content string) string {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.hs.URL+"/api/v1/evidence?name="+name, strings.NewReader(content))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "image/jpeg")
	req.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: as.cookie})
	req.Header.Set(server.CSRFHeader, as.csrf)
	resp, err := s.hs.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}
