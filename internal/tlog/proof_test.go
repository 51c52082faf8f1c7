package tlog_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	ptlog "parley/internal/tlog"
)

// proofCheckpointSizes are the sizes at which proofRecord commits, so the
// sizes with a signed checkpoint; the others have none. They cross the
// 256-leaf tile boundary.
var proofCheckpointSizes = []int64{1, 2, 3, 4, 5, 7, 10, 11, 19, 23, 24, 40, 41, 64, 65, 128, 200, 255, 256, 257, 300}

// proofRecord builds a record of 300 entries committed at
// proofCheckpointSizes, and returns it with its leaves.
func proofRecord(t testing.TB) (*testRecord, [][]byte) {
	t.Helper()
	r := newRecord(t, "talks.example/proofs")
	a := newKey(t, "envoy")
	r.register(a)
	for i, size := range proofCheckpointSizes[2:] {
		var ss []*entry.Signed
		for j := r.log.Size(); j < size; j++ {
			ss = append(ss, sign(t, noteEntry(fmt.Sprintf("commit %d, entry %d", i, j)), a))
		}
		r.appendOK(ss...)
	}
	var sizes []int64
	for _, c := range r.checkpoints() {
		sizes = append(sizes, c.Size)
	}
	if !slices.Equal(sizes, proofCheckpointSizes) {
		t.Fatalf("proof record has checkpoints at %v, want %v", sizes, proofCheckpointSizes)
	}
	return r, r.leaves()
}

func hasCheckpoint(size int64) bool { return slices.Contains(proofCheckpointSizes, size) }

func TestProveInclusion(t *testing.T) {
	ctx := context.Background()
	r, leaves := proofRecord(t)
	n := int64(len(leaves))
	sizes := []int64{40, 41, 63, 64, 65, 100, 128, 200, 254, 255, 256, 257, 258, 299, 300}
	for s := int64(1); s <= 24; s++ {
		sizes = append(sizes, s)
	}
	proofs := 0
	for _, size := range sizes {
		var indexes []int64
		if size <= 24 {
			for i := range size {
				indexes = append(indexes, i)
			}
		} else {
			indexes = []int64{0, 1, size / 3, size / 2, size - 2, size - 1}
			for _, i := range []int64{127, 128, 255, 256} {
				if i < size {
					indexes = append(indexes, i)
				}
			}
		}
		root := merkleRoot(leaves[:size])
		for _, i := range indexes {
			p, err := r.log.ProveInclusion(ctx, i, size)
			if err != nil {
				t.Fatalf("ProveInclusion(%d, %d): %v", i, size, err)
			}
			proofs++
			where := fmt.Sprintf("entry %d in %d", i, size)
			if p.Index != i || p.Size != size || p.Root != root || !bytes.Equal(p.Leaf, leaves[i]) || p.LeafHash != leafHashOf(leaves[i]) {
				t.Errorf("%s: proof of entry %d in %d, root %s, want root %s and the entry's leaf", where, p.Index, p.Size, p.Root, root)
			}
			if p.Operator != r.op.vkey {
				t.Errorf("%s: proof names operator %q", where, p.Operator)
			}
			want := ptlog.Unsigned
			if hasCheckpoint(size) {
				want = ptlog.Signed
			}
			if (p.Checkpoint != "") != hasCheckpoint(size) {
				t.Errorf("%s: checkpoint %q, but one was issued at %d: %v", where, p.Checkpoint, size, hasCheckpoint(size))
			}
			trust, err := p.Check(r.op.vkey)
			if err != nil || trust != want {
				t.Errorf("%s: Check = %q, %v; want %q", where, trust, err, want)
			}
		}
	}
	// Size 0 means the latest checkpoint.
	p, err := r.log.ProveInclusion(ctx, 7, 0)
	if err != nil || p.Size != n || p.Root != merkleRoot(leaves) {
		t.Errorf("ProveInclusion(7, 0): size %d, %v; want the latest, %d", p.Size, err, n)
	}
	t.Logf("%d inclusion proofs", proofs)
}

