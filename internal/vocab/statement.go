package vocab

import (
	"fmt"
	"strings"

	"parley/internal/entry"
)

// StatementBody records who said what: the exact quote or a paraphrase, the
// verb the source used, what it is about, and how sure the record is. The
// entry's time is when it was said; its sources are where it was reported.
type StatementBody struct {
	// ID is optional; a statement without one is referred to as "#N", N
	// being its entry.
	ID      string `json:"id,omitempty"`
	Speaker string `json:"speaker"`
	// For is the party the speaker spoke for, if not their own.
	For        string   `json:"for,omitempty"`
	Verb       string   `json:"verb"`
	Quote      string   `json:"quote,omitempty"`
	Paraphrase string   `json:"paraphrase,omitempty"`
	About      []string `json:"about,omitempty"`
	Confidence string   `json:"confidence"`
}

// StatementView is a statement as answers show it.
type StatementView struct {
	// Key is the statement's own key, "statement/id".
	Key        string   `json:"key"`
	Speaker    string   `json:"speaker"`
	For        string   `json:"for,omitempty"`
	Verb       string   `json:"verb"`
	Quote      string   `json:"quote,omitempty"`
	Paraphrase string   `json:"paraphrase,omitempty"`
	About      []string `json:"about,omitempty"`
	Confidence string   `json:"confidence"`
}

var statementType = entry.Type{
	Name: "statement",
	Doc:  "who said what: speaker, verb, quote or paraphrase, about, confidence",
	New:  func() entry.Body { return new(StatementBody) },
}

// Validate checks that there is something said and a confidence.
func (b *StatementBody) Validate() error {
	if b.ID != "" {
		if err := checkID("id", b.ID); err != nil {
			return err
		}
	}
	if err := required("speaker", b.Speaker); err != nil {
		return err
	}
	if err := required("verb", b.Verb); err != nil {
		return err
	}
	if strings.TrimSpace(b.Quote) == "" && strings.TrimSpace(b.Paraphrase) == "" {
		return invalid(`"quote" or "paraphrase" is required: what was said`)
	}
	return oneOf("confidence", b.Confidence, Confidences)
}

// Fold records the statement and derives one fact per thing it is about.
func (b *StatementBody) Fold(f *Fold) error {
	sp, err := f.Resolve("speaker", b.Speaker, Actor)
	if err != nil {
		return err
	}
	v := StatementView{Speaker: sp.Key(), Verb: b.Verb, Quote: b.Quote, Paraphrase: b.Paraphrase, Confidence: b.Confidence}
	var party Entity
	if b.For != "" {
		if party, err = f.Resolve("for", b.For, Party); err != nil {
			return err
		}
		v.For = party.Key()
	} else {
		var av ActorView
		if err := ViewOf(sp, &av); err == nil && av.Party != "" {
			v.For = av.Party
			party, _ = f.Dir.Entity(av.Party)
		}
	}
	about, err := f.ResolveAll("about", b.About)
	if err != nil {
		return err
	}
	v.About = keys(about)
	id := b.ID
	if id == "" {
		id = UnnamedStatement(f.Index)
	}
	v.Key = Statement + "/" + id
	if old, ok := f.Dir.Entity(Statement + "/" + id); ok && f.Entry.Corrects == nil {
		return invalid("statement id %q is taken by entry %d", id, old.Declared)
	}
	e, _, err := f.Declare(Statement, id, fmt.Sprintf("%s %s: %s", sp.Name, b.Verb, said(b.Quote, b.Paraphrase)), nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	subjects := v.About
	if len(subjects) == 0 {
		subjects = []string{NoSubject}
	}
	for _, s := range subjects {
		if err := f.Fact(FactStatement, s, sp.Key(), b.Confidence, false, v); err != nil {
			return err
		}
	}
	f.Story("%s %s: %s [%s]", sp.Name, b.Verb, said(b.Quote, b.Paraphrase), b.Confidence)
	var target Entity
	for _, a := range about {
		if a.Kind == Party || a.Kind == Actor {
			target = a
			break
		}
	}
	if party.ID == "" {
		party = sp
	}
	return f.Event(verbCoding(b.Verb), party, target, firstOf(b.Quote, b.Paraphrase))
}

// said is a quote in quotation marks, or a paraphrase.
func said(quote, paraphrase string) string {
	if paraphrase == "" {
		return fmt.Sprintf("%q", quote)
	}
	return paraphrase
}

// verbCoding codes a statement by its verb where the verb is an act PLOVER
// knows; a plain "said" is CAMEO 010 and not a PLOVER event (PLOVER does
// not code public statements).
func verbCoding(verb string) Coding {
	switch strings.ToLower(verb) {
	case "accused", "blamed", "charged", "alleged":
		return Coding{Event: "ACCUSE", Mode: []string{"allege"}, CAMEO: "112"}
	case "criticized", "criticised", "denounced", "condemned":
		return Coding{Event: "ACCUSE", Mode: []string{"disapprove"}, CAMEO: "111"}
	case "rejected", "dismissed", "refused":
		return Coding{Event: "REJECT", CAMEO: "120"}
	case "agreed", "accepted":
		return Coding{Event: "AGREE", Context: []string{"diplomatic"}, CAMEO: "030"}
	case "welcomed", "praised", "endorsed":
		return Coding{Event: "SUPPORT", Context: []string{"diplomatic"}, CAMEO: "051"}
	case "requested", "asked", "demanded", "urged":
		return Coding{Event: "REQUEST", CAMEO: "020"}
	case "threatened", "warned":
		return Coding{Event: "THREATEN", CAMEO: "130"}
	}
	return Coding{CAMEO: "010"}
}

// UnnamedStatement is the id of the statement entry index declared without
// one.
func UnnamedStatement(index int64) string { return fmt.Sprintf("s%d", index) }
