package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	sumtlog "golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// site is a Site over a fresh record holding the seed case, and a handler
// that routes its pages as the server does, with a viewer in the context.
type site struct {
	t    *testing.T
	rec  *record.Record
	site *Site
	mux  *http.ServeMux
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	rec, err := record.Init(ctx, t.TempDir(), "test.parley.example/record")
	if err != nil {
		t.Fatalf("init record: %v", err)
	}
	t.Cleanup(func() { rec.Close() })
	if _, err := rec.LoadSeed(ctx); err != nil {
		t.Fatalf("load seed: %v", err)
	}
	s, err := New(rec, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("new site: %v", err)
	}
	ts := &site{t: t, rec: rec, site: s, mux: http.NewServeMux()}
	viewer := Viewer{Name: "reader", Role: "reader", CSRF: "test-csrf-token"}
	page := func(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(WithViewer(r.Context(), viewer))
			if err := h(w, r); err != nil {
				s.Fail(w, r, errorView(err))
			}
		}
	}
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /{$}":             s.Overview,
		"GET /timeline":        s.Timeline,
		"GET /statements":      s.Statements,
		"GET /routes":          s.Routes,
		"GET /pending":         s.Dependencies,
		"GET /e/{kind}/{id}":   s.Entity,
		"GET /entries/{index}": s.Entry,
		"GET /signin":          func(w http.ResponseWriter, r *http.Request) error { return s.SignIn(w, r, SignInView{Next: "/"}) },
	} {
		ts.mux.Handle(pattern, page(h))
	}
	ts.mux.Handle("GET /static/", http.StripPrefix("/static", s.Static()))
	return ts
}

// indexOf returns the index of the first entry of type typ.
func (ts *site) indexOf(t *testing.T, typ string) int64 {
	t.Helper()
	for i := range ts.rec.Log.Size() {
		ix, err := ts.rec.Log.Entry(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		if ix.Entry.Type == typ {
			return i
		}
	}
	t.Fatalf("no %s entry", typ)
	return -1
}

// errorView is what the server makes of a page's error, near enough.
func errorView(err error) ErrorView {
	var p *problem.Error
	if !errors.As(err, &p) {
		return ErrorView{Status: http.StatusInternalServerError, Title: "Internal error", Detail: err.Error()}
	}
	status := map[problem.Kind]int{problem.NotFound: 404, problem.Invalid: 400, problem.Conflict: 409}[p.Kind]
	if status == 0 {
		status = 500
	}
	return ErrorView{Status: status, Title: http.StatusText(status), Detail: p.Message, Where: p.Where}
}

// get fetches path and checks that the page is sound: its status, its
// security headers, no inline script or style, well-formed markup.
func (ts *site) get(t *testing.T, path string, status int) string {
	t.Helper()
	rr := httptest.NewRecorder()
	ts.mux.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, path, nil))
	body := rr.Body.String()
	if rr.Code != status {
		t.Fatalf("GET %s: status %d, want %d\n%s", path, rr.Code, status, body)
	}
	if ct := rr.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if rr.Header().Get("Content-Security-Policy") != CSP {
		t.Errorf("GET %s: no CSP", path)
	}
	if err := checkPage(body); err != nil {
		t.Errorf("GET %s: %v", path, err)
	}
	return body
}

var (
	scriptTag  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	styleAttr  = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	eventAttr  = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleTag   = regexp.MustCompile(`(?i)<style\b`)
	tagPattern = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(/?)>`)
	idAttr     = regexp.MustCompile(`\sid="([^"]*)"`)
)

