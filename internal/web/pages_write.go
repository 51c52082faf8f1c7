package web

// The pages for writing to the record: adding an entry (signed in the
// browser, with a key that never leaves it), one's account (keys and API
// tokens), administration, and confidential channels. The pages render
// from the record and its store; what they change, they change by calling
// the API from the browser (static/sign.js), with the session's CSRF token.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/vocab"
)

// The ways a field of an add form is entered. Each becomes one JSON shape
// in the body (sign.js builds it):
//
//	text, suggest, textarea, select, entity, id, datetime → a string
//	lines, entities, choices, chain                       → an array of strings
//	int, number                                           → an integer
//	decimal                                               → a number
//	ints                                                  → an array of integers
//	evidence                                              → an array of {"sha256": …}
//	group                                                 → an array of one object of its parts
//	sources                                               → the entry's sources
const (
	inText     = "text"     // one line of text
	inSuggest  = "suggest"  // one line of text, with suggestions
	inTextarea = "textarea" // free text
	inSelect   = "select"   // one of a fixed list
	inChoices  = "choices"  // several of a fixed list
	inEntity   = "entity"   // one existing entity, picked
	inEntities = "entities" // several existing entities, picked
	inChain    = "chain"    // existing entities in order, one picker each
	inID       = "id"       // the id an entry declares: new, or an existing one to update
	inLines    = "lines"    // a list, one item per line
	inInt      = "int"      // an entry index
	inInts     = "ints"     // entry indexes, one per line
	inNumber   = "number"   // a whole number, not negative: a count, a number of days
	inDecimal  = "decimal"  // a decimal number: a latitude, a longitude
	inEvidence = "evidence" // evidence files stored on the server, by SHA-256, one per line
	inGroup    = "group"    // an object of parts (a title, a characterisation, an incident)
	inDatetime = "datetime" // a time, UTC
	inSources  = "sources"  // the entry's sources, one per line
)

// chainPickers is how many pickers a chain field offers.
const chainPickers = 3

// A FormField is one input of an add form.
type FormField struct {
	// Name is the JSON member the field fills (of the body, or of the
	// group it is part of, or of the entry for time, sources, corrects).
	Name string
	// ID is the element's id and name: Name, or GROUP-NAME for a part.
	ID       string
	Label    string
	Hint     string
	Input    string
	Required bool
	// Options are the values of a select or choices, or the suggestions
	// of a suggest; Labels name those that are shown by another name than
	// their value.
	Options []string
	Labels  map[string]string
	// Kinds are the kinds of entity a picker offers, or an id declares.
	Kinds []string
	// Parts are a group's fields.
	Parts []FormField
	// PartOf is the group a part belongs to: its required fields are
	// required only when the group is filled in.
	PartOf string

	// Filled in for the page:

	// Choices are a picker's entities, by kind (an id's existing ones).
	Choices []PickerGroup
	// Chain are a chain's pickers' ids, in order.
	Chain []string
	// Value is the value the field starts with.
	Value string
}

// A PickerGroup is the entities of one kind a picker offers.
type PickerGroup struct {
	Kind    string
	Choices []PickerOption
}

// A PickerOption is one entity in a picker: its key is the value sent.
type PickerOption struct {
	Key  string // "kind/id"
	ID   string
	Name string
}

// Describes lists the field's hint and error elements, for aria-describedby.
func (f FormField) Describes() string {
	if f.Hint != "" {
		return f.ID + "-hint " + f.ID + "-error"
	}
	return f.ID + "-error"
}

// Multiple says whether the picker offers more than one kind, so that its
// options are grouped.
func (f FormField) Multiple() bool { return len(f.Choices) > 1 }

// OptionLabel is what an option of a select or choices is shown as.
func (f FormField) OptionLabel(value string) string {
	if l, ok := f.Labels[value]; ok {
		return l
	}
	return value
}

// maxChoicesShown is how many options of a choices field show at once.
const maxChoicesShown = 8

// Size is how many options of a choices field show at once: all, up to
// maxChoicesShown.
func (f FormField) Size() int { return min(len(f.Options), maxChoicesShown) }

// addTypes are the entry types of the negotiation the add page offers, in
// its order; monitoringTypes those of the ceasefire's monitoring.
var (
	addTypes = []string{"statement", "position", "proposal", "actor", "party", "talks", "meeting", "message", "relay",
		"assessment", "accusation", "request", "roster", "action", "track", "retraction", "note"}
	monitoringTypes = []string{"agreement", "report", "review", "duplicate"}
)

// The server's rules for who appends what (package server: maySubmit and
// mayMonitor), which the add page follows so as to offer each viewer only
// what the server takes from them: a monitor appends reports, reviews and
// duplicates only; only monitors (and admins, who relay anyone's entries)
// review and mark duplicates.
var (
	monitorAppends = []string{"report", "review", "duplicate"}
	onlyMonitors   = []string{"review", "duplicate"}
)

