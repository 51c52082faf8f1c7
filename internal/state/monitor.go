package state

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/vocab"
)

// AgreementRow is a ceasefire agreement as answers show it: its view, with
// the entities it names as references.
type AgreementRow struct {
	Agreement Ref `json:"agreement"`
	vocab.AgreementView
	Parties   []Ref `json:"parties"`
	Proposal  Ref   `json:"proposal,omitzero"`
	Monitors  []Ref `json:"monitors,omitempty"`
	Reporters []Ref `json:"reporters,omitempty"`
	Basis     Basis `json:"basis"`
}

// inForceOn says whether the agreement was in force on any part of the day
// beginning at start: its status and period as they stood at the day's end
// (a later suspension or extension does not rewrite the day).
func (w *answer) inForceOn(ag AgreementRow, start time.Time) (bool, error) {
	var then *vocab.AgreementView
	end := start.Add(24*time.Hour - time.Nanosecond)
	if !w.clock.AsOf.IsZero() && w.clock.AsOf.Before(end) {
		end = w.clock.AsOf
	}
	q := store.FactQuery{Kind: vocab.FactAgreement, Subject: ag.Agreement.Key, Latest: true, AsOf: end, KnownAt: w.clock.KnownAt}
	err := w.a.st.Facts(w.ctx, q, func(f store.Fact) error {
		then = new(vocab.AgreementView)
		return json.Unmarshal(f.Data, then)
	})
	if err != nil || then == nil {
		return false, err
	}
	return then.Status == "in-force" && start.Add(24*time.Hour).After(then.Start) && (then.Ends.IsZero() || start.Before(then.Ends)), nil
}

// Counts is a number of incidents by some key (a status, a category).
type Counts map[string]int

// PartyCounts counts the incidents alleged against one party.
type PartyCounts struct {
	Party Ref `json:"party"`
	// Incidents counts each incident once, duplicates left out.
	Incidents  int    `json:"incidents"`
	Verified   int    `json:"verified"`
	ByStatus   Counts `json:"by_status"`
	ByCategory Counts `json:"by_category"`
}

// ComplianceDay is one day of an agreement's compliance.
type ComplianceDay struct {
	Date      string        `json:"date"`
	Incidents int           `json:"incidents"`
	Verified  int           `json:"verified"`
	Parties   []PartyCounts `json:"parties"`
}

// PartyCompliance is one party's record over the whole period.
type PartyCompliance struct {
	PartyCounts
	// DaysWithoutVerified counts the days of the period with no verified
	// violation alleged against the party.
	DaysWithoutVerified int `json:"days_without_verified"`
	// Trend compares verified violations per day over the second half of
	// the period with the first: rising, falling or steady.
	Trend       string  `json:"trend"`
	FirstHalf   float64 `json:"first_half_per_day"`
	SecondHalf  float64 `json:"second_half_per_day"`
	VerifiedDay []int   `json:"verified_per_day"`
}

// Compliance answers `ask compliance`: per agreement, per party, per day,
// the incidents by category and status, the days without verified
// violations, and the trend.
type Compliance struct {
	Clock     Clock             `json:"clock"`
	Agreement AgreementRow      `json:"agreement"`
	From      string            `json:"from"`
	To        string            `json:"to"`
	Days      []ComplianceDay   `json:"days"`
	Parties   []PartyCompliance `json:"parties"`
	// DaysWithoutVerified counts the days with no verified violation by
	// anyone.
	DaysWithoutVerified int `json:"days_without_verified"`
	Incidents           int `json:"incidents"`
	Verified            int `json:"verified"`
	Duplicates          int `json:"duplicates"`
}

// counted is one count the compliance adds up: an incident (or a number
// of them) of a party, category and status on a day.
type counted struct {
	day                     int64
	party, category, status string
	n                       int
}

// maxComplianceDays bounds the period one answer covers.
const maxComplianceDays = 3660

