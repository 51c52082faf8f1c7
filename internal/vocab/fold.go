package vocab

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
)

// The kinds of entity entries declare and refer to.
const (
	Actor     = "actor"
	Party     = "party"
	Talks     = "talks"
	Meeting   = "meeting"
	Message   = "message"
	Statement = "statement"
	Proposal  = "proposal"
	Request   = "request"
	Action    = "action"
	Track     = "track"
	Agreement = "agreement"
	Report    = "report"
	Incident  = "incident"
	// Key is the kind of a signing key's entity: who holds it. Entries
	// do not refer to keys by name, so it is not among Kinds.
	Key = "key"
)

// Named says which kinds are found by name as well as by key and id: not
// reports, incidents and keys, which are many, and which entries and
// people name by their ids ("incident/ua-0322.1").
var Named = map[string]bool{Actor: true, Party: true, Talks: true, Meeting: true, Message: true, Statement: true,
	Proposal: true, Request: true, Action: true, Track: true, Agreement: true}

// Kinds lists every kind of entity.
var Kinds = []string{Actor, Party, Talks, Meeting, Message, Statement, Proposal, Request, Action, Track, Agreement, Report, Incident}

// The kinds of fact the vocabulary derives; package state asks for them.
const (
	FactEntity     = "entity"     // an entity as declared: latest of its key
	FactName       = "name"       // subject a lower-case name, object the entity named
	FactStory      = "story"      // one line per entry, for the timeline
	FactEvent      = "event"      // a PLOVER/CAMEO-coded event, for export
	FactVoid       = "void"       // an entry corrected or retracted
	FactPosition   = "position"   // subject proposal, object party, tag stance
	FactHop        = "hop"        // subject message, tag what happened
	FactMessage    = "message"    // subject message, object sender, tag recipient
	FactStatement  = "statement"  // subject what it is about, object speaker, tag confidence
	FactAssessment = "assessment" // subject what is judged, object who judges
	FactAccusation = "accusation" // subject accused, object accuser
	FactRequest    = "request"    // subject talks, object request, tag outcome
	FactRoster     = "roster"     // subject talks, object actor, tag status
	FactAttendance = "attendance" // subject talks, object actor, tag attended|absent
	FactAction     = "action"     // subject action, tag status
	FactTrack      = "track"      // subject track, tag status
	FactProposal   = "proposal"   // subject proposal
	FactAgreement  = "agreement"  // subject agreement, tag status
	FactIncident   = "incident"   // subject agreement, object incident, tag status, at the incident's time
	FactReview     = "review"     // subject incident, object reviewer key, tag the new status
	// FactTally counts incidents: subject TallyKey(agreement, party,
	// category), object incident, tag status; the store tallies it.
	FactTally = store.TallyPrefix + "incident"
)

// FactKinds lists every kind of fact the vocabulary derives.
var FactKinds = []string{FactEntity, FactName, FactStory, FactEvent, FactVoid, FactPosition, FactHop, FactMessage,
	FactStatement, FactAssessment, FactAccusation, FactRequest, FactRoster, FactAttendance, FactAction, FactTrack, FactProposal,
	FactAgreement, FactIncident, FactReview, FactTally}

// NoSubject fills a fact's subject when it is about nothing in particular.
const NoSubject = "-"

// An Entity is something entries declare once and refer to after: an actor,
// a proposal, an action. Its key is "kind/id".
type Entity struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
	// Names are every name and alias it has had, for finding it by name.
	Names []string `json:"names,omitempty"`
	// Declared is the entry that first declared it; Index the latest.
	Declared int64 `json:"declared"`
	Index    int64 `json:"index"`
	// Waits lists what an action waits on, as entity keys.
	Waits []string `json:"waits,omitempty"`
	// View is the entity's current content, in its type's own form.
	View jsontext.Value `json:"view,omitempty"`
}

// Key returns "kind/id".
func (e Entity) Key() string { return e.Kind + "/" + e.ID }

// Label is how an answer names the entity: its name and key.
func (e Entity) Label() string { return fmt.Sprintf("%s (%s)", e.Name, e.Key()) }

// A Directory is the record as the fold sees it before an entry: the
// entities so far, which entries were voided, the type of each entry.
// Package state keeps it; changes made through it can be undone until the
// entries are committed.
type Directory interface {
	// Entity returns the entity with the key "kind/id".
	Entity(key string) (Entity, bool)
	// Declared returns the entity first declared by entry index.
	Declared(index int64) (Entity, bool)
	// Named returns the entities that have had the name, compared without case.
	Named(name string) []Entity
	// Declare adds or replaces an entity.
	Declare(e Entity)
	// EntryType returns the type of entry index, or false if there is none.
	EntryType(ctx context.Context, index int64) (string, bool, error)
	// VoidedBy returns the entry that corrected or retracted entry index.
	VoidedBy(index int64) (int64, bool)
	// Void records that entry by voids entry target.
	Void(target, by int64)
}