// mayAdd says whether the server takes entries of type typ from someone
// with the role.
func mayAdd(role, typ string) bool {
	switch role {
	case "admin":
		return true
	case "editor":
		return !slices.Contains(onlyMonitors, typ)
	case "monitor":
		return slices.Contains(monitorAppends, typ)
	}
	return false
}

// anyKind is what a field that may name any entity offers.
var anyKind = vocab.Kinds

// declaredIDField is the id a declaring entry gives; an existing id updates it.
func declaredIDField(kind, example string) FormField {
	return FormField{Name: "id", Label: "Id", Input: inID, Required: true, Kinds: []string{kind},
		Hint: "a short id such as " + example + " (lower-case letters, digits, - _ .); an existing id updates it"}
}

func declaredNameField(what string) FormField {
	return FormField{Name: "name", Label: "Name", Input: inText, Hint: "required for a new " + what}
}

func confidenceField(required bool) FormField {
	f := FormField{Name: "confidence", Label: "Confidence", Input: inSelect, Options: vocab.Confidences, Required: required,
		Hint: "confirmed, reported (“reportedly”), or alleged"}
	return f
}

func statementField() FormField {
	return FormField{Name: "statement", Label: "Statement it rests on", Input: inEntity, Kinds: []string{vocab.Statement}}
}

