package vocab

import "parley/internal/entry"

// AccusationBody is one side accusing another: of stalling so that the war
// goes on, of aggression, of bad faith.
type AccusationBody struct {
	By         string `json:"by"`
	Against    string `json:"against"`
	Charge     string `json:"charge"`
	Statement  string `json:"statement,omitempty"`
	Confidence string `json:"confidence,omitempty"`
}

// AccusationFact is an accusation as answers show it.
type AccusationFact struct {
	By         string `json:"by"`
	Against    string `json:"against"`
	Charge     string `json:"charge"`
	Statement  string `json:"statement,omitempty"`
	Confidence string `json:"confidence"`
}

var accusationType = entry.Type{
	Name: "accusation",
	Doc:  "one party or actor accusing another",
	New:  func() entry.Body { return new(AccusationBody) },
}

// Validate checks the parties to it and the charge.
func (b *AccusationBody) Validate() error {
	if err := required("by", b.By); err != nil {
		return err
	}
	if err := required("against", b.Against); err != nil {
		return err
	}
	if err := required("charge", b.Charge); err != nil {
		return err
	}
	return optionalOneOf("confidence", b.Confidence, Confidences)
}

// Fold records the accusation.
func (b *AccusationBody) Fold(f *Fold) error {
	by, err := f.Resolve("by", b.By, Actor, Party)
	if err != nil {
		return err
	}
	against, err := f.Resolve("against", b.Against, Party, Actor)
	if err != nil {
		return err
	}
	v := AccusationFact{By: by.Key(), Against: against.Key(), Charge: b.Charge, Confidence: confidence(b.Confidence)}
	if b.Statement != "" {
		s, err := f.Resolve("statement", b.Statement, Statement)
		if err != nil {
			return err
		}
		v.Statement = s.Key()
	}
	if err := f.Fact(FactAccusation, against.Key(), by.Key(), v.Confidence, false, v); err != nil {
		return err
	}
	f.Story("%s accused %s: %s [%s]", by.Name, against.Name, b.Charge, v.Confidence)
	return f.Event(Coding{Event: "ACCUSE", Mode: []string{"allege"}, CAMEO: "112"}, by, against, b.Charge)
}
