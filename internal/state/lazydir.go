package state

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/store"
	"parley/internal/vocab"
)

// folder is what a projection folds against: a vocab.Directory that can
// undo the folds since a mark and make them permanent.
type folder interface {
	vocab.Directory
	setType(index int64, typ string)
	mark() int
	undo(mark int)
	commit()
	// failed returns, and forgets, a store error met while folding: the
	// Directory's lookups cannot return one.
	failed() error
}

// lazyDir is the directory of an open record: it keeps in memory only the
// changes folded but not yet committed (an in-memory directory over them,
// with its undo journal), the corrections, and a bounded cache of
// entities; everything else it looks up in the store's facts. So opening a
// record of any size costs the same, and memory stays bounded.
type lazyDir struct {
	st     store.Store
	types  *entry.Registry
	ctx    context.Context
	err    error
	over   *directory
	voided map[int64]int64
	// cache holds committed entities by key (found false: none).
	cache *cache[string, cachedEntity]
}

type cachedEntity struct {
	e     vocab.Entity
	found bool
}

// maxDirCache bounds the entities kept; a full cache is emptied.
const maxDirCache = 50_000

func newLazyDir(st store.Store, types *entry.Registry) *lazyDir {
	return &lazyDir{st: st, types: types, ctx: context.Background(), over: newDirectory(st), voided: map[int64]int64{}, cache: newCache[string, cachedEntity](maxDirCache, nil)}
}

// load reads the corrections: there are few, and every fold may ask.
func (d *lazyDir) load(ctx context.Context) error {
	err := d.st.Facts(ctx, store.FactQuery{Kind: vocab.FactVoid}, func(f store.Fact) error {
		t, err := strconv.ParseInt(f.Subject, 10, 64)
		if err != nil {
			return fmt.Errorf("void fact of entry %d: %w", f.Index, err)
		}
		d.voided[t] = f.Index
		return nil
	})
	if err != nil {
		return fmt.Errorf("load corrections: %w", err)
	}
	return nil
}

func (d *lazyDir) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *lazyDir) failed() error {
	err := d.err
	d.err = nil
	return err
}

func (d *lazyDir) Entity(key string) (vocab.Entity, bool) {
	if e, ok := d.over.entities[key]; ok {
		return e, true
	}
	if c, ok := d.cache.get(key); ok {
		return c.e, c.found
	}
	var e vocab.Entity
	found := false
	err := d.st.Facts(d.ctx, store.FactQuery{Kind: vocab.FactEntity, Subject: key, Latest: true}, func(f store.Fact) error {
		found = true
		return json.Unmarshal(f.Data, &e)
	})
	if err != nil {
		d.fail(fmt.Errorf("entity %s: %w", key, err))
		return vocab.Entity{}, false
	}
	d.cache.put(key, cachedEntity{e, found})
	return e, found
}

// Declared finds the entity entry index declared: the entry's type names
// the kind and its body the id.
func (d *lazyDir) Declared(index int64) (vocab.Entity, bool) {
	if e, ok := d.over.Declared(index); ok {
		return e, true
	}
	var key string
	err := d.st.Leaves(d.ctx, index, index+1, func(l store.Leaf) error {
		if !slices.Contains(vocab.Kinds, l.Type) {
			return nil
		}
		s, err := entry.Parse(l.Data, 0)
		if err != nil {
			return err
		}
		var body struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(s.Entry.Body, &body); err != nil {
			return nil
		}
		if body.ID == "" && l.Type == vocab.Statement {
			body.ID = vocab.UnnamedStatement(index)
		}
		if body.ID != "" {
			key = l.Type + "/" + body.ID
		}
		return nil
	})
	if err != nil {
		d.fail(fmt.Errorf("entry %d: %w", index, err))
		return vocab.Entity{}, false
	}
	if key == "" {
		return vocab.Entity{}, false
	}
	e, ok := d.Entity(key)
	if !ok || e.Declared != index {
		return vocab.Entity{}, false
	}
	return e, true
}

// Named finds the entities that have had the name: those named in the
// folds not yet committed, and those the store's name facts know.
func (d *lazyDir) Named(name string) []vocab.Entity {
	out := d.over.Named(name)
	seen := map[string]bool{}
	for _, e := range out {
		seen[e.Key()] = true
	}
	var keys []string
	err := d.st.Facts(d.ctx, store.FactQuery{Kind: vocab.FactName, Subject: strings.ToLower(name)}, func(f store.Fact) error {
		if !seen[f.Object] {
			seen[f.Object] = true
			keys = append(keys, f.Object)
		}
		return nil
	})
	if err != nil {
		d.fail(fmt.Errorf("name %q: %w", name, err))
		return out
	}
	for _, k := range keys {
		if e, ok := d.Entity(k); ok {
			out = append(out, e)
		}
	}
	return out
}

func (d *lazyDir) Declare(e vocab.Entity) {
	// The overlay's own journal undoes it; Entity looks there first.
	d.over.Declare(e)
}

func (d *lazyDir) EntryType(ctx context.Context, index int64) (string, bool, error) {
	return d.over.EntryType(ctx, index)
}

func (d *lazyDir) setType(index int64, typ string) { d.over.setType(index, typ) }

func (d *lazyDir) VoidedBy(index int64) (int64, bool) {
	if by, ok := d.over.VoidedBy(index); ok {
		return by, true
	}
	by, ok := d.voided[index]
	return by, ok
}

func (d *lazyDir) Void(target, by int64) { d.over.Void(target, by) }

func (d *lazyDir) mark() int { return len(d.over.journal) }

func (d *lazyDir) undo(mark int) { d.over.undo(mark) }

// commit moves the folds into the cache and the corrections: the store
// now holds their facts.
func (d *lazyDir) commit() {
	for k, e := range d.over.entities {
		d.cache.put(k, cachedEntity{e, true})
	}
	for t, by := range d.over.voided {
		d.voided[t] = by
	}
	d.over = newDirectory(d.st)
}

// The in-memory directory is a folder too: a rebuild folds the whole log
// against it, since the store's facts are being replaced meanwhile.

func (d *directory) mark() int { return len(d.journal) }

func (d *directory) commit() {
	d.journal = d.journal[:0]
	clear(d.types)
}

func (d *directory) failed() error { return nil }
