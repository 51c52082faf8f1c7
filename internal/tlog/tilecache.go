package tlog

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/store"
)

// How many tiles a tileCache keeps. At 16 KiB a full tile (its hashes and
// the subtree hashes computed from them), the cache holds at most 96 MiB.
const (
	// Above level 0 there is one tile for every 65,536 entries: 4,096 of
	// them cover every upper tile of a record of 268 million entries.
	maxUpperTiles = 4096
	// A level-0 tile covers 256 entries, and nearly every inclusion proof
	// needs a different one: keep the most recently used.
	maxLevel0Tiles = 2048
)

// A tileCache keeps tiles of the tree in memory, for every proof and root a
// log serves to share, with the hashes of the subtrees within each tile
// computed once. Its methods are safe for concurrent use.
//
// The tree only grows, and so does each tile: a tile's data at width w is a
// prefix of its data at any greater width, and a hash once stored never
// changes. So the cache keeps the widest data it has seen of each tile and
// serves a hash only from data wide enough to hold it. A hash beyond that
// width (at the right edge of a tree that has grown since) sends the reader
// to the store, and the wider data read replaces the narrower. Nothing the
// cache serves can be stale.
type tileCache struct {
	mu     sync.Mutex
	upper  tileLRU // tiles at level 1 and above
	level0 tileLRU
}

// proofTiles returns the tile cache proofs and roots read through: the
// log's own, shared by all its readers and fed by the sequencer.
func (l *Log) proofTiles() *tileCache { return l.cache }

// newTileCache returns an empty cache.
func newTileCache() *tileCache {
	return &tileCache{upper: newTileLRU(maxUpperTiles), level0: newTileLRU(maxLevel0Tiles)}
}

// A cachedTile is a tile's data at one width, with the hashes of the
// complete subtrees within it, computed on first use.
type cachedTile struct {
	data []byte // width hashes at the tile's foot
	once sync.Once
	// sub[k-1] holds the hashes of the complete subtrees of 2^k hashes of
	// the tile's foot, left to right, for 1 <= k < TileHeight. (Subtrees of
	// 2^TileHeight are the next level's tiles.)
	sub [TileHeight - 1][]tlog.Hash
}

func (t *cachedTile) width() int { return len(t.data) / tlog.HashSize }

// hash returns the hash of the pos'th subtree of 2^k hashes of the tile's
// foot, which the tile must be wide enough to hold.
func (t *cachedTile) hash(k int, pos int64) tlog.Hash {
	if k == 0 {
		return tlog.Hash(t.data[pos*tlog.HashSize:][:tlog.HashSize])
	}
	t.once.Do(t.fill)
	return t.sub[k-1][pos]
}

// fill computes the subtree hashes.
func (t *cachedTile) fill() {
	w := t.width()
	free := make([]tlog.Hash, w) // there are w/2 + w/4 + ... < w subtrees
	foot := func(i int) tlog.Hash { return tlog.Hash(t.data[i*tlog.HashSize:][:tlog.HashSize]) }
	for k := 1; k < TileHeight; k++ {
		n := w >> k
		level := free[:n:n]
		free = free[n:]
		for i := range level {
			if k == 1 {
				level[i] = tlog.NodeHash(foot(2*i), foot(2*i+1))
			} else {
				level[i] = tlog.NodeHash(t.sub[k-2][2*i], t.sub[k-2][2*i+1])
			}
		}
		t.sub[k-1] = level
	}
}

// reader returns a HashReader of the hashes stored in tiles (in
// x/mod/sumdb/tlog's numbering), which reads through the cache.
func (c *tileCache) reader(ctx context.Context, tiles tileSource) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var (
			lastKey tileKey
			last    *cachedTile
		)
		for i, idx := range indexes {
			key, k, pos, need := tileOfHash(idx)
			if last == nil || key != lastKey || last.width() < need {
				t, err := c.tile(ctx, key, need, tiles)
				if err != nil {
					return nil, fmt.Errorf("read hash %d: %w", idx, err)
				}
				lastKey, last = key, t
			}
			out[i] = last.hash(k, pos)
		}
		return out, nil
	})
}

// tileOfHash says where the stored hash idx is: in the tile key, as the
// pos'th subtree of 2^k hashes of the tile's foot, so that the tile must be
// at least need hashes wide to hold it. (tlog.TileForIndex, without the
// Tile.)
func tileOfHash(idx int64) (key tileKey, k int, pos int64, need int) {
	level, n := tlog.SplitStoredHashIndex(idx)
	k = level % TileHeight
	key = tileKey{level / TileHeight, n >> (TileHeight - k)}
	pos = n - key.index<<(TileHeight-k)
	return key, k, pos, int(pos+1) << k
}

// tile returns the tile at key, at least need hashes wide: from the cache
// if it holds that much of it, else from read.
func (c *tileCache) tile(ctx context.Context, key tileKey, need int, read tileSource) (*cachedTile, error) {
	if t := c.get(key); t != nil && t.width() >= need {
		return t, nil
	}
	data, err := read(ctx, key.level, key.index)
	if err != nil {
		return nil, err
	}
	if len(data)%tlog.HashSize != 0 || len(data) > tlog.HashSize<<TileHeight {
		return nil, fmt.Errorf("tile %d/%d: %d bytes of data is not a tile of hashes", key.level, key.index, len(data))
	}
	if len(data) < need*tlog.HashSize {
		return nil, fmt.Errorf("tile %d/%d: the store holds %d of its hashes, and %d are needed", key.level, key.index, len(data)/tlog.HashSize, need)
	}
	return c.put(key, data), nil
}

// add puts tiles just written to the store into the cache.
func (c *tileCache) add(tiles []store.Tile) {
	for _, t := range tiles {
		c.put(tileKey{t.Level, t.Index}, t.Data)
	}
}

func (c *tileCache) lru(key tileKey) *tileLRU {
	if key.level == 0 {
		return &c.level0
	}
	return &c.upper
}

// get returns the cached tile at key, or nil.
func (c *tileCache) get(key tileKey) *cachedTile {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru(key).get(key)
}

// put caches data as the tile at key, unless the cache holds at least as
// much of the tile already, and returns what the cache holds.
func (c *tileCache) put(key tileKey, data []byte) *cachedTile {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lru(key)
	if t := l.get(key); t != nil && t.width() >= len(data)/tlog.HashSize {
		return t
	}
	t := &cachedTile{data: data}
	l.set(key, t)
	return t
}

// A tileLRU holds up to max tiles, forgetting the least recently used.
type tileLRU struct {
	max   int
	order *list.List // of *lruEntry, the most recently used first
	byKey map[tileKey]*list.Element
}

type lruEntry struct {
	key  tileKey
	tile *cachedTile
}

func newTileLRU(max int) tileLRU {
	return tileLRU{max: max, order: list.New(), byKey: map[tileKey]*list.Element{}}
}

func (l *tileLRU) get(key tileKey) *cachedTile {
	e, ok := l.byKey[key]
	if !ok {
		return nil
	}
	l.order.MoveToFront(e)
	return e.Value.(*lruEntry).tile
}

func (l *tileLRU) set(key tileKey, t *cachedTile) {
	if e, ok := l.byKey[key]; ok {
		e.Value.(*lruEntry).tile = t
		l.order.MoveToFront(e)
		return
	}
	l.byKey[key] = l.order.PushFront(&lruEntry{key, t})
	if l.order.Len() > l.max {
		e := l.order.Back()
		l.order.Remove(e)
		delete(l.byKey, e.Value.(*lruEntry).key)
	}
}

func (l *tileLRU) len() int { return l.order.Len() }
