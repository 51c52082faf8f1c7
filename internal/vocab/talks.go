package vocab

import (
	"strings"

	"parley/internal/entry"
)

// TalksBody declares a negotiation: its parties and mediators. Rosters,
// meetings and requests name the talks they belong to.
type TalksBody struct {
	ID        string   `json:"id"`
	Name      string   `json:"name,omitempty"`
	Parties   []string `json:"parties,omitempty"`
	Mediators []string `json:"mediators,omitempty"`
}

// TalksView is a negotiation as it stands.
type TalksView struct {
	Parties   []string `json:"parties,omitempty"`
	Mediators []string `json:"mediators,omitempty"`
}

var talksType = entry.Type{
	Name: "talks",
	Doc:  "a negotiation: its parties and mediators",
	New:  func() entry.Body { return new(TalksBody) },
}

// Validate checks the id.
func (b *TalksBody) Validate() error { return checkID("id", b.ID) }

// Fold declares or updates the talks.
func (b *TalksBody) Fold(f *Fold) error {
	var v TalksView
	old, exists := f.Dir.Entity(Talks + "/" + b.ID)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	}
	if b.Parties != nil {
		ps, err := f.ResolveAll("parties", b.Parties, Party)
		if err != nil {
			return err
		}
		v.Parties = keys(ps)
	}
	if b.Mediators != nil {
		ms, err := f.ResolveAll("mediators", b.Mediators, Party, Actor)
		if err != nil {
			return err
		}
		v.Mediators = keys(ms)
	}
	e, _, err := f.Declare(Talks, b.ID, b.Name, nil, v)
	if err != nil {
		return err
	}
	f.Story("talks: %s, between %s", e.Name, strings.Join(v.Parties, ", "))
	return f.Commit(e)
}
