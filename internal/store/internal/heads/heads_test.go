package heads

import (
	"errors"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

func fact(idx int64, seq int, object string, day int) store.Fact {
	return store.Fact{Index: idx, Seq: seq, Kind: "k", Subject: "s", Object: object, Tag: "t",
		Time: time.Date(2025, 3, day, 0, 0, 0, 0, time.UTC), Latest: true}
}

func TestFold(t *testing.T) {
	runs := []struct {
		through int64
		d       store.Derived
	}{
		// Key b comes first; its latest fact is the later day, not the
		// later entry. Key a's latest is entry 2, which entry 3 voids.
		{2, store.Derived{Facts: []store.Fact{fact(0, 0, "b", 5), fact(0, 1, "a", 1), fact(1, 0, "b", 4)}}},
		{3, store.Derived{Facts: []store.Fact{fact(2, 0, "a", 1), {Index: 2, Seq: 1, Kind: "event"}}}},
		{4, store.Derived{Voids: []store.Void{{Target: 2, By: 3}}}},
	}
	var loaded int
	r, err := Fold(func(put func(int64, store.Derived) error) error {
		for _, run := range runs {
			if err := put(run.through, run.d); err != nil {
				return err
			}
		}
		return nil
	}, func(store.Derived) error { loaded++; return nil })
	if err != nil {
		t.Fatalf("Fold: %v", err)
	}
	if loaded != 3 || r.At() != 4 {
		t.Errorf("Fold loaded %d runs up to %d, want 3 up to 4", loaded, r.At())
	}
	a, b := Key{"k", "s", "a"}, Key{"k", "s", "b"}
	if got := r.Keys(); !slices.Equal(got, []Key{b, a}) {
		t.Errorf("Keys = %v, want b then a", got)
	}
	if h := r.Head(b); h.Index != 0 {
		t.Errorf("head of b = %+v, want entry 0's (the later day)", h)
	}
	if h := r.Head(a); h.Index != 2 {
		t.Errorf("head of a = %+v, want entry 2's (same time, later entry)", h)
	}
	if kept, moved := r.Split(); !slices.Equal(kept, []Key{b}) || !slices.Equal(moved, []Key{a}) {
		t.Errorf("Split = %v, %v; want [b], [a]", kept, moved)
	}
	if b.Compare(a) <= 0 || a.Compare(a) != 0 {
		t.Errorf("Compare: b before a, or a not equal to itself")
	}
}

func TestFoldRefusal(t *testing.T) {
	refused := errors.New("refused")
	for _, c := range []struct {
		name string
		load func(store.Derived) error
		d    store.Derived
	}{
		{"outside the run", func(store.Derived) error { return nil }, store.Derived{Facts: []store.Fact{fact(5, 0, "a", 1)}}},
		{"load fails", func(store.Derived) error { return refused }, store.Derived{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var second error
			_, err := Fold(func(put func(int64, store.Derived) error) error {
				put(2, c.d) // the fold says nothing of the refusal
				second = put(3, store.Derived{})
				return nil
			}, c.load)
			if err == nil {
				t.Fatal("Fold = nil after a refused put")
			}
			if second == nil {
				t.Error("a put after a refused one succeeded")
			}
		})
	}
}
