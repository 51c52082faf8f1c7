// Package storetest is the conformance suite every store driver must pass.
//
// A driver's test calls Run with a function that opens a new, empty store;
// the suite then checks each promise of the store.Store interface against it,
// so that SQLite and PostgreSQL behave alike for the log core above them.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"parley/internal/store"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Empty", testEmpty},
		{"AppendAndRead", testAppendAndRead},
		{"Conflict", testConflict},
		{"DuplicateHash", testDuplicateHash},
		{"Tiles", testTiles},
		{"Checkpoints", testCheckpoints},
		{"Meta", testMeta},
		{"CallbackError", testCallbackError},
		{"ConcurrentAppend", testConcurrentAppend},
		{"Facts", testFacts},
		{"FactsRebuild", testFactsRebuild},
		{"FactsMany", testFactsMany},
		{"FactsRefused", testFactsRefused},
		{"Tallies", testTallies},
		{"TalliesModel", testTalliesModel},
		{"Accounts", testAccounts},
		{"ByteOrder", testByteOrder},
		{"Channels", testChannels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, fresh(t)) })
	}
}

// types are the leaf types the suite cycles through, so that LeavesOfType
// has something to filter.
var types = []string{"position", "relay", "blocker"}

// newLeaf makes the leaf at index, distinguished by tag. Its data holds bytes
// that text encodings would mangle, to check the store keeps them exactly.
func newLeaf(index int64, tag string) store.Leaf {
	n := int64(len(types))
	return store.Leaf{
		Index: index,
		Hash:  sha256.Sum256([]byte(tag)),
		Type:  types[(index%n+n)%n], // index is negative in one conflict case
		Data:  append([]byte{0x00, 0xff, '\n', byte(index)}, tag...),
	}
}

// newBatch makes a batch of n new leaves at start, with the level-0 tile
// covering them and a checkpoint for the new size.
func newBatch(start int64, n int, tag string) store.Batch {
	b := store.Batch{Start: start}
	for i := range n {
		idx := start + int64(i)
		b.Leaves = append(b.Leaves, newLeaf(idx, fmt.Sprintf("%s/%d", tag, idx)))
	}
	size := start + int64(n)
	b.Tiles = []store.Tile{newTile(0, 0, int(size), tag)}
	b.Checkpoint = newCheckpoint(size, tag)
	return b
}

// newTile makes a tile whose data says which width and batch wrote it.
func newTile(level int, index int64, width int, tag string) store.Tile {
	return store.Tile{
		Level: level,
		Index: index,
		Width: width,
		Data:  fmt.Appendf(nil, "tile %d/%d width %d from %s", level, index, width, tag),
	}
}

// base is the time of the first checkpoint. Checkpoint times have whole
// microseconds, the finest precision every driver (PostgreSQL included) keeps.
var base = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

func newCheckpoint(size int64, tag string) store.Checkpoint {
	return store.Checkpoint{
		Size: size,
		Time: base.Add(time.Duration(size) * (time.Minute + 7*time.Microsecond)),
		Note: fmt.Appendf(nil, "parley test\n%d\n%s\n\n— sig\n", size, tag),
	}
}

func mustAppend(t *testing.T, s store.Store, b store.Batch) {
	t.Helper()
	if err := s.Append(t.Context(), b); err != nil {
		t.Fatalf("Append at %d (%d leaves): %v", b.Start, len(b.Leaves), err)
	}
}

func size(t *testing.T, s store.Store) int64 {
	t.Helper()
	n, err := s.Size(t.Context())
	if err != nil {
		t.Fatalf("Size: %v", err)
	}
	return n
}

func leaves(t *testing.T, s store.Store, from, to int64) []store.Leaf {
	t.Helper()
	var got []store.Leaf
	err := s.Leaves(t.Context(), from, to, func(l store.Leaf) error {
		got = append(got, l)
		return nil
	})
	if err != nil {
		t.Fatalf("Leaves(%d, %d): %v", from, to, err)
	}
	return got
}