// voidElements have no end tag.
var voidElements = []string{"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

// checkPage refuses what the CSP would block or a browser would guess at:
// inline script, style attributes or elements, event-handler attributes,
// unbalanced tags and repeated ids.
func checkPage(page string) error {
	for _, m := range scriptTag.FindAllStringSubmatch(page, -1) {
		attrs, body := m[1], m[2]
		if strings.Contains(attrs, `type="application/json"`) {
			if !json.Valid([]byte(body)) {
				return fmt.Errorf("a JSON data block is not JSON: %.80s", body)
			}
			continue
		}
		if !strings.Contains(attrs, "src=") || strings.TrimSpace(body) != "" {
			return fmt.Errorf("inline script: %.80s", m[0])
		}
	}
	rest := scriptTag.ReplaceAllString(page, "<script></script>")
	for _, re := range []*regexp.Regexp{styleAttr, eventAttr, styleTag} {
		if m := re.FindString(rest); m != "" {
			return fmt.Errorf("inline style or handler: %.80s", m)
		}
	}
	var stack []string
	for _, m := range tagPattern.FindAllStringSubmatch(rest, -1) {
		closing, name, selfClosing := m[1] == "/", strings.ToLower(m[2]), m[4] == "/"
		switch {
		case slices.Contains(voidElements, name) || selfClosing:
			if closing {
				return fmt.Errorf("end tag of a void element </%s>", name)
			}
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				return fmt.Errorf("</%s> closes <%s> (open: %v)", name, last(stack), stack)
			}
			stack = stack[:len(stack)-1]
		default:
			stack = append(stack, name)
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed tags: %v", stack)
	}
	if !strings.Contains(page, "<main id=\"main\">") || strings.Count(page, "<main") != 1 {
		return fmt.Errorf("no single <main>")
	}
	seen := map[string]bool{}
	for _, m := range idAttr.FindAllStringSubmatch(rest, -1) {
		if seen[m[1]] {
			return fmt.Errorf("id %q twice", m[1])
		}
		seen[m[1]] = true
	}
	return nil
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// mustContain fails unless page holds every want.
func mustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s: no %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, page string, nots ...string) {
	t.Helper()
	for _, w := range nots {
		if strings.Contains(page, w) {
			t.Errorf("%s: has %q", what, w)
		}
	}
}

// element returns the list item with the attribute attr="value", for
// asserting what one item says.
func element(page, attr, value string) string {
	i := strings.Index(page, attr+`="`+value+`"`)
	if i < 0 {
		return ""
	}
	i = strings.LastIndex(page[:i], "<")
	end := strings.Index(page[i:], "</li>")
	if end < 0 {
		return page[i:]
	}
	return page[i : i+end]
}

func TestPages(t *testing.T) {
	ts := newSite(t)

	t.Run("overview", func(t *testing.T) {
		p := ts.get(t, "/", 200)
		mustContain(t, "overview", p, "The state of the talks", "30-day ceasefire", "(undecided)")
	})

	t.Run("timeline", func(t *testing.T) {
		p := ts.get(t, "/timeline", 200)
		mustContain(t, "timeline", p, `id="timeline"`, "Vladimir Putin sent a message to Donald Trump through Steve Witkoff",
			`href="/entries/1"`, `id="timeline-from"`, `<label for="timeline-from">`)
		p = ts.get(t, "/timeline?from=2025-03-14&to=2025-03-14&as_of=2025-03-20", 200)
		mustContain(t, "timeline 14th", p, "delivered by Steve Witkoff to Donald Trump", `value="2025-03-20"`)
		mustNotContain(t, "timeline 14th", p, "Vladimir Putin (person) is on the record", "A ceasefire of 30 days")
		ts.get(t, "/timeline?from=yesterday", 400)
	})

	t.Run("timeline pages", func(t *testing.T) {
		ctx := context.Background()
		c := ClockView{AsOf: "2025-03-31"}
		all, err := ts.site.timeline(ctx, c, "", "", -1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		// Ten entries of the seed share one time: pages of 4 straddle it.
		var got []int64
		from, after := "", int64(-1)
		for pages := 0; ; pages++ {
			if pages > len(all.Lines) {
				t.Fatal("the pages do not end")
			}
			v, err := ts.site.timeline(ctx, c, from, "", after, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range v.Lines {
				got = append(got, l.Basis.Index)
			}
			if v.Later == "" {
				break
			}
			u, err := url.Parse(v.Later)
			if err != nil {
				t.Fatal(err)
			}
			if u.Query().Get("as_of") != "2025-03-31" {
				t.Errorf("the later link %s loses the clock", v.Later)
			}
			from = u.Query().Get("from")
			if after, err = strconv.ParseInt(u.Query().Get("after"), 10, 64); err != nil {
				t.Fatal(err)
			}
		}
		var want []int64
		for _, l := range all.Lines {
			want = append(want, l.Basis.Index)
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged %v\nwhole %v", got, want)
		}
		// The seed's first ten entries (5 to 14) all describe 2025-03-01.
		p := ts.get(t, "/timeline?from=2025-03-01T00:00:00Z&after=7", 200)
		mustNotContain(t, "after 7", p, `data-index="5"`, `data-index="7"`)
		mustContain(t, "after 7", p, `data-index="8"`, `data-index="14"`, "From the start")
	})

	t.Run("statements", func(t *testing.T) {
		p := ts.get(t, "/statements", 200)
		mustContain(t, "statements", p, "good and productive", "Moscow&#39;s actions", `<label for="filter-by">`, `<label for="filter-party">`,
			`<label for="filter-about">`, `<label for="filter-confidence-reported"`, "<cite>seed report 000_5919bb16b18e94ef")
		p = ts.get(t, "/statements?confidence=reported", 200)
		mustContain(t, "reported", p, "Moscow&#39;s actions", "Keith Kellogg", `id="filter-confidence-reported" type="checkbox" name="confidence" value="reported" checked`)
		mustNotContain(t, "reported", p, "good and productive", `data-confidence="confirmed"`)
		p = ts.get(t, "/statements?by=actor/trump", 200)
		mustContain(t, "by trump", p, "good and productive", `<option value="actor/trump" selected>`)
		mustNotContain(t, "by trump", p, "Moscow&#39;s actions", `data-speaker="actor/zelenskyy"`)
		p = ts.get(t, "/statements?party=russia", 200)
		mustContain(t, "party russia", p, `data-speaker="actor/putin"`, `data-speaker="actor/peskov"`, `<option value="party/russia" selected>`)
		mustNotContain(t, "party russia", p, `data-speaker="actor/zelenskyy"`, `data-speaker="actor/trump"`)
		p = ts.get(t, "/statements?party=party/united-states&confidence=reported&confidence=alleged", 200)
		mustContain(t, "party us reported", p, `data-speaker="actor/kellogg"`)
		mustNotContain(t, "party us reported", p, `data-speaker="actor/trump"`)
		p = ts.get(t, "/statements?about=ceasefire-30-day", 200)
		mustContain(t, "about", p, `data-speaker="actor/putin"`, `data-speaker="actor/zelenskyy"`)
		mustNotContain(t, "about", p, `data-speaker="actor/kellogg"`, `data-speaker="actor/peskov"`)
		p = ts.get(t, "/statements?by=nobody-at-all", 404)
		mustContain(t, "unknown speaker", p, `id="filter-error"`, `aria-invalid="true"`)
		ts.get(t, "/statements?party=atlantis", 404)
		ts.get(t, "/statements?confidence=certain", 400)
		p = ts.get(t, "/statements?as_of=2025-03-13", 200)
		mustContain(t, "as of 13th", p, `data-speaker="actor/putin"`)
		mustNotContain(t, "as of 13th", p, "Moscow&#39;s actions")
	})

	t.Run("routes", func(t *testing.T) {
		p := ts.get(t, "/routes", 200)
		mustContain(t, "routes", p, `<svg class="route delivered"`, `role="img"`, `aria-label="Route of the message`,
			"Vladimir Putin → Steve Witkoff → Donald Trump; delivered</title>", `class="hop hop-done hop-delivered"`, `>delivered</text>`,
			`class="hop hop-done hop-sent"`, "2025-03-14 12:00", `class="box box-recipient delivered"`, `data-delivered="true"`)
		svg := p[strings.Index(p, "<svg"):strings.Index(p, "</svg>")]
		putin, witkoff, trump := strings.Index(svg, ">Vladimir Putin</text>"), strings.Index(svg, ">Steve Witkoff</text>"), strings.Index(svg, ">Donald Trump</text>")
		if putin < 0 || !(putin < witkoff && witkoff < trump) {
			t.Errorf("the chain is not Putin → Witkoff → Trump: %d %d %d", putin, witkoff, trump)
		}
		list := p[strings.Index(p, `<ol class="legs"`):]
		mustContain(t, "route list", list, `<strong class="hop-event">sent</strong>`, `<strong class="hop-event">delivered</strong>`)
		p = ts.get(t, "/routes?as_of=2025-03-13", 200)
		mustContain(t, "routes 13th", p, `<svg class="route undelivered"`, "not delivered", `class="hop hop-open"`, "not recorded", `data-delivered="false"`)
		mustNotContain(t, "routes 13th", p, "hop-delivered")
	})

	t.Run("pending", func(t *testing.T) {
		p := ts.get(t, "/pending", 200)
		mustContain(t, "pending", p, `<svg class="graph" id="pending-graph" role="img"`, "<title>Dependency graph", `class="node status-blocked open"`,
			`class="node status-pending ready open"`, `class="edge edge-open"`)
		call := element(p, "data-action", "action/putin-trump-call")
		mustContain(t, "the call", call, `data-status="blocked"`, `data-ready="false"`, "waits on:", `href="/e/action/witkoff-report"`, ">pending</span>")
		report := element(p, "data-action", "action/witkoff-report")
		mustContain(t, "the report", report, `class="action ready"`, "ready now")
		// The call stands to the right of the report it waits on.
		x := func(name string) int {
			i := strings.Index(p, "<title>"+name+": ")
			m := regexp.MustCompile(`<rect x="(\d+)"`).FindStringSubmatch(p[i:])
			n, _ := strconv.Atoi(m[1])
			return n
		}
		if x("Direct conversation between Putin and Trump") <= x("Witkoff delivers his report on the Moscow meeting") {
			t.Errorf("the call is not to the right of the report")
		}
		p = ts.get(t, "/pending?as_of=2025-03-12", 200)
		mustContain(t, "pending 12th", p, "Nothing pending at that time")
	})

	t.Run("entities", func(t *testing.T) {
		ctx := context.Background()
		n := 0
		for _, kind := range vocab.Kinds {
			refs, err := ts.site.entitiesOf(ctx, kind)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range refs {
				n++
				p := ts.get(t, entityPath(r.Key), 200)
				mustContain(t, r.Key, p, `id="entity-fields"`, `id="entity-history"`, "<code>"+r.Key+"</code>")
			}
		}
		if n < 25 {
			t.Errorf("only %d entities in the seed", n)
		}
		p := ts.get(t, "/e/request/exclude-kellogg", 200)
		mustContain(t, "request", p, "<dt>outcome</dt>\n    <dd>requested</dd>", `href="/e/actor/kellogg"`, "Keith Kellogg")
		p = ts.get(t, "/e/actor/witkoff", 200)
		mustContain(t, "witkoff", p, `href="/e/party/united-states"`, "U.S. Special Envoy", "Steve Witkoff (person) is on the record",
			"message putin-trump-signals delivered by Steve Witkoff", "Putin–Witkoff meeting in Moscow",
			"Vladimir Putin sent a message to Donald Trump through Steve Witkoff")
		p = ts.get(t, "/e/action/putin-trump-call", 200)
		mustContain(t, "the call", p, "blocked", `href="/e/action/witkoff-report"`)
		p = ts.get(t, "/e/action/putin-trump-call?as_of=2025-03-10", 200)
		mustContain(t, "the call before", p, `id="entity-not-yet"`, "No entry mentions it at that time")
		p = ts.get(t, "/e/track/us-ukraine-military-aid?as_of=2025-03-10", 200)
		mustContain(t, "aid before", p, "<dd>paused</dd>")
		ts.get(t, "/e/planet/mars", 404)
		ts.get(t, "/e/actor/nobody", 404)
		ts.get(t, "/e/actor/putin?known_at=%23999999", 404)
	})

	t.Run("entry", func(t *testing.T) {
		p := ts.get(t, fmt.Sprintf("/entries/%d", ts.indexOf(t, "relay")), 200)
		mustContain(t, "entry", p, `<button type="button" id="verify-here">`, `<output id="verify-result"`,
			`<script type="application/json" id="verify-data">`, `<script src="/static/verify.js" defer></script>`,
			`id="entry-hash"`, `id="proof-checkpoint"`, "kremlin&#43;", "(Kremlin press office)", "&#34;delivered&#34;",
			"message putin-trump-signals delivered by Steve Witkoff to Donald Trump")
		ts.get(t, "/entries/999999", 404)
		ts.get(t, "/entries/twelve", 404)
	})

	t.Run("error", func(t *testing.T) {
		rr := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/nowhere", nil)
		ts.site.Fail(rr, r.WithContext(WithViewer(r.Context(), Viewer{})), ErrorView{Status: 404, Title: "Not found", Detail: "no such page"})
		if rr.Code != 404 {
			t.Errorf("status %d", rr.Code)
		}
		if err := checkPage(rr.Body.String()); err != nil {
			t.Error(err)
		}
		mustContain(t, "error", rr.Body.String(), "no such page")
	})

	t.Run("signin", func(t *testing.T) {
		p := ts.get(t, "/signin", 200)
		mustContain(t, "signin", p, `<label for="name">`, `<label for="password">`)
	})

	t.Run("clock on links", func(t *testing.T) {
		p := ts.get(t, "/pending?as_of=2025-03-14", 200)
		mustContain(t, "nav", p, `href="/timeline?as_of=2025-03-14"`, `href="/statements?as_of=2025-03-14"`)
	})

	t.Run("static", func(t *testing.T) {
		for _, f := range []string{"verify.js", "pages.css"} {
			rr := httptest.NewRecorder()
			ts.mux.ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/static/"+f, nil))
			if rr.Code != 200 || rr.Body.Len() == 0 {
				t.Errorf("/static/%s: %d", f, rr.Code)
			}
		}
	})
}

// verifyData extracts the data block of an entry page.
func verifyData(t *testing.T, page string) VerifyData {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="verify-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no verify-data block")
	}
	var v VerifyData
	if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
		t.Fatalf("verify-data: %v", err)
	}
	return v
}

