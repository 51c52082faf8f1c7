package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/store"
)

// report is a tallied fact: incident n's status under agreement a, for
// party p, on day d of March 2025 (or at a negative time, before 1970).
func report(idx int64, seq int, a, p string, n int, status string, d time.Time) store.Fact {
	return store.Fact{Index: idx, Seq: seq, Kind: "tally.incident", Subject: a + "|" + p,
		Object: fmt.Sprintf("incident/%d", n), Tag: status, Time: d, Latest: true, Data: []byte(`{}`)}
}

// talliesHistory is the record the tallies tests use, one batch per entry:
//
//	0: incidents 1, 2 (a|x, day 1, reported), 3 (a|y, day 2, reported), an untallied stance
//	1: incident 1 verified
//	2: incident 2 rejected; incident 4 (b|x, 1969-12-31, reported)
//	3: voids entry 1: incident 1 is reported again
//	4: incident 3 verified, moved to day 3 by the review
var talliesHistory = []store.Derived{
	{Facts: []store.Fact{report(0, 0, "a", "x", 1, "reported", day(1)), report(0, 1, "a", "x", 2, "reported", day(1)),
		report(0, 2, "a", "y", 3, "reported", day(2)), withSeq(stance(0, "a", "accepts", 1), 3)}},
	{Facts: []store.Fact{report(1, 0, "a", "x", 1, "verified", day(1))}},
	{Facts: []store.Fact{report(2, 0, "a", "x", 2, "rejected", day(1)),
		report(2, 1, "b", "x", 4, "reported", time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC))}},
	{Voids: []store.Void{{Target: 1, By: 3}}},
	{Facts: []store.Fact{report(4, 0, "a", "y", 3, "verified", day(3))}},
}

// tallyKeys lists each count q selects as "subject day tag=n", days
// counted from 2025-03-01.
func tallyKeys(t *testing.T, s store.Store, q store.TallyQuery) []string {
	t.Helper()
	var out []string
	base := store.DayOf(day(1)) - 1
	err := s.Tallies(t.Context(), q, func(c store.Tally) error {
		if c.Kind != q.Kind {
			t.Errorf("a count of kind %q, asked for %q", c.Kind, q.Kind)
		}
		out = append(out, fmt.Sprintf("%s %d %s=%d", c.Subject, c.Day-base, c.Tag, c.N))
		return nil
	})
	if err != nil {
		t.Fatalf("Tallies(%+v): %v", q, err)
	}
	return out
}

func checkTallies(t *testing.T, s store.Store, q store.TallyQuery, want ...string) {
	t.Helper()
	if got := tallyKeys(t, s, q); !slices.Equal(got, want) {
		t.Errorf("Tallies(%+v):\n got %q\nwant %q", q, got, want)
	}
}

