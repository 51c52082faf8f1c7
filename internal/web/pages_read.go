package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/problem"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
)

// timelinePage is how many lines the timeline shows at once.
const timelinePage = 100

// TimelineView is a page of the record told in order.
type TimelineView struct {
	From, To string // as typed, "" for open
	Lines    []state.StoryLine
	// Later is the link to the next page, "" on the last.
	Later string
	// Start is the link back to the first page, "" on it.
	Start string
}

// Timeline shows everything in order, a page at a time: from, to, the
// clock, and "later" to go on.
func (s *Site) Timeline(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	q := r.URL.Query()
	// after skips the lines at exactly from that the page before showed:
	// entries of one time may straddle two pages.
	after := int64(-1)
	if a := strings.TrimSpace(q.Get("after")); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < 0 {
			return problem.New(problem.Invalid, "after", "%q is not an entry index", a)
		}
		after = n
	}
	v, err := s.timeline(r.Context(), c, strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to")), after, timelinePage)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "timeline", Page{Title: "Timeline", Nav: "timeline", Clock: c, Body: v})
}

// timeline is one page of at most page lines from from (after entry
// after, if at least 0) to to.
func (s *Site) timeline(ctx context.Context, c ClockView, from, to string, after int64, page int) (TimelineView, error) {
	v := TimelineView{From: from, To: to}
	if from == "" {
		after = -1
	}
	var start time.Time
	if after >= 0 {
		t, err := state.ParseTime(from)
		if err != nil {
			return v, problem.New(problem.Invalid, "from", "%v", err)
		}
		start = t
	}
	// Ask for more until the lines left after the skipped ones fill the
	// page: many entries may share one time.
	var lines []state.StoryLine
	more := false
	for limit := page; ; limit *= 2 {
		a, err := s.ask(ctx, c, state.Query{Question: "timeline", Params: map[string]string{"from": from, "to": to}, Limit: limit})
		if err != nil {
			return v, err
		}
		t := a.(state.Timeline)
		lines = t.Lines
		for after >= 0 && len(lines) > 0 && lines[0].Time.Equal(start) && lines[0].Basis.Index <= after {
			lines = lines[1:]
		}
		more = t.More
		if len(lines) >= page || !t.More {
			break
		}
	}
	if len(lines) > page {
		lines, more = lines[:page], true
	}
	v.Lines = lines
	if more && len(lines) > 0 {
		last := lines[len(lines)-1]
		next := clockValues(c)
		next.Set("from", last.Time.UTC().Format(time.RFC3339Nano))
		next.Set("after", strconv.FormatInt(last.Basis.Index, 10))
		if to != "" {
			next.Set("to", to)
		}
		v.Later = "/timeline?" + next.Encode()
	}
	if from != "" {
		first := clockValues(c)
		if to != "" {
			first.Set("to", to)
		}
		v.Start = "/timeline"
		if len(first) > 0 {
			v.Start += "?" + first.Encode()
		}
	}
	return v, nil
}

// clockValues returns the clock's query parameters, to build a link on.
func clockValues(c ClockView) url.Values {
	v := url.Values{}
	if c.AsOf != "" {
		v.Set("as_of", c.AsOf)
	}
	if c.KnownAt != "" {
		v.Set("known_at", c.KnownAt)
	}
	return v
}

// StatementsView is who said what, with the filters that narrowed it.
type StatementsView struct {
	By, Party, About string
	// ByKey and PartyKey are the keys of the speaker and party chosen.
	ByKey, PartyKey string
	Confidence      []Choice
	// Actors and Parties fill the filters' lists.
	Actors, Parties []state.Ref
	Statements      []state.StatementRow
	More            bool
	// Error is a filter's refusal, shown next to it; Field names it.
	Error, Field string
}

// A Choice is one option of a filter and whether it is chosen.
type Choice struct {
	Value   string
	Checked bool
}

// statementsLimit is how many statements the page shows.
const statementsLimit = 100

// Statements shows who said what, filtered by speaker, by the speaker's
// party, by what it is about and by confidence, each with its sources.
func (s *Site) Statements(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	ctx := r.Context()
	q := r.URL.Query()
	v := StatementsView{By: strings.TrimSpace(q.Get("by")), Party: strings.TrimSpace(q.Get("party")), About: strings.TrimSpace(q.Get("about"))}
	var chosen []string
	for _, x := range q["confidence"] {
		for _, y := range strings.Split(x, ",") {
			if y = strings.TrimSpace(y); y != "" && !slices.Contains(chosen, y) {
				chosen = append(chosen, y)
			}
		}
	}
	for _, cf := range vocab.Confidences {
		v.Confidence = append(v.Confidence, Choice{Value: cf, Checked: slices.Contains(chosen, cf)})
	}
	var err error
	if v.Actors, err = s.entitiesOf(ctx, vocab.Actor); err != nil {
		return err
	}
	if v.Parties, err = s.entitiesOf(ctx, vocab.Party); err != nil {
		return err
	}
	status := http.StatusOK
	refuse := func(err error) error {
		var p *problem.Error
		if !errors.As(err, &p) {
			return err
		}
		// The statements question names its filters as the CLI does ("--by").
		field := strings.TrimLeft(p.Where, "-")
		if !slices.Contains([]string{"by", "party", "about", "confidence"}, field) {
			return err
		}
		v.Error, v.Field = p.Message, field
		status = filterStatus(p.Kind)
		return nil
	}
	party := ""
	if v.Party != "" {
		if party, err = partyKey(v.Parties, v.Party); err != nil {
			if err := refuse(err); err != nil {
				return err
			}
		}
	}
	v.ByKey, v.PartyKey = chosenKey(v.Actors, vocab.Actor, v.By), party
	if v.Error == "" {
		limit := statementsLimit
		if party != "" {
			limit = 1000 // filtered here, after the answer
		}
		a, err := s.ask(ctx, c, state.Query{Question: "statements", Limit: limit,
			Params: map[string]string{"by": v.By, "about": v.About, "confidence": strings.Join(chosen, ",")}})
		if err != nil {
			if err := refuse(err); err != nil {
				return err
			}
		} else {
			st := a.(state.Statements)
			v.Statements, v.More = st.Statements, st.More
			if party != "" {
				if v.Statements, err = s.spokenFor(ctx, v.Statements, party); err != nil {
					return err
				}
				if len(v.Statements) > statementsLimit {
					v.Statements, v.More = v.Statements[:statementsLimit], true
				}
			}
		}
	}
	return s.render(w, r, status, "statements", Page{Title: "Statements", Nav: "statements", Clock: c, Body: v})
}

