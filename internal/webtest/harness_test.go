package webtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/record"
	"parley/internal/server"
)

// testPassword is every test account's password.
const testPassword = "correct horse battery staple"

// The accounts every test site has. The editor speaks for Ukraine (a party
// of the seed case), so it may add Ukraine's position; the second editor
// speaks for Russia and owns the confidential channel of the channel test.
const (
	adminName   = "admin"
	editorName  = "editor"
	editor2Name = "editor2"
	readerName  = "reader"
)

// How long one browser action, and one wait for the page to show
// something, may take before the test fails.
const (
	actionTimeout = 30 * time.Second
	waitTimeout   = 30 * time.Second
)

// chrome is the browser of this test binary: started by the first test that
// needs it, closed by TestMain.
var chrome browser

func TestMain(m *testing.M) {
	code := m.Run()
	chrome.close()
	os.Exit(code)
}

// A browser is one headless Chromium, shared by the tests of the binary;
// each test opens its own tab in its own browser context, so that no
// cookie passes from one test to another.
type browser struct {
	once    sync.Once
	ctx     context.Context
	cancel  func()
	path    string
	missing error // Chromium is not installed
	err     error // it is, but did not start
}

// chromiumPath is where the Chromium to use is: $PARLEY_CHROMIUM, else
// Debian's /usr/bin/chromium.
func chromiumPath() string {
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// get returns the browser's context, starting it on first use.
//
// A missing Chromium fails the test where the browser tests must run: in CI
// (CI=true) and whenever PARLEY_CHROMIUM names a browser (scripts/test sets
// it, after installing Chromium). Anywhere else it skips the test, saying
// how to install Chromium, so that `go test ./...` on a machine without it
// still runs everything else.
func (b *browser) get(t testing.TB) context.Context {
	t.Helper()
	b.once.Do(b.start)
	if b.missing != nil {
		if os.Getenv("CI") == "true" || os.Getenv("PARLEY_CHROMIUM") != "" {
			t.Fatalf("the browser tests need Chromium: %v (install it: apt-get update && apt-get install -y chromium)", b.missing)
		}
		t.Skipf("no Chromium (%v): install it with `apt-get update && apt-get install -y chromium`, or set PARLEY_CHROMIUM", b.missing)
	}
	if b.err != nil {
		t.Fatalf("start Chromium (%s): %v", b.path, b.err)
	}
	return b.ctx
}

// start starts Chromium headless, as this closed network needs it: no
// sandbox (the tests may run as root), no GPU, and nothing that calls home
// (background networking, component updates, sync), whose connections this
// network refuses. chromedp gives it a fresh --user-data-dir, and removes
// it at the end.
func (b *browser) start() {
	b.path = chromiumPath()
	if _, err := os.Stat(b.path); err != nil {
		b.missing = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(b.path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b.ctx = bctx
	b.cancel = func() { bcancel(); acancel() }
	if err := chromedp.Do(bctx); err != nil {
		b.err = err
	}
}

func (b *browser) close() {
	if b.cancel != nil {
		b.cancel()
	}
}

// A user is an account of a test site, with an API token.
type user struct {
	name  string
	role  account.Role
	party string
	token string
}

// A site is parley serving a record on a loopback port.
type site struct {
	t       testing.TB
	rec     *record.Record
	acc     *account.Service
	http    *httptest.Server
	handler http.Handler // what http serves, for measuring without the network
	url     string       // http://127.0.0.1:PORT
	users   map[string]*user
}

// siteOptions change how a site starts.
type siteOptions struct {
	// wrap, if set, wraps the server's handler: to rewrite a response, or
	// to serve a page of the test's own beside parley's.
	wrap func(http.Handler) http.Handler
	// publicRead serves the record to anyone, signed in or not.
	publicRead bool
	// dir opens the record there (read as it is; no accounts are made)
	// instead of a fresh record holding the seed case.
	dir string
}

// startSite starts a site over a fresh record holding the seed case, with
// one account per role (and a second editor).
func startSite(t testing.TB, o siteOptions) *site {
	t.Helper()
	ctx := context.Background()
	var rec *record.Record
	var err error
	if o.dir != "" {
		rec, err = record.Open(ctx, o.dir)
		if err != nil {
			t.Fatalf("open record %s: %v", o.dir, err)
		}
	} else {
		rec, err = record.Init(ctx, t.TempDir(), "test.parley.example/web")
		if err != nil {
			t.Fatalf("init record: %v", err)
		}
		if _, err := rec.LoadSeed(ctx); err != nil {
			rec.Close()
			t.Fatalf("load the seed case: %v", err)
		}
	}
	t.Cleanup(func() { rec.Close() })
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	// The server's errors (a page that fails with a 500, say) go to the
	// test's log, beside the failure they explain.
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := server.New(rec, acc, server.Options{PublicRead: o.publicRead, Logger: logger})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	var h http.Handler = srv.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	hs := httptest.NewServer(h)
	// A page left open holds the live feed's stream: end it, or Close
	// waits for it.
	t.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
	s := &site{t: t, rec: rec, acc: acc, http: hs, handler: h, url: hs.URL, users: map[string]*user{}}
	if o.dir == "" {
		for _, u := range []user{
			{name: adminName, role: account.Admin},
			{name: editorName, role: account.Editor, party: "ukraine"},
			{name: editor2Name, role: account.Editor, party: "russia"},
			{name: readerName, role: account.Reader},
		} {
			s.addUser(u)
		}
	}
	return s
}

// testLog writes the server's log lines to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Logf("server: %s", bytes.TrimSpace(p))
	return len(p), nil
}

// addUser makes an account and an API token for it.
func (s *site) addUser(u user) {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.acc.Create(ctx, u.name, testPassword, u.role, u.party); err != nil {
		s.t.Fatalf("create account %s: %v", u.name, err)
	}
	secret, _, err := s.acc.NewToken(ctx, u.name, "browser tests")
	if err != nil {
		s.t.Fatalf("token for %s: %v", u.name, err)
	}
	u.token = secret
	s.users[u.name] = &u
}

// api calls the JSON API with u's token (none if u is nil), sending body
// as JSON, and returns the status and the body of the answer. out, if not
// nil, receives the answer of a 2xx.
func (s *site) api(method, path string, u *user, body, out any) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatalf("%s %s: encode: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	resp, err := s.http.Client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, b
}

// newKey makes a signing key and registers it for u through the API.
func (s *site) newKey(u *user) note.Signer {
	s.t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, u.name+"-key")
	if err != nil {
		s.t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		s.t.Fatal(err)
	}
	if status, b := s.api("POST", "/api/v1/account/keys", u, server.KeyRegistration{Key: vkey}, nil); status != http.StatusCreated {
		s.t.Fatalf("register a key for %s: %d %s", u.name, status, b)
	}
	return signer
}

// appendNote signs a note with signer and appends it as u, returning its
// index.
func (s *site) appendNote(u *user, signer note.Signer, text string) int64 {
	s.t.Helper()
	body, err := entry.Object(map[string]any{"text": text})
	if err != nil {
		s.t.Fatal(err)
	}
	at := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	se, err := entry.Sign(entry.Entry{Type: "note", Body: body, Time: at, Recorded: at,
		Sources: []entry.Source{{Citation: "a browser test"}}}, signer)
	if err != nil {
		s.t.Fatal(err)
	}
	var res server.AppendResult
	if status, b := s.api("POST", "/api/v1/entries", u, json.RawMessage(se.Leaf()), &res); status != http.StatusCreated || len(res.Appended) != 1 {
		s.t.Fatalf("append a note as %s: %d %s", u.name, status, b)
	}
	return res.Appended[0].Index
}

// A tab is one browser tab, in a browser context of its own, on a site. It
// collects what the browser reports as an error: console.error and
// console.assert, uncaught exceptions, and error entries of the browser's
// log (CSP violations, failed loads). A test fails on any of them that it
// did not allow.
type tab struct {
	t    testing.TB
	ctx  context.Context
	site *site
	con  *console
}

// A console is what a tab's browser reported as an error, and what the
// test allows.
type console struct {
	mu       sync.Mutex
	problems []string
	allowed  []string
}

// on returns the tab failing t, for use in a subtest.
func (tb *tab) on(t testing.TB) *tab {
	c := *tb
	c.t = t
	return &c
}

// newTab opens a tab on s, closed (after a last check of the console) when
// the test ends.
func (s *site) newTab(t testing.TB) *tab {
	t.Helper()
	bctx := chrome.get(t)
	tb := &tab{t: t, site: s, con: &console{}}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	tb.ctx = ctx
	t.Cleanup(func() {
		tb.checkConsole("at the end of the test")
		cancel()
	})
	return tb
}

// listen runs in the tab's event loop, in the order the browser sent the
// events: it must return fast and run no command.
func (tb *tab) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, remoteText(a))
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		msg = "uncaught exception: " + exceptionText(ev.ExceptionDetails)
	case *cdplog.EventEntryAdded:
		if ev.Entry == nil || ev.Entry.Level != cdplog.EntryLevelError {
			return
		}
		msg = fmt.Sprintf("browser log (%s): %s", ev.Entry.Source, ev.Entry.Text)
		if ev.Entry.URL != "" {
			msg += " [" + ev.Entry.URL + "]"
		}
	default:
		return
	}
	tb.con.mu.Lock()
	tb.con.problems = append(tb.con.problems, msg)
	tb.con.mu.Unlock()
}

