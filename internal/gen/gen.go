// Package gen writes a synthetic negotiation: a batch file of unsigned
// entries, in the shape of examples/seed.jsonl, that `parley add --batch`
// signs and appends. It is for benchmarks and load tests: the same seed
// gives the same bytes, a million entries take seconds, and every line is
// one the vocabulary's folds accept, in order, on a record whose first free
// index is Config.Base.
//
// The negotiation has several talks between sides with mediators; people
// with titles, states and delegations; proposals and each party's changing
// position on them; meetings; messages carried hop by hop; statements,
// assessments and accusations; requests and their outcomes; actions that
// wait on earlier actions and messages and are later done or cancelled;
// tracks whose status changes; and now and then a correction or a
// retraction of a recent entry.
package gen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
)

// Authors are the names of the keys that sign the lines, unless
// Config.Authors says otherwise. A record loads the batch only once it has
// a key of each name (`parley key new NAME`). Treat it as read-only.
var Authors = []string{"gen-a", "gen-b", "gen-c", "gen-d"}

// DefaultParties is the number of parties when Config.Parties is 0.
const DefaultParties = 12

// Start is the time of the first entry.
var Start = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// span is how long a large negotiation runs; small ones run shorter, with
// entries at most maxGap apart on average.
const (
	span   = 4 * 365 * 24 * time.Hour
	maxGap = 3 * time.Hour
)

// Config says what to write.
type Config struct {
	// Entries is the number of lines.
	Entries int
	// Seed makes the output: the same seed, the same bytes.
	Seed uint64
	// Parties is the number of parties, sides and mediators (at least 3;
	// 0 means DefaultParties).
	Parties int
	// Authors are the key names the lines are signed with (nil means Authors).
	Authors []string
	// Base is the log index the first line will get: corrections and
	// retractions name entries by index. 0 means 1+len(Authors), a fresh
	// record with its genesis entry and one key per author.
	Base int64
}

// Stats says what was written.
type Stats struct {
	Entries int `json:"entries"`
	// First and Last are the log indexes of the first and last line.
	First int64 `json:"first"`
	Last  int64 `json:"last"`
	// Types counts the lines of each entry type.
	Types       map[string]int `json:"types"`
	Corrections int            `json:"corrections"`
	// MaxOpenActions is the most actions open (not done or cancelled) at
	// any one time.
	MaxOpenActions int `json:"max_open_actions"`
	// From and To are the earliest and latest entry times.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Authors are the keys the lines name, which the record must have.
	Authors []string `json:"authors"`
}

func (c Config) withDefaults() (Config, error) {
	if c.Parties == 0 {
		c.Parties = DefaultParties
	}
	if c.Authors == nil {
		c.Authors = Authors
	}
	if c.Base == 0 {
		c.Base = 1 + int64(len(c.Authors))
	}
	switch {
	case c.Entries < 0:
		return c, fmt.Errorf("entries is %d; it must be 0 or more", c.Entries)
	case c.Parties < 3:
		return c, fmt.Errorf("parties is %d; a negotiation needs at least 3 (two sides and a mediator)", c.Parties)
	case c.Parties > 10000:
		return c, fmt.Errorf("parties is %d; at most 10000", c.Parties)
	case len(c.Authors) == 0:
		return c, fmt.Errorf("no authors: the lines need key names to be signed with")
	case c.Base < 1:
		return c, fmt.Errorf("base is %d; entry 0 is the record's genesis, so the first line is at least entry 1", c.Base)
	}
	for _, a := range c.Authors {
		if a == "" {
			return c, fmt.Errorf("an author's key name is empty")
		}
	}
	return c, nil
}

// Write writes c.Entries lines of a synthetic negotiation to w, one JSON
// object per line, and says what it wrote.
func Write(ctx context.Context, w io.Writer, c Config) (Stats, error) {
	c, err := c.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	bw := bufio.NewWriterSize(w, 1<<18)
	g := newGen(ctx, bw, c)
	g.run()
	if g.err == nil {
		g.err = bw.Flush()
	}
	return g.stats, g.err
}

// line is one unsigned entry as `parley add --batch` reads it.
type line struct {
	As       string         `json:"as"`
	Type     string         `json:"type"`
	Time     string         `json:"time"`
	Sources  []entry.Source `json:"sources,omitempty"`
	Corrects *int64         `json:"corrects,omitempty"`
	Body     any            `json:"body"`
}

// gen is one run of the generator: the writer, the clock, the world so
// far and the recent entries that may be corrected.
type gen struct {
	ctx context.Context
	r   *rand.Rand
	c   Config
	enc *jsontext.Encoder
	err error

	next  int64     // log index of the next line
	clock time.Time // time of the last line
	// The generator draws only integers: floating point may round
	// differently on other machines (fused multiply-add), and the same
	// seed must give the same bytes everywhere.
	meanGap int64 // seconds
	stats   Stats

	world

	// recent are the last entries written, a ring, and latest the index of
	// the latest entry of each key among them: only those may be corrected.
	recent []past
	pos    int
	latest map[key]int64
}

