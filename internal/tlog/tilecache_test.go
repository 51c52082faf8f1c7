package tlog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// memTree is a tree held in memory, every stored hash computed directly by
// x/mod/sumdb/tlog, to check the cache against.
type memTree struct {
	hashes []tlog.Hash // by stored hash index
}

func newMemTree(t testing.TB, size int64) *memTree {
	t.Helper()
	m := &memTree{}
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = m.hashes[x]
		}
		return out, nil
	})
	for n := range size {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		hs, err := tlog.StoredHashes(n, b[:], r)
		if err != nil {
			t.Fatal(err)
		}
		m.hashes = append(m.hashes, hs...)
	}
	return m
}

func (m *memTree) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = m.hashes[x]
		}
		return out, nil
	})
}

// tile returns the data of a tile as stored when the tree had size entries:
// at its widest width then, or not found.
func (m *memTree) tile(level int, index, size int64) ([]byte, error) {
	w := min(size>>(TileHeight*level)-index<<TileHeight, 1<<TileHeight)
	if w <= 0 {
		return nil, fmt.Errorf("tile %d/%d is not in the tree of %d", level, index, size)
	}
	return tlog.ReadTileData(tlog.Tile{H: TileHeight, L: level, N: index, W: int(w)}, m.reader())
}

// grower serves m's tiles as stored at a size that grows, and counts reads.
type grower struct {
	m     *memTree
	size  atomic.Int64
	reads atomic.Int64
}

func (g *grower) source(ctx context.Context, level int, index int64) ([]byte, error) {
	g.reads.Add(1)
	return g.m.tile(level, index, g.size.Load())
}

// checkHashes reads every hash stored at size through c and compares it
// with m's.
func checkHashes(t *testing.T, c *tileCache, g *grower, size int64) {
	t.Helper()
	n := tlog.StoredHashCount(size)
	idx := make([]int64, n)
	for i := range idx {
		idx[i] = int64(i)
	}
	got, err := c.reader(context.Background(), g.source).ReadHashes(idx)
	if err != nil {
		t.Fatalf("size %d: ReadHashes: %v", size, err)
	}
	for i, h := range got {
		if h != g.m.hashes[i] {
			t.Fatalf("size %d: stored hash %d is %s, want %s", size, i, h, g.m.hashes[i])
		}
	}
}

// TestTileCacheReads checks that a reader through the cache gives every
// stored hash, root and proof just as the hashes themselves do, at sizes
// on and around tile boundaries at each level.
func TestTileCacheReads(t *testing.T) {
	m := newMemTree(t, 1<<16+300)
	for _, size := range []int64{1, 2, 3, 255, 256, 257, 300, 511, 512, 4097, 1 << 16, 1<<16 + 1, 1<<16 + 300} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			g := &grower{m: m}
			g.size.Store(size)
			c := newTileCache()
			checkHashes(t, c, g, size)
			ctx := context.Background()
			want, err := tlog.TreeHash(size, m.reader())
			if err != nil {
				t.Fatal(err)
			}
			if got, err := tlog.TreeHash(size, c.reader(ctx, g.source)); err != nil || got != want {
				t.Errorf("TreeHash = %s, %v; want %s", got, err, want)
			}
			for _, i := range []int64{0, size / 3, size / 2, size - 1} {
				want, err := tlog.ProveRecord(size, i, m.reader())
				if err != nil {
					t.Fatal(err)
				}
				got, err := tlog.ProveRecord(size, i, c.reader(ctx, g.source))
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("ProveRecord(%d) = %v, %v; want %v", i, got, err, want)
				}
				if i == 0 {
					continue
				}
				wantTree, err := tlog.ProveTree(size, i, m.reader())
				if err != nil {
					t.Fatal(err)
				}
				gotTree, err := tlog.ProveTree(size, i, c.reader(ctx, g.source))
				if err != nil || fmt.Sprint(gotTree) != fmt.Sprint(wantTree) {
					t.Errorf("ProveTree(%d) = %v, %v; want %v", i, gotTree, err, wantTree)
				}
			}
			// Everything is cached now: reading it all again reads no tile.
			before := g.reads.Load()
			checkHashes(t, c, g, size)
			if n := g.reads.Load() - before; n != 0 {
				t.Errorf("reading every hash again read %d tiles, want 0", n)
			}
		})
	}
}

