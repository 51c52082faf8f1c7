package store

import "context"

// Shared is implemented by a store that several processes append to at once
// (PostgreSQL, behind several servers). Appends take turns: while one
// process holds the turn, no other appends, so every entry gets one index
// and the tree has one history. A process that dies holding the turn loses
// it with its connection, and the next process waiting takes it.
type Shared interface {
	// Turn waits for this process's turn to append and returns it. The
	// turn is held until its Append or End.
	Turn(ctx context.Context) (Turn, error)
	// Changes returns a channel that receives whenever the log may have
	// grown by another process's append (and now and then besides, so
	// that a lost notice delays a follower, never strands it). It is
	// closed when ctx ends.
	Changes(ctx context.Context) <-chan struct{}
}

// A Turn is the right to append one batch. It is not safe for concurrent
// use.
type Turn interface {
	// Size is the log's size when the turn began; it cannot change until
	// the turn ends.
	Size() int64
	// Append commits b, which must start at Size, as Store.Append does, and
	// ends the turn.
	Append(ctx context.Context, b Batch) error
	// End ends the turn without appending. It does nothing after Append.
	End()
}
