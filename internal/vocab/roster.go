package vocab

import (
	"strings"

	"parley/internal/entry"
)

// RosterBody says whether an actor takes part in talks: active, absent (from
// which meetings), or excluded (by whose decision). Absent is not removed.
type RosterBody struct {
	Talks  string `json:"talks"`
	Actor  string `json:"actor"`
	Status string `json:"status"`
	// Meetings are the meetings the actor was absent from, if known.
	Meetings []string `json:"meetings,omitempty"`
	// By is the party whose decision excluded the actor.
	By string `json:"by,omitempty"`
	// Request is the request the exclusion answers, if any.
	Request string `json:"request,omitempty"`
	Note    string `json:"note,omitempty"`
}

// RosterStatuses are how an actor stands in talks.
var RosterStatuses = []string{"active", "absent", "excluded"}

// RosterFact is a roster line as answers show it.
type RosterFact struct {
	Talks    string   `json:"talks"`
	Actor    string   `json:"actor"`
	Status   string   `json:"status"`
	Meetings []string `json:"meetings,omitempty"`
	By       string   `json:"by,omitempty"`
	Request  string   `json:"request,omitempty"`
	Note     string   `json:"note,omitempty"`
}

var rosterType = entry.Type{
	Name: "roster",
	Doc:  "an actor's part in talks: active, absent (from which meetings), excluded (by whom)",
	New:  func() entry.Body { return new(RosterBody) },
}

// Validate checks the status and who decided an exclusion.
func (b *RosterBody) Validate() error {
	if err := required("talks", b.Talks); err != nil {
		return err
	}
	if err := required("actor", b.Actor); err != nil {
		return err
	}
	if err := oneOf("status", b.Status, RosterStatuses); err != nil {
		return err
	}
	if b.Status == "excluded" && b.By == "" {
		return invalid(`"status" is excluded, so "by" must name the party whose decision it was`)
	}
	if b.Status != "absent" && len(b.Meetings) > 0 {
		return invalid(`"meetings" lists meetings the actor was absent from; the status is %q`, b.Status)
	}
	return nil
}

// Fold records the roster line.
func (b *RosterBody) Fold(f *Fold) error {
	talks, err := f.Resolve("talks", b.Talks, Talks)
	if err != nil {
		return err
	}
	actor, err := f.Resolve("actor", b.Actor, Actor)
	if err != nil {
		return err
	}
	meetings, err := f.ResolveAll("meetings", b.Meetings, Meeting)
	if err != nil {
		return err
	}
	v := RosterFact{Talks: talks.Key(), Actor: actor.Key(), Status: b.Status, Meetings: keys(meetings), Note: b.Note}
	if b.By != "" {
		by, err := f.Resolve("by", b.By, Party)
		if err != nil {
			return err
		}
		v.By = by.Key()
	}
	if b.Request != "" {
		r, err := f.Resolve("request", b.Request, Request)
		if err != nil {
			return err
		}
		v.Request = r.Key()
	}
	if err := f.Fact(FactRoster, talks.Key(), actor.Key(), b.Status, true, v); err != nil {
		return err
	}
	extra := ""
	if len(meetings) > 0 {
		var n []string
		for _, m := range meetings {
			n = append(n, m.Name)
		}
		extra = " from " + strings.Join(n, ", ")
	}
	if b.Note != "" {
		extra += " (" + b.Note + ")"
	}
	f.Story("%s is %s in %s%s", actor.Name, b.Status, talks.Name, extra)
	return nil
}