// addForms are the fields of each type's body, as its vocab file defines them.
var addForms = map[string][]FormField{
	"statement": {
		{Name: "speaker", Label: "Speaker", Input: inEntity, Kinds: []string{vocab.Actor}, Required: true},
		{Name: "verb", Label: "Verb", Input: inSuggest, Required: true, Hint: "said, stated, claimed, denied…",
			Options: []string{"said", "stated", "claimed", "denied", "told reporters", "accused", "welcomed", "rejected", "agreed", "requested", "warned"}},
		{Name: "quote", Label: "Quote", Input: inTextarea, Hint: "the exact words; a quote or a paraphrase is required"},
		{Name: "paraphrase", Label: "Paraphrase", Input: inTextarea, Hint: "what was said, in other words, where there is no exact quote"},
		{Name: "for", Label: "Speaking for", Input: inEntity, Kinds: []string{vocab.Party}, Hint: "the party the speaker speaks for; by default the speaker's own"},
		{Name: "about", Label: "About", Input: inEntities, Kinds: anyKind, Hint: "what the statement is about (pick several with Ctrl or ⌘)"},
		confidenceField(true),
		{Name: "id", Label: "Id", Input: inText, Hint: "an id to refer to the statement by; by default s and its entry number"},
	},
	"position": {
		{Name: "party", Label: "Party", Input: inEntity, Kinds: []string{vocab.Party}, Required: true},
		{Name: "proposal", Label: "Proposal", Input: inEntity, Kinds: []string{vocab.Proposal}, Required: true},
		{Name: "stance", Label: "Stance", Input: inSelect, Options: vocab.Stances, Required: true},
		{Name: "conditions", Label: "Conditions", Input: inLines, Hint: "one condition per line; required for accepts-with-conditions, none for accepts"},
		statementField(),
		{Name: "counter", Label: "Counter-proposal", Input: inEntity, Kinds: []string{vocab.Proposal}, Hint: "only for the stance counters"},
	},
	"proposal": {
		declaredIDField(vocab.Proposal, "ceasefire-30-day"),
		declaredNameField("proposal"),
		{Name: "text", Label: "Text", Input: inTextarea, Hint: "required for a new proposal"},
		{Name: "terms", Label: "Terms", Input: inLines, Hint: "one term per line"},
		{Name: "proposer", Label: "Proposer", Input: inEntity, Kinds: []string{vocab.Actor, vocab.Party}},
		{Name: "subject", Label: "Subject", Input: inSelect, Options: vocab.ProposalSubjects},
	},
	"actor": {
		declaredIDField(vocab.Actor, "witkoff"),
		declaredNameField("actor"),
		{Name: "kind", Label: "Kind", Input: inSelect, Options: vocab.ActorKinds, Hint: "required for a new actor"},
		{Name: "party", Label: "Party", Input: inEntity, Kinds: []string{vocab.Party}, Hint: "the party the actor belongs to or speaks for"},
		{Name: "titles", Label: "A title", Input: inGroup, Hint: "a title held, from and until a date if known; with a title, the fields marked * are required", Parts: []FormField{
			{Name: "title", Label: "Title", Input: inText, Required: true},
			{Name: "from", Label: "From", Input: inText, Hint: "a date such as 2025-03-20"},
			{Name: "until", Label: "Until", Input: inText, Hint: "a date such as 2025-03-20"},
		}},
		{Name: "aliases", Label: "Aliases", Input: inLines, Hint: "other names, one per line"},
		{Name: "members", Label: "Members", Input: inEntities, Kinds: []string{vocab.Actor}, Hint: "for a delegation: its actors"},
	},
	"party": {
		declaredIDField(vocab.Party, "ukraine"),
		declaredNameField("party"),
		{Name: "role", Label: "Role", Input: inSelect, Options: vocab.PartyRoles, Hint: "required for a new party"},
		{Name: "aliases", Label: "Aliases", Input: inLines, Hint: "other names, one per line"},
	},
	"talks": {
		declaredIDField(vocab.Talks, "riyadh-talks"),
		declaredNameField("talks"),
		{Name: "parties", Label: "Parties", Input: inEntities, Kinds: []string{vocab.Party}},
		{Name: "mediators", Label: "Mediators", Input: inEntities, Kinds: []string{vocab.Party, vocab.Actor}},
	},
	"meeting": {
		declaredIDField(vocab.Meeting, "riyadh-2025-03-24"),
		{Name: "name", Label: "Name", Input: inText, Hint: "by default “meeting in” its place"},
		{Name: "talks", Label: "Talks", Input: inEntity, Kinds: []string{vocab.Talks}},
		{Name: "place", Label: "Place", Input: inText},
		{Name: "attended", Label: "Attended", Input: inEntities, Kinds: []string{vocab.Actor}},
		{Name: "absent", Label: "Expected but absent", Input: inEntities, Kinds: []string{vocab.Actor}},
		{Name: "characterisations", Label: "What someone said of it", Input: inGroup, Hint: "who characterised the meeting, and how; if given, the fields marked * are required", Parts: []FormField{
			{Name: "by", Label: "By", Input: inEntity, Kinds: []string{vocab.Actor, vocab.Party}, Required: true},
			{Name: "words", Label: "Words", Input: inText, Required: true, Hint: "such as “good and productive”"},
			statementField(),
		}},
	},
	"message": {
		declaredIDField(vocab.Message, "putin-to-trump-1"),
		{Name: "from", Label: "From", Input: inEntity, Kinds: []string{vocab.Actor}, Required: true},
		{Name: "to", Label: "To", Input: inEntity, Kinds: []string{vocab.Actor}, Required: true},
		{Name: "via", Label: "Through", Input: inChain, Kinds: []string{vocab.Actor}, Hint: "the carriers, in the order the message passed through them"},
		{Name: "summary", Label: "Summary", Input: inText},
		{Name: "content", Label: "Content", Input: inTextarea, Hint: "the message's text, where the record has it"},
		confidenceField(false),
	},
	"relay": {
		{Name: "message", Label: "Message", Input: inEntity, Kinds: []string{vocab.Message}, Required: true},
		{Name: "event", Label: "What happened", Input: inSelect, Options: vocab.HopEvents, Required: true},
		{Name: "from", Label: "From", Input: inEntity, Kinds: []string{vocab.Actor}, Required: true},
		{Name: "to", Label: "To", Input: inEntity, Kinds: []string{vocab.Actor}, Required: true},
		confidenceField(false),
	},
	"assessment": {
		{Name: "by", Label: "By", Input: inEntity, Kinds: []string{vocab.Actor, vocab.Party}, Required: true},
		{Name: "of", Label: "Of", Input: inEntity, Kinds: anyKind, Required: true},
		{Name: "words", Label: "Words", Input: inLines, Required: true, Hint: "the judgement in the assessor's words, one per line (“promising”, “not complete”)"},
		{Name: "tone", Label: "Tone", Input: inSelect, Options: vocab.Tones, Required: true},
		statementField(),
	},
	"accusation": {
		{Name: "by", Label: "By", Input: inEntity, Kinds: []string{vocab.Actor, vocab.Party}, Required: true},
		{Name: "against", Label: "Against", Input: inEntity, Kinds: []string{vocab.Party, vocab.Actor}, Required: true},
		{Name: "charge", Label: "Charge", Input: inTextarea, Required: true, Hint: "what is charged, such as stalling so that the war goes on"},
		statementField(),
		confidenceField(false),
	},
	"request": {
		declaredIDField(vocab.Request, "exclude-kellogg"),
		{Name: "by", Label: "Asked by", Input: inEntity, Kinds: []string{vocab.Party, vocab.Actor}, Hint: "required for a new request"},
		{Name: "of", Label: "Asked of", Input: inEntity, Kinds: []string{vocab.Party, vocab.Actor}, Hint: "required for a new request"},
		{Name: "what", Label: "What", Input: inText, Hint: "required for a new request"},
		{Name: "kind", Label: "Kind", Input: inSelect, Options: vocab.RequestKinds},
		{Name: "concerning", Label: "Concerning", Input: inEntity, Kinds: []string{vocab.Actor}, Hint: "the actor the request is about"},
		{Name: "talks", Label: "Talks", Input: inEntity, Kinds: []string{vocab.Talks}},
		{Name: "outcome", Label: "Outcome", Input: inSelect, Options: vocab.Outcomes, Required: true},
		confidenceField(false),
	},
	"roster": {
		{Name: "talks", Label: "Talks", Input: inEntity, Kinds: []string{vocab.Talks}, Required: true},
		{Name: "actor", Label: "Actor", Input: inEntity, Kinds: []string{vocab.Actor}, Required: true},
		{Name: "status", Label: "Status", Input: inSelect, Options: vocab.RosterStatuses, Required: true},
		{Name: "meetings", Label: "Absent from", Input: inEntities, Kinds: []string{vocab.Meeting}, Hint: "the meetings the actor was absent from, if known"},
		{Name: "by", Label: "Excluded by", Input: inEntity, Kinds: []string{vocab.Party}, Hint: "the party whose decision excluded the actor"},
		{Name: "request", Label: "Request", Input: inEntity, Kinds: []string{vocab.Request}, Hint: "the request the exclusion answers"},
		{Name: "note", Label: "Note", Input: inText},
	},
	"action": {
		declaredIDField(vocab.Action, "trump-putin-call"),
		{Name: "what", Label: "What", Input: inText, Hint: "required for a new action"},
		{Name: "kind", Label: "Kind", Input: inSelect, Options: vocab.ActionKinds},
		{Name: "owner", Label: "Owner", Input: inEntity, Kinds: []string{vocab.Actor, vocab.Party}, Hint: "required for a new action"},
		{Name: "status", Label: "Status", Input: inSelect, Options: vocab.ActionStatuses, Required: true},
		{Name: "waits_on", Label: "Waits on", Input: inEntities, Kinds: []string{vocab.Action, vocab.Message}, Hint: "the actions, or messages (done when delivered), it waits on"},
		{Name: "due", Label: "Due", Input: inText, Hint: "a date (2025-03-20), a time (2025-03-20T15:00:00Z), or tbd when the timing is not set"},
	},
	"track": {
		declaredIDField(vocab.Track, "us-ukraine-intelligence"),
		declaredNameField("track"),
		{Name: "parties", Label: "Parties", Input: inEntities, Kinds: []string{vocab.Party}, Hint: "the two parties of the track"},
		{Name: "subject", Label: "Subject", Input: inText, Hint: "such as intelligence sharing"},
		{Name: "kind", Label: "Kind", Input: inSelect, Options: vocab.TrackKinds},
		{Name: "status", Label: "Status", Input: inSelect, Options: vocab.TrackStatuses, Required: true},
	},
	"retraction": {
		{Name: "entry", Label: "Entry retracted", Input: inInt, Required: true, Hint: "its number, such as 12"},
		{Name: "reason", Label: "Reason", Input: inTextarea, Required: true},
	},
	"note": {
		{Name: "text", Label: "Text", Input: inTextarea, Required: true},
		{Name: "about", Label: "About entries", Input: inInts, Hint: "the numbers of the entries the note is about, one per line"},
	},
	"agreement": {
		declaredIDField(vocab.Agreement, "ceasefire-2025-03"),
		declaredNameField("agreement"),
		{Name: "parties", Label: "Parties", Input: inEntities, Kinds: []string{vocab.Party}, Hint: "the parties it binds, at least two; required for a new agreement"},
		{Name: "proposal", Label: "Proposal", Input: inEntity, Kinds: []string{vocab.Proposal}, Hint: "the proposal it came from"},
		{Name: "start", Label: "Start", Input: inText, Hint: "a date (2025-03-20) or a time (2025-03-20T00:00:00Z); required for a new agreement"},
		{Name: "days", Label: "Days", Input: inNumber, Hint: "how long it runs from the start; none for open-ended"},
		{Name: "extend_days", Label: "Extended by (days)", Input: inNumber, Hint: "to lengthen an agreement on the record by that many days"},
		{Name: "scope", Label: "Scope", Input: inChoices, Options: vocab.AgreementScopes, Hint: "what it covers (pick several with Ctrl or ⌘); all-hostilities for a new agreement if none"},
		{Name: "region", Label: "Region", Input: inText, Hint: "the region it covers, required with the scope region"},
		{Name: "monitors", Label: "Monitors", Input: inEntities, Kinds: []string{vocab.Actor, vocab.Party}, Hint: "who monitor it"},
		{Name: "reporters", Label: "Reporters", Input: inEntities, Kinds: []string{vocab.Actor, vocab.Party}, Hint: "who may report violations; anyone, if none"},
		{Name: "status", Label: "Status", Input: inSelect, Options: vocab.AgreementStatuses, Hint: "in-force for a new agreement if none"},
		{Name: "note", Label: "Note", Input: inTextarea},
	},
	"report": {
		{Name: "id", Label: "Id", Input: inID, Required: true, Kinds: []string{vocab.Report},
			Hint: "a short id such as mission-0322 (lower-case letters, digits, - _ .): its incident is then incident/mission-0322.1; an existing id only with “Corrects entry”"},
		{Name: "agreement", Label: "Agreement", Input: inEntity, Kinds: []string{vocab.Agreement}, Required: true},
		{Name: "reported_by", Label: "Reported by", Input: inEntity, Kinds: []string{vocab.Actor, vocab.Party}, Hint: "required if the agreement names who may report: one of them"},
		{Name: "source", Label: "Source", Input: inText, Hint: "where the report comes from, such as a patrol or a hotline"},
		{Name: "incidents", Label: "The incident", Input: inGroup, Required: true, Hint: "what happened, when and where; the fields marked * are required", Parts: []FormField{
			{Name: "time", Label: "When (UTC)", Input: inDatetime, Required: true},
			{Name: "place", Label: "Place", Input: inText, Required: true, Hint: "the town or village"},
			{Name: "area", Label: "Area", Input: inText, Hint: "the region the counts group it under (an oblast); the place, if none"},
			{Name: "lat", Label: "Latitude", Input: inDecimal, Required: true, Hint: "in degrees, from -90 to 90, such as 48.398"},
			{Name: "lon", Label: "Longitude", Input: inDecimal, Required: true, Hint: "in degrees, from -180 to 180, such as 37.847"},
			{Name: "precision", Label: "Precision", Input: inSelect, Options: vocab.Precisions, Hint: "exact: the place itself; near: near it; region: only the region (near, if none)"},
			{Name: "categories", Label: "Categories", Input: inChoices, Required: true, Options: vocab.CategoryIDs, Labels: categoryLabels(),
				Hint: "what happened (pick several with Ctrl or ⌘); the first counts it in the daily report"},
			{Name: "weapons", Label: "Weapons", Input: inLines, Hint: "one per line, such as 152mm artillery"},
			{Name: "count", Label: "Count", Input: inNumber, Hint: "how many events of its kind (explosions, bursts); 1, if none"},
			{Name: "fatalities", Label: "Fatalities", Input: inNumber},
			{Name: "injured", Label: "Injured", Input: inNumber},
			{Name: "against", Label: "Alleged against", Input: inEntity, Kinds: []string{vocab.Party}, Hint: "a party to the agreement; unattributed, if none"},
			{Name: "notes", Label: "Notes", Input: inTextarea},
			evidenceField("of the incident"),
		}},
		evidenceField("of the whole report"),
	},
	"review": {
		{Name: "incident", Label: "Incident", Input: inEntity, Kinds: []string{vocab.Incident}, Required: true,
			Hint: incidentPickerHint + "; not one reported with a key of yours"},
		{Name: "status", Label: "New status", Input: inSelect, Options: vocab.ReviewStatuses, Required: true, Hint: reviewStepsHint()},
		{Name: "reasoning", Label: "Reasoning", Input: inTextarea, Required: true, Hint: "why: what was checked, and how"},
		evidenceField("the step rests on"),
	},
	"duplicate": {
		{Name: "incident", Label: "Incident", Input: inEntity, Kinds: []string{vocab.Incident}, Required: true,
			Hint: "the incident that is a duplicate (" + incidentPickerHint + "); not one reported with a key of yours"},
		{Name: "same_as", Label: "Same as", Input: inEntity, Kinds: []string{vocab.Incident}, Required: true,
			Hint: "the incident it is the same as: of the same agreement, and not itself a duplicate"},
		{Name: "reason", Label: "Reason", Input: inTextarea, Required: true},
	},
}

