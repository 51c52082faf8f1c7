package webtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// cell is the positions matrix's cell of a party on the seed case's 30-day
// ceasefire.
func cell(party string) string {
	return `td.cell[data-party="party/` + party + `"][data-proposal="proposal/ceasefire-30-day"]`
}

// stance is what a party's cell says of the 30-day ceasefire ("" for no
// position).
func (tb *tab) stance(party string) string {
	tb.t.Helper()
	return tb.attr(cell(party), "data-stance")
}

// basis is the index of the entry a party's position rests on, from the
// link in its cell.
func (tb *tab) basis(party string) int64 {
	tb.t.Helper()
	href := tb.attr(cell(party)+" a.basis", "href")
	n, err := strconv.ParseInt(strings.TrimPrefix(href, "/entries/"), 10, 64)
	if err != nil || !strings.HasPrefix(href, "/entries/") {
		tb.t.Fatalf("%s's basis link is %q, want /entries/N", party, href)
	}
	return n
}

// TestSignInThroughTheForm signs in with the real form: the browser keeps
// the Secure session cookie on http://127.0.0.1 and lands on the overview,
// whose header names the account.
func TestSignInThroughTheForm(t *testing.T) {
	s := startSite(t, siteOptions{})
	tb := s.newTab(t)
	tb.signInWith(editorName, chromedp.SendKeys[chromedp.ID])
	if got := tb.text(`header .who .role`); got != "editor" {
		t.Errorf("the header shows the role %q, want editor", got)
	}
	if h1 := tb.text("main h1"); h1 == "" {
		t.Errorf("the overview has no heading")
	}
}

// TestPositionsMatrix reads the seed case's positions off the overview.
func TestPositionsMatrix(t *testing.T) {
	s := startSite(t, siteOptions{})
	tb := s.newTab(t)
	tb.signIn(readerName)
	for party, want := range map[string]string{"ukraine": "accepts", "russia": "accepts-in-principle"} {
		if got := tb.stance(party); got != want {
			t.Errorf("%s on the 30-day ceasefire: data-stance %q, want %q", party, got, want)
		}
	}
	if got := tb.text(cell("russia") + " .stance"); got != "accepts-in-principle" {
		t.Errorf("Russia's cell reads %q, want accepts-in-principle", got)
	}
}

