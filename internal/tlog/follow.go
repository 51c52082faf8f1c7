package tlog

import (
	"context"
	"fmt"

	"parley/internal/store"
)

// turn takes the shared store's turn to append, with the log's state made
// current first: most of what other processes appended is read before the
// turn, the rest (appended while this one waited) within it.
func (l *Log) turn(ctx context.Context) (store.Turn, error) {
	if err := l.catchUp(ctx); err != nil {
		return nil, err
	}
	t, err := l.shared.Turn(ctx)
	if err != nil {
		return nil, err
	}
	err = l.catchUpTo(ctx, t.Size())
	if err == nil && l.proj != nil && l.projAt != l.size {
		// Another process appended since the projection was current:
		// what it caches may be stale, so it starts again from the facts.
		if err = l.proj.Load(ctx, l.st, l.size); err == nil {
			l.projAt = l.size
		}
	}
	if err != nil {
		t.End()
		return nil, err
	}
	return t, nil
}

// Following returns the error of the last attempt to follow what other
// processes append to a shared store, or nil if it succeeded (or the store
// is not shared). While it fails, the log's size stays behind the store's.
func (l *Log) Following() error {
	if p := l.following.Load(); p != nil {
		return *p
	}
	return nil
}

// catchUp makes the log current with what other processes have appended.
// It is called by the sequencer goroutine only.
func (l *Log) catchUp(ctx context.Context) error {
	size, err := l.st.Size(ctx)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	return l.catchUpTo(ctx, size)
}

// catchUpTo reads the entries from the log's size up to size, appended by
// other processes: it registers and revokes their keys, and takes the
// checkpoint at size as the latest. The right edge of the tree it kept is
// stale, so it is read again when next needed. The projection is not
// touched here: turn makes it current when this process next appends.
func (l *Log) catchUpTo(ctx context.Context, size int64) error {
	switch {
	case size == l.size:
		return nil
	case size < l.size:
		return fmt.Errorf("follow: the store holds %d entries, fewer than the %d this log has seen: it is not the same record", size, l.size)
	}
	kr := l.keys.Load().clone()
	err := l.st.Leaves(ctx, l.size, size, func(lf store.Leaf) error {
		if lf.Type != KeyRegister && lf.Type != KeyRevoke {
			return nil
		}
		return l.applyKey(kr, lf)
	})
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	var cp *Checkpoint
	err = l.st.Checkpoints(ctx, size, size, func(c store.Checkpoint) error {
		got, err := OpenCheckpoint(c.Note, l.opVerify, l.origin)
		if err != nil {
			return fmt.Errorf("checkpoint at %d: %w", c.Size, err)
		}
		cp = &got
		return nil
	})
	if err == nil && cp == nil {
		err = fmt.Errorf("no checkpoint at size %d", size)
	}
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	l.keys.Store(kr)
	l.size = size
	clear(l.tiles)
	l.latest.Store(cp)
	l.signalGrowth()
	return nil
}