func TestProveConsistency(t *testing.T) {
	ctx := context.Background()
	r, leaves := proofRecord(t)
	type pair struct{ a, b int64 }
	var pairs []pair
	for b := int64(1); b <= 20; b++ {
		for a := int64(1); a <= b; a++ {
			pairs = append(pairs, pair{a, b})
		}
	}
	edges := []int64{1, 2, 7, 63, 64, 65, 127, 128, 129, 255, 256, 257, 299, 300}
	for j, b := range edges {
		for _, a := range edges[:j+1] {
			if b > 20 {
				pairs = append(pairs, pair{a, b})
			}
		}
	}
	for _, pr := range pairs {
		p, err := r.log.ProveConsistency(ctx, pr.a, pr.b)
		if err != nil {
			t.Fatalf("ProveConsistency(%d, %d): %v", pr.a, pr.b, err)
		}
		if p.OldSize != pr.a || p.NewSize != pr.b || p.OldRoot != merkleRoot(leaves[:pr.a]) || p.NewRoot != merkleRoot(leaves[:pr.b]) {
			t.Errorf("ProveConsistency(%d, %d) is for %d→%d with roots %s→%s", pr.a, pr.b, p.OldSize, p.NewSize, p.OldRoot, p.NewRoot)
		}
		want := ptlog.Unsigned
		if hasCheckpoint(pr.a) && hasCheckpoint(pr.b) {
			want = ptlog.Signed
		}
		if trust, err := p.Check(r.op.vkey); err != nil || trust != want {
			t.Errorf("%d→%d: Check = %q, %v; want %q", pr.a, pr.b, trust, err, want)
		}
	}
	t.Logf("%d consistency proofs", len(pairs))
}

// TestProofJSON checks that proofs survive JSON both compact and indented,
// with the field names the API documents.
func TestProofJSON(t *testing.T) {
	ctx := context.Background()
	r, _ := proofRecord(t)
	ip, err := r.log.ProveInclusion(ctx, 9, 24)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := r.log.ProveConsistency(ctx, 11, 24)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		proof  any
		fields []string
		check  func([]byte) (ptlog.Trust, error)
	}{
		{"inclusion", ip, []string{"index", "size", "leaf", "leaf_hash", "root", "hashes", "checkpoint", "operator"}, func(b []byte) (ptlog.Trust, error) {
			var p ptlog.InclusionProof
			if err := json.Unmarshal(b, &p); err != nil {
				return "", err
			}
			return p.Check(r.op.vkey)
		}},
		{"consistency", cp, []string{"old_size", "new_size", "old_root", "new_root", "hashes", "old_checkpoint", "new_checkpoint", "operator"}, func(b []byte) (ptlog.Trust, error) {
			var p ptlog.ConsistencyProof
			if err := json.Unmarshal(b, &p); err != nil {
				return "", err
			}
			return p.Check(r.op.vkey)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.proof)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.fields {
				if _, ok := m[f]; !ok {
					t.Errorf("JSON has no %q: %s", f, b)
				}
			}
			if len(m) != len(tc.fields) {
				t.Errorf("JSON has %d fields, want %d: %s", len(m), len(tc.fields), b)
			}
			indented := jsontext.Value(bytes.Clone(b))
			if err := indented.Indent(); err != nil {
				t.Fatal(err)
			}
			for _, enc := range [][]byte{b, indented} {
				if trust, err := tc.check(enc); err != nil || trust != ptlog.Signed {
					t.Errorf("after a JSON round trip: %q, %v", trust, err)
				}
			}
		})
	}
}

