package state

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/internal/problem"
	"parley/internal/vocab"
)

// A Question is one of the questions the record answers, with the
// parameters it takes besides the two clocks and the limit.
type Question struct {
	Name  string
	Usage string
	// Arg names the question's one optional argument ("proposal"), if any.
	Arg string
	// Params are the filters it takes.
	Params []string
}

// Questions are what `parley ask` and GET /api/v1/ask/{question} answer.
var Questions = []Question{
	{"positions", "positions [PROPOSAL]: every party's position on a proposal, with conditions and the statement behind it", "proposal", nil},
	{"routes", "routes [--from ACTOR] [--to ACTOR]: messages and their relay chains, hop by hop", "", []string{"from", "to"}},
	{"pending", "pending: open actions, what each waits on, which are ready now", "", nil},
	{"roster", "roster [TALKS]: who takes part, who is absent, exclusion requests and whether decided", "talks", nil},
	{"statements", "statements [--by ACTOR] [--about X] [--confidence C,...]: who said what, verbatim", "", []string{"by", "about", "confidence"}},
	{"tracks", "tracks: each bilateral track and its status history", "", nil},
	{"timeline", "timeline [--from T] [--to T]: everything in order, as a story", "", []string{"from", "to"}},
	{"compliance", "compliance [--agreement A] [--from D] [--to D]: incidents per party and day, by category and status; days without verified violations; trend", "", []string{"agreement", "from", "to"}},
	{"incidents", "incidents [--agreement A] [--from T] [--to T] [--category C] [--status S,...] [--party P]: the incidents reported under an agreement", "", []string{"agreement", "from", "to", "category", "status", "party"}},
}

// QuestionNamed returns the question called name.
func QuestionNamed(name string) (Question, bool) {
	i := slices.IndexFunc(Questions, func(q Question) bool { return q.Name == name })
	if i < 0 {
		return Question{}, false
	}
	return Questions[i], true
}

// A Query is a question as a person or a program asks it: every value as
// typed, checked and read by Answer. The CLI and the HTTP API both ask
// through it, so they take the same parameters and refuse the same way.
type Query struct {
	Question string
	// Arg is the question's argument: the proposal, or the talks.
	Arg string
	// AsOf is a time or a date (its end); KnownAt is a time, a date, or a
	// log size "#N".
	AsOf, KnownAt string
	// Params holds the filters: from, to, by, about, confidence.
	Params map[string]string
	Limit  int
}

// Flag names a parameter the way the asker wrote it: the query's names
// are the API's ("from", "as_of"); the CLI spells them CLIFlag's way. Nil
// keeps the API's names.
type Flag func(name string) string

// CLIFlag spells a parameter as a flag of `parley ask`: "--as-of".
func CLIFlag(name string) string { return "--" + strings.ReplaceAll(name, "_", "-") }

// Answer checks the query and answers it. Refusals are problems placed at the
// parameter (named by flag) that was wrong.
func (a *Asker) Answer(ctx context.Context, q Query, flag Flag) (any, error) {
	if flag == nil {
		flag = func(n string) string { return n }
	}
	qu, ok := QuestionNamed(q.Question)
	if !ok {
		names := make([]string, len(Questions))
		for i, x := range Questions {
			names[i] = x.Name
		}
		return nil, problem.New(problem.NotFound, "", "unknown question %q (one of %s)", q.Question, strings.Join(names, ", "))
	}
	for name, v := range q.Params {
		if v != "" && !slices.Contains(qu.Params, name) {
			return nil, problem.New(problem.Invalid, flag(name), "does not apply to the question %s", qu.Name)
		}
	}
	if q.Arg != "" && qu.Arg == "" {
		return nil, problem.New(problem.Invalid, "", "%s takes no argument (got %q)", qu.Name, q.Arg)
	}
	if q.Limit < 0 {
		return nil, problem.New(problem.Invalid, flag("limit"), "%d: a limit is a positive number of rows", q.Limit)
	}
	// An answer depends only on the query and the facts on the record, and
	// the record only grows: an answer at one log size is the answer for
	// good, and is kept until the log grows.
	size := a.size()
	key := q.key(size)
	if v, ok := a.answers.get(key); ok {
		return v, nil
	}
	v, err := a.answer(ctx, qu, q, flag)
	if err == nil && a.size() == size && rows(v) <= maxAnswerRows {
		a.answers.put(key, v)
	}
	return v, err
}

