package state

import (
	"context"
	"slices"
	"sort"
	"time"

	"parley/internal/store"
	"parley/internal/vocab"
)

// Routes answers question 2: messages and their relay chains, hop by hop,
// delivered or not.
type Routes struct {
	Clock    Clock      `json:"clock"`
	Messages []RouteRow `json:"messages"`
}

// RouteRow is one message and its hops.
type RouteRow struct {
	Message    Ref       `json:"message"`
	From       Ref       `json:"from"`
	To         Ref       `json:"to"`
	Via        []Ref     `json:"via,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	Confidence string    `json:"confidence"`
	Sent       time.Time `json:"sent"`
	Hops       []HopRow  `json:"hops"`
	Delivered  bool      `json:"delivered"`
	Basis      Basis     `json:"basis"`
}

// HopRow is one step of a message.
type HopRow struct {
	Event      string    `json:"event"`
	From       Ref       `json:"from"`
	To         Ref       `json:"to"`
	Time       time.Time `json:"time"`
	Confidence string    `json:"confidence"`
	Basis      Basis     `json:"basis"`
}

// Routes answers question 2, for messages from and to the actors named (or all).
func (a *Asker) Routes(ctx context.Context, c Clock, from, to string, limit int) (Routes, error) {
	w := a.begin(ctx, c)
	out := Routes{Clock: c, Messages: []RouteRow{}}
	q := store.FactQuery{Kind: vocab.FactMessage, Latest: true, Desc: true, Limit: limit}
	if from != "" {
		e, err := w.resolve("--from", from, vocab.Actor)
		if err != nil {
			return out, err
		}
		q.Object = e.Key()
	}
	if to != "" {
		e, err := w.resolve("--to", to, vocab.Actor)
		if err != nil {
			return out, err
		}
		q.Tags = []string{e.Key()}
	}
	err := facts(w, q, func(f store.Fact, v *vocab.MessageView) error {
		r := RouteRow{Message: w.ref(f.Subject), From: w.ref(v.From), To: w.ref(v.To), Via: w.refs(v.Via),
			Summary: v.Summary, Confidence: v.Confidence, Sent: f.Time, Hops: []HopRow{}, Basis: w.basis(f.Index)}
		err := facts(w, store.FactQuery{Kind: vocab.FactHop, Subject: f.Subject}, func(hf store.Fact, h *vocab.HopFact) error {
			r.Hops = append(r.Hops, HopRow{Event: h.Event, From: w.ref(h.From), To: w.ref(h.To), Time: hf.Time, Confidence: h.Confidence, Basis: w.basis(hf.Index)})
			if h.Event == "delivered" {
				r.Delivered = true
			}
			return nil
		})
		out.Messages = append(out.Messages, r)
		return err
	})
	if err != nil {
		return out, err
	}
	sort.SliceStable(out.Messages, func(i, j int) bool { return out.Messages[i].Sent.Before(out.Messages[j].Sent) })
	return out, w.err
}

// Pending answers question 3: open actions, what each waits on, and which
// are ready now.
type Pending struct {
	Clock   Clock        `json:"clock"`
	Actions []PendingRow `json:"actions"`
}

// PendingRow is one open action.
type PendingRow struct {
	Action Ref       `json:"action"`
	What   string    `json:"what"`
	Owner  Ref       `json:"owner"`
	Status string    `json:"status"`
	Due    string    `json:"due,omitempty"`
	Waits  []WaitRow `json:"waits_on,omitempty"`
	// Ready is true when everything it waits on is done.
	Ready bool      `json:"ready"`
	Since time.Time `json:"since"`
	Basis Basis     `json:"basis"`
}

// WaitRow is one thing an action waits on and where it stands.
type WaitRow struct {
	On     Ref    `json:"on"`
	Status string `json:"status"`
	Done   bool   `json:"done"`
}

// openStatuses are the statuses of actions not finished.
var openStatuses = []string{"planned", "pending", "blocked", "ready"}

// Pending answers question 3.
func (a *Asker) Pending(ctx context.Context, c Clock, limit int) (Pending, error) {
	w := a.begin(ctx, c)
	out := Pending{Clock: c, Actions: []PendingRow{}}
	err := facts(w, store.FactQuery{Kind: vocab.FactAction, Latest: true, Tags: openStatuses, Limit: limit}, func(f store.Fact, v *vocab.ActionView) error {
		r := PendingRow{Action: w.ref(f.Subject), What: v.What, Owner: w.ref(v.Owner), Status: v.Status, Due: v.Due, Ready: true,
			Since: f.Time, Basis: w.basis(f.Index)}
		for _, k := range v.WaitsOn {
			st, done, err := w.waitStatus(k)
			if err != nil {
				return err
			}
			r.Waits = append(r.Waits, WaitRow{On: w.ref(k), Status: st, Done: done})
			r.Ready = r.Ready && done
		}
		out.Actions = append(out.Actions, r)
		return nil
	})
	return out, firstErr(err, w.err)
}

// waitStatus says where an action or message stands, at the answer's clock.
func (w *answer) waitStatus(key string) (string, bool, error) {
	e := w.entity(key)
	switch e.Kind {
	case vocab.Action:
		status := "not yet planned"
		err := facts(w, store.FactQuery{Kind: vocab.FactAction, Subject: key, Latest: true}, func(f store.Fact, v *vocab.ActionView) error {
			status = v.Status
			return nil
		})
		return status, status == "done", err
	case vocab.Message:
		status := "not yet sent"
		err := facts(w, store.FactQuery{Kind: vocab.FactHop, Subject: key}, func(f store.Fact, h *vocab.HopFact) error {
			if status != "delivered" || h.Event == "acknowledged" {
				status = h.Event
			}
			return nil
		})
		return status, status == "delivered" || status == "acknowledged", err
	}
	return "unknown", false, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Roster answers question 4: who takes part in talks, who is absent from
// which meetings, who was asked to be excluded and whether that is decided.
type Roster struct {
	Clock Clock         `json:"clock"`
	Talks []TalksRoster `json:"talks"`
}

// TalksRoster is the roster of one negotiation.
type TalksRoster struct {
	Talks    Ref          `json:"talks"`
	Members  []RosterRow  `json:"members"`
	Requests []RequestRow `json:"requests,omitempty"`
}

// RosterRow is one actor in the talks.
type RosterRow struct {
	Actor      Ref          `json:"actor"`
	Status     string       `json:"status"`
	AbsentFrom []Ref        `json:"absent_from,omitempty"`
	Note       string       `json:"note,omitempty"`
	ExcludedBy Ref          `json:"excluded_by,omitzero"`
	Requests   []RequestRow `json:"requests,omitempty"`
	Since      time.Time    `json:"since"`
	Basis      Basis        `json:"basis"`
}

// RequestRow is a request and its outcome.
type RequestRow struct {
	Request    Ref    `json:"request"`
	By         Ref    `json:"by"`
	Of         Ref    `json:"of"`
	What       string `json:"what"`
	Kind       string `json:"kind"`
	Concerning Ref    `json:"concerning,omitzero"`
	Outcome    string `json:"outcome"`
	// Decided is false while the outcome is requested or no decision.
	Decided    bool      `json:"decided"`
	Confidence string    `json:"confidence"`
	Since      time.Time `json:"since"`
	Basis      Basis     `json:"basis"`
}

// Roster answers question 4, for the talks named (or all).
func (a *Asker) Roster(ctx context.Context, c Clock, talks string) (Roster, error) {
	return a.roster(ctx, c, talks, 0)
}

// roster answers for the talks named, or for all — or, with a limit, for
// the limit talks changed last.
func (a *Asker) roster(ctx context.Context, c Clock, talks string, limit int) (Roster, error) {
	w := a.begin(ctx, c)
	out := Roster{Clock: c, Talks: []TalksRoster{}}
	var keys []string
	if talks != "" {
		e, err := w.resolve("talks", talks, vocab.Talks)
		if err != nil {
			return out, err
		}
		keys = []string{e.Key()}
	} else {
		err := facts(w, store.FactQuery{Kind: vocab.FactEntity, Latest: true, Tags: []string{vocab.Talks}, Desc: limit > 0, Limit: limit}, func(f store.Fact, _ *vocab.Entity) error {
			keys = append(keys, f.Subject)
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	for _, key := range keys {
		tr := TalksRoster{Talks: w.ref(key), Members: []RosterRow{}}
		byActor := map[string]int{}
		err := facts(w, store.FactQuery{Kind: vocab.FactRoster, Subject: key, Latest: true}, func(f store.Fact, v *vocab.RosterFact) error {
			byActor[v.Actor] = len(tr.Members)
			tr.Members = append(tr.Members, RosterRow{Actor: w.ref(v.Actor), Status: v.Status, AbsentFrom: w.refs(v.Meetings),
				Note: v.Note, ExcludedBy: w.ref(v.By), Since: f.Time, Basis: w.basis(f.Index)})
			return nil
		})
		if err != nil {
			return out, err
		}
		err = facts(w, store.FactQuery{Kind: vocab.FactAttendance, Subject: key, Tags: []string{"absent"}}, func(f store.Fact, v *vocab.AttendanceFact) error {
			i, ok := byActor[v.Actor]
			if !ok {
				return nil
			}
			m := w.ref(v.Meeting)
			for _, x := range tr.Members[i].AbsentFrom {
				if x.Key == m.Key {
					return nil
				}
			}
			tr.Members[i].AbsentFrom = append(tr.Members[i].AbsentFrom, m)
			return nil
		})
		if err != nil {
			return out, err
		}
		err = facts(w, store.FactQuery{Kind: vocab.FactRequest, Subject: key, Latest: true}, func(f store.Fact, v *vocab.RequestView) error {
			r := RequestRow{Request: w.ref(f.Object), By: w.ref(v.By), Of: w.ref(v.Of), What: v.What, Kind: v.Kind, Concerning: w.ref(v.Concerning),
				Outcome: v.Outcome, Decided: v.Outcome == "granted" || v.Outcome == "refused", Confidence: v.Confidence, Since: f.Time, Basis: w.basis(f.Index)}
			if i, ok := byActor[v.Concerning]; ok {
				tr.Members[i].Requests = append(tr.Members[i].Requests, r)
			} else {
				tr.Requests = append(tr.Requests, r)
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		sort.SliceStable(tr.Members, func(i, j int) bool { return tr.Members[i].Actor.Name < tr.Members[j].Actor.Name })
		out.Talks = append(out.Talks, tr)
	}
	return out, w.err
}

// Tracks answers question 6: each bilateral track and its status history.
type Tracks struct {
	Clock  Clock      `json:"clock"`
	Tracks []TrackRow `json:"tracks"`
}

// TrackRow is one track.
type TrackRow struct {
	Track   Ref          `json:"track"`
	Parties []Ref        `json:"parties"`
	Subject string       `json:"subject"`
	Status  string       `json:"status"`
	Since   time.Time    `json:"since"`
	History []TrackPoint `json:"history"`
	// Earlier says the history shown is the latest maxHistory changes of
	// a longer one.
	Earlier bool `json:"earlier,omitzero"`
}

// maxHistory is how many of a track's changes an answer tells.
const maxHistory = 20

// TrackPoint is a track's status from a time.
type TrackPoint struct {
	Status string    `json:"status"`
	Time   time.Time `json:"time"`
	Basis  Basis     `json:"basis"`
}

// Tracks answers question 6.
func (a *Asker) Tracks(ctx context.Context, c Clock) (Tracks, error) {
	return a.tracks(ctx, c, 0)
}

// tracks answers for every track — or, with a limit, for the limit tracks
// changed last.
func (a *Asker) tracks(ctx context.Context, c Clock, limit int) (Tracks, error) {
	w := a.begin(ctx, c)
	out := Tracks{Clock: c, Tracks: []TrackRow{}}
	err := facts(w, store.FactQuery{Kind: vocab.FactTrack, Latest: true, Desc: limit > 0, Limit: limit}, func(f store.Fact, v *vocab.TrackView) error {
		r := TrackRow{Track: w.ref(f.Subject), Parties: w.refs(v.Parties), Subject: v.Subject, Status: v.Status, Since: f.Time, History: []TrackPoint{}}
		// The latest changes, newest first from the store, told oldest first.
		err := facts(w, store.FactQuery{Kind: vocab.FactTrack, Subject: f.Subject, Desc: true, Limit: maxHistory + 1}, func(hf store.Fact, h *vocab.TrackView) error {
			if len(r.History) == maxHistory {
				r.Earlier = true
				return nil
			}
			r.History = append(r.History, TrackPoint{Status: h.Status, Time: hf.Time, Basis: w.basis(hf.Index)})
			return nil
		})
		slices.Reverse(r.History)
		out.Tracks = append(out.Tracks, r)
		return err
	})
	return out, firstErr(err, w.err)
}

// Timeline answers question 7: everything in order, as a story.
type Timeline struct {
	Clock Clock       `json:"clock"`
	From  time.Time   `json:"from,omitzero"`
	Lines []StoryLine `json:"lines"`
	More  bool        `json:"more,omitzero"`
}

// StoryLine is one entry told in a line.
type StoryLine struct {
	Time  time.Time `json:"time"`
	Type  string    `json:"type"`
	Text  string    `json:"text"`
	Basis Basis     `json:"basis"`
}

// Timeline answers question 7: entries describing times from from to the
// clock's as-of time, at most limit.
func (a *Asker) Timeline(ctx context.Context, c Clock, from time.Time, limit int) (Timeline, error) {
	w := a.begin(ctx, c)
	out := Timeline{Clock: c, From: from, Lines: []StoryLine{}}
	if limit <= 0 {
		limit = 1000
	}
	err := facts(w, store.FactQuery{Kind: vocab.FactStory, From: from, Limit: limit + 1}, func(f store.Fact, v *vocab.StoryFact) error {
		if len(out.Lines) == limit {
			out.More = true
			return nil
		}
		out.Lines = append(out.Lines, StoryLine{Time: f.Time, Type: v.Type, Text: v.Text, Basis: w.basis(f.Index)})
		return nil
	})
	return out, firstErr(err, w.err)
}
