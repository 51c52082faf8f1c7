// Package store defines what parley needs from a database: an append-only
// sequence of leaves, the Merkle tree's tiles, and the signed checkpoints; and,
// for a server, its accounts, sessions and API tokens.
//
// A store knows nothing of entries, signatures or the negotiation: it persists
// bytes that the log core (package tlog) has already checked and hashed. Each
// driver (store/sqlite, and later PostgreSQL) passes the conformance suite in
// store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a leaf, tile, checkpoint, account, session or
// token does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Append when the batch does not start at the
// store's current size (another writer appended first), and when creating an
// account, session or token whose name, hash or id is already stored.
var ErrConflict = errors.New("conflict")

// A Leaf is one entry as stored: its position in the log, the hash that
// identifies it (for idempotent appends), its type (so that the log core can
// find its keys), and the exact bytes the Merkle tree commits to.
type Leaf struct {
	Index int64
	Hash  [32]byte
	Type  string
	Data  []byte
}

// A Tile is a tlog tile of height 8: up to 256 consecutive hashes at one
// level of the tree. A tile is stored at its largest width so far; it only
// ever grows.
type Tile struct {
	Level int
	Index int64
	Width int
	Data  []byte
}

// A Checkpoint is a signed note committing to the tree at Size. Every
// checkpoint ever issued is kept.
type Checkpoint struct {
	Size int64
	Time time.Time
	Note []byte
}

// A Batch is what one commit appends: leaves starting at index Start, the
// tiles that changed, and the checkpoint for the new size. It is applied
// atomically and durably, or not at all.
type Batch struct {
	Start      int64
	Leaves     []Leaf
	Tiles      []Tile
	Checkpoint Checkpoint
	// Derived holds the facts folded from Leaves, if the log keeps
	// projections; they are stored with the leaves, and Projected advances
	// with the log. Nil leaves the facts behind, to be caught up later.
	Derived *Derived
}

// Store is the storage a record needs. All methods are safe for concurrent use.
type Store interface {
	// Size returns the number of leaves.
	Size(ctx context.Context) (int64, error)
	// Append commits b durably, all or nothing. It returns ErrConflict, and
	// changes nothing, if b.Start is not the current size; it fails, and
	// changes nothing, if a leaf's hash is already stored (the log relies on
	// this to find resubmitted entries without looking each one up).
	Append(ctx context.Context, b Batch) error
	// Leaves calls fn for each leaf with from <= index < to, in order,
	// stopping at the first error fn returns.
	Leaves(ctx context.Context, from, to int64, fn func(Leaf) error) error
	// LeavesOfType calls fn, in index order, for each leaf whose type is one
	// of types.
	LeavesOfType(ctx context.Context, types []string, fn func(Leaf) error) error
	// FindLeaf returns the index of the leaf with the given hash.
	FindLeaf(ctx context.Context, hash [32]byte) (int64, error)
	// Tile returns the stored data of the tile at (level, index), at its
	// widest stored width.
	Tile(ctx context.Context, level int, index int64) ([]byte, error)
	// Checkpoints calls fn for every checkpoint with from <= size <= to,
	// by increasing size.
	Checkpoints(ctx context.Context, from, to int64, fn func(Checkpoint) error) error
	// LatestCheckpoint returns the checkpoint of the largest size.
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// Meta returns a record-wide setting, such as its origin.
	Meta(ctx context.Context, key string) (string, error)
	// SetMeta stores a record-wide setting.
	SetMeta(ctx context.Context, key, value string) error
	// Close releases the store.
	Close() error
	Projector
	Accounts
	Channels
}
