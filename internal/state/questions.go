package state

import (
	"context"
	"sort"
	"time"

	"parley/internal/store"
	"parley/internal/vocab"
)

// Positions answers "where does each proposal stand, party by party, with
// conditions?": for the proposal named (or every proposal), each party's
// position, the statement it rests on, and the assessments made of it.
type Positions struct {
	Clock     Clock              `json:"clock"`
	Proposals []ProposalStanding `json:"proposals"`
}

// ProposalStanding is one proposal and the positions on it.
type ProposalStanding struct {
	Proposal    Ref           `json:"proposal"`
	Text        string        `json:"text"`
	Terms       []string      `json:"terms,omitempty"`
	Proposer    Ref           `json:"proposer,omitzero"`
	Positions   []PositionRow `json:"positions"`
	Assessments []AssessedRow `json:"assessments,omitempty"`
	Basis       Basis         `json:"basis"`
}

// PositionRow is one party's position.
type PositionRow struct {
	Party      Ref           `json:"party"`
	Stance     string        `json:"stance"`
	Conditions []string      `json:"conditions,omitempty"`
	Since      time.Time     `json:"since"`
	Statement  *StatementRow `json:"statement,omitempty"`
	Counter    *Ref          `json:"counter,omitempty"`
	Basis      Basis         `json:"basis"`
}

// AssessedRow is a judgement of the proposal or of a statement about it.
type AssessedRow struct {
	By    Ref       `json:"by"`
	Of    Ref       `json:"of"`
	Words []string  `json:"words"`
	Tone  string    `json:"tone"`
	Time  time.Time `json:"time"`
	Basis Basis     `json:"basis"`
}

// Positions answers question 1. proposal may be empty for every proposal.
func (a *Asker) Positions(ctx context.Context, c Clock, proposal string) (Positions, error) {
	return a.positions(ctx, c, proposal, 0)
}