func leavesOfType(t *testing.T, s store.Store, types []string) []store.Leaf {
	t.Helper()
	var got []store.Leaf
	err := s.LeavesOfType(t.Context(), types, func(l store.Leaf) error {
		got = append(got, l)
		return nil
	})
	if err != nil {
		t.Fatalf("LeavesOfType(%q): %v", types, err)
	}
	return got
}

func checkpoints(t *testing.T, s store.Store, from, to int64) []store.Checkpoint {
	t.Helper()
	var got []store.Checkpoint
	err := s.Checkpoints(t.Context(), from, to, func(c store.Checkpoint) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatalf("Checkpoints(%d, %d): %v", from, to, err)
	}
	return got
}

func tile(t *testing.T, s store.Store, level int, index int64) []byte {
	t.Helper()
	data, err := s.Tile(t.Context(), level, index)
	if err != nil {
		t.Fatalf("Tile(%d, %d): %v", level, index, err)
	}
	return data
}

func equalLeaf(a, b store.Leaf) bool {
	return a.Index == b.Index && a.Hash == b.Hash && a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}

func equalCheckpoint(a, b store.Checkpoint) bool {
	return a.Size == b.Size && a.Time.Equal(b.Time) && bytes.Equal(a.Note, b.Note)
}

func checkLeaves(t *testing.T, what string, got, want []store.Leaf) {
	t.Helper()
	if !slices.EqualFunc(got, want, equalLeaf) {
		t.Errorf("%s: got leaves %v, want %v", what, indexes(got), indexes(want))
		for i := range min(len(got), len(want)) {
			if !equalLeaf(got[i], want[i]) {
				t.Errorf("%s: leaf %d is %+v, want %+v", what, i, got[i], want[i])
				break
			}
		}
	}
}

func checkCheckpoints(t *testing.T, what string, got, want []store.Checkpoint) {
	t.Helper()
	if !slices.EqualFunc(got, want, equalCheckpoint) {
		t.Errorf("%s:\ngot  %v\nwant %v", what, got, want)
	}
}

func indexes(ls []store.Leaf) []int64 {
	out := make([]int64, len(ls))
	for i, l := range ls {
		out[i] = l.Index
	}
	return out
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	if n := size(t, s); n != 0 {
		t.Errorf("Size = %d, want 0", n)
	}
	notFound := []struct {
		name string
		call func() error
	}{
		{"LatestCheckpoint", func() error { _, err := s.LatestCheckpoint(ctx); return err }},
		{"FindLeaf", func() error { _, err := s.FindLeaf(ctx, sha256.Sum256([]byte("absent"))); return err }},
		{"Tile", func() error { _, err := s.Tile(ctx, 0, 0); return err }},
		{"Meta", func() error { _, err := s.Meta(ctx, "origin"); return err }},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("error = %v, want store.ErrNotFound", err)
			}
		})
	}
	t.Run("Iterators", func(t *testing.T) {
		if got := leaves(t, s, 0, 10); len(got) != 0 {
			t.Errorf("Leaves(0, 10) gave %d leaves", len(got))
		}
		if got := leavesOfType(t, s, types); len(got) != 0 {
			t.Errorf("LeavesOfType gave %d leaves", len(got))
		}
		if got := checkpoints(t, s, 0, 10); len(got) != 0 {
			t.Errorf("Checkpoints(0, 10) gave %d checkpoints", len(got))
		}
	})
}

