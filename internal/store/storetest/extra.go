package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// Extra runs checks that Run does not run yet, on a new store each, as Run
// does: the error of a leaf stored twice, the tallies against a model of
// the heads through a long random history, and the order of names.
// (Written with the PostgreSQL driver; they belong in Run.)
func Extra(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"DuplicateHashIsNotConflict", testDuplicateHashIsNotConflict},
		{"TalliesModel", testTalliesModel},
		{"ByteOrder", testByteOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.run(t, s)
		})
	}
}

// testDuplicateHashIsNotConflict: the log core answers store.ErrConflict by
// reloading and trying again, and any other error by looking its entries
// up. An append refused for a stored hash must say so with another error,
// or a resubmitted entry would fail rather than be found.
func testDuplicateHashIsNotConflict(t *testing.T, s store.Store) {
	first := newBatch(0, 2, "a")
	mustAppend(t, s, first)
	again := newBatch(2, 1, "b")
	again.Leaves[0].Hash = first.Leaves[1].Hash
	err := s.Append(t.Context(), again)
	if err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("Append of a stored hash at the size: error = %v, want an error that is not store.ErrConflict", err)
	}
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
		if a.subject != b.subject {
			if a.subject < b.subject {
				return -1
			}
			return 1
		}
		if a.day != b.day {
			if a.day < b.day {
				return -1
			}
			return 1
		}
		if a.tag < b.tag {
			return -1
		}
		if a.tag > b.tag {
			return 1
		}
		return 0
	})
	for _, c := range keys {
		tallies = append(tallies, fmt.Sprintf("%s %d %s=%d", c.subject, c.day, c.tag, counts[c]))
	}
	return heads, tallies
}

// testByteOrder: names are listed in the order of their bytes (as SQLite
// compares text), not of a locale: upper case before lower, accented
// letters after z.
func testByteOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	names := []string{"émile", "alice", "Zoe", "zed", "_x", "Alice"}
	for i, n := range names {
		if err := s.CreateAccount(ctx, store.Account{Name: n, Role: "reader", Created: at(i)}, hashOf(n)); err != nil {
			t.Fatalf("CreateAccount(%q): %v", n, err)
		}
	}
	got, err := s.ListAccounts(ctx)
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	var order []string
	for _, a := range got {
		order = append(order, a.Name)
	}
	want := slices.Clone(names)
	slices.Sort(want) // Go compares strings by their bytes
	if !slices.Equal(order, want) {
		t.Errorf("ListAccounts order = %q, want %q", order, want)
	}
	// The same for the subjects of tallies.
	var d store.Derived
	for i, n := range names {
		d.Facts = append(d.Facts, store.Fact{Index: 0, Seq: i, Kind: "tally.order", Subject: n, Object: "o",
			Tag: "t", Time: day(1), Latest: true, Data: []byte(`{}`)})
	}
	b := newBatch(0, 1, "order")
	b.Derived = &d
	mustAppend(t, s, b)
	var subjects []string
	err = s.Tallies(ctx, store.TallyQuery{Kind: "tally.order"}, func(c store.Tally) error {
		subjects = append(subjects, c.Subject)
		return nil
	})
	if err != nil {
		t.Fatalf("Tallies: %v", err)
	}
	if !slices.Equal(subjects, want) {
		t.Errorf("Tallies order = %q, want %q", subjects, want)
	}
}
