// Package tlog is parley's signed, append-only log: it checks and sequences
// signed entries, keeps the RFC 6962 Merkle tree over them (as tiles, through
// golang.org/x/mod/sumdb/tlog), issues a signed C2SP checkpoint after every
// commit, serves inclusion and consistency proofs, and writes and verifies
// self-contained bundles.
//
// The log core is pure: the tree and checkpoint logic runs against the
// store.Store interface, and drivers only persist.
package tlog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
)

// Meta keys under which a record describes itself in its store.
const (
	metaOrigin   = "origin"
	metaOperator = "operator"
)

// Config says how to open a log.
type Config struct {
	// Origin names the record on the first line of its checkpoints. Needed
	// only to create a record; an existing record keeps its own.
	Origin string
	// Operator signs checkpoints and key entries. Its name must be the origin.
	// A log opened without it is read-only.
	Operator note.Signer
	// OperatorKey is the operator's verifier key; needed only to create a
	// record (with Operator) or to mirror one (without).
	OperatorKey string
	// Types are the entry types the record accepts. The key types are added
	// if missing.
	Types *entry.Registry
	// MaxBody is the largest body in bytes (default entry.DefaultMaxBody).
	MaxBody int
	// MaxBatch is the most entries sequenced in one commit (default 4096).
	MaxBatch int
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Projection, if set, is kept in step with the log: it may refuse
	// entries, and its facts are committed with them.
	Projection Projection
}

// Log is an open record. Its methods are safe for concurrent use.
type Log struct {
	st       store.Store
	origin   string
	operator note.Signer
	opKey    string
	opVerify note.Verifier
	types    *entry.Registry
	maxBody  int
	maxBatch int
	now      func() time.Time
	proj     Projection

	reqs    chan *request
	quit    chan struct{}
	closed  sync.WaitGroup
	closing sync.RWMutex // held to send on reqs; Close takes it to stop sends
	stopped bool

	// keys is the keyring as of the last commit; replaced, never mutated.
	keys atomic.Pointer[keyring]
	// latest is the last checkpoint issued or loaded.
	latest atomic.Pointer[Checkpoint]
	// grown is closed, and replaced, whenever a checkpoint is issued.
	grown atomic.Pointer[chan struct{}]

	// cache holds tiles for the log's readers: proofs and roots.
	cache *tileCache

	// shared is the store as several processes share it, or nil; follow
	// stops following it.
	shared store.Shared
	follow context.CancelFunc
	// following is the outcome of the last catch-up with a shared store.
	following atomic.Pointer[error]

	// Owned by the sequencer goroutine.
	size  int64
	tiles map[tileKey][]byte
	// projAt is the size the projection was last made current at: when
	// another process has appended since, it is loaded again.
	projAt int64
}