func testAppendAndRead(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []store.Leaf
	for i, n := range []int{1, 4, 2, 5} {
		b := newBatch(int64(len(all)), n, fmt.Sprintf("batch%d", i))
		mustAppend(t, s, b)
		all = append(all, b.Leaves...)
		if got := size(t, s); got != int64(len(all)) {
			t.Fatalf("Size after batch %d = %d, want %d", i, got, len(all))
		}
	}
	last := int64(len(all)) // 12

	t.Run("Leaves", func(t *testing.T) {
		ranges := []struct {
			name     string
			from, to int64
			want     []store.Leaf
		}{
			{"all", 0, last, all},
			{"first", 0, 1, all[:1]},
			{"last", last - 1, last, all[last-1:]},
			{"across batches", 3, 9, all[3:9]},
			{"empty range", 5, 5, nil},
			{"reversed range", 7, 3, nil},
			{"past the end", last, last + 10, nil},
			{"overlapping the end", last - 2, last + 10, all[last-2:]},
			{"before the start", -5, 2, all[:2]},
		}
		for _, r := range ranges {
			t.Run(r.name, func(t *testing.T) {
				checkLeaves(t, fmt.Sprintf("Leaves(%d, %d)", r.from, r.to), leaves(t, s, r.from, r.to), r.want)
			})
		}
	})

	t.Run("LeavesOfType", func(t *testing.T) {
		ofType := func(want ...string) []store.Leaf {
			var out []store.Leaf
			for _, l := range all {
				if slices.Contains(want, l.Type) {
					out = append(out, l)
				}
			}
			return out
		}
		filters := []struct {
			name  string
			types []string
			want  []store.Leaf
		}{
			{"one type", []string{"relay"}, ofType("relay")},
			{"two types", []string{"blocker", "position"}, ofType("blocker", "position")},
			{"every type", types, all},
			{"repeated type", []string{"relay", "relay"}, ofType("relay")},
			{"unknown type", []string{"absent"}, nil},
			{"known and unknown", []string{"absent", "blocker"}, ofType("blocker")},
			{"no types", nil, nil},
		}
		for _, f := range filters {
			t.Run(f.name, func(t *testing.T) {
				checkLeaves(t, fmt.Sprintf("LeavesOfType(%q)", f.types), leavesOfType(t, s, f.types), f.want)
			})
		}
	})

	t.Run("FindLeaf", func(t *testing.T) {
		for _, l := range all {
			got, err := s.FindLeaf(ctx, l.Hash)
			if err != nil || got != l.Index {
				t.Errorf("FindLeaf(leaf %d) = %d, %v", l.Index, got, err)
			}
		}
		if _, err := s.FindLeaf(ctx, sha256.Sum256([]byte("absent"))); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("FindLeaf(absent) error = %v, want store.ErrNotFound", err)
		}
	})
}

// snapshot is everything a failed Append must leave untouched.
type snapshot struct {
	size        int64
	leaves      []store.Leaf
	checkpoints []store.Checkpoint
	tiles       map[[2]int64][]byte // by (level, index); nil data if absent
}

func takeSnapshot(t *testing.T, s store.Store, tiles [][2]int64) snapshot {
	t.Helper()
	snap := snapshot{
		size:        size(t, s),
		leaves:      leaves(t, s, 0, 1<<40),
		checkpoints: checkpoints(t, s, 0, 1<<40),
		tiles:       map[[2]int64][]byte{},
	}
	for _, k := range tiles {
		data, err := s.Tile(t.Context(), int(k[0]), k[1])
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Tile(%d, %d): %v", k[0], k[1], err)
		}
		snap.tiles[k] = data
	}
	return snap
}

func checkUnchanged(t *testing.T, before, after snapshot) {
	t.Helper()
	if after.size != before.size {
		t.Errorf("Size changed from %d to %d", before.size, after.size)
	}
	checkLeaves(t, "leaves after failed Append", after.leaves, before.leaves)
	checkCheckpoints(t, "checkpoints after failed Append", after.checkpoints, before.checkpoints)
	for k, want := range before.tiles {
		if got := after.tiles[k]; !bytes.Equal(got, want) {
			t.Errorf("tile %d/%d changed from %q to %q", k[0], k[1], want, got)
		}
	}
}

