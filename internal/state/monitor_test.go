package state_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
)

func TestCeasefireAnswers(t *testing.T) {
	r := seeded(t)
	ctx := t.Context()
	comp, err := r.Ask.Compliance(ctx, state.Clock{}, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "compliance", comp)
	if comp.From != "2025-03-20" || comp.To != "2025-04-18" || len(comp.Days) != 30 {
		t.Errorf("period %s to %s, %d days; want the agreement's 30 days from 2025-03-20", comp.From, comp.To, len(comp.Days))
	}
	// 24 incidents: one before the start (rejected), one duplicate set aside.
	if comp.Incidents != 22 || comp.Verified != 6 || comp.Duplicates != 1 || comp.DaysWithoutVerified != 26 {
		t.Errorf("compliance: %d incidents, %d verified, %d duplicates, %d days clear; want 22, 6, 1, 26",
			comp.Incidents, comp.Verified, comp.Duplicates, comp.DaysWithoutVerified)
	}
	byParty := map[string]state.PartyCompliance{}
	for _, p := range comp.Parties {
		byParty[p.Party.Key] = p
	}
	if ru := byParty["party/russia"]; ru.Incidents != 13 || ru.Verified != 6 || ru.ByStatus[vocab.Duplicate] != 1 || ru.Trend != "falling" {
		t.Errorf("Russia: %+v; want 13 incidents, 6 verified, 1 duplicate, falling", ru)
	}
	if ua := byParty["party/ukraine"]; ua.Incidents != 8 || ua.Verified != 0 || ua.ByStatus[vocab.Disputed] != 1 || ua.DaysWithoutVerified != 30 {
		t.Errorf("Ukraine: %+v; want 8 incidents, none verified, 1 disputed, 30 days clear", ua)
	}

	// The same counts folded from the incidents themselves, as a clock
	// asks: the tallies and the facts agree.
	slow, err := r.Ask.Compliance(ctx, state.Clock{KnownAt: r.Log.Size()}, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	slow.Clock = comp.Clock
	if a, b := jsonOf(t, comp), jsonOf(t, slow); a != b {
		t.Errorf("compliance from the tallies and from the facts differ:\n%s\n%s", a, b)
	}

	// Before the Mission's reviews of 24 March (entries 65 on), one
	// incident was verified.
	then, err := r.Ask.Answer(ctx, state.Query{Question: "compliance", KnownAt: "#65"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := then.(state.Compliance).Verified; v != 1 {
		t.Errorf("compliance known at #65: %d verified, want 1", v)
	}

	daily, err := r.Ask.DailyQuery(ctx, state.DailyQuery{Date: "2025-03-22"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "daily-2025-03-22", daily)
	if daily.Incidents != 4 || daily.Duplicates != 1 || daily.Verified != 2 || len(daily.List) != 5 || len(daily.Previous) != 7 {
		t.Errorf("daily: %d incidents, %d duplicates, %d verified, %d listed, %d days before; want 4, 1, 2, 5, 7",
			daily.Incidents, daily.Duplicates, daily.Verified, len(daily.List), len(daily.Previous))
	}

	inc, err := r.Ask.Answer(ctx, state.Query{Question: "incidents", Params: map[string]string{"status": "verified", "party": "russia"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inc.(state.Incidents).Incidents); n != 6 {
		t.Errorf("verified incidents alleged against Russia: %d, want 6", n)
	}
	for _, q := range []struct {
		query state.Query
		where string
	}{
		{state.Query{Question: "incidents", Params: map[string]string{"category": "sneezing"}}, "category"},
		{state.Query{Question: "incidents", Params: map[string]string{"status": "done"}}, "status"},
		{state.Query{Question: "compliance", Params: map[string]string{"agreement": "nope"}}, "agreement"},
		{state.Query{Question: "compliance", Params: map[string]string{"from": "2025-04-01", "to": "2025-03-01"}}, "to"},
	} {
		_, err := r.Ask.Answer(ctx, q.query, nil)
		if p := problem.KindOf(err); p == "" || !strings.Contains(err.Error(), q.where) {
			t.Errorf("%+v: %v, want a problem at %q", q.query, err, q.where)
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tally counts the seed ceasefire's incidents with status, once each.
func tally(t *testing.T, r *record.Record, status string) int64 {
	t.Helper()
	var n int64
	err := r.Store().Tallies(t.Context(), store.TallyQuery{Kind: vocab.FactTally, Subjects: "agreement/ceasefire-2025-03|"}, func(c store.Tally) error {
		if c.Tag == status && strings.HasSuffix(c.Subject, "|"+vocab.AllCategories) {
			n += c.N
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMonitoringRules(t *testing.T) {
	r := seeded(t)
	// The press key reports; monitor-north and monitor-south review.
	report := `{"id":"t1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[` +
		`{"time":"2025-03-25T10:00:00Z","place":"Toretsk","lat":48.4,"lon":37.8,"categories":["shelling"],"against":"russia"},` +
		`{"time":"2025-03-10","place":"Kherson","lat":46.6,"lon":32.6,"categories":["drone-strike"],"against":"russia"}]}`
	if err := appendAs(t, r, "monitor-north", "report", report, nil); err != nil {
		t.Fatal(err)
	}
	inc, err := r.Ask.Incidents(t.Context(), state.Clock{}, state.IncidentFilter{From: time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Incidents) != 1 || !inc.Incidents[0].Outside {
		t.Errorf("an incident before the agreement began: %+v, want it flagged outside", inc.Incidents)
	}

	cases := []struct {
		name, as, typ, body string
		kind                problem.Kind
		want                []string
	}{
		{"latitude out of range", "press", "report", `{"id":"b1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[{"time":"2025-03-25","place":"x","lat":91,"lon":37,"categories":["shelling"]}]}`,
			problem.Invalid, []string{`"incidents/0/lat" is 91, out of range`}},
		{"longitude missing", "press", "report", `{"id":"b1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[{"time":"2025-03-25","place":"x","lat":48,"categories":["shelling"]}]}`,
			problem.Invalid, []string{`"incidents/0/lon" is required`}},
		{"unknown category", "press", "report", `{"id":"b1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[{"time":"2025-03-25","place":"x","lat":48,"lon":37,"categories":["sneezing"]}]}`,
			problem.Invalid, []string{`"incidents/0/categories/0" is "sneezing"`, "drone-strike"}},
		{"unknown party", "press", "report", `{"id":"b1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[{"time":"2025-03-25","place":"x","lat":48,"lon":37,"categories":["shelling"],"against":"atlantis"}]}`,
			problem.NotFound, []string{`"incidents/0/against" names "atlantis"`}},
		{"party not bound", "press", "report", `{"id":"b1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[{"time":"2025-03-25","place":"x","lat":48,"lon":37,"categories":["shelling"],"against":"united-states"}]}`,
			problem.Invalid, []string{"not a party to"}},
		{"reporter not allowed", "press", "report", `{"id":"b1","agreement":"ceasefire-2025-03","reported_by":"putin","incidents":[{"time":"2025-03-25","place":"x","lat":48,"lon":37,"categories":["shelling"]}]}`,
			problem.Invalid, []string{`"reported_by" is actor/putin, who may not report`}},
		{"report twice", "press", "report", report, problem.Invalid, []string{`report "t1" is already on the record`}},
		{"reviewing your own report", "monitor-north", "review", `{"incident":"t1.1","status":"under-review","reasoning":"x"}`,
			problem.Forbidden, []string{"may not review it"}},
		{"skipping review", "monitor-south", "review", `{"incident":"t1.1","status":"verified","reasoning":"x"}`,
			problem.Invalid, []string{`incident t1.1 is reported`, "may only set under-review"}},
		{"review without reasoning", "monitor-south", "review", `{"incident":"t1.1","status":"under-review"}`,
			problem.Invalid, []string{`"reasoning" is required`}},
		{"duplicate of itself", "monitor-south", "duplicate", `{"incident":"t1.1","same_as":"t1.1","reason":"x"}`,
			problem.Invalid, []string{"itself"}},
		{"duplicate of a duplicate", "monitor-south", "duplicate", `{"incident":"t1.1","same_as":"mission-0322.1","reason":"x"}`,
			problem.Invalid, []string{"is itself a duplicate of incident/ua-0322.1"}},
		{"final status", "monitor-south", "review", `{"incident":"mission-0322.1","status":"under-review","reasoning":"x"}`,
			problem.Invalid, []string{"nothing: it is final"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size := r.Log.Size()
			before := dump(t, r.Store())
			err := appendAs(t, r, c.as, c.typ, c.body, nil)
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

	// The workflow: reviewed, verified, counted; the review retracted, and
	// the count goes back.
	verified := tally(t, r, vocab.Verified)
	if err := appendAs(t, r, "monitor-south", "review", `{"incident":"t1.1","status":"under-review","reasoning":"two patrols"}`, nil); err != nil {
		t.Fatal(err)
	}
	if err := appendAs(t, r, "monitor-south", "review", `{"incident":"t1.1","status":"verified","reasoning":"craters"}`, nil); err != nil {
		t.Fatal(err)
	}
	if got := tally(t, r, vocab.Verified); got != verified+1 {
		t.Errorf("verified after a verification: %d, want %d", got, verified+1)
	}
	last := r.Log.Size() - 1
	if err := appendAs(t, r, "monitor-south", "retraction", `{"entry":`+strconv.FormatInt(last, 10)+`,"reason":"wrong incident"}`, nil); err != nil {
		t.Fatal(err)
	}
	if got := tally(t, r, vocab.Verified); got != verified {
		t.Errorf("verified after the verification was retracted: %d, want %d", got, verified)
	}
	e, err := r.Ask.Entity(t.Context(), "incident/t1.1")
	if err != nil {
		t.Fatal(err)
	}
	var v vocab.IncidentView
	if err := vocab.ViewOf(e, &v); err != nil || v.Status != vocab.UnderReview {
		t.Errorf("incident t1.1 after the retraction: %s (%v), want under-review", v.Status, err)
	}
	// A duplicate is counted once.
	all := tally(t, r, vocab.Reported)
	if err := appendAs(t, r, "monitor-south", "duplicate", `{"incident":"t1.2","same_as":"ua-0320.2","reason":"same strike"}`, nil); err != nil {
		t.Fatal(err)
	}
	if got := tally(t, r, vocab.Reported); got != all-1 || tally(t, r, vocab.Duplicate) != 2 {
		t.Errorf("after marking a duplicate: %d reported (want %d), %d duplicates (want 2)", got, all-1, tally(t, r, vocab.Duplicate))
	}
}
