package vocab

import (
	"errors"
	"strings"

	"parley/internal/entry"
)

// Note is free text on the record: a remark, a reading of events, a
// clarification, optionally about earlier entries. Its evidence goes in the
// entry's sources.
type Note struct {
	Text string `json:"text"`
	// About lists the indexes of the entries the note is about, if any.
	About []int64 `json:"about,omitempty"`
}

var noteType = entry.Type{
	Name: "note",
	Doc:  "free text, with sources, optionally about earlier entries",
	New:  func() entry.Body { return new(Note) },
}

// Validate requires some text.
func (n *Note) Validate() error {
	if strings.TrimSpace(n.Text) == "" {
		return errors.New(`"text" is required`)
	}
	return nil
}

// Refs returns the entries the note is about.
func (n *Note) Refs() []int64 { return n.About }

// Fold puts the note on the timeline.
func (n *Note) Fold(f *Fold) error {
	f.Story("note: %s", n.Text)
	return nil
}