// filterStatus is the status of a page whose filter was refused.
func filterStatus(k problem.Kind) int {
	switch k {
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// chosenKey finds the entity of a filter among refs, by key, id or name,
// to mark it chosen in the filter's list.
func chosenKey(refs []state.Ref, kind, ref string) string {
	for _, r := range refs {
		if r.Key == ref || r.Key == kind+"/"+ref || strings.EqualFold(r.Name, ref) {
			return r.Key
		}
	}
	return ""
}

// partyKey finds the party named by key, id or name.
func partyKey(parties []state.Ref, ref string) (string, error) {
	if k := chosenKey(parties, vocab.Party, ref); k != "" {
		return k, nil
	}
	return "", problem.New(problem.NotFound, "party", "no party called %q is on the record", ref)
}

// spokenFor keeps the statements made for party: by a speaker of that
// party, or for it.
func (s *Site) spokenFor(ctx context.Context, rows []state.StatementRow, party string) ([]state.StatementRow, error) {
	partyOf := map[string]string{}
	out := []state.StatementRow{}
	for _, row := range rows {
		p, ok := partyOf[row.Speaker.Key]
		if !ok {
			e, err := s.rec.Ask.Entity(ctx, row.Speaker.Key)
			if err != nil && problem.KindOf(err) != problem.NotFound {
				return nil, err
			}
			var av vocab.ActorView
			if err := vocab.ViewOf(e, &av); err != nil {
				return nil, err
			}
			p = av.Party
			partyOf[row.Speaker.Key] = p
		}
		if p == party || row.For.Key == party {
			out = append(out, row)
		}
	}
	return out, nil
}

// entitiesOf lists the entities of a kind, by name.
func (s *Site) entitiesOf(ctx context.Context, kind string) ([]state.Ref, error) {
	var out []state.Ref
	err := s.rec.Store().Facts(ctx, store.FactQuery{Kind: vocab.FactEntity, Latest: true, Tags: []string{kind}}, func(f store.Fact) error {
		var e vocab.Entity
		if err := json.Unmarshal(f.Data, &e); err != nil {
			return err
		}
		out = append(out, state.Ref{Key: e.Key(), Name: e.Name})
		return nil
	})
	slices.SortFunc(out, func(a, b state.Ref) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

// RoutesView is each message's route, drawn and listed.
type RoutesView struct {
	From, To string
	Messages []RouteItem
}

// RouteItem is one message: its answer and its drawing.
type RouteItem struct {
	state.RouteRow
	Drawing RouteDrawing
}

// Routes shows each message's relay chain: sender, carriers, recipient,
// each hop's time and status, delivered or not.
func (s *Site) Routes(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	q := r.URL.Query()
	v := RoutesView{From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	a, err := s.ask(r.Context(), c, state.Query{Question: "routes", Limit: 100, Params: map[string]string{"from": v.From, "to": v.To}})
	if err != nil {
		return err
	}
	for i, m := range a.(state.Routes).Messages {
		v.Messages = append(v.Messages, RouteItem{RouteRow: m, Drawing: drawRoute(i, m)})
	}
	return s.render(w, r, http.StatusOK, "routes", Page{Title: "Relays", Nav: "routes", Clock: c, Body: v})
}

// PendingView is what is pending and what it waits on, drawn and listed.
type PendingView struct {
	Actions []state.PendingRow
	Graph   GraphDrawing
}

// Dependencies shows pending actions and their blockers as a graph laid out
// in layers, each action to the right of what it waits on.
func (s *Site) Dependencies(w http.ResponseWriter, r *http.Request) error {
	c := clockOf(r)
	a, err := s.ask(r.Context(), c, state.Query{Question: "pending", Limit: 200})
	if err != nil {
		return err
	}
	p := a.(state.Pending)
	v := PendingView{Actions: p.Actions, Graph: drawPending(p.Actions)}
	return s.render(w, r, http.StatusOK, "pending", Page{Title: "Dependencies", Nav: "pending", Clock: c, Body: v})
}
