package webtest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"parley/internal/account"
)

// The monitors of the monitoring forms' test: one files a report, the
// other reviews it.
const (
	monitorName  = "monitor"
	monitor2Name = "monitor2"
)

// TestMonitorFormsInBrowser files an incident report through the report
// form, signed in the browser by a monitor, and sees it on the day's
// report and the incident's page; refuses a latitude of 91 from the
// server, and one that is not a number in the form, each beside the
// latitude with nothing appended; refuses the monitor's review of their
// own incident; and has a second monitor review it through the review
// form, moving it under review.
func TestMonitorFormsInBrowser(t *testing.T) {
	s := startSite(t, siteOptions{})
	s.addUser(user{name: monitorName, role: account.Monitor})
	s.addUser(user{name: monitor2Name, role: account.Monitor})
	photo := s.uploadEvidence(s.users[monitorName], "crater.jpg", "a photograph of the crater at Avdiivka")

	const report, incident = "webform-0324", "incident/webform-0324.1"
	tb := s.newTab(t)
	tb.signIn(monitorName)
	tb.makeKey()

	// The add page offers a monitor what a monitor may add, and no more.
	if status := tb.open("/add"); status != http.StatusOK {
		t.Fatalf("GET /add: %d (%s)", status, tb.where())
	}
	if !tb.exists("#monitor-note") {
		t.Errorf("no note for a monitor on /add")
	}
	offered := eval[[]string](tb, `[...document.querySelectorAll("main a[href^='/add/']")].map(a => a.getAttribute("href"))`)
	if want := []string{"/add/report", "/add/review", "/add/duplicate"}; strings.Join(offered, " ") != strings.Join(want, " ") {
		t.Errorf("/add offers a monitor %q, want %q", offered, want)
	}

	t.Run("report", func(t *testing.T) {
		tb := tb.on(t)
		before := s.rec.Log.Size()
		tb.navigateBy("follow the report link", chromedp.Click(chromedp.CSS("a#add-report")))
		if loc := tb.location(); loc != "/add/report" {
			t.Fatalf("the report link leads to %s (%s)", loc, tb.where())
		}
		tb.fill("#id", report)
		tb.choose("select#agreement", "ceasefire-2025-03")
		tb.choose("select#reported_by", "actor/monitoring-mission")
		tb.fill("#source", "patrol north")
		tb.fill("#incidents-time", "2025-03-24T09:30")
		tb.fill("#incidents-place", "Avdiivka")
		tb.fill("#incidents-area", "Donetsk")
		tb.fill("#incidents-lat", "48.139")
		tb.fill("#incidents-lon", "37.746")
		tb.choose("select#incidents-precision", "near")
		tb.chooseAll("select#incidents-categories", "shelling", "explosion-impact")
		tb.fill("#incidents-count", "3")
		tb.choose("select#incidents-against", "russia")
		tb.fill("#incidents-evidence", photo+"  crater.jpg")
		tb.run("preview", chromedp.Click(chromedp.CSS("#preview")))
		tb.waitFor("the preview to show the incident", `document.querySelector("#preview-json").textContent.includes('"incidents":[{')`)
		preview := tb.text("#preview-json")
		for _, want := range []string{`"lat":48.139`, `"lon":37.746`, `"categories":["shelling","explosion-impact"]`, `"count":3`,
			`"evidence":[{"name":"crater.jpg","sha256":"` + photo + `"}]`, `"time":"2025-03-24T09:30:00Z"`, `"type":"report"`} {
			if !strings.Contains(preview, want) {
				t.Errorf("the preview has no %s: %s", want, preview)
			}
		}
		tb.screenshot("add-report")
		index := tb.signAndAdd()
		if after := s.rec.Log.Size(); after != before+1 {
			t.Errorf("the record went from %d to %d entries, want one more", before, after)
		}

		// The day's report lists it; its page says it is reported.
		if status := tb.open("/ceasefire/daily?date=2025-03-24"); status != http.StatusOK {
			t.Fatalf("GET /ceasefire/daily: %d (%s)", status, tb.where())
		}
		if n := tb.count(`main a[href="/e/` + incident + `"]`); n == 0 {
			t.Errorf("the daily report of 2025-03-24 does not link to %s (%s)", incident, tb.where())
		}
		if got := tb.incidentStatus(incident); got != "reported" {
			t.Errorf("%s is %q, want reported", incident, got)
		}
		if n := tb.count(`#entity-history a[href="/entries/` + strconv.FormatInt(index, 10) + `"]`); n == 0 {
			t.Errorf("the incident's history does not link to its report, #%d", index)
		}
	})

	t.Run("latitude out of range", func(t *testing.T) {
		tb := tb.on(t)
		tb.allow("the server responded with a status of 4")
		if status := tb.open("/add/report"); status != http.StatusOK {
			t.Fatalf("GET /add/report: %d (%s)", status, tb.where())
		}
		tb.fill("#id", report+"b")
		tb.choose("select#agreement", "ceasefire-2025-03")
		tb.choose("select#reported_by", "actor/monitoring-mission")
		tb.fill("#incidents-time", "2025-03-24T10:00")
		tb.fill("#incidents-place", "Avdiivka")
		tb.fill("#incidents-lat", "91")
		tb.fill("#incidents-lon", "37.746")
		tb.chooseAll("select#incidents-categories", "small-arms")
		before := s.rec.Log.Size()

		// The server refuses it, naming the latitude; the form puts that
		// beside the field.
		tb.run("sign and add", chromedp.Click(chromedp.CSS("#sign-submit")))
		tb.waitFor("the refusal beside the latitude", `(() => { const p = document.querySelector("#incidents-lat-error");
			return p && !p.hidden && p.textContent.includes("out of range"); })()`)
		if got := tb.text("#incidents-lat-error"); !strings.Contains(got, `"incidents/0/lat" is 91`) {
			t.Errorf("the latitude's error says %q, want it to name incidents/0/lat and 91", got)
		}
		if got := tb.attr("#incidents-lat", "aria-invalid"); got != "true" {
			t.Errorf("the latitude's aria-invalid is %q", got)
		}
		if n := tb.count(".field-error:not([hidden])"); n != 1 {
			t.Errorf("%d fields show an error, want the latitude's alone (%s)", n, tb.where())
		}
		if tb.exists("output#add-result[data-index]") {
			t.Errorf("the form says it added the report (%s)", tb.where())
		}
		if got := tb.text("output#add-result"); !strings.Contains(got, "Not added") {
			t.Errorf("#add-result says %q, want Not added", got)
		}
		tb.screenshot("add-report-bad-latitude")

		// Not a number: the form refuses it itself, naming the field.
		tb.fill("#incidents-lat", "48,139")
		tb.run("preview", chromedp.Click(chromedp.CSS("#preview")))
		tb.waitFor("the form's error beside the latitude", `!document.querySelector("#incidents-lat-error").hidden`)
		if got := tb.text("#incidents-lat-error"); !strings.HasPrefix(got, `Latitude: "48,139" is not a decimal number`) {
			t.Errorf("the latitude's error says %q", got)
		}
		if got := tb.text("#preview-json"); got != "" {
			t.Errorf("the preview shows %q for an entry with an error", got)
		}
		if after := s.rec.Log.Size(); after != before {
			t.Errorf("the record went from %d to %d entries", before, after)
		}
	})

	t.Run("own report", func(t *testing.T) {
		tb := tb.on(t)
		tb.allow("the server responded with a status of 403")
		before := s.rec.Log.Size()
		tb.openReview(incident)
		tb.run("sign and add", chromedp.Click(chromedp.CSS("#sign-submit")))
		tb.waitFor("the refusal beside the incident", `!document.querySelector("#incident-error").hidden`)
		if got := tb.text("#incident-error"); !strings.Contains(got, "may not review it") {
			t.Errorf("the incident's error says %q, want that the monitor may not review it", got)
		}
		if after := s.rec.Log.Size(); after != before {
			t.Errorf("the record went from %d to %d entries", before, after)
		}
	})

	t.Run("review", func(t *testing.T) {
		tb := s.newTab(t)
		tb.signIn(monitor2Name)
		tb.makeKey()
		tb.openReview(incident)
		tb.screenshot("add-review")
		index := tb.signAndAdd()
		if got := tb.incidentStatus(incident); got != "under-review" {
			t.Errorf("after the review, %s is %q, want under-review", incident, got)
		}
		if n := tb.count(`#entity-history a[href="/entries/` + strconv.FormatInt(index, 10) + `"]`); n == 0 {
			t.Errorf("the incident's history does not link to the review, #%d", index)
		}
		status, b := s.api("GET", "/api/v1/entries/"+strconv.FormatInt(index, 10), s.users[readerName], nil, nil)
		if status != http.StatusOK || !strings.Contains(string(b), `"review"`) || !strings.Contains(string(b), monitor2Name+"-browser+") {
			t.Errorf("entry #%d: %d %.300s", index, status, b)
		}
	})
}

