package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// day is the time a test fact describes: day n of March 2025.
func day(n int) time.Time { return time.Date(2025, 3, n, 12, 0, 0, 0, time.UTC) }

// stance is a latest-only fact: party's stance on the proposal on a day.
func stance(idx int64, party, tag string, d int) store.Fact {
	return store.Fact{Index: idx, Kind: "position", Subject: "proposal/p", Object: "party/" + party,
		Tag: tag, Time: day(d), Latest: true, Data: fmt.Appendf(nil, `{"stance":%q}`, tag)}
}

// withSeq is f numbered seq among its entry's facts.
func withSeq(f store.Fact, seq int) store.Fact {
	f.Seq = seq
	return f
}

// said is an event fact: all of them hold.
func said(idx int64, seq int, who string, d int) store.Fact {
	return store.Fact{Index: idx, Seq: seq, Kind: "statement", Subject: "actor/" + who, Tag: "reported",
		Time: day(d), Data: []byte(`{}`)}
}

// factsHistory is the record the facts tests use, one batch per entry:
//
//	0: a undecided (day 1), statement by x (day 1)
//	1: a accepts (day 3)
//	2: b rejects (day 2), statements by x (day 2) and y (day 2)
//	3: a counters (day 2): recorded late, about an earlier day
//	4: voids entry 1
var factsHistory = numbered([]store.Derived{
	{Facts: []store.Fact{stance(0, "a", "undecided", 1), said(0, 1, "x", 1)}},
	{Facts: []store.Fact{stance(1, "a", "accepts", 3)}},
	{Facts: []store.Fact{stance(2, "b", "rejects", 2), said(2, 1, "x", 2), said(2, 2, "y", 2)}},
	{Facts: []store.Fact{stance(3, "a", "counters", 2)}},
	{Voids: []store.Void{{Target: 1, By: 4}}},
})

// numbered numbers each entry's facts in order, and returns history.
func numbered(history []store.Derived) []store.Derived {
	for _, d := range history {
		for i := range d.Facts {
			d.Facts[i].Seq = i
		}
	}
	return history
}

func appendFacts(t *testing.T, s store.Store, upto int) {
	t.Helper()
	for i, d := range factsHistory[:upto] {
		b := newBatch(int64(i), 1, "facts")
		b.Derived = &d
		mustAppend(t, s, b)
	}
}

// factKeys runs q and lists each fact as "index.seq:object=tag".
func factKeys(t *testing.T, s store.Store, q store.FactQuery) []string {
	t.Helper()
	var out []string
	err := s.Facts(t.Context(), q, func(f store.Fact) error {
		out = append(out, fmt.Sprintf("%d.%d:%s=%s", f.Index, f.Seq, f.Object, f.Tag))
		return nil
	})
	if err != nil {
		t.Fatalf("Facts(%+v): %v", q, err)
	}
	return out
}