func testTallies(t *testing.T, s store.Store) {
	all := store.TallyQuery{Kind: "tally.incident"}
	checkTallies(t, s, all)
	steps := [][]string{
		{"a|x 1 reported=2", "a|y 2 reported=1"},
		{"a|x 1 reported=1", "a|x 1 verified=1", "a|y 2 reported=1"},
		{"a|x 1 rejected=1", "a|x 1 verified=1", "a|y 2 reported=1", "b|x -20148 reported=1"},
		{"a|x 1 rejected=1", "a|x 1 reported=1", "a|y 2 reported=1", "b|x -20148 reported=1"},
		{"a|x 1 rejected=1", "a|x 1 reported=1", "a|y 3 verified=1", "b|x -20148 reported=1"},
	}
	// Day -20148 is 1969-12-31 counted from 2025-03-01: a negative time
	// belongs to the day that holds it, not the day after.
	if got := store.DayOf(time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC)); got != -1 {
		t.Fatalf("DayOf(1969-12-31T23:00Z) = %d, want -1", got)
	}
	for i, d := range talliesHistory {
		b := newBatch(int64(i), 1, "tallies")
		b.Derived = &d
		mustAppend(t, s, b)
		checkTallies(t, s, all, steps[i]...)
	}
	first := store.DayOf(day(1))
	checkTallies(t, s, store.TallyQuery{Kind: "tally.incident", Subjects: "a|"},
		"a|x 1 rejected=1", "a|x 1 reported=1", "a|y 3 verified=1")
	checkTallies(t, s, store.TallyQuery{Kind: "tally.incident", Subjects: "a|y"}, "a|y 3 verified=1")
	checkTallies(t, s, store.TallyQuery{Kind: "tally.incident", FromDay: first + 1}, "a|y 3 verified=1")
	checkTallies(t, s, store.TallyQuery{Kind: "tally.incident", ToDay: first}, "a|x 1 rejected=1", "a|x 1 reported=1", "b|x -20148 reported=1")
	checkTallies(t, s, store.TallyQuery{Kind: "tally.incident", Subjects: "c"})
	checkTallies(t, s, store.TallyQuery{Kind: "tally.other"})

	// A rebuild counts the same; a reset counts nothing.
	ctx := t.Context()
	err := s.RebuildFacts(ctx, func(put func(int64, store.Derived) error) error {
		for i, d := range talliesHistory {
			if err := put(int64(i+1), d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("RebuildFacts: %v", err)
	}
	checkTallies(t, s, all, steps[len(steps)-1]...)
	// The counts still move after a rebuild.
	b := newBatch(int64(len(talliesHistory)), 1, "tallies")
	b.Derived = &store.Derived{Facts: []store.Fact{report(int64(len(talliesHistory)), 0, "a", "x", 2, "verified", day(1))}}
	mustAppend(t, s, b)
	checkTallies(t, s, all, "a|x 1 reported=1", "a|x 1 verified=1", "a|y 3 verified=1", "b|x -20148 reported=1")
	if err := s.ResetFacts(ctx); err != nil {
		t.Fatalf("ResetFacts: %v", err)
	}
	checkTallies(t, s, all)
}

// testTalliesModel appends a random history of tallied facts and voids,
// and checks after each step that the heads and the tallies are those a
// model of the history computes; then through a reset, a projection in
// runs, a rebuild and more appends.
func testTalliesModel(t *testing.T, s store.Store) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	const kind = "tally.model"
	subjects := []string{"a|x", "a|y", "b|x", "b"}
	tags := []string{"reported", "verified", "rejected"}
	// Days around 1970 and around now, hours apart, so that days split.
	times := []time.Time{
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, -1, time.UTC), day(1), day(1).Add(11*time.Hour + 59*time.Minute), day(2), day(3),
	}
	var history []store.Derived
	voided := map[int64]bool{}
	gen := func(idx int64) store.Derived {
		var d store.Derived
		for seq := range rng.IntN(4) {
			d.Facts = append(d.Facts, store.Fact{Index: idx, Seq: seq, Kind: kind,
				Subject: subjects[rng.IntN(len(subjects))], Object: fmt.Sprintf("incident/%d", rng.IntN(6)),
				Tag: tags[rng.IntN(len(tags))], Time: times[rng.IntN(len(times))], Latest: true, Data: []byte(`{}`)})
		}
		if rng.IntN(3) == 0 {
			d.Facts = append(d.Facts, store.Fact{Index: idx, Seq: len(d.Facts), Kind: kind + ".events", Subject: "a|x",
				Tag: "reported", Time: day(1), Data: []byte(`{}`)})
		}
		if idx > 0 && rng.IntN(4) == 0 {
			if target := rng.Int64N(idx); !voided[target] {
				voided[target] = true
				d.Voids = append(d.Voids, store.Void{Target: target, By: idx})
			}
		}
		return d
	}
	check := func(when string) {
		t.Helper()
		wantHeads, wantTallies := tallyModel(history, kind)
		var heads []string
		err := s.Facts(ctx, store.FactQuery{Kind: kind, Latest: true}, func(f store.Fact) error {
			heads = append(heads, fmt.Sprintf("%d.%d", f.Index, f.Seq))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Facts: %v", when, err)
		}
		slices.Sort(heads)
		if !slices.Equal(heads, wantHeads) {
			t.Fatalf("%s: heads %q, want %q", when, heads, wantHeads)
		}
		var tallies []string
		err = s.Tallies(ctx, store.TallyQuery{Kind: kind}, func(c store.Tally) error {
			tallies = append(tallies, fmt.Sprintf("%s %d %s=%d", c.Subject, c.Day, c.Tag, c.N))
			return nil
		})
		if err != nil {
			t.Fatalf("%s: Tallies: %v", when, err)
		}
		if !slices.Equal(tallies, wantTallies) {
			t.Fatalf("%s: tallies\n got %q\nwant %q", when, tallies, wantTallies)
		}
	}
	appendSome := func(n int) {
		for range n {
			idx := int64(len(history))
			d := gen(idx)
			history = append(history, d)
			b := newBatch(idx, 1, "model")
			b.Derived = &d
			mustAppend(t, s, b)
			check(fmt.Sprintf("after entry %d", idx))
		}
	}
	appendSome(60)

	if err := s.ResetFacts(ctx); err != nil {
		t.Fatalf("ResetFacts: %v", err)
	}
	for from := 0; from < len(history); from += 7 {
		to := min(from+7, len(history))
		var d store.Derived
		for _, h := range history[from:to] {
			d.Facts = append(d.Facts, h.Facts...)
			d.Voids = append(d.Voids, h.Voids...)
		}
		if err := s.Project(ctx, int64(from), int64(to), d); err != nil {
			t.Fatalf("Project [%d, %d): %v", from, to, err)
		}
	}
	check("after a reset and a projection in runs")

	err := s.RebuildFacts(ctx, func(put func(int64, store.Derived) error) error {
		for i, d := range history {
			if err := put(int64(i+1), d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("RebuildFacts: %v", err)
	}
	check("after a rebuild")
	appendSome(20)
}

// tallyModel computes, from a history, the heads of kind ("index.seq",
// sorted) and its tallies as Tallies lists them.
func tallyModel(history []store.Derived, kind string) (heads, tallies []string) {
	voided := map[int64]bool{}
	for _, d := range history {
		for _, v := range d.Voids {
			voided[v.Target] = true
		}
	}
	type key struct{ subject, object string }
	latest := map[key]store.Fact{}
	later := func(a, b store.Fact) bool {
		if !a.Time.Equal(b.Time) {
			return a.Time.After(b.Time)
		}
		if a.Index != b.Index {
			return a.Index > b.Index
		}
		return a.Seq > b.Seq
	}
	for _, d := range history {
		for _, f := range d.Facts {
			if f.Kind != kind || !f.Latest || voided[f.Index] {
				continue
			}
			k := key{f.Subject, f.Object}
			if g, ok := latest[k]; !ok || later(f, g) {
				latest[k] = f
			}
		}
	}
	type count struct {
		subject string
		day     int64
		tag     string
	}
	counts := map[count]int64{}
	for _, f := range latest {
		heads = append(heads, fmt.Sprintf("%d.%d", f.Index, f.Seq))
		counts[count{f.Subject, store.DayOf(f.Time), f.Tag}]++
	}
	slices.Sort(heads)
	keys := make([]count, 0, len(counts))
	for c := range counts {
		keys = append(keys, c)
	}
	slices.SortFunc(keys, func(a, b count) int {
		return cmp.Or(strings.Compare(a.subject, b.subject), cmp.Compare(a.day, b.day), strings.Compare(a.tag, b.tag))
	})
	for _, c := range keys {
		tallies = append(tallies, fmt.Sprintf("%s %d %s=%d", c.subject, c.day, c.tag, counts[c]))
	}
	return heads, tallies
}