// makeKey makes a signing key in the browser on the account page, and
// returns its id.
func (tb *tab) makeKey() string {
	tb.t.Helper()
	if status := tb.open("/account"); status != http.StatusOK {
		tb.t.Fatalf("GET /account: %d (%s)", status, tb.where())
	}
	// Once the page's script has said which key the browser holds, its
	// button makes one: a click before that may come before the script.
	tb.waitFor("the account page to say which key this browser holds", `document.querySelector("output#key-status").textContent !== ""`)
	tb.run("make a key", chromedp.Click(chromedp.CSS("#make-key")))
	tb.waitFor("the new key's id in #key-status", `document.querySelector("output#key-status[data-key-id]")`)
	return tb.attr("output#key-status", "data-key-id")
}

// fill sets the value of the input or textarea matching sel, and tells
// the page it changed.
func (tb *tab) fill(sel, value string) {
	tb.t.Helper()
	if !eval[bool](tb, `(() => { const el = document.querySelector(`+js(sel)+`);
		if (!el) return false;
		el.value = `+js(value)+`;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true; })()`) {
		tb.t.Fatalf("no %s on the page (%s)", sel, tb.where())
	}
}

// chooseAll selects exactly the options of a multiple select whose values
// are want, and tells the page it changed.
func (tb *tab) chooseAll(sel string, want ...string) {
	tb.t.Helper()
	quoted := make([]string, len(want))
	for i, w := range want {
		quoted[i] = js(w)
	}
	wants := "[" + strings.Join(quoted, ",") + "]"
	n := eval[int](tb, `(() => { const s = document.querySelector(`+js(sel)+`), want = `+wants+`;
		if (!s) return -1;
		let n = 0;
		for (const o of s.options) { o.selected = want.includes(o.value); if (o.selected) n++; }
		s.dispatchEvent(new Event("input", {bubbles: true}));
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return n; })()`)
	if n != len(want) {
		tb.t.Fatalf("%s: %d of the options %q chosen (%s)", sel, n, want, tb.where())
	}
}

