package vocab

import (
	"slices"

	"parley/internal/entry"
)

// RelayBody records one hop of a message after it was sent: handed from one
// actor on its route to the next, delivered to the recipient, acknowledged.
type RelayBody struct {
	Message    string `json:"message"`
	Event      string `json:"event"`
	From       string `json:"from"`
	To         string `json:"to"`
	Confidence string `json:"confidence,omitempty"`
}

// HopEvents are what can happen to a message on its way.
var HopEvents = []string{"handed", "delivered", "acknowledged"}

var relayType = entry.Type{
	Name: "relay",
	Doc:  "a hop of a message: handed to a carrier, delivered, acknowledged",
	New:  func() entry.Body { return new(RelayBody) },
}

// Validate checks the event.
func (b *RelayBody) Validate() error {
	if err := required("message", b.Message); err != nil {
		return err
	}
	if err := oneOf("event", b.Event, HopEvents); err != nil {
		return err
	}
	if err := required("from", b.From); err != nil {
		return err
	}
	if err := required("to", b.To); err != nil {
		return err
	}
	return optionalOneOf("confidence", b.Confidence, Confidences)
}

// Fold records the hop, which must follow the message's route.
func (b *RelayBody) Fold(f *Fold) error {
	m, err := f.Resolve("message", b.Message, Message)
	if err != nil {
		return err
	}
	var v MessageView
	if err := ViewOf(m, &v); err != nil {
		return err
	}
	from, err := f.Resolve("from", b.From, Actor)
	if err != nil {
		return err
	}
	to, err := f.Resolve("to", b.To, Actor)
	if err != nil {
		return err
	}
	route := v.Route()
	i, j := slices.Index(route, from.Key()), slices.Index(route, to.Key())
	switch {
	case i < 0 || j < 0:
		return invalid("%s → %s is not on the route of %s (%v)", from.Name, to.Name, m.Key(), route)
	case b.Event == "acknowledged" && j >= i:
		return invalid("an acknowledgement goes back along the route: %s did not receive from %s", to.Name, from.Name)
	case b.Event != "acknowledged" && j != i+1:
		return invalid("%s → %s skips or reverses the route of %s (%v)", from.Name, to.Name, m.Key(), route)
	case b.Event == "delivered" && to.Key() != v.To:
		return invalid("\"delivered\" is to the recipient, %s; a hop to a carrier is \"handed\"", v.To)
	}
	h := HopFact{Message: m.Key(), Event: b.Event, From: from.Key(), To: to.Key(), Confidence: confidence(b.Confidence)}
	if err := f.Fact(FactHop, m.Key(), from.Key(), b.Event, false, h); err != nil {
		return err
	}
	f.Story("message %s %s by %s to %s [%s]", m.ID, b.Event, from.Name, to.Name, h.Confidence)
	return nil
}
