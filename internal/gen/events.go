package gen

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"parley/internal/vocab"
)

// setup puts the cast on the record: the parties, their states, people and
// delegations, the talks between them with the envoys on their rosters, a
// few tracks, and a first proposal in each of the talks.
func (g *gen) setup() {
	p := g.c.Parties
	nMed := max(1, p/3)
	for i := range p {
		pt := party{id: "party-" + itoa(i+1), role: "side", state: -1, delegation: -1}
		if i < p-nMed {
			pt.name = numbered(partyNames, len(g.sides))
			g.sides = append(g.sides, i)
		} else {
			pt.name, pt.role = numbered(mediatorNames, len(g.mediators)), "mediator"
			g.mediators = append(g.mediators, i)
		}
		g.parties = append(g.parties, pt)
		b := &vocab.PartyBody{ID: pt.id, Name: pt.name, Role: pt.role}
		if g.r.IntN(2) == 0 {
			b.Aliases = []string{abbrev(pt.name)}
		}
		g.put(out{typ: "party", party: i, body: b, quote: pt.name, key: key{kParty, int32(i), 0}})
	}
	for i := range g.parties {
		g.parties[i].state = g.newActor(i, "state", g.parties[i].name, "")
		titles := sideTitles[:4]
		if g.parties[i].role == "mediator" {
			titles = mediatorTitles[:3]
		}
		for _, t := range titles {
			g.newPerson(i, t)
		}
		if g.parties[i].role == "side" {
			g.newDelegation(i)
		}
	}
	for range min(max(2, p/3), 8) {
		g.newTalks()
	}
	for t := range g.talks {
		g.newTrack(g.talks[t].parties[g.talks[t].nSides], g.talks[t].parties[0])
		g.newProposal(t, g.talks[t].parties[g.talks[t].nSides])
	}
}

// step writes one event of the negotiation: one entry, or a few that go
// together (a statement and the position that rests on it).
func (g *gen) step() {
	for !g.full() {
		var ok bool
		// Weights per thousand events, roughly.
		switch weighted(g.r, 150, 100, 70, 110, 50, 130, 40, 30, 50, 30, 20, 20, 30, 2, 20, 8) {
		case 0:
			ok = g.statement()
		case 1:
			ok = g.position()
		case 2:
			ok = g.message()
		case 3:
			ok = g.relay()
		case 4:
			ok = g.meeting()
		case 5:
			ok = g.action()
		case 6:
			ok = g.request()
		case 7:
			ok = g.roster()
		case 8:
			ok = g.assessment()
		case 9:
			ok = g.accusation()
		case 10:
			ok = g.track()
		case 11:
			ok = g.proposal()
		case 12:
			ok = g.actorEvent()
		case 13:
			if g.r.IntN(2) == 0 {
				ok = g.talksEvent()
			} else {
				ok = g.partyEvent()
			}
		case 14:
			ok = g.correct()
		case 15:
			ok = g.retract()
		}
		if ok {
			return
		}
	}
}

// ----- picking -----

func (g *gen) confidence() string { return vocab.Confidences[weighted(g.r, 50, 35, 15)] }

func (g *gen) date(at time.Time) string { return at.Format(time.DateOnly) }

// person returns a person of party p.
func (g *gen) person(p int) int { return pick(g.r, g.parties[p].people) }

// anyTalks returns the index of some talks, the recent ones more often.
func (g *gen) anyTalks() int { return g.r.IntN(len(g.talks)) }

// member returns a party of talks t: a side or a mediator.
func (g *gen) member(t int) int { return pick(g.r, g.talks[t].parties) }

// side returns a side of talks t other than not (-1 for any).
func (g *gen) side(t, not int) int {
	tk := &g.talks[t]
	for {
		if s := tk.parties[g.r.IntN(tk.nSides)]; s != not {
			return s
		}
	}
}

// recentProposal returns a proposal, the recent ones far more often.
func (g *gen) recentProposal() int {
	n := len(g.proposals)
	return max(0, n-1-g.r.IntN(1+g.r.IntN(12)))
}

// recentStatement returns a recent statement, or false.
func (g *gen) recentStatement() (stmt, bool) {
	if len(g.stmts) == 0 {
		return stmt{}, false
	}
	return pick(g.r, g.stmts), true
}