// A Folder is a body that changes the state: it checks its references
// against the record so far and derives facts.
type Folder interface {
	Fold(f *Fold) error
}

// Fold is one entry being folded into the state.
type Fold struct {
	Ctx   context.Context
	Index int64
	Entry *entry.Entry
	Dir   Directory
	out   store.Derived
	story string
}

// NewFold starts folding the entry at index.
func NewFold(ctx context.Context, index int64, e *entry.Entry, dir Directory) *Fold {
	return &Fold{Ctx: ctx, Index: index, Entry: e, Dir: dir}
}

// Derived returns the facts folded so far.
func (f *Fold) Derived() store.Derived { return f.out }

// Time is the time the entry describes.
func (f *Fold) Time() time.Time { return f.Entry.Time }

// Fact derives a fact from the entry, at the time the entry describes;
// data is encoded as JSON.
func (f *Fold) Fact(kind, subject, object, tag string, latest bool, data any) error {
	return f.FactAt(kind, subject, object, tag, f.Entry.Time, latest, data)
}

// FactAt derives a fact describing time t: an incident's, say, rather than
// its report's.
func (f *Fold) FactAt(kind, subject, object, tag string, t time.Time, latest bool, data any) error {
	b, err := json.Marshal(data, json.Deterministic(true))
	if err != nil {
		return fmt.Errorf("fact %s: %w", kind, err)
	}
	if subject == "" {
		subject = NoSubject
	}
	f.out.Facts = append(f.out.Facts, store.Fact{Index: f.Index, Seq: len(f.out.Facts), Kind: kind,
		Subject: subject, Object: object, Tag: tag, Time: t.UTC(), Latest: latest, Data: b})
	return nil
}

// Story sets the entry's line in the timeline.
func (f *Fold) Story(format string, args ...any) { f.story = fmt.Sprintf(format, args...) }

// A Coding places an entry in the event-data vocabularies analysts use:
// a PLOVER event type with its mode and context, and the nearest CAMEO code.
type Coding struct {
	Event   string   `json:"event"`
	Mode    []string `json:"mode,omitempty"`
	Context []string `json:"context,omitempty"`
	CAMEO   string   `json:"cameo,omitempty"`
}

// EventFact is a coded event as exported to PLOVER.
type EventFact struct {
	Coding
	Source    string `json:"source"`
	Recipient string `json:"recipient,omitempty"`
	Text      string `json:"text"`
	Type      string `json:"type"`
}

// Event derives a coded event, if the coding has a PLOVER event type.
func (f *Fold) Event(c Coding, source, recipient Entity, text string) error {
	if c.Event == "" {
		return nil
	}
	ev := EventFact{Coding: c, Source: source.Name, Text: text, Type: f.Entry.Type}
	to := ""
	if recipient.ID != "" {
		ev.Recipient, to = recipient.Name, recipient.Key()
	}
	return f.Fact(FactEvent, source.Key(), to, c.Event, false, ev)
}

// StoryFact is one line of the timeline.
type StoryFact struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Author string `json:"author"`
}

// VoidFact records a correction or retraction.
type VoidFact struct {
	Target int64  `json:"target"`
	Reason string `json:"reason,omitempty"`
}

// Finish derives the entry's story and, for a correction, voids the entry
// it corrects. Call it after the body's own Fold.
func (f *Fold) Finish() error {
	if c := f.Entry.Corrects; c != nil {
		if err := f.void(*c, "corrects", true); err != nil {
			return err
		}
		if err := f.Fact(FactVoid, strconv.FormatInt(*c, 10), "", "corrected", false, VoidFact{Target: *c}); err != nil {
			return err
		}
		f.story = fmt.Sprintf("corrects entry %d: %s", *c, f.story)
	}
	if f.story == "" {
		f.story = f.Entry.Type
	}
	return f.Fact(FactStory, f.Entry.Type, "", "", false, StoryFact{Type: f.Entry.Type, Text: f.story, Author: f.Entry.Author})
}

// void voids entry target, which must exist and not be voided already; a
// correction must be of the same type.
func (f *Fold) void(target int64, how string, sameType bool) error {
	typ, ok, err := f.Dir.EntryType(f.Ctx, target)
	if err != nil {
		return err
	}
	if !ok || target >= f.Index {
		return problem.New(problem.Invalid, "", "%s entry %d, which is not on the record", how, target)
	}
	if by, done := f.Dir.VoidedBy(target); done {
		return problem.New(problem.Conflict, "", "%s entry %d, which entry %d already corrected or retracted; correct entry %d instead", how, target, by, by)
	}
	if sameType && typ != f.Entry.Type {
		return problem.New(problem.Invalid, "", "a %s entry cannot correct entry %d, a %s entry: a correction has the type of what it corrects", f.Entry.Type, target, typ)
	}
	f.Dir.Void(target, f.Index)
	f.out.Voids = append(f.out.Voids, store.Void{Target: target, By: f.Index})
	return nil
}