// Open opens the record in st, creating it if st is empty (which needs
// Config.Origin, Operator and OperatorKey).
func Open(ctx context.Context, st store.Store, cfg Config) (*Log, error) {
	if cfg.Types == nil {
		cfg.Types = entry.NewRegistry()
	}
	if _, ok := cfg.Types.Lookup(KeyRegister); !ok {
		if err := RegisterTypes(cfg.Types); err != nil {
			return nil, err
		}
	}
	l := &Log{
		st: st, operator: cfg.Operator, types: cfg.Types,
		maxBody: cfg.MaxBody, maxBatch: cfg.MaxBatch, now: cfg.Now, proj: cfg.Projection,
		reqs: make(chan *request, 1024), quit: make(chan struct{}),
		tiles: map[tileKey][]byte{}, cache: newTileCache(),
	}
	if l.maxBody <= 0 {
		l.maxBody = entry.DefaultMaxBody
	}
	if l.maxBatch <= 0 {
		l.maxBatch = 4096
	}
	if l.now == nil {
		l.now = time.Now
	}
	origin, err := st.Meta(ctx, metaOrigin)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := l.create(ctx, cfg); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("open log: %w", err)
	default:
		l.origin = origin
		if l.opKey, err = st.Meta(ctx, metaOperator); err != nil {
			return nil, fmt.Errorf("open log: operator key: %w", err)
		}
	}
	if l.opVerify, err = entry.NewVerifier(l.opKey); err != nil {
		return nil, fmt.Errorf("open log: operator key: %w", err)
	}
	if l.operator != nil && entry.KeyID(l.operator.Name(), l.operator.KeyHash()) != keyIDOf(l.opVerify) {
		return nil, fmt.Errorf("open log: the operator key given is %s, but this record's operator is %s",
			entry.KeyID(l.operator.Name(), l.operator.KeyHash()), keyIDOf(l.opVerify))
	}
	l.shared, _ = st.(store.Shared)
	if err := l.open(ctx); err != nil {
		return nil, err
	}
	var changes <-chan struct{}
	if l.shared != nil {
		var fctx context.Context
		fctx, l.follow = context.WithCancel(context.Background())
		changes = l.shared.Changes(fctx)
	}
	// Once the sequencer runs, l.size is its own: following a shared
	// store, it may move at once.
	empty := l.size == 0
	l.closed.Add(1)
	go l.sequence(changes)
	if empty && l.operator != nil {
		if err := l.genesis(ctx); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func keyIDOf(v note.Verifier) string { return entry.KeyID(v.Name(), v.KeyHash()) }

// create writes a new record's settings.
func (l *Log) create(ctx context.Context, cfg Config) error {
	if cfg.Origin == "" || cfg.OperatorKey == "" {
		return fmt.Errorf("open log: the store holds no record, and no origin and operator key were given to create one")
	}
	v, err := entry.NewVerifier(cfg.OperatorKey)
	if err != nil {
		return fmt.Errorf("create log: operator key: %w", err)
	}
	if v.Name() != cfg.Origin {
		return fmt.Errorf("create log: the operator key is named %q; it must be named after the origin %q", v.Name(), cfg.Origin)
	}
	// The origin marks the store as holding a record, so it is written last.
	if err := st(ctx, l.st, metaOperator, cfg.OperatorKey); err != nil {
		return err
	}
	if err := st(ctx, l.st, metaOrigin, cfg.Origin); err != nil {
		return err
	}
	l.origin, l.opKey = cfg.Origin, cfg.OperatorKey
	return nil
}

func st(ctx context.Context, s store.Store, k, v string) error {
	if err := s.SetMeta(ctx, k, v); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	return nil
}

// genesis appends entry 0: the operator registering its own key.
func (l *Log) genesis(ctx context.Context) error {
	s, err := genesisEntry(l.origin, l.opKey, l.operator, l.now())
	if err != nil {
		return err
	}
	_, err = l.Append(ctx, []*entry.Signed{s})
	return err
}

// genesisEntry is entry 0 of every record: the operator's key.register of
// its own key, signed by it.
func genesisEntry(origin, opKey string, operator note.Signer, at time.Time) (*entry.Signed, error) {
	body, err := entry.Object(KeyRegisterBody{Key: opKey, Holder: "operator of " + origin})
	if err != nil {
		return nil, err
	}
	at = at.UTC()
	return entry.Sign(entry.Entry{Type: KeyRegister, Body: body, Time: at, Recorded: at}, operator)
}

// open loads the sequencer's state; from a shared store, in a turn, so
// that no other process appends meanwhile.
func (l *Log) open(ctx context.Context) error {
	if l.shared == nil {
		return l.load(ctx)
	}
	t, err := l.shared.Turn(ctx)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer t.End()
	return l.loadAt(ctx, t.Size())
}

// load reads the sequencer's state from the store: size, keys, checkpoint.
func (l *Log) load(ctx context.Context) error {
	size, err := l.st.Size(ctx)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	return l.loadAt(ctx, size)
}

// applyKey applies the key entry lf to kr.
func (l *Log) applyKey(kr *keyring, lf store.Leaf) error {
	s, err := parseLeaf(lf.Data, 0)
	if err != nil {
		return fmt.Errorf("entry %d: %w", lf.Index, err)
	}
	body, err := l.types.Decode(&s.Entry)
	if err != nil {
		return fmt.Errorf("entry %d: %w", lf.Index, err)
	}
	return kr.apply(lf.Index, s, body)
}

// loadAt loads the state of the first size entries.
func (l *Log) loadAt(ctx context.Context, size int64) error {
	kr := newKeyring(keyIDOf(l.opVerify), l.types)
	err := l.st.LeavesOfType(ctx, []string{KeyRegister, KeyRevoke}, func(lf store.Leaf) error {
		if lf.Index >= size {
			return nil
		}
		return l.applyKey(kr, lf)
	})
	if err != nil {
		return fmt.Errorf("open log: load keys: %w", err)
	}
	l.keys.Store(kr)
	l.size = size
	l.tiles = map[tileKey][]byte{}
	if l.proj != nil {
		if err := l.proj.Load(ctx, l.st, size); err != nil {
			return fmt.Errorf("open log: projections: %w", err)
		}
		l.projAt = size
	}
	c, err := l.st.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		l.latest.Store(nil)
	case err != nil:
		return fmt.Errorf("open log: %w", err)
	default:
		cp, err := OpenCheckpoint(c.Note, l.opVerify, l.origin)
		if err != nil {
			return fmt.Errorf("open log: latest checkpoint: %w", err)
		}
		l.latest.Store(&cp)
		l.signalGrowth()
	}
	return nil
}

