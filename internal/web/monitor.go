package web

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/internal/geo"
	"parley/internal/problem"
	"parley/internal/state"
	"parley/internal/vocab"
)

// The monitoring pages: the agreement's compliance, the daily report and
// the map of incidents. Their pictures are drawn on the server (package
// geo) as inline SVG that needs no script and no style attribute.

// CeasefireView is an agreement's compliance over a period.
type CeasefireView struct {
	Agreement  string // as typed, "" for the only one
	Compliance state.Compliance
	// Chart is the violations-per-day chart, one series per party.
	Chart template.HTML
	// Days are the period's days, one count per party of Compliance.
	Days []ComplianceRow
	// Link is the query string of the agreement and the clock, carried to
	// the daily reports and the map.
	Link string
}

// ComplianceRow is one day of the compliance table.
type ComplianceRow struct {
	state.ComplianceDay
	// PerParty holds the day's incidents of each party of the compliance,
	// in its order.
	PerParty []int
}

// Ceasefire shows an agreement's compliance: its terms, a row per party,
// the violations per day drawn, and a row per day.
func (s *Site) Ceasefire(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	q := r.URL.Query()
	v := CeasefireView{Agreement: strings.TrimSpace(q.Get("agreement"))}
	a, err := s.ask(r.Context(), c, state.Query{Question: "compliance",
		Params: map[string]string{"agreement": v.Agreement, "from": strings.TrimSpace(q.Get("from")), "to": strings.TrimSpace(q.Get("to"))}})
	if err != nil {
		return err
	}
	v.Compliance = a.(state.Compliance)
	days := make([]time.Time, len(v.Compliance.Days))
	series := make([]geo.Series, len(v.Compliance.Parties))
	for i, p := range v.Compliance.Parties {
		series[i] = geo.Series{Name: p.Party.String(), Values: make([]int, len(days))}
	}
	for d, day := range v.Compliance.Days {
		if days[d], err = time.Parse(time.DateOnly, day.Date); err != nil {
			return fmt.Errorf("compliance day %q: %w", day.Date, err)
		}
		row := ComplianceRow{ComplianceDay: day, PerParty: make([]int, len(series))}
		for _, pc := range day.Parties {
			for i, p := range v.Compliance.Parties {
				if p.Party.Key == pc.Party.Key {
					row.PerParty[i] = pc.Incidents
					series[i].Values[d] = pc.Incidents
				}
			}
		}
		v.Days = append(v.Days, row)
	}
	var chart bytes.Buffer
	title := "Incidents per day, by party alleged responsible"
	if err := geo.RenderDailyChart(&chart, days, series, geo.ChartOptions{Title: title}); err != nil {
		return err
	}
	v.Chart = template.HTML(chart.String())
	v.Link = agreementLink(c, v.Agreement)
	return s.render(w, r, http.StatusOK, "ceasefire", Page{Title: "Ceasefire", Nav: "ceasefire", Clock: c, Body: v})
}

// DailyView is the daily report, with the links to the days around it.
type DailyView struct {
	Report state.DailyReport
	// Agreement is as typed, "" for the only one.
	Agreement string
	// Previous and Next are the links to the days before and after.
	Previous, Next string
	// Map is the link to the day's map.
	Map string
	// Link is the query string of the agreement and the clock, carried on
	// the links to other days.
	Link string
	// Standalone drops the links to the site, for a page read elsewhere.
	Standalone bool
	// Rows are the rows of the table of the report's incidents, written
	// by incidentRows.
	Rows []template.HTML
}

