package webtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"parley/internal/server"
)

// choose picks the option of a select whose value is want, or ends in
// "/want" (an entity key), or whose label is want, and tells the page it
// changed. It returns the value chosen.
func (tb *tab) choose(sel, want string) string {
	tb.t.Helper()
	type result struct {
		Found   bool     `json:"found"`
		Value   string   `json:"value"`
		Options []string `json:"options"`
	}
	r := eval[result](tb, `(() => {
		const s = document.querySelector(`+js(sel)+`), want = `+js(want)+`;
		if (!s) return {found: false, value: "", options: []};
		const opts = [...s.options];
		const o = opts.find(o => o.value === want) || opts.find(o => o.value.endsWith("/" + want)) ||
			opts.find(o => o.textContent.trim().toLowerCase() === want.toLowerCase());
		if (!o) return {found: true, value: "", options: opts.map(o => o.value)};
		s.value = o.value;
		s.dispatchEvent(new Event("input", {bubbles: true}));
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return {found: true, value: o.value, options: []};
	})()`)
	switch {
	case !r.Found:
		tb.t.Fatalf("no %s on the page (%s)", sel, tb.where())
	case r.Value == "":
		tb.t.Fatalf("%s has no option %q; it has %q", sel, want, r.Options)
	}
	return r.Value
}

// TestAddPositionSignedInBrowser adds a position through the form, signed
// in the browser with a key made there (non-extractable) and registered
// from the account page; the overview then shows the new stance.
func TestAddPositionSignedInBrowser(t *testing.T) {
	s := startSite(t, siteOptions{})
	tb := s.newTab(t)
	tb.signIn(editorName)

	if status := tb.open("/account"); status != http.StatusOK {
		t.Fatalf("GET /account: %d (%s)", status, tb.where())
	}
	// The page's script says which key this browser holds once it has
	// started; a click before that would go unheard.
	tb.waitFor("the account page to say which key this browser holds", `document.querySelector("output#key-status").textContent !== ""`)
	tb.run("make a key", chromedp.Click(chromedp.CSS("#make-key")))
	tb.waitFor("the new key's id in #key-status", `document.querySelector("output#key-status[data-key-id]")`)
	keyID := tb.attr("output#key-status", "data-key-id")
	var me server.MeJSON
	if status, b := s.api("GET", "/api/v1/account", s.users[editorName], nil, &me); status != http.StatusOK {
		t.Fatalf("GET /api/v1/account: %d %s", status, b)
	}
	if !strings.Contains(fmt.Sprintf("%+v", me), keyID) {
		t.Errorf("the browser made key %q, but the editor's account does not list it: %+v", keyID, me)
	}

	if status := tb.open("/add/position"); status != http.StatusOK {
		t.Fatalf("GET /add/position: %d (%s)", status, tb.where())
	}
	tb.choose("select#party", "ukraine")
	tb.choose("select#proposal", "ceasefire-30-day")
	stance := ""
	for _, want := range []string{"rejects", "counters"} {
		if eval[bool](tb, `[...document.querySelectorAll("select#stance option")].some(o => o.value === `+js(want)+`)`) {
			stance = tb.choose("select#stance", want)
			break
		}
	}
	if stance == "" {
		t.Fatalf("select#stance offers neither rejects nor counters (%s)", tb.where())
	}
	tb.run("preview", chromedp.Click(chromedp.CSS("#preview")))
	tb.waitFor("the preview to show the body", `(() => { const p = document.querySelector("#preview-json");
		return p && p.textContent.includes(`+js(stance)+`) && p.textContent.includes("ukraine") && p.textContent.includes("ceasefire-30-day"); })()`)
	tb.run("sign and submit", chromedp.Click(chromedp.CSS("#sign-submit")))
	tb.waitFor("the entry's index in #add-result", `document.querySelector("output#add-result[data-index]")`)
	index, err := strconv.ParseInt(tb.attr("output#add-result", "data-index"), 10, 64)
	if err != nil {
		t.Fatalf("#add-result's data-index: %v", err)
	}
	tb.screenshot("add-position-done")

	// The record has it, signed by the key the browser made.
	status, b := s.api("GET", fmt.Sprintf("/api/v1/entries/%d", index), s.users[readerName], nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET entry %d: %d %s", index, status, b)
	}
	for _, want := range []string{`"position"`, `"` + stance + `"`, keyID} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("entry %d does not contain %s: %s", index, want, b)
		}
	}

	if status := tb.open("/"); status != http.StatusOK {
		t.Fatalf("GET /: %d", status)
	}
	if got := tb.stance("ukraine"); got != stance {
		t.Errorf("after adding Ukraine's position %q the overview shows %q", stance, got)
	}
	if got := tb.basis("ukraine"); got != index {
		t.Errorf("Ukraine's position rests on #%d, want the new entry #%d", got, index)
	}
}

