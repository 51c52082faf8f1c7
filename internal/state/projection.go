// Package state is the state of the talks folded from the log: the
// projection that keeps derived facts in step with every append, and the
// questions people ask of them, at any past moment.
//
// Two clocks place every answer: AsOf, the time in the world the entries
// describe, and KnownAt, the log size whose entries are taken into account
// (what the record said then). Both together answer "what did we know on 14
// March about where things stood on 11 March".
package state

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// Projection folds entries into facts; it is the log's tlog.Projection.
// Its directory of entities is what new entries are checked against.
type Projection struct {
	types *entry.Registry
	// loaded is the log size the directory reflects.
	loaded int64
	dir    folder
}

var _ tlog.Projection = (*Projection)(nil)

// NewProjection returns a projection of entries of the given types.
func NewProjection(types *entry.Registry) *Projection {
	return &Projection{types: types, loaded: -1}
}

// Load loads the directory from the store's facts, then folds the entries
// of st the facts do not yet cover, up to size.
func (p *Projection) Load(ctx context.Context, st store.Store, size int64) error {
	d := newLazyDir(st, p.types)
	if err := d.load(ctx); err != nil {
		return err
	}
	p.dir = d
	from, err := st.Projected(ctx)
	if err != nil {
		return err
	}
	if from > size {
		return fmt.Errorf("facts reach entry %d, past the log's %d entries: rebuild the projections", from, size)
	}
	if err := p.catchUp(ctx, st, from, size, nil); err != nil {
		return err
	}
	p.loaded = size
	return nil
}

// catchUp folds entries [from, to) and stores their facts in chunks,
// reporting progress to progress if set.
func (p *Projection) catchUp(ctx context.Context, st store.Store, from, to int64, progress func(int64)) error {
	const chunk = 8192
	for at := from; at < to; {
		end := min(at+chunk, to)
		entries, err := p.decode(ctx, st, at, end)
		if err != nil {
			return err
		}
		var d store.Derived
		for i, e := range entries {
			got, err := p.fold(ctx, at+int64(i), e.s, e.body)
			if err != nil {
				// An entry on the log that the fold refuses was appended
				// without projections (or by an older parley): keep it on
				// the timeline, and say so.
				return fmt.Errorf("entry %d: %w", at+int64(i), err)
			}
			d.Facts = append(d.Facts, got.Facts...)
			d.Voids = append(d.Voids, got.Voids...)
		}
		if err := st.Project(ctx, at, end, d); err != nil {
			p.Undo(0)
			return err
		}
		p.Commit()
		at = end
		if progress != nil {
			progress(at)
		}
	}
	return nil
}

type decoded struct {
	s    *entry.Signed
	body entry.Body
}

// decode reads and decodes the entries [from, to), in parallel: parsing
// JSON is most of the cost of a rebuild. Signatures are not checked again:
// they were when the entries were appended, and verify checks them all.
func (p *Projection) decode(ctx context.Context, st store.Store, from, to int64) ([]decoded, error) {
	var leaves []store.Leaf
	if err := st.Leaves(ctx, from, to, func(l store.Leaf) error { leaves = append(leaves, l); return nil }); err != nil {
		return nil, err
	}
	if int64(len(leaves)) != to-from {
		return nil, fmt.Errorf("read entries %d to %d: got %d", from, to, len(leaves))
	}
	out := make([]decoded, len(leaves))
	errs := make([]error, len(leaves))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(leaves); i += workers {
				s, err := entry.Parse(leaves[i].Data, 0)
				if err == nil {
					out[i].s = s
					out[i].body, err = p.types.Decode(&s.Entry)
				}
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", from+int64(i), err)
		}
	}
	return out, nil
}

// Fold folds a new entry: the log's sequencer calls it.
func (p *Projection) Fold(ctx context.Context, index int64, s *entry.Signed, body entry.Body) (store.Derived, error) {
	return p.fold(ctx, index, s, body)
}