// TestCheckPinnedKey checks how far Check trusts a proof depending on the
// operator key the caller pins.
func TestCheckPinnedKey(t *testing.T) {
	ctx := context.Background()
	r, _ := proofRecord(t)
	other := newKey(t, r.origin)
	ip, err := r.log.ProveInclusion(ctx, 9, 24)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := r.log.ProveConsistency(ctx, 11, 24)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pin  string
		want ptlog.Trust
		kind problem.Kind
	}{
		{"the operator's key", r.op.vkey, ptlog.Signed, ""},
		{"another key of the same name", other.vkey, "", problem.Tampered},
		{"a malformed key", "talks.example/proofs+00000000+AAAA", "", problem.Tampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []struct {
				what  string
				check func(string) (ptlog.Trust, error)
			}{{"inclusion", ip.Check}, {"consistency", cp.Check}} {
				trust, err := c.check(tc.pin)
				if tc.kind != "" {
					if trust != "" {
						t.Errorf("%s: trust %q with an error expected", c.what, trust)
					}
					wantProblem(t, err, tc.kind)
					continue
				}
				if err != nil || trust != tc.want {
					t.Errorf("%s: Check = %q, %v; want %q", c.what, trust, err, tc.want)
				}
			}
		})
	}
	// With the operator field emptied, the pinned key alone checks it.
	ip2 := ip
	ip2.Operator = ""
	if trust, err := ip2.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
		t.Errorf("a proof with no operator field, key pinned: %q, %v", trust, err)
	}
	if trust, err := ip2.Check(""); err != nil || trust != ptlog.Unsigned {
		t.Errorf("a proof with a checkpoint but no operator key at all: %q, %v; want unsigned (only the tree is checked)", trust, err)
	}
}

