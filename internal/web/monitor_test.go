package web

import (
	"bytes"
	"context"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"parley/internal/entry"
	"parley/internal/geo"
	"parley/internal/state"
	"parley/internal/vocab"
)

// monitorSite is the test site with the monitoring pages routed as the
// server routes them.
func monitorSite(t *testing.T) *site {
	ts := newSite(t)
	viewer := Viewer{Name: "reader", Role: "reader", CSRF: "test-csrf-token", CanRead: true}
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /ceasefire":       ts.site.Ceasefire,
		"GET /ceasefire/daily": ts.site.Daily,
		"GET /ceasefire/map":   ts.site.Map,
	} {
		ts.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(WithViewer(r.Context(), viewer))
			if err := h(w, r); err != nil {
				ts.site.Fail(w, r, errorView(err))
			}
		})
	}
	return ts
}

func TestMonitorPages(t *testing.T) {
	ts := monitorSite(t)
	for _, c := range []struct {
		name, path string
		status     int
		wants      []string
	}{
		{"compliance", "/ceasefire", 200, []string{`<h1>Ceasefire: 30-day ceasefire of 20 March 2025</h1>`, `aria-current="page">Ceasefire</a>`,
			`/static/monitor.css`, `id="compliance-parties"`, `data-party="party/russia"`, `data-party="party/ukraine"`,
			`<svg xmlns="http://www.w3.org/2000/svg"`, `class="parley-chart"`, `data-date="2025-03-22"`, `href="/ceasefire/daily?date=2025-03-22"`}},
		{"compliance-period", "/ceasefire?from=2025-03-21&to=2025-03-23&as_of=2025-03-24", 200, []string{`From 2025-03-21 to 2025-03-23`,
			`href="/ceasefire/daily?as_of=2025-03-24&amp;date=2025-03-22"`}},
		{"daily", "/ceasefire/daily?date=2025-03-22", 200, []string{`<h1>Daily report, 2025-03-22</h1>`, `type="date" value="2025-03-22"`,
			`id="smm-line"`, `id="by-area"`, `id="by-category"`, `id="by-status"`, `id="incident-list"`,
			`href="/ceasefire/daily?date=2025-03-21"`, `href="/ceasefire/daily?date=2025-03-23"`, `href="/e/incident/`, `href="/entries/`}},
		{"daily-clock", "/ceasefire/daily?date=2025-03-22&known_at=%2370", 200, []string{`known_at=%2370&amp;date=2025-03-21`}},
		{"daily-bad-date", "/ceasefire/daily?date=soon", 400, []string{"date"}},
		{"map", "/ceasefire/map?date=2025-03-22", 200, []string{`class="parley-map"`, `<g class="incidents">`, `id="map-category"`,
			`type="date" value="2025-03-22"`, `<g class="legend"`, `<option value="shelling">`, `class="clock"`,
			`href="/ceasefire/daily?date=2025-03-22"`, `href="/ceasefire" id="map-compliance"`}},
		// The map keeps the agreement and the clock on its links and in
		// its form, as the other monitoring pages do.
		{"map-agreement-clock", "/ceasefire/map?date=2025-03-22&agreement=ceasefire-2025-03&as_of=2025-03-24&known_at=%2370", 200, []string{
			`class="clock"`, `<input type="hidden" name="agreement" value="ceasefire-2025-03">`,
			`<input type="hidden" name="as_of" value="2025-03-24">`, `<input type="hidden" name="known_at" value="#70">`,
			`href="/ceasefire/daily?agreement=ceasefire-2025-03&amp;as_of=2025-03-24&amp;known_at=%2370&amp;date=2025-03-22"`,
			`href="/ceasefire?agreement=ceasefire-2025-03&amp;as_of=2025-03-24&amp;known_at=%2370" id="map-compliance"`}},
		{"compliance-agreement-clock", "/ceasefire?agreement=ceasefire-2025-03&as_of=2025-03-24", 200, []string{
			`href="/ceasefire/map?agreement=ceasefire-2025-03&amp;as_of=2025-03-24" id="ceasefire-map"`}},
		{"daily-agreement-clock", "/ceasefire/daily?date=2025-03-22&agreement=ceasefire-2025-03&as_of=2025-03-24", 200, []string{
			`href="/ceasefire/daily?agreement=ceasefire-2025-03&amp;as_of=2025-03-24&amp;date=2025-03-21"`,
			`href="/ceasefire/map?agreement=ceasefire-2025-03&amp;as_of=2025-03-24&amp;date=2025-03-22"`,
			`href="/ceasefire?agreement=ceasefire-2025-03&amp;as_of=2025-03-24" id="daily-compliance"`}},
		{"map-category", "/ceasefire/map?date=2025-03-22&category=shelling", 200, []string{`<option value="shelling" selected>`}},
		{"map-all", "/ceasefire/map", 200, []string{`class="parley-map"`}},
		{"map-bad-category", "/ceasefire/map?category=picnic", 400, []string{"picnic"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := ts.get(t, c.path, c.status)
			mustContain(t, c.path, page, c.wants...)
		})
	}
}

