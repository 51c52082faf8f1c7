package tlog

import (
	"context"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
)

// InclusionProof proves that one entry is leaf Index of the tree of Size
// entries whose root is Root. With Checkpoint, the root is the one the
// operator signed; Leaf lets a checker hash the entry itself.
type InclusionProof struct {
	Index      int64          `json:"index"`
	Size       int64          `json:"size"`
	Leaf       jsontext.Value `json:"leaf"`
	LeafHash   tlog.Hash      `json:"leaf_hash"`
	Root       tlog.Hash      `json:"root"`
	Hashes     []tlog.Hash    `json:"hashes"`
	Checkpoint string         `json:"checkpoint,omitempty"`
	Operator   string         `json:"operator"`
}

// ConsistencyProof proves that the tree of OldSize entries is a prefix of
// the tree of NewSize entries: nothing before OldSize was changed.
type ConsistencyProof struct {
	OldSize       int64       `json:"old_size"`
	NewSize       int64       `json:"new_size"`
	OldRoot       tlog.Hash   `json:"old_root"`
	NewRoot       tlog.Hash   `json:"new_root"`
	Hashes        []tlog.Hash `json:"hashes"`
	OldCheckpoint string      `json:"old_checkpoint,omitempty"`
	NewCheckpoint string      `json:"new_checkpoint,omitempty"`
	Operator      string      `json:"operator"`
}

// checkpointText returns the signed checkpoint at size, or "" if none was
// issued. root is the tree's root at size as the stored tiles give it, which
// the checkpoint must sign: a proof is never served against a root the
// operator did not sign.
func (l *Log) checkpointText(ctx context.Context, size int64, root tlog.Hash) (string, error) {
	c, err := l.CheckpointAt(ctx, size)
	if problem.KindOf(err) == problem.NotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if c.Root != root {
		return "", problem.New(problem.Tampered, "", "the stored tree of size %d has root %s, but its checkpoint signs root %s", size, root, c.Root)
	}
	return string(c.Note), nil
}

// ProveInclusion proves entry index is in the tree of size entries; size 0
// means the latest checkpoint.
func (l *Log) ProveInclusion(ctx context.Context, index, size int64) (InclusionProof, error) {
	if size == 0 {
		size = l.Size()
	}
	if err := l.checkSize(size); err != nil {
		return InclusionProof{}, err
	}
	if index < 0 || index >= size {
		return InclusionProof{}, problem.New(problem.NotFound, "", "entry %d is not in the tree of size %d", index, size)
	}
	e, err := l.Entry(ctx, index)
	if err != nil {
		return InclusionProof{}, err
	}
	r := l.reader(ctx)
	hashes, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("prove entry %d in %d: %w", index, size, err)
	}
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return InclusionProof{}, err
	}
	cp, err := l.checkpointText(ctx, size, root)
	if err != nil {
		return InclusionProof{}, err
	}
	leaf := e.Leaf()
	return InclusionProof{Index: index, Size: size, Leaf: leaf, LeafHash: tlog.RecordHash(leaf),
		Root: root, Hashes: hashes, Checkpoint: cp, Operator: l.opKey}, nil
}

// ProveConsistency proves the tree of oldSize is a prefix of that of newSize.
func (l *Log) ProveConsistency(ctx context.Context, oldSize, newSize int64) (ConsistencyProof, error) {
	if err := l.checkSize(newSize); err != nil {
		return ConsistencyProof{}, err
	}
	if oldSize < 1 || oldSize > newSize {
		return ConsistencyProof{}, problem.New(problem.Invalid, "", "consistency needs 1 <= old size <= new size, not %d and %d", oldSize, newSize)
	}
	r := l.reader(ctx)
	hashes, err := tlog.ProveTree(newSize, oldSize, r)
	if err != nil {
		return ConsistencyProof{}, fmt.Errorf("prove %d consistent with %d: %w", oldSize, newSize, err)
	}
	p := ConsistencyProof{OldSize: oldSize, NewSize: newSize, Hashes: hashes, Operator: l.opKey}
	if p.OldRoot, err = tlog.TreeHash(oldSize, r); err != nil {
		return ConsistencyProof{}, err
	}
	if p.NewRoot, err = tlog.TreeHash(newSize, r); err != nil {
		return ConsistencyProof{}, err
	}
	if p.OldCheckpoint, err = l.checkpointText(ctx, oldSize, p.OldRoot); err != nil {
		return ConsistencyProof{}, err
	}
	if p.NewCheckpoint, err = l.checkpointText(ctx, newSize, p.NewRoot); err != nil {
		return ConsistencyProof{}, err
	}
	return p, nil
}