// incidentPickerHint says what an incident picker offers.
var incidentPickerHint = fmt.Sprintf("up to the %d newest incidents, each by its id and its status now", maxNewest)

// evidenceField is the evidence an entry, or a part of it, rests on.
func evidenceField(what string) FormField {
	return FormField{Name: "evidence", Label: "Evidence", Input: inEvidence,
		Hint: "files " + what + ", one per line: its SHA-256, then optionally its name (as sha256sum writes them); each must be stored here first (parley evidence add --server, or POST /api/v1/evidence)"}
}

// categoryLabels are what the categories of incident are called.
func categoryLabels() map[string]string {
	out := make(map[string]string, len(vocab.Categories))
	for _, c := range vocab.Categories {
		out[c.ID] = c.Label
	}
	return out
}

// reviewStepsHint says where a review may take an incident from each
// status, as the workflow allows: "from reported, …: under-review; from
// under-review: verified, …".
func reviewStepsHint() string {
	var nexts []string
	from := map[string][]string{}
	for _, st := range vocab.IncidentStatuses {
		next := strings.Join(vocab.NextStatuses[st], ", ")
		if next == "" {
			continue
		}
		if _, ok := from[next]; !ok {
			nexts = append(nexts, next)
		}
		from[next] = append(from[next], st)
	}
	steps := make([]string, len(nexts))
	for i, next := range nexts {
		steps[i] = "from " + strings.Join(from[next], ", ") + ": " + next
	}
	return strings.Join(steps, "; ")
}

