package vocab

import (
	"slices"
	"strings"

	"parley/internal/entry"
)

// ReviewBody moves an incident through the verification workflow: reported,
// under review, then verified, unverified, disputed or rejected, with the
// reviewer's reasoning and the evidence for the step. Only monitors review
// (the server checks the role), and the holder of the key that signed a
// report may not review its incidents.
type ReviewBody struct {
	Incident  string     `json:"incident"`
	Status    string     `json:"status"`
	Reasoning string     `json:"reasoning"`
	Evidence  []Evidence `json:"evidence,omitempty"`
}

// ReviewFact is one step of an incident's review, for its history.
type ReviewFact struct {
	From      string     `json:"from"`
	To        string     `json:"to"`
	Reasoning string     `json:"reasoning"`
	Reviewer  string     `json:"reviewer"`
	SameAs    string     `json:"same_as,omitempty"`
	Evidence  []Evidence `json:"evidence,omitempty"`
}

var reviewType = entry.Type{
	Name: "review",
	Doc:  "a step of an incident's verification: under review, verified, unverified, disputed or rejected, with reasoning and evidence",
	New:  func() entry.Body { return new(ReviewBody) },
}

// Validate checks the status, and requires the reasoning.
func (b *ReviewBody) Validate() error {
	if err := required("incident", b.Incident); err != nil {
		return err
	}
	if err := oneOf("status", b.Status, ReviewStatuses); err != nil {
		return err
	}
	if err := required("reasoning", b.Reasoning); err != nil {
		return err
	}
	return checkEvidence("evidence", b.Evidence)
}

// Fold moves the incident to the new status, if the workflow allows it.
func (b *ReviewBody) Fold(f *Fold) error {
	e, v, err := reviewed(f, "incident", b.Incident)
	if err != nil {
		return err
	}
	if next := NextStatuses[v.Status]; !slices.Contains(next, b.Status) {
		return invalid("%q is %q, but incident %s is %s, and from %s a review may only set %s", "status", b.Status, e.ID, v.Status, v.Status, strings.Join(next, ", "))
	}
	// Reopened, a duplicate stands on its own again.
	v.SameAs = ""
	return review(f, e, v, ReviewFact{From: v.Status, To: b.Status, Reasoning: b.Reasoning, Reviewer: f.Entry.Author, Evidence: b.Evidence})
}

// DuplicateBody marks an incident as the same as another already on the
// record, with the reason: it is then counted once, as the other.
type DuplicateBody struct {
	Incident string `json:"incident"`
	SameAs   string `json:"same_as"`
	Reason   string `json:"reason"`
}

var duplicateType = entry.Type{
	Name: "duplicate",
	Doc:  "marks an incident as the same incident as another, with the reason; it is counted once",
	New:  func() entry.Body { return new(DuplicateBody) },
}

// Validate requires both incidents and the reason.
func (b *DuplicateBody) Validate() error {
	if err := required("incident", b.Incident); err != nil {
		return err
	}
	if err := required("same_as", b.SameAs); err != nil {
		return err
	}
	return required("reason", b.Reason)
}

// Fold marks the incident a duplicate of the other, which must be an
// incident of the same agreement and not itself a duplicate.
func (b *DuplicateBody) Fold(f *Fold) error {
	e, v, err := reviewed(f, "incident", b.Incident)
	if err != nil {
		return err
	}
	o, ov, err := reviewed(f, "same_as", b.SameAs)
	if err != nil {
		return err
	}
	switch {
	case o.Key() == e.Key():
		return invalid("%q names incident %s itself; an incident duplicates another", "same_as", e.ID)
	case v.Status == Duplicate:
		return invalid("%q: incident %s is already a duplicate of %s", "incident", e.ID, v.SameAs)
	case ov.Status == Duplicate:
		return invalid("%q: incident %s is itself a duplicate of %s; name that one", "same_as", o.ID, ov.SameAs)
	case ov.Agreement != v.Agreement:
		return invalid("%q: incident %s is under %s, not %s", "same_as", o.ID, ov.Agreement, v.Agreement)
	}
	v.SameAs = o.Key()
	return review(f, e, v, ReviewFact{From: v.Status, To: Duplicate, Reasoning: b.Reason, Reviewer: f.Entry.Author, SameAs: o.Key()})
}

// reviewed resolves the incident a review names, refusing a reviewer who
// holds the key that signed its report, or any key of the same holder (an
// account, on a server).
func reviewed(f *Fold, field, ref string) (Entity, IncidentView, error) {
	e, err := f.Resolve(field, ref, Incident)
	if err != nil {
		return Entity{}, IncidentView{}, err
	}
	var v IncidentView
	if err := ViewOf(e, &v); err != nil {
		return Entity{}, IncidentView{}, err
	}
	if field == "incident" && holder(f, v.Author) == holder(f, f.Entry.Author) {
		return Entity{}, IncidentView{}, forbidden("%q: incident %s was reported with key %s, held by %s, who may not review it: another monitor reviews it",
			field, e.ID, v.Author, holder(f, v.Author))
	}
	return e, v, nil
}

// KeyView is a signing key as the fold knows it: who holds it.
type KeyView struct {
	Holder string `json:"holder"`
}

// DeclareKey records a registered key and its holder, so that rules about
// people (no one reviews their own report) see through their several keys.
func DeclareKey(f *Fold, id, holder string) error {
	e, _, err := f.Declare(Key, id, id, nil, KeyView{Holder: holder})
	if err != nil {
		return err
	}
	return f.Commit(e)
}

// holder is who holds the key author: the holder it was registered with,
// or the key itself if the record does not say.
func holder(f *Fold, author string) string {
	var v KeyView
	if e, ok := f.Dir.Entity(Key + "/" + author); ok && ViewOf(e, &v) == nil && v.Holder != "" {
		return v.Holder
	}
	return author
}

// review records the step and the incident's new status.
func review(f *Fold, e Entity, v IncidentView, step ReviewFact) error {
	v.Status = step.To
	v.Reviews++
	e, _, err := f.Declare(Incident, e.ID, "", nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	if err := incidentFacts(f, e.Key(), v); err != nil {
		return err
	}
	if err := f.Fact(FactReview, e.Key(), step.Reviewer, step.To, false, step); err != nil {
		return err
	}
	what := step.To
	if step.SameAs != "" {
		what = "a duplicate of " + step.SameAs
	}
	f.Story("incident %s: %s → %s: %s", e.ID, step.From, what, step.Reasoning)
	return nil
}