// signAndAdd signs the add form's entry and posts it, and returns the
// index the record gave it.
func (tb *tab) signAndAdd() int64 {
	tb.t.Helper()
	tb.run("sign and add", chromedp.Click(chromedp.CSS("#sign-submit")))
	tb.waitFor("the entry's index in #add-result", `document.querySelector("output#add-result[data-index]")`)
	index, err := strconv.ParseInt(tb.attr("output#add-result", "data-index"), 10, 64)
	if err != nil {
		tb.t.Fatalf("#add-result's data-index: %v", err)
	}
	return index
}

// openReview opens the review form and fills it in to put the incident
// under review, checking that the picker shows the incident's id and
// status.
func (tb *tab) openReview(incident string) {
	tb.t.Helper()
	if status := tb.open("/add/review"); status != http.StatusOK {
		tb.t.Fatalf("GET /add/review: %d (%s)", status, tb.where())
	}
	tb.choose("select#incident", incident)
	label := eval[string](tb, `document.querySelector("select#incident").selectedOptions[0].textContent`)
	if _, id, _ := strings.Cut(incident, "/"); !strings.HasPrefix(label, id+" · reported · ") {
		tb.t.Errorf("the picker shows %s as %q, want its id and status first", incident, label)
	}
	tb.choose("select#status", "under-review")
	tb.fill("#reasoning", "the Mission's southern team is checking the crater against the report")
}

// incidentStatus opens the incident's page and returns its status.
func (tb *tab) incidentStatus(key string) string {
	tb.t.Helper()
	if status := tb.open("/e/" + key); status != http.StatusOK {
		tb.t.Fatalf("GET /e/%s: %d (%s)", key, status, tb.where())
	}
	return eval[string](tb, `(() => { const dt = [...document.querySelectorAll("#entity-fields dt")].find(d => d.textContent.trim() === "status");
		return dt ? dt.nextElementSibling.textContent.trim() : ""; })()`)
}

// uploadEvidence stores a file as evidence, as u, and returns its SHA-256.
func (s *site) uploadEvidence(u *user, name, content string) string {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.url+"/api/v1/evidence?name="+name, strings.NewReader(content))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := s.http.Client().Do(req)
	if err != nil {
		s.t.Fatalf("upload %s: %v", name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}