// Trust says how far a checked proof reaches.
type Trust string

// How far a proof reaches.
const (
	// Signed: the roots are in checkpoints signed by the operator key.
	Signed Trust = "signed"
	// Unsigned: the proof is sound, but no checkpoint vouches for its root.
	Unsigned Trust = "unsigned"
)

// operatorVerifier returns the verifier to check checkpoints with: the
// pinned key, which the key the proof carries must match.
func operatorVerifier(pinned, carried string) (note.Verifier, error) {
	key := carried
	if pinned != "" {
		if carried != "" && carried != pinned {
			return nil, problem.New(problem.Tampered, "", "the proof names operator key %s, not the expected %s", carried, pinned)
		}
		key = pinned
	}
	if key == "" {
		return nil, problem.New(problem.Invalid, "", "no operator key to check the checkpoint with")
	}
	v, err := entry.NewVerifier(key)
	if err != nil {
		return nil, problem.New(problem.Invalid, "", "operator key: %v", err)
	}
	return v, nil
}

// checkSigned checks a signed checkpoint for size and root.
func checkSigned(text string, v note.Verifier, size int64, root tlog.Hash) error {
	c, err := OpenCheckpoint([]byte(text), v, v.Name())
	if err != nil {
		return err
	}
	if c.Size != size || c.Root != root {
		return problem.New(problem.Tampered, "", "the checkpoint is for size %d root %s, not size %d root %s", c.Size, c.Root, size, root)
	}
	return nil
}

// Check verifies an inclusion proof. With operatorKey (the operator's
// verifier key, which the checker must know from elsewhere) it also checks
// the checkpoint and returns Signed; without, the proof only shows the entry
// is in a tree with that root, and Check returns Unsigned: a key the proof
// carries cannot vouch for itself.
func (p *InclusionProof) Check(operatorKey string) (Trust, error) {
	if len(p.Leaf) > 0 {
		// The leaf is canonical JSON; re-indenting the proof must not break it.
		leaf, err := entry.Canonical(p.Leaf)
		if err != nil {
			return "", problem.New(problem.Invalid, "", "the leaf is not JSON: %v", err)
		}
		if tlog.RecordHash(leaf) != p.LeafHash {
			return "", problem.New(problem.Tampered, "", "the leaf does not hash to leaf_hash")
		}
	}
	if err := tlog.CheckRecord(p.Hashes, p.Size, p.Root, p.Index, p.LeafHash); err != nil {
		return "", problem.New(problem.Tampered, "", "entry %d is not proven in the tree of size %d: %v", p.Index, p.Size, err)
	}
	if p.Checkpoint == "" || operatorKey == "" {
		return Unsigned, nil
	}
	v, err := operatorVerifier(operatorKey, p.Operator)
	if err != nil {
		return "", err
	}
	if err := checkSigned(p.Checkpoint, v, p.Size, p.Root); err != nil {
		return "", err
	}
	return Signed, nil
}

// Check verifies a consistency proof; operatorKey works as for
// InclusionProof.Check.
func (p *ConsistencyProof) Check(operatorKey string) (Trust, error) {
	if err := tlog.CheckTree(p.Hashes, p.NewSize, p.NewRoot, p.OldSize, p.OldRoot); err != nil {
		return "", problem.New(problem.Tampered, "", "the tree of size %d is not proven a prefix of the tree of size %d: %v", p.OldSize, p.NewSize, err)
	}
	if p.OldCheckpoint == "" || p.NewCheckpoint == "" || operatorKey == "" {
		return Unsigned, nil
	}
	v, err := operatorVerifier(operatorKey, p.Operator)
	if err != nil {
		return "", err
	}
	if err := checkSigned(p.OldCheckpoint, v, p.OldSize, p.OldRoot); err != nil {
		return "", fmt.Errorf("old checkpoint: %w", err)
	}
	if err := checkSigned(p.NewCheckpoint, v, p.NewSize, p.NewRoot); err != nil {
		return "", fmt.Errorf("new checkpoint: %w", err)
	}
	return Signed, nil
}