func (p *Projection) fold(ctx context.Context, index int64, s *entry.Signed, body entry.Body) (store.Derived, error) {
	d := p.dir
	if l, ok := d.(*lazyDir); ok {
		l.ctx = ctx
	}
	mark := d.mark()
	d.setType(index, s.Entry.Type)
	f := vocab.NewFold(ctx, index, &s.Entry, d)
	err := p.foldBody(f, body)
	if err == nil {
		err = f.Finish()
	}
	if ferr := d.failed(); ferr != nil {
		// A lookup failed in the store: the fold's verdict is not to be
		// trusted either way.
		err = fmt.Errorf("fold entry %d: %w", index, ferr)
	}
	if err != nil {
		d.undo(mark)
		if problem.KindOf(err) == problem.Internal {
			return store.Derived{}, err
		}
		return store.Derived{}, problem.At(s.Entry.Type+" body", err)
	}
	return f.Derived(), nil
}

func (p *Projection) foldBody(f *vocab.Fold, body entry.Body) error {
	switch b := body.(type) {
	case vocab.Folder:
		return b.Fold(f)
	case *tlog.KeyRegisterBody:
		if err := vocab.DeclareKey(f, b.ID(), b.Holder); err != nil {
			return err
		}
		f.Story("key %s registered (%s)", b.ID(), b.Holder)
	case *tlog.KeyRevokeBody:
		f.Story("key %s revoked: %s", b.Key, b.Reason)
	}
	return nil
}

// Mark returns the point Undo returns to.
func (p *Projection) Mark() int { return p.dir.mark() }

// Undo forgets the folds since mark.
func (p *Projection) Undo(mark int) { p.dir.undo(mark) }

// Commit makes the folds so far permanent.
func (p *Projection) Commit() { p.dir.commit() }

// Rebuild throws the store's facts away and folds the whole log again, up to
// size, reporting progress. The store replaces its facts all at once:
// until the rebuild is done, readers see the facts as they were.
func Rebuild(ctx context.Context, st store.Store, types *entry.Registry, size int64, progress func(done int64)) error {
	p := NewProjection(types)
	p.dir = newDirectory(st)
	return st.RebuildFacts(ctx, func(put func(int64, store.Derived) error) error {
		return p.refold(ctx, st, size, put, progress)
	})
}

// rebuildChunk is the number of entries a rebuild decodes, folds and
// writes at a time.
const rebuildChunk = 8192

// refold folds the entries [0, size) and puts their facts, a chunk at a
// time, in three stages that overlap: the next chunk is decoded (on every
// core) while this one is folded (in order, as it must be) and the last one
// is written.
func (p *Projection) refold(ctx context.Context, st store.Store, size int64, put func(int64, store.Derived) error, progress func(int64)) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	type chunk struct {
		from, to int64
		entries  []decoded
	}
	type facts struct {
		through int64
		d       store.Derived
	}
	chunks := make(chan chunk, 1)
	derived := make(chan facts, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(chunks)
		for at := int64(0); at < size; {
			end := min(at+rebuildChunk, size)
			entries, err := p.decode(ctx, st, at, end)
			if err != nil {
				stop(err)
				return
			}
			select {
			case chunks <- chunk{at, end, entries}:
			case <-ctx.Done():
				return
			}
			at = end
		}
	})
	wg.Go(func() {
		for f := range derived {
			if err := put(f.through, f.d); err != nil {
				stop(err)
				return
			}
			if progress != nil {
				progress(f.through)
			}
		}
	})
	// Each chunk's facts go to the writer; the next chunk's are about as many.
	var d store.Derived
	for c := range chunks {
		d = store.Derived{Facts: make([]store.Fact, 0, cap(d.Facts)), Voids: make([]store.Void, 0, cap(d.Voids))}
		for i, e := range c.entries {
			got, err := p.fold(ctx, c.from+int64(i), e.s, e.body)
			if err != nil {
				stop(fmt.Errorf("entry %d: %w", c.from+int64(i), err))
				break
			}
			d.Facts = append(d.Facts, got.Facts...)
			d.Voids = append(d.Voids, got.Voids...)
		}
		// Nothing folded is ever undone: a rebuild that fails is thrown
		// away whole.
		p.Commit()
		if ctx.Err() != nil {
			break
		}
		select {
		case derived <- facts{c.to, d}:
		case <-ctx.Done():
		}
	}
	close(derived)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// directory is the projection's vocab.Directory: entities by key, entry
