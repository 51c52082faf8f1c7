package state

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/vocab"
)

// AreaRow counts one area's incidents on a day.
type AreaRow struct {
	Area       string `json:"area"`
	Incidents  int    `json:"incidents"`
	Events     int    `json:"events"`
	ByCategory Counts `json:"by_category"`
	ByStatus   Counts `json:"by_status"`
}

// CategoryRow counts one category's incidents on a day, and the events
// they number (an incident of twelve bursts counts twelve).
type CategoryRow struct {
	Category  vocab.Category `json:"category"`
	Incidents int            `json:"incidents"`
	Events    int            `json:"events"`
}

// OSCERow is one of the SMM's counting categories and its events.
type OSCERow struct {
	Kind   string `json:"kind"`
	Events int    `json:"events"`
}

// DayTotal is a day's incidents, for comparing days.
type DayTotal struct {
	Date      string `json:"date"`
	Incidents int    `json:"incidents"`
	Verified  int    `json:"verified"`
}

// DailyReport is the day's incidents under an agreement, counted by area,
// category, status and party, beside the days before, with every incident.
type DailyReport struct {
	Clock      Clock          `json:"clock"`
	Agreement  AgreementRow   `json:"agreement"`
	Date       string         `json:"date"`
	InForce    bool           `json:"in_force"`
	Incidents  int            `json:"incidents"`
	Events     int            `json:"events"`
	Verified   int            `json:"verified"`
	Duplicates int            `json:"duplicates"`
	Outside    int            `json:"outside"`
	ByStatus   Counts         `json:"by_status"`
	ByArea     []AreaRow      `json:"by_area"`
	ByCategory []CategoryRow  `json:"by_category"`
	OSCE       []OSCERow      `json:"osce"`
	Parties    []PartyCounts  `json:"parties"`
	Previous   []DayTotal     `json:"previous"`
	List       []IncidentRow  `json:"list"`
	More       bool           `json:"more,omitzero"`
	Week       WeekComparison `json:"week"`
}

// WeekComparison sets the day beside the previous day and the mean of the
// seven days before it.
type WeekComparison struct {
	PreviousDay int     `json:"previous_day"`
	WeekMean    float64 `json:"week_mean"`
	// Change says how the day compares with the day before.
	Change string `json:"change"`
}

// DailyQuery is a daily report as a person or a program asks for it, every
// value as typed.
type DailyQuery struct {
	Date, Agreement, AsOf, KnownAt string
}

// DailyQuery checks q and makes the report; refusals name the parameter
// as flag spells it.
func (a *Asker) DailyQuery(ctx context.Context, q DailyQuery, flag Flag) (DailyReport, error) {
	if flag == nil {
		flag = func(n string) string { return n }
	}
	if q.Date == "" {
		return DailyReport{}, problem.New(problem.Invalid, flag("date"), "is required: the day to report on (2025-03-22)")
	}
	date, err := ParseTime(q.Date)
	if err != nil {
		return DailyReport{}, problem.New(problem.Invalid, flag("date"), "%v", err)
	}
	c, err := a.clock(ctx, q.AsOf, q.KnownAt, flag)
	if err != nil {
		return DailyReport{}, err
	}
	r, err := a.Daily(ctx, c, q.Agreement, date)
	return r, problem.Rename(err, flag)
}

// maxDailyList is the most incidents a daily report lists.
const maxDailyList = 5000