// badBatch is a batch that must be refused: it would widen tile 0/0, add tile
// 1/3 and a checkpoint, so any partial effect shows.
func badBatch(start int64, ls []store.Leaf) store.Batch {
	return store.Batch{
		Start:      start,
		Leaves:     ls,
		Tiles:      []store.Tile{newTile(0, 0, 200, "bad"), newTile(1, 3, 9, "bad")},
		Checkpoint: newCheckpoint(start+int64(len(ls)), "bad"),
	}
}

var touchedTiles = [][2]int64{{0, 0}, {1, 3}}

func testConflict(t *testing.T, s store.Store) {
	mustAppend(t, s, newBatch(0, 3, "a"))
	mustAppend(t, s, newBatch(3, 2, "b"))
	starts := []struct {
		name  string
		start int64
	}{
		{"behind by one", 4},
		{"at zero", 0},
		{"ahead by one", 6},
		{"far ahead", 1000},
		{"negative", -1},
	}
	for _, tt := range starts {
		t.Run(tt.name, func(t *testing.T) {
			before := takeSnapshot(t, s, touchedTiles)
			b := badBatch(tt.start, newBatch(tt.start, 2, "conflict-"+tt.name).Leaves)
			err := s.Append(t.Context(), b)
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("Append at %d on a log of 5: error = %v, want store.ErrConflict", tt.start, err)
			}
			checkUnchanged(t, before, takeSnapshot(t, s, touchedTiles))
			for _, l := range b.Leaves {
				if _, err := s.FindLeaf(t.Context(), l.Hash); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("refused leaf %d: FindLeaf error = %v, want store.ErrNotFound", l.Index, err)
				}
			}
		})
	}
	t.Run("append still works", func(t *testing.T) {
		mustAppend(t, s, newBatch(5, 1, "c"))
		if n := size(t, s); n != 6 {
			t.Errorf("Size = %d, want 6", n)
		}
	})
}

// testDuplicateHash: an append that repeats a stored hash, or one of its
// own, changes nothing, and its error is not store.ErrConflict. The log
// core answers ErrConflict by reloading and trying again, and any other
// error by looking its entries up: a resubmitted entry must be found, not
// retried for ever.
func testDuplicateHash(t *testing.T, s store.Store) {
	first := newBatch(0, 3, "a")
	mustAppend(t, s, first)
	cases := []struct {
		name   string
		leaves []store.Leaf // the last repeats a hash
	}{
		{"is a stored leaf", []store.Leaf{
			{Index: 3, Hash: first.Leaves[1].Hash, Type: "relay", Data: []byte("resubmitted")},
		}},
		{"repeats a stored leaf", []store.Leaf{
			newLeaf(3, "fresh-1"), newLeaf(4, "fresh-2"),
			{Index: 5, Hash: first.Leaves[1].Hash, Type: "relay", Data: []byte("other bytes")},
		}},
		{"repeats a leaf of the batch", []store.Leaf{
			newLeaf(3, "fresh-3"), newLeaf(4, "twin"),
			{Index: 5, Hash: newLeaf(4, "twin").Hash, Type: "relay", Data: []byte("twin again")},
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			before := takeSnapshot(t, s, touchedTiles)
			err := s.Append(t.Context(), badBatch(3, tt.leaves))
			if err == nil {
				t.Fatal("Append with a duplicate leaf hash succeeded")
			}
			if errors.Is(err, store.ErrConflict) {
				t.Errorf("Append with a duplicate leaf hash: error = %v, want an error that is not store.ErrConflict", err)
			}
			checkUnchanged(t, before, takeSnapshot(t, s, touchedTiles))
			for _, l := range tt.leaves[:len(tt.leaves)-1] {
				if _, err := s.FindLeaf(t.Context(), l.Hash); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("leaf %d of the refused batch: FindLeaf error = %v, want store.ErrNotFound", l.Index, err)
				}
			}
			if got, err := s.FindLeaf(t.Context(), first.Leaves[1].Hash); err != nil || got != 1 {
				t.Errorf("FindLeaf(stored leaf 1) = %d, %v", got, err)
			}
		})
	}
	t.Run("append still works", func(t *testing.T) {
		b := newBatch(3, 2, "b")
		mustAppend(t, s, b)
		checkLeaves(t, "Leaves(0, 5)", leaves(t, s, 0, 5), append(slices.Clone(first.Leaves), b.Leaves...))
	})
}