// Compliance counts the agreement's incidents from from through to (days;
// zero values mean the agreement's period, up to today). With a clock it
// counts the incidents as the record had them; without, it reads the
// store's tallies.
func (a *Asker) Compliance(ctx context.Context, c Clock, agreement string, from, to time.Time) (Compliance, error) {
	w := a.begin(ctx, c)
	ag, err := w.agreement(agreement)
	if err != nil {
		return Compliance{}, err
	}
	first, last, err := period(ag, from, to, c)
	if err != nil {
		return Compliance{}, err
	}
	out := Compliance{Clock: c, Agreement: ag, From: dayString(first), To: dayString(last), Days: []ComplianceDay{}, Parties: []PartyCompliance{}}
	counts, err := w.counts(ag, first, last)
	if err != nil {
		return Compliance{}, err
	}
	out.fill(w, ag, first, last, counts)
	return out, firstErr(w.err)
}

// counts reads the agreement's incident counts from day first through
// last: from the store's tallies now, or, under a clock, from the incidents
// as the record had them.
func (w *answer) counts(ag AgreementRow, first, last int64) ([]counted, error) {
	var counts []counted
	var err error
	if w.clock.AsOf.IsZero() && w.clock.KnownAt == 0 {
		err = w.a.st.Tallies(w.ctx, store.TallyQuery{Kind: vocab.FactTally, Subjects: ag.Agreement.Key + "|", FromDay: first, ToDay: last}, func(t store.Tally) error {
			_, party, cat := vocab.SplitTallyKey(t.Subject)
			counts = append(counts, counted{t.Day, party, cat, t.Tag, int(t.N)})
			return nil
		})
	} else {
		err = w.incidents(IncidentFilter{Agreement: ag.Agreement.Key, From: dayTime(first), To: dayTime(last + 1)}, func(f store.Fact, v *vocab.IncidentView) error {
			d := store.DayOf(v.Time)
			for _, cat := range append([]string{vocab.AllCategories}, v.Categories...) {
				counts = append(counts, counted{d, v.Against, cat, v.Status, 1})
			}
			return nil
		})
	}
	return counts, firstErr(err, w.err)
}

// fill adds the counts up by day and party.
func (out *Compliance) fill(w *answer, ag AgreementRow, first, last int64, counts []counted) {
	parties := []string{}
	for _, p := range ag.Parties {
		parties = append(parties, p.Key)
	}
	for _, c := range counts {
		if !slices.Contains(parties, c.party) {
			parties = append(parties, c.party)
		}
	}
	n := int(last - first + 1)
	days := make([]map[string]*PartyCounts, n)
	for i := range days {
		days[i] = map[string]*PartyCounts{}
	}
	total := map[string]*PartyCompliance{}
	for _, p := range parties {
		total[p] = &PartyCompliance{PartyCounts: PartyCounts{Party: w.ref(p), ByStatus: Counts{}, ByCategory: Counts{}}, VerifiedDay: make([]int, n)}
	}
	for _, c := range counts {
		i := int(c.day - first)
		pc := days[i][c.party]
		if pc == nil {
			pc = &PartyCounts{Party: w.ref(c.party), ByStatus: Counts{}, ByCategory: Counts{}}
			days[i][c.party] = pc
		}
		t := total[c.party]
		if c.category == vocab.AllCategories {
			pc.ByStatus[c.status] += c.n
			t.ByStatus[c.status] += c.n
			if c.status == vocab.Duplicate {
				out.Duplicates += c.n
				continue
			}
			pc.Incidents += c.n
			t.Incidents += c.n
			if c.status == vocab.Verified {
				pc.Verified += c.n
				t.Verified += c.n
				t.VerifiedDay[i] += c.n
			}
			continue
		}
		if c.status != vocab.Duplicate {
			pc.ByCategory[c.category] += c.n
			t.ByCategory[c.category] += c.n
		}
	}
	for i := range n {
		d := ComplianceDay{Date: dayString(first + int64(i)), Parties: []PartyCounts{}}
		for _, p := range parties {
			if pc := days[i][p]; pc != nil {
				d.Parties = append(d.Parties, *pc)
				d.Incidents += pc.Incidents
				d.Verified += pc.Verified
			}
		}
		if d.Verified == 0 {
			out.DaysWithoutVerified++
		}
		out.Incidents += d.Incidents
		out.Verified += d.Verified
		out.Days = append(out.Days, d)
	}
	for _, p := range parties {
		t := total[p]
		for _, v := range t.VerifiedDay {
			if v == 0 {
				t.DaysWithoutVerified++
			}
		}
		t.FirstHalf, t.SecondHalf, t.Trend = trend(t.VerifiedDay)
		out.Parties = append(out.Parties, *t)
	}
}