// checkFactAnswers asks the questions whose answers factsHistory fixes.
func checkFactAnswers(t *testing.T, s store.Store) {
	t.Helper()
	pos := store.FactQuery{Kind: "position", Subject: "proposal/p", Latest: true}
	asOf := func(q store.FactQuery, d int) store.FactQuery { q.AsOf = day(d); return q }
	knownAt := func(q store.FactQuery, n int64) store.FactQuery { q.KnownAt = n; return q }
	tags := func(q store.FactQuery, tags ...string) store.FactQuery { q.Tags = tags; return q }
	between := func(q store.FactQuery, from, until time.Time) store.FactQuery {
		q.From, q.Until = from, until
		return q
	}
	cases := []struct {
		name string
		q    store.FactQuery
		want []string
	}{
		// Entry 1 is void; entry 3 (day 2) is a's latest that holds.
		{"now", pos, []string{"2.0:party/b=rejects", "3.0:party/a=counters"}},
		{"known at 4", knownAt(pos, 4), []string{"2.0:party/b=rejects", "1.0:party/a=accepts"}},
		{"known at 3", knownAt(pos, 3), []string{"2.0:party/b=rejects", "1.0:party/a=accepts"}},
		{"as of day 1", asOf(pos, 1), []string{"0.0:party/a=undecided"}},
		{"as of day 2 known at 3", knownAt(asOf(pos, 2), 3), []string{"0.0:party/a=undecided", "2.0:party/b=rejects"}},
		{"as of day 2", asOf(pos, 2), []string{"2.0:party/b=rejects", "3.0:party/a=counters"}},
		{"known at 1", knownAt(pos, 1), []string{"0.0:party/a=undecided"}},
		// A tag filter does not fall back to an older fact of the key.
		{"tag now", tags(pos, "undecided", "rejects"), []string{"2.0:party/b=rejects"}},
		{"tag as of", tags(asOf(pos, 3), "undecided"), nil},
		{"events", store.FactQuery{Kind: "statement"}, []string{"0.1:=reported", "2.1:=reported", "2.2:=reported"}},
		{"events by subject", store.FactQuery{Kind: "statement", Subject: "actor/x"}, []string{"0.1:=reported", "2.1:=reported"}},
		{"events from", store.FactQuery{Kind: "statement", From: day(2)}, []string{"2.1:=reported", "2.2:=reported"}},
		{"events newest first", store.FactQuery{Kind: "statement", Desc: true, Limit: 2}, []string{"2.2:=reported", "2.1:=reported"}},
		{"events until", store.FactQuery{Kind: "statement", Until: day(2)}, []string{"0.1:=reported"}},
		// From and Until bound the latest facts, and fall back on none.
		{"latest from", between(pos, day(2), time.Time{}), []string{"2.0:party/b=rejects", "3.0:party/a=counters"}},
		{"latest until", between(pos, time.Time{}, day(2)), nil},
		{"latest within", between(pos, day(2), day(3)), []string{"2.0:party/b=rejects", "3.0:party/a=counters"}},
		{"as of day 1 until day 2", between(asOf(pos, 1), time.Time{}, day(2)), []string{"0.0:party/a=undecided"}},
		{"as of day 2 known at 3 from day 2", between(knownAt(asOf(pos, 2), 3), day(2), time.Time{}), []string{"2.0:party/b=rejects"}},
		{"as of day 3 until day 3", between(asOf(pos, 3), time.Time{}, day(3)), []string{"2.0:party/b=rejects", "3.0:party/a=counters"}},
		{"no such kind", store.FactQuery{Kind: "track"}, nil},
	}
	for _, c := range cases {
		if got := factKeys(t, s, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func testFacts(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n, err := s.Projected(ctx); err != nil || n != 0 {
		t.Fatalf("Projected of an empty store = %d, %v; want 0", n, err)
	}
	appendFacts(t, s, len(factsHistory))
	if n, err := s.Projected(ctx); err != nil || n != int64(len(factsHistory)) {
		t.Fatalf("Projected = %d, %v; want %d", n, err, len(factsHistory))
	}
	checkFactAnswers(t, s)

	// A fact's content and time come back as stored.
	var got store.Fact
	s.Facts(ctx, store.FactQuery{Kind: "position", Object: "party/b"}, func(f store.Fact) error { got = f; return nil })
	if want := stance(2, "b", "rejects", 2); got.Subject != want.Subject || !got.Time.Equal(want.Time) ||
		string(got.Data) != string(want.Data) || !got.Latest {
		t.Errorf("fact read back as %+v, want %+v", got, want)
	}
}

func testFactsRebuild(t *testing.T, s store.Store) {
	ctx := t.Context()
	appendFacts(t, s, len(factsHistory))
	if err := s.ResetFacts(ctx); err != nil {
		t.Fatalf("ResetFacts: %v", err)
	}
	if n, _ := s.Projected(ctx); n != 0 {
		t.Fatalf("Projected after reset = %d, want 0", n)
	}
	if got := factKeys(t, s, store.FactQuery{Kind: "position"}); got != nil {
		t.Fatalf("facts after reset: %q", got)
	}
	// Project in two steps, the second refused once for starting elsewhere.
	var first, second store.Derived
	for i, d := range factsHistory {
		into := &first
		if i >= 2 {
			into = &second
		}
		into.Facts = append(into.Facts, d.Facts...)
		into.Voids = append(into.Voids, d.Voids...)
	}
	if err := s.Project(ctx, 0, 2, first); err != nil {
		t.Fatalf("Project [0, 2): %v", err)
	}
	if err := s.Project(ctx, 1, 5, second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Project from 1 when facts reach 2: %v, want ErrConflict", err)
	}
	if err := s.Project(ctx, 2, 5, second); err != nil {
		t.Fatalf("Project [2, 5): %v", err)
	}
	checkFactAnswers(t, s)

	// An append with facts that do not start where the facts reach changes nothing.
	b := newBatch(5, 1, "facts")
	b.Derived = &store.Derived{}
	s.ResetFacts(ctx)
	if err := s.Append(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Append with facts behind: %v, want ErrConflict", err)
	}
	if n := size(t, s); n != 5 {
		t.Fatalf("size after refused append = %d, want 5", n)
	}

	testRebuildFacts(t, s)
}

// testRebuildFacts rebuilds the facts of the 5 entries of factsHistory, on
// a store whose facts were thrown away, and checks that a rebuild is all or
// nothing.
func testRebuildFacts(t *testing.T, s store.Store) {
	ctx := t.Context()
	projected := func() int64 {
		t.Helper()
		n, err := s.Projected(ctx)
		if err != nil {
			t.Fatalf("Projected: %v", err)
		}
		return n
	}
	// In three runs, the last with no facts; readers see no facts until
	// the rebuild returns.
	err := s.RebuildFacts(ctx, func(put func(int64, store.Derived) error) error {
		runs := []struct {
			through int64
			d       store.Derived
		}{
			{2, store.Derived{Facts: slices.Concat(factsHistory[0].Facts, factsHistory[1].Facts)}},
			{4, store.Derived{Facts: slices.Concat(factsHistory[2].Facts, factsHistory[3].Facts)}},
			{5, factsHistory[4]},
		}
		for _, r := range runs {
			if err := put(r.through, r.d); err != nil {
				return err
			}
			if n := projected(); n != 0 {
				t.Errorf("Projected during a rebuild = %d, want 0 (as before it)", n)
			}
			if got := factKeys(t, s, store.FactQuery{Kind: "position"}); got != nil {
				t.Errorf("facts seen during a rebuild: %q", got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("RebuildFacts: %v", err)
	}
	if n := projected(); n != 5 {
		t.Fatalf("Projected after RebuildFacts = %d, want 5", n)
	}
	checkFactAnswers(t, s)

	// A rebuild that fails changes nothing, whether the fold or the store
	// refuses.
	failed := errors.New("the fold failed")
	half := func(put func(int64, store.Derived) error) error {
		if err := put(2, store.Derived{Facts: factsHistory[0].Facts}); err != nil {
			return err
		}
		return failed
	}
	if err := s.RebuildFacts(ctx, half); !errors.Is(err, failed) {
		t.Fatalf("RebuildFacts with a failing fold: %v, want %v", err, failed)
	}
	outside := func(put func(int64, store.Derived) error) error {
		return put(3, store.Derived{Facts: factsHistory[3].Facts})
	}
	if err := s.RebuildFacts(ctx, outside); err == nil {
		t.Fatal("RebuildFacts took a fact of entry 3 among the facts of entries before 3")
	}
	twice := func(put func(int64, store.Derived) error) error {
		d := store.Derived{Facts: slices.Concat(factsHistory[0].Facts, factsHistory[1].Facts)}
		if err := put(2, d); err != nil {
			return err
		}
		// The same facts again, and the fold goes on regardless.
		d = store.Derived{Facts: slices.Concat(factsHistory[2].Facts, factsHistory[2].Facts)}
		err := put(3, d)
		put(4, store.Derived{Facts: []store.Fact{said(3, 5, "z", 3)}})
		return err
	}
	if err := s.RebuildFacts(ctx, twice); err == nil {
		t.Fatal("RebuildFacts took the same fact twice")
	}
	// A put refused before it wrote anything, and a fold that says nothing
	// of it: the rebuild fails all the same.
	ignored := func(put func(int64, store.Derived) error) error {
		put(2, store.Derived{Facts: factsHistory[3].Facts})
		put(5, store.Derived{Facts: slices.Concat(factsHistory[0].Facts, factsHistory[1].Facts)})
		return nil
	}
	if err := s.RebuildFacts(ctx, ignored); err == nil {
		t.Fatal("RebuildFacts committed though a put failed")
	}
	if n := projected(); n != 5 {
		t.Fatalf("Projected after failed rebuilds = %d, want 5", n)
	}
	checkFactAnswers(t, s)

	// The facts of new entries follow on from a rebuild's.
	b := newBatch(5, 1, "facts")
	b.Derived = &store.Derived{Facts: []store.Fact{stance(5, "a", "accepts", 4), stance(5, "b", "accepts", 1)}}
	b.Derived.Facts[1].Seq = 1
	mustAppend(t, s, b)
	pos := store.FactQuery{Kind: "position", Subject: "proposal/p", Latest: true}
	if got, want := factKeys(t, s, pos), []string{"2.0:party/b=rejects", "5.0:party/a=accepts"}; !slices.Equal(got, want) {
		t.Errorf("latest after a rebuild and an append: got %q, want %q", got, want)
	}
}

// testFactsMany stores more facts in one batch than a driver may write in
// one statement, many of them for the same few keys.
func testFactsMany(t *testing.T, s store.Store) {
	const n = 1000
	var d store.Derived
	for i := range n {
		f := stance(0, fmt.Sprint("p", i%7), fmt.Sprint("s", i), 1+i%28)
		f.Seq = i
		d.Facts = append(d.Facts, f)
	}
	b := newBatch(0, 1, "many")
	b.Derived = &d
	mustAppend(t, s, b)
	got := factKeys(t, s, store.FactQuery{Kind: "position", Latest: true})
	if len(got) != 7 {
		t.Fatalf("%d heads, want 7: %q", len(got), got)
	}
	// The latest fact of party p0 is the one on the latest day, and of those
	// the one with the highest seq.
	want := -1
	for i := 0; i < n; i += 7 {
		if want < 0 || 1+i%28 > 1+want%28 || (1+i%28 == 1+want%28 && i > want) {
			want = i
		}
	}
	if w := fmt.Sprintf("0.%d:party/p0=s%d", want, want); !slices.Contains(got, w) {
		t.Errorf("heads %q do not hold %s", got, w)
	}
	if all := factKeys(t, s, store.FactQuery{Kind: "position"}); len(all) != n {
		t.Errorf("%d facts stored, want %d", len(all), n)
	}
}

// testFactsRefused appends a batch whose facts the store must refuse (two
// facts numbered alike): nothing of it is kept, and the next append works.
func testFactsRefused(t *testing.T, s store.Store) {
	appendFacts(t, s, 1)
	bad := newBatch(1, 1, "refused")
	bad.Derived = &store.Derived{Facts: []store.Fact{stance(1, "a", "accepts", 3), stance(1, "b", "rejects", 3)}}
	if err := s.Append(t.Context(), bad); err == nil {
		t.Fatal("Append took two facts numbered 1.0")
	}
	if n := size(t, s); n != 1 {
		t.Fatalf("size after a refused append = %d, want 1", n)
	}
	if got := factKeys(t, s, store.FactQuery{Kind: "position"}); !slices.Equal(got, []string{"0.0:party/a=undecided"}) {
		t.Errorf("facts after a refused append: %q, want only entry 0's", got)
	}
	good := newBatch(1, 1, "after")
	good.Derived = &store.Derived{Facts: []store.Fact{stance(1, "a", "accepts", 3)}}
	mustAppend(t, s, good)
	if got := factKeys(t, s, store.FactQuery{Kind: "position", Latest: true}); !slices.Equal(got, []string{"1.0:party/a=accepts"}) {
		t.Errorf("latest facts after the next append: %q", got)
	}
}
