package vocab

import (
	"strings"

	"parley/internal/entry"
)

// TrackBody records a running relation between two parties (military aid,
// intelligence sharing) or, with the same id, a change of its status.
type TrackBody struct {
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Parties []string `json:"parties,omitempty"`
	Subject string   `json:"subject,omitempty"`
	// Kind is military-aid, intelligence, economic-aid, diplomatic or other.
	Kind   string `json:"kind,omitempty"`
	Status string `json:"status"`
}

// TrackKinds are the kinds of track, for their coding.
var TrackKinds = []string{"military-aid", "intelligence", "economic-aid", "diplomatic", "other"}

// TrackStatuses are where a track stands.
var TrackStatuses = []string{"active", "paused", "restoring", "restored"}

// TrackView is a track as it stands.
type TrackView struct {
	Parties []string `json:"parties"`
	Subject string   `json:"subject"`
	Kind    string   `json:"kind"`
	Status  string   `json:"status"`
}

var trackType = entry.Type{
	Name: "track",
	Doc:  "a running relation between two parties and its status: active, paused, restoring, restored",
	New:  func() entry.Body { return new(TrackBody) },
}

// Validate checks the id, parties, kind and status.
func (b *TrackBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if b.Parties != nil && len(b.Parties) != 2 {
		return invalid(`"parties" names the two parties of the track; it has %d`, len(b.Parties))
	}
	if err := optionalOneOf("kind", b.Kind, TrackKinds); err != nil {
		return err
	}
	return oneOf("status", b.Status, TrackStatuses)
}

// Fold records the track or its new status.
func (b *TrackBody) Fold(f *Fold) error {
	key := Track + "/" + b.ID
	var v TrackView
	old, exists := f.Dir.Entity(key)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	} else {
		if b.Parties == nil || b.Subject == "" {
			return invalid("track %q is new, so \"parties\" and \"subject\" are required", b.ID)
		}
		v.Kind = "other"
	}
	if b.Parties != nil {
		ps, err := f.ResolveAll("parties", b.Parties, Party)
		if err != nil {
			return err
		}
		if ps[0].Key() == ps[1].Key() {
			return invalid(`"parties" names %s twice`, ps[0].Label())
		}
		v.Parties = keys(ps)
	}
	if b.Subject != "" {
		v.Subject = b.Subject
	}
	if b.Kind != "" {
		v.Kind = b.Kind
	}
	v.Status = b.Status
	name := b.Name
	if name == "" && !exists {
		name = v.Subject
	}
	e, _, err := f.Declare(Track, b.ID, name, nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	if err := f.Fact(FactTrack, key, "", v.Status, true, v); err != nil {
		return err
	}
	f.Story("track %s (%s): %s", e.Name, strings.Join(v.Parties, " – "), v.Status)
	a, _ := f.Dir.Entity(v.Parties[0])
	r, _ := f.Dir.Entity(v.Parties[1])
	var c Coding
	// Restoring is an intent (AGREE, CAMEO 033x/031x); active and restored
	// are the cooperation itself; paused is its reduction (SANCTION 162x).
	switch {
	case v.Status == "paused" && v.Kind == "military-aid":
		c = Coding{Event: "SANCTION", Mode: []string{"discontinue"}, Context: []string{"military"}, CAMEO: "1622"}
	case v.Status == "paused" && v.Kind == "intelligence":
		c = Coding{Event: "SANCTION", Mode: []string{"discontinue"}, Context: []string{"intelligence"}, CAMEO: "162"}
	case v.Status == "paused":
		c = Coding{Event: "SANCTION", Mode: []string{"discontinue"}, CAMEO: "162"}
	case v.Status == "restoring" && v.Kind == "military-aid":
		c = Coding{Event: "AGREE", Context: []string{"military"}, CAMEO: "0332"}
	case v.Status == "restoring" && v.Kind == "intelligence":
		c = Coding{Event: "AGREE", Context: []string{"intelligence"}, CAMEO: "0314"}
	case v.Kind == "military-aid":
		c = Coding{Event: "AID", Context: []string{"military"}, CAMEO: "072"}
	case v.Kind == "intelligence":
		c = Coding{Event: "COOPERATE", Context: []string{"intelligence"}, CAMEO: "064"}
	case v.Kind == "economic-aid":
		c = Coding{Event: "AID", Context: []string{"economic"}, CAMEO: "071"}
	}
	return f.Event(c, a, r, v.Subject+": "+v.Status)
}