// trend compares the mean of the second half of per-day counts with the
// first: rising or falling when they differ by a tenth or more of the
// larger and by at least 0.1 a day, else steady.
func trend(perDay []int) (first, second float64, word string) {
	h := len(perDay) / 2
	if h == 0 {
		return 0, 0, "steady"
	}
	mean := func(xs []int) float64 {
		s := 0
		for _, x := range xs {
			s += x
		}
		return float64(s) / float64(len(xs))
	}
	first, second = mean(perDay[:h]), mean(perDay[len(perDay)-h:])
	d := second - first
	switch {
	case d >= 0.1 && d >= 0.1*second:
		return first, second, "rising"
	case -d >= 0.1 && -d >= 0.1*first:
		return first, second, "falling"
	}
	return first, second, "steady"
}

// agreement finds the agreement named, or the only one on the record.
func (w *answer) agreement(ref string) (AgreementRow, error) {
	var key string
	if ref != "" {
		e, err := w.resolve("agreement", ref, vocab.Agreement)
		if err != nil {
			return AgreementRow{}, err
		}
		key = e.Key()
	}
	var rows []AgreementRow
	err := facts(w, store.FactQuery{Kind: vocab.FactAgreement, Subject: key, Latest: true, Limit: 2}, func(f store.Fact, v *vocab.AgreementView) error {
		rows = append(rows, AgreementRow{Agreement: w.ref(f.Subject), AgreementView: *v, Parties: w.refs(v.Parties), Proposal: w.ref(v.Proposal),
			Monitors: w.refs(v.Monitors), Reporters: w.refs(v.Reporters), Basis: w.basis(f.Index)})
		return nil
	})
	if err = firstErr(err, w.err); err != nil {
		return AgreementRow{}, err
	}
	switch {
	case len(rows) == 1:
		return rows[0], nil
	case key != "":
		return AgreementRow{}, problem.New(problem.NotFound, "agreement", "%s was not on the record then", key)
	case len(rows) == 0:
		return AgreementRow{}, problem.New(problem.NotFound, "agreement", "no ceasefire agreement is on the record")
	}
	return AgreementRow{}, problem.New(problem.Invalid, "agreement", "the record has more than one agreement: name one")
}

// period is the days an answer about ag covers: from and to if given, else
// the agreement's period, ending today (or at the clock) if it runs on.
func period(ag AgreementRow, from, to time.Time, c Clock) (int64, int64, error) {
	first := store.DayOf(ag.Start)
	if !from.IsZero() {
		first = store.DayOf(from)
	}
	var last int64
	switch {
	case !to.IsZero():
		last = store.DayOf(to)
	case !ag.Ends.IsZero():
		// Days yet to come have no violations to count.
		last = min(store.DayOf(ag.Ends.Add(-time.Nanosecond)), store.DayOf(cmp.Or(c.AsOf, time.Now())))
	default:
		last = store.DayOf(cmp.Or(c.AsOf, time.Now()))
	}
	if last < first {
		return 0, 0, problem.New(problem.Invalid, "to", "%s is before %s: the period would be empty", dayString(last), dayString(first))
	}
	if last-first >= maxComplianceDays {
		return 0, 0, problem.New(problem.Invalid, "to", "%s to %s is %d days; an answer covers at most %d", dayString(first), dayString(last), last-first+1, maxComplianceDays)
	}
	return first, last, nil
}

func dayString(d int64) string { return dayTime(d).Format(time.DateOnly) }

func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// IncidentFilter selects incidents.
type IncidentFilter struct {
	Agreement string
	// From and To bound the incidents' times: from From, before To.
	From, To time.Time
	Category string
	Status   []string
	Party    string
	Limit    int
}

