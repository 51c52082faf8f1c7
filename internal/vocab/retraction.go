package vocab

import (
	"strconv"

	"parley/internal/entry"
)

// RetractionBody withdraws an earlier entry: its facts no longer hold from
// the retraction on. The entry stays on the log, as everything does.
type RetractionBody struct {
	Entry  int64  `json:"entry"`
	Reason string `json:"reason"`
}

var retractionType = entry.Type{
	Name: "retraction",
	Doc:  "withdraws an earlier entry, with the reason",
	New:  func() entry.Body { return new(RetractionBody) },
}

// Validate requires a reason.
func (b *RetractionBody) Validate() error {
	if b.Entry < 0 {
		return invalid(`"entry" is %d; entries are numbered from 0`, b.Entry)
	}
	return required("reason", b.Reason)
}

// Refs is the entry retracted.
func (b *RetractionBody) Refs() []int64 { return []int64{b.Entry} }

// Fold voids the entry. An entity's first declaration (a statement's apart)
// cannot be retracted while other entries may name it: correct it instead.
func (b *RetractionBody) Fold(f *Fold) error {
	if e, ok := f.Dir.Declared(b.Entry); ok && e.Kind != Statement {
		return invalid("entry %d declares %s, which other entries may name; correct it instead of retracting it", b.Entry, e.Label())
	}
	// A review moved an incident on, and later reviews start from where it
	// left it: a mistaken one is answered by another review, on the record.
	typ, _, err := f.Dir.EntryType(f.Ctx, b.Entry)
	if err != nil {
		return err
	}
	if typ == reviewType.Name || typ == duplicateType.Name {
		return invalid("entry %d is a %s; review the incident again instead of retracting it", b.Entry, typ)
	}
	if err := f.void(b.Entry, "retracts", false); err != nil {
		return err
	}
	f.Story("entry %d retracted: %s", b.Entry, b.Reason)
	return f.Fact(FactVoid, strconv.FormatInt(b.Entry, 10), "", "retracted", false, VoidFact{Target: b.Entry, Reason: b.Reason})
}
