package gen

import (
	"fmt"
	"slices"
	"strings"

	"parley/internal/vocab"
)

// correct writes a correction of a recent entry: an entry of the same type
// that names it in "corrects", describes the same time, and, for an entity,
// keeps its id. Only an entry not yet corrected or retracted, and still the
// latest word on what it is about, is corrected: a correction of an older
// one would put back what a later entry changed.
func (g *gen) correct() bool {
	for range 8 {
		if len(g.recent) == 0 {
			return false
		}
		p := &g.recent[g.r.IntN(len(g.recent))]
		if p.voided || p.typ == "retraction" || (p.key != key{} && g.latest[p.key] != p.index) {
			continue
		}
		body, quote := g.corrected(p)
		if body == nil {
			continue
		}
		p.voided = true
		t := *p // put may reuse p's slot
		g.put(out{typ: t.typ, party: t.party, body: body, quote: "corrected: " + quote, key: t.key, corrects: &t.index, at: t.at})
		return true
	}
	return false
}

// corrected returns the body of a correction of p, and what its source
// quotes, or nil if p is not worth correcting.
func (g *gen) corrected(p *past) (any, string) {
	switch b := p.body.(type) {
	case *vocab.StatementBody:
		c := *b
		if c.ID == "" {
			// The statement was known by its entry; the correction keeps
			// the id the record gave it.
			c.ID = fmt.Sprintf("s%d", p.index)
		}
		c.Confidence = g.otherConfidence(b.Confidence)
		return &c, firstOf(c.Quote, c.Paraphrase)
	case *vocab.PositionBody:
		c := *b
		st := g.nextStance(int8(slices.Index(vocab.Stances, b.Stance)))
		c.Stance = vocab.Stances[st]
		c.Conditions = g.conditionsFor(c.Stance)
		c.Counter = ""
		g.proposals[p.key.a].stance[p.key.b] = st
		return &c, c.Party + " " + c.Stance
	case *vocab.MessageBody:
		c := *b
		c.Confidence = g.otherConfidence(b.Confidence)
		return &c, c.Summary
	case *vocab.RelayBody:
		c := *b
		c.Confidence = g.otherConfidence(b.Confidence)
		return &c, "the message was " + c.Event + " to " + c.To
	case *vocab.MeetingBody:
		c := *b
		for c.Place == b.Place {
			c.Place = pick(g.r, places)
		}
		c.Name = strings.Replace(b.Name, b.Place, c.Place, 1)
		return &c, "the meeting took place in " + c.Place
	case *vocab.ActorBody:
		a := &g.actors[p.key.a]
		if a.kind != "person" || strings.Contains(a.name, ".") {
			return nil, ""
		}
		// The name was misspelt: it had no middle initial.
		old := a.name
		sp := strings.IndexByte(old, ' ')
		a.name = old[:sp] + " " + string(rune('A'+g.r.IntN(26))) + "." + old[sp:]
		return &vocab.ActorBody{ID: a.id, Name: a.name, Aliases: []string{old}}, a.name
	case *vocab.PartyBody:
		pt := &g.parties[p.key.a]
		return &vocab.PartyBody{ID: pt.id, Role: pt.role, Aliases: []string{"the " + pt.name + " side"}}, pt.name
	case *vocab.TalksBody:
		tk := &g.talks[p.key.a]
		if strings.HasSuffix(tk.name, "negotiations") {
			return nil, ""
		}
		tk.name = strings.TrimSuffix(tk.name, "talks") + "negotiations"
		return &vocab.TalksBody{ID: tk.id, Name: tk.name}, tk.name
	case *vocab.ProposalBody:
		pr := &g.proposals[p.key.a]
		text := fmt.Sprintf("The %s as published in %s, covering %s.", pr.name, g.talks[pr.talks].name, pr.topic)
		return &vocab.ProposalBody{ID: pr.id, Text: text}, text
	case *vocab.ActionBody:
		c := *b
		for c.Due == b.Due {
			c.Due = g.due()
		}
		return &c, c.ID + ": " + c.Status
	case *vocab.RequestBody:
		c := *b
		c.Confidence = g.otherConfidence(b.Confidence)
		return &c, "the request was " + c.Outcome
	case *vocab.TrackBody:
		tr := &g.tracks[p.key.a]
		c := *b
		c.Name = fmt.Sprintf("%s between %s and %s", tr.subject, g.parties[tr.a].name, g.parties[tr.b].name)
		if c.Name == b.Name {
			return nil, ""
		}
		return &c, c.Name
	case *vocab.RosterBody:
		c := *b
		for c.Note == b.Note {
			c.Note = pick(g.r, rosterNotes)
		}
		return &c, c.Note
	case *vocab.AssessmentBody:
		c := *b
		for c.Tone == b.Tone {
			c.Tone = pick(g.r, vocab.Tones)
		}
		c.Words = g.words(c.Tone)
		return &c, judged(c.Words, c.Tone)
	case *vocab.AccusationBody:
		c := *b
		c.Confidence = g.otherConfidence(b.Confidence)
		return &c, c.Charge
	}
	return nil, ""
}

// retract writes a retraction of a recent statement or position that is not
// already corrected or retracted.
func (g *gen) retract() bool {
	for range 8 {
		if len(g.recent) == 0 {
			return false
		}
		p := &g.recent[g.r.IntN(len(g.recent))]
		if p.voided || (p.typ != "statement" && p.typ != "position") {
			continue
		}
		p.voided = true
		if g.latest[p.key] == p.index {
			delete(g.latest, p.key)
		}
		reason := pick(g.r, retractReasons[:4])
		if b, ok := p.body.(*vocab.StatementBody); ok {
			// Later entries no longer rest on it.
			id := b.ID
			if id == "" {
				id = fmt.Sprintf("s%d", p.index)
			}
			g.stmts = slices.DeleteFunc(g.stmts, func(s stmt) bool { return s.entity == "statement/"+id })
		} else {
			reason = retractReasons[4]
		}
		t := *p
		g.put(out{typ: "retraction", party: t.party, body: &vocab.RetractionBody{Entry: t.index, Reason: reason}, quote: reason})
		return true
	}
	return false
}

// otherConfidence returns a confidence other than c (which may be empty,
// meaning confirmed).
func (g *gen) otherConfidence(c string) string {
	if c == "" {
		c = "confirmed"
	}
	for {
		if x := g.confidence(); x != c {
			return x
		}
	}
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
