package webtest

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestMonitorPages opens the ceasefire's pages as a reader: each loads
// without a browser error and is saved as a screenshot; the daily report
// of 22 March counts its four incidents (and lists a duplicate report),
// and the map draws the same four, alone or in clusters.
func TestMonitorPages(t *testing.T) {
	s := startSite(t, siteOptions{})
	tb := s.newTab(t)
	tb.signIn(readerName)
	for _, p := range []struct{ path, name string }{
		{"/ceasefire", "ceasefire"},
		{"/ceasefire/daily?date=2025-03-22", "ceasefire-daily-2025-03-22"},
		{"/ceasefire/map?date=2025-03-22", "ceasefire-map-2025-03-22"},
	} {
		t.Run(p.name, func(t *testing.T) {
			tb := tb.on(t)
			if status := tb.open(p.path); status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200 (%s)", p.path, status, tb.where())
			}
			tb.checkConsole("on " + p.path)
			if got := tb.text(`header nav a[aria-current="page"]`); got != "Ceasefire" {
				t.Errorf("%s: the nav marks %q, want Ceasefire", p.path, got)
			}
			switch p.name {
			case "ceasefire":
				if n := tb.count(`#compliance-chart svg.parley-chart`); n != 1 {
					t.Errorf("%d charts, want 1", n)
				}
				for _, p := range []string{"party/russia", "party/ukraine"} {
					if !tb.exists(`#compliance-parties tr[data-party="` + p + `"]`) {
						t.Errorf("no row for %s", p)
					}
				}
			case "ceasefire-daily-2025-03-22":
				if n := tb.count(`#incident-list tr.incident:not(.duplicate)`); n != 4 {
					t.Errorf("the daily report lists %d incidents, want 4", n)
				}
				if got := tb.attr(`#daily-report`, "data-incidents"); got != "4" {
					t.Errorf("the daily report counts %s incidents, want 4", got)
				}
				if n := tb.count(`#incident-list tr.incident a[href^="/e/incident/"]`); n != 5 {
					t.Errorf("%d incidents (and a duplicate) link to their page, want 5", n)
				}
				if n := tb.count(`#incident-list tr.incident a[href^="/entries/"]`); n != 5 {
					t.Errorf("%d incidents (and a duplicate) link to their entry, want 5", n)
				}
				if tb.attr(`#daily-date`, "type") != "date" {
					t.Errorf("the day is not a date input")
				}
				// Printed, the controls and the navigation are hidden.
				if !eval[bool](tb, `(() => { for (const sh of document.styleSheets) for (const r of sh.cssRules)
					if (r.media && r.media.mediaText === "print" && r.cssText.includes(".controls")) return true; return false })()`) {
					t.Errorf("no print rule hides the controls")
				}
			case "ceasefire-map-2025-03-22":
				lone := tb.count(`#incident-map svg g.incident`)
				inClusters := eval[int](tb, `[...document.querySelectorAll("#incident-map svg g.cluster text")].reduce((n, t) => n + Number(t.textContent), 0)`)
				if lone+inClusters != 4 {
					t.Errorf("the map draws %d incidents alone and %d in clusters, want 4 in all", lone, inClusters)
				}
				if n := tb.count(`#map-category option`); n < 2 {
					t.Errorf("the category filter has %d options", n)
				}
				// The legend is the drawing's own: a shape and a count per status.
				if n := tb.count(`#incident-map svg g.legend use`); n == 0 {
					t.Errorf("no legend")
				}
				if n := tb.count(`#map-legend, .swatch`); n != 0 {
					t.Errorf("the legend is drawn twice: %d elements of an HTML legend", n)
				}
				// The map keeps the clock, as the other ceasefire pages do.
				if !tb.exists(`form.clock`) {
					t.Errorf("no clock on the map")
				}
			}
			tb.screenshot(p.name)
		})
	}

	// The date picker and the next-day link go to the next day.
	t.Run("next-day", func(t *testing.T) {
		tb := tb.on(t)
		tb.open("/ceasefire/daily?date=2025-03-22")
		tb.navigateBy("follow the next-day link", chromedp.Click(chromedp.CSS("#daily-next")))
		if got := tb.text(`#daily-report h1`); got != "Daily report, 2025-03-23" {
			t.Errorf("after the next-day link: %q", got)
		}
		tb.checkConsole("on the next day")
	})
}
