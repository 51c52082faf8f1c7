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
	// Rows are the report's incidents as the table shows them.
	Rows []DailyRow
}

// A DailyRow is an incident as the daily report's table shows it: flat,
// since a template looks each field up by name, and a field of an embedded
// struct costs a search through the embedding every time, which a day of
// 1,500 incidents notices.
type DailyRow struct {
	Incident                  state.Ref
	Time                      time.Time
	Place, Categories, Status string
	Count, Fatalities         int
	Injured                   int
	Against                   string
	Duplicate                 bool
	Basis                     state.Basis
}

// dailyRows flattens the report's incidents for its table.
func dailyRows(list []state.IncidentRow) []DailyRow {
	out := make([]DailyRow, len(list))
	for i, r := range list {
		place := r.Place
		if r.Area != "" && r.Area != r.Place {
			place += ", " + r.Area
		}
		out[i] = DailyRow{Incident: r.Incident, Time: r.Time, Place: place, Categories: strings.Join(r.Categories, ", "),
			Status: r.Status, Count: r.Count, Fatalities: r.Fatalities, Injured: r.Injured, Against: r.Against.String(),
			Duplicate: r.Status == vocab.Duplicate, Basis: r.Basis}
	}
	return out
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
	v.Report, v.Rows = rep, dailyRows(rep.List)
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
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "standalone", DailyView{Report: r, Standalone: true, Rows: dailyRows(r.List)}); err != nil {
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