// entryFields are the fields of the entry itself, after the body's.
func entryFields(now time.Time) []FormField {
	return []FormField{
		{Name: "time", ID: "time", Label: "Time it describes (UTC)", Input: inDatetime, Required: true,
			Hint: "when it was said or happened", Value: now.UTC().Format("2006-01-02T15:04")},
		{Name: "sources", ID: "sources", Label: "Sources", Input: inSources,
			Hint: "one per line: a URL or a citation, then optionally | and the words quoted from it"},
		{Name: "corrects", ID: "corrects", Label: "Corrects entry", Input: inInt,
			Hint: "the number of an earlier entry of the same type this one corrects, if any"},
	}
}

// FormFieldSpec is a field as sign.js reads it, to build the body.
type FormFieldSpec struct {
	Name     string          `json:"name"`
	ID       string          `json:"id"`
	Label    string          `json:"label"`
	Input    string          `json:"input"`
	Required bool            `json:"required,omitempty"`
	Parts    []FormFieldSpec `json:"parts,omitempty"`
	Chain    []string        `json:"chain,omitempty"`
}

// FormSpec is an add form as sign.js reads it.
type FormSpec struct {
	Type  string          `json:"type"`
	Body  []FormFieldSpec `json:"body"`
	Entry []FormFieldSpec `json:"entry"`
}