// TestVerifyData checks that what an entry page gives verify.js is what it
// needs: the leaf the tree commits to, whose entry bytes the author's key
// signed as they are; a proof from that leaf to the root the operator
// signed; and that verify.js itself (under Node, where there is one) accepts
// it and refuses it tampered.
func TestVerifyData(t *testing.T) {
	ts := newSite(t)
	ctx := context.Background()
	size := ts.rec.Log.Size()
	relay := ts.indexOf(t, "relay")
	indexes := []int64{relay, 0, 1, size / 2, size - 1}
	var cases []VerifyData
	for _, i := range indexes {
		p := ts.get(t, fmt.Sprintf("/entries/%d", i), 200)
		v := verifyData(t, p)
		ix, err := ts.rec.Log.Entry(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if v.Leaf != string(ix.Leaf()) || v.Index != i || v.Size != size {
			t.Fatalf("entry %d: the data block is not the entry's leaf in the tree of %d", i, size)
		}
		// The leaf cut as verify.js cuts it.
		leaf := []byte(v.Leaf)
		at := bytes.LastIndex(leaf, []byte(`,"sig":"`))
		if !bytes.HasPrefix(leaf, []byte(`{"entry":`)) || at < 0 || !bytes.HasSuffix(leaf, []byte(`"}`)) {
			t.Fatalf("entry %d: leaf %s", i, leaf)
		}
		signed, sigText := leaf[len(`{"entry":`):at], string(leaf[at+len(`,"sig":"`):len(leaf)-2])
		if !bytes.Equal(signed, ix.Canonical) {
			t.Errorf("entry %d: the leaf's entry is not the canonical entry", i)
		}
		sig, err := base64.StdEncoding.DecodeString(sigText)
		if err != nil {
			t.Fatal(err)
		}
		// The author's key signs the canonical bytes as they are: no note
		// text around them, no newline after.
		pub := rawKey(t, v.AuthorKey)
		if !ed25519.Verify(pub, signed, sig) {
			t.Errorf("entry %d: the signature is not over the canonical bytes", i)
		}
		if ed25519.Verify(pub, append(slices.Clone(signed), '\n'), sig) {
			t.Errorf("entry %d: the signature covers a newline", i)
		}
		if id := strings.Join(strings.SplitN(v.AuthorKey, "+", 3)[:2], "+"); id != ix.Entry.Author {
			t.Errorf("entry %d: author key %s for author %s", i, v.AuthorKey, ix.Entry.Author)
		}
		// The proof leads from the leaf to the root the checkpoint states.
		opv, err := entry.NewVerifier(v.OperatorKey)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := tlog.OpenCheckpoint([]byte(v.Checkpoint), opv, opv.Name())
		if err != nil {
			t.Fatalf("entry %d: checkpoint: %v", i, err)
		}
		var proof sumtlog.RecordProof
		for _, h := range v.Proof {
			b, err := base64.StdEncoding.DecodeString(h)
			if err != nil || len(b) != 32 {
				t.Fatalf("proof hash %q", h)
			}
			proof = append(proof, sumtlog.Hash(b))
		}
		if err := sumtlog.CheckRecord(proof, cp.Size, cp.Root, i, sumtlog.RecordHash(leaf)); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
		// The checkpoint's signature is over its text, the note before the
		// blank line.
		text := v.Checkpoint[:strings.LastIndex(v.Checkpoint, "\n\n")+1]
		if _, err := note.Open([]byte(v.Checkpoint), note.VerifierList(opv)); err != nil {
			t.Errorf("checkpoint: %v", err)
		}
		line := strings.TrimSuffix(v.Checkpoint[len(text)+1:], "\n")
		b64 := line[strings.LastIndex(line, " ")+1:]
		cs, _ := base64.StdEncoding.DecodeString(b64)
		if len(cs) != 68 || !ed25519.Verify(rawKey(t, v.OperatorKey), []byte(text), cs[4:]) {
			t.Errorf("the checkpoint's signature is not over its text")
		}
		cases = append(cases, v)
	}
	t.Run("verify.js", func(t *testing.T) { runVerifyJS(t, cases) })
}

// rawKey returns the Ed25519 public key of a verifier key.
func rawKey(t *testing.T, vkey string) ed25519.PublicKey {
	t.Helper()
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		t.Fatalf("verifier key %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		t.Fatalf("verifier key %q", vkey)
	}
	return ed25519.PublicKey(raw[1:])
}

// jsResult is what verify.js's check returns.
type jsResult struct {
	OK    bool `json:"ok"`
	Lines []struct {
		OK   bool   `json:"ok"`
		Text string `json:"text"`
	} `json:"lines"`
}

// runVerifyJS runs static/verify.js under Node on each real case, which
// must pass, and on tampered copies, which must fail where they were
// tampered with.
func runVerifyJS(t *testing.T, cases []VerifyData) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to run verify.js with")
	}
	type trial struct {
		name string
		data VerifyData
		ok   bool
		says string // what the last line must say
	}
	var trials []trial
	for _, c := range cases {
		trials = append(trials, trial{fmt.Sprintf("entry %d", c.Index), c, true, fmt.Sprintf("in the tree of %d entries signed by the operator", c.Size)})
	}
	c := cases[0]               // the relay, signed by the kremlin key
	other := cases[1].AuthorKey // the operator's
	tamper := func(name, says string, change func(v *VerifyData)) {
		v := c
		v.Proof = slices.Clone(c.Proof)
		change(&v)
		trials = append(trials, trial{name, v, false, says})
	}
	tamper("body changed", "INVALID — the entry is not what its author signed", func(v *VerifyData) {
		v.Leaf = strings.Replace(v.Leaf, "delivered", "deliverer", 1)
	})
	tamper("signature changed", "INVALID", func(v *VerifyData) {
		at := strings.LastIndex(v.Leaf, `"sig":"`) + len(`"sig":"`)
		b := []byte(v.Leaf)
		b[at] = map[bool]byte{true: 'B', false: 'A'}[b[at] == 'A']
		v.Leaf = string(b)
	})
	tamper("other author's key", "the entry names its author", func(v *VerifyData) { v.AuthorKey = other })
	tamper("proof hash changed", "inclusion proof of entry", func(v *VerifyData) {
		b, _ := base64.StdEncoding.DecodeString(v.Proof[0])
		b[0] ^= 1
		v.Proof[0] = base64.StdEncoding.EncodeToString(b)
	})
	tamper("proof hash dropped", "shorter than the tree is deep", func(v *VerifyData) { v.Proof = v.Proof[:len(v.Proof)-1] })
	tamper("other index", "inclusion proof", func(v *VerifyData) { v.Index++ })
	tamper("other size", "the checkpoint for", func(v *VerifyData) { v.Size-- })
	tamper("checkpoint text changed", "checkpoint signature by the operator", func(v *VerifyData) {
		v.Checkpoint = strings.Replace(v.Checkpoint, "\ntime 2", "\ntime 1", 1)
	})
	tamper("checkpoint of another log", "not the operator's kremlin", func(v *VerifyData) { v.OperatorKey = c.AuthorKey })
	_, impostor, err := note.GenerateKey(rand.Reader, strings.SplitN(c.OperatorKey, "+", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	tamper("checkpoint by another key", "no signature by the operator", func(v *VerifyData) { v.OperatorKey = impostor })
	tamper("no checkpoint", "no checkpoint", func(v *VerifyData) { v.Checkpoint = "" })

	in := make([]VerifyData, len(trials))
	for i, tr := range trials {
		in[i] = tr.data
	}
	dir := t.TempDir()
	data, _ := json.Marshal(in)
	if err := os.WriteFile(filepath.Join(dir, "cases.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("static", "verify.js"))
	if err != nil {
		t.Fatal(err)
	}
	harness := `const v = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
(async () => {
  const out = [];
  for (const c of cases) out.push(await v.check(c));
  process.stdout.write(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });`
	cmd := exec.Command(node, "-e", harness, script, filepath.Join(dir, "cases.json"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var results []jsResult
	if err := json.Unmarshal(outb, &results); err != nil || len(results) != len(trials) {
		t.Fatalf("node said %s (%v)", outb, err)
	}
	for i, tr := range trials {
		r := results[i]
		if len(r.Lines) > 0 && strings.Contains(r.Lines[len(r.Lines)-1].Text, "cannot check Ed25519") {
			t.Skip("this Node cannot check Ed25519")
		}
		lastLine := ""
		if len(r.Lines) > 0 {
			lastLine = r.Lines[len(r.Lines)-1].Text
		}
		if r.OK != tr.ok || !strings.Contains(lastLine, tr.says) {
			t.Errorf("%s: ok %v, want %v; last line %q, want %q\n%v", tr.name, r.OK, tr.ok, lastLine, tr.says, r.Lines)
		}
		if tr.ok && (len(r.Lines) < 4 || !strings.HasPrefix(r.Lines[0].Text, "signature by "+strings.SplitN(tr.data.AuthorKey, "+", 3)[0]+"+")) {
			t.Errorf("%s: lines %v", tr.name, r.Lines)
		}
	}
}