// TestDailyIncidentCount checks the daily page lists every incident of the
// report, each with its links.
func TestDailyIncidentCount(t *testing.T) {
	ts := monitorSite(t)
	rep, err := ts.rec.Ask.DailyQuery(context.Background(), state.DailyQuery{Date: "2025-03-22"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := ts.get(t, "/ceasefire/daily?date=2025-03-22", 200)
	if got := strings.Count(page, `<tr class="incident`); got != len(rep.List) || got == 0 {
		t.Errorf("%d incident rows, want %d (and some)", got, len(rep.List))
	}
	m := ts.get(t, "/ceasefire/map?date=2025-03-22", 200)
	lone, clusters := strings.Count(m, `<g class="incident">`), strings.Count(m, `<g class="cluster">`)
	if lone+clusters == 0 || lone+2*clusters > rep.Incidents {
		t.Errorf("the map draws %d incidents and %d clusters for %d incidents", lone, clusters, len(rep.List))
	}
}

// TestMapLegendOnce checks the map's legend is the drawing's own, not
// drawn a second time beside it.
func TestMapLegendOnce(t *testing.T) {
	ts := monitorSite(t)
	page := ts.get(t, "/ceasefire/map?date=2025-03-22", 200)
	if n := strings.Count(page, `class="legend"`); n != 1 {
		t.Errorf("%d legends, want 1 (the map's)", n)
	}
	mustNotContain(t, "map", page, `swatch`, `id="map-legend"`)
}

func TestRenderDaily(t *testing.T) {
	ts := newSite(t)
	rep, err := ts.rec.Ask.DailyQuery(context.Background(), state.DailyQuery{Date: "2025-03-22"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderDaily(&buf, rep); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	mustContain(t, "standalone", page, "<!doctype html>", "<style>", "@media print", "<h1>Daily report, 2025-03-22</h1>", `id="incident-list"`)
	mustNotContain(t, "standalone", page, `href="/`, "<script", "<nav")
	// It carries the monitoring pages' stylesheet, not a copy of its own.
	css, err := fs.ReadFile(staticFS, "static/monitor.css")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, string(css)) {
		t.Error("the standalone report does not carry static/monitor.css as it is")
	}
	if got := strings.Count(page, `<tr class="incident`); got != len(rep.List) {
		t.Errorf("%d incident rows, want %d", got, len(rep.List))
	}
	// Well-formed but for the <style> the page may carry, being a file.
	if err := checkPage(strings.Replace(styleBlock.ReplaceAllString(page, ""), "<body>", `<body><main id="main"></main>`, 1)); err != nil {
		t.Error(err)
	}
}

var styleBlock = regexp.MustCompile(`(?s)<style>.*?</style>`)

// TestMapKnowsEveryStatus keeps the map's statuses those of the
// verification workflow: a status the map did not know would fail to draw.
func TestMapKnowsEveryStatus(t *testing.T) {
	if !slices.Equal(geo.Statuses, vocab.IncidentStatuses) {
		t.Errorf("the map draws statuses %q; the workflow has %q", geo.Statuses, vocab.IncidentStatuses)
	}
}

// TestIncidentRowsEscape writes rows whose every text is hostile: each
// comes out as html/template would write it, in text and in a quoted
// attribute, and the hostile text itself nowhere.
func TestIncidentRowsEscape(t *testing.T) {
	hostile := `<script>alert("x")</script> & 'q' +1 ` + "\x00"
	row := state.IncidentRow{
		Incident: state.Ref{Key: "incident/" + hostile, Name: hostile},
		Against:  state.Ref{Key: "party/" + hostile, Name: hostile},
		Basis:    state.Basis{Index: 7, Sources: []entry.Source{{Citation: hostile}}},
	}
	row.Place, row.Area, row.Status = hostile, hostile+"!", hostile
	row.Categories = []string{hostile, "shelling"}
	want := func(context string) string {
		var b strings.Builder
		tpl := template.Must(template.New("").Parse(context))
		if err := tpl.Execute(&b, hostile); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	inText := want(`{{.}}`)
	inAttr := strings.TrimSuffix(strings.TrimPrefix(want(`<a title="{{.}}">`), `<a title="`), `">`)
	for _, standalone := range []bool{true, false} {
		var page strings.Builder
		for _, p := range incidentRows([]state.IncidentRow{row}, standalone) {
			page.WriteString(string(p))
		}
		out := page.String()
		if strings.Contains(out, "<script") || strings.Contains(out, hostile) {
			t.Errorf("standalone %v: the hostile text is written as it is:\n%s", standalone, out)
		}
		mustContain(t, "rows", out, inText, inAttr)
		if err := checkPage(`<!doctype html><html><head><title>t</title></head><body><main id="main"><table>` + out + `</table></main></body></html>`); err != nil {
			t.Errorf("standalone %v: %v", standalone, err)
		}
	}
}
