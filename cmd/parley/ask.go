package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"parley/internal/problem"
	"parley/internal/state"
	"parley/internal/vocab"
)

func runAsk(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "ask")
	q := state.Query{Params: map[string]string{}}
	fs.StringVar(&q.AsOf, "as-of", "", "ask about the world at this time (a date means its end)")
	fs.StringVar(&q.KnownAt, "known-at", "", "ask what the record said at this time, or at log size #N")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	fs.IntVar(&q.Limit, "limit", 0, "answer at most this many rows (statements: 100, timeline: 1000 by default)")
	for _, p := range []struct{ name, usage string }{
		{"from", "routes: the sender; timeline, incidents: the earliest time; compliance: the first day"},
		{"to", "routes: the recipient; timeline, incidents: the latest time; compliance: the last day"},
		{"by", "statements: the speaker"},
		{"about", "statements: what they are about"},
		{"confidence", "statements: confirmed, reported, alleged (comma-separated)"},
		{"agreement", "compliance, incidents: the ceasefire agreement (the only one, if left out)"},
		{"category", "incidents: the category of incident"},
		{"status", "incidents: reported, under-review, verified, unverified, disputed, rejected, duplicate (comma-separated)"},
		{"party", "incidents: the party they are alleged against"},
	} {
		fs.Func(p.name, p.usage, func(v string) error { q.Params[p.name] = v; return nil })
	}
	fs.Usage = func() {
		fmt.Fprintln(e.stdout, "usage: parley ask QUESTION [ARG] [flags]\n\nquestions:")
		for _, q := range state.Questions {
			fmt.Fprintf(e.stdout, "  %s\n", q.Usage)
		}
		fmt.Fprintln(e.stdout, "\nflags:")
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	pos, err := parse(fs, args, 1, 2)
	if err != nil {
		return err
	}
	q.Question = pos[0]
	if len(pos) == 2 {
		q.Arg = pos[1]
	}
	if _, ok := state.QuestionNamed(q.Question); !ok {
		names := make([]string, len(state.Questions))
		for i, x := range state.Questions {
			names[i] = x.Name
		}
		return usageErr("ask: unknown question %q (one of %s)", q.Question, strings.Join(names, ", "))
	}
	var answer any
	if e.server != "" {
		answer, err = askServer(ctx, e, q)
	} else {
		answer, err = askLocal(ctx, e, *dir, q)
	}
	if err != nil {
		if k := problem.KindOf(err); k == problem.Invalid {
			return usageErr("ask %s: %v", q.Question, err)
		}
		return fmt.Errorf("ask %s: %w", q.Question, err)
	}
	if *asJSON {
		return writeJSON(e.stdout, answer)
	}
	printAnswer(e.stdout, answer)
	return nil
}

// askLocal answers a query from the record in dir.
func askLocal(ctx context.Context, e *env, dir string, q state.Query) (any, error) {
	r, err := e.open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Ask.Answer(ctx, q, state.CLIFlag)
}