// TestCheckUnpinnedIsNotSigned: with no operator key pinned, Check has
// only the key the proof itself carries, which anyone can choose; a proof
// checked that way must not be reported as Signed, or a proof minted by an
// impostor operator passes as signed.
func TestCheckUnpinnedIsNotSigned(t *testing.T) {
	ctx := context.Background()
	r, _ := proofRecord(t)
	impostor := newRecord(t, r.origin) // same origin, another operator
	impostor.notes(impostor.op, "a rewritten history", 5)

	genuine, err := r.log.ProveInclusion(ctx, 3, 24)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := impostor.log.ProveInclusion(ctx, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forged.Check(r.op.vkey); err == nil {
		t.Errorf("the impostor's proof passed with the real operator pinned")
	}
	for _, tc := range []struct {
		name string
		p    ptlog.InclusionProof
	}{{"genuine proof", genuine}, {"impostor's proof", forged}} {
		trust, err := tc.p.Check("")
		if err != nil {
			t.Errorf("%s, no key pinned: %v", tc.name, err)
			continue
		}
		if trust != ptlog.Unsigned {
			t.Errorf("%s checked with no operator key pinned: trust %q, want %q. InclusionProof.Check and ConsistencyProof.Check (proof.go) "+
				"fall back to the operator key the proof carries (operatorVerifier), so any key vouches for itself; "+
				"with operatorKey == \"\" they should return Unsigned (after checking the tree)", tc.name, trust, ptlog.Unsigned)
		}
	}
	cp, err := impostor.log.ProveConsistency(ctx, 2, impostor.log.Size())
	if err != nil {
		t.Fatal(err)
	}
	if trust, err := cp.Check(""); err != nil || trust != ptlog.Unsigned {
		t.Errorf("impostor's consistency proof checked with no operator key pinned: %q, %v; want %q", trust, err, ptlog.Unsigned)
	}
}

func TestInclusionProofTampered(t *testing.T) {
	ctx := context.Background()
	r, leaves := proofRecord(t)
	impostor := newRecord(t, r.origin)
	impostor.notes(impostor.op, "rewritten", 30)
	good, err := r.log.ProveInclusion(ctx, 5, 24)
	if err != nil {
		t.Fatal(err)
	}
	if len(good.Hashes) < 3 {
		t.Fatalf("proof has %d hashes; the test wants at least 3", len(good.Hashes))
	}
	at23, err := r.log.CheckpointAt(ctx, 23)
	if err != nil {
		t.Fatal(err)
	}
	fake, err := impostor.log.CheckpointAt(ctx, 24)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tamper func(p *ptlog.InclusionProof)
		kind   problem.Kind
		msg    string
	}{
		{"a flipped hash", func(p *ptlog.InclusionProof) { p.Hashes[1][7] ^= 1 }, problem.Tampered, "not proven"},
		{"a hash missing", func(p *ptlog.InclusionProof) { p.Hashes = p.Hashes[:len(p.Hashes)-1] }, problem.Tampered, "not proven"},
		{"a hash too many", func(p *ptlog.InclusionProof) { p.Hashes = append(p.Hashes, p.Hashes[0]) }, problem.Tampered, "not proven"},
		{"hashes reordered", func(p *ptlog.InclusionProof) { p.Hashes[0], p.Hashes[1] = p.Hashes[1], p.Hashes[0] }, problem.Tampered, "not proven"},
		{"no hashes", func(p *ptlog.InclusionProof) { p.Hashes = nil }, problem.Tampered, "not proven"},
		{"another entry's leaf", func(p *ptlog.InclusionProof) { p.Leaf = leaves[6] }, problem.Tampered, "does not hash"},
		{"another entry's leaf and leaf hash", func(p *ptlog.InclusionProof) { p.Leaf, p.LeafHash = leaves[6], leafHashOf(leaves[6]) }, problem.Tampered, "not proven"},
		{"a leaf edited", func(p *ptlog.InclusionProof) {
			p.Leaf = bytes.Replace(bytes.Clone(p.Leaf), []byte("entry 5"), []byte("entry 6"), 1)
		}, problem.Tampered, "does not hash"},
		{"a leaf that is not JSON", func(p *ptlog.InclusionProof) { p.Leaf = []byte(`{"entry":`) }, problem.Invalid, "not JSON"},
		{"the leaf hash alone changed", func(p *ptlog.InclusionProof) { p.Leaf = nil; p.LeafHash[0] ^= 1 }, problem.Tampered, "not proven"},
		{"the next index", func(p *ptlog.InclusionProof) { p.Index++ }, problem.Tampered, "not proven"},
		{"a negative index", func(p *ptlog.InclusionProof) { p.Index = -1 }, problem.Tampered, "not proven"},
		{"an index beyond the size", func(p *ptlog.InclusionProof) { p.Index = p.Size }, problem.Tampered, "not proven"},
		// The hashes prove entry 5 in any size from 17 to 32 with that root:
		// only the signed checkpoint binds the size.
		{"a larger size", func(p *ptlog.InclusionProof) { p.Size++ }, problem.Tampered, "the checkpoint is for size 24"},
		{"a much larger size", func(p *ptlog.InclusionProof) { p.Size = 40 }, problem.Tampered, "not proven"},
		{"size zero", func(p *ptlog.InclusionProof) { p.Size = 0 }, problem.Tampered, "not proven"},
		{"a flipped root", func(p *ptlog.InclusionProof) { p.Root[31] ^= 0x80 }, problem.Tampered, "not proven"},
		{"size and root of another checkpoint", func(p *ptlog.InclusionProof) {
			p.Size, p.Root, p.Checkpoint = at23.Size, at23.Root, string(at23.Note)
		}, problem.Tampered, "not proven"},
		{"the checkpoint of another size", func(p *ptlog.InclusionProof) { p.Checkpoint = string(at23.Note) }, problem.Tampered, "the checkpoint is for size 23"},
		{"a checkpoint from another operator", func(p *ptlog.InclusionProof) { p.Checkpoint = string(fake.Note) }, problem.Tampered, "checkpoint signature"},
		{"checkpoint and operator key from another operator", func(p *ptlog.InclusionProof) {
			p.Checkpoint, p.Operator = string(fake.Note), impostor.op.vkey
		}, problem.Tampered, "not the expected"},
		{"a checkpoint edited", func(p *ptlog.InclusionProof) {
			p.Checkpoint = strings.Replace(p.Checkpoint, "\n24\n", "\n25\n", 1)
		}, problem.Tampered, "checkpoint signature"},
		{"a checkpoint with a second signature", func(p *ptlog.InclusionProof) {
			lines := strings.SplitAfter(string(fake.Note), "\n")
			p.Checkpoint += lines[len(lines)-2]
		}, problem.Tampered, "exactly one signature"},
		{"a checkpoint cut short", func(p *ptlog.InclusionProof) { p.Checkpoint = p.Checkpoint[:len(p.Checkpoint)-10] }, problem.Tampered, "checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			p.Hashes = slices.Clone(good.Hashes)
			p.Leaf = bytes.Clone(good.Leaf)
			tc.tamper(&p)
			trust, err := p.Check(r.op.vkey)
			if trust != "" {
				t.Errorf("tampered proof got trust %q", trust)
			}
			wantProblem(t, err, tc.kind, tc.msg)
		})
	}
	if trust, err := good.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
		t.Fatalf("the tampering reached the good proof: %q, %v", trust, err)
	}
}