func remoteText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return ""
	case o.Description != "":
		return o.Description
	case len(o.Value) > 0:
		return string(o.Value)
	}
	return string(o.Type)
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	if d.URL != "" {
		s += fmt.Sprintf(" at %s:%d:%d", d.URL, d.LineNumber+1, d.ColumnNumber+1)
	}
	return s
}

// allow lets the browser report errors containing text: those a test
// expects, such as the failed load of a 403 or 404 page it opens on purpose.
func (tb *tab) allow(text string) {
	tb.con.mu.Lock()
	tb.con.allowed = append(tb.con.allowed, text)
	tb.con.mu.Unlock()
}

// checkConsole fails the test on every error the browser reported since the
// last check, but those allowed (by the tab, or here: errors containing one
// of also).
func (tb *tab) checkConsole(when string, also ...string) {
	tb.t.Helper()
	// The listener sees events in order, so once a command sent now has
	// its answer, every event sent before it has been seen.
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`0`))
	cancel()
	tb.con.mu.Lock()
	problems := tb.con.problems
	tb.con.problems = nil
	allowed := append(also, tb.con.allowed...)
	tb.con.mu.Unlock()
next:
	for _, p := range problems {
		for _, a := range allowed {
			if strings.Contains(p, a) {
				continue next
			}
		}
		tb.t.Errorf("the browser reported an error %s: %s", when, p)
	}
}

