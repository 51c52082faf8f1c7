package state_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// seeded returns a new record holding the seed case.
func seeded(t *testing.T) *record.Record {
	t.Helper()
	r, err := record.Init(t.Context(), filepath.Join(t.TempDir(), "rec"), "parley.test/seed")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := r.LoadSeed(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

// keyHash matches the hash part of a key id, which differs every run.
var keyHash = regexp.MustCompile(`\+[0-9a-f]{8}\b`)

// golden compares v, as indented JSON with key hashes masked, with
// testdata/name.json.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v, jsontext.WithIndent("  "), json.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	b = keyHash.ReplaceAll(b, []byte("+HASH"))
	b = append(b, '\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from %s (run with -update if the change is right):\n%s", name, path, b)
	}
}

func TestSeedAnswers(t *testing.T) {
	r := seeded(t)
	ctx := t.Context()
	now := state.Clock{}

	pos, err := r.Ask.Positions(ctx, now, "30-day ceasefire")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "positions", pos)
	if len(pos.Proposals) != 1 {
		t.Fatalf("positions: %d proposals, want 1", len(pos.Proposals))
	}
	p := pos.Proposals[0]
	stance := map[string]state.PositionRow{}
	for _, row := range p.Positions {
		stance[row.Party.Key] = row
	}
	if u := stance["party/ukraine"]; u.Stance != vocab.Accepts || len(u.Conditions) != 0 {
		t.Errorf("Ukraine: %s %q, want accepts with no conditions", u.Stance, u.Conditions)
	}
	ru := stance["party/russia"]
	if ru.Stance != vocab.AcceptsInPrinciple || len(ru.Conditions) != 1 || !strings.Contains(ru.Conditions[0], "long-term peace") ||
		!strings.Contains(ru.Conditions[0], "further discussions") {
		t.Errorf("Russia: %s %q, want accepts-in-principle, conditioned on further discussions for long-term peace", ru.Stance, ru.Conditions)
	}
	if ru.Statement == nil || ru.Statement.Speaker.Key != "actor/putin" || ru.Basis.Sources[0].Quote == "" {
		t.Errorf("Russia's position should rest on Putin's statement, with a quoted source: %+v", ru)
	}
	if len(p.Assessments) != 1 || p.Assessments[0].By.Key != "actor/trump" ||
		strings.Join(p.Assessments[0].Words, "|") != "promising|not complete" {
		t.Errorf("assessments: %+v, want Trump's \"promising\" but \"not complete\"", p.Assessments)
	}

	routes, err := r.Ask.Routes(ctx, now, "Putin", "Trump", 0)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "routes", routes)
	if len(routes.Messages) != 1 {
		t.Fatalf("routes Putin → Trump: %d messages, want 1", len(routes.Messages))
	}
	m := routes.Messages[0]
	if len(m.Via) != 1 || m.Via[0].Key != "actor/witkoff" || !m.Delivered || len(m.Hops) != 2 ||
		m.Hops[0].Event != "sent" || m.Hops[1].Event != "delivered" || m.Hops[1].To.Key != "actor/trump" {
		t.Errorf("route: %+v, want Putin → Witkoff → Trump, sent then delivered", m)
	}

	pend, err := r.Ask.Pending(ctx, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pending", pend)
	var call *state.PendingRow
	for i := range pend.Actions {
		if pend.Actions[i].Action.Key == "action/putin-trump-call" {
			call = &pend.Actions[i]
		}
	}
	if call == nil || call.Ready || call.Due != vocab.TBD || len(call.Waits) != 1 ||
		call.Waits[0].On.Key != "action/witkoff-report" || call.Waits[0].Done {
		t.Errorf("the Putin–Trump call should be pending, blocked on Witkoff's report, timing not set: %+v", call)
	}

	roster, err := r.Ask.Roster(ctx, now, "")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "roster", roster)
	var kellogg *state.RosterRow
	for i := range roster.Talks[0].Members {
		if roster.Talks[0].Members[i].Actor.Key == "actor/kellogg" {
			kellogg = &roster.Talks[0].Members[i]
		}
	}
	if kellogg == nil || kellogg.Status != "absent" || kellogg.ExcludedBy.Key != "" || len(kellogg.Requests) != 1 {
		t.Fatalf("Kellogg should be absent, not excluded, with one request: %+v", kellogg)
	}
	if rq := kellogg.Requests[0]; rq.By.Key != "party/russia" || rq.Kind != "exclude" || rq.Confidence != "reported" ||
		rq.Outcome != "requested" || rq.Decided {
		t.Errorf("the exclusion request should be Russia's, reported, undecided: %+v", rq)
	}

	sts, err := r.Ask.Statements(ctx, now, state.StatementFilter{By: "Zelenskyy"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "statements-zelenskyy", sts)
	if len(sts.Statements) != 3 {
		t.Errorf("Zelenskyy made %d statements on the record, want 3", len(sts.Statements))
	}
	reported, err := r.Ask.Statements(ctx, now, state.StatementFilter{Confidence: []string{"reported"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(reported.Statements) != 1 || reported.Statements[0].Speaker.Key != "actor/kellogg" {
		t.Errorf("reported statements: %+v, want Kellogg's criticism only", reported.Statements)
	}

	tracks, err := r.Ask.Tracks(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "tracks", tracks)
	for _, tr := range tracks.Tracks {
		if tr.Status != "restoring" || len(tr.History) != 2 || tr.History[0].Status != "paused" {
			t.Errorf("track %s: %s, history %+v; want restoring after paused", tr.Track.Key, tr.Status, tr.History)
		}
	}
	if len(tracks.Tracks) != 2 {
		t.Errorf("%d tracks, want 2 (military aid, intelligence sharing)", len(tracks.Tracks))
	}

	tl, err := r.Ask.Timeline(ctx, now, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tl.Lines); n != int(r.Log.Size()) {
		t.Errorf("timeline has %d lines, want one per entry (%d)", n, r.Log.Size())
	}
}

// stanceOf returns each party's stance on the 30-day proposal at clock c.
func stanceOf(t *testing.T, r *record.Record, c state.Clock) map[string]string {
	t.Helper()
	pos, err := r.Ask.Positions(t.Context(), c, "ceasefire-30-day")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pos.Proposals {
		for _, row := range p.Positions {
			out[row.Party.Name] = row.Stance
		}
	}
	return out
}

func TestClocks(t *testing.T) {
	r := seeded(t)
	ctx := t.Context()
	// Before Russia's answer (13 March), only Ukraine had a position.
	before := stanceOf(t, r, state.Clock{AsOf: time.Date(2025, 3, 12, 23, 59, 0, 0, time.UTC)})
	if fmt.Sprint(before) != "map[Ukraine:accepts]" {
		t.Errorf("as of 12 March: %v, want only Ukraine accepting", before)
	}
	// Russia's position is entry 20: the record at size 20 did not know it.
	pos, _ := r.Ask.Positions(ctx, state.Clock{}, "ceasefire-30-day")
	var russia int64
	for _, row := range pos.Proposals[0].Positions {
		if row.Party.Key == "party/russia" {
			russia = row.Basis.Index
		}
	}
	if got := stanceOf(t, r, state.Clock{KnownAt: russia}); fmt.Sprint(got) != "map[Ukraine:accepts]" {
		t.Errorf("known at %d: %v, want only Ukraine", russia, got)
	}
	if got := stanceOf(t, r, state.Clock{KnownAt: russia + 1}); got["Russia"] != vocab.AcceptsInPrinciple {
		t.Errorf("known at %d: %v, want Russia in principle", russia+1, got)
	}
	// A correction changes the answer from its entry on, and not before.
	size := r.Log.Size()
	appendAs(t, r, "kremlin", "position", fmt.Sprintf(`{"party":"russia","proposal":"ceasefire-30-day","stance":"rejects"}`), &russia)
	if got := stanceOf(t, r, state.Clock{}); got["Russia"] != vocab.Rejects {
		t.Errorf("after the correction: %v, want Russia rejecting", got)
	}
	if got := stanceOf(t, r, state.Clock{KnownAt: size}); got["Russia"] != vocab.AcceptsInPrinciple {
		t.Errorf("known before the correction: %v, want Russia in principle", got)
	}
	// Tracks as of 10 March: paused.
	tr, err := r.Ask.Tracks(ctx, state.Clock{AsOf: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tr.Tracks {
		if x.Status != "paused" {
			t.Errorf("as of 10 March %s is %s, want paused", x.Track.Key, x.Status)
		}
	}
	// Known at a time: the checkpoint sizes.
	n, err := state.SizeAt(ctx, r.Store(), time.Now().Add(time.Hour))
	if err != nil || n != r.Log.Size() {
		t.Errorf("SizeAt(now) = %d, %v; want %d", n, err, r.Log.Size())
	}
	if _, err := state.SizeAt(ctx, r.Store(), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); problem.KindOf(err) != problem.NotFound {
		t.Errorf("SizeAt(2000): %v, want not found", err)
	}
}

// appendAs signs and appends one entry with the seed's key name.
func appendAs(t *testing.T, r *record.Record, as, typ, body string, corrects *int64) error {
	t.Helper()
	return appendAt(t, r, as, typ, body, corrects, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC))
}

// appendAt appends an entry describing time at.
func appendAt(t *testing.T, r *record.Record, as, typ, body string, corrects *int64, at time.Time) error {
	t.Helper()
	s, err := r.Signer(as)
	if err != nil {
		t.Fatal(err)
	}
	now := r.Log.Now()
	e, err := entry.Sign(entry.Entry{Type: typ, Body: jsontext.Value(body), Time: at,
		Recorded: now, Corrects: corrects, Sources: []entry.Source{{Citation: "test"}}}, s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Log.Append(t.Context(), []*entry.Signed{e})
	return err
}

// dump lists every fact, every latest fact and the projected size.
func dump(t *testing.T, st store.Store) string {
	t.Helper()
	var b strings.Builder
	n, err := st.Projected(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "projected %d\n", n)
	for _, kind := range vocab.FactKinds {
		for _, latest := range []bool{false, true} {
			err := st.Facts(t.Context(), store.FactQuery{Kind: kind, Latest: latest}, func(f store.Fact) error {
				fmt.Fprintf(&b, "%v %d.%d %s %s %s %s %s %v %s\n", latest, f.Index, f.Seq, f.Kind, f.Subject, f.Object, f.Tag,
					f.Time.Format(time.RFC3339Nano), f.Latest, f.Data)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

func TestRebuildSameState(t *testing.T) {
	r := seeded(t)
	// A correction and a retraction, so that voids are rebuilt too.
	pos, _ := r.Ask.Positions(t.Context(), state.Clock{}, "ceasefire-30-day")
	target := pos.Proposals[0].Positions[0].Basis.Index
	if err := appendAs(t, r, "press", "position", `{"party":"russia","proposal":"ceasefire-30-day","stance":"undecided"}`, &target); err != nil {
		t.Fatal(err)
	}
	st, _ := r.Ask.Statements(t.Context(), state.Clock{}, state.StatementFilter{By: "Kellogg"})
	if err := appendAs(t, r, "press", "retraction", fmt.Sprintf(`{"entry":%d,"reason":"test"}`, st.Statements[0].Basis.Index), nil); err != nil {
		t.Fatal(err)
	}
	before := dump(t, r.Store())
	if !strings.Contains(before, "retracted") || !strings.Contains(before, "corrected") {
		t.Fatal("the dump holds no correction or retraction")
	}
	if err := r.Rebuild(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, r.Store()); after != before {
		t.Errorf("rebuilt state differs:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestBadInput(t *testing.T) {
	r := seeded(t)
	appendAs(t, r, "press", "actor", `{"id":"kellogg-2","name":"Kellogg","kind":"person"}`, nil)
	appendAs(t, r, "press", "action", `{"id":"a1","what":"one","owner":"putin","status":"planned"}`, nil)
	appendAs(t, r, "press", "action", `{"id":"a2","what":"two","owner":"putin","status":"planned","waits_on":["a1"]}`, nil)
	missing := int64(9999)
	stmt := int64(16)
	cases := []struct {
		name, typ, body string
		corrects        *int64
		kind            problem.Kind
		want            []string
	}{
		{"unknown party", "position", `{"party":"russa","proposal":"ceasefire-30-day","stance":"accepts"}`, nil, problem.NotFound,
			[]string{`"party" names "russa"`, "no party"}},
		{"unknown proposal", "position", `{"party":"russia","proposal":"peace-plan","stance":"accepts"}`, nil, problem.NotFound,
			[]string{`"proposal" names "peace-plan"`}},
		{"stance", "position", `{"party":"russia","proposal":"ceasefire-30-day","stance":"maybe"}`, nil, problem.Invalid,
			[]string{`"stance" is "maybe"`, "accepts-in-principle", "undecided"}},
		{"cycle", "action", `{"id":"a1","status":"planned","waits_on":["a2"]}`, nil, problem.Invalid,
			[]string{"cycle", "action/a1 → action/a2 → action/a1"}},
		{"self wait", "action", `{"id":"a1","status":"planned","waits_on":["a1"]}`, nil, problem.Invalid, []string{"itself"}},
		{"missing blocker", "action", `{"id":"a3","what":"x","owner":"putin","status":"planned","waits_on":["nope"]}`, nil, problem.NotFound,
			[]string{`"waits_on/0" names "nope"`}},
		{"correct missing", "position", `{"party":"russia","proposal":"ceasefire-30-day","stance":"rejects"}`, &missing, problem.Invalid,
			[]string{"corrects entry 9999", "no such entry"}},
		{"correct other type", "position", `{"party":"russia","proposal":"ceasefire-30-day","stance":"rejects"}`, &stmt, problem.Invalid,
			[]string{"cannot correct entry 16, a statement entry"}},
		{"ambiguous", "statement", `{"speaker":"Kellogg","verb":"said","quote":"x","confidence":"reported"}`, nil, problem.Conflict,
			[]string{"ambiguous", "actor/kellogg", "actor/kellogg-2"}},
		{"relay off route", "relay", `{"message":"putin-trump-signals","event":"delivered","from":"putin","to":"trump"}`, nil, problem.Invalid,
			[]string{"skips or reverses the route"}},
		{"retract a declaration", "retraction", `{"entry":5,"reason":"x"}`, nil, problem.Invalid, []string{"correct it instead"}},
		{"sealed by an author", "sealed", `{"commitment":"` + strings.Repeat("ab", 32) + `"}`, nil, problem.Unauthorized,
			[]string{"only the operator", "may write sealed entries"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size := r.Log.Size()
			before := dump(t, r.Store())
			err := appendAs(t, r, "press", c.typ, c.body, c.corrects)
			if err == nil {
				t.Fatal("appended; want a refusal")
			}
			if k := problem.KindOf(err); k != c.kind {
				t.Errorf("kind %s, want %s (%v)", k, c.kind, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if r.Log.Size() != size || dump(t, r.Store()) != before {
				t.Error("a refused entry changed the record")
			}
		})
	}
}

// A correction replaces what it corrects, wherever it points: a position
// recorded against the wrong party is corrected to the right one, and the
// wrong party's stance reverts to what it was before.
func TestCorrectionMovesAnUpdate(t *testing.T) {
	r := seeded(t)
	pos, err := r.Ask.Positions(t.Context(), state.Clock{}, "ceasefire-30-day")
	if err != nil {
		t.Fatal(err)
	}
	var russia int64
	for _, row := range pos.Proposals[0].Positions {
		if row.Party.Key == "party/russia" {
			russia = row.Basis.Index
		}
	}
	if err := appendAs(t, r, "press", "position", `{"party":"united-states","proposal":"ceasefire-30-day","stance":"accepts"}`, &russia); err != nil {
		t.Fatal(err)
	}
	got := stanceOf(t, r, state.Clock{})
	if _, ok := got["Russia"]; ok || got["United States"] != vocab.Accepts || got["Ukraine"] != vocab.Accepts {
		t.Errorf("after moving entry %d to the United States: %v, want Ukraine and the United States accepting, Russia with no position", russia, got)
	}
	before := dump(t, r.Store())
	if err := r.Rebuild(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, r.Store()); after != before {
		t.Errorf("rebuilt state differs:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// Answers are kept between asks, but never past the log size they were
// made at: an append changes the next answer.
func TestAnswerCache(t *testing.T) {
	r := seeded(t)
	ctx := t.Context()
	q := state.Query{Question: "positions", Arg: "ceasefire-30-day"}
	stance := func() string {
		t.Helper()
		v, err := r.Ask.Answer(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range v.(state.Positions).Proposals[0].Positions {
			if row.Party.Key == "party/russia" {
				return row.Stance
			}
		}
		return ""
	}
	if got := stance(); got != vocab.AcceptsInPrinciple {
		t.Fatalf("Russia %q, want %q", got, vocab.AcceptsInPrinciple)
	}
	if got := stance(); got != vocab.AcceptsInPrinciple {
		t.Fatalf("asked again: Russia %q", got)
	}
	if err := appendAs(t, r, "kremlin", "position", `{"party":"russia","proposal":"ceasefire-30-day","stance":"rejects"}`, nil); err != nil {
		t.Fatal(err)
	}
	if got := stance(); got != vocab.Rejects {
		t.Errorf("after Russia's new position: %q, want %q (a stale answer)", got, vocab.Rejects)
	}
	// A refusal is not kept either.
	if _, err := r.Ask.Answer(ctx, state.Query{Question: "positions", Arg: "peace"}, nil); problem.KindOf(err) != problem.NotFound {
		t.Errorf("unknown proposal: %v", err)
	}
}

// An entry may name a statement by the entry that declared it ("#N"), also
// one declared without an id in an earlier append: the fold finds it in
// the store, not in memory.
func TestRefByEntryAcrossAppends(t *testing.T) {
	r := seeded(t)
	if err := appendAs(t, r, "kremlin", "statement", `{"speaker":"putin","verb":"said","quote":"We will see.","confidence":"reported"}`, nil); err != nil {
		t.Fatal(err)
	}
	n := r.Log.Size() - 1
	body := fmt.Sprintf(`{"party":"russia","proposal":"ceasefire-30-day","stance":"undecided","statement":"#%d"}`, n)
	if err := appendAs(t, r, "kremlin", "position", body, nil); err != nil {
		t.Fatalf("a position resting on #%d: %v", n, err)
	}
	if got := stanceOf(t, r, state.Clock{}); got["Russia"] != vocab.Undecided {
		t.Errorf("Russia %q, want undecided", got["Russia"])
	}
}