// Now returns the log's clock, in UTC: the time entries are recorded.
func (l *Log) Now() time.Time { return l.now().UTC() }

// Origin returns the record's origin line.
func (l *Log) Origin() string { return l.origin }

// OperatorKey returns the operator's verifier key.
func (l *Log) OperatorKey() string { return l.opKey }

// Types returns the registry of entry types the log accepts.
func (l *Log) Types() *entry.Registry { return l.types }

// Key returns the registered key with the given "name+hash" id.
func (l *Log) Key(id string) (Key, bool) {
	k, ok := l.keys.Load().keys[id]
	if !ok {
		return Key{}, false
	}
	return *k, true
}

// Keys returns every registered key, revoked ones included.
func (l *Log) Keys() []Key {
	kr := l.keys.Load()
	out := make([]Key, 0, len(kr.keys))
	for _, k := range kr.keys {
		out = append(out, *k)
	}
	return out
}

// Latest returns the last checkpoint, or false if the log is empty.
func (l *Log) Latest() (Checkpoint, bool) {
	c := l.latest.Load()
	if c == nil {
		return Checkpoint{}, false
	}
	return *c, true
}

// Grown returns a channel that is closed when the log next grows: wait on
// it, then read Latest (and ask for a new channel).
func (l *Log) Grown() <-chan struct{} {
	for {
		if c := l.grown.Load(); c != nil {
			return *c
		}
		c := make(chan struct{})
		l.grown.CompareAndSwap(nil, &c)
	}
}

// signalGrowth wakes everyone waiting on Grown.
func (l *Log) signalGrowth() {
	c := make(chan struct{})
	if old := l.grown.Swap(&c); old != nil {
		close(*old)
	}
}

// Size returns the size of the tree at the last checkpoint.
func (l *Log) Size() int64 {
	c, _ := l.Latest()
	return c.Size
}

// Close stops the sequencer after it finishes the appends already submitted.
func (l *Log) Close() error {
	l.closing.Lock()
	if !l.stopped {
		l.stopped = true
		close(l.quit)
	}
	l.closing.Unlock()
	l.closed.Wait()
	if l.follow != nil {
		l.follow()
	}
	return nil
}

// Appended says what happened to one submitted entry.
type Appended struct {
	Index     int64
	Hash      [32]byte
	Duplicate bool // it was already on the record at Index; nothing was appended
}

// request is one call to Append: its entries are sequenced together or not at all.
type request struct {
	entries []*prepared
	result  []Appended
	err     error
	done    chan struct{}
}

// prepared is an entry checked as far as it can be outside the sequencer.
type prepared struct {
	s    *entry.Signed
	body entry.Body
	hash [32]byte
	leaf []byte
}

// A Refusal is Append's refusal of one entry of a call, and so of the whole
// call. Pos is the entry's position in the call, so that a caller can point
// at the line or item it came from; Err says what is wrong (usually a
// *problem.Error, whose Kind errors.As finds through Unwrap).
type Refusal struct {
	Pos int
	Err error
}

func (r *Refusal) Error() string { return fmt.Sprintf("entry %d: %v", r.Pos, r.Err) }

