package tlog

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
)

// An Indexed entry is a signed entry with its place on the record.
type Indexed struct {
	Index int64
	*entry.Signed
}

// parseLeaf decodes a stored leaf.
func parseLeaf(data []byte, maxBody int) (*entry.Signed, error) {
	return entry.Parse(data, maxBody)
}

// Entry returns the entry at index.
func (l *Log) Entry(ctx context.Context, index int64) (Indexed, error) {
	var out Indexed
	found := false
	err := l.st.Leaves(ctx, index, index+1, func(lf store.Leaf) error {
		s, err := parseLeaf(lf.Data, 0)
		if err != nil {
			return fmt.Errorf("entry %d: stored leaf: %w", lf.Index, err)
		}
		out, found = Indexed{Index: lf.Index, Signed: s}, true
		return nil
	})
	if err != nil {
		return Indexed{}, err
	}
	if !found {
		return Indexed{}, problem.New(problem.NotFound, fmt.Sprintf("entry %d", index), "no such entry: the record has %d entries", l.Size())
	}
	return out, nil
}

// Entries calls fn for each entry with from <= index < to, in order.
func (l *Log) Entries(ctx context.Context, from, to int64, fn func(Indexed) error) error {
	return l.st.Leaves(ctx, from, to, func(lf store.Leaf) error {
		s, err := parseLeaf(lf.Data, 0)
		if err != nil {
			return fmt.Errorf("entry %d: stored leaf: %w", lf.Index, err)
		}
		return fn(Indexed{Index: lf.Index, Signed: s})
	})
}

// Checkpoints calls fn for every checkpoint issued with from <= size <= to.
func (l *Log) Checkpoints(ctx context.Context, from, to int64, fn func(Checkpoint) error) error {
	return l.st.Checkpoints(ctx, from, to, func(c store.Checkpoint) error {
		cp, err := OpenCheckpoint(c.Note, l.opVerify, l.origin)
		if err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Size, err)
		}
		return fn(cp)
	})
}

// CheckpointAt returns the checkpoint issued at exactly size.
func (l *Log) CheckpointAt(ctx context.Context, size int64) (Checkpoint, error) {
	// The latest was verified (or signed) as it was loaded (or issued).
	if c := l.latest.Load(); c != nil && c.Size == size {
		return *c, nil
	}
	var out *Checkpoint
	err := l.Checkpoints(ctx, size, size, func(c Checkpoint) error { out = &c; return nil })
	if err != nil {
		return Checkpoint{}, err
	}
	if out == nil {
		return Checkpoint{}, problem.New(problem.NotFound, "", "no checkpoint was issued at size %d", size)
	}
	return *out, nil
}

// reader reads stored hashes for proofs and roots, through a tile cache.
func (l *Log) reader(ctx context.Context) tlog.HashReader {
	return l.proofTiles().reader(ctx, storeTiles(l.st))
}

// RootAt returns the tree hash at size, which must not exceed the log's size.
func (l *Log) RootAt(ctx context.Context, size int64) (tlog.Hash, error) {
	if err := l.checkSize(size); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, l.reader(ctx))
}

func (l *Log) checkSize(size int64) error {
	if n := l.Size(); size < 0 || size > n {
		return problem.New(problem.NotFound, "", "tree size %d is beyond the record, which has %d entries", size, n)
	}
	return nil
}
