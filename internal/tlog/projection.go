package tlog

import (
	"context"

	"parley/internal/entry"
	"parley/internal/store"
)

// A Projection keeps state derived from the log in step with it. The
// sequencer folds every new entry into it, in index order, before the entry
// is committed: the projection may refuse the entry (it names something that
// does not exist, or makes a cycle), and the facts it derives are stored in
// the same transaction as the entry, so the two never drift apart.
//
// Fold, Mark, Undo and Commit are called by the sequencer goroutine only.
type Projection interface {
	// Load makes the projection current with the first size entries of st,
	// folding any it has not yet derived facts for. It is called when the
	// log opens and whenever another writer has appended to the store.
	Load(ctx context.Context, st store.Store, size int64) error
	// Fold folds the new entry at index and returns the facts derived from
	// it, or an error refusing it.
	Fold(ctx context.Context, index int64, s *entry.Signed, body entry.Body) (store.Derived, error)
	// Mark returns a point that Undo can return to.
	Mark() int
	// Undo forgets every Fold since mark: the entries were refused, or
	// their commit failed.
	Undo(mark int)
	// Commit says the folds so far are stored: they can no longer be undone.
	Commit()
}