func testTiles(t *testing.T, s store.Store) {
	// Each step appends one leaf with its tiles, then reads back every tile
	// written so far: each must hold the data of its widest version.
	steps := []struct {
		name  string
		tiles []store.Tile
		want  []store.Tile
	}{
		{"first tiles",
			[]store.Tile{newTile(0, 0, 3, "s1"), newTile(1, 0, 1, "s1")},
			[]store.Tile{newTile(0, 0, 3, "s1"), newTile(1, 0, 1, "s1")}},
		{"wider replaces",
			[]store.Tile{newTile(0, 0, 7, "s2")},
			[]store.Tile{newTile(0, 0, 7, "s2"), newTile(1, 0, 1, "s1")}},
		{"narrower never shrinks",
			[]store.Tile{newTile(0, 0, 5, "s3"), newTile(1, 0, 2, "s3")},
			[]store.Tile{newTile(0, 0, 7, "s2"), newTile(1, 0, 2, "s3")}},
		{"full width",
			[]store.Tile{newTile(0, 0, 256, "s4"), newTile(0, 1, 4, "s4")},
			[]store.Tile{newTile(0, 0, 256, "s4"), newTile(1, 0, 2, "s3"), newTile(0, 1, 4, "s4")}},
		{"no tiles",
			nil,
			[]store.Tile{newTile(0, 0, 256, "s4"), newTile(1, 0, 2, "s3"), newTile(0, 1, 4, "s4")}},
		{"partial after full",
			[]store.Tile{newTile(0, 0, 1, "s6"), newTile(0, 1, 3, "s6")},
			[]store.Tile{newTile(0, 0, 256, "s4"), newTile(1, 0, 2, "s3"), newTile(0, 1, 4, "s4")}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			b := newBatch(int64(i), 1, st.name)
			b.Tiles = st.tiles
			mustAppend(t, s, b)
			for _, want := range st.want {
				if got := tile(t, s, want.Level, want.Index); !bytes.Equal(got, want.Data) {
					t.Errorf("Tile(%d, %d) = %q, want %q", want.Level, want.Index, got, want.Data)
				}
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		for _, k := range []struct {
			level int
			index int64
		}{{2, 0}, {0, 2}, {1, 1}} {
			if _, err := s.Tile(t.Context(), k.level, k.index); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Tile(%d, %d) error = %v, want store.ErrNotFound", k.level, k.index, err)
			}
		}
	})
}

func testCheckpoints(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []store.Checkpoint
	for i, n := range []int{2, 2, 3, 1, 4} { // sizes 2, 4, 7, 8, 12
		b := newBatch(size(t, s), n, fmt.Sprintf("cp%d", i))
		if i == 2 {
			// A time in another zone is the same instant once read back.
			b.Checkpoint.Time = b.Checkpoint.Time.In(time.FixedZone("UTC+5:30", 5*3600+1800))
		}
		mustAppend(t, s, b)
		all = append(all, b.Checkpoint)

		latest, err := s.LatestCheckpoint(ctx)
		if err != nil {
			t.Fatalf("LatestCheckpoint after size %d: %v", b.Checkpoint.Size, err)
		}
		checkCheckpoints(t, "LatestCheckpoint", []store.Checkpoint{latest}, []store.Checkpoint{b.Checkpoint})
	}
	ranges := []struct {
		name     string
		from, to int64
		want     []store.Checkpoint
	}{
		{"all", 0, 100, all},
		{"exact bounds", 2, 12, all},
		{"inclusive both ends", 4, 8, all[1:4]},
		{"between sizes", 5, 11, all[2:4]},
		{"one size", 7, 7, all[2:3]},
		{"gap", 5, 6, nil},
		{"reversed", 8, 4, nil},
		{"beyond", 13, 100, nil},
		{"before", 0, 1, nil},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			checkCheckpoints(t, fmt.Sprintf("Checkpoints(%d, %d)", r.from, r.to), checkpoints(t, s, r.from, r.to), r.want)
		})
	}
}