// incidentRows writes the rows of the daily report's table of incidents.
// A day may hold thousands of incidents, and a template spends about a
// microsecond on every value it writes (a reflective call of its escaper),
// a dozen and more a row: a day of 1,500 incidents took 25 ms that way.
// So the rows are written here, each value escaped as html/template
// escapes text and quoted attribute values, and the template writes them
// as they are. A standalone page's rows link to nothing; the site's link
// the incident and the entry as the templates "ref" and "basis" do.
//
// The rows come in pieces of rowsPerPiece rows: a template writes a value
// through fmt, which copies it into a buffer of its own, and keeps that
// buffer for the next value only if it is small.
func incidentRows(list []state.IncidentRow, standalone bool) []template.HTML {
	if len(list) == 0 {
		return nil
	}
	var w rowWriter
	w.Grow(512 * len(list)) // a row is some 400 bytes
	cuts := make([]int, 0, len(list)/rowsPerPiece+1)
	for i, r := range list {
		if i > 0 && i%rowsPerPiece == 0 {
			cuts = append(cuts, w.Len())
		}
		w.incident(r, standalone)
	}
	all := w.String()
	pieces := make([]template.HTML, 0, len(cuts)+1)
	from := 0
	for _, to := range append(cuts, len(all)) {
		pieces = append(pieces, template.HTML(all[from:to])) // ours, escaped
		from = to
	}
	return pieces
}

// rowsPerPiece is how many incident rows incidentRows puts in a piece: a
// piece of a few dozen rows is some 30 KiB.
const rowsPerPiece = 64

// rowWriter writes the rows of the daily report's table of incidents.
type rowWriter struct {
	strings.Builder
	scratch [64]byte // to format a number or a time in
}

// incident writes r's row, in the markup of the table around it (the
// template "daily-report" in daily.html): change the two together.
func (w *rowWriter) incident(r state.IncidentRow, standalone bool) {
	w.WriteString("\n  <tr class=\"incident")
	if r.Status == vocab.Duplicate {
		w.WriteString(" duplicate")
	}
	w.WriteString(`" data-incident="`)
	w.text(r.Incident.Key)
	// A time in UTC written so holds no character to escape.
	w.WriteString("\">\n    <td><time datetime=\"")
	w.Write(r.Time.UTC().AppendFormat(w.scratch[:0], time.RFC3339))
	w.WriteString(`">`)
	w.Write(r.Time.UTC().AppendFormat(w.scratch[:0], "2006-01-02 15:04"))
	w.WriteString("</time></td>\n    <td>")
	w.text(r.Place)
	if r.Area != "" && r.Area != r.Place {
		w.WriteString(", ")
		w.text(r.Area)
	}
	w.WriteString("</td>\n    <td>")
	for i, c := range r.Categories {
		if i > 0 {
			w.WriteString(", ")
		}
		w.text(c)
	}
	w.WriteString("</td>\n    <td>")
	w.int(int64(r.Count))
	if r.Fatalities != 0 {
		w.WriteString("; ")
		w.int(int64(r.Fatalities))
		w.WriteString(" killed")
	}
	if r.Injured != 0 {
		w.WriteString("; ")
		w.int(int64(r.Injured))
		w.WriteString(" injured")
	}
	w.WriteString("</td>\n    <td>")
	w.text(r.Against.String())
	w.WriteString("</td>\n    <td><span class=\"status status-")
	w.text(r.Status)
	w.WriteString(`">`)
	w.text(r.Status)
	w.WriteString("</span></td>\n    <td>")
	switch {
	case standalone:
		w.text(r.Incident.Key)
	case r.Incident.Key != "":
		// As the template "ref" (_clock.html). entityPath escapes the key
		// for a path; html/template's URL filter and normalizer would
		// leave what it writes as it is.
		w.WriteString(`<a href="`)
		w.text(entityPath(r.Incident.Key))
		w.WriteString(`">`)
		w.text(r.Incident.Name)
		w.WriteString("</a>")
	}
	w.WriteString("</td>\n    <td>")
	if standalone {
		w.WriteString("#")
		w.int(r.Basis.Index)
	} else {
		// As the template "basis" (_clock.html).
		w.WriteString(`<a class="basis" href="/entries/`)
		w.int(r.Basis.Index)
		w.WriteString(`" title="the entry this rests on`)
		for _, src := range r.Basis.Sources {
			if src.Citation != "" {
				w.WriteString(": ")
				w.text(src.Citation)
			}
		}
		w.WriteString(`">#`)
		w.int(r.Basis.Index)
		w.WriteString("</a>")
	}
	w.WriteString("</td>\n  </tr>")
}

