package tlog

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/store"
)

// TileHeight is the height of the stored tiles: 2^8 = 256 hashes, as in the
// C2SP tlog-tiles layout.
const TileHeight = 8

type tileKey struct {
	level int
	index int64
}

// tileSource returns a tile's widest stored data.
type tileSource func(ctx context.Context, level int, index int64) ([]byte, error)

// hashReader reads stored hashes (in x/mod/sumdb/tlog's numbering) from
// tiles, looking first in overlay (hashes computed but not yet stored).
func hashReader(ctx context.Context, overlay map[int64]tlog.Hash, tiles tileSource) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var (
			lastKey  tileKey
			lastData []byte
		)
		for i, idx := range indexes {
			if h, ok := overlay[idx]; ok {
				out[i] = h
				continue
			}
			t := tlog.TileForIndex(TileHeight, idx)
			k := tileKey{t.L, t.N}
			if lastData == nil || k != lastKey {
				data, err := tiles(ctx, t.L, t.N)
				if err != nil {
					return nil, fmt.Errorf("read hash %d: tile %d/%d: %w", idx, t.L, t.N, err)
				}
				lastKey, lastData = k, data
			}
			h, err := tlog.HashFromTile(t, lastData, idx)
			if err != nil {
				return nil, fmt.Errorf("read hash %d: %w", idx, err)
			}
			out[i] = h
		}
		return out, nil
	})
}

// storeTiles reads tiles straight from st.
func storeTiles(st store.Store) tileSource {
	return func(ctx context.Context, level int, index int64) ([]byte, error) {
		data, err := st.Tile(ctx, level, index)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("tile %d/%d missing from the store: %w", level, index, err)
		}
		return data, err
	}
}

// growth computes what appending leaves to a tree of size old changes: the
// new stored hashes (in overlay), the tiles to store and the new root.
type growth struct {
	old, size int64
	overlay   map[int64]tlog.Hash
	read      tlog.HashReader
}

func newGrowth(ctx context.Context, size int64, tiles tileSource) *growth {
	g := &growth{old: size, size: size, overlay: map[int64]tlog.Hash{}}
	g.read = hashReader(ctx, g.overlay, tiles)
	return g
}

// add appends one leaf's record hash.
func (g *growth) add(leafHash tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(g.size, leafHash, g.read)
	if err != nil {
		return err
	}
	base := tlog.StoredHashIndex(0, g.size)
	for i, h := range hs {
		g.overlay[base+int64(i)] = h
	}
	g.size++
	return nil
}

// tiles returns the tiles that changed, with their data.
func (g *growth) tiles() ([]store.Tile, error) {
	var out []store.Tile
	for _, t := range tlog.NewTiles(TileHeight, g.old, g.size) {
		data, err := tlog.ReadTileData(t, g.read)
		if err != nil {
			return nil, fmt.Errorf("tile %s: %w", t.Path(), err)
		}
		out = append(out, store.Tile{Level: t.L, Index: t.N, Width: t.W, Data: data})
	}
	return out, nil
}

// root returns the tree hash at the new size.
func (g *growth) root() (tlog.Hash, error) { return tlog.TreeHash(g.size, g.read) }
