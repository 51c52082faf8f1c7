package vocab

import "parley/internal/entry"

// PartyBody declares a side to the conflict or a mediator.
type PartyBody struct {
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Role    string   `json:"role,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
}

// PartyRoles are what a party is to the talks.
var PartyRoles = []string{"side", "mediator"}

// PartyView is a party as it stands.
type PartyView struct {
	Role string `json:"role"`
}

var partyType = entry.Type{
	Name: "party",
	Doc:  "a side to the conflict or a mediator",
	New:  func() entry.Body { return new(PartyBody) },
}

// Validate checks the id and role.
func (b *PartyBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := optionalOneOf("role", b.Role, PartyRoles); err != nil {
		return err
	}
	return noEmpty("aliases", b.Aliases)
}

// Fold declares or updates the party.
func (b *PartyBody) Fold(f *Fold) error {
	var v PartyView
	old, exists := f.Dir.Entity(Party + "/" + b.ID)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	} else if b.Role == "" {
		return invalid("party %q is new, so \"role\" is required: one of side, mediator", b.ID)
	}
	if b.Role != "" {
		v.Role = b.Role
	}
	e, _, err := f.Declare(Party, b.ID, b.Name, b.Aliases, v)
	if err != nil {
		return err
	}
	f.Story("%s is a party (%s)", e.Name, v.Role)
	return f.Commit(e)
}
