package store

import (
	"context"
	"fmt"
	"math"
	"time"
)

// A Fact is one thing an entry says about one subject of the record, kept so
// that questions can be answered without reading the whole log: a party's
// stance on a proposal, an action's status, a hop of a message. Facts are
// derived: the projections fold them from the log, and they can be thrown
// away and folded again. The store does not interpret them; it keeps them,
// keeps track of the latest fact of each key, and filters them by the two
// clocks: the time a fact describes, and the log size at which it was known.
type Fact struct {
	// Index is the entry that states the fact; Seq numbers the facts of one
	// entry from 0.
	Index int64
	Seq   int
	// Kind says what the fact is ("position", "action"); Subject and Object
	// are what it is about ("proposal/ceasefire-30", "party/russia").
	Kind    string
	Subject string
	Object  string
	// Tag is a short value questions filter on: a stance, a status, a
	// confidence.
	Tag string
	// Time is the time the fact describes.
	Time time.Time
	// Latest says that only the latest fact of its key (Kind, Subject,
	// Object), by Time and then Index, holds: a new stance replaces the old.
	// Other facts are events that all hold (a statement, a hop).
	Latest bool
	// Data is the fact's content, for the layer that asked.
	Data []byte
}

// A Void says that the facts of entry Target no longer hold from log size
// By+1 on: entry By corrected or retracted it. An entry is voided at most once.
type Void struct {
	Target int64
	By     int64
}

// Derived is what the projections fold from a run of entries.
type Derived struct {
	Facts []Fact
	Voids []Void
}

// Check reports whether d can be what was derived from the entries
// [from, through): the run does not end before it starts, and every fact is
// of an entry in it. A driver checks it before it stores d.
func (d Derived) Check(from, through int64) error {
	if through < from {
		return fmt.Errorf("facts derived up to entry %d put after facts up to %d", through, from)
	}
	for _, f := range d.Facts {
		if f.Index < from || f.Index >= through {
			return fmt.Errorf("fact of entry %d outside [%d, %d)", f.Index, from, through)
		}
	}
	return nil
}

// A FactQuery selects facts. Zero fields do not filter.
type FactQuery struct {
	Kind    string
	Subject string
	Object  string
	// Tags keeps facts whose tag is one of these. With Latest, a key whose
	// latest fact has another tag is left out, not answered by an older one.
	Tags []string
	// KnownAt keeps facts of entries before this log size, as voided by
	// entries before it: what the record said at that size. 0 means now.
	KnownAt int64
	// AsOf keeps facts describing times up to and including it.
	AsOf time.Time
	// From keeps facts describing times from it on; Until, those before
	// it. With Latest they bound the latest facts: a key whose latest fact
	// (as AsOf and KnownAt choose it) falls outside is left out, not
	// answered by an older one.
	From, Until time.Time
	// Latest keeps, for each key, only its latest fact that passes the
	// other filters (Tags apart, as above).
	Latest bool
	// Desc orders the answer newest first; it is oldest first by Time,
	// then Index, then Seq.
	Desc bool
	// Limit caps the number of facts; 0 means no cap.
	Limit int
}

// A Projector is a store that keeps derived facts beside the log. Facts
// folded from new entries travel in Batch.Derived, in the same transaction as
// the entries; Project writes the facts of entries already on the log (a
// rebuild, or a projection catching up).
type Projector interface {
	// Projected returns the log size up to which facts have been derived.
	Projected(ctx context.Context) (int64, error)
	// Project stores d, derived from the entries from Projected() up to
	// through, and sets Projected to through. It returns ErrConflict, and
	// changes nothing, if Projected is not from.
	Project(ctx context.Context, from, through int64, d Derived) error
	// ResetFacts throws every derived fact away and sets Projected to 0.
	ResetFacts(ctx context.Context) error
	// RebuildFacts replaces every derived fact with those fold derives
	// again from the log, all at once: until it returns, the facts and
	// Projected stay as they were for every reader, and a failure or a
	// crash leaves them so. fold calls put for each run of entries, in
	// order from entry 0, with the facts derived from the entries before
	// log size through and not yet put; Projected is then the last through.
	// put may be called from another goroutine than fold's caller, one
	// call at a time, until fold returns.
	RebuildFacts(ctx context.Context, fold func(put func(through int64, d Derived) error) error) error
	// Facts calls fn for each fact q selects, in order.
	Facts(ctx context.Context, q FactQuery, fn func(Fact) error) error
	// Tallies calls fn for each count q selects, ordered by subject, day
	// and tag.
	Tallies(ctx context.Context, q TallyQuery, fn func(Tally) error) error
}

// TallyPrefix begins the kind of every latest-only fact the store counts:
// for each such kind it keeps how many keys have their head (the fact that
// holds now) with each subject, tag and UTC day of its time, through every
// append, correction, retraction, reset and rebuild. Counting a million
// incidents by party, day and status then reads a few thousand counts, not
// a million facts.
const TallyPrefix = "tally."

// A TallyQuery selects counts of one kind of tallied fact.
type TallyQuery struct {
	// Kind is the fact kind, beginning with TallyPrefix.
	Kind string
	// Subjects keeps the counts whose subject begins with this prefix.
	Subjects string
	// FromDay and ToDay keep the days from FromDay through ToDay, as days
	// since 1970-01-01 UTC; 0 means no bound, so day 0 (1970-01-01) itself
	// cannot be a bound: ask from day 1 or through day -1 instead, or
	// leave the bound out.
	FromDay, ToDay int64
}

// Bounds returns what q selects as ranges a driver's query matches with
// the primary key of its counts: subjects from lo (inclusive) to hi
// (exclusive), and days from from through to (both inclusive). Every
// subject that begins with q.Subjects sorts below q.Subjects followed by
// the highest code point, U+10FFFF. A bound of 0 is none: the lowest or
// the highest int64.
func (q TallyQuery) Bounds() (lo, hi string, from, to int64) {
	from, to = q.FromDay, q.ToDay
	if from == 0 {
		from = math.MinInt64
	}
	if to == 0 {
		to = math.MaxInt64
	}
	return q.Subjects, q.Subjects + "\U0010FFFF", from, to
}

// A Tally is how many keys of Kind have their head with Subject and Tag,
// describing a time on Day (days since 1970-01-01 UTC). N is at least 1.
type Tally struct {
	Kind    string
	Subject string
	Tag     string
	Day     int64
	N       int64
}

// DayOf is the day of t as a Tally counts it.
func DayOf(t time.Time) int64 {
	u := t.UTC().Unix()
	if u < 0 {
		return (u - 86399) / 86400
	}
	return u / 86400
}
