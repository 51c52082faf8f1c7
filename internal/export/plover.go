// Package export writes what the record says in the formats analysts load
// into their own tools: PLOVER event data, and a ceasefire's incidents as
// GeoJSON (RFC 7946) for maps and as CSV in ACLED's layout.
//
// An export reads a record's derived facts and its entries through the
// store alone, so the CLI and the HTTP API can both serve it, and streams:
// it holds one event or incident at a time, however many the record has.
package export

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/store"
	"parley/internal/vocab"
)

// Store is what an export reads of a record: its derived facts and its
// entries. A store.Store is one.
type Store interface {
	Facts(ctx context.Context, q store.FactQuery, fn func(store.Fact) error) error
	Leaves(ctx context.Context, from, to int64, fn func(store.Leaf) error) error
}

// A PLOVEREvent is one coded event in PLOVER's JSON field names (the PLOVER
// manual's "PLOVER JSON" table). Where PLOVER has no field for what parley
// knows, it goes under a name PLOVER does not use: "cameo", "parley", and
// the quoted span in cite_info.
type PLOVEREvent struct {
	// ID is "ORIGIN-INDEX-SEQ": the record, the entry and its fact.
	ID string `json:"id"`
	// Date is the day the entry describes, YYYY-MM-DD, in UTC.
	Date string `json:"date"`
	// Source is the actor who acted; Recipient the one acted on, if any.
	Source    []PLOVERActor `json:"source"`
	Recipient []PLOVERActor `json:"recipient,omitempty"`
	// Event holds the one PLOVER event type.
	Event   []string `json:"event"`
	Mode    []string `json:"mode,omitempty"`
	Context []string `json:"context,omitempty"`
	// EventText is the words of the event; Text the entry's line in the
	// record's timeline.
	EventText []string  `json:"event_text,omitempty"`
	Text      string    `json:"text,omitempty"`
	CiteInfo  *CiteInfo `json:"cite_info,omitempty"`
	// CAMEO is the nearest CAMEO code (not a PLOVER field).
	CAMEO string `json:"cameo,omitempty"`
	// Parley says where on the record the event comes from (not a PLOVER
	// field).
	Parley Provenance `json:"parley"`
}

// A PLOVERActor is a PLOVER actor object: the actor's name, and its code,
// which is the entity's key on the record ("party/russia", "actor/putin").
type PLOVERActor struct {
	Text string `json:"actor_text,omitempty"`
	Code string `json:"code,omitempty"`
}

// CiteInfo is PLOVER's cite_info: where the event was reported, from the
// entry's first source. Quote, the span the entry rests on, is parley's.
type CiteInfo struct {
	Citation string `json:"citation,omitempty"`
	URL      string `json:"url,omitempty"`
	Quote    string `json:"quote,omitempty"`
}

// Provenance is the entry an event comes from.
type Provenance struct {
	Index  int64  `json:"index"`
	Type   string `json:"type"`
	Author string `json:"author"`
	// Corrects is the entry this one corrects, if it is a correction.
	Corrects *int64 `json:"corrects,omitempty"`
}

// A Summary counts what an export wrote, and what it could not.
type Summary struct {
	// Events is the number of events written.
	Events int
	// Statements is the number of statements on the record; Uncoded those
	// of them with no PLOVER event type (a plain "said" is CAMEO 01, which
	// PLOVER does not code).
	Statements int
	Uncoded    int
}

// PLOVER calls fn for each coded event on the record, oldest first by the
// time it describes, leaving out the entries that were corrected or
// retracted. origin, the record's name, prefixes every id.
func PLOVER(ctx context.Context, st Store, origin string, fn func(PLOVEREvent) error) (Summary, error) {
	var sum Summary
	stories, err := newStoryline(ctx, st)
	if err != nil {
		return sum, err
	}
	defer stories.stop()
	entries := entryCache{st: st}
	for f, err := range facts(ctx, st, store.FactQuery{Kind: vocab.FactEvent}) {
		if err != nil {
			return sum, err
		}
		var ev vocab.EventFact
		if err := json.Unmarshal(f.Data, &ev); err != nil {
			return sum, fmt.Errorf("event of entry %d (fact %d): %w", f.Index, f.Seq, err)
		}
		story, err := stories.of(f)
		if err != nil {
			return sum, err
		}
		e, err := entries.get(ctx, f.Index)
		if err != nil {
			return sum, err
		}
		if err := fn(ploverEvent(origin, f, ev, e, story)); err != nil {
			return sum, err
		}
		sum.Events++
	}
	if err := stories.finish(); err != nil {
		return sum, err
	}
	sum.Statements, sum.Uncoded = stories.statements, stories.uncoded
	return sum, nil
}