func testMeta(t *testing.T, s store.Store) {
	ctx := t.Context()
	steps := []struct {
		name, key, value string
	}{
		{"set", "origin", "parley.example/talks/1"},
		{"second key", "title", "Talks, round one"},
		{"overwrite", "origin", "parley.example/talks/2"},
		{"empty value", "note", ""},
		{"unicode", "title", "Pourparlers — ронд 2 ✓"},
	}
	want := map[string]string{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.SetMeta(ctx, st.key, st.value); err != nil {
				t.Fatalf("SetMeta(%q, %q): %v", st.key, st.value, err)
			}
			want[st.key] = st.value
			for k, v := range want {
				got, err := s.Meta(ctx, k)
				if err != nil || got != v {
					t.Errorf("Meta(%q) = %q, %v; want %q", k, got, err, v)
				}
			}
		})
	}
	if _, err := s.Meta(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Meta(absent) error = %v, want store.ErrNotFound", err)
	}
}

func testCallbackError(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		b := newBatch(int64(i), 1, fmt.Sprintf("cb%d", i))
		for j := range b.Leaves {
			b.Leaves[j].Type = "position" // every leaf matches LeavesOfType below
		}
		mustAppend(t, s, b)
	}
	errStop := errors.New("stop here")
	// stopAfter returns a callback that fails on its second call.
	stopAfter := func(calls *int) func() error {
		return func() error {
			*calls++
			if *calls == 2 {
				return fmt.Errorf("callback: %w", errStop)
			}
			return nil
		}
	}
	iterators := []struct {
		name string
		run  func(fn func() error) error
	}{
		{"Leaves", func(fn func() error) error {
			return s.Leaves(ctx, 0, 5, func(store.Leaf) error { return fn() })
		}},
		{"LeavesOfType", func(fn func() error) error {
			return s.LeavesOfType(ctx, []string{"position"}, func(store.Leaf) error { return fn() })
		}},
		{"Checkpoints", func(fn func() error) error {
			return s.Checkpoints(ctx, 0, 5, func(store.Checkpoint) error { return fn() })
		}},
	}
	for _, it := range iterators {
		t.Run(it.name, func(t *testing.T) {
			var calls int
			err := it.run(stopAfter(&calls))
			if !errors.Is(err, errStop) {
				t.Errorf("error = %v, want the callback's error", err)
			}
			if calls != 2 {
				t.Errorf("callback called %d times, want 2 (iteration must stop at the error)", calls)
			}
		})
	}
	// The store must still be usable after an iteration stopped early.
	if n := size(t, s); n != 5 {
		t.Errorf("Size after stopped iterations = %d, want 5", n)
	}
}