// incidents calls fn for each incident f selects, in time order. The view
// fn is given is decoded anew into the same variable each time: fn copies
// what it keeps (a day's incidents are thousands of views).
func (w *answer) incidents(f IncidentFilter, fn func(store.Fact, *vocab.IncidentView) error) error {
	// The period bounds the incidents' latest facts; the clocks choose
	// which facts are the latest. (Now, that is a range of the heads.)
	q := store.FactQuery{Kind: vocab.FactIncident, Subject: f.Agreement, Latest: true, From: f.From, Until: f.To, Tags: f.Status,
		AsOf: w.clock.AsOf, KnownAt: w.clock.KnownAt}
	n := 0
	v := new(vocab.IncidentView)
	err := w.a.st.Facts(w.ctx, q, func(fa store.Fact) error {
		if f.Limit > 0 && n == f.Limit {
			return errStop
		}
		// Unmarshal keeps what the data leaves out: start from nothing.
		*v = vocab.IncidentView{}
		if err := json.Unmarshal(fa.Data, v); err != nil {
			return err
		}
		if f.Category != "" && !slices.Contains(v.Categories, f.Category) {
			return nil
		}
		if f.Party != "" && v.Against != f.Party {
			return nil
		}
		n++
		return fn(fa, v)
	})
	if err == errStop {
		return nil
	}
	return err
}

// IncidentRow is an incident as answers list it.
type IncidentRow struct {
	Incident Ref `json:"incident"`
	vocab.IncidentView
	Against Ref `json:"against"`
	// Basis is the entry that last changed it: the report, or a review.
	Basis Basis `json:"basis"`
}

// incidentRow is an incident as answers list it, placed against the
// agreement as it stands now (amended or extended since the report); its
// basis is the entry's index until withBases reads the rest.
func (w *answer) incidentRow(ag AgreementRow, f store.Fact, v *vocab.IncidentView) IncidentRow {
	// The incident's name follows from its view: no entity to look up.
	r := IncidentRow{Incident: Ref{Key: f.Object, Name: vocab.IncidentName(*v)}, IncidentView: *v, Against: w.ref(v.Against), Basis: Basis{Index: f.Index}}
	r.Outside = !ag.Covers(v.Time)
	return r
}

// withBases fills in what each row rests on: from the Asker's cache, else
// reading the entries not in it together.
func (w *answer) withBases(rows []IncidentRow) {
	var rest []int // the rows whose entries are not in the cache
	for i, r := range rows {
		if b, ok := w.a.bases.get(r.Basis.Index); ok {
			rows[i].Basis = b
		} else {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return
	}
	idx := make([]int64, len(rest))
	for j, i := range rest {
		idx[j] = rows[i].Basis.Index
	}
	w.prefetch(idx)
	for _, i := range rest {
		rows[i].Basis = w.basis(rows[i].Basis.Index)
	}
}

// Incidents answers `ask incidents`: the incidents f selects.
type Incidents struct {
	Clock     Clock         `json:"clock"`
	Agreement AgreementRow  `json:"agreement"`
	Incidents []IncidentRow `json:"incidents"`
	More      bool          `json:"more,omitzero"`
}

// Incidents lists the incidents f selects, at most f.Limit (1000 unless
// asked for more).
func (a *Asker) Incidents(ctx context.Context, c Clock, f IncidentFilter) (Incidents, error) {
	w := a.begin(ctx, c)
	ag, err := w.agreement(f.Agreement)
	if err != nil {
		return Incidents{}, err
	}
	f.Agreement = ag.Agreement.Key
	if f.Party != "" {
		p, err := w.resolve("party", f.Party, vocab.Party)
		if err != nil {
			if f.Party != vocab.Unattributed {
				return Incidents{}, err
			}
		} else {
			f.Party = p.Key()
		}
	}
	limit := cmp.Or(f.Limit, 1000)
	f.Limit = limit + 1
	out := Incidents{Clock: c, Agreement: ag, Incidents: []IncidentRow{}}
	err = w.incidents(f, func(fa store.Fact, v *vocab.IncidentView) error {
		if len(out.Incidents) == limit {
			out.More = true
			return nil
		}
		out.Incidents = append(out.Incidents, w.incidentRow(ag, fa, v))
		return nil
	})
	w.withBases(out.Incidents)
	return out, firstErr(err, w.err)
}
