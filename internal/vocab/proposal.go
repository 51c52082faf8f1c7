package vocab

import "parley/internal/entry"

// ProposalBody puts a proposal on the record: its text, its terms, who made
// it. Parties' positions on it are position entries.
type ProposalBody struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Text     string   `json:"text,omitempty"`
	Terms    []string `json:"terms,omitempty"`
	Proposer string   `json:"proposer,omitempty"`
	// Subject is what it is about: ceasefire, talks, aid, other.
	Subject string `json:"subject,omitempty"`
}

// ProposalSubjects say what a proposal is about, for its coding.
var ProposalSubjects = []string{"ceasefire", "talks", "aid", "exchange", "other"}

// ProposalView is a proposal as it stands.
type ProposalView struct {
	Text     string   `json:"text,omitempty"`
	Terms    []string `json:"terms,omitempty"`
	Proposer string   `json:"proposer,omitempty"`
	Subject  string   `json:"subject,omitempty"`
}

var proposalType = entry.Type{
	Name: "proposal",
	Doc:  "a proposal: text, terms, proposer",
	New:  func() entry.Body { return new(ProposalBody) },
}

// Validate checks the id, terms and subject.
func (b *ProposalBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := optionalOneOf("subject", b.Subject, ProposalSubjects); err != nil {
		return err
	}
	return noEmpty("terms", b.Terms)
}

// Fold declares or updates the proposal.
func (b *ProposalBody) Fold(f *Fold) error {
	var v ProposalView
	old, exists := f.Dir.Entity(Proposal + "/" + b.ID)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	} else if b.Text == "" {
		return invalid("proposal %q is new, so \"text\" is required", b.ID)
	}
	if b.Text != "" {
		v.Text = b.Text
	}
	if b.Terms != nil {
		v.Terms = b.Terms
	}
	if b.Subject != "" {
		v.Subject = b.Subject
	}
	if b.Proposer != "" {
		p, err := f.Resolve("proposer", b.Proposer, Actor, Party)
		if err != nil {
			return err
		}
		v.Proposer = p.Key()
	}
	e, _, err := f.Declare(Proposal, b.ID, b.Name, nil, v)
	if err != nil {
		return err
	}
	f.Story("proposal %s: %s", e.Name, v.Text)
	if err := f.Fact(FactProposal, e.Key(), v.Proposer, v.Subject, true, v); err != nil {
		return err
	}
	return f.Commit(e)
}