// TestTileCacheWidens grows the tree under a cache: partial tiles cached at
// one size serve what they hold, and are read again, wider, for hashes the
// tree gained since; a narrower tile never replaces a wider one.
func TestTileCacheWidens(t *testing.T) {
	m := newMemTree(t, 1000)
	g := &grower{m: m}
	c := newTileCache()
	ctx := context.Background()

	g.size.Store(300) // tile 0/1 is 44 hashes wide
	checkHashes(t, c, g, 300)
	if w := c.get(tileKey{0, 1}).width(); w != 44 {
		t.Fatalf("tile 0/1 cached %d wide at size 300, want 44", w)
	}

	// The store grows, but no hash asked for needs more than the cache holds.
	g.size.Store(1000)
	before := g.reads.Load()
	checkHashes(t, c, g, 300)
	if n := g.reads.Load() - before; n != 0 {
		t.Errorf("the hashes of size 300 read %d tiles the second time, want 0", n)
	}

	// The hashes the tree gained need the tiles again, wider.
	for _, size := range []int64{301, 350, 511, 512, 513, 1000} {
		checkHashes(t, c, g, size)
		if got, err := tlog.TreeHash(size, c.reader(ctx, g.source)); err != nil || got != mustTreeHash(t, m, size) {
			t.Errorf("TreeHash(%d) through the cache = %s, %v", size, got, err)
		}
	}
	if w := c.get(tileKey{0, 1}).width(); w != 256 {
		t.Errorf("tile 0/1 cached %d wide at size 1000, want 256", w)
	}
	if w := c.get(tileKey{1, 0}).width(); w != 3 {
		t.Errorf("tile 1/0 cached %d wide at size 1000, want 3", w)
	}

	// A narrower copy of a tile (from a store read before it grew) does
	// not replace the wider one cached.
	narrow, err := m.tile(0, 1, 300)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.put(tileKey{0, 1}, narrow); got.width() != 256 {
		t.Errorf("put of a 44-wide tile over a 256-wide one returned one %d wide", got.width())
	}
	if w := c.get(tileKey{0, 1}).width(); w != 256 {
		t.Errorf("after the put of a narrower copy, tile 0/1 is cached %d wide, want 256", w)
	}

	// A hash the store cannot hold yet is an error, never a wrong hash.
	g2 := &grower{m: m}
	g2.size.Store(300)
	c2 := newTileCache()
	idx := tlog.StoredHashIndex(0, 400)
	if _, err := c2.reader(ctx, g2.source).ReadHashes([]int64{idx}); err == nil {
		t.Errorf("reading hash %d (leaf 400) from a store of 300 leaves did not fail", idx)
	}
	g2.size.Store(310)
	idx = tlog.StoredHashIndex(0, 305)
	checkHashes(t, c2, g2, 300)
	if _, err := c2.reader(ctx, g2.source).ReadHashes([]int64{idx}); err != nil {
		t.Errorf("reading leaf 305 once the store has 310: %v", err)
	}
}

func mustTreeHash(t *testing.T, m *memTree, size int64) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(size, m.reader())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestTileCacheAdd checks tiles added as the sequencer writes them serve
// reads without the store, and widen what is cached.
func TestTileCacheAdd(t *testing.T) {
	m := newMemTree(t, 600)
	g := &grower{m: m}
	c := newTileCache()
	for _, size := range []int64{100, 256, 257, 600} {
		g.size.Store(size)
		var tiles []tileKey
		for _, tl := range tlog.NewTiles(TileHeight, 0, size) {
			tiles = append(tiles, tileKey{tl.L, tl.N})
		}
		for _, k := range tiles {
			data, err := m.tile(k.level, k.index, size)
			if err != nil {
				t.Fatal(err)
			}
			c.add(tilesOf(k, data))
		}
		before := g.reads.Load()
		checkHashes(t, c, g, size)
		if n := g.reads.Load() - before; n != 0 {
			t.Errorf("size %d: reads after adding every tile: %d, want 0", size, n)
		}
	}
}

