package vocab

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"parley/internal/entry"
)

// ReportBody is an incident report under a ceasefire agreement: one or more
// incidents, who reports them, and the evidence they rest on. Each incident
// becomes an entity, "incident/REPORT.N" (N from 1), that reviews then move
// through the verification workflow.
type ReportBody struct {
	ID        string `json:"id"`
	Agreement string `json:"agreement"`
	// ReportedBy is the actor or party that reports; it must be among the
	// agreement's reporters, if it names any.
	ReportedBy string             `json:"reported_by,omitempty"`
	Source     string             `json:"source,omitempty"`
	Incidents  []ReportedIncident `json:"incidents"`
	Evidence   []Evidence         `json:"evidence,omitempty"`
}

// A ReportedIncident is one violation a report describes.
type ReportedIncident struct {
	// Time is a date or an RFC 3339 time.
	Time  string `json:"time"`
	Place string `json:"place"`
	// Area is the region counts group incidents by (an oblast); the place,
	// when left out.
	Area string   `json:"area,omitempty"`
	Lat  *float64 `json:"lat"`
	Lon  *float64 `json:"lon"`
	// Precision is exact, near or region (ACLED's geo_precision 1, 2, 3).
	Precision  string   `json:"precision,omitempty"`
	Categories []string `json:"categories"`
	Weapons    []string `json:"weapons,omitempty"`
	// Count is how many events of its kind (explosions, bursts) it is.
	Count      int `json:"count,omitempty"`
	Fatalities int `json:"fatalities,omitempty"`
	Injured    int `json:"injured,omitempty"`
	// Against is the party it is alleged against.
	Against  string     `json:"against,omitempty"`
	Notes    string     `json:"notes,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// MaxIncidents is the most incidents one report may describe.
const MaxIncidents = 1000

// IncidentView is an incident as it stands.
type IncidentView struct {
	Report     string     `json:"report"`
	Agreement  string     `json:"agreement"`
	Time       time.Time  `json:"time"`
	Place      string     `json:"place"`
	Area       string     `json:"area"`
	Lat        float64    `json:"lat"`
	Lon        float64    `json:"lon"`
	Precision  string     `json:"precision"`
	Categories []string   `json:"categories"`
	Weapons    []string   `json:"weapons,omitempty"`
	Count      int        `json:"count"`
	Fatalities int        `json:"fatalities"`
	Injured    int        `json:"injured"`
	Against    string     `json:"against"`
	ReportedBy string     `json:"reported_by,omitempty"`
	Source     string     `json:"source,omitempty"`
	Notes      string     `json:"notes,omitempty"`
	Evidence   []Evidence `json:"evidence,omitempty"`
	// Author is the key that signed the report: its holder may not review it.
	Author string `json:"author"`
	Status string `json:"status"`
	// SameAs is the incident this one duplicates.
	SameAs string `json:"same_as,omitempty"`
	// Outside flags an incident before the agreement began or after it ended.
	Outside bool `json:"outside,omitempty"`
	// Reviews counts the reviews so far.
	Reviews int `json:"reviews"`
}

var reportType = entry.Type{
	Name: "report",
	Doc:  "an incident report under a ceasefire agreement: when, where, what, alleged against whom, with evidence",
	New:  func() entry.Body { return new(ReportBody) },
}

// Validate checks every incident: its time, coordinates, categories and
// counts, naming the field of the first problem.
func (b *ReportBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := required("agreement", b.Agreement); err != nil {
		return err
	}
	if len(b.Incidents) == 0 {
		return invalid("%q is required: the incidents reported, at least one", "incidents")
	}
	if len(b.Incidents) > MaxIncidents {
		return invalid("%q has %d incidents; a report describes at most %d", "incidents", len(b.Incidents), MaxIncidents)
	}
	if err := checkEvidence("evidence", b.Evidence); err != nil {
		return err
	}
	for i := range b.Incidents {
		if err := b.Incidents[i].validate(fmt.Sprintf("incidents/%d/", i)); err != nil {
			return err
		}
	}
	return nil
}

func (in *ReportedIncident) validate(at string) error {
	if strings.TrimSpace(in.Time) == "" {
		return invalid("%q is required: when it happened, a date or an RFC 3339 time", at+"time")
	}
	if _, err := ParseTime(in.Time); err != nil {
		return invalid("%q is %q: a date (2025-03-20) or an RFC 3339 time", at+"time", in.Time)
	}
	if err := required(at+"place", in.Place); err != nil {
		return err
	}
	switch {
	case in.Lat == nil:
		return invalid("%q is required: the latitude, from -90 to 90", at+"lat")
	case in.Lon == nil:
		return invalid("%q is required: the longitude, from -180 to 180", at+"lon")
	case math.IsNaN(*in.Lat) || *in.Lat < -90 || *in.Lat > 90:
		return invalid("%q is %v, out of range: a latitude is from -90 to 90", at+"lat", *in.Lat)
	case math.IsNaN(*in.Lon) || *in.Lon < -180 || *in.Lon > 180:
		return invalid("%q is %v, out of range: a longitude is from -180 to 180", at+"lon", *in.Lon)
	}
	if err := optionalOneOf(at+"precision", in.Precision, Precisions); err != nil {
		return err
	}
	if len(in.Categories) == 0 {
		return invalid("%q is required: what happened, one or more of %s", at+"categories", strings.Join(CategoryIDs, ", "))
	}
	for j, c := range in.Categories {
		if err := oneOf(fmt.Sprintf("%scategories/%d", at, j), c, CategoryIDs); err != nil {
			return err
		}
		if slices.Index(in.Categories, c) != j {
			return invalid("%q names %q twice", at+"categories", c)
		}
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"count", in.Count}, {"fatalities", in.Fatalities}, {"injured", in.Injured}} {
		if c.n < 0 {
			return invalid("%q is %d; a count is not negative", at+c.field, c.n)
		}
	}
	return checkEvidence(at+"evidence", in.Evidence)
}

// IncidentID is the id of a report's incident n (from 1).
func IncidentID(report string, n int) string { return fmt.Sprintf("%s.%d", report, n) }

// Fold declares each incident and derives its facts: the incident itself,
// and the tallies that count it by agreement, party, category, day and
// status.
func (b *ReportBody) Fold(f *Fold) error {
	rkey := Report + "/" + b.ID
	old, exists := f.Dir.Entity(rkey)
	if exists && f.Entry.Corrects == nil {
		return invalid("report %q is already on the record: correct it (\"corrects\") rather than report it again", b.ID)
	}
	if exists {
		var ov struct {
			Incidents []string `json:"incidents"`
		}
		if err := ViewOf(old, &ov); err != nil {
			return err
		}
		if len(b.Incidents) < len(ov.Incidents) {
			return invalid("%q: report %s has %d incidents, and a correction keeps every one; to withdraw one, review it as rejected", "incidents", b.ID, len(ov.Incidents))
		}
	}
	ag, err := f.Resolve("agreement", b.Agreement, Agreement)
	if err != nil {
		return err
	}
	var av AgreementView
	if err := ViewOf(ag, &av); err != nil {
		return err
	}
	var by Entity
	if b.ReportedBy != "" {
		if by, err = f.Resolve("reported_by", b.ReportedBy, Actor, Party); err != nil {
			return err
		}
	}
	if len(av.Reporters) > 0 && !slices.Contains(av.Reporters, by.Key()) {
		if by.ID == "" {
			return invalid("%q is required: %s names who may report (%s)", "reported_by", ag.Label(), strings.Join(av.Reporters, ", "))
		}
		return invalid("%q is %s, who may not report under %s: its reporters are %s", "reported_by", by.Key(), ag.Label(), strings.Join(av.Reporters, ", "))
	}
	// The report first: the entry is known by it ("#N", corrections).
	ids := make([]string, len(b.Incidents))
	for i := range b.Incidents {
		ids[i] = Incident + "/" + IncidentID(b.ID, i+1)
	}
	e, _, err := f.Declare(Report, b.ID, "report "+b.ID, nil, struct {
		Agreement string   `json:"agreement"`
		Incidents []string `json:"incidents"`
	}{ag.Key(), ids})
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	outside := 0
	for i, in := range b.Incidents {
		at := fmt.Sprintf("incidents/%d/", i)
		v := IncidentView{Report: rkey, Agreement: ag.Key(), Place: in.Place, Area: firstOf(in.Area, in.Place),
			Lat: *in.Lat, Lon: *in.Lon, Precision: firstOf(in.Precision, "near"), Categories: in.Categories,
			Weapons: in.Weapons, Count: max(in.Count, 1), Fatalities: in.Fatalities, Injured: in.Injured,
			Against: Unattributed, Source: b.Source, Notes: in.Notes,
			Evidence: append(slices.Clone(b.Evidence), in.Evidence...), Author: f.Entry.Author, Status: Reported}
		if by.ID != "" {
			v.ReportedBy = by.Key()
		}
		v.Time, _ = ParseTime(in.Time)
		var against Entity
		if in.Against != "" {
			if against, err = f.Resolve(at+"against", in.Against, Party); err != nil {
				return err
			}
			if len(av.Parties) > 0 && !slices.Contains(av.Parties, against.Key()) {
				return invalid("%q is %s, which is not a party to %s (%s)", at+"against", against.Label(), ag.Label(), strings.Join(av.Parties, ", "))
			}
			v.Against = against.Key()
		}
		v.Outside = !av.Covers(v.Time)
		if v.Outside {
			outside++
		}
		id := IncidentID(b.ID, i+1)
		if exists {
			if err := keepReview(f, at, id, &v); err != nil {
				return err
			}
		}
		if err := declareIncident(f, id, v); err != nil {
			return err
		}
		if v.Reviews == 0 {
			if err := fightEvent(f, v, against, by); err != nil {
				return err
			}
		}
	}
	note := ""
	if outside > 0 {
		note = fmt.Sprintf(" (%d outside the agreement's period)", outside)
	}
	f.Story("report %s under %s: %d incident(s)%s", b.ID, ag.Name, len(b.Incidents), note)
	return nil
}

// keepReview carries, into the corrected incident v, where review has
// taken it. Once reviewed, what it is counted under (agreement, party,
// categories) and when it happened are settled: a correction may not move
// them, since the reviews' facts stay where they were.
func keepReview(f *Fold, at, id string, v *IncidentView) error {
	old, ok := f.Dir.Entity(Incident + "/" + id)
	if !ok {
		return nil
	}
	var ov IncidentView
	if err := ViewOf(old, &ov); err != nil {
		return err
	}
	v.Status, v.SameAs, v.Reviews = ov.Status, ov.SameAs, ov.Reviews
	if ov.Reviews == 0 {
		return nil
	}
	for _, c := range []struct {
		field   string
		changed bool
	}{
		{"agreement", ov.Agreement != v.Agreement},
		{at + "against", ov.Against != v.Against},
		{at + "categories", !slices.Equal(ov.Categories, v.Categories)},
		{at + "time", !ov.Time.Equal(v.Time)},
	} {
		if c.changed {
			return invalid("%q: incident %s has been reviewed, so a correction cannot change its agreement, party, categories or time; review it as rejected and report it again", c.field, id)
		}
	}
	return nil
}

// IncidentName is what an incident is called: its first category, place and
// day ("Shelling / artillery fire, Toretsk, 2025-03-20").
func IncidentName(v IncidentView) string {
	cat, _ := CategoryOf(v.Categories[0])
	return fmt.Sprintf("%s, %s, %s", cat.Label, v.Place, v.Time.Format(time.DateOnly))
}

// declareIncident stores the incident entity and its facts as v has it.
func declareIncident(f *Fold, id string, v IncidentView) error {
	e, _, err := f.Declare(Incident, id, IncidentName(v), nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	return incidentFacts(f, e.Key(), v)
}

// incidentFacts derives the incident's latest fact and its tallies, at the
// time the incident happened, with its status as the tag.
func incidentFacts(f *Fold, key string, v IncidentView) error {
	if err := f.FactAt(FactIncident, v.Agreement, key, v.Status, v.Time, true, v); err != nil {
		return err
	}
	for _, c := range append([]string{AllCategories}, v.Categories...) {
		if err := f.FactAt(FactTally, TallyKey(v.Agreement, v.Against, c), key, v.Status, v.Time, true, nil); err != nil {
			return err
		}
	}
	return nil
}

// fightEvent codes a reported incident as the alleged fighting: PLOVER
// FIGHT, with CAMEO 196 (violate a ceasefire) when it falls in the
// agreement's period. An incident alleged against nobody is not coded.
func fightEvent(f *Fold, v IncidentView, against, by Entity) error {
	if against.ID == "" {
		return nil
	}
	cat, _ := CategoryOf(v.Categories[0])
	code := cat.CAMEO
	if !v.Outside {
		code = "196"
	}
	var mode []string
	if cat.Mode != "" {
		mode = []string{cat.Mode}
	}
	return f.Event(Coding{Event: "FIGHT", Mode: mode, Context: []string{"military"}, CAMEO: code}, against, by,
		fmt.Sprintf("%s at %s (%s)", cat.Label, v.Place, v.Time.Format(time.RFC3339)))
}
