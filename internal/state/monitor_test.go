package state_test

import (
	"fmt"
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
	// A second key held by team North, and a review of the seed's.
	if _, _, err := r.NewKey(t.Context(), "north-2", "Ceasefire Monitoring Mission, team North"); err != nil {
		t.Fatal(err)
	}
	seedReview, err := r.Ask.Answer(t.Context(), state.Query{Question: "timeline", Params: map[string]string{"from": "2025-03-22"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reviewEntry int64 = -1
	for _, l := range seedReview.(state.Timeline).Lines {
		if l.Type == "review" && reviewEntry < 0 {
			reviewEntry = l.Basis.Index
		}
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
		{"a duplicate is only reopened", "monitor-south", "review", `{"incident":"mission-0322.1","status":"verified","reasoning":"x"}`,
			problem.Invalid, []string{"from duplicate a review may only set under-review"}},
		{"another key of the same holder", "north-2", "review", `{"incident":"t1.1","status":"under-review","reasoning":"x"}`,
			problem.Forbidden, []string{"held by Ceasefire Monitoring Mission, team North", "may not review it"}},
		{"a duplicate of one's own report", "north-2", "duplicate", `{"incident":"t1.1","same_as":"ua-0320.2","reason":"x"}`,
			problem.Forbidden, []string{"may not review it"}},
		{"retracting a review", "monitor-south", "retraction", `{"entry":` + strconv.FormatInt(reviewEntry, 10) + `,"reason":"x"}`,
			problem.Invalid, []string{"is a review; review the incident again instead of retracting it"}},
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

	// The workflow: reviewed, verified, counted; reopened, and the count
	// goes back.
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
	if err := appendAs(t, r, "monitor-south", "review", `{"incident":"t1.1","status":"under-review","reasoning":"wrong incident: the craters are older"}`, nil); err != nil {
		t.Fatal(err)
	}
	if got := tally(t, r, vocab.Verified); got != verified {
		t.Errorf("verified after the verification was reopened: %d, want %d", got, verified)
	}
	e, err := r.Ask.Entity(t.Context(), "incident/t1.1")
	if err != nil {
		t.Fatal(err)
	}
	var v vocab.IncidentView
	if err := vocab.ViewOf(e, &v); err != nil || v.Status != vocab.UnderReview {
		t.Errorf("incident t1.1 after it was reopened: %s (%v), want under-review", v.Status, err)
	}
	// A duplicate is counted once; reopened, it counts on its own again.
	all := tally(t, r, vocab.Reported)
	if err := appendAs(t, r, "monitor-south", "duplicate", `{"incident":"t1.2","same_as":"ua-0320.2","reason":"same strike"}`, nil); err != nil {
		t.Fatal(err)
	}
	if got := tally(t, r, vocab.Reported); got != all-1 || tally(t, r, vocab.Duplicate) != 2 {
		t.Errorf("after marking a duplicate: %d reported (want %d), %d duplicates (want 2)", got, all-1, tally(t, r, vocab.Duplicate))
	}
	under := tally(t, r, vocab.UnderReview)
	if err := appendAs(t, r, "monitor-south", "review", `{"incident":"t1.2","status":"under-review","reasoning":"not the same strike after all"}`, nil); err != nil {
		t.Fatal(err)
	}
	if tally(t, r, vocab.Duplicate) != 1 || tally(t, r, vocab.UnderReview) != under+1 {
		t.Errorf("after reopening a duplicate: %d duplicates (want 1), %d under review (want %d)", tally(t, r, vocab.Duplicate), tally(t, r, vocab.UnderReview), under+1)
	}

	// Corrections of the report: before review anything may change; after,
	// not what it is counted under or when it happened.
	reportEntry := inc.Incidents[0].Basis.Index
	corrected := `{"id":"t1","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[` +
		`{"time":"2025-03-25T10:00:00Z","place":"Toretsk","lat":48.4,"lon":37.8,"categories":["shelling"],"against":"russia","notes":"six impacts"},` +
		`{"time":"2025-03-10","place":"Kherson city","lat":46.6,"lon":32.6,"categories":["drone-strike"],"against":"russia"}]}`
	if err := appendAs(t, r, "monitor-north", "report", corrected, &reportEntry); err != nil {
		t.Fatalf("a correction of a reviewed report that changes notes and a place: %v", err)
	}
	if err := vocab.ViewOf(mustEntity(t, r, "incident/t1.1"), &v); err != nil || v.Status != vocab.UnderReview || v.Notes != "six impacts" {
		t.Errorf("incident t1.1 after the correction: %s, notes %q (%v); want under-review, \"six impacts\"", v.Status, v.Notes, err)
	}
	correction := r.Log.Size() - 1
	moved := strings.Replace(corrected, "2025-03-25T10:00:00Z", "2025-03-24T10:00:00Z", 1)
	err = appendAs(t, r, "monitor-north", "report", moved, &correction)
	if problem.KindOf(err) != problem.Invalid || !strings.Contains(fmt.Sprint(err), `"incidents/0/time"`) {
		t.Errorf("a correction moving a reviewed incident's time: %v, want a refusal at incidents/0/time", err)
	}

	// Folded live or rebuilt, the same state.
	before := dump(t, r.Store())
	if err := r.Rebuild(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, r.Store()); after != before {
		t.Errorf("rebuilt state differs:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func mustEntity(t *testing.T, r *record.Record, key string) vocab.Entity {
	t.Helper()
	e, err := r.Ask.Entity(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestAgreementAmended extends the ceasefire and suspends it: its end moves,
// an incident after the first end is no longer outside it, and the change
// is counted.
func TestAgreementAmended(t *testing.T) {
	r := seeded(t)
	ctx := t.Context()
	late := `{"id":"late","agreement":"ceasefire-2025-03","reported_by":"ukraine","incidents":[` +
		`{"time":"2025-04-25T10:00:00Z","place":"Toretsk","lat":48.4,"lon":37.8,"categories":["shelling"],"against":"russia"}]}`
	if err := appendAs(t, r, "monitor-north", "report", late, nil); err != nil {
		t.Fatal(err)
	}
	outside := func() bool {
		t.Helper()
		inc, err := r.Ask.Incidents(ctx, state.Clock{}, state.IncidentFilter{From: time.Date(2025, 4, 25, 0, 0, 0, 0, time.UTC)})
		if err != nil || len(inc.Incidents) != 1 {
			t.Fatalf("the late incident: %+v, %v", inc.Incidents, err)
		}
		return inc.Incidents[0].Outside
	}
	if !outside() {
		t.Error("an incident of 25 April, after the 30 days, is not flagged outside the agreement")
	}
	// Amendments describe times after the agreement they change.
	if err := appendAt(t, r, "us-administration", "agreement", `{"id":"ceasefire-2025-03","extend_days":10}`, nil, time.Date(2025, 4, 15, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	comp, err := r.Ask.Compliance(ctx, state.Clock{}, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if ag := comp.Agreement; ag.Days != 40 || !ag.Ends.Equal(time.Date(2025, 4, 29, 0, 0, 0, 0, time.UTC)) || ag.Changes != 1 || comp.To != "2025-04-28" {
		t.Errorf("extended by 10 days: %d days, ends %s, %d changes, counted to %s; want 40, 2025-04-29, 1, 2025-04-28", ag.Days, ag.Ends, ag.Changes, comp.To)
	}
	if outside() {
		t.Error("the late incident is still outside the agreement after it was extended past it")
	}
	if err := appendAt(t, r, "us-administration", "agreement", `{"id":"ceasefire-2025-03","status":"suspended"}`, nil, time.Date(2025, 4, 16, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	daily, err := r.Ask.Daily(ctx, state.Clock{}, "", time.Date(2025, 3, 22, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !daily.InForce || daily.Agreement.Status != "suspended" || daily.Agreement.Changes != 2 {
		t.Errorf("22 March, after a suspension in April: in force %v, status %s, %d changes; want true (it was then), suspended, 2", daily.InForce, daily.Agreement.Status, daily.Agreement.Changes)
	}
	if later, err := r.Ask.Daily(ctx, state.Clock{}, "", time.Date(2025, 4, 17, 0, 0, 0, 0, time.UTC)); err != nil || later.InForce {
		t.Errorf("17 April, the day after the suspension: in force %v (%v), want false", later.InForce, err)
	}
	if err := appendAs(t, r, "us-administration", "agreement", `{"id":"new-one","extend_days":5}`, nil); err == nil || !strings.Contains(err.Error(), `"parties" and "start" are required`) {
		t.Errorf("a new agreement with only an extension: %v", err)
	}
}