func fieldSpecs(fs []FormField) []FormFieldSpec {
	out := make([]FormFieldSpec, len(fs))
	for i, f := range fs {
		out[i] = FormFieldSpec{Name: f.Name, ID: f.ID, Label: f.Label, Input: f.Input, Required: f.Required, Parts: fieldSpecs(f.Parts), Chain: f.Chain}
	}
	return out
}

// AddType is one kind of entry on the add page.
type AddType struct {
	Name string
	Doc  string
}

// AddIndexView is the add page: the kinds of entry the viewer may add, of
// the negotiation and of the ceasefire's monitoring.
type AddIndexView struct {
	Negotiation []AddType
	Monitoring  []AddType
	// Monitor says the viewer is a monitor, who files and reviews
	// incident reports only.
	Monitor bool
}

// AddFormView is a form to add one type of entry.
type AddFormView struct {
	Type    string
	Doc     string
	Account string
	Fields  []FormField
	Entry   []FormField
	Spec    FormSpec
	// Keys are the viewer's registered, unrevoked keys ("name+hash"): the
	// browser's key must be one of them to sign.
	Keys []string
}

// AddIndex lists the types of entry the viewer may add: an editor those of
// the negotiation, agreements and reports; a monitor reports, reviews and
// duplicates; an admin all.
func (s *Site) AddIndex(w http.ResponseWriter, r *http.Request) error {
	viewer := viewerOf(r.Context())
	v := AddIndexView{Monitor: viewer.Role == "monitor"}
	for _, name := range addTypes {
		if mayAdd(viewer.Role, name) {
			v.Negotiation = append(v.Negotiation, AddType{Name: name, Doc: s.typeDoc(name)})
		}
	}
	for _, name := range monitoringTypes {
		if mayAdd(viewer.Role, name) {
			v.Monitoring = append(v.Monitoring, AddType{Name: name, Doc: s.typeDoc(name)})
		}
	}
	return s.render(w, r, http.StatusOK, "add", Page{Title: "Add an entry", Nav: "add", Body: v})
}

func (s *Site) typeDoc(name string) string {
	if t, ok := s.rec.Log.Types().Lookup(name); ok {
		return t.Doc
	}
	return ""
}

// AddForm is the form for one type of entry: its fields, with pickers of
// the entities on the record, and the entry's time, sources and the entry
// it corrects. The browser builds, previews, signs and posts the entry.
func (s *Site) AddForm(w http.ResponseWriter, r *http.Request) error {
	typ := r.PathValue("type")
	form, ok := addForms[typ]
	if !ok {
		return problem.New(problem.NotFound, "type", "no entry type %.40q can be added here: see /add for those that can", typ)
	}
	viewer := viewerOf(r.Context())
	if !mayAdd(viewer.Role, typ) {
		if viewer.Role == "monitor" {
			return problem.New(problem.Forbidden, "type", "a monitor files and reviews incident reports; %s entries are for editors: see /add for those you may add", typ)
		}
		return problem.New(problem.Forbidden, "type", "only monitors review incidents and mark duplicates; %s is %s: see /add for what you may add", viewer.Name, viewer.Role)
	}
	ents, err := s.entitiesByKind(r.Context())
	if err != nil {
		return err
	}
	v := AddFormView{Type: typ, Doc: s.typeDoc(typ), Account: viewer.Name, Keys: s.activeKeys(viewer.Name)}
	v.Fields = fillFields(form, "", ents, viewer)
	v.Entry = entryFields(s.rec.Log.Now())
	v.Spec = FormSpec{Type: typ, Body: fieldSpecs(v.Fields), Entry: fieldSpecs(v.Entry)}
	return s.render(w, r, http.StatusOK, "addform", Page{Title: "Add " + typ, Nav: "add", Body: v})
}