// Daily reports on the day of date under the agreement (the only one on the
// record, if empty).
func (a *Asker) Daily(ctx context.Context, c Clock, agreement string, date time.Time) (DailyReport, error) {
	if date.IsZero() {
		return DailyReport{}, problem.New(problem.Invalid, "date", "is required: the day to report on (2025-03-22)")
	}
	w := a.begin(ctx, c)
	ag, err := w.agreement(agreement)
	if err != nil {
		return DailyReport{}, err
	}
	day := store.DayOf(date)
	start := dayTime(day)
	out := DailyReport{Clock: c, Agreement: ag, Date: dayString(day), ByStatus: Counts{}, ByArea: []AreaRow{}, ByCategory: []CategoryRow{},
		OSCE: []OSCERow{}, Parties: []PartyCounts{}, Previous: []DayTotal{}, List: []IncidentRow{}}
	if out.InForce, err = w.inForceOn(ag, start); err != nil {
		return DailyReport{}, err
	}

	// The week before, and the day's parties, from the counts.
	counts, err := w.counts(ag, day-7, day)
	if err != nil {
		return DailyReport{}, err
	}
	var week Compliance
	week.fill(w, ag, day-7, day, counts)
	sum := 0
	for _, d := range week.Days[:7] {
		out.Previous = append(out.Previous, DayTotal{Date: d.Date, Incidents: d.Incidents, Verified: d.Verified})
		sum += d.Incidents
	}
	out.Week.WeekMean = float64(sum) / 7
	out.Parties = week.Days[7].Parties
	out.Week.PreviousDay = out.Previous[6].Incidents

	// The day's incidents, duplicates too, as counted: room to list them.
	listed := 0
	for _, c := range counts {
		if c.day == day && c.category == vocab.AllCategories {
			listed += c.n
		}
	}
	out.List = make([]IncidentRow, 0, min(listed, maxDailyList))

	areas := map[string]*AreaRow{}
	cats := map[string]*CategoryRow{}
	osce := map[string]int{}
	err = w.incidents(IncidentFilter{Agreement: ag.Agreement.Key, From: start, To: dayTime(day + 1)}, func(f store.Fact, v *vocab.IncidentView) error {
		row := w.incidentRow(ag, f, v)
		if len(out.List) < maxDailyList {
			out.List = append(out.List, row)
		} else {
			out.More = true
		}
		out.ByStatus[v.Status]++
		if v.Status == vocab.Duplicate {
			out.Duplicates++
			return nil
		}
		out.Incidents++
		out.Events += v.Count
		if v.Status == vocab.Verified {
			out.Verified++
		}
		if row.Outside {
			out.Outside++
		}
		ar := areas[v.Area]
		if ar == nil {
			ar = &AreaRow{Area: v.Area, ByCategory: Counts{}, ByStatus: Counts{}}
			areas[v.Area] = ar
		}
		ar.Incidents++
		ar.Events += v.Count
		ar.ByStatus[v.Status]++
		counted := false
		for _, id := range v.Categories {
			ar.ByCategory[id]++
			cr := cats[id]
			if cr == nil {
				cat, _ := vocab.CategoryOf(id)
				cr = &CategoryRow{Category: cat}
				cats[id] = cr
			}
			cr.Incidents++
			cr.Events += v.Count
			// An incident's events count once, under the SMM kind of its
			// first category that has one.
			if k := cr.Category.OSCE; k != "" && !counted {
				counted = true
				osce[k] += v.Count
			}
		}
		return nil
	})
	w.withBases(out.List)
	if err = firstErr(err, w.err); err != nil {
		return DailyReport{}, err
	}
	for _, ar := range areas {
		out.ByArea = append(out.ByArea, *ar)
	}
	slices.SortFunc(out.ByArea, func(x, y AreaRow) int {
		if x.Incidents != y.Incidents {
			return y.Incidents - x.Incidents
		}
		return cmp.Compare(x.Area, y.Area)
	})
	for _, c := range vocab.Categories {
		if cr := cats[c.ID]; cr != nil {
			out.ByCategory = append(out.ByCategory, *cr)
		}
	}
	for _, k := range OSCEKinds {
		if n, ok := osce[k]; ok {
			out.OSCE = append(out.OSCE, OSCERow{Kind: k, Events: n})
		}
	}
	switch d := out.Incidents - out.Week.PreviousDay; {
	case d > 0:
		out.Week.Change = fmt.Sprintf("%d more than the day before", d)
	case d < 0:
		out.Week.Change = fmt.Sprintf("%d fewer than the day before", -d)
	default:
		out.Week.Change = "as many as the day before"
	}
	return out, nil
}

// OSCEKinds are the SMM's counting categories, in the order its daily
// reports gave them.
var OSCEKinds = func() []string {
	var out []string
	for _, c := range vocab.Categories {
		if c.OSCE != "" && !slices.Contains(out, c.OSCE) {
			out = append(out, c.OSCE)
		}
	}
	return out
}()