// WritePLOVER writes the record's coded events as PLOVER JSON Lines, one
// event per line; see PLOVER.
func WritePLOVER(ctx context.Context, st Store, origin string, w io.Writer) (Summary, error) {
	bw := bufio.NewWriter(w)
	enc := jsontext.NewEncoder(bw)
	sum, err := PLOVER(ctx, st, origin, func(ev PLOVEREvent) error {
		return json.MarshalEncode(enc, ev)
	})
	if err != nil {
		return sum, fmt.Errorf("PLOVER export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return sum, fmt.Errorf("PLOVER export: %w", err)
	}
	return sum, nil
}

// ploverEvent puts an event fact, its entry and its story in PLOVER's terms.
func ploverEvent(origin string, f store.Fact, ev vocab.EventFact, e *entry.Entry, story string) PLOVEREvent {
	id := fmt.Sprintf("%d-%d", f.Index, f.Seq)
	if origin != "" {
		id = origin + "-" + id
	}
	p := PLOVEREvent{
		ID:      id,
		Date:    f.Time.UTC().Format(time.DateOnly),
		Source:  []PLOVERActor{actor(ev.Source, f.Subject)},
		Event:   []string{ev.Event},
		Mode:    ev.Mode,
		Context: ev.Context,
		Text:    story,
		CAMEO:   ev.CAMEO,
		Parley:  Provenance{Index: f.Index, Type: ev.Type, Author: e.Author, Corrects: e.Corrects},
	}
	if r := actor(ev.Recipient, f.Object); r != (PLOVERActor{}) {
		p.Recipient = []PLOVERActor{r}
	}
	if ev.Text != "" {
		p.EventText = []string{ev.Text}
	}
	if p.Text == "" {
		p.Text = ev.Text
	}
	if len(e.Sources) > 0 {
		s := e.Sources[0]
		p.CiteInfo = &CiteInfo{Citation: s.Citation, URL: s.URL, Quote: s.Quote}
	}
	return p
}

// actor makes an actor object of a name and an entity key. The fold keys a
// missing entity "/" (an empty kind and id), or "-" when it is the subject.
func actor(name, key string) PLOVERActor {
	if key == "/" || key == vocab.NoSubject {
		key = ""
	}
	return PLOVERActor{Text: name, Code: key}
}

// A storyline walks the record's story facts beside its events. Both come in
// the same order (time, then entry, then fact), so the story of an event's
// entry is found by moving forward; on the way it counts the statements
// that had no event.
type storyline struct {
	next func() (store.Fact, error, bool)
	stop func()
	// cur is the story under the cursor, if ok.
	cur store.Fact
	ok  bool
	// coded is the last entry an event was found for.
	coded               int64
	statements, uncoded int
}

// newStoryline starts the walk at the first story; call stop when done.
func newStoryline(ctx context.Context, st Store) (*storyline, error) {
	next, stop := iter.Pull2(facts(ctx, st, store.FactQuery{Kind: vocab.FactStory}))
	s := &storyline{next: next, stop: stop, coded: -1}
	if err := s.advance(); err != nil {
		stop()
		return nil, err
	}
	return s, nil
}

// advance counts the story under the cursor and moves to the next.
func (s *storyline) advance() error {
	if s.ok && s.cur.Subject == vocab.Statement {
		s.statements++
		if s.coded != s.cur.Index {
			s.uncoded++
		}
	}
	f, err, ok := s.next()
	if err != nil {
		return err
	}
	s.cur, s.ok = f, ok
	return nil
}

// of returns the story line of the entry of event fact ev, or "" if it has
// none.
func (s *storyline) of(ev store.Fact) (string, error) {
	for s.ok && (s.cur.Time.Before(ev.Time) || s.cur.Time.Equal(ev.Time) && s.cur.Index < ev.Index) {
		if err := s.advance(); err != nil {
			return "", err
		}
	}
	if !s.ok || s.cur.Index != ev.Index {
		return "", nil
	}
	s.coded = ev.Index
	var sf vocab.StoryFact
	if err := json.Unmarshal(s.cur.Data, &sf); err != nil {
		return "", fmt.Errorf("story of entry %d: %w", s.cur.Index, err)
	}
	return sf.Text, nil
}

// finish walks the rest of the stories, to count their statements.
func (s *storyline) finish() error {
	for s.ok {
		if err := s.advance(); err != nil {
			return err
		}
	}
	return nil
}

// entryCache reads the entry of an event, once for the events of one entry
// (which come one after another).
type entryCache struct {
	st    Store
	index int64
	e     *entry.Entry
}

func (c *entryCache) get(ctx context.Context, index int64) (*entry.Entry, error) {
	if c.e != nil && c.index == index {
		return c.e, nil
	}
	var e *entry.Entry
	err := c.st.Leaves(ctx, index, index+1, func(l store.Leaf) error {
		s, err := entry.Parse(l.Data, 0)
		if err != nil {
			return err
		}
		e = &s.Entry
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("entry %d: %w", index, err)
	}
	if e == nil {
		return nil, fmt.Errorf("entry %d: it has facts but is not on the log", index)
	}
	c.index, c.e = index, e
	return e, nil
}

// errStop ends a Facts query whose reader stopped early.
var errStop = errors.New("stop reading facts")

// facts runs q as an iterator.
func facts(ctx context.Context, st Store, q store.FactQuery) iter.Seq2[store.Fact, error] {
	return func(yield func(store.Fact, error) bool) {
		err := st.Facts(ctx, q, func(f store.Fact) error {
			if !yield(f, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(store.Fact{}, err)
		}
	}
}
