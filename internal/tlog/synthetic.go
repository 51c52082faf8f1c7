package tlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/store"
)

// A SyntheticRecord describes a record for Synthesize to write.
type SyntheticRecord struct {
	// Origin, Operator and OperatorKey are as in Config; all three are needed.
	Origin      string
	Operator    note.Signer
	OperatorKey string
	// Size is the number of entries, the genesis entry included.
	Size int64
	// Leaf returns the leaf at index (1 <= index < Size): its Data, Hash and
	// Type. Its Index is set by Synthesize. Data should parse as a signed
	// entry if the record is to be read through Entry or ProveInclusion.
	// Hash is stored as given, as the key FindLeaf looks entries up by; it
	// is not checked against Data (SQLite fills a store far faster when the
	// hashes come in increasing order).
	Leaf func(index int64) store.Leaf
	// Commit is the number of leaves per commit, each commit with its own
	// signed checkpoint (default 1<<16).
	Commit int
	// Now returns the checkpoints' time (default time.Now).
	Now func() time.Time
	// Progress, if set, is called after each commit with the entries written.
	Progress func(written int64)
}

// Synthesize writes a record of rec.Size entries into the empty store st
// without Append's checks, for benchmarks and tests of the read path (proofs,
// checkpoints, export) at sizes that signing and verifying real entries
// would take too long to build.
//
// Entry 0 is the real genesis entry, the operator registering its own key.
// Every other leaf is stored exactly as rec.Leaf returns it: its signature is
// not checked, nor its author, body or references, so a record written this
// way need not pass Verify. Everything the log itself derives is real: the
// tiles hold the RFC 6962 tree over the leaves, and each commit stores a
// checkpoint signed by the operator.
func Synthesize(ctx context.Context, st store.Store, rec SyntheticRecord) error {
	if rec.Operator == nil || rec.OperatorKey == "" || rec.Origin == "" {
		return errors.New("synthesize: origin, operator and operator key are required")
	}
	if rec.Size < 1 || (rec.Size > 1 && rec.Leaf == nil) {
		return errors.New("synthesize: size must be at least 1, and Leaf is needed for more")
	}
	if n, err := st.Size(ctx); err != nil || n != 0 {
		return fmt.Errorf("synthesize: the store is not empty (size %d, %v)", n, err)
	}
	if rec.Commit <= 0 {
		rec.Commit = 1 << 16
	}
	if rec.Now == nil {
		rec.Now = time.Now
	}
	l := &Log{st: st}
	if err := l.create(ctx, Config{Origin: rec.Origin, OperatorKey: rec.OperatorKey}); err != nil {
		return fmt.Errorf("synthesize: %w", err)
	}
	genesis, err := genesisEntry(rec.Origin, rec.OperatorKey, rec.Operator, rec.Now())
	if err != nil {
		return fmt.Errorf("synthesize: genesis: %w", err)
	}
	// One goroutine builds each commit (leaves, tree, tiles, checkpoint)
	// while the store writes the one before.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan store.Batch, 1)
	built := make(chan error, 1)
	go func() {
		defer close(batches)
		built <- synthesize(ctx, st, rec, genesis, batches)
	}()
	for b := range batches {
		if err := st.Append(ctx, b); err != nil {
			cancel()
			for range batches {
			}
			return fmt.Errorf("synthesize: entries %d to %d: %w", b.Start, b.Start+int64(len(b.Leaves))-1, err)
		}
		if rec.Progress != nil {
			rec.Progress(b.Checkpoint.Size)
		}
	}
	return <-built
}

// synthesize builds the commits of a synthetic record and sends them, in
// order, to out.
func synthesize(ctx context.Context, st store.Store, rec SyntheticRecord, genesis *entry.Signed, out chan<- store.Batch) error {
	// The tiles of the last two commits built. With out holding one commit,
	// the store may still be writing the one before the last, but every
	// commit before those two is settled in the store.
	var recent, older map[tileKey][]byte
	tiles := func(ctx context.Context, level int, index int64) ([]byte, error) {
		if d, ok := recent[tileKey{level, index}]; ok {
			return d, nil
		}
		if d, ok := older[tileKey{level, index}]; ok {
			return d, nil
		}
		return storeTiles(st)(ctx, level, index)
	}
	for size := int64(0); size < rec.Size; {
		leaves := make([]store.Leaf, 0, min(int64(rec.Commit), rec.Size-size))
		g := newGrowth(ctx, size, tiles)
		for i := size; i < rec.Size && len(leaves) < rec.Commit; i++ {
			var lf store.Leaf
			if i == 0 {
				lf = store.Leaf{Hash: genesis.Hash(), Type: KeyRegister, Data: genesis.Leaf()}
			} else {
				lf = rec.Leaf(i)
			}
			lf.Index = i
			if err := g.add(tlog.RecordHash(lf.Data)); err != nil {
				return fmt.Errorf("synthesize: entry %d: %w", i, err)
			}
			leaves = append(leaves, lf)
		}
		newTiles, err := g.tiles()
		if err != nil {
			return fmt.Errorf("synthesize: %w", err)
		}
		root, err := g.root()
		if err != nil {
			return fmt.Errorf("synthesize: %w", err)
		}
		cp, err := signCheckpoint(rec.Origin, g.size, root, rec.Now(), rec.Operator)
		if err != nil {
			return err
		}
		older, recent = recent, make(map[tileKey][]byte, len(newTiles))
		for _, t := range newTiles {
			recent[tileKey{t.Level, t.Index}] = t.Data
		}
		b := store.Batch{Start: size, Leaves: leaves, Tiles: newTiles,
			Checkpoint: store.Checkpoint{Size: cp.Size, Time: cp.Time, Note: cp.Note}}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		size = g.size
	}
	return nil
}