func TestConsistencyProofTampered(t *testing.T) {
	ctx := context.Background()
	r, _ := proofRecord(t)
	impostor := newRecord(t, r.origin)
	impostor.notes(impostor.op, "rewritten", 30)
	good, err := r.log.ProveConsistency(ctx, 11, 24)
	if err != nil {
		t.Fatal(err)
	}
	if len(good.Hashes) < 3 {
		t.Fatalf("proof has %d hashes; the test wants at least 3", len(good.Hashes))
	}
	fake11, _ := impostor.log.CheckpointAt(ctx, 11)
	fake24, _ := impostor.log.CheckpointAt(ctx, 24)
	at23, _ := r.log.CheckpointAt(ctx, 23)
	for _, tc := range []struct {
		name   string
		tamper func(p *ptlog.ConsistencyProof)
		kind   problem.Kind
		msg    string
	}{
		{"a flipped hash", func(p *ptlog.ConsistencyProof) { p.Hashes[0][0] ^= 1 }, problem.Tampered, "not proven a prefix"},
		{"a hash missing", func(p *ptlog.ConsistencyProof) { p.Hashes = p.Hashes[1:] }, problem.Tampered, "not proven a prefix"},
		{"a hash too many", func(p *ptlog.ConsistencyProof) { p.Hashes = append(p.Hashes, p.Hashes[0]) }, problem.Tampered, "not proven a prefix"},
		{"a larger old size", func(p *ptlog.ConsistencyProof) { p.OldSize++ }, problem.Tampered, "not proven a prefix"},
		{"a smaller new size", func(p *ptlog.ConsistencyProof) { p.NewSize-- }, problem.Tampered, "checkpoint is for size 24"},
		{"a much smaller new size", func(p *ptlog.ConsistencyProof) { p.NewSize = 16 }, problem.Tampered, "not proven a prefix"},
		{"old size zero", func(p *ptlog.ConsistencyProof) { p.OldSize = 0 }, problem.Tampered, "not proven a prefix"},
		{"old size above new", func(p *ptlog.ConsistencyProof) { p.OldSize = p.NewSize + 1 }, problem.Tampered, "not proven a prefix"},
		{"a flipped old root", func(p *ptlog.ConsistencyProof) { p.OldRoot[3] ^= 4 }, problem.Tampered, "not proven a prefix"},
		{"a flipped new root", func(p *ptlog.ConsistencyProof) { p.NewRoot[3] ^= 4 }, problem.Tampered, "not proven a prefix"},
		{"checkpoints swapped", func(p *ptlog.ConsistencyProof) {
			p.OldCheckpoint, p.NewCheckpoint = p.NewCheckpoint, p.OldCheckpoint
		}, problem.Tampered, "old checkpoint"},
		{"a new checkpoint of another size", func(p *ptlog.ConsistencyProof) { p.NewCheckpoint = string(at23.Note) }, problem.Tampered, "new checkpoint"},
		{"checkpoints from another operator", func(p *ptlog.ConsistencyProof) {
			p.OldCheckpoint, p.NewCheckpoint = string(fake11.Note), string(fake24.Note)
		}, problem.Tampered, "checkpoint signature"},
		{"checkpoints and key from another operator", func(p *ptlog.ConsistencyProof) {
			p.OldCheckpoint, p.NewCheckpoint, p.Operator = string(fake11.Note), string(fake24.Note), impostor.op.vkey
		}, problem.Tampered, "not the expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			p.Hashes = slices.Clone(good.Hashes)
			tc.tamper(&p)
			trust, err := p.Check(r.op.vkey)
			if trust != "" {
				t.Errorf("tampered proof got trust %q", trust)
			}
			wantProblem(t, err, tc.kind, tc.msg)
		})
	}
	// A proof between two sizes of the impostor's record, whose roots differ
	// from the real ones, does not pass for the real record.
	fp, err := impostor.log.ProveConsistency(ctx, 11, 24)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fp.Check(r.op.vkey); err == nil {
		t.Errorf("the impostor's consistency proof passed with the real operator pinned")
	}
}

