package vocab

import (
	"fmt"
	"slices"
	"strings"

	"parley/internal/entry"
)

// MessageBody records a message sent by one actor to another, possibly
// through carriers. The entry's time is when it was sent; relay entries
// record each later hop.
type MessageBody struct {
	ID   string   `json:"id"`
	From string   `json:"from"`
	To   string   `json:"to"`
	Via  []string `json:"via,omitempty"`
	// Summary says what the message was about; Content is its text, where
	// the record has it.
	Summary    string `json:"summary,omitempty"`
	Content    string `json:"content,omitempty"`
	Confidence string `json:"confidence,omitempty"`
}

// MessageView is a message as it stands.
type MessageView struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	Via        []string `json:"via,omitempty"`
	Summary    string   `json:"summary,omitempty"`
	Content    string   `json:"content,omitempty"`
	Confidence string   `json:"confidence"`
}

// Route is the message's path: sender, carriers, recipient.
func (v MessageView) Route() []string {
	return append(append([]string{v.From}, v.Via...), v.To)
}

// HopFact is one step of a message on its route.
type HopFact struct {
	Message    string `json:"message"`
	Event      string `json:"event"`
	From       string `json:"from"`
	To         string `json:"to"`
	Confidence string `json:"confidence"`
}

var messageType = entry.Type{
	Name: "message",
	Doc:  "a message from one actor to another, possibly through carriers",
	New:  func() entry.Body { return new(MessageBody) },
}

// Validate checks the id, the ends and that it says something.
func (b *MessageBody) Validate() error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := required("from", b.From); err != nil {
		return err
	}
	if err := required("to", b.To); err != nil {
		return err
	}
	if strings.TrimSpace(b.Summary) == "" && strings.TrimSpace(b.Content) == "" {
		return invalid(`"summary" or "content" is required: what the message carried`)
	}
	return optionalOneOf("confidence", b.Confidence, Confidences)
}

// Fold records the message and its first hop: sent to the first carrier,
// or straight to the recipient.
func (b *MessageBody) Fold(f *Fold) error {
	from, err := f.Resolve("from", b.From, Actor)
	if err != nil {
		return err
	}
	to, err := f.Resolve("to", b.To, Actor)
	if err != nil {
		return err
	}
	via, err := f.ResolveAll("via", b.Via, Actor)
	if err != nil {
		return err
	}
	v := MessageView{From: from.Key(), To: to.Key(), Via: keys(via), Summary: b.Summary, Content: b.Content, Confidence: confidence(b.Confidence)}
	route := v.Route()
	for i, k := range route {
		if slices.Contains(route[:i], k) {
			return invalid("the route %s passes %s twice", strings.Join(route, " → "), k)
		}
	}
	if old, ok := f.Dir.Entity(Message + "/" + b.ID); ok && f.Entry.Corrects == nil {
		return invalid("message id %q is taken by entry %d; a relay entry records a later hop", b.ID, old.Declared)
	}
	e, _, err := f.Declare(Message, b.ID, fmt.Sprintf("%s → %s: %s", from.Name, to.Name, firstOf(b.Summary, b.Content)), nil, v)
	if err != nil {
		return err
	}
	if err := f.Commit(e); err != nil {
		return err
	}
	if err := f.Fact(FactMessage, e.Key(), from.Key(), to.Key(), true, v); err != nil {
		return err
	}
	if err := f.Fact(FactHop, e.Key(), from.Key(), "sent", false,
		HopFact{Message: e.Key(), Event: "sent", From: from.Key(), To: route[1], Confidence: v.Confidence}); err != nil {
		return err
	}
	carriers := ""
	if len(via) > 0 {
		var n []string
		for _, c := range via {
			n = append(n, c.Name)
		}
		carriers = " through " + strings.Join(n, ", ")
	}
	f.Story("%s sent a message to %s%s: %s [%s]", from.Name, to.Name, carriers, firstOf(b.Summary, b.Content), v.Confidence)
	mode := []string{}
	if len(via) > 0 {
		mode = []string{"third-party"}
	}
	return f.Event(Coding{Event: "CONSULT", Mode: mode, Context: []string{"diplomatic"}, CAMEO: "040"}, from, to, firstOf(b.Summary, b.Content))
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