// verifyData is the entry page's data block, which verify.js checks.
var verifyData = regexp.MustCompile(`(?s)(<script[^>]*\bid="verify-data"[^>]*>)(.*?)(</script>)`)

// A tampering changes an entry page's data block as a dishonest server or
// a meddler on the way would: it returns the block changed, or false if the
// block has nothing it knows how to change.
type tampering func(block []byte) ([]byte, bool)

// tamperBody changes the signed body of Ukraine's position (the leaf's
// text): its proposal, 30-day becomes 31-day.
func tamperBody(block []byte) ([]byte, bool) {
	if !bytes.Contains(block, []byte("ceasefire-30-day")) {
		return nil, false
	}
	return bytes.ReplaceAll(block, []byte("ceasefire-30-day"), []byte("ceasefire-31-day")), true
}

// tamperProof changes one character of the first hash of the inclusion
// proof (base64 stays base64).
func tamperProof(block []byte) ([]byte, bool) {
	at := bytes.Index(block, []byte(`"proof":["`))
	if at < 0 {
		return nil, false
	}
	for i := at + len(`"proof":["`); i < len(block) && block[i] != '"'; i++ {
		c := block[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') {
			out := bytes.Clone(block)
			if c == 'A' {
				out[i] = 'B'
			} else {
				out[i] = 'A'
			}
			return out, true
		}
	}
	return nil, false
}

// A meddler rewrites entry pages (/entries/N) with a tampering while one
// is set; the test reads what it did.
type meddler struct {
	mu   sync.Mutex
	with tampering
	did  string // "" until a page was rewritten, or why it could not be
}

func (m *meddler) set(t tampering) {
	m.mu.Lock()
	m.with, m.did = t, ""
	m.mu.Unlock()
}

func (m *meddler) report() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.did
}

func (m *meddler) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		with := m.with
		m.mu.Unlock()
		if with == nil || r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/entries/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		page := rec.Body.Bytes()
		did := "rewrote the data block"
		if loc := verifyData.FindSubmatchIndex(page); loc == nil {
			did = "no <script type=\"application/json\" id=\"verify-data\"> block on the page"
		} else if block, ok := with(page[loc[4]:loc[5]]); !ok {
			did = "nothing to tamper with in the data block: " + string(page[loc[4]:loc[5]])
		} else {
			page = append(append(bytes.Clone(page[:loc[4]]), block...), page[loc[5]:]...)
		}
		m.mu.Lock()
		m.did = did
		m.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(page)
	})
}

// TestVerifyEntryInBrowser checks Ukraine's position in the browser with
// the entry page's "verify here" button: as served it verifies; served with
// its body or its proof tampered with, the page's script must say so.
func TestVerifyEntryInBrowser(t *testing.T) {
	var m meddler
	s := startSite(t, siteOptions{wrap: m.wrap})
	tb := s.newTab(t)
	tb.signIn(readerName)
	index := tb.basis("ukraine")
	for _, c := range []struct {
		name string
		with tampering
		want string
	}{
		{"as served", nil, "ok"},
		{"body tampered", tamperBody, "bad"},
		{"proof tampered", tamperProof, "bad"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := tb.on(t)
			m.set(c.with)
			if status := tb.open(fmt.Sprintf("/entries/%d", index)); status != http.StatusOK {
				t.Fatalf("GET /entries/%d: %d (%s)", index, status, tb.where())
			}
			if c.with != nil {
				if did := m.report(); did != "rewrote the data block" {
					t.Fatalf("could not tamper with /entries/%d: %s", index, did)
				}
			}
			tb.run("click Verify here", chromedp.Click(chromedp.CSS("button#verify-here")))
			tb.waitFor("a verdict in #verify-result", `document.querySelector("output#verify-result[data-verdict]")`)
			if got := tb.attr("output#verify-result", "data-verdict"); got != c.want {
				t.Errorf("verdict %q, want %q; the page says: %s", got, c.want, tb.text("output#verify-result"))
			}
			tb.screenshot("entry-verify-" + strings.ReplaceAll(c.name, " ", "-"))
		})
	}
}