// positions answers for the proposal named, or for every proposal — or,
// with a limit, for the limit proposals changed last.
func (a *Asker) positions(ctx context.Context, c Clock, proposal string, limit int) (Positions, error) {
	w := a.begin(ctx, c)
	out := Positions{Clock: c}
	var props []string
	if proposal != "" {
		e, err := w.resolve("proposal", proposal, vocab.Proposal)
		if err != nil {
			return out, err
		}
		props = []string{e.Key()}
	} else {
		err := facts(w, store.FactQuery{Kind: vocab.FactProposal, Latest: true, Desc: limit > 0, Limit: limit}, func(f store.Fact, _ *vocab.ProposalView) error {
			props = append(props, f.Subject)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	for _, key := range props {
		ps := ProposalStanding{Proposal: w.ref(key), Positions: []PositionRow{}}
		err := facts(w, store.FactQuery{Kind: vocab.FactProposal, Subject: key, Latest: true}, func(f store.Fact, v *vocab.ProposalView) error {
			ps.Text, ps.Terms, ps.Proposer, ps.Basis = v.Text, v.Terms, w.ref(v.Proposer), w.basis(f.Index)
			return nil
		})
		if err != nil {
			return out, err
		}
		if ps.Basis.Author == "" && c != (Clock{}) {
			continue // not yet on the record at that time
		}
		err = facts(w, store.FactQuery{Kind: vocab.FactPosition, Subject: key, Latest: true}, func(f store.Fact, v *vocab.PositionFact) error {
			row := PositionRow{Party: w.ref(v.Party), Stance: v.Stance, Conditions: v.Conditions, Since: f.Time, Basis: w.basis(f.Index)}
			if v.Statement != "" {
				s, err := w.statement(v.Statement)
				if err != nil {
					return err
				}
				row.Statement = s
			}
			if v.Counter != "" {
				r := w.ref(v.Counter)
				row.Counter = &r
			}
			ps.Positions = append(ps.Positions, row)
			return nil
		})
		if err != nil {
			return out, err
		}
		// Judgements of the proposal, and of statements about it.
		seen := map[int64]bool{}
		err = facts(w, store.FactQuery{Kind: vocab.FactAssessment, Subject: key}, func(f store.Fact, v *vocab.AssessmentFact) error {
			if !seen[f.Index] {
				seen[f.Index] = true
				ps.Assessments = append(ps.Assessments, AssessedRow{By: w.ref(v.By), Of: w.ref(v.Of), Words: v.Words, Tone: v.Tone, Time: f.Time, Basis: w.basis(f.Index)})
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		sort.Slice(ps.Positions, func(i, j int) bool { return ps.Positions[i].Party.Name < ps.Positions[j].Party.Name })
		out.Proposals = append(out.Proposals, ps)
	}
	return out, w.err
}

// StatementRow is who said what, verbatim, with source and confidence.
type StatementRow struct {
	Statement  Ref       `json:"statement"`
	Speaker    Ref       `json:"speaker"`
	For        Ref       `json:"for,omitzero"`
	Verb       string    `json:"verb"`
	Quote      string    `json:"quote,omitempty"`
	Paraphrase string    `json:"paraphrase,omitempty"`
	About      []Ref     `json:"about,omitempty"`
	Confidence string    `json:"confidence"`
	Time       time.Time `json:"time"`
	Basis      Basis     `json:"basis"`
}

// statement returns the statement entity of key as a row.
func (w *answer) statement(key string) (*StatementRow, error) {
	e := w.entity(key)
	var v vocab.StatementView
	if err := vocab.ViewOf(e, &v); err != nil {
		return nil, err
	}
	b := w.basis(e.Index)
	return &StatementRow{Statement: Ref{Key: key, Name: e.Name}, Speaker: w.ref(v.Speaker), For: w.ref(v.For), Verb: v.Verb,
		Quote: v.Quote, Paraphrase: v.Paraphrase, About: w.refs(v.About), Confidence: v.Confidence, Time: b.Time, Basis: b}, nil
}

// Statements answers question 5: who said what, filtered by speaker, by
// what it is about and by confidence, newest first, at most limit.
type Statements struct {
	Clock      Clock          `json:"clock"`
	Statements []StatementRow `json:"statements"`
	More       bool           `json:"more,omitzero"`
}

// StatementFilter narrows the statements asked for.
type StatementFilter struct {
	By         string
	About      string
	Confidence []string
	Limit      int
}

// Statements answers question 5.
func (a *Asker) Statements(ctx context.Context, c Clock, sf StatementFilter) (Statements, error) {
	w := a.begin(ctx, c)
	out := Statements{Clock: c, Statements: []StatementRow{}}
	q := store.FactQuery{Kind: vocab.FactStatement, Tags: sf.Confidence, Desc: true}
	if sf.By != "" {
		e, err := w.resolve("--by", sf.By, vocab.Actor)
		if err != nil {
			return out, err
		}
		q.Object = e.Key()
	}
	if sf.About != "" {
		e, err := w.resolve("--about", sf.About, vocab.Kinds...)
		if err != nil {
			return out, err
		}
		q.Subject = e.Key()
	}
	if sf.Limit <= 0 {
		sf.Limit = 100
	}
	seen := map[int64]bool{}
	err := facts(w, q, func(f store.Fact, v *vocab.StatementView) error {
		if seen[f.Index] {
			return nil
		}
		seen[f.Index] = true
		if len(out.Statements) == sf.Limit {
			out.More = true
			return errStop
		}
		b := w.basis(f.Index)
		out.Statements = append(out.Statements, StatementRow{Statement: w.ref(v.Key), Speaker: w.ref(v.Speaker), For: w.ref(v.For), Verb: v.Verb,
			Quote: v.Quote, Paraphrase: v.Paraphrase, About: w.refs(v.About), Confidence: v.Confidence, Time: f.Time, Basis: b})
		return nil
	})
	if err != nil && err != errStop {
		return out, err
	}
	return out, w.err
}

type stop struct{}

func (stop) Error() string { return "stop" }

// errStop ends a walk over facts early.
var errStop error = stop{}