// run runs browser actions with the action timeout.
func (tb *tab) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v (%s)", what, err, tb.where())
	}
}

// open loads path on the site and returns the HTTP status of the page (of
// the last page, after redirects).
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(tb.site.url+path))
	if err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// navigateBy runs actions that load a new page (a click on a link, a form
// submitted) and returns the new page's HTTP status.
func (tb *tab) navigateBy(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.t.Fatalf("%s: %v (%s)", what, err, tb.where())
	}
	return resp.Status
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v (%s)", js, err, tb.where())
	}
	return v
}

// waitFor waits until the JavaScript expression js is true in the page; a
// page being replaced meanwhile (a form submitted) is waited through.
func (tb *tab) waitFor(what, js string) {
	tb.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+js+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			if err != nil {
				tb.t.Fatalf("waited %v for %s: %v (%s)", waitTimeout, what, err, tb.where())
			}
			tb.t.Fatalf("waited %v for %s (%s)", waitTimeout, what, tb.where())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// where describes the page the tab shows, for a failure's message: its
// address, and the start of its text.
func (tb *tab) where() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	type page struct {
		URL     string   `json:"url"`
		Text    string   `json:"text"`
		Outputs []string `json:"outputs"`
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[page](`({url: location.href,
		text: document.body ? document.body.innerText.slice(0, 400) : "",
		outputs: [...document.querySelectorAll("output, [role=alert], .field-error:not([hidden])")].
			map(o => (o.id ? "#" + o.id + ": " : "") + o.textContent.trim()).filter(t => t !== "")})`))
	if err != nil {
		return "page unknown: " + err.Error()
	}
	return fmt.Sprintf("page %s says: %q; its outputs and alerts say: %q", p.URL, p.Text, p.Outputs)
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// exists says whether an element matches the CSS selector sel.
func (tb *tab) exists(sel string) bool {
	tb.t.Helper()
	return eval[bool](tb, `document.querySelector(`+js(sel)+`) !== null`)
}

// count counts the elements matching sel.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, `document.querySelectorAll(`+js(sel)+`).length`)
}

