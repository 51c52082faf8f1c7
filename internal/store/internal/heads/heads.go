// Package heads keeps the latest fact of each key the way both store
// drivers find it: among the facts of one batch, before a statement that
// may change each head once, and through a rebuild, which writes every
// head at the end. The SQL that stores heads stays in each driver; this is
// the bookkeeping around it.
package heads

import (
	"cmp"
	"fmt"
	"strings"

	"parley/internal/store"
)

// A Key is the key of a latest-only fact.
type Key struct{ Kind, Subject, Object string }

// Compare orders keys by kind, subject and object, each by its bytes: the
// order of the heads' primary key.
func (k Key) Compare(o Key) int {
	return cmp.Or(strings.Compare(k.Kind, o.Kind), strings.Compare(k.Subject, o.Subject), strings.Compare(k.Object, o.Object))
}

// A Head is what a driver stores of the latest fact of a key.
type Head struct {
	Tag   string
	Time  int64 // Unix nanoseconds
	Index int64
	Seq   int
}

// Of returns the key of f and f as a head.
func Of(f store.Fact) (Key, Head) {
	return Key{f.Kind, f.Subject, f.Object}, Head{f.Tag, f.Time.UnixNano(), f.Index, f.Seq}
}

// After reports whether h is later than g: by time, then entry, then seq.
func (h Head) After(g Head) bool {
	return cmp.Or(cmp.Compare(h.Time, g.Time), cmp.Compare(h.Index, g.Index), cmp.Compare(h.Seq, g.Seq)) > 0
}

// Latest holds the latest of the latest-only facts added to it for each
// key, and the order in which the keys first came. The zero Latest is
// empty and ready to use.
type Latest struct {
	heads map[Key]Head
	order []Key
}

// Add adds the latest-only facts among facts.
func (l *Latest) Add(facts []store.Fact) {
	for _, f := range facts {
		if !f.Latest {
			continue
		}
		if l.heads == nil {
			l.heads = map[Key]Head{}
		}
		k, h := Of(f)
		g, ok := l.heads[k]
		if !ok {
			l.order = append(l.order, k)
		}
		if !ok || h.After(g) {
			l.heads[k] = h
		}
	}
}

// Keys returns the keys in the order they first came.
func (l *Latest) Keys() []Key { return l.order }

// Head returns the latest fact of k.
func (l *Latest) Head(k Key) Head { return l.heads[k] }

// A Rebuild is the part of a rebuild of the facts that no driver does
// differently: it checks each run fold puts, keeps how far the facts go,
// the latest fact of each key so far (void or not) and the entries voided,
// and remembers a put that failed.
type Rebuild struct {
	Latest
	at     int64
	voided map[int64]bool
	// failed is the error of a put that failed: the driver's transaction
	// may be aborted, and nothing may follow it.
	failed error
}

// Fold runs fold with a put that checks each run of derived facts, hands
// it to load to store, and then keeps its heads and voids. It returns the
// rebuild once fold has returned, with fold's error, or that of a put that
// failed if fold went on and said nothing of it: a rebuild must not commit
// then. After a put fails, every later put fails with the same error.
func Fold(fold func(put func(through int64, d store.Derived) error) error, load func(d store.Derived) error) (*Rebuild, error) {
	r := &Rebuild{voided: map[int64]bool{}}
	if err := fold(func(through int64, d store.Derived) error { return r.put(through, d, load) }); err != nil {
		return nil, err
	}
	if r.failed != nil {
		return nil, fmt.Errorf("a put failed and the fold went on: %w", r.failed)
	}
	return r, nil
}

// put stores d, derived from the entries [r.at, through), with load.
func (r *Rebuild) put(through int64, d store.Derived, load func(d store.Derived) error) error {
	if r.failed != nil {
		return r.failed
	}
	err := d.Check(r.at, through)
	if err == nil {
		err = load(d)
	}
	if err != nil {
		r.failed = err
		return err
	}
	r.Add(d.Facts)
	for _, v := range d.Voids {
		r.voided[v.Target] = true
	}
	r.at = through
	return nil
}

// At returns the log size up to which the facts were put.
func (r *Rebuild) At() int64 { return r.at }

// Split returns, in the order they first came, the keys whose latest fact
// holds (kept) and those whose latest fact is of a voided entry (moved:
// their head is an older fact, which the driver finds among the facts).
func (r *Rebuild) Split() (kept, moved []Key) {
	for _, k := range r.order {
		if r.voided[r.heads[k].Index] {
			moved = append(moved, k)
		} else {
			kept = append(kept, k)
		}
	}
	return kept, moved
}