// TestTileCacheBounds checks the cache forgets the least recently used
// tiles beyond its bounds, and still reads right after.
func TestTileCacheBounds(t *testing.T) {
	const size = 40 * 256
	m := newMemTree(t, size)
	g := &grower{m: m}
	g.size.Store(size)
	c := &tileCache{upper: newTileLRU(2), level0: newTileLRU(3)}
	checkHashes(t, c, g, size)
	if n := c.level0.len(); n != 3 {
		t.Errorf("%d level-0 tiles cached, want the bound, 3", n)
	}
	if n := c.upper.len(); n != 1 {
		t.Errorf("%d upper tiles cached, want 1", n)
	}
	for _, k := range []tileKey{{0, 37}, {0, 38}, {0, 39}} {
		if c.get(k) == nil {
			t.Errorf("tile %v, among the last used, is not cached", k)
		}
	}
	checkHashes(t, c, g, size)
}

// TestTileCacheConcurrent reads random hashes through one cache from many
// goroutines while the tree grows; run with -race.
func TestTileCacheConcurrent(t *testing.T) {
	const final = 3000
	m := newMemTree(t, final)
	g := &grower{m: m}
	g.size.Store(1)
	c := &tileCache{upper: newTileLRU(4), level0: newTileLRU(4)}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), 1))
			for range 2000 {
				size := g.size.Load()
				idx := rng.Int64N(tlog.StoredHashCount(size))
				hs, err := c.reader(ctx, g.source).ReadHashes([]int64{idx})
				if err != nil {
					errs <- fmt.Errorf("size %d: hash %d: %w", size, idx, err)
					return
				}
				if hs[0] != m.hashes[idx] {
					errs <- fmt.Errorf("size %d: hash %d is %s, want %s", size, idx, hs[0], m.hashes[idx])
					return
				}
			}
		}()
	}
	for size := int64(2); size <= final; size += 7 {
		g.size.Store(size)
		time.Sleep(10 * time.Microsecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestProofsWhileGrowing proves entries and consistency on a log as it
// grows across tile boundaries, each proof checked against the operator's
// key and against roots computed apart from the log.
func TestProofsWhileGrowing(t *testing.T) {
	ctx := context.Background()
	l, op := openCacheTestLog(t)
	leaves := [][]byte{genesisLeaf(t, l)}
	n := 0
	for _, commit := range []int{1, 3, 250, 2, 1, 40, 300, 17, 256, 1} {
		var ss []*entry.Signed
		for range commit {
			n++
			ss = append(ss, cacheTestNote(t, op, fmt.Sprintf("entry %d", n)))
		}
		if _, err := l.Append(ctx, ss); err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			leaves = append(leaves, s.Leaf())
		}
		size := int64(len(leaves))
		if l.Size() != size {
			t.Fatalf("log size %d, want %d", l.Size(), size)
		}
		for _, i := range []int64{0, size / 2, size - 1, max(0, size-257)} {
			for _, at := range []int64{0, i + 1, (i + 1 + size) / 2} {
				p, err := l.ProveInclusion(ctx, i, at)
				if err != nil {
					t.Fatalf("ProveInclusion(%d, %d) at size %d: %v", i, at, size, err)
				}
				if at == 0 {
					at = size
				}
				if want := rootOf(leaves[:at]); p.Root != want {
					t.Errorf("ProveInclusion(%d, %d): root %s, want %s", i, at, p.Root, want)
				}
				if _, err := p.Check(l.OperatorKey()); err != nil {
					t.Errorf("ProveInclusion(%d, %d) at size %d does not check: %v", i, at, size, err)
				}
			}
		}
		for _, old := range []int64{1, size / 2, size - 1, size} {
			old = max(old, 1)
			p, err := l.ProveConsistency(ctx, old, size)
			if err != nil {
				t.Fatalf("ProveConsistency(%d, %d): %v", old, size, err)
			}
			if p.OldRoot != rootOf(leaves[:old]) || p.NewRoot != rootOf(leaves) {
				t.Errorf("ProveConsistency(%d, %d): roots %s, %s", old, size, p.OldRoot, p.NewRoot)
			}
			if _, err := p.Check(l.OperatorKey()); err != nil {
				t.Errorf("ProveConsistency(%d, %d) does not check: %v", old, size, err)
			}
		}
		c, _ := l.Latest()
		if p, err := l.ProveInclusion(ctx, 0, 0); err != nil || p.Checkpoint != string(c.Note) {
			t.Errorf("the latest proof does not carry the latest checkpoint: %v", err)
		}
	}
}

// TestProofOfTamperedTree checks a proof is refused, not served, when the
// stored tiles do not give the root the checkpoint signs.
func TestProofOfTamperedTree(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, op := openCacheTestLogAt(t, filepath.Join(dir, "record.db"))
	var ss []*entry.Signed
	for i := range 20 {
		ss = append(ss, cacheTestNote(t, op, fmt.Sprintf("entry %d", i)))
	}
	if _, err := l.Append(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ProveInclusion(ctx, 3, 0); err != nil {
		t.Fatalf("before tampering: %v", err)
	}
	l.Close()

	db, err := sql.Open("sqlite", filepath.Join(dir, "record.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE tiles SET data = zeroblob(length(data)) WHERE level = 0 AND idx = 0`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st, err := sqlite.Open(ctx, filepath.Join(dir, "record.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ro, err := Open(ctx, st, Config{Types: cacheTestTypes(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	_, err = ro.ProveInclusion(ctx, 3, 0)
	if problem.KindOf(err) != problem.Tampered || !strings.Contains(err.Error(), "checkpoint signs root") {
		t.Errorf("proof in a tampered tree: %v, want a tampered problem naming the signed root", err)
	}
}

// rootOf computes the RFC 6962 root of leaves directly.
func rootOf(leaves [][]byte) tlog.Hash {
	hs := make([]tlog.Hash, len(leaves))
	for i, l := range leaves {
		hs[i] = tlog.RecordHash(l)
	}
	return rootOfHashes(hs)
}

func rootOfHashes(hs []tlog.Hash) tlog.Hash {
	if len(hs) == 1 {
		return hs[0]
	}
	k := 1 // the largest power of two below len(hs)
	for k*2 < len(hs) {
		k *= 2
	}
	return tlog.NodeHash(rootOfHashes(hs[:k]), rootOfHashes(hs[k:]))
}

// The test log: a SQLite record whose operator writes notes.

type cacheTestBody struct {
	Text string `json:"text"`
}

func (b *cacheTestBody) Validate() error {
	if b.Text == "" {
		return errors.New(`"text" is required`)
	}
	return nil
}

func cacheTestTypes(t testing.TB) *entry.Registry {
	r := entry.NewRegistry()
	if err := r.Register(entry.Type{Name: "note", Doc: "free text", New: func() entry.Body { return new(cacheTestBody) }}); err != nil {
		t.Fatal(err)
	}
	return r
}

func openCacheTestLog(t testing.TB) (*Log, note.Signer) {
	return openCacheTestLogAt(t, filepath.Join(t.TempDir(), "record.db"))
}

func openCacheTestLogAt(t testing.TB, path string) (*Log, note.Signer) {
	t.Helper()
	ctx := context.Background()
	const origin = "talks.example/cache"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	op, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctx, st, Config{Origin: origin, Operator: op, OperatorKey: vkey, Types: cacheTestTypes(t)})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		st.Close()
	})
	return l, op
}

func genesisLeaf(t testing.TB, l *Log) []byte {
	t.Helper()
	e, err := l.Entry(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return e.Leaf()
}

func cacheTestNote(t testing.TB, op note.Signer, text string) *entry.Signed {
	t.Helper()
	body, err := json.Marshal(cacheTestBody{Text: text}, json.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 13, 9, 0, 0, 0, time.UTC)
	s, err := entry.Sign(entry.Entry{Type: "note", Body: jsontext.Value(body), Time: now, Recorded: now}, op)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tilesOf wraps one tile's data as the sequencer hands it over.
func tilesOf(k tileKey, data []byte) []store.Tile {
	return []store.Tile{{Level: k.level, Index: k.index, Width: len(data) / tlog.HashSize, Data: data}}
}