// fill makes the page's copy of a form's fields: element ids, pickers'
// entities, and the editor's own party preselected.
func fillFields(fs []FormField, group string, ents map[string][]PickerOption, viewer Viewer) []FormField {
	out := make([]FormField, len(fs))
	for i, f := range fs {
		f.ID = f.Name
		if group != "" {
			f.ID, f.PartOf = group+"-"+f.Name, group
		}
		for _, k := range f.Kinds {
			f.Choices = append(f.Choices, PickerGroup{Kind: k, Choices: ents[k]})
		}
		if f.Input == inChain {
			for n := range chainPickers {
				f.Chain = append(f.Chain, f.ID+"-"+string(rune('0'+n)))
			}
		}
		if f.Input == inEntity && f.Name == "party" && viewer.Party != "" && slices.Equal(f.Kinds, []string{vocab.Party}) {
			f.Value = vocab.Party + "/" + viewer.Party
		}
		f.Parts = fillFields(f.Parts, f.ID, ents, viewer)
		out[i] = f
	}
	return out
}

// maxNewest is how many statements, and how many incidents, a picker
// offers, newest first: there may be many thousands.
const maxNewest = 500

// entitiesByKind lists the entities on the record now, by kind: statements
// and incidents newest first, the others by name. An incident is shown by
// its id and status before its name, which is not unique.
func (s *Site) entitiesByKind(ctx context.Context) (map[string][]PickerOption, error) {
	type ent struct {
		choice PickerOption
		index  int64
		view   jsontext.Value // an incident's, for its status
	}
	by := map[string][]ent{}
	err := s.rec.Store().Facts(ctx, store.FactQuery{Kind: vocab.FactEntity, Latest: true}, func(f store.Fact) error {
		var e vocab.Entity
		if err := json.Unmarshal(f.Data, &e); err != nil {
			return err
		}
		x := ent{choice: PickerOption{Key: e.Key(), ID: e.ID, Name: e.Name}, index: e.Declared}
		if e.Kind == vocab.Incident {
			x.view = e.View
		}
		by[e.Kind] = append(by[e.Kind], x)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string][]PickerOption{}
	for kind, es := range by {
		if kind == vocab.Statement || kind == vocab.Incident {
			slices.SortFunc(es, func(a, b ent) int {
				return cmp.Or(cmp.Compare(b.index, a.index), cmp.Compare(a.choice.Key, b.choice.Key))
			})
			es = es[:min(len(es), maxNewest)]
		} else {
			slices.SortFunc(es, func(a, b ent) int {
				return cmp.Or(cmp.Compare(strings.ToLower(a.choice.Name), strings.ToLower(b.choice.Name)), cmp.Compare(a.choice.Key, b.choice.Key))
			})
		}
		for _, e := range es {
			if kind == vocab.Incident {
				var v struct {
					Status string `json:"status"`
				}
				if err := json.Unmarshal(e.view, &v); err != nil {
					return nil, fmt.Errorf("incident %s: %w", e.choice.ID, err)
				}
				e.choice.Name = e.choice.ID + " · " + v.Status + " · " + e.choice.Name
			}
			out[kind] = append(out[kind], e.choice)
		}
	}
	return out, nil
}

// holderOf is how the server names an account as the holder of the keys
// it registers for it.
func holderOf(account string) string { return "account:" + account }

// SigningKeyRow is a registered signing key.
type SigningKeyRow struct {
	ID         string
	VKey       string
	Holder     string
	Registered int64
	Revoked    int64 // the entry that revoked it, or -1
	// Operator marks the record's own key, which signs checkpoints and
	// registrations: it is not revoked from a page.
	Operator bool
}

// Active says the key still signs.
func (k SigningKeyRow) Active() bool { return k.Revoked < 0 }

// keyRows lists the registered keys held by holder ("" for all), in the
// order they were registered.
func (s *Site) keyRows(holder string) []SigningKeyRow {
	opID := verifierKeyID(s.rec.Log.OperatorKey())
	var out []SigningKeyRow
	for _, k := range s.rec.Log.Keys() {
		if holder != "" && k.Holder != holder {
			continue
		}
		out = append(out, SigningKeyRow{ID: k.ID, VKey: k.VKey, Holder: k.Holder, Registered: k.Registered, Revoked: k.Revoked, Operator: k.ID == opID})
	}
	slices.SortFunc(out, func(a, b SigningKeyRow) int { return cmp.Compare(a.Registered, b.Registered) })
	return out
}

// activeKeys lists the ids of the account's keys that still sign.
func (s *Site) activeKeys(account string) []string {
	out := []string{}
	for _, k := range s.keyRows(holderOf(account)) {
		if k.Active() {
			out = append(out, k.ID)
		}
	}
	return out
}

// APITokenRow is an API token, without its secret.
type APITokenRow struct {
	ID      string
	Label   string
	Created time.Time
}

// AccountView is one's own account: who, keys, tokens.
type AccountView struct {
	Name      string
	Role      string
	Party     string
	Created   time.Time
	Recipient string
	Keys      []SigningKeyRow
	// ActiveKeys are the ids of Keys that still sign, for the page's script.
	ActiveKeys []string
	Tokens     []APITokenRow
}

// Account shows one's account: name, role and party; the signing keys
// registered under it, with a button to make one in this browser and to
// revoke each; API tokens, to make and revoke.
func (s *Site) Account(w http.ResponseWriter, r *http.Request) error {
	viewer := viewerOf(r.Context())
	a, _, err := s.rec.Store().Account(r.Context(), viewer.Name)
	if err != nil {
		return err
	}
	v := AccountView{Name: a.Name, Role: a.Role, Party: a.Party, Created: a.Created, Recipient: a.Recipient,
		Keys: s.keyRows(holderOf(a.Name)), ActiveKeys: s.activeKeys(a.Name)}
	ts, err := s.rec.Store().Tokens(r.Context(), a.Name)
	if err != nil {
		return err
	}
	for _, t := range ts {
		v.Tokens = append(v.Tokens, APITokenRow{ID: t.ID, Label: t.Label, Created: t.Created})
	}
	return s.render(w, r, http.StatusOK, "account", Page{Title: "Your account", Nav: "account", Body: v})
}

// AccountRoles are the roles an admin may give, most trusted first.
var AccountRoles = []string{"admin", "editor", "monitor", "reader"}

// AdminView is the admin page: people, channels, keys.
type AdminView struct {
	Accounts []store.Account
	Roles    []string
	// Parties are the parties on the record an account may act for (ids).
	Parties  []PickerOption
	Channels []ChannelRow
	Keys     []SigningKeyRow
}

// ChannelRow is a channel in a list.
type ChannelRow struct {
	ID      string
	Name    string
	Creator string
	Created time.Time
	Epoch   int64
	Members int
}

// Admin shows the accounts (to create, change and disable), the admin's own
// channels (a channel is hidden from everyone not in it, admins too) and
// every registered key (to revoke).
func (s *Site) Admin(w http.ResponseWriter, r *http.Request) error {
	viewer := viewerOf(r.Context())
	if !viewer.IsAdmin() {
		return problem.New(problem.Forbidden, "", "only an admin may see this page; %s is %s", viewer.Name, viewer.Role)
	}
	ctx := r.Context()
	as, err := s.rec.Store().ListAccounts(ctx)
	if err != nil {
		return err
	}
	ents, err := s.entitiesByKind(ctx)
	if err != nil {
		return err
	}
	v := AdminView{Accounts: as, Roles: AccountRoles, Keys: s.keyRows("")}
	for _, p := range ents[vocab.Party] {
		v.Parties = append(v.Parties, p)
	}
	if v.Channels, err = s.channelRows(ctx, viewer.Name); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin", Page{Title: "Administration", Nav: "admin", Body: v})
}

func (s *Site) channelRows(ctx context.Context, account string) ([]ChannelRow, error) {
	cs, err := s.rec.Store().ChannelsOf(ctx, account)
	if err != nil {
		return nil, err
	}
	var out []ChannelRow
	for _, c := range cs {
		out = append(out, ChannelRow{ID: c.ID, Name: c.Name, Creator: c.Creator, Created: c.Created, Epoch: c.Epoch, Members: len(c.Members)})
	}
	return out, nil
}

// ChannelsView is the viewer's channels.
type ChannelsView struct {
	Channels []ChannelRow
}

// Channels lists the confidential channels the viewer is a member of.
func (s *Site) Channels(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.channelRows(r.Context(), viewerOf(r.Context()).Name)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "channels", Page{Title: "Channels", Nav: "channels", Body: ChannelsView{Channels: rows}})
}

