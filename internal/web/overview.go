package web

import (
	"net/http"
	"slices"

	"parley/internal/state"
)

// OverviewView is the state of the talks at a glance. Each panel shows at
// most a screenful; More says how many were left out.
type OverviewView struct {
	Matrix     Matrix
	More       map[string]int
	Positions  state.Positions
	Pending    state.Pending
	Roster     state.Roster
	Tracks     state.Tracks
	Statements state.Statements
}

// Matrix is proposals × parties: each cell a party's position on a
// proposal.
type Matrix struct {
	Parties []state.Ref
	Rows    []MatrixRow
}

// MatrixRow is one proposal's positions, one cell per party of the matrix.
type MatrixRow struct {
	Proposal state.ProposalStanding
	Cells    []*state.PositionRow // nil where the party has no position
}

// matrixOf lays positions out as a matrix, with a column for each party
// in parties (every party that ever took a position, so that a party with
// none yet at the page's time shows as such) and each party in p.
func matrixOf(p state.Positions, parties []state.Ref) Matrix {
	var m Matrix
	seen := map[string]bool{}
	for _, r := range parties {
		if !seen[r.Key] {
			seen[r.Key] = true
			m.Parties = append(m.Parties, r)
		}
	}
	for _, ps := range p.Proposals {
		for _, row := range ps.Positions {
			if !seen[row.Party.Key] {
				seen[row.Party.Key] = true
				m.Parties = append(m.Parties, row.Party)
			}
		}
	}
	slices.SortFunc(m.Parties, func(a, b state.Ref) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	for _, ps := range p.Proposals {
		r := MatrixRow{Proposal: ps, Cells: make([]*state.PositionRow, len(m.Parties))}
		for i := range ps.Positions {
			at := slices.IndexFunc(m.Parties, func(x state.Ref) bool { return x.Key == ps.Positions[i].Party.Key })
			r.Cells[at] = &ps.Positions[i]
		}
		m.Rows = append(m.Rows, r)
	}
	return m
}

// Overview is the first page: the positions matrix, pending actions, the
// roster, the tracks, the latest statements and the checkpoint.
func (s *Site) Overview(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	ctx := r.Context()
	var v OverviewView
	for _, q := range []struct {
		query state.Query
		into  func(any)
	}{
		{state.Query{Question: "positions", Limit: maxProposals + 1}, func(a any) { v.Positions = a.(state.Positions) }},
		{state.Query{Question: "pending", Limit: maxRows + 1}, func(a any) { v.Pending = a.(state.Pending) }},
		{state.Query{Question: "roster", Limit: maxTalks + 1}, func(a any) { v.Roster = a.(state.Roster) }},
		{state.Query{Question: "tracks", Limit: maxRows + 1}, func(a any) { v.Tracks = a.(state.Tracks) }},
		{state.Query{Question: "statements", Limit: 8}, func(a any) { v.Statements = a.(state.Statements) }},
	} {
		a, err := s.ask(ctx, c, q.query)
		if err != nil {
			return err
		}
		q.into(a)
	}
	// The columns: every party with a position now, as well as then.
	now, err := s.ask(ctx, ClockView{}, state.Query{Question: "positions", Limit: maxProposals + 1})
	if err != nil {
		return err
	}
	var parties []state.Ref
	for _, ps := range now.(state.Positions).Proposals {
		for _, row := range ps.Positions {
			parties = append(parties, row.Party)
		}
	}
	v.More = map[string]int{}
	v.Positions.Proposals = capped(v.Positions.Proposals, maxProposals, v.More, "proposals")
	v.Pending.Actions = capped(v.Pending.Actions, maxRows, v.More, "actions")
	v.Roster.Talks = capped(v.Roster.Talks, maxTalks, v.More, "talks")
	for i := range v.Roster.Talks {
		v.Roster.Talks[i].Members = capped(v.Roster.Talks[i].Members, maxRows, v.More, "members")
	}
	v.Tracks.Tracks = capped(v.Tracks.Tracks, maxRows, v.More, "tracks")
	v.Matrix = matrixOf(v.Positions, parties)
	return s.render(w, r, http.StatusOK, "overview", Page{Title: "Overview", Nav: "overview", Clock: c, Body: v})
}

// How much of each panel the overview shows.
const (
	maxProposals = 12
	maxTalks     = 4
	maxRows      = 20
)

// capped keeps the first n of list and counts the rest under name.
func capped[T any](list []T, n int, more map[string]int, name string) []T {
	if len(list) <= n {
		return list
	}
	more[name] += len(list) - n
	return list[:n]
}
