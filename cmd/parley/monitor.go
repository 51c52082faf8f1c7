package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"parley/internal/problem"
	"parley/internal/state"
	"parley/internal/vocab"
	"parley/internal/web"
)

// printCompliance prints a compliance answer: the agreement, each party's
// totals and trend, and a table of days.
func printCompliance(w io.Writer, a state.Compliance) {
	clockLine(w, a.Clock)
	ag := a.Agreement
	ends := "open-ended"
	if !ag.Ends.IsZero() {
		ends = "until " + day(ag.Ends.Add(-time.Second))
	}
	fmt.Fprintf(w, "%s (%s): %s from %s %s; %s (#%d)\n", ag.Agreement.Name, ag.Agreement.Key, strings.Join(ag.Scope, ", "),
		day(ag.Start), ends, ag.Status, ag.Basis.Index)
	fmt.Fprintf(w, "%s to %s: %d incidents, %d verified, %d duplicates set aside; %d of %d days without a verified violation\n\n",
		a.From, a.To, a.Incidents, a.Verified, a.Duplicates, a.DaysWithoutVerified, len(a.Days))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tINCIDENTS\tVERIFIED\tDAYS CLEAR\tTREND\tBY STATUS\tBY CATEGORY")
	for _, p := range a.Parties {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s (%.2f → %.2f a day)\t%s\t%s\n", p.Party.Name, p.Incidents, p.Verified, p.DaysWithoutVerified,
			p.Trend, p.FirstHalf, p.SecondHalf, counts(p.ByStatus, vocab.IncidentStatuses), counts(p.ByCategory, vocab.CategoryIDs))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"DAY", "ALL", "VERIFIED"}
	for _, p := range a.Parties {
		head = append(head, strings.ToUpper(p.Party.Name))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, d := range a.Days {
		if d.Incidents == 0 && len(a.Days) > 14 {
			continue
		}
		row := []string{d.Date, fmt.Sprint(d.Incidents), fmt.Sprint(d.Verified)}
		for _, p := range a.Parties {
			cell := "-"
			for _, pc := range d.Parties {
				if pc.Party.Key == p.Party.Key {
					cell = fmt.Sprintf("%d (%d verified)", pc.Incidents, pc.Verified)
				}
			}
			row = append(row, cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	if len(a.Days) > 14 {
		fmt.Fprintln(w, "(days without incidents left out)")
	}
}

// counts lists the non-zero counts in the order of keys.
func counts(c state.Counts, order []string) string {
	var out []string
	for _, k := range order {
		if c[k] > 0 {
			out = append(out, fmt.Sprintf("%s %d", k, c[k]))
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// printIncidents prints one line per incident, and what to do if there are
// more than it lists.
func printIncidents(w io.Writer, a state.Incidents) {
	printIncidentRows(w, a)
	if a.More {
		fmt.Fprintln(w, "(more: raise --limit, or narrow with --from, --to, --category, --status, --party)")
	}
}

// printIncidentRows prints one line per incident.
func printIncidentRows(w io.Writer, a state.Incidents) {
	clockLine(w, a.Clock)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tINCIDENT\tPLACE\tWHAT\tAGAINST\tSTATUS\tENTRY")
	for _, r := range a.Incidents {
		status := r.Status
		if r.SameAs != "" {
			status += " of " + strings.TrimPrefix(r.SameAs, vocab.Incident+"/")
		}
		if r.Outside {
			status += " (outside the agreement)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s (%.3f, %.3f)\t%s ×%d\t%s\t%s\t#%d\n", r.Time.Format("2006-01-02 15:04"), r.Incident.Key,
			r.Place, r.Lat, r.Lon, strings.Join(r.Categories, ", "), r.Count, r.Against.Name, status, r.Basis.Index)
	}
	tw.Flush()
	if len(a.Incidents) == 0 {
		fmt.Fprintln(w, "no incidents")
	}
}

// runReport makes a report: `parley report daily --date D`.
func runReport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "daily" {
		return usageErr("usage: parley report daily --date D [--agreement A] [--format text|json|html] [--as-of T] [--known-at T|#N]")
	}
	fs, dir := flags(e, "report daily")
	date := fs.String("date", "", "the day to report on (2025-03-22)")
	agreement := fs.String("agreement", "", "the ceasefire agreement (the only one, if left out)")
	format := fs.String("format", "text", "text, json, or html (a standalone page, print-friendly: print it to PDF from a browser)")
	asOf := fs.String("as-of", "", "report on the world at this time")
	knownAt := fs.String("known-at", "", "report what the record said at this time, or at log size #N")
	if _, err := parse(fs, args[1:], 0, 0); err != nil {
		return err
	}
	if *date == "" {
		return usageErr("report daily: --date is required: the day to report on (2025-03-22)")
	}
	if !slices.Contains([]string{"text", "json", "html"}, *format) {
		return usageErr("report daily: --format is %q: text, json or html", *format)
	}
	var rep state.DailyReport
	var err error
	if e.server != "" {
		rep, err = dailyServer(ctx, e, *date, *agreement, *asOf, *knownAt)
	} else {
		rep, err = dailyLocal(ctx, e, *dir, *date, *agreement, *asOf, *knownAt)
	}
	if err != nil {
		if problem.KindOf(err) == problem.Invalid {
			return usageErr("report daily: %v", err)
		}
		return fmt.Errorf("report daily: %w", err)
	}
	switch *format {
	case "json":
		return writeJSON(e.stdout, rep)
	case "html":
		return web.RenderDaily(e.stdout, rep)
	}
	printDaily(e.stdout, rep)
	return nil
}

// dailyLocal makes the daily report from the record in dir.
func dailyLocal(ctx context.Context, e *env, dir, date, agreement, asOf, knownAt string) (state.DailyReport, error) {
	r, err := e.open(ctx, dir)
	if err != nil {
		return state.DailyReport{}, err
	}
	defer r.Close()
	return r.Ask.DailyQuery(ctx, state.DailyQuery{Date: date, Agreement: agreement, AsOf: asOf, KnownAt: knownAt}, state.CLIFlag)
}

// printDaily prints the daily report as text.
func printDaily(w io.Writer, r state.DailyReport) {
	clockLine(w, r.Clock)
	in := "in force"
	if !r.InForce {
		in = "not in force that day"
	}
	fmt.Fprintf(w, "Daily report for %s under %s (%s)\n", r.Date, r.Agreement.Agreement.Name, in)
	fmt.Fprintf(w, "%d incidents (%d events), %d verified; %s (previous day %d, week's mean %.1f)",
		r.Incidents, r.Events, r.Verified, r.Week.Change, r.Week.PreviousDay, r.Week.WeekMean)
	if r.Duplicates > 0 {
		fmt.Fprintf(w, "; %d duplicates set aside", r.Duplicates)
	}
	if r.Outside > 0 {
		fmt.Fprintf(w, "; %d outside the agreement's period", r.Outside)
	}
	fmt.Fprintf(w, "\nby status: %s\n", counts(r.ByStatus, vocab.IncidentStatuses))
	if len(r.OSCE) > 0 {
		var ks []string
		for _, o := range r.OSCE {
			ks = append(ks, fmt.Sprintf("%s %d", o.Kind, o.Events))
		}
		fmt.Fprintf(w, "as the SMM counted: %s\n", strings.Join(ks, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AREA\tINCIDENTS\tEVENTS\tBY CATEGORY\tBY STATUS")
	for _, a := range r.ByArea {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", a.Area, a.Incidents, a.Events, counts(a.ByCategory, vocab.CategoryIDs), counts(a.ByStatus, vocab.IncidentStatuses))
	}
	tw.Flush()
	fmt.Fprintln(w)
	var prev []string
	for _, d := range r.Previous {
		prev = append(prev, fmt.Sprintf("%s %d", d.Date[5:], d.Incidents))
	}
	fmt.Fprintf(w, "the week before: %s\n\n", strings.Join(prev, ", "))
	printIncidentRows(w, state.Incidents{Incidents: r.List})
	if r.More {
		fmt.Fprintf(w, "(the first %d listed: parley ask incidents --from %s --to %s --limit N lists more)\n", len(r.List), r.Date, r.Date)
	}
}

// dailyServer asks a server for the daily report.
func dailyServer(ctx context.Context, e *env, date, agreement, asOf, knownAt string) (state.DailyReport, error) {
	c, err := e.client()
	if err != nil {
		return state.DailyReport{}, err
	}
	v := url.Values{}
	for k, x := range map[string]string{"date": date, "agreement": agreement, "as_of": asOf, "known_at": knownAt} {
		if x != "" {
			v.Set(k, x)
		}
	}
	var rep state.DailyReport
	if err := c.call(ctx, http.MethodGet, "/api/v1/reports/daily", v, nil, &rep); err != nil {
		return state.DailyReport{}, problem.Rename(err, state.CLIFlag)
	}
	return rep, nil
}