// attr returns an attribute of the element matching sel; the test fails if
// there is no such element or attribute.
func (tb *tab) attr(sel, name string) string {
	tb.t.Helper()
	type result struct {
		Found bool   `json:"found"`
		Has   bool   `json:"has"`
		Value string `json:"value"`
	}
	r := eval[result](tb, `(() => { const el = document.querySelector(`+js(sel)+`);
		if (!el) return {found: false, has: false, value: ""};
		const v = el.getAttribute(`+js(name)+`);
		return {found: true, has: v !== null, value: v === null ? "" : v}; })()`)
	if !r.Found {
		tb.t.Fatalf("no element %s (%s)", sel, tb.where())
	}
	if !r.Has {
		tb.t.Fatalf("%s has no attribute %s", sel, name)
	}
	return r.Value
}

// text returns the text of the element matching sel, as shown.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	if !tb.exists(sel) {
		tb.t.Fatalf("no element %s (%s)", sel, tb.where())
	}
	return eval[string](tb, `document.querySelector(`+js(sel)+`).innerText`)
}

// location returns the tab's address, without the site's origin.
func (tb *tab) location() string {
	tb.t.Helper()
	return strings.TrimPrefix(eval[string](tb, `location.href`), tb.site.url)
}

// signIn signs in as name through the sign-in form, and checks that the
// browser lands on the overview with the name in the header.
func (tb *tab) signIn(name string) {
	tb.t.Helper()
	tb.signInWith(name, chromedp.SetValue[chromedp.ID])
}

// signInWith signs in filling the form's fields with fill: SetValue is
// quick; SendKeys types each key, as a person does.
func (tb *tab) signInWith(name string, fill func(chromedp.ID, string, ...chromedp.QueryOption) chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if status := tb.open("/signin"); status != http.StatusOK {
		tb.t.Fatalf("GET /signin: %d", status)
	}
	status := tb.navigateBy("sign in as "+name,
		fill(chromedp.ID("name"), name),
		fill(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)),
	)
	if status != http.StatusOK {
		tb.t.Fatalf("sign in as %s: status %d (%s)", name, status, tb.where())
	}
	// The overview needs a sign-in: landing on it, not back on the form,
	// shows that the browser kept the (Secure) session cookie.
	if loc := tb.location(); loc != "/" {
		tb.t.Fatalf("signed in as %s, the browser is at %s, want / (%s)", name, loc, tb.where())
	}
	if got := tb.text(`header .who a[href="/account"]`); got != name {
		tb.t.Fatalf("signed in as %s, the header names %q", name, got)
	}
	tb.checkConsole("while signing in (on /signin, then /)")
}

// artifacts is the directory for screenshots: $PARLEY_ARTIFACTS, made if
// missing, or else a temporary directory of the test's.
func artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PARLEY_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	return dir
}

// screenshot saves a full-page screenshot of the tab as name.png.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(artifacts(tb.t), name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	tb.t.Logf("screenshot: %s", file)
}

// call runs one DevTools command on the tab.
func call[P, R any](tb *tab, cmd cdp.Command[P, R], params P) R {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		tb.t.Fatalf("%s: %v", cmd.Method, err)
	}
	return r
}