// ChannelView is one channel, for a member: its members and the entries
// posted to it, whose content only members can decrypt.
type ChannelView struct {
	Channel store.Channel
	Entries []store.Sealed
}

// channelIDPattern is what a channel's id looks like.
var channelIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// noSuchChannel is the one answer to anyone who may not see a channel, whether
// it exists or not, as the API gives it.
func noSuchChannel(id string) error {
	return problem.New(problem.NotFound, "", "no such channel %.40q", id)
}

// Channel shows a channel to its members; to anyone else it does not exist.
func (s *Site) Channel(w http.ResponseWriter, r *http.Request) error {
	viewer := viewerOf(r.Context())
	id := r.PathValue("id")
	if !viewer.SignedIn() || !channelIDPattern.MatchString(id) {
		return noSuchChannel(id)
	}
	ch, err := s.rec.Store().Channel(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return noSuchChannel(id)
	case err != nil:
		return err
	case !ch.Has(viewer.Name):
		return noSuchChannel(id)
	}
	xs, err := s.rec.Store().SealedEntries(r.Context(), ch.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "channel", Page{Title: ch.Name, Nav: "channels", Body: ChannelView{Channel: ch, Entries: xs}})
}

// verifierKeyID is the "name+hash" of a verifier key "name+hash+base64".
func verifierKeyID(vkey string) string {
	name, rest, _ := strings.Cut(vkey, "+")
	hash, _, _ := strings.Cut(rest, "+")
	return name + "+" + hash
}