// key identifies a query asked at a log size.
func (q Query) key(size int64) string {
	names := make([]string, 0, len(q.Params))
	for k, v := range q.Params {
		if v != "" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d\x00%s\x00%s\x00%s\x00%s\x00%d", size, q.Question, q.Arg, q.AsOf, q.KnownAt, q.Limit)
	for _, k := range names {
		fmt.Fprintf(&b, "\x00%s=%s", k, q.Params[k])
	}
	return b.String()
}

// maxAnswers bounds the answers kept; when full they are all dropped.
// maxAnswerRows keeps big answers out: they would hold memory, and they
// are rarely asked twice.
const (
	maxAnswers    = 1024
	maxAnswerRows = 500
)

// DefaultLimit is how many rows a list question answers unless asked for
// more (statements and timeline have their own defaults).
const DefaultLimit = 100

// defaultLimited are the questions DefaultLimit applies to.
var defaultLimited = map[string]bool{"positions": true, "routes": true, "pending": true, "roster": true, "tracks": true}

// rows counts an answer's rows, to keep big answers out of the cache.
func rows(v any) int {
	switch a := v.(type) {
	case Positions:
		n := len(a.Proposals)
		for _, p := range a.Proposals {
			n += len(p.Positions) + len(p.Assessments)
		}
		return n
	case Routes:
		n := len(a.Messages)
		for _, m := range a.Messages {
			n += len(m.Hops)
		}
		return n
	case Pending:
		return len(a.Actions)
	case Roster:
		n := len(a.Talks)
		for _, t := range a.Talks {
			n += len(t.Members) + len(t.Requests)
		}
		return n
	case Statements:
		return len(a.Statements)
	case Tracks:
		n := len(a.Tracks)
		for _, t := range a.Tracks {
			n += len(t.History)
		}
		return n
	case Timeline:
		return len(a.Lines)
	case Compliance:
		return len(a.Days) * (1 + len(a.Parties))
	case Incidents:
		return len(a.Incidents)
	}
	return maxAnswerRows + 1
}

// answer answers a checked question.
func (a *Asker) answer(ctx context.Context, qu Question, q Query, flag Flag) (any, error) {
	c, err := a.clock(ctx, q.AsOf, q.KnownAt, flag)
	if err != nil {
		return nil, err
	}
	p := q.Params
	if q.Limit == 0 && defaultLimited[qu.Name] && q.Arg == "" {
		// An answer about everything on a big record would be the record:
		// a list question answers the DefaultLimit changed last unless
		// asked for more.
		q.Limit = DefaultLimit
	}
	var from, to time.Time
	if qu.Name == "timeline" || qu.Name == "compliance" || qu.Name == "incidents" {
		if from, to, err = timeRange(p, flag); err != nil {
			return nil, err
		}
	}
	switch qu.Name {
	case "positions":
		return a.positions(ctx, c, q.Arg, q.Limit)
	case "routes":
		return a.Routes(ctx, c, p["from"], p["to"], q.Limit)
	case "pending":
		return a.Pending(ctx, c, q.Limit)
	case "roster":
		return a.roster(ctx, c, q.Arg, q.Limit)
	case "statements":
		cs, err := listParam(p, flag, "confidence", vocab.Confidences)
		if err != nil {
			return nil, err
		}
		return a.Statements(ctx, c, StatementFilter{By: p["by"], About: p["about"], Confidence: cs, Limit: q.Limit})
	case "tracks":
		return a.tracks(ctx, c, q.Limit)
	case "timeline":
		if !to.IsZero() && (c.AsOf.IsZero() || to.Before(c.AsOf)) {
			c.AsOf = to
		}
		return a.Timeline(ctx, c, from, q.Limit)
	case "compliance":
		v, err := a.Compliance(ctx, c, p["agreement"], from, to)
		return v, problem.Rename(err, flag)
	case "incidents":
		f := IncidentFilter{Agreement: p["agreement"], Party: p["party"], Limit: q.Limit, From: from}
		if !to.IsZero() {
			f.To = to.Add(time.Nanosecond)
		}
		cat, err := listParam(p, flag, "category", vocab.CategoryIDs)
		if err != nil {
			return nil, err
		}
		if len(cat) > 0 {
			f.Category = cat[0]
		}
		if f.Status, err = listParam(p, flag, "status", vocab.IncidentStatuses); err != nil {
			return nil, err
		}
		v, err := a.Incidents(ctx, c, f)
		return v, problem.Rename(err, flag)
	}
	return nil, fmt.Errorf("question %s has no answer", qu.Name)
}

// clock reads the two clocks as asked: as_of, a time or a date (its end);
// known_at, a time, a date or a log size "#N".
func (a *Asker) clock(ctx context.Context, asOf, knownAt string, flag Flag) (Clock, error) {
	var c Clock
	var err error
	if asOf != "" {
		if c.AsOf, err = EndOf(asOf); err != nil {
			return Clock{}, problem.New(problem.Invalid, flag("as_of"), "%v", err)
		}
	}
	if knownAt != "" {
		if c.KnownAt, err = a.knownAt(ctx, knownAt, flag("known_at")); err != nil {
			return Clock{}, err
		}
	}
	return c, nil
}

// timeRange reads the from and to parameters of the questions that take
// times (timeline, compliance, incidents; routes' are actors): from is a
// time or a date (its start), to a time or a date (its end).
func timeRange(p map[string]string, flag Flag) (from, to time.Time, err error) {
	if p["from"] != "" {
		if from, err = ParseTime(p["from"]); err != nil {
			return time.Time{}, time.Time{}, problem.New(problem.Invalid, flag("from"), "%v", err)
		}
	}
	if p["to"] != "" {
		if to, err = EndOf(p["to"]); err != nil {
			return time.Time{}, time.Time{}, problem.New(problem.Invalid, flag("to"), "%v", err)
		}
	}
	return from, to, nil
}

// listParam reads a comma-separated parameter whose values must be among
// allowed.
func listParam(p map[string]string, flag Flag, name string, allowed []string) ([]string, error) {
	if p[name] == "" {
		return nil, nil
	}
	var out []string
	for _, x := range strings.Split(p[name], ",") {
		x = strings.TrimSpace(x)
		if !slices.Contains(allowed, x) {
			return nil, problem.New(problem.Invalid, flag(name), "%q: one of %s", x, strings.Join(allowed, ", "))
		}
		out = append(out, x)
	}
	return out, nil
}

// knownAt reads a recording clock: "#N" (a log size) or a time.
func (a *Asker) knownAt(ctx context.Context, v, where string) (int64, error) {
	if n, ok := strings.CutPrefix(v, "#"); ok {
		size, err := strconv.ParseInt(n, 10, 64)
		if err != nil || size < 1 {
			return 0, problem.New(problem.Invalid, where, "%q: a log size is #N with N at least 1", v)
		}
		if have := a.size(); size > have {
			return 0, problem.New(problem.NotFound, where, "the record has %d entries, not %d", have, size)
		}
		return size, nil
	}
	t, err := EndOf(v)
	if err != nil {
		return 0, problem.New(problem.Invalid, where, "%v", err)
	}
	n, err := SizeAt(ctx, a.st, t)
	if err != nil {
		return 0, problem.At(where, err)
	}
	return n, nil
}

// ParseTime reads a time in RFC 3339 or a date (its start).
func ParseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2025-03-11T14:00:00Z) or a date (2025-03-11)", v)
}

// EndOf reads a time; a bare date means the end of that day, so that "as of
// 2025-03-11" includes what happened on the 11th.
func EndOf(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	return ParseTime(v)
}
