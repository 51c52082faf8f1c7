package vocab

import (
	"parley/internal/entry"
)

// ActorBody declares a person, a state, an organisation or a delegation, or
// updates one (the same id): a new title, a new party.
type ActorBody struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kind is person, state, organisation or delegation.
	Kind string `json:"kind,omitempty"`
	// Party is the party the actor belongs to or speaks for.
	Party   string   `json:"party,omitempty"`
	Titles  []Title  `json:"titles,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	// Members are the actors of a delegation.
	Members []string `json:"members,omitempty"`
}

// A Title is held from a date until a date; either may be unknown.
type Title struct {
	Title string `json:"title"`
	From  string `json:"from,omitempty"`
	Until string `json:"until,omitempty"`
}

// ActorKinds are the kinds of actor.
var ActorKinds = []string{"person", "state", "organisation", "delegation"}

// ActorView is an actor as it stands.
type ActorView struct {
	Kind    string   `json:"kind"`
	Party   string   `json:"party,omitempty"`
	Titles  []Title  `json:"titles,omitempty"`
	Members []string `json:"members,omitempty"`
}

var actorType = entry.Type{
	Name: "actor",
	Doc:  "a person, state, organisation or delegation: name, titles over time, party",
	New:  func() entry.Body { return new(ActorBody) },
}

// Validate checks the id, kind and titles.
func (b *ActorBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := optionalOneOf("kind", b.Kind, ActorKinds); err != nil {
		return err
	}
	for i, t := range b.Titles {
		if err := required("titles/"+itoa(i)+"/title", t.Title); err != nil {
			return err
		}
		for _, d := range []struct{ f, v string }{{"from", t.From}, {"until", t.Until}} {
			if d.v == "" {
				continue
			}
			if _, err := ParseTime(d.v); err != nil {
				return invalid("%q: %v", "titles/"+itoa(i)+"/"+d.f, err)
			}
		}
	}
	return noEmpty("aliases", b.Aliases)
}

// Fold declares or updates the actor.
func (b *ActorBody) Fold(f *Fold) error {
	var v ActorView
	old, exists := f.Dir.Entity(Actor + "/" + b.ID)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	} else if b.Kind == "" {
		return invalid("actor %q is new, so \"kind\" is required: one of person, state, organisation, delegation", b.ID)
	}
	if b.Kind != "" {
		v.Kind = b.Kind
	}
	if b.Party != "" {
		p, err := f.Resolve("party", b.Party, Party)
		if err != nil {
			return err
		}
		v.Party = p.Key()
	}
	v.Titles = append(v.Titles, b.Titles...)
	if len(b.Members) > 0 {
		ms, err := f.ResolveAll("members", b.Members, Actor)
		if err != nil {
			return err
		}
		v.Members = keys(ms)
	}
	e, _, err := f.Declare(Actor, b.ID, b.Name, b.Aliases, v)
	if err != nil {
		return err
	}
	if exists {
		f.Story("%s updated", e.Name)
	} else {
		f.Story("%s (%s) is on the record", e.Name, v.Kind)
	}
	return f.Commit(e)
}

// keys lists the entities' keys.
func keys(es []Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key()
	}
	return out
}
