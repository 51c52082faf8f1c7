package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/vocab"
)

// A Clock places a question in time. The zero Clock asks about now, with
// everything on the record.
type Clock struct {
	// AsOf asks about the world at this time: facts describing later times
	// are left out. Zero means now.
	AsOf time.Time `json:"as_of,omitzero"`
	// KnownAt asks what the record said when it had this many entries.
	// Zero means everything on it.
	KnownAt int64 `json:"known_at,omitzero"`
}

// Asker answers questions from a store's facts. It keeps what answers look
// up most, entities by key and what each entry rests on, between answers:
// entries never change, and entities are forgotten whenever the log grows.
type Asker struct {
	st   store.Store
	size func() int64

	// entities are dropped when the log grows; bases (entries never
	// change) only when full; answers are whole answers, dropped when the
	// log grows.
	entities *cache[string, vocab.Entity]
	bases    *cache[int64, Basis]
	answers  *cache[string, any]
}

// maxCached bounds the caches of entities and bases.
const maxCached = 100_000

// NewAsker returns an Asker over st; size returns the log's size, so that
// what depends on it is dropped when it grows.
func NewAsker(st store.Store, size func() int64) *Asker {
	return &Asker{st: st, size: size,
		entities: newCache[string, vocab.Entity](maxCached, size),
		bases:    newCache[int64, Basis](maxCached, nil),
		answers:  newCache[string, any](maxAnswers, size)}
}

// A cache is a bounded map, safe for concurrent use: full, it is emptied;
// with a size function, it is emptied whenever the size it returns changes.
type cache[K comparable, V any] struct {
	mu   sync.Mutex
	m    map[K]V
	max  int
	size func() int64
	at   int64
}

func newCache[K comparable, V any](max int, size func() int64) *cache[K, V] {
	return &cache[K, V]{m: map[K]V{}, max: max, size: size}
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.size != nil {
		if n := c.size(); n != c.at {
			c.at = n
			clear(c.m)
		}
	}
	v, ok := c.m[k]
	return v, ok
}

func (c *cache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
}

// A Ref names an entity in an answer: its key and its name.
type Ref struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

func (r Ref) String() string {
	if r.Name == "" {
		return r.Key
	}
	return r.Name
}

// Basis is what an answer rests on: the entry, when it was recorded, by
// whom, and its sources.
type Basis struct {
	Index   int64          `json:"index"`
	Time    time.Time      `json:"time"`
	Author  string         `json:"author"`
	Sources []entry.Source `json:"sources,omitempty"`
}

// answer is the work of one answer: caches of names and bases.
type answer struct {
	ctx   context.Context
	a     *Asker
	clock Clock
	names map[string]vocab.Entity
	bases map[int64]Basis
	err   error
}

func (a *Asker) begin(ctx context.Context, c Clock) *answer {
	return &answer{ctx: ctx, a: a, clock: c, names: map[string]vocab.Entity{}, bases: map[int64]Basis{}}
}

// facts runs q at the answer's clock, decoding each fact's data into a new T.
func facts[T any](w *answer, q store.FactQuery, fn func(store.Fact, *T) error) error {
	q.AsOf, q.KnownAt = w.clock.AsOf, w.clock.KnownAt
	return w.a.st.Facts(w.ctx, q, func(f store.Fact) error {
		v := new(T)
		if err := json.Unmarshal(f.Data, v); err != nil {
			return fmt.Errorf("fact %d.%d (%s): %w", f.Index, f.Seq, f.Kind, err)
		}
		return fn(f, v)
	})
}

// entity returns the entity of key as it stands now.
func (w *answer) entity(key string) vocab.Entity {
	if e, ok := w.names[key]; ok {
		return e
	}
	if e, ok := w.a.entities.get(key); ok {
		w.names[key] = e
		return e
	}
	var e vocab.Entity
	err := w.a.st.Facts(w.ctx, store.FactQuery{Kind: vocab.FactEntity, Subject: key, Latest: true}, func(f store.Fact) error {
		return json.Unmarshal(f.Data, &e)
	})
	if err != nil && w.err == nil {
		w.err = err
	}
	if e.ID == "" {
		e.Name = key
	} else {
		w.a.entities.put(key, e)
	}
	w.names[key] = e
	return e
}

func (w *answer) ref(key string) Ref {
	if key == "" {
		return Ref{}
	}
	return Ref{Key: key, Name: w.entity(key).Name}
}

func (w *answer) refs(keys []string) []Ref {
	out := make([]Ref, 0, len(keys))
	for _, k := range keys {
		out = append(out, w.ref(k))
	}
	return out
}