// and name, and voided entries, with a journal to undo changes not yet
// committed.
type directory struct {
	st       store.Store
	entities map[string]vocab.Entity
	declared map[int64]string
	names    map[string][]string
	voided   map[int64]int64
	types    map[int64]string // types of entries folded but not committed
	journal  []func()
}

func newDirectory(st store.Store) *directory {
	return &directory{st: st, entities: map[string]vocab.Entity{}, declared: map[int64]string{},
		names: map[string][]string{}, voided: map[int64]int64{}, types: map[int64]string{}}
}

// load reads the entities and voids from the store's facts.
func (d *directory) load(ctx context.Context) error {
	err := d.st.Facts(ctx, store.FactQuery{Kind: vocab.FactEntity, Latest: true}, func(f store.Fact) error {
		var e vocab.Entity
		if err := json.Unmarshal(f.Data, &e); err != nil {
			return fmt.Errorf("entity fact of entry %d: %w", f.Index, err)
		}
		d.Declare(e)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load entities: %w", err)
	}
	err = d.st.Facts(ctx, store.FactQuery{Kind: vocab.FactVoid}, func(f store.Fact) error {
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
	d.journal = nil
	return nil
}

func (d *directory) Entity(key string) (vocab.Entity, bool) {
	e, ok := d.entities[key]
	return e, ok
}

func (d *directory) Declared(index int64) (vocab.Entity, bool) {
	k, ok := d.declared[index]
	if !ok {
		return vocab.Entity{}, false
	}
	return d.Entity(k)
}

func (d *directory) Named(name string) []vocab.Entity {
	var out []vocab.Entity
	for _, k := range d.names[strings.ToLower(name)] {
		out = append(out, d.entities[k])
	}
	return out
}

func (d *directory) Declare(e vocab.Entity) {
	key := e.Key()
	prev, had := d.entities[key]
	d.entities[key] = e
	// An entry that declares several entities (a report and its
	// incidents) is known by the first it declares.
	_, hadDecl := d.declared[e.Declared]
	if !hadDecl {
		d.declared[e.Declared] = key
	}
	var added []string
	for _, n := range e.Names {
		l := strings.ToLower(n)
		if !contains(d.names[l], key) {
			d.names[l] = append(d.names[l], key)
			added = append(added, l)
		}
	}
	d.journal = append(d.journal, func() {
		if had {
			d.entities[key] = prev
		} else {
			delete(d.entities, key)
		}
		if !hadDecl {
			delete(d.declared, e.Declared)
		}
		for _, l := range added {
			d.names[l] = d.names[l][:len(d.names[l])-1]
			if len(d.names[l]) == 0 {
				delete(d.names, l)
			}
		}
	})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (d *directory) EntryType(ctx context.Context, index int64) (string, bool, error) {
	if t, ok := d.types[index]; ok {
		return t, true, nil
	}
	var typ string
	found := false
	err := d.st.Leaves(ctx, index, index+1, func(l store.Leaf) error { typ, found = l.Type, true; return nil })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", false, err
	}
	return typ, found, nil
}

func (d *directory) setType(index int64, typ string) {
	d.types[index] = typ
	d.journal = append(d.journal, func() { delete(d.types, index) })
}

func (d *directory) VoidedBy(index int64) (int64, bool) {
	by, ok := d.voided[index]
	return by, ok
}

func (d *directory) Void(target, by int64) {
	d.voided[target] = by
	d.journal = append(d.journal, func() { delete(d.voided, target) })
}

// undo runs the journal back to mark.
func (d *directory) undo(mark int) {
	for i := len(d.journal) - 1; i >= mark; i-- {
		d.journal[i]()
	}
	d.journal = d.journal[:mark]
}
