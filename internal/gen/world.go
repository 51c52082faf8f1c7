package gen

import (
	"strconv"
	"strings"
)

// world is the negotiation so far, as much of it as later entries need:
// who exists, which talks they are in, what is still open. Everything that
// grows with the number of entries is bounded (recent statements, messages
// in flight, open actions, undecided requests) except the entities
// themselves, which grow slowly.
type world struct {
	parties   []party
	sides     []int
	mediators []int
	actors    []actor
	talks     []talks
	proposals []proposal
	tracks    []track

	// stmts are recent statements that later entries may rest on.
	stmts []stmt
	// inflight are messages not yet delivered, or delivered and awaiting
	// an acknowledgement; messages finds them by number.
	inflight []*message
	messages map[int]*message
	// open are the actions not done or cancelled; actions finds them by number.
	open    []*action
	actions map[int]*action
	// undecided are requests with no final outcome.
	undecided []*request

	n counters
}

// counters number the entities of each kind; ids are "kind-N".
type counters struct {
	meeting, message, statement, request, action int
}

func newWorld() world {
	return world{messages: map[int]*message{}, actions: map[int]*action{}}
}

type party struct {
	id, name, role string
	// people are the party's persons, as actor indexes.
	people     []int
	state      int // the party's state actor, or -1
	delegation int // the party's delegation, or -1
}

type actor struct {
	id, name, kind string
	party          int // -1 for none
	title          string
}

type talks struct {
	id, name string
	// parties are the sides, then the mediating parties.
	parties []int
	nSides  int
	// envoys are actors who mediate, beside the mediating parties.
	envoys []int
	// meetings are the talks' recent meetings, by id.
	meetings []string
	round    int
}

type proposal struct {
	id, name, topic string
	talks           int
	// stance is each party's stance (an index into vocab.Stances), in the
	// order of the talks' parties; -1 for none yet.
	stance []int8
}

type track struct {
	id, subject string
	a, b        int
	status      string
}

type stmt struct {
	ref    string // how entries refer to it: "st-4", "statement/st-4" or "#17"
	entity string // its key, "statement/id"
	party  int
}

type message struct {
	n     int
	id    string
	route []int // actor indexes: sender, carriers, recipient
	// holder is the route position the message has reached.
	holder    int
	delivered bool
	party     int
}

type action struct {
	n      int
	id     string
	what   string
	status string
	waits  []wait
	born   int64
	party  int
	// doomed is set when something it waits on was cancelled or lost.
	doomed bool
}

type wait struct {
	message bool
	n       int
}

type request struct {
	n          int
	id         string
	kind       string
	talks      int
	of         int
	concerning int // actor index, or -1
	party      int
}

func itoa(n int) string { return strconv.Itoa(n) }

// numbered names the k-th item of a list that may be shorter than needed.
func numbered(list []string, k int) string {
	name := list[k%len(list)]
	if k >= len(list) {
		name += " " + itoa(k/len(list)+1)
	}
	return name
}

// abbrev is a short form of a name: its capitals, or its first letters.
func abbrev(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		if c := w[0]; c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		}
	}
	if b.Len() < 2 {
		return strings.ToUpper(name[:min(3, len(name))])
	}
	return b.String()
}