func (r *Refusal) Unwrap() error { return r.Err }

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("append: the log is closed")

// ErrReadOnly is returned by Append on a record opened without its operator key.
var ErrReadOnly = errors.New("this record is read-only: it was opened without its operator key")

// Append checks the signed entries and appends them as one unit: all of them
// or, if any is refused, none. It returns once they are durable. An entry
// already on the record is not appended again; its result says Duplicate.
// A refusal is a *Refusal naming the entry by its position in entries.
func (l *Log) Append(ctx context.Context, entries []*entry.Signed) ([]Appended, error) {
	if l.operator == nil {
		return nil, ErrReadOnly
	}
	if len(entries) == 0 {
		return nil, nil
	}
	if l.shared != nil && l.unknownAuthor(entries) {
		// The key may have been registered through another server: catch up
		// before judging.
		if err := l.submit(ctx, &request{done: make(chan struct{})}); err != nil {
			return nil, err
		}
	}
	req := &request{entries: make([]*prepared, len(entries)), done: make(chan struct{})}
	if err := l.prepare(entries, req.entries); err != nil {
		return nil, err
	}
	if err := l.submit(ctx, req); err != nil {
		return nil, err
	}
	return req.result, req.err
}

// submit hands req to the sequencer and waits for it to be done. A request
// without entries only has the sequencer catch up with a shared store.
func (l *Log) submit(ctx context.Context, req *request) error {
	l.closing.RLock()
	if l.stopped {
		l.closing.RUnlock()
		return ErrClosed
	}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		l.closing.RUnlock()
		return ctx.Err()
	}
	l.closing.RUnlock()
	<-req.done // once submitted, wait: the outcome must be known, not guessed
	return nil
}

// unknownAuthor reports whether an entry is signed by a key that is neither
// registered nor registered by an earlier entry of the same call.
func (l *Log) unknownAuthor(entries []*entry.Signed) bool {
	kr := l.keys.Load()
	own := map[string]bool{}
	for _, s := range entries {
		if _, ok := kr.verifier(s.Entry.Author); !ok && !own[s.Entry.Author] {
			return true
		}
		if s.Entry.Type == KeyRegister {
			if body, err := l.types.Decode(&s.Entry); err == nil {
				own[body.(*KeyRegisterBody).ID()] = true
			}
		}
	}
	return false
}