// printAnswer prints an answer as a readable table.
func printAnswer(w io.Writer, answer any) {
	switch a := answer.(type) {
	case state.Positions:
		printPositions(w, a)
	case state.Routes:
		printRoutes(w, a)
	case state.Pending:
		printPending(w, a)
	case state.Roster:
		printRoster(w, a)
	case state.Statements:
		printStatements(w, a)
	case state.Tracks:
		printTracks(w, a)
	case state.Timeline:
		printTimeline(w, a)
	case state.Compliance:
		printCompliance(w, a)
	case state.Incidents:
		printIncidents(w, a)
	default:
		fmt.Fprintf(w, "%v\n", a)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// clockLine says when an answer is placed in time.
func clockLine(w io.Writer, c state.Clock) {
	var parts []string
	if !c.AsOf.IsZero() {
		parts = append(parts, "as of "+c.AsOf.Format(time.RFC3339))
	}
	if c.KnownAt > 0 {
		parts = append(parts, fmt.Sprintf("as known at log size %d", c.KnownAt))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "(%s)\n", strings.Join(parts, ", "))
	}
}

// basis cites what a line rests on: its entry and first source.
func basis(b state.Basis) string {
	s := fmt.Sprintf("#%d", b.Index)
	for _, src := range b.Sources {
		where := src.URL
		if where == "" {
			where = src.Citation
		}
		if len(where) > 40 {
			where = where[:37] + "..."
		}
		s += " " + where
		if src.Quote != "" {
			s += fmt.Sprintf(": %q", clip(src.Quote, 70))
		}
		break
	}
	return s
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func printPositions(w io.Writer, v any) {
	a := v.(state.Positions)
	clockLine(w, a.Clock)
	if len(a.Proposals) == 0 {
		fmt.Fprintln(w, "no proposals on the record")
	}
	for _, p := range a.Proposals {
		fmt.Fprintf(w, "%s (%s), proposed by %s: %s\n", p.Proposal.Name, p.Proposal.Key, p.Proposer, p.Text)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PARTY\tSTANCE\tSINCE\tCONDITIONS\tRESTS ON")
		for _, r := range p.Positions {
			st := basis(r.Basis)
			if r.Statement != nil {
				st = fmt.Sprintf("%s %s %s [%s] %s", r.Statement.Speaker, r.Statement.Verb, clip(said(r.Statement.Quote, r.Statement.Paraphrase), 60), r.Statement.Confidence, st)
			}
			cond := strings.Join(r.Conditions, "; ")
			if cond == "" {
				cond = "none"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.Party, r.Stance, day(r.Since), cond, st)
		}
		if len(p.Positions) == 0 {
			fmt.Fprintln(tw, "  (no positions yet)")
		}
		tw.Flush()
		for _, j := range p.Assessments {
			fmt.Fprintf(w, "  %s judged %s: %s (%s) %s\n", j.By, j.Of, quoted(j.Words), j.Tone, basis(j.Basis))
		}
	}
}

func said(quote, para string) string {
	if quote != "" && para == "" {
		return fmt.Sprintf("%q", quote)
	}
	return para
}

func quoted(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, " but ")
}

func printRoutes(w io.Writer, v any) {
	a := v.(state.Routes)
	clockLine(w, a.Clock)
	if len(a.Messages) == 0 {
		fmt.Fprintln(w, "no messages")
	}
	for _, m := range a.Messages {
		status := "not delivered"
		if m.Delivered {
			status = "delivered"
		}
		route := []string{m.From.Name}
		for _, c := range m.Via {
			route = append(route, c.Name)
		}
		route = append(route, m.To.Name)
		fmt.Fprintf(w, "%s: %s — %s (%s) %s\n", m.Message.Key, strings.Join(route, " → "), m.Summary, status, basis(m.Basis))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, h := range m.Hops {
			fmt.Fprintf(tw, "  %s\t%s\t%s → %s\t[%s]\t%s\n", day(h.Time), h.Event, h.From, h.To, h.Confidence, basis(h.Basis))
		}
		tw.Flush()
	}
}

func printPending(w io.Writer, v any) {
	a := v.(state.Pending)
	clockLine(w, a.Clock)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tOWNER\tSTATUS\tDUE\tWAITS ON\tREADY\tRESTS ON")
	for _, r := range a.Actions {
		due := r.Due
		if due == vocab.TBD {
			due = "timing not set"
		}
		var waits []string
		for _, x := range r.Waits {
			waits = append(waits, fmt.Sprintf("%s (%s)", x.On.Key, x.Status))
		}
		ready := "no"
		if r.Ready {
			ready = "yes"
		}
		fmt.Fprintf(tw, "%s: %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Action.Key, r.What, r.Owner, r.Status, due, strings.Join(waits, ", "), ready, basis(r.Basis))
	}
	if len(a.Actions) == 0 {
		fmt.Fprintln(tw, "nothing pending")
	}
	tw.Flush()
}

func printRoster(w io.Writer, v any) {
	a := v.(state.Roster)
	clockLine(w, a.Clock)
	for _, t := range a.Talks {
		fmt.Fprintf(w, "%s (%s)\n", t.Talks.Name, t.Talks.Key)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ACTOR\tSTATUS\tDETAIL\tREQUESTS\tRESTS ON")
		for _, m := range t.Members {
			var detail []string
			for _, x := range m.AbsentFrom {
				detail = append(detail, "absent from "+x.Name)
			}
			if m.Note != "" {
				detail = append(detail, m.Note)
			}
			if m.ExcludedBy.Key != "" {
				detail = append(detail, "excluded by "+m.ExcludedBy.Name)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", m.Actor, m.Status, strings.Join(detail, "; "), requests(m.Requests), basis(m.Basis))
		}
		tw.Flush()
		if len(t.Requests) > 0 {
			fmt.Fprintf(w, "  other requests: %s\n", requests(t.Requests))
		}
	}
}

func requests(rs []state.RequestRow) string {
	var out []string
	for _, r := range rs {
		d := "undecided"
		if r.Decided {
			d = "decided"
		}
		out = append(out, fmt.Sprintf("%s asked %s to %s: %s, %s [%s] #%d", r.By, r.Of, r.What, r.Outcome, d, r.Confidence, r.Basis.Index))
	}
	return strings.Join(out, "; ")
}

func printStatements(w io.Writer, v any) {
	a := v.(state.Statements)
	clockLine(w, a.Clock)
	for _, s := range a.Statements {
		fmt.Fprintf(w, "%s  %s %s: %s [%s] %s\n", day(s.Time), s.Speaker, s.Verb, said(s.Quote, s.Paraphrase), s.Confidence, basis(s.Basis))
	}
	if len(a.Statements) == 0 {
		fmt.Fprintln(w, "no statements")
	}
	if a.More {
		fmt.Fprintln(w, "(more: raise --limit)")
	}
}

func printTracks(w io.Writer, v any) {
	a := v.(state.Tracks)
	clockLine(w, a.Clock)
	for _, t := range a.Tracks {
		var ps []string
		for _, p := range t.Parties {
			ps = append(ps, p.Name)
		}
		var hist []string
		for _, h := range t.History {
			hist = append(hist, fmt.Sprintf("%s %s (#%d)", day(h.Time), h.Status, h.Basis.Index))
		}
		fmt.Fprintf(w, "%s (%s): %s since %s — %s\n", t.Track.Name, strings.Join(ps, " – "), t.Status, day(t.Since), strings.Join(hist, ", "))
	}
	if len(a.Tracks) == 0 {
		fmt.Fprintln(w, "no tracks")
	}
}

func printTimeline(w io.Writer, v any) {
	a := v.(state.Timeline)
	clockLine(w, a.Clock)
	for _, l := range a.Lines {
		fmt.Fprintf(w, "%s  #%-4d %s\n", day(l.Time), l.Basis.Index, l.Text)
	}
	if a.More {
		fmt.Fprintln(w, "(more: raise --limit, or narrow with --from and --to)")
	}
}

func runRebuild(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "rebuild")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	start := time.Now()
	if err := r.Rebuild(ctx, nil); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	n := r.Log.Size()
	el := time.Since(start)
	fmt.Fprintf(e.stdout, "rebuilt the projections from %d entries in %.2fs (%.0f entries/s)\n", n, el.Seconds(), float64(n)/el.Seconds())
	return nil
}