// Resolve finds the entity ref names, for the body field field. ref may be
// a key ("party/russia"), an id ("russia"), the entry that declared it
// ("#12") or its name ("Russia"). kinds limits what it may be; none means any.
func (f *Fold) Resolve(field, ref string, kinds ...string) (Entity, error) {
	if len(kinds) == 0 {
		kinds = Kinds
	}
	what := strings.Join(kinds, " or ")
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Entity{}, problem.New(problem.Invalid, "", "%q is required: the %s it refers to", field, what)
	}
	var found []Entity
	if n, ok := strings.CutPrefix(ref, "#"); ok {
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return Entity{}, problem.New(problem.Invalid, "", "%q: %q is not an entry number like #12", field, ref)
		}
		if e, ok := f.Dir.Declared(i); ok {
			found = append(found, e)
		}
	} else if e, ok := f.Dir.Entity(ref); ok {
		found = append(found, e)
	} else {
		for _, k := range kinds {
			if e, ok := f.Dir.Entity(k + "/" + ref); ok {
				found = append(found, e)
			}
		}
		if len(found) == 0 {
			for _, e := range f.Dir.Named(ref) {
				if !slices.ContainsFunc(found, func(x Entity) bool { return x.Key() == e.Key() }) {
					found = append(found, e)
				}
			}
		}
	}
	found = slices.DeleteFunc(found, func(e Entity) bool { return !slices.Contains(kinds, e.Kind) })
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Entity{}, problem.New(problem.NotFound, "", "%q names %q, but no %s of that id or name is on the record", field, ref, what)
	}
	var c []string
	for _, e := range found {
		c = append(c, fmt.Sprintf("%s (entry %d)", e.Label(), e.Declared))
	}
	return Entity{}, problem.New(problem.Conflict, "", "%q names %q, which is ambiguous: it could be %s; use the key", field, ref, strings.Join(c, ", "))
}

// ResolveAll resolves each ref of a list field.
func (f *Fold) ResolveAll(field string, refs []string, kinds ...string) ([]Entity, error) {
	out := make([]Entity, 0, len(refs))
	for i, r := range refs {
		e, err := f.Resolve(fmt.Sprintf("%s/%d", field, i), r, kinds...)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Declare adds or updates the entity of kind and id. A new entity needs a
// name; an update keeps the old name unless given a new one. It returns the
// previous state, if any.
func (f *Fold) Declare(kind, id, name string, aliases []string, view any) (Entity, Entity, error) {
	key := kind + "/" + id
	old, exists := f.Dir.Entity(key)
	if c := f.Entry.Corrects; c != nil {
		if prev, ok := f.Dir.Declared(*c); ok && prev.Kind == kind && prev.Key() != key {
			// A correction re-states the entity it corrects; it cannot move
			// the facts to another one. (The other entities an entry
			// declares, a report's incidents, follow from that one's id.)
			return Entity{}, Entity{}, problem.New(problem.Invalid, "", "corrects entry %d, which declared %s; a correction keeps the id (\"id\": %q)", *c, prev.Key(), prev.ID)
		}
	}
	e := old
	if !exists {
		if strings.TrimSpace(name) == "" {
			return Entity{}, Entity{}, problem.New(problem.Invalid, "", "%q is new, so \"name\" is required", key)
		}
		e = Entity{Kind: kind, ID: id, Declared: f.Index}
	}
	if name != "" {
		e.Name = name
	}
	e.Index = f.Index
	e.Names = slices.Clone(e.Names)
	for _, n := range append([]string{name}, aliases...) {
		if n != "" && !slices.ContainsFunc(e.Names, func(x string) bool { return strings.EqualFold(x, n) }) {
			e.Names = append(e.Names, n)
		}
	}
	v, err := json.Marshal(view, json.Deterministic(true))
	if err != nil {
		return Entity{}, Entity{}, err
	}
	e.View = v
	return e, old, nil
}

// Commit stores an entity declared with Declare and derives its fact, and,
// for a kind found by name, a name fact for each name it did not have before
// (every name, for a correction).
func (f *Fold) Commit(e Entity) error {
	old, _ := f.Dir.Entity(e.Key())
	known := old.Names
	if f.Entry.Corrects != nil {
		// The corrected entry's name facts give way with it: say every
		// name again.
		known = nil
	}
	f.Dir.Declare(e)
	if !Named[e.Kind] {
		return f.Fact(FactEntity, e.Key(), "", e.Kind, true, e)
	}
	for _, n := range e.Names {
		if !slices.ContainsFunc(known, func(x string) bool { return strings.EqualFold(x, n) }) {
			if err := f.Fact(FactName, strings.ToLower(n), e.Key(), e.Kind, false, n); err != nil {
				return err
			}
		}
	}
	return f.Fact(FactEntity, e.Key(), "", e.Kind, true, e)
}

// ViewOf decodes an entity's view into v.
func ViewOf(e Entity, v any) error {
	if len(e.View) == 0 {
		return nil
	}
	return json.Unmarshal(e.View, v)
}