// prepare checks every entry's shape, type, body and signature, in parallel.
// Keys registered by earlier entries of the same call may sign later ones.
func (l *Log) prepare(entries []*entry.Signed, out []*prepared) error {
	kr := l.keys.Load()
	var own map[string]note.Verifier
	for i, s := range entries {
		if s.Entry.Type != KeyRegister {
			continue
		}
		body, err := l.types.Decode(&s.Entry)
		if err != nil {
			return &Refusal{Pos: i, Err: err}
		}
		b := body.(*KeyRegisterBody)
		if own == nil {
			own = map[string]note.Verifier{}
		}
		v, err := entry.NewVerifier(b.Key)
		if err == nil {
			own[b.ID()] = v
		}
	}
	check := func(i int) error {
		s := entries[i]
		p, err := l.check(s, kr, own)
		if err != nil {
			return &Refusal{Pos: i, Err: err}
		}
		out[i] = p
		return nil
	}
	workers := runtime.GOMAXPROCS(0)
	if len(entries) < 32 || workers == 1 {
		for i := range entries {
			if err := check(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(entries); i += workers {
				if err := check(i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	// Report the first bad entry by position, whichever worker found it.
	for i := range entries {
		if out[i] == nil {
			if err := check(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// check verifies one entry against the keys known before its call.
func (l *Log) check(s *entry.Signed, kr *keyring, own map[string]note.Verifier) (*prepared, error) {
	if len(s.Entry.Body) > l.maxBody {
		return nil, problem.New(problem.TooLarge, "", "body is %d bytes, over the limit of %d", len(s.Entry.Body), l.maxBody)
	}
	body, err := l.types.Decode(&s.Entry)
	if err != nil {
		return nil, err
	}
	v, ok := kr.verifier(s.Entry.Author)
	if !ok {
		v, ok = own[s.Entry.Author]
	}
	if !ok {
		return nil, problem.New(problem.Unauthorized, "", "author key %s is not registered", s.Entry.Author)
	}
	if err := s.Verify(v); err != nil {
		return nil, err
	}
	leaf := s.Leaf()
	return &prepared{s: s, body: body, hash: s.Hash(), leaf: leaf}, nil
}

// sequence is the sequencer: it takes waiting requests in batches and commits
// each batch in one durable transaction (group commit). Between batches it
// follows what other processes append to a shared store.
func (l *Log) sequence(changes <-chan struct{}) {
	defer l.closed.Done()
	for {
		var first *request
		select {
		case <-changes:
			// An error here is met again, and told, by the next append.
			err := l.catchUp(context.Background())
			l.following.Store(&err)
			continue
		case first = <-l.reqs:
			if first.entries == nil {
				first.err = l.catchUp(context.Background())
				close(first.done)
				continue
			}
		case <-l.quit:
			// Finish what was submitted before Close.
			for {
				select {
				case r := <-l.reqs:
					l.commit([]*request{r})
				default:
					return
				}
			}
		}
		batch := []*request{first}
		n := len(first.entries)
	more:
		for n < l.maxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
				n += len(r.entries)
			default:
				break more
			}
		}
		l.commit(batch)
	}
}

// commit sequences a batch, retrying if another process appended to the
// same store in between.
func (l *Log) commit(batch []*request) {
	ctx := context.Background()
	var err error
	// Entries found already on the record, by hash. The sequencer does not
	// look every entry up: the store refuses a leaf whose hash it holds, and
	// only then are the batch's entries looked up and the batch retried.
	found := map[[32]byte]int64{}
	for attempt := 0; attempt < 8; attempt++ {
		var t store.Turn
		if l.shared != nil {
			if t, err = l.turn(ctx); err != nil {
				break
			}
		}
		err = l.tryCommit(ctx, batch, found, t)
		if t != nil {
			t.End()
		}
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrConflict) {
			if err = l.load(ctx); err != nil {
				break
			}
			continue
		}
		if n, ferr := l.findStored(ctx, batch, found); ferr != nil || n == 0 {
			break
		}
	}
	for _, r := range batch {
		if err != nil && r.err == nil {
			r.err, r.result = fmt.Errorf("append: %w", err), nil
		}
		close(r.done)
	}
}

// tryCommit assigns indexes, extends the tree, signs a checkpoint and
// writes it all in one store transaction. Requests refused here get their
// own error; a store error fails the whole batch.
func (l *Log) tryCommit(ctx context.Context, batch []*request, found map[[32]byte]int64, t store.Turn) (err error) {
	kr := l.keys.Load()
	g := newGrowth(ctx, l.size, l.cachedTile)
	var leaves []store.Leaf
	var derived *store.Derived
	if l.proj != nil {
		derived = &store.Derived{}
		base := l.proj.Mark()
		defer func() {
			if err != nil {
				l.proj.Undo(base)
			}
		}()
	}
	seen := map[[32]byte]int64{}
	for _, r := range batch {
		r.err, r.result = nil, make([]Appended, len(r.entries))
		rkr := kr
		mark := len(leaves)
		var folded store.Derived
		pmark := 0
		if l.proj != nil {
			pmark = l.proj.Mark()
		}
		for i, p := range r.entries {
			if p.s.Entry.Type == KeyRegister || p.s.Entry.Type == KeyRevoke {
				if rkr == kr {
					rkr = kr.clone()
				}
			}
			idx, err := l.sequenceOne(ctx, p, l.size+int64(len(leaves)), rkr, seen, found)
			if err != nil {
				r.err = &Refusal{Pos: i, Err: err}
				break
			}
			if idx >= 0 {
				r.result[i] = Appended{Index: idx, Hash: p.hash, Duplicate: true}
				continue
			}
			idx = l.size + int64(len(leaves))
			if l.proj != nil {
				d, err := l.proj.Fold(ctx, idx, p.s, p.body)
				if err != nil {
					r.err = &Refusal{Pos: i, Err: err}
					break
				}
				folded.Facts = append(folded.Facts, d.Facts...)
				folded.Voids = append(folded.Voids, d.Voids...)
			}
			leaves = append(leaves, store.Leaf{Index: idx, Hash: p.hash, Type: p.s.Entry.Type, Data: p.leaf})
			seen[p.hash] = idx
			r.result[i] = Appended{Index: idx, Hash: p.hash}
		}
		if r.err != nil {
			for _, lf := range leaves[mark:] {
				delete(seen, lf.Hash)
			}
			leaves = leaves[:mark]
			r.result = nil
			if l.proj != nil {
				l.proj.Undo(pmark)
			}
			continue
		}
		kr = rkr
		if derived != nil {
			derived.Facts = append(derived.Facts, folded.Facts...)
			derived.Voids = append(derived.Voids, folded.Voids...)
		}
	}
	if len(leaves) == 0 {
		return nil
	}
	for _, lf := range leaves {
		if err := g.add(tlog.RecordHash(lf.Data)); err != nil {
			return err
		}
	}
	tiles, err := g.tiles()
	if err != nil {
		return err
	}
	root, err := g.root()
	if err != nil {
		return err
	}
	cp, err := signCheckpoint(l.origin, g.size, root, l.now(), l.operator)
	if err != nil {
		return err
	}
	b := store.Batch{Start: l.size, Leaves: leaves, Tiles: tiles, Derived: derived,
		Checkpoint: store.Checkpoint{Size: cp.Size, Time: cp.Time, Note: cp.Note}}
	if t != nil {
		err = t.Append(ctx, b)
	} else {
		err = l.st.Append(ctx, b)
	}
	if err != nil {
		return err
	}
	if l.proj != nil {
		l.proj.Commit()
		l.projAt = g.size
	}
	l.cache.add(tiles)
	l.size = g.size
	l.keys.Store(kr)
	l.latest.Store(&cp)
	l.signalGrowth()
	if len(l.tiles) > 4096 {
		clear(l.tiles)
	}
	for _, t := range tiles {
		l.tiles[tileKey{t.Level, t.Index}] = t.Data
	}
	return nil
}

// findStored looks up the batch's entries on the record, adding those found
// to found, and says how many it added.
func (l *Log) findStored(ctx context.Context, batch []*request, found map[[32]byte]int64) (int, error) {
	n := 0
	for _, r := range batch {
		for _, p := range r.entries {
			if _, ok := found[p.hash]; ok {
				continue
			}
			idx, err := l.st.FindLeaf(ctx, p.hash)
			switch {
			case err == nil:
				found[p.hash] = idx
				n++
			case !errors.Is(err, store.ErrNotFound):
				return n, err
			}
		}
	}
	return n, nil
}

// sequenceOne decides one entry at index: a duplicate (its existing index),
// refused (an error), or new (-1). Key entries are folded into kr.
func (l *Log) sequenceOne(ctx context.Context, p *prepared, index int64, kr *keyring, seen, found map[[32]byte]int64) (int64, error) {
	if idx, ok := found[p.hash]; ok {
		return idx, nil
	}
	if idx, ok := seen[p.hash]; ok {
		return idx, nil
	}
	err := kr.admit(index, p.s)
	if err == nil {
		err = checkRefs(index, p.s, p.body)
	}
	if err == nil && (p.s.Entry.Type == KeyRegister || p.s.Entry.Type == KeyRevoke) {
		err = kr.apply(index, p.s, p.body)
	}
	if err != nil {
		// An entry already on the record is answered with its index, even
		// if it could not be appended now (its key since revoked).
		if idx, ferr := l.st.FindLeaf(ctx, p.hash); ferr == nil {
			found[p.hash] = idx
			return idx, nil
		}
		return 0, err
	}
	return -1, nil
}

// cachedTile reads a tile for the sequencer, which keeps the right edge of
// the tree in memory.
func (l *Log) cachedTile(ctx context.Context, level int, index int64) ([]byte, error) {
	if d, ok := l.tiles[tileKey{level, index}]; ok {
		return d, nil
	}
	d, err := storeTiles(l.st)(ctx, level, index)
	if err == nil {
		l.tiles[tileKey{level, index}] = d
	}
	return d, err
}
