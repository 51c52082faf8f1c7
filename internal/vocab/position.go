package vocab

import (
	"fmt"
	"strings"

	"parley/internal/entry"
)

// PositionBody is where a party stands on a proposal, from the entry's time
// until its next position: its stance, its conditions, and the statement
// the position rests on.
type PositionBody struct {
	Party      string   `json:"party"`
	Proposal   string   `json:"proposal"`
	Stance     string   `json:"stance"`
	Conditions []string `json:"conditions,omitempty"`
	Statement  string   `json:"statement,omitempty"`
	// Counter is the counter-proposal, for the stance "counters".
	Counter string `json:"counter,omitempty"`
}

// The stances a party may take on a proposal.
const (
	Accepts            = "accepts"
	AcceptsConditions  = "accepts-with-conditions"
	AcceptsInPrinciple = "accepts-in-principle"
	Counters           = "counters"
	Rejects            = "rejects"
	Undecided          = "undecided"
)

// Stances lists them.
var Stances = []string{Accepts, AcceptsConditions, AcceptsInPrinciple, Counters, Rejects, Undecided}

// PositionFact is a position as answers show it.
type PositionFact struct {
	Party      string   `json:"party"`
	Proposal   string   `json:"proposal"`
	Stance     string   `json:"stance"`
	Conditions []string `json:"conditions,omitempty"`
	Statement  string   `json:"statement,omitempty"`
	Counter    string   `json:"counter,omitempty"`
}

var positionType = entry.Type{
	Name: "position",
	Doc:  "a party's stance on a proposal, with conditions and the statement it rests on",
	New:  func() entry.Body { return new(PositionBody) },
}

// Validate checks the stance and its conditions.
func (b *PositionBody) Validate() error {
	if err := required("party", b.Party); err != nil {
		return err
	}
	if err := required("proposal", b.Proposal); err != nil {
		return err
	}
	if err := oneOf("stance", b.Stance, Stances); err != nil {
		return err
	}
	if err := noEmpty("conditions", b.Conditions); err != nil {
		return err
	}
	switch {
	case b.Stance == AcceptsConditions && len(b.Conditions) == 0:
		return invalid(`"stance" is %q, so "conditions" must list them`, b.Stance)
	case b.Stance == Accepts && len(b.Conditions) > 0:
		return invalid(`"stance" is %q, which has no conditions; use %q`, Accepts, AcceptsConditions)
	case b.Counter != "" && b.Stance != Counters:
		return invalid(`"counter" is only for the stance %q`, Counters)
	}
	return nil
}

// Fold records the position.
func (b *PositionBody) Fold(f *Fold) error {
	party, err := f.Resolve("party", b.Party, Party)
	if err != nil {
		return err
	}
	prop, err := f.Resolve("proposal", b.Proposal, Proposal)
	if err != nil {
		return err
	}
	v := PositionFact{Party: party.Key(), Proposal: prop.Key(), Stance: b.Stance, Conditions: b.Conditions}
	if b.Statement != "" {
		s, err := f.Resolve("statement", b.Statement, Statement)
		if err != nil {
			return err
		}
		v.Statement = s.Key()
	}
	if b.Counter != "" {
		c, err := f.Resolve("counter", b.Counter, Proposal)
		if err != nil {
			return err
		}
		v.Counter = c.Key()
	}
	if err := f.Fact(FactPosition, prop.Key(), party.Key(), b.Stance, true, v); err != nil {
		return err
	}
	cond := ""
	if len(b.Conditions) > 0 {
		cond = fmt.Sprintf(" (conditions: %s)", strings.Join(b.Conditions, "; "))
	}
	f.Story("%s %s %s%s", party.Name, b.Stance, prop.Name, cond)
	var pv ProposalView
	ViewOf(prop, &pv)
	proposer, _ := f.Dir.Entity(pv.Proposer)
	return f.Event(stanceCoding(b.Stance, pv.Subject), party, proposer, b.Stance+" "+prop.Name)
}

// stanceCoding codes a stance: acceptance is PLOVER AGREE (CAMEO 0356 for
// a ceasefire, the intent to de-escalate; 030 otherwise), rejection REJECT
// (1246, refusing to de-escalate, or 127, rejecting a plan).
func stanceCoding(stance, subject string) Coding {
	ceasefire := subject == "ceasefire"
	ctx := []string{"diplomatic"}
	if ceasefire {
		ctx = []string{"military", "diplomatic"}
	}
	switch stance {
	case Accepts, AcceptsConditions, AcceptsInPrinciple:
		if ceasefire {
			return Coding{Event: "AGREE", Context: ctx, CAMEO: "0356"}
		}
		return Coding{Event: "AGREE", Context: ctx, CAMEO: "030"}
	case Rejects:
		if ceasefire {
			return Coding{Event: "REJECT", Mode: []string{"yield"}, Context: ctx, CAMEO: "1246"}
		}
		return Coding{Event: "REJECT", Mode: []string{"meet"}, Context: ctx, CAMEO: "127"}
	case Counters:
		return Coding{Event: "CONSULT", Context: ctx, CAMEO: "046"}
	}
	return Coding{}
}