// recentSize is how far back corrections and retractions reach.
const recentSize = 256

// A key names what an entry is the latest word on, where a later entry
// replaces an earlier one: an entity, a party's position on a proposal, an
// actor's place on a roster.
type key struct {
	kind uint8
	a, b int32
}

const (
	kNone uint8 = iota
	kParty
	kActor
	kTalks
	kMeeting
	kMessage
	kStatement
	kProposal
	kRequest
	kAction
	kTrack
	kPosition
	kRoster
)

// past is a recent entry, kept so that it can be corrected or retracted.
type past struct {
	index  int64
	typ    string
	party  int
	at     time.Time
	body   any
	key    key
	voided bool
}

func newGen(ctx context.Context, w io.Writer, c Config) *gen {
	g := &gen{
		ctx:    ctx,
		r:      rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15)),
		c:      c,
		enc:    jsontext.NewEncoder(w),
		next:   c.Base,
		clock:  Start,
		recent: make([]past, 0, recentSize),
		latest: map[key]int64{},
		world:  newWorld(),
	}
	// Spread the entries over the span, minutes to hours apart.
	g.meanGap = min(max(int64(span/time.Second)/int64(max(c.Entries, 1)), 60), int64(maxGap/time.Second))
	g.stats = Stats{First: c.Base, Last: c.Base - 1, Types: map[string]int{}, Authors: c.Authors}
	return g
}

// full says whether every line has been written, or writing failed.
func (g *gen) full() bool { return g.err != nil || g.stats.Entries >= g.c.Entries }

func (g *gen) run() {
	g.setup()
	for !g.full() {
		if g.stats.Entries%4096 == 0 {
			if err := g.ctx.Err(); err != nil {
				g.err = err
				return
			}
		}
		g.step()
	}
}

// out is an entry to write.
type out struct {
	typ string
	// party is the party the entry is mostly about; it picks the author.
	party int
	body  any
	// quote is the span of the source the entry rests on.
	quote string
	// key is what the entry is the latest word on, if anything.
	key      key
	corrects *int64
	// at is the time the entry describes; zero means a little after the
	// last entry.
	at time.Time
}

// put writes an entry and returns its log index, or -1 once the file is full.
func (g *gen) put(o out) int64 {
	if g.full() {
		return -1
	}
	at := o.at
	if at.IsZero() {
		g.clock = g.clock.Add(time.Duration(1+g.r.Int64N(2*g.meanGap)) * time.Second)
		at = g.clock
	}
	idx := g.next
	l := line{
		As:       g.c.Authors[o.party%len(g.c.Authors)],
		Type:     o.typ,
		Time:     at.Format(time.RFC3339),
		Sources:  g.sources(idx, at, o.quote),
		Corrects: o.corrects,
		Body:     o.body,
	}
	if err := json.MarshalEncode(g.enc, &l); err != nil {
		g.err = fmt.Errorf("write entry %d: %w", idx, err)
		return -1
	}
	g.next++
	g.stats.Entries++
	g.stats.Last = idx
	g.stats.Types[o.typ]++
	if o.corrects != nil {
		g.stats.Corrections++
	}
	if g.stats.From.IsZero() || at.Before(g.stats.From) {
		g.stats.From = at
	}
	if at.After(g.stats.To) {
		g.stats.To = at
	}
	g.remember(past{index: idx, typ: o.typ, party: o.party, at: at, body: o.body, key: o.key})
	return idx
}

// remember keeps an entry among the recent ones.
func (g *gen) remember(p past) {
	if len(g.recent) < recentSize {
		g.recent = append(g.recent, p)
	} else {
		old := g.recent[g.pos]
		if old.key != (key{}) && g.latest[old.key] == old.index {
			delete(g.latest, old.key)
		}
		g.recent[g.pos] = p
		g.pos = (g.pos + 1) % recentSize
	}
	if p.key != (key{}) {
		g.latest[p.key] = p.index
	}
}

// sources says where an entry comes from: a report's address or a
// citation, with the span it quotes.
func (g *gen) sources(idx int64, at time.Time, quote string) []entry.Source {
	q := clip(quote, 160)
	var s entry.Source
	if g.r.IntN(10) < 7 {
		s = entry.Source{URL: "https://" + pick(g.r, hosts) + "/" + at.Format("2006/01/02") + "/report-" + strconv.FormatInt(idx, 10), Quote: q}
	} else {
		s = entry.Source{Citation: pick(g.r, outlets) + ", " + at.Format("2 January 2006"), Quote: q}
	}
	if g.r.IntN(10) == 0 {
		return []entry.Source{s, {Citation: pick(g.r, outlets) + ", " + at.Format("2 January 2006")}}
	}
	return []entry.Source{s}
}

// clip cuts s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

// pick returns a random element of list.
func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// weighted returns i with probability w[i]/sum(w).
func weighted(r *rand.Rand, w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}