// TestClockControls moves the page in time with its controls: as of 12
// March 2025 Russia had not answered and Ukraine had accepted; as the record
// knew it just after Ukraine's position, the same.
func TestClockControls(t *testing.T) {
	s := startSite(t, siteOptions{})
	tb := s.newTab(t)
	tb.signIn(readerName)

	t.Run("as of", func(t *testing.T) {
		tb := tb.on(t)
		status := tb.navigateBy("pick a date in #as_of", chromedp.Evaluate[chromedp.Void](`(() => {
			const el = document.querySelector("input#as_of");
			el.value = "2025-03-12";
			el.dispatchEvent(new Event("change", {bubbles: true}));
		})()`))
		if status != http.StatusOK {
			t.Fatalf("as of 2025-03-12: status %d (%s)", status, tb.where())
		}
		if loc := tb.location(); !strings.Contains(loc, "as_of=2025-03-12") {
			t.Fatalf("after picking a date the page is %s, want as_of=2025-03-12 in it", loc)
		}
		if got := tb.stance("russia"); got != "" {
			t.Errorf("as of 2025-03-12 Russia's cell has data-stance %q, want \"\" (no position yet)", got)
		}
		if got := tb.stance("ukraine"); got != "accepts" {
			t.Errorf("as of 2025-03-12 Ukraine's cell has data-stance %q, want accepts", got)
		}
		if got := eval[string](tb, `document.querySelector("input#as_of").value`); got != "2025-03-12" {
			t.Errorf("the control shows %q after the move, want 2025-03-12", got)
		}
		tb.screenshot("overview-as-of-2025-03-12")
	})

	t.Run("known at", func(t *testing.T) {
		tb := tb.on(t)
		if status := tb.open("/"); status != http.StatusOK {
			t.Fatalf("GET /: %d", status)
		}
		// The record as it stood once Ukraine's position was on it, and
		// Russia's (appended later) was not.
		size := tb.basis("ukraine") + 1
		status := tb.navigateBy("type a log size in #known_at and submit", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const el = document.querySelector("input#known_at");
			el.value = "#%d";
			el.form.requestSubmit();
		})()`, size)))
		if status != http.StatusOK {
			t.Fatalf("known at #%d: status %d (%s)", size, status, tb.where())
		}
		if loc := tb.location(); !strings.Contains(loc, fmt.Sprintf("known_at=%%23%d", size)) {
			t.Fatalf("after submitting known at #%d the page is %s, want known_at=%%23%d in it", size, loc, size)
		}
		if got := tb.stance("russia"); got != "" {
			t.Errorf("known at #%d Russia's cell has data-stance %q, want \"\"", size, got)
		}
		if got := tb.stance("ukraine"); got != "accepts" {
			t.Errorf("known at #%d Ukraine's cell has data-stance %q, want accepts", size, got)
		}
	})
}

// TestAccess shows each role what it may do: a reader has no Add link and
// a 403 page at /add; someone not signed in is sent to the sign-in form.
func TestAccess(t *testing.T) {
	s := startSite(t, siteOptions{})

	t.Run("reader", func(t *testing.T) {
		tb := s.newTab(t)
		tb.signIn(readerName)
		if n := tb.count(`a[href="/add"], a[href^="/add/"]`); n != 0 {
			t.Errorf("a reader sees %d links to /add, want none", n)
		}
		for _, a := range eval[[]string](tb, `[...document.querySelectorAll("header nav a")].map(a => a.innerText.trim())`) {
			if a == "Add" {
				t.Errorf("a reader's menu has an Add item")
			}
		}
		tb.allow("status of 403")
		if status := tb.open("/add"); status != http.StatusForbidden {
			t.Errorf("a reader at /add: status %d, want 403", status)
		}
		if h1 := tb.text("main h1"); !strings.Contains(h1, "403") {
			t.Errorf("a reader at /add sees %q, want a 403 page", h1)
		}
	})

	t.Run("editor", func(t *testing.T) {
		tb := s.newTab(t)
		tb.signIn(editorName)
		if n := tb.count(`header nav a[href="/add"]`); n != 1 {
			t.Errorf("an editor's menu has %d Add links, want 1", n)
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		tb := s.newTab(t)
		if status := tb.open("/account"); status != http.StatusOK {
			t.Errorf("anonymous at /account: status %d after redirects, want the sign-in form (200)", status)
		}
		if loc := tb.location(); !strings.HasPrefix(loc, "/signin?next=%2Faccount") {
			t.Errorf("anonymous at /account lands on %s, want /signin?next=%%2Faccount", loc)
		}
		if !tb.exists("input#name") || !tb.exists("input#password") {
			t.Errorf("no sign-in form (%s)", tb.where())
		}
	})
}

// TestMainPages opens every main page as an admin: each loads with 200,
// without a browser error, and is saved as a screenshot.
func TestMainPages(t *testing.T) {
	s := startSite(t, siteOptions{})
	tb := s.newTab(t)
	tb.signIn(adminName)
	for _, p := range []struct{ path, name string }{
		{"/", "overview"},
		{"/timeline", "timeline"},
		{"/statements", "statements"},
		{"/routes", "routes"},
		{"/pending", "pending"},
		{"/e/party/russia", "entity-party-russia"},
		{"/entries/17", "entry-17"},
		{"/signin", "signin"},
		{"/account", "account"},
		{"/admin", "admin"},
		{"/add/position", "add-position"},
	} {
		t.Run(p.name, func(t *testing.T) {
			tb := tb.on(t)
			status := tb.open(p.path)
			var also []string
			if status != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200 (%s)", p.path, status, tb.where())
				also = append(also, fmt.Sprintf("status of %d", status))
			}
			tb.checkConsole("on "+p.path, also...)
			tb.screenshot(p.name)
		})
	}
}