// TestProveOutOfRange checks the refusals for entries and sizes the record
// does not have: NotFound for what lies beyond the record, Invalid for a
// consistency request that makes no sense at any size.
func TestProveOutOfRange(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/range")
	r.notes(r.op, "entry", 9)
	n := r.log.Size() // 10
	for _, tc := range []struct {
		name string
		call func() error
		kind problem.Kind
	}{
		{"inclusion of a negative index", func() error { _, err := r.log.ProveInclusion(ctx, -1, 0); return err }, problem.NotFound},
		{"inclusion of the next index", func() error { _, err := r.log.ProveInclusion(ctx, n, 0); return err }, problem.NotFound},
		{"inclusion of an index at the size asked", func() error { _, err := r.log.ProveInclusion(ctx, 5, 5); return err }, problem.NotFound},
		{"inclusion in a size beyond the record", func() error { _, err := r.log.ProveInclusion(ctx, 0, n+1); return err }, problem.NotFound},
		{"inclusion in a negative size", func() error { _, err := r.log.ProveInclusion(ctx, 0, -1); return err }, problem.NotFound},
		{"consistency from size 0", func() error { _, err := r.log.ProveConsistency(ctx, 0, n); return err }, problem.Invalid},
		{"consistency from a negative size", func() error { _, err := r.log.ProveConsistency(ctx, -1, n); return err }, problem.Invalid},
		{"consistency backwards", func() error { _, err := r.log.ProveConsistency(ctx, 6, 5); return err }, problem.Invalid},
		{"consistency to a size beyond the record", func() error { _, err := r.log.ProveConsistency(ctx, 1, n+1); return err }, problem.NotFound},
		{"consistency to a negative size", func() error { _, err := r.log.ProveConsistency(ctx, 1, -1); return err }, problem.NotFound},
		{"root beyond the record", func() error { _, err := r.log.RootAt(ctx, n+1); return err }, problem.NotFound},
		{"root of a negative size", func() error { _, err := r.log.RootAt(ctx, -1); return err }, problem.NotFound},
		{"entry beyond the record", func() error { _, err := r.log.Entry(ctx, n); return err }, problem.NotFound},
		{"negative entry", func() error { _, err := r.log.Entry(ctx, -1); return err }, problem.NotFound},
		{"checkpoint never issued", func() error { _, err := r.log.CheckpointAt(ctx, n+1); return err }, problem.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, tc.call(), tc.kind)
		})
	}
	// At the edges, the same calls succeed.
	if _, err := r.log.ProveInclusion(ctx, n-1, n); err != nil {
		t.Errorf("inclusion of the last entry: %v", err)
	}
	if p, err := r.log.ProveConsistency(ctx, n, n); err != nil || len(p.Hashes) != 0 || p.OldRoot != p.NewRoot {
		t.Errorf("consistency of a size with itself: %+v, %v", p, err)
	} else if trust, err := p.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
		t.Errorf("consistency of a size with itself: %q, %v", trust, err)
	}
	if root, err := r.log.RootAt(ctx, 0); err != nil || root != (tlog.Hash{}) && root != merkleRoot(nil) {
		t.Errorf("RootAt(0) = %s, %v", root, err)
	}
}