// TestChannelHiddenFromNonMembers makes a confidential channel through the
// API; in the browser, its member sees it, and anyone else gets the same
// 404 as for a channel that does not exist, and no trace of it in the list.
func TestChannelHiddenFromNonMembers(t *testing.T) {
	s := startSite(t, siteOptions{})
	owner := s.users[editor2Name]
	var ch server.ChannelJSON
	if status, b := s.api("POST", "/api/v1/channels", owner, server.NewChannel{Name: "backchannel", Members: []string{owner.name}}, &ch); status != http.StatusCreated {
		t.Fatalf("create a channel: %d %s", status, b)
	}

	for _, name := range []string{readerName, editorName} {
		t.Run("not a member: "+name, func(t *testing.T) {
			tb := s.newTab(t)
			tb.signIn(name)
			tb.allow("status of 404")
			if status := tb.open("/channels/" + ch.ID); status != http.StatusNotFound {
				t.Errorf("%s at /channels/%s: status %d, want 404", name, ch.ID, status)
			}
			if text := tb.text("main"); strings.Contains(text, "backchannel") {
				t.Errorf("%s's 404 page names the channel: %q", name, text)
			}
			if status := tb.open("/channels"); status != http.StatusOK {
				t.Fatalf("%s at /channels: status %d, want 200 (%s)", name, status, tb.where())
			}
			if text := tb.text("main"); strings.Contains(text, "backchannel") {
				t.Errorf("%s's /channels lists the channel: %q", name, text)
			}
			if n := tb.count(`a[href="/channels/` + ch.ID + `"]`); n != 0 {
				t.Errorf("%s's /channels links to the channel", name)
			}
		})
	}

	t.Run("member", func(t *testing.T) {
		tb := s.newTab(t)
		tb.signIn(owner.name)
		if status := tb.open("/channels"); status != http.StatusOK {
			t.Fatalf("GET /channels: %d (%s)", status, tb.where())
		}
		if n := tb.count(`main a[href="/channels/` + ch.ID + `"]`); n == 0 {
			t.Errorf("the member's /channels has no link to the channel (%s)", tb.where())
		}
		if status := tb.open("/channels/" + ch.ID); status != http.StatusOK {
			t.Fatalf("GET /channels/%s: %d (%s)", ch.ID, status, tb.where())
		}
		if text := tb.text("main"); !strings.Contains(text, "backchannel") {
			t.Errorf("the channel's page does not name it: %q", text)
		}
		tb.screenshot("channel")
	})
}

// TestLiveFeed keeps the overview open while an entry is appended through
// the API: the page says so, with the entry's index, without reloading.
func TestLiveFeed(t *testing.T) {
	s := startSite(t, siteOptions{})
	editor := s.users[editorName]
	signer := s.newKey(editor)
	tb := s.newTab(t)
	tb.signIn(readerName)
	if !eval[bool](tb, `document.getElementById("live").hidden`) {
		t.Fatalf("#live shows before anything was appended: %q", tb.text("#live"))
	}
	// A mark the page keeps only if it is not reloaded.
	eval[chromedp.Void](tb, `window.parleyTestMark = "still here"`)
	// Append once the page follows the feed, to test the live path (an
	// entry appended earlier would come too: the page asks from its size).
	for deadline := time.Now().Add(waitTimeout); s.feedClients() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the overview did not open the live feed in %v", waitTimeout)
		}
	}

	index := s.appendNote(editor, signer, "a note the live feed must show")
	tb.waitFor(fmt.Sprintf("#live to show entry #%d", index), `(() => { const l = document.getElementById("live");
		return l && !l.hidden && new RegExp("#`+strconv.FormatInt(index, 10)+`\\b").test(l.textContent); })()`)
	if mark := eval[string](tb, `window.parleyTestMark || ""`); mark != "still here" {
		t.Errorf("the page was reloaded: the live feed must update it in place")
	}
	tb.screenshot("overview-live")
}

// feedClients is how many clients follow the live feed, as the server's
// metrics say.
func (s *site) feedClients() int {
	s.t.Helper()
	status, b := s.api("GET", "/metrics", s.users[adminName], nil, nil)
	if status != http.StatusOK {
		s.t.Fatalf("GET /metrics: %d %s", status, b)
	}
	m := regexp.MustCompile(`(?m)^parley_feed_clients (\d+)`).FindSubmatch(b)
	if m == nil {
		s.t.Fatalf("no parley_feed_clients in the metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