// basis returns what entry index rests on.
func (w *answer) basis(index int64) Basis {
	if b, ok := w.bases[index]; ok {
		return b
	}
	if b, ok := w.a.bases.get(index); ok {
		w.bases[index] = b
		return b
	}
	b := Basis{Index: index}
	err := w.a.st.Leaves(w.ctx, index, index+1, func(l store.Leaf) (err error) {
		b, err = basisOf(l)
		return err
	})
	if err != nil && w.err == nil {
		w.err = err
	}
	if err == nil && b.Author != "" {
		w.a.bases.put(index, b)
	}
	w.bases[index] = b
	return b
}

// prefetchGap is how far apart two entries an answer rests on may be and
// still be read in one query, with the entries between them.
const prefetchGap = 32

// prefetch reads the bases of the entries at indexes not known yet, reading
// each run of nearby entries (an answer's rows are often recorded together,
// a day's reports say) in one query rather than one query an entry.
func (w *answer) prefetch(indexes []int64) {
	var want []int64
	for _, i := range indexes {
		if _, ok := w.bases[i]; ok {
			continue
		}
		if b, ok := w.a.bases.get(i); ok {
			w.bases[i] = b
			continue
		}
		want = append(want, i)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	for len(want) > 0 {
		n := 1
		for n < len(want) && want[n]-want[n-1] <= prefetchGap {
			n++
		}
		run := want[:n]
		want = want[n:]
		err := w.a.st.Leaves(w.ctx, run[0], run[len(run)-1]+1, func(l store.Leaf) error {
			if _, ok := slices.BinarySearch(run, l.Index); !ok {
				return nil
			}
			b, err := basisOf(l)
			if err != nil {
				return err
			}
			w.a.bases.put(l.Index, b)
			w.bases[l.Index] = b
			return nil
		})
		if err != nil && w.err == nil {
			w.err = err
		}
	}
}

// basisOf is what the entry in leaf rests on.
func basisOf(l store.Leaf) (Basis, error) {
	s, err := entry.Parse(l.Data, 0)
	if err != nil {
		return Basis{}, fmt.Errorf("entry %d: %w", l.Index, err)
	}
	return Basis{Index: l.Index, Time: s.Entry.Time, Author: s.Entry.Author, Sources: s.Entry.Sources}, nil
}

// resolve finds the entity a question names, by key, id or name, among kinds.
func (w *answer) resolve(what, ref string, kinds ...string) (vocab.Entity, error) {
	var found []vocab.Entity
	add := func(f store.Fact) error {
		var e vocab.Entity
		if err := json.Unmarshal(f.Data, &e); err != nil {
			return err
		}
		if slices.Contains(kinds, e.Kind) && !slices.ContainsFunc(found, func(x vocab.Entity) bool { return x.Key() == e.Key() }) {
			found = append(found, e)
		}
		return nil
	}
	for _, k := range append([]string{ref}, prefixed(kinds, ref)...) {
		if err := w.a.st.Facts(w.ctx, store.FactQuery{Kind: vocab.FactEntity, Subject: k, Latest: true}, add); err != nil {
			return vocab.Entity{}, err
		}
	}
	if len(found) == 0 {
		err := w.a.st.Facts(w.ctx, store.FactQuery{Kind: vocab.FactName, Subject: strings.ToLower(strings.TrimSpace(ref)), Tags: kinds}, func(f store.Fact) error {
			return w.a.st.Facts(w.ctx, store.FactQuery{Kind: vocab.FactEntity, Subject: f.Object, Latest: true}, add)
		})
		if err != nil {
			return vocab.Entity{}, err
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return vocab.Entity{}, problem.New(problem.NotFound, what, "no %s called %q is on the record", joinOr(kinds), ref)
	}
	var c []string
	for _, e := range found {
		c = append(c, e.Label())
	}
	return vocab.Entity{}, problem.New(problem.Conflict, what, "%q is ambiguous: it could be %s; use the key", ref, joinComma(c))
}

func prefixed(kinds []string, ref string) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = k + "/" + ref
	}
	return out
}

// Resolve finds the entity ref names, as a question's argument is found: by
// key, by id as one of kinds, or by name. A refusal is placed at what.
func (a *Asker) Resolve(ctx context.Context, what, ref string, kinds ...string) (vocab.Entity, error) {
	return a.begin(ctx, Clock{}).resolve(what, ref, kinds...)
}

// Entity returns the entity with key ("party/russia") as it stands now.
func (a *Asker) Entity(ctx context.Context, key string) (vocab.Entity, error) {
	w := a.begin(ctx, Clock{})
	e := w.entity(key)
	if w.err != nil {
		return vocab.Entity{}, w.err
	}
	if e.ID == "" {
		return vocab.Entity{}, problem.New(problem.NotFound, "", "no %s is on the record", key)
	}
	return e, nil
}