// about returns 1 to 3 things a statement by someone of party p may be about.
func (g *gen) about(p int) []string {
	var out []string
	for range 1 + weighted(g.r, 55, 30, 15) {
		var ref string
		switch weighted(g.r, 35, 20, 15, 10, 8, 12) {
		case 0:
			ref = g.proposals[g.recentProposal()].id
		case 1:
			ref = pick(g.r, g.parties).id
		case 2:
			ref = pick(g.r, g.actors).id
		case 3:
			tk := &g.talks[g.anyTalks()]
			if len(tk.meetings) > 0 {
				ref = pick(g.r, tk.meetings)
			} else {
				ref = tk.id
			}
		case 4:
			ref = g.talks[g.anyTalks()].id
		case 5:
			if s, ok := g.recentStatement(); ok {
				ref = s.ref
			} else {
				ref = g.parties[p].id
			}
		}
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

// conditionsFor returns the conditions a party attaches to a stance.
func (g *gen) conditionsFor(stance string) []string {
	n := 0
	switch stance {
	case vocab.AcceptsConditions:
		n = 1 + weighted(g.r, 50, 35, 15)
	case vocab.AcceptsInPrinciple:
		n = weighted(g.r, 30, 50, 20)
	case vocab.Counters, vocab.Rejects:
		n = weighted(g.r, 75, 25)
	}
	var out []string
	for len(out) < n {
		if c := pick(g.r, conditions); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// nextStance returns a stance other than the current one (-1 for none).
func (g *gen) nextStance(cur int8) int8 {
	for {
		s := int8(weighted(g.r, 12, 22, 22, 12, 14, 18))
		if s != cur {
			return s
		}
	}
}

// ----- the cast -----

// newActor declares an actor of party p (-1 for none) and returns its index.
func (g *gen) newActor(p int, kind, name, title string) int {
	a := actor{id: "actor-" + itoa(len(g.actors)+1), name: name, kind: kind, party: p, title: title}
	b := &vocab.ActorBody{ID: a.id, Name: name, Kind: kind}
	author := 0
	if p >= 0 {
		b.Party = g.parties[p].id
		author = p
	}
	if title != "" {
		b.Titles = []vocab.Title{{Title: title, From: g.date(g.clock)}}
	}
	if kind == "person" && g.r.IntN(3) == 0 {
		b.Aliases = []string{name[strings.LastIndexByte(name, ' ')+1:]}
	}
	g.actors = append(g.actors, a)
	quote := name
	if title != "" {
		quote = title + " " + name
	}
	g.put(out{typ: "actor", party: author, body: b, quote: quote, key: key{kActor, int32(len(g.actors) - 1), 0}})
	return len(g.actors) - 1
}

// newPerson declares a person of party p with a title.
func (g *gen) newPerson(p int, title string) int {
	name := pick(g.r, firstNames) + " " + pick(g.r, lastNames)
	i := g.newActor(p, "person", name, title)
	g.parties[p].people = append(g.parties[p].people, i)
	return i
}

// members returns 2 to 4 distinct people of party p.
func (g *gen) members(p int) []string {
	people := g.parties[p].people
	n := min(len(people), 2+g.r.IntN(3))
	var out []string
	for _, i := range g.r.Perm(len(people))[:n] {
		out = append(out, g.actors[people[i]].id)
	}
	return out
}

// newDelegation declares party p's delegation, or changes its members.
func (g *gen) newDelegation(p int) {
	pt := &g.parties[p]
	if pt.delegation >= 0 {
		d := pt.delegation
		g.put(out{typ: "actor", party: p, body: &vocab.ActorBody{ID: g.actors[d].id, Members: g.members(p)},
			quote: "the delegation of " + pt.name, key: key{kActor, int32(d), 0}})
		return
	}
	a := actor{id: "actor-" + itoa(len(g.actors)+1), name: "Delegation of " + pt.name, kind: "delegation", party: p}
	g.actors = append(g.actors, a)
	pt.delegation = len(g.actors) - 1
	g.put(out{typ: "actor", party: p, body: &vocab.ActorBody{ID: a.id, Name: a.name, Kind: a.kind, Party: pt.id, Members: g.members(p)},
		quote: "the " + pt.name + " delegation", key: key{kActor, int32(pt.delegation), 0}})
}

// newTalks declares talks between two sides with one or two mediators, and
// puts the mediators' envoys on the roster.
func (g *gen) newTalks() {
	i := len(g.talks)
	a := g.sides[(2*i)%len(g.sides)]
	b := g.sides[(2*i+1)%len(g.sides)]
	tk := talks{id: "talks-" + itoa(i+1), parties: []int{a, b}, nSides: 2}
	tk.name = fmt.Sprintf("%s–%s talks", g.parties[a].name, g.parties[b].name)
	if i >= len(g.sides) {
		tk.name += fmt.Sprintf(" (track %d)", i/len(g.sides)+1)
	}
	for _, k := range g.r.Perm(len(g.mediators))[:min(len(g.mediators), 1+g.r.IntN(2))] {
		tk.parties = append(tk.parties, g.mediators[k])
	}
	body := &vocab.TalksBody{ID: tk.id, Name: tk.name, Parties: []string{g.parties[a].id, g.parties[b].id}}
	for _, m := range tk.parties[2:] {
		body.Mediators = append(body.Mediators, g.parties[m].id)
	}
	g.talks = append(g.talks, tk)
	g.put(out{typ: "talks", party: a, body: body, quote: "negotiations between " + g.parties[a].name + " and " + g.parties[b].name,
		key: key{kTalks, int32(i), 0}})
	for _, m := range tk.parties[2:] {
		a := g.person(m)
		g.put(out{typ: "roster", party: m, body: &vocab.RosterBody{Talks: tk.id, Actor: g.actors[a].id, Status: "active"},
			quote: "through the envoy of the " + g.parties[m].name, key: key{kRoster, int32(i), int32(a)}})
	}
}

// newTrack declares a track between parties a and b.
func (g *gen) newTrack(a, b int) {
	k := pick(g.r, trackKinds)
	t := track{id: "track-" + itoa(len(g.tracks)+1), subject: k.subject, a: a, b: b, status: []string{"active", "paused"}[weighted(g.r, 70, 30)]}
	g.tracks = append(g.tracks, t)
	name := fmt.Sprintf("%s to %s: %s", g.parties[a].name, g.parties[b].name, k.subject)
	g.put(out{typ: "track", party: a, body: &vocab.TrackBody{ID: t.id, Name: name, Parties: []string{g.parties[a].id, g.parties[b].id},
		Subject: k.subject, Kind: k.kind, Status: t.status}, quote: k.subject + " is " + t.status, key: key{kTrack, int32(len(g.tracks) - 1), 0}})
}

// newProposal puts a proposal by party p on the table of talks t and
// returns its id ("" once the file is full).
func (g *gen) newProposal(t, p int) string {
	k := pick(g.r, proposalKinds)
	name := k.name
	if strings.Contains(name, "%d") {
		name = fmt.Sprintf(name, []int{7, 14, 30, 60, 90}[g.r.IntN(5)])
	}
	topic := pick(g.r, topics)
	pr := proposal{id: "prop-" + itoa(len(g.proposals)+1), name: name, topic: topic, talks: t,
		stance: slices.Repeat([]int8{-1}, len(g.talks[t].parties))}
	var ts []string
	for len(ts) < 1+g.r.IntN(4) {
		if x := pick(g.r, terms); !slices.Contains(ts, x) {
			ts = append(ts, x)
		}
	}
	proposer := g.parties[p].id
	if g.r.IntN(10) < 3 {
		proposer = g.actors[g.person(p)].id
	}
	text := fmt.Sprintf("A %s in the %s, covering %s.", name, g.talks[t].name, topic)
	g.proposals = append(g.proposals, pr)
	idx := g.put(out{typ: "proposal", party: p, body: &vocab.ProposalBody{ID: pr.id, Name: strings.ToUpper(name[:1]) + name[1:], Text: text,
		Terms: ts, Proposer: proposer, Subject: k.subject}, quote: "a proposed " + name, key: key{kProposal, int32(len(g.proposals) - 1), 0}})
	if idx < 0 {
		return ""
	}
	return pr.id
}

// ----- events -----

// say writes a statement by actor a about the things named, on a topic
// (any, if empty), and returns how later entries may refer to it ("" once
// the file is full).
func (g *gen) say(a int, topic string, about []string) string {
	if topic == "" {
		topic = pick(g.r, topics)
	}
	return g.sayWords(a, pick(g.r, sayVerbs), fmt.Sprintf(pick(g.r, quoteFrames), topic),
		fmt.Sprintf(pick(g.r, paraphraseFrames), topic), topic, about)
}

// sayWords writes a statement with these words: the quote, the
// paraphrase, or a few words quoted within the paraphrase.
func (g *gen) sayWords(a int, verb, quote, para, words string, about []string) string {
	ac := &g.actors[a]
	g.n.statement++
	n := g.n.statement
	b := &vocab.StatementBody{Speaker: ac.id, Verb: verb, About: about, Confidence: g.confidence()}
	withID := g.r.IntN(100) < 85
	if withID {
		b.ID = "st-" + itoa(n)
	}
	switch weighted(g.r, 45, 35, 20) {
	case 0:
		b.Quote = quote
	case 1:
		b.Paraphrase, quote = para, para
	default:
		b.Quote, b.Paraphrase = words, para
	}
	if ac.party >= 0 && g.r.IntN(30) == 0 {
		b.For = g.parties[ac.party].id
	}
	party := max(ac.party, 0)
	idx := g.put(out{typ: "statement", party: party, body: b, quote: quote, key: key{kStatement, int32(n), 0}})
	if idx < 0 {
		return ""
	}
	s := stmt{party: party}
	switch {
	case !withID:
		s.ref, s.entity = fmt.Sprintf("#%d", idx), fmt.Sprintf("statement/s%d", idx)
	case g.r.IntN(2) == 0:
		s.ref, s.entity = b.ID, "statement/"+b.ID
	default:
		s.ref, s.entity = "statement/"+b.ID, "statement/"+b.ID
	}
	if len(g.stmts) < 64 {
		g.stmts = append(g.stmts, s)
	} else {
		g.stmts[n%64] = s
	}
	return s.ref
}

func (g *gen) statement() bool {
	p := g.r.IntN(len(g.parties))
	g.say(g.person(p), "", g.about(p))
	return true
}

// position writes where a party of the talks stands on a recent proposal,
// often with the statement it rests on just before it.
func (g *gen) position() bool {
	pi := g.recentProposal()
	pr := g.proposals[pi] // a copy: a counter-proposal may grow the slice
	t := pr.talks
	slot := g.r.IntN(len(g.talks[t].parties))
	p := g.talks[t].parties[slot]
	st := g.nextStance(pr.stance[slot])
	stance := vocab.Stances[st]
	b := &vocab.PositionBody{Party: g.parties[p].id, Proposal: pr.id, Stance: stance, Conditions: g.conditionsFor(stance)}
	if stance == vocab.Counters && g.r.IntN(10) < 6 {
		b.Counter = g.newProposal(t, p)
	}
	switch weighted(g.r, 55, 20, 25) {
	case 0:
		w := stanceWords[stance]
		b.Statement = g.sayWords(g.person(p), pick(g.r, w.verbs), fmt.Sprintf(w.quote, pr.name), fmt.Sprintf(w.paraphrase, pr.name),
			w.words, []string{pr.id})
	case 1:
		if s, ok := g.recentStatement(); ok {
			b.Statement = s.ref
		}
	}
	g.put(out{typ: "position", party: p, body: b, quote: g.parties[p].name + " " + strings.ReplaceAll(stance, "-", " ") + " the " + pr.name,
		key: key{kPosition, int32(pi), int32(slot)}})
	g.proposals[pi].stance[slot] = st
	return true
}

func (g *gen) proposal() bool {
	if g.r.IntN(4) > 0 {
		t := g.anyTalks()
		g.newProposal(t, g.member(t))
		return true
	}
	// An amendment: new terms for a recent proposal.
	pi := g.recentProposal()
	pr := &g.proposals[pi]
	ts := []string{pick(g.r, terms), pick(g.r, terms)}
	if ts[0] == ts[1] {
		ts = ts[:1]
	}
	p := g.talks[pr.talks].parties[0]
	g.put(out{typ: "proposal", party: p, body: &vocab.ProposalBody{ID: pr.id, Terms: ts}, quote: "the amended " + pr.name,
		key: key{kProposal, int32(pi), 0}})
	return true
}

// message writes a message from someone of one party to someone of
// another, through up to three carriers.
func (g *gen) message() bool {
	t := g.anyTalks()
	pa := g.member(t)
	pb := g.member(t)
	for pb == pa {
		pb = g.member(t)
	}
	route := []int{g.person(pa)}
	carriers := weighted(g.r, 35, 35, 20, 10)
	for range carriers * 3 {
		if len(route) > carriers {
			break
		}
		c := g.person(g.member(t))
		if !slices.Contains(route, c) {
			route = append(route, c)
		}
	}
	to := g.person(pb)
	if slices.Contains(route, to) {
		return false
	}
	route = append(route, to)
	g.n.message++
	m := &message{n: g.n.message, id: "msg-" + itoa(g.n.message), route: route, party: pa}
	if len(route) > 2 {
		m.holder = 1
	}
	topic := pick(g.r, topics)
	summary := pick(g.r, messageKinds)
	if strings.Contains(summary, "%s") {
		summary = fmt.Sprintf(summary, topic)
	}
	b := &vocab.MessageBody{ID: m.id, From: g.actors[route[0]].id, To: g.actors[to].id, Summary: summary, Confidence: g.confidence()}
	for _, c := range route[1 : len(route)-1] {
		b.Via = append(b.Via, g.actors[c].id)
	}
	if g.r.IntN(5) == 0 {
		b.Content = fmt.Sprintf(pick(g.r, quoteFrames), topic)
	}
	quote := fmt.Sprintf("%s were passed to %s", summary, g.actors[to].name)
	if g.put(out{typ: "message", party: pa, body: b, quote: quote, key: key{kMessage, int32(m.n), 0}}) < 0 {
		return true
	}
	g.inflight = append(g.inflight, m)
	g.messages[m.n] = m
	// A message nobody reports on again is lost to the record.
	if len(g.inflight) > 24+g.openTarget()/4 {
		g.drop(g.inflight[0])
	}
	return true
}

// drop forgets a message in flight; what waits on it, undelivered, is doomed.
func (g *gen) drop(m *message) {
	if !m.delivered {
		for _, a := range g.open {
			if slices.Contains(a.waits, wait{message: true, n: m.n}) {
				a.doomed = true
			}
		}
	}
	i := slices.Index(g.inflight, m)
	g.inflight = slices.Delete(g.inflight, i, i+1)
	delete(g.messages, m.n)
}

// relay writes the next hop of a message in flight: handed to the next
// carrier, delivered to the recipient, or acknowledged back along the route.
func (g *gen) relay() bool {
	if len(g.inflight) == 0 {
		return false
	}
	m := pick(g.r, g.inflight)
	if g.r.IntN(40) == 0 {
		g.drop(m)
		return false
	}
	last := len(m.route) - 1
	b := &vocab.RelayBody{Message: m.id, Confidence: g.confidence()}
	var quote string
	if m.delivered {
		back := 0
		if g.r.IntN(10) < 3 {
			back = g.r.IntN(last)
		}
		b.Event, b.From, b.To = "acknowledged", g.actors[m.route[last]].id, g.actors[m.route[back]].id
		quote = fmt.Sprintf("%s confirmed to %s that the message had arrived", g.actors[m.route[last]].name, g.actors[m.route[back]].name)
		g.drop(m)
	} else {
		from, to := m.route[m.holder], m.route[m.holder+1]
		m.holder++
		b.Event, b.From, b.To = "handed", g.actors[from].id, g.actors[to].id
		quote = fmt.Sprintf("%s passed the message on to %s", g.actors[from].name, g.actors[to].name)
		if m.holder == last {
			quote = fmt.Sprintf("%s delivered the message to %s", g.actors[from].name, g.actors[to].name)
			b.Event, m.delivered = "delivered", true
			if g.r.IntN(10) < 6 {
				g.drop(m)
			}
		}
	}
	g.put(out{typ: "relay", party: m.party, body: b, quote: quote})
	return true
}

// meeting writes a meeting of the talks: who attended, who was expected and
// absent, and what some of them called it.
func (g *gen) meeting() bool {
	t := g.anyTalks()
	tk := &g.talks[t]
	var people []int
	for _, p := range tk.parties {
		people = append(people, g.parties[p].people...)
	}
	for _, e := range tk.envoys {
		if !slices.Contains(people, e) {
			people = append(people, e)
		}
	}
	order := g.r.Perm(len(people))
	n := min(len(people), 2+g.r.IntN(5))
	var attended, absent []string
	var who, missing []int
	for _, i := range order[:n] {
		attended, who = append(attended, g.actors[people[i]].id), append(who, people[i])
	}
	for _, i := range order[n:min(len(order), n+weighted(g.r, 65, 25, 10))] {
		absent, missing = append(absent, g.actors[people[i]].id), append(missing, people[i])
	}
	tk.round++
	g.n.meeting++
	place := pick(g.r, places)
	b := &vocab.MeetingBody{ID: "meeting-" + itoa(g.n.meeting), Name: fmt.Sprintf("Round %d of the %s, %s", tk.round, tk.name, place),
		Talks: tk.id, Place: place, Attended: attended, Absent: absent}
	for range weighted(g.r, 50, 35, 15) {
		by := pick(g.r, who)
		c := vocab.Characterisation{By: g.actors[by].id, Words: pick(g.r, meetingWords)}
		if g.r.IntN(2) == 0 {
			c.Statement = g.say(by, "the talks in "+place, []string{tk.id})
		}
		b.Characterisations = append(b.Characterisations, c)
	}
	idx := g.put(out{typ: "meeting", party: tk.parties[0], body: b, quote: g.actors[who[0]].name + " met " + g.actors[who[1]].name + " in " + place,
		key: key{kMeeting, int32(g.n.meeting), 0}})
	if idx < 0 {
		return true
	}
	if len(tk.meetings) < 6 {
		tk.meetings = append(tk.meetings, b.ID)
	} else {
		tk.meetings[tk.round%6] = b.ID
	}
	if len(absent) > 0 && g.r.IntN(3) == 0 {
		a := missing[0]
		g.put(out{typ: "roster", party: tk.parties[0], body: &vocab.RosterBody{Talks: tk.id, Actor: absent[0], Status: "absent",
			Meetings: []string{b.ID}, Note: "absent from the meeting; not removed"}, quote: "was absent from the meeting in " + place,
			key: key{kRoster, int32(t), int32(a)}})
	}
	return true
}

// openTarget is about how many actions are open at once.
func (g *gen) openTarget() int { return min(max(g.c.Entries/200, 16), 300) }

// action writes a new action, or moves an open one along: ready when what
// it waits on is done, then done or cancelled.
func (g *gen) action() bool {
	n, target := len(g.open), g.openTarget()
	chance := 50
	switch {
	case n < target/2:
		chance = 85
	case n >= target:
		chance = 10
	}
	if n == 0 || g.r.IntN(100) < chance {
		return g.newAction()
	}
	return g.moveAction(pick(g.r, g.open))
}

func (g *gen) newAction() bool {
	t := g.anyTalks()
	p := g.member(t)
	owner := g.actors[g.person(p)]
	ownerID := owner.id
	if g.r.IntN(5) == 0 {
		ownerID = g.parties[p].id
	}
	other := g.actors[g.person(g.member(t))]
	f := pick(g.r, actionFrames)
	what := fmt.Sprintf(f.what, owner.name, other.name)
	if f.kind == "visit" {
		what = fmt.Sprintf(f.what, owner.name, pick(g.r, places))
	}
	g.n.action++
	a := &action{n: g.n.action, id: "act-" + itoa(g.n.action), what: what, party: p}
	b := &vocab.ActionBody{ID: a.id, What: what, Kind: f.kind, Owner: ownerID}
	for range weighted(g.r, 45, 30, 17, 8) {
		var w wait
		var ref string
		if len(g.inflight) > 0 && g.r.IntN(3) == 0 {
			m := pick(g.r, g.inflight)
			if m.delivered {
				continue
			}
			w, ref = wait{message: true, n: m.n}, m.id
			if g.r.IntN(2) == 0 {
				ref = "message/" + ref
			}
		} else if len(g.open) > 0 {
			o := pick(g.r, g.open)
			w, ref = wait{n: o.n}, o.id
		} else {
			continue
		}
		if !slices.Contains(a.waits, w) {
			a.waits = append(a.waits, w)
			b.WaitsOn = append(b.WaitsOn, ref)
		}
	}
	if len(a.waits) > 0 {
		a.status = []string{"blocked", "pending"}[weighted(g.r, 70, 30)]
	} else {
		a.status = []string{"planned", "pending"}[g.r.IntN(2)]
	}
	b.Status = a.status
	b.Due = g.due()
	idx := g.put(out{typ: "action", party: p, body: b, quote: what, key: key{kAction, int32(a.n), 0}})
	if idx < 0 {
		return true
	}
	a.born = idx
	g.open = append(g.open, a)
	g.actions[a.n] = a
	g.stats.MaxOpenActions = max(g.stats.MaxOpenActions, len(g.open))
	return true
}

// due returns a due date some days ahead, "tbd", or nothing.
func (g *gen) due() string {
	switch weighted(g.r, 30, 50, 20) {
	case 0:
		return vocab.TBD
	case 1:
		return g.date(g.clock.Add(time.Duration(1+g.r.IntN(60)) * 24 * time.Hour))
	}
	return ""
}

// waitsDone says whether everything a waits on is done: the actions closed
// (a cancelled one dooms its dependants) and the messages delivered.
func (g *gen) waitsDone(a *action) bool {
	for _, w := range a.waits {
		if w.message {
			if m, ok := g.messages[w.n]; ok && !m.delivered {
				return false
			}
		} else if _, open := g.actions[w.n]; open {
			return false
		}
	}
	return true
}

func (g *gen) moveAction(a *action) bool {
	var status string
	switch {
	case a.doomed:
		status = "cancelled"
	case g.waitsDone(a):
		switch a.status {
		case "blocked":
			status = "ready"
		case "planned":
			status = []string{"pending", "done"}[g.r.IntN(2)]
		default:
			status = []string{"done", "cancelled"}[weighted(g.r, 88, 12)]
		}
	case g.next-a.born > int64(40*g.openTarget()):
		status = "cancelled"
	case a.status != "blocked":
		status = "blocked"
	default:
		return false
	}
	b := &vocab.ActionBody{ID: a.id, Status: status}
	if g.r.IntN(5) == 0 && !vocab.Closed(status) {
		b.Due = g.due()
	}
	a.status = status
	g.put(out{typ: "action", party: a.party, body: b, quote: a.what + ": " + status, key: key{kAction, int32(a.n), 0}})
	if vocab.Closed(status) {
		i := slices.Index(g.open, a)
		g.open = slices.Delete(g.open, i, i+1)
		delete(g.actions, a.n)
		if status == "cancelled" {
			for _, o := range g.open {
				if slices.Contains(o.waits, wait{n: a.n}) {
					o.doomed = true
				}
			}
		}
	}
	return true
}

// request writes a party asking something of another, or a later outcome
// of an undecided request; an exclusion granted puts the actor off the roster.
func (g *gen) request() bool {
	if len(g.undecided) > 0 && (len(g.undecided) > 12+g.openTarget()/8 || g.r.IntN(2) == 0) {
		return g.decide(pick(g.r, g.undecided))
	}
	t := g.anyTalks()
	tk := &g.talks[t]
	by := g.side(t, -1)
	of := g.member(t)
	for of == by {
		of = g.member(t)
	}
	g.n.request++
	r := &request{n: g.n.request, id: "req-" + itoa(g.n.request), talks: t, of: of, concerning: -1, party: by,
		kind: vocab.RequestKinds[weighted(g.r, 30, 10, 20, 25, 15)]}
	b := &vocab.RequestBody{ID: r.id, By: g.parties[by].id, Of: g.parties[of].id, Kind: r.kind, Talks: tk.id,
		Outcome: "requested", Confidence: g.confidence()}
	switch r.kind {
	case "exclude", "include":
		r.concerning = g.person(g.member(t))
		b.Concerning = g.actors[r.concerning].id
		verb := "exclude %s from the %s"
		if r.kind == "include" {
			verb = "include %s in the %s"
		}
		b.What = fmt.Sprintf(verb, g.actors[r.concerning].name, tk.name)
	case "aid":
		b.What = "resume deliveries of " + pick(g.r, trackKinds).subject
	case "meeting":
		b.What = "hold a meeting of leaders in " + pick(g.r, places)
	default:
		b.What = "give guarantees on " + pick(g.r, topics)
	}
	if g.put(out{typ: "request", party: by, body: b, quote: g.parties[by].name + " has asked the " + g.parties[of].name + " to " + b.What,
		key: key{kRequest, int32(g.n.request), 0}}) >= 0 {
		g.undecided = append(g.undecided, r)
	}
	return true
}

func (g *gen) decide(r *request) bool {
	outcome := vocab.Outcomes[1+weighted(g.r, 35, 35, 30)]
	g.put(out{typ: "request", party: r.of, body: &vocab.RequestBody{ID: r.id, Outcome: outcome},
		quote: "the request was " + outcome, key: key{kRequest, int32(r.n), 0}})
	if outcome == "no-decision" {
		return true
	}
	i := slices.Index(g.undecided, r)
	g.undecided = slices.Delete(g.undecided, i, i+1)
	if outcome == "granted" && r.concerning >= 0 {
		status, by := "excluded", g.parties[r.of].id
		if r.kind == "include" {
			status, by = "active", ""
		}
		tk := &g.talks[r.talks]
		g.put(out{typ: "roster", party: r.of, body: &vocab.RosterBody{Talks: tk.id, Actor: g.actors[r.concerning].id, Status: status,
			By: by, Request: r.id}, quote: g.actors[r.concerning].name + " is " + status, key: key{kRoster, int32(r.talks), int32(r.concerning)}})
	}
	return true
}

// roster writes an actor's place in talks.
func (g *gen) roster() bool {
	t := g.anyTalks()
	tk := &g.talks[t]
	a := g.person(g.member(t))
	if len(tk.envoys) > 0 && g.r.IntN(4) == 0 {
		a = pick(g.r, tk.envoys)
	}
	b := &vocab.RosterBody{Talks: tk.id, Actor: g.actors[a].id}
	switch weighted(g.r, 75, 20, 5) {
	case 0:
		b.Status = "active"
	case 1:
		b.Status = "absent"
		if len(tk.meetings) > 0 && g.r.IntN(3) > 0 {
			b.Meetings = []string{pick(g.r, tk.meetings)}
		}
	default:
		b.Status, b.By = "excluded", g.parties[g.side(t, -1)].id
	}
	if g.r.IntN(10) < 3 {
		b.Note = pick(g.r, rosterNotes)
	}
	g.put(out{typ: "roster", party: tk.parties[0], body: b, quote: g.actors[a].name + " is " + b.Status,
		key: key{kRoster, int32(t), int32(a)}})
	return true
}

// assessment writes someone's judgement of a proposal, a statement or a meeting.
func (g *gen) assessment() bool {
	p := g.r.IntN(len(g.parties))
	by := g.person(p)
	var of string
	switch weighted(g.r, 50, 30, 20) {
	case 0:
		of = g.proposals[g.recentProposal()].id
	case 1:
		if s, ok := g.recentStatement(); ok {
			of = s.ref
		}
	case 2:
		tk := &g.talks[g.anyTalks()]
		if len(tk.meetings) > 0 {
			of = pick(g.r, tk.meetings)
		}
	}
	if of == "" {
		of = g.proposals[g.recentProposal()].id
	}
	tone := vocab.Tones[weighted(g.r, 35, 35, 30)]
	b := &vocab.AssessmentBody{By: g.actors[by].id, Of: of, Tone: tone, Words: g.words(tone)}
	if g.r.IntN(100) < 35 {
		b.Statement = g.say(by, "", []string{of})
	}
	g.put(out{typ: "assessment", party: p, body: b, quote: judged(b.Words, tone)})
	return true
}

// judged quotes the words of a judgement: "promising" but "not complete".
func judged(words []string, tone string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	if tone == "mixed" {
		return strings.Join(q, " but ")
	}
	return strings.Join(q, " and ")
}

// words returns one to three words of a tone.
func (g *gen) words(tone string) []string {
	list := toneWords[tone]
	var out []string
	for range 1 + weighted(g.r, 50, 35, 15) {
		if w := pick(g.r, list); !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// accusation writes one side accusing the other.
func (g *gen) accusation() bool {
	t := g.anyTalks()
	pa := g.side(t, -1)
	pb := g.side(t, pa)
	speaker := g.person(pa)
	by := g.actors[speaker].id
	if g.r.IntN(10) < 3 {
		by = g.parties[pa].id
	}
	against := g.parties[pb].id
	if g.r.IntN(10) < 3 {
		against = g.actors[g.person(pb)].id
	}
	charge := pick(g.r, charges)
	b := &vocab.AccusationBody{By: by, Against: against, Charge: charge, Confidence: g.confidence()}
	if g.r.IntN(2) == 0 {
		b.Statement = g.say(speaker, "", []string{against})
	}
	g.put(out{typ: "accusation", party: pa, body: b, quote: "accusing " + g.parties[pb].name + " of " + charge})
	return true
}

// track writes a new track or a change of a track's status.
func (g *gen) track() bool {
	if len(g.tracks) < 3*len(g.parties) && g.r.IntN(5) == 0 {
		t := g.anyTalks()
		a := g.member(t)
		b := g.side(t, a)
		g.newTrack(a, b)
		return true
	}
	i := g.r.IntN(len(g.tracks))
	tr := &g.tracks[i]
	next := map[string][]string{
		"active":    {"paused", "paused", "restoring"},
		"paused":    {"restoring", "restoring", "active"},
		"restoring": {"restored", "restored", "paused"},
		"restored":  {"paused", "active", "active"},
	}[tr.status]
	tr.status = pick(g.r, next)
	said := map[string]string{"active": "%s has resumed", "paused": "%s has been paused", "restoring": "working to restore %s",
		"restored": "%s has been restored"}[tr.status]
	g.put(out{typ: "track", party: tr.a, body: &vocab.TrackBody{ID: tr.id, Status: tr.status}, quote: fmt.Sprintf(said, tr.subject),
		key: key{kTrack, int32(i), 0}})
	return true
}

// actorEvent writes a new person, a new title, a delegation's members, an
// organisation, or an envoy joining talks.
func (g *gen) actorEvent() bool {
	p := g.r.IntN(len(g.parties))
	titles := sideTitles
	if g.parties[p].role == "mediator" {
		titles = mediatorTitles
	}
	switch weighted(g.r, 35, 35, 10, 10, 10) {
	case 0:
		g.newPerson(p, pick(g.r, titles))
	case 1:
		a := g.person(p)
		title := pick(g.r, titles)
		if title == g.actors[a].title {
			return false
		}
		g.actors[a].title = title
		g.put(out{typ: "actor", party: p, body: &vocab.ActorBody{ID: g.actors[a].id, Titles: []vocab.Title{{Title: title, From: g.date(g.clock)}}},
			quote: "newly appointed " + title + " " + g.actors[a].name, key: key{kActor, int32(a), 0}})
	case 2:
		if g.parties[p].role != "side" {
			return false
		}
		g.newDelegation(p)
	case 3:
		owner := -1
		if g.r.IntN(2) == 0 {
			owner = pick(g.r, g.mediators)
		}
		g.newActor(owner, "organisation", numbered(organisations, g.r.IntN(len(organisations)*2)), "")
	case 4:
		// An envoy of a mediator joins talks it does not mediate as a party.
		t := g.anyTalks()
		tk := &g.talks[t]
		m := pick(g.r, g.mediators)
		e := g.person(m)
		if slices.Contains(tk.envoys, e) || len(tk.envoys) >= 4 {
			return false
		}
		tk.envoys = append(tk.envoys, e)
		body := &vocab.TalksBody{ID: tk.id}
		for _, mp := range tk.parties[tk.nSides:] {
			body.Mediators = append(body.Mediators, g.parties[mp].id)
		}
		for _, x := range tk.envoys {
			body.Mediators = append(body.Mediators, g.actors[x].id)
		}
		g.put(out{typ: "talks", party: m, body: body, quote: g.actors[e].name + " joins the " + tk.name, key: key{kTalks, int32(t), 0}})
		g.put(out{typ: "roster", party: m, body: &vocab.RosterBody{Talks: tk.id, Actor: g.actors[e].id, Status: "active", Note: "mediates"},
			quote: g.actors[e].name + " is active", key: key{kRoster, int32(t), int32(e)}})
	}
	return true
}

// talksEvent opens new talks, while there are fewer than a few per side.
func (g *gen) talksEvent() bool {
	if len(g.talks) >= 2*len(g.sides) {
		return false
	}
	g.newTalks()
	t := len(g.talks) - 1
	g.newProposal(t, g.talks[t].parties[g.talks[t].nSides])
	return true
}

// partyEvent gives a party another name it is known by.
func (g *gen) partyEvent() bool {
	p := g.r.IntN(len(g.parties))
	alias := "the " + g.parties[p].name + " government"
	if g.parties[p].role == "mediator" {
		alias = "the " + g.parties[p].name + " mediators"
	}
	g.put(out{typ: "party", party: p, body: &vocab.PartyBody{ID: g.parties[p].id, Aliases: []string{alias}}, quote: alias,
		key: key{kParty, int32(p), 0}})
	return true
}