func (w *rowWriter) int(n int64) { w.Write(strconv.AppendInt(w.scratch[:0], n, 10)) }

// text writes s escaped as html/template escapes a value in text and in a
// quoted attribute: the characters of its htmlReplacementTable replaced,
// every other byte kept.
func (w *rowWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case 0:
			esc = "\uFFFD"
		case '"':
			esc = "&#34;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '+':
			esc = "&#43;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		last = i + 1
	}
	w.WriteString(s[last:])
}

// Daily shows the daily report of date (as_of's day, or today, if none).
func (s *Site) Daily(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	q := r.URL.Query()
	v := DailyView{Agreement: strings.TrimSpace(q.Get("agreement"))}
	date := strings.TrimSpace(q.Get("date"))
	if date == "" {
		date = defaultDay(c)
	}
	rep, err := s.rec.Ask.DailyQuery(r.Context(), state.DailyQuery{Date: date, Agreement: v.Agreement, AsOf: c.AsOf, KnownAt: c.KnownAt}, nil)
	if err != nil {
		return err
	}
	v.Report, v.Rows = rep, incidentRows(rep.List, false)
	day, err := time.Parse(time.DateOnly, rep.Date)
	if err != nil {
		return fmt.Errorf("daily report date %q: %w", rep.Date, err)
	}
	v.Link = agreementLink(c, v.Agreement)
	v.Previous = dailyLink(day.AddDate(0, 0, -1).Format(time.DateOnly), v.Link)
	v.Next = dailyLink(day.AddDate(0, 0, 1).Format(time.DateOnly), v.Link)
	v.Map = dayLink("/ceasefire/map", rep.Date, v.Link)
	c.Extra.Set("date", rep.Date)
	return s.render(w, r, http.StatusOK, "daily", Page{Title: "Daily report " + rep.Date, Nav: "ceasefire", Clock: c, Body: v})
}

// agreementLink is the query string of the agreement (as typed, "" for the
// only one) and the clock, carried on the links between the monitoring
// pages.
func agreementLink(c ClockView, agreement string) string {
	v := clockValues(c)
	if agreement != "" {
		v.Set("agreement", agreement)
	}
	return v.Encode()
}

// defaultDay is the day a page shows when none is asked for: the as-of
// day, or today.
func defaultDay(c ClockView) string {
	if t, err := state.ParseTime(c.AsOf); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return time.Now().UTC().Format(time.DateOnly)
}

// MapView is the map of incidents of a day or a span.
type MapView struct {
	Agreement, Date, Category string // as typed
	Categories                []vocab.Category
	Incidents                 state.Incidents
	// Map is the drawing, with its legend.
	Map template.HTML
	// Duplicates counts the reports of incidents already drawn, left off.
	Duplicates int
	// Link is the query string of the agreement and the clock, carried to
	// the daily report and the compliance.
	Link string
}

