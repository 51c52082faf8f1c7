package vocab

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"parley/internal/entry"
)

// AgreementBody records a ceasefire agreement or, with the same id, its
// amendment or extension: who it binds, from when and for how long, what it
// covers, who monitors it and who may report violations, and the proposal it
// came from.
type AgreementBody struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Parties  []string `json:"parties,omitempty"`
	Proposal string   `json:"proposal,omitempty"`
	// Start is a date or an RFC 3339 time.
	Start string `json:"start,omitempty"`
	// Days is how long it runs from Start; 0 means open-ended.
	Days int `json:"days,omitempty"`
	// ExtendDays lengthens it by that many days.
	ExtendDays int `json:"extend_days,omitempty"`
	// Scope is what it covers: all-hostilities, energy-infrastructure,
	// maritime (the Black Sea) or region (Region names it).
	Scope  []string `json:"scope,omitempty"`
	Region string   `json:"region,omitempty"`
	// Monitors are who monitor it; Reporters who may report violations
	// (anyone, when empty).
	Monitors  []string `json:"monitors,omitempty"`
	Reporters []string `json:"reporters,omitempty"`
	// Status is proposed, in-force, suspended or ended.
	Status string `json:"status,omitempty"`
	Note   string `json:"note,omitempty"`
}

// AgreementScopes are what a ceasefire may cover.
var AgreementScopes = []string{"all-hostilities", "energy-infrastructure", "maritime", "region"}

// AgreementStatuses are where an agreement stands.
var AgreementStatuses = []string{"proposed", "in-force", "suspended", "ended"}

// AgreementView is an agreement as it stands; Ends is computed from its
// start, duration and extensions.
type AgreementView struct {
	Parties   []string  `json:"parties"`
	Proposal  string    `json:"proposal,omitempty"`
	Start     time.Time `json:"start"`
	Days      int       `json:"days"`
	Ends      time.Time `json:"ends,omitzero"`
	Scope     []string  `json:"scope"`
	Region    string    `json:"region,omitempty"`
	Monitors  []string  `json:"monitors,omitempty"`
	Reporters []string  `json:"reporters,omitempty"`
	Status    string    `json:"status"`
	// Changes counts the amendments and extensions.
	Changes int `json:"changes"`
}

// Covers says whether t falls in the agreement's period.
func (v AgreementView) Covers(t time.Time) bool {
	return !t.Before(v.Start) && (v.Ends.IsZero() || t.Before(v.Ends))
}

var agreementType = entry.Type{
	Name: "agreement",
	Doc:  "a ceasefire agreement, or its amendment or extension: parties, start, duration, scope, monitors and reporters",
	New:  func() entry.Body { return new(AgreementBody) },
}

// Validate checks the id, times, scope and status.
func (b *AgreementBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if b.Start != "" {
		if _, err := ParseTime(b.Start); err != nil {
			return invalid("%q is %q: a date (2025-03-20) or an RFC 3339 time", "start", b.Start)
		}
	}
	if b.Days < 0 || b.Days > 36500 {
		return invalid("%q is %d: a number of days from 0 (open-ended) to 36500", "days", b.Days)
	}
	if b.ExtendDays < 0 || b.ExtendDays > 36500 {
		return invalid("%q is %d: a number of days from 1 to 36500", "extend_days", b.ExtendDays)
	}
	for i, s := range b.Scope {
		if err := oneOf(fmt.Sprintf("scope/%d", i), s, AgreementScopes); err != nil {
			return err
		}
	}
	if b.Region == "" && slices.Contains(b.Scope, "region") {
		return invalid("%q includes \"region\", so \"region\" is required: the region it covers", "scope")
	}
	if b.Parties != nil && len(b.Parties) < 2 {
		return invalid("%q names the parties the ceasefire binds: at least two; it has %d", "parties", len(b.Parties))
	}
	return optionalOneOf("status", b.Status, AgreementStatuses)
}

// Fold records the agreement or its change.
func (b *AgreementBody) Fold(f *Fold) error {
	key := Agreement + "/" + b.ID
	var v AgreementView
	old, exists := f.Dir.Entity(key)
	var what []string
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
		v.Changes++
	} else {
		if b.Parties == nil || b.Start == "" {
			return invalid("agreement %q is new, so \"parties\" and \"start\" are required", b.ID)
		}
		if b.ExtendDays > 0 {
			return invalid("agreement %q is new: give its length in \"days\"; \"extend_days\" lengthens one on the record", b.ID)
		}
		v.Status = "in-force"
		v.Scope = []string{"all-hostilities"}
	}
	if b.Parties != nil {
		ps, err := f.ResolveAll("parties", b.Parties, Party)
		if err != nil {
			return err
		}
		v.Parties = keys(ps)
		what = append(what, "parties "+strings.Join(v.Parties, ", "))
	}
	if b.Proposal != "" {
		p, err := f.Resolve("proposal", b.Proposal, Proposal)
		if err != nil {
			return err
		}
		v.Proposal = p.Key()
	}
	if b.Start != "" {
		v.Start, _ = ParseTime(b.Start)
		what = append(what, "from "+v.Start.Format(time.DateOnly))
	}
	if b.Days > 0 {
		v.Days = b.Days
	}
	if b.ExtendDays > 0 {
		v.Days += b.ExtendDays
		what = append(what, fmt.Sprintf("extended by %d days", b.ExtendDays))
	}
	v.Ends = time.Time{}
	if v.Days > 0 {
		v.Ends = v.Start.AddDate(0, 0, v.Days)
		what = append(what, "until "+v.Ends.Format(time.DateOnly))
	}
	if b.Scope != nil {
		v.Scope = b.Scope
		what = append(what, "covering "+strings.Join(v.Scope, ", "))
	}
	if b.Region != "" {
		v.Region = b.Region
	}
	if b.Monitors != nil {
		ms, err := f.ResolveAll("monitors", b.Monitors, Actor, Party)
		if err != nil {
			return err
		}
		v.Monitors = keys(ms)
	}
	if b.Reporters != nil {
		rs, err := f.ResolveAll("reporters", b.Reporters, Actor, Party)
		if err != nil {
			return err
		}
		v.Reporters = keys(rs)
	}
	if b.Status != "" {
		v.Status = b.Status
		what = append(what, b.Status)
	}
	e, _, err := f.Declare(Agreement, b.ID, b.Name, nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	if err := f.Fact(FactAgreement, key, "", v.Status, true, v); err != nil {
		return err
	}
	verb := "agreement"
	if exists {
		verb = "agreement amended"
	}
	f.Story("%s %s: %s", verb, e.Name, strings.Join(what, "; "))
	var a, r Entity
	if len(v.Parties) > 0 {
		a, _ = f.Dir.Entity(v.Parties[0])
	}
	if len(v.Parties) > 1 {
		r, _ = f.Dir.Entity(v.Parties[1])
	}
	// A ceasefire is the parties yielding: PLOVER RETREAT, mode ceasefire;
	// CAMEO 0871, declare a ceasefire.
	return f.Event(Coding{Event: "RETREAT", Mode: []string{"ceasefire"}, Context: []string{"military"}, CAMEO: "0871"}, a, r, e.Name)
}
