package vocab

import (
	"fmt"
	"strings"

	"parley/internal/entry"
)

// MeetingBody records a meeting: when (the entry's time), where, who
// attended, who was expected and absent, and what each side said of it.
type MeetingBody struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Talks    string   `json:"talks,omitempty"`
	Place    string   `json:"place,omitempty"`
	Attended []string `json:"attended,omitempty"`
	// Absent are those expected who did not attend.
	Absent []string `json:"absent,omitempty"`
	// Characterisations are what participants said of the meeting.
	Characterisations []Characterisation `json:"characterisations,omitempty"`
}

// A Characterisation is what one actor called a meeting ("good and productive").
type Characterisation struct {
	By        string `json:"by"`
	Words     string `json:"words"`
	Statement string `json:"statement,omitempty"`
}

// MeetingView is a meeting as it stands.
type MeetingView struct {
	Talks             string             `json:"talks,omitempty"`
	Place             string             `json:"place,omitempty"`
	Attended          []string           `json:"attended,omitempty"`
	Absent            []string           `json:"absent,omitempty"`
	Characterisations []Characterisation `json:"characterisations,omitempty"`
}

// AttendanceFact is one actor at, or missing from, one meeting.
type AttendanceFact struct {
	Meeting string `json:"meeting"`
	Actor   string `json:"actor"`
	Present bool   `json:"present"`
}

var meetingType = entry.Type{
	Name: "meeting",
	Doc:  "a meeting: place, who attended, who was expected and absent, what was said of it",
	New:  func() entry.Body { return new(MeetingBody) },
}

// Validate checks the id and the characterisations.
func (b *MeetingBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	for i, c := range b.Characterisations {
		if err := required(fmt.Sprintf("characterisations/%d/by", i), c.By); err != nil {
			return err
		}
		if err := required(fmt.Sprintf("characterisations/%d/words", i), c.Words); err != nil {
			return err
		}
	}
	return nil
}

// Fold records the meeting and each actor's attendance.
func (b *MeetingBody) Fold(f *Fold) error {
	v := MeetingView{Place: b.Place}
	var talks Entity
	if b.Talks != "" {
		t, err := f.Resolve("talks", b.Talks, Talks)
		if err != nil {
			return err
		}
		talks, v.Talks = t, t.Key()
	}
	attended, err := f.ResolveAll("attended", b.Attended, Actor)
	if err != nil {
		return err
	}
	absent, err := f.ResolveAll("absent", b.Absent, Actor)
	if err != nil {
		return err
	}
	for _, a := range absent {
		for _, p := range attended {
			if a.Key() == p.Key() {
				return invalid("%s is both in \"attended\" and in \"absent\"", a.Label())
			}
		}
	}
	v.Attended, v.Absent = keys(attended), keys(absent)
	for i, c := range b.Characterisations {
		by, err := f.Resolve(fmt.Sprintf("characterisations/%d/by", i), c.By, Actor, Party)
		if err != nil {
			return err
		}
		c.By = by.Key()
		if c.Statement != "" {
			s, err := f.Resolve(fmt.Sprintf("characterisations/%d/statement", i), c.Statement, Statement)
			if err != nil {
				return err
			}
			c.Statement = s.Key()
		}
		v.Characterisations = append(v.Characterisations, c)
	}
	name := b.Name
	if name == "" && b.Place != "" {
		name = "meeting in " + b.Place
	}
	e, _, err := f.Declare(Meeting, b.ID, name, nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	for _, list := range []struct {
		who     []Entity
		present bool
		tag     string
	}{{attended, true, "attended"}, {absent, false, "absent"}} {
		for _, a := range list.who {
			if err := f.Fact(FactAttendance, talks.Key(), a.Key(), list.tag, false,
				AttendanceFact{Meeting: e.Key(), Actor: a.Key(), Present: list.present}); err != nil {
				return err
			}
		}
	}
	names := func(es []Entity) string {
		var n []string
		for _, x := range es {
			n = append(n, x.Name)
		}
		return strings.Join(n, ", ")
	}
	story := fmt.Sprintf("%s: %s met", e.Name, names(attended))
	if len(absent) > 0 {
		story += fmt.Sprintf("; absent: %s", names(absent))
	}
	f.Story("%s", story)
	if len(attended) >= 2 {
		// The first attendee hosts; the second makes the visit (CAMEO 042).
		return f.Event(Coding{Event: "CONSULT", Mode: []string{"visit"}, Context: []string{"diplomatic"}, CAMEO: "042"},
			attended[1], attended[0], "met in "+b.Place)
	}
	return nil
}
