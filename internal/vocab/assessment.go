package vocab

import (
	"fmt"
	"strings"

	"parley/internal/entry"
)

// AssessmentBody is one actor's judgement of a proposal, a response or
// anything else on the record: "promising" but "not complete".
type AssessmentBody struct {
	By        string   `json:"by"`
	Of        string   `json:"of"`
	Words     []string `json:"words"`
	Tone      string   `json:"tone"`
	Statement string   `json:"statement,omitempty"`
}

// Tones are how favourable a judgement is.
var Tones = []string{"positive", "mixed", "negative"}

// AssessmentFact is an assessment as answers show it.
type AssessmentFact struct {
	By        string   `json:"by"`
	Of        string   `json:"of"`
	Words     []string `json:"words"`
	Tone      string   `json:"tone"`
	Statement string   `json:"statement,omitempty"`
}

var assessmentType = entry.Type{
	Name: "assessment",
	Doc:  "an actor's judgement of a proposal or a response, in their words",
	New:  func() entry.Body { return new(AssessmentBody) },
}

// Validate checks the words and tone.
func (b *AssessmentBody) Validate() error {
	if err := required("by", b.By); err != nil {
		return err
	}
	if err := required("of", b.Of); err != nil {
		return err
	}
	if len(b.Words) == 0 {
		return invalid(`"words" is required: the judgement in the assessor's words`)
	}
	if err := noEmpty("words", b.Words); err != nil {
		return err
	}
	return oneOf("tone", b.Tone, Tones)
}

// Fold records the assessment.
func (b *AssessmentBody) Fold(f *Fold) error {
	by, err := f.Resolve("by", b.By, Actor, Party)
	if err != nil {
		return err
	}
	of, err := f.Resolve("of", b.Of)
	if err != nil {
		return err
	}
	v := AssessmentFact{By: by.Key(), Of: of.Key(), Words: b.Words, Tone: b.Tone}
	if b.Statement != "" {
		s, err := f.Resolve("statement", b.Statement, Statement)
		if err != nil {
			return err
		}
		v.Statement = s.Key()
	}
	// A judgement of a statement about a proposal is also filed under the
	// proposal, so that the proposal's standing shows it.
	subjects := []string{of.Key()}
	if of.Kind == Statement {
		var sv StatementView
		if err := ViewOf(of, &sv); err != nil {
			return err
		}
		for _, a := range sv.About {
			if strings.HasPrefix(a, Proposal+"/") {
				subjects = append(subjects, a)
			}
		}
	}
	for _, subj := range subjects {
		if err := f.Fact(FactAssessment, subj, by.Key(), b.Tone, false, v); err != nil {
			return err
		}
	}
	q := make([]string, len(b.Words))
	for i, w := range b.Words {
		q[i] = fmt.Sprintf("%q", w)
	}
	f.Story("%s judged %s %s", by.Name, of.Name, strings.Join(q, " but "))
	// PLOVER does not code comments; CAMEO has optimistic (013) and
	// pessimistic (012) comments.
	return nil
}

// AssessmentCAMEO is the CAMEO code of a tone.
func AssessmentCAMEO(tone string) string {
	switch tone {
	case "positive":
		return "013"
	case "negative":
		return "012"
	}
	return "010"
}
