package storetest

import (
	"fmt"
	"slices"
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
		report(0, 2, "a", "y", 3, "reported", day(2)), func() store.Fact { f := stance(0, "a", "accepts", 1); f.Seq = 3; return f }()}},
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
