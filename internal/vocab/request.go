package vocab

import "parley/internal/entry"

// RequestBody records one party asking something of another (to exclude an
// envoy from the talks) and, in later entries with the same id, its outcome.
type RequestBody struct {
	ID   string `json:"id"`
	By   string `json:"by,omitempty"`
	Of   string `json:"of,omitempty"`
	What string `json:"what,omitempty"`
	// Kind is exclude, include, aid, meeting or other.
	Kind string `json:"kind,omitempty"`
	// Concerning is the actor the request is about, such as the envoy to exclude.
	Concerning string `json:"concerning,omitempty"`
	Talks      string `json:"talks,omitempty"`
	Outcome    string `json:"outcome"`
	Confidence string `json:"confidence,omitempty"`
}

// RequestKinds are what a request may ask.
var RequestKinds = []string{"exclude", "include", "aid", "meeting", "other"}

// Outcomes are where a request stands.
var Outcomes = []string{"requested", "granted", "refused", "no-decision"}

// RequestView is a request as it stands.
type RequestView struct {
	By         string `json:"by"`
	Of         string `json:"of"`
	What       string `json:"what"`
	Kind       string `json:"kind"`
	Concerning string `json:"concerning,omitempty"`
	Talks      string `json:"talks,omitempty"`
	Outcome    string `json:"outcome"`
	Confidence string `json:"confidence"`
}

var requestType = entry.Type{
	Name: "request",
	Doc:  "one party asking something of another, and its outcome",
	New:  func() entry.Body { return new(RequestBody) },
}

// Validate checks the id, kind and outcome.
func (b *RequestBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := optionalOneOf("kind", b.Kind, RequestKinds); err != nil {
		return err
	}
	if err := oneOf("outcome", b.Outcome, Outcomes); err != nil {
		return err
	}
	return optionalOneOf("confidence", b.Confidence, Confidences)
}

// Fold records the request or its new outcome.
func (b *RequestBody) Fold(f *Fold) error {
	var v RequestView
	old, exists := f.Dir.Entity(Request + "/" + b.ID)
	if exists {
		if err := ViewOf(old, &v); err != nil {
			return err
		}
	} else {
		for _, r := range []struct{ f, v string }{{"by", b.By}, {"of", b.Of}, {"what", b.What}} {
			if r.v == "" {
				return invalid("request %q is new, so %q is required", b.ID, r.f)
			}
		}
		v.Kind = "other"
	}
	for _, r := range []struct {
		field, ref string
		into       *string
		kinds      []string
	}{
		{"by", b.By, &v.By, []string{Party, Actor}},
		{"of", b.Of, &v.Of, []string{Party, Actor}},
		{"concerning", b.Concerning, &v.Concerning, []string{Actor}},
		{"talks", b.Talks, &v.Talks, []string{Talks}},
	} {
		if r.ref == "" {
			continue
		}
		e, err := f.Resolve(r.field, r.ref, r.kinds...)
		if err != nil {
			return err
		}
		if exists && r.field == "talks" && v.Talks != "" && v.Talks != e.Key() {
			return invalid("request %q belongs to %s; it cannot move to %s", b.ID, v.Talks, e.Key())
		}
		*r.into = e.Key()
	}
	if b.What != "" {
		v.What = b.What
	}
	if b.Kind != "" {
		v.Kind = b.Kind
	}
	if b.Confidence != "" || !exists {
		v.Confidence = confidence(b.Confidence)
	}
	v.Outcome = b.Outcome
	e, _, err := f.Declare(Request, b.ID, v.What, nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	if err := f.Fact(FactRequest, v.Talks, e.Key(), v.Outcome, true, v); err != nil {
		return err
	}
	by, _ := f.Dir.Entity(v.By)
	of, _ := f.Dir.Entity(v.Of)
	if exists {
		f.Story("request %q of %s by %s: %s", v.What, of.Name, by.Name, v.Outcome)
		return nil
	}
	f.Story("%s asked %s: %s [%s]", by.Name, of.Name, v.What, v.Confidence)
	mode := map[string][]string{"aid": {"assist"}, "meeting": {"meet"}, "exclude": {"change"}, "include": {"change"}}[v.Kind]
	return f.Event(Coding{Event: "REQUEST", Mode: mode, Context: []string{"diplomatic"}, CAMEO: "020"}, by, of, v.What)
}