// testConcurrentAppend runs writers that append optimistically, as the log
// core does: read the size, append there, and on ErrConflict start again.
// A reader checks meanwhile that the log it sees never has a gap.
func testConcurrentAppend(t *testing.T, s store.Store) {
	const writers, perWriter = 4, 6
	ctx := t.Context()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		batches int
	)
	for w := range writers {
		wg.Go(func() {
			for k, attempts := 0, 0; k < perWriter; attempts++ {
				if attempts == 1000 {
					t.Errorf("writer %d: still in conflict after %d attempts", w, attempts)
					return
				}
				n := min(1+k%2, perWriter-k) // batches of one and two leaves
				ok, err := tryAppend(ctx, s, w, k, n)
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if ok {
					k += n
					mu.Lock()
					batches++
					mu.Unlock()
				}
			}
		})
	}
	done := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			n, err := s.Size(ctx)
			if err != nil {
				t.Errorf("reader: Size: %v", err)
				return
			}
			var next int64
			err = s.Leaves(ctx, 0, n, func(l store.Leaf) error {
				if l.Index != next {
					return fmt.Errorf("leaf %d where %d was expected", l.Index, next)
				}
				next++
				return nil
			})
			if err == nil && next != n {
				err = fmt.Errorf("%d leaves below size %d", next, n)
			}
			if err != nil {
				t.Errorf("reader: %v", err)
				return
			}
		}
	})
	wg.Wait()
	close(done)
	reader.Wait()
	if t.Failed() {
		return
	}

	const total = writers * perWriter
	if n := size(t, s); n != total {
		t.Fatalf("Size = %d, want %d", n, total)
	}
	got := leaves(t, s, 0, total)
	seen := map[[32]byte]bool{}
	last := map[int]int{} // writer → last sequence number seen
	for i, l := range got {
		if l.Index != int64(i) {
			t.Fatalf("leaf %d has Index %d: the log has a gap", i, l.Index)
		}
		var w, k int
		if _, err := fmt.Sscanf(string(l.Data), "writer %d leaf %d", &w, &k); err != nil {
			t.Fatalf("leaf %d: unexpected data %q", i, l.Data)
		}
		if l.Hash != concurrentHash(w, k) || seen[l.Hash] {
			t.Fatalf("leaf %d: hash of writer %d leaf %d is wrong or repeated", i, w, k)
		}
		seen[l.Hash] = true
		if prev, ok := last[w]; ok && k != prev+1 {
			t.Errorf("writer %d: leaf %d follows leaf %d", w, k, prev)
		} else if !ok && k != 0 {
			t.Errorf("writer %d: first stored leaf is %d", w, k)
		}
		last[w] = k
	}
	if len(seen) != total {
		t.Errorf("%d distinct leaves, want %d", len(seen), total)
	}
	cps := checkpoints(t, s, 0, total)
	if len(cps) != batches {
		t.Errorf("%d checkpoints for %d committed batches", len(cps), batches)
	}
	latest, err := s.LatestCheckpoint(ctx)
	if err != nil || latest.Size != total {
		t.Errorf("LatestCheckpoint = size %d, %v; want size %d", latest.Size, err, total)
	}
	if data := tile(t, s, 0, 0); !bytes.HasPrefix(data, fmt.Appendf(nil, "tile 0/0 width %d ", total)) {
		t.Errorf("Tile(0, 0) = %q, want the widest (%d)", data, total)
	}
}

func concurrentHash(w, k int) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "writer %d leaf %d", w, k))
}

// tryAppend appends writer w's leaves k to k+n at the current size. It
// reports false if another writer got there first.
func tryAppend(ctx context.Context, s store.Store, w, k, n int) (bool, error) {
	start, err := s.Size(ctx)
	if err != nil {
		return false, fmt.Errorf("size: %w", err)
	}
	b := store.Batch{Start: start}
	for i := range n {
		b.Leaves = append(b.Leaves, store.Leaf{
			Index: start + int64(i),
			Hash:  concurrentHash(w, k+i),
			Type:  types[w%len(types)],
			Data:  fmt.Appendf(nil, "writer %d leaf %d", w, k+i),
		})
	}
	end := start + int64(n)
	b.Tiles = []store.Tile{newTile(0, 0, int(end), fmt.Sprintf("writer %d", w))}
	b.Checkpoint = newCheckpoint(end, fmt.Sprintf("writer %d", w))
	err = s.Append(ctx, b)
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("append at %d: %w", start, err)
	}
	return true, nil
}