// Map draws the incidents of a day (date), or of from..to (the agreement's
// whole period if neither), of one category if asked.
func (s *Site) Map(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	q := r.URL.Query()
	v := MapView{Agreement: strings.TrimSpace(q.Get("agreement")), Date: strings.TrimSpace(q.Get("date")),
		Category: strings.TrimSpace(q.Get("category")), Categories: vocab.Categories}
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	if v.Date != "" {
		if _, err := time.Parse(time.DateOnly, v.Date); err != nil {
			return problem.New(problem.Invalid, "date", "%q is not a date: use 2025-03-22", v.Date)
		}
		from, to = v.Date, v.Date
	}
	a, err := s.ask(r.Context(), c, state.Query{Question: "incidents", Limit: maxMapPoints,
		Params: map[string]string{"agreement": v.Agreement, "from": from, "to": to, "category": v.Category}})
	if err != nil {
		return err
	}
	v.Incidents = a.(state.Incidents)
	pts := make([]geo.Point, 0, len(v.Incidents.Incidents))
	for _, in := range v.Incidents.Incidents {
		if in.Status == vocab.Duplicate {
			v.Duplicates++
			continue
		}
		pts = append(pts, geo.Point{Lat: in.Lat, Lon: in.Lon, Status: in.Status, Href: entityPath(in.Incident.Key),
			Label: fmt.Sprintf("%s, %s: %s", in.Place, in.Time.UTC().Format("2006-01-02 15:04"), strings.Join(in.Categories, ", "))})
	}
	title := "Incidents"
	switch {
	case v.Date != "":
		title += " of " + v.Date
	case from != "" || to != "":
		title += " from " + cmp.Or(from, "the start") + " to " + cmp.Or(to, "now")
	}
	var buf bytes.Buffer
	if err := geo.RenderMap(&buf, pts, geo.MapOptions{Title: title}); err != nil {
		return err
	}
	v.Map = template.HTML(buf.String())
	v.Link = agreementLink(c, v.Agreement)
	return s.render(w, r, http.StatusOK, "map", Page{Title: "Map", Nav: "ceasefire", Clock: c, Body: v})
}

// maxMapPoints bounds the incidents one map draws.
const maxMapPoints = 5000

// RenderDaily writes r as a standalone HTML page, to print or to send: it
// carries its own stylesheet and links back to nothing but entry numbers.
func RenderDaily(w io.Writer, r state.DailyReport) error {
	t, err := standaloneDaily()
	if err != nil {
		return err
	}
	rows := incidentRows(r.List, true)
	// The rows are most of the page: room for them and the rest.
	size := 64 << 10
	for _, p := range rows {
		size += len(p)
	}
	var buf bytes.Buffer
	buf.Grow(size)
	if err := t.ExecuteTemplate(&buf, "standalone", DailyView{Report: r, Standalone: true, Rows: rows}); err != nil {
		return fmt.Errorf("web: render the daily report of %s: %w", r.Date, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// standaloneDaily parses the standalone daily report's templates, once.
// The page is a file, with no site to load a stylesheet from, so it
// carries the monitoring pages' own (monitorCSS in the template).
var standaloneDaily = sync.OnceValues(func() (*template.Template, error) {
	css, err := fs.ReadFile(staticFS, "static/monitor.css")
	if err != nil {
		return nil, fmt.Errorf("web: read the daily report's stylesheet: %w", err)
	}
	sheet := template.CSS(css) // ours, embedded
	t, err := template.New("daily-standalone.html").Funcs(funcs).
		Funcs(template.FuncMap{"monitorCSS": func() template.CSS { return sheet }}).
		ParseFS(templateFS, "templates/_*.html", "templates/daily.html", "templates/daily-standalone.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse the standalone daily report: %w", err)
	}
	return t, nil
})

// sortedKeys returns the keys of counts in order, for templates.
func sortedKeys(counts state.Counts) []string {
	return slices.Sorted(maps.Keys(counts))
}

// dailyLink is the daily report's address of a day, for templates.
func dailyLink(date, query string) string { return dayLink("/ceasefire/daily", date, query) }

// dayLink is the address of the page at path showing a day, with the
// query string query (such as agreementLink's) before the date.
func dayLink(path, date, query string) string {
	if query != "" {
		query += "&"
	}
	return path + "?" + query + "date=" + url.QueryEscape(date)
}

// pageLink is the address of the page at path with the query string
// query, for templates: html/template would escape a query string written
// after a "?" in the template as one value.
func pageLink(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}
