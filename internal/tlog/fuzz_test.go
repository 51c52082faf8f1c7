package tlog_test

import (
	"bytes"
	"context"
	"errors"
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

// FuzzVerifyBundle feeds Verify arbitrary bundles. Verify must not panic;
// a refusal must be a *problem.Error that names an entry or a line; and a
// bundle it accepts must mean what it says: its root is the RFC 6962 root
// of its entry lines, recomputed here, and imported into a store it
// exports back to the same bytes.
func FuzzVerifyBundle(f *testing.F) {
	r, authors := goldenRecord(f)
	good := r.export()
	lines := bundleLines(good)
	seeds := [][]byte{
		good,
		good[:len(good)-1], // no final newline: the same bundle
		good[:len(good)/2],
		joinLines(lines[:11]),
		joinLines(lines[:1]),
		joinLines(slices.Concat(lines[:3], lines[4:])),
		joinLines(slices.Concat(lines[:3], lines[4:5], lines[3:4], lines[5:])),
		append(bytes.Clone(good), "garbage\n"...),
		[]byte(strings.Replace(string(good), `"index":4`, `"index": 4`, 1)),
		[]byte(strings.Replace(string(good), `"version":1`, `"version":2`, 1)),
		[]byte(strings.ReplaceAll(string(good), "\n", "\r\n")),
		nil,
		[]byte("{}\n"),
	}
	for _, pos := range []int{10, 200, len(good) / 3, len(good) - 100} {
		m := bytes.Clone(good)
		m[pos] ^= 0x01
		seeds = append(seeds, m)
	}
	// A bundle whose tree and signatures are real but one entry is by a key
	// revoked before it.
	var ss []*entry.Signed
	r.log.Entries(context.Background(), 0, r.log.Size(), func(e ptlog.Indexed) error { ss = append(ss, e.Signed); return nil })
	ss = append(ss, sign(f, noteEntry("after the revocation"), authors[1]))
	seeds = append(seeds, forgeBundle(f, r.op, ss, int64(len(ss))))
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		sum, err := verifyBundle(data, ptlog.VerifyOptions{})
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) || p.Kind == problem.Internal || !(strings.Contains(p.Where, "entry ") || strings.Contains(p.Where, "line ")) {
				t.Fatalf("Verify refused with %T %q (kind %s): want a *problem.Error naming an entry or line", err, err, problem.KindOf(err))
			}
			return
		}
		pb, err := parseBundle(data)
		if err != nil {
			t.Fatalf("Verify accepted a bundle this test cannot parse: %v", err)
		}
		if int64(len(pb.leaves)) != sum.Entries {
			t.Fatalf("Verify counted %d entries; the bundle has %d entry lines", sum.Entries, len(pb.leaves))
		}
		for i, idx := range pb.indexes {
			if idx != int64(i) {
				t.Fatalf("Verify accepted entry line %d holding index %d", i, idx)
			}
		}
		if root := merkleRoot(pb.leaves); root != sum.Root {
			t.Fatalf("Verify's root %s is not the root of the entry lines, %s", sum.Root, root)
		}
		if sum.Origin != pb.header.Origin || sum.Operator != pb.header.Operator || sum.Checkpoints != len(pb.checkpoints) {
			t.Fatalf("summary %+v does not match the bundle's header %+v and %d checkpoints", sum, pb.header, len(pb.checkpoints))
		}
		l, _, isum, err := importBundle(t, data)
		if err != nil {
			t.Fatalf("Verify accepted the bundle but the import of it fails: %v", err)
		}
		if isum != sum {
			t.Fatalf("import summary %+v, verify summary %+v", isum, sum)
		}
		want := data
		if !bytes.HasSuffix(want, []byte("\n")) {
			want = append(bytes.Clone(want), '\n')
		}
		if got := exportLog(t, l); !bytes.Equal(got, want) {
			t.Fatalf("the bundle, imported and exported again, changed:\n got %q\nwant %q", got, want)
		}
	})
}

// proofTruth is what a small record really holds, to judge proofs against.
type proofTruth struct {
	op     testKey
	leaves [][]byte
	roots  map[int64]tlog.Hash // by size, for every size
	signed map[int64]bool      // sizes with a checkpoint
}

// proofFuzzRecord builds a record of 12 entries with checkpoints at sizes 1,
// 2, 3, 5, 8 and 12 only. Its key and clock are seeded, so that every fuzz
// worker process builds the same record the seed corpus was taken from.
func proofFuzzRecord(f *testing.F) (*testRecord, proofTruth) {
	r := newRecordWith(f, keyFrom(f, seededReader(12), "talks.example/fuzz"))
	for i, n := range []int{1, 1, 2, 3, 4} {
		var ss []*entry.Signed
		for j := range n {
			ss = append(ss, sign(f, noteEntry(fmt.Sprintf("commit %d entry %d", i, j)), r.op))
		}
		r.appendOK(ss...)
	}
	tr := proofTruth{op: r.op, leaves: r.leaves(), roots: map[int64]tlog.Hash{}, signed: map[int64]bool{}}
	for n := int64(1); n <= int64(len(tr.leaves)); n++ {
		tr.roots[n] = merkleRoot(tr.leaves[:n])
	}
	for _, c := range r.checkpoints() {
		tr.signed[c.Size] = true
	}
	if len(tr.leaves) != 12 || len(tr.signed) != 6 {
		f.Fatalf("fuzz record has %d entries and %d checkpoints", len(tr.leaves), len(tr.signed))
	}
	return r, tr
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indented(t testing.TB, b []byte) []byte {
	t.Helper()
	v := jsontext.Value(bytes.Clone(b))
	if err := v.Indent(); err != nil {
		t.Fatal(err)
	}
	return v
}

// FuzzInclusionProofCheck decodes arbitrary JSON as an inclusion proof and
// checks it, with the operator's key pinned and with none. Check must not
// panic, and may say Signed only for a proof that is true of the record:
// the entry's real leaf at its real index, in a size the operator signed,
// under that size's real root.
func FuzzInclusionProofCheck(f *testing.F) {
	ctx := context.Background()
	r, tr := proofFuzzRecord(f)
	for _, c := range [][2]int64{{0, 1}, {3, 5}, {6, 12}, {11, 12}, {2, 4}, {9, 10}} {
		p, err := r.log.ProveInclusion(ctx, c[0], c[1])
		if err != nil {
			f.Fatal(err)
		}
		b := mustJSON(f, p)
		f.Add(b)
		f.Add(indented(f, b))
		p.Index++
		f.Add(mustJSON(f, p))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"index":0,"size":1,"leaf_hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashes":[]}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var p ptlog.InclusionProof
		if json.Unmarshal(data, &p) != nil {
			return
		}
		for _, pin := range []string{tr.op.vkey, ""} {
			q := p
			q.Hashes = slices.Clone(p.Hashes)
			trust, err := q.Check(pin)
			switch {
			case err != nil && trust != "":
				t.Fatalf("Check(%q) gave trust %q with error %v", pin, trust, err)
			case err != nil:
				continue
			case trust != ptlog.Signed && trust != ptlog.Unsigned:
				t.Fatalf("Check(%q) gave trust %q", pin, trust)
			case trust == ptlog.Unsigned:
				if p.Checkpoint != "" && pin != "" {
					t.Fatalf("Check(%q) said Unsigned for a proof with a checkpoint", pin)
				}
				continue
			}
			// Signed: it must be true.
			if p.Index < 0 || p.Size > int64(len(tr.leaves)) || p.Index >= p.Size || !tr.signed[p.Size] {
				t.Fatalf("Check(%q) signed entry %d in size %d, which the operator never signed", pin, p.Index, p.Size)
			}
			if p.Root != tr.roots[p.Size] || p.LeafHash != leafHashOf(tr.leaves[p.Index]) {
				t.Fatalf("Check(%q) signed a false proof: entry %d in %d, leaf hash %s, root %s", pin, p.Index, p.Size, p.LeafHash, p.Root)
			}
			if len(p.Leaf) > 0 {
				if c, err := entry.Canonical(p.Leaf); err != nil || !bytes.Equal(c, tr.leaves[p.Index]) {
					t.Fatalf("Check(%q) signed a proof carrying another leaf: %s", pin, p.Leaf)
				}
			}
		}
	})
}

// FuzzConsistencyProofCheck is FuzzInclusionProofCheck for consistency
// proofs: Signed only for two sizes the operator signed, under their real
// roots.
func FuzzConsistencyProofCheck(f *testing.F) {
	ctx := context.Background()
	r, tr := proofFuzzRecord(f)
	for _, c := range [][2]int64{{1, 12}, {3, 5}, {5, 8}, {8, 12}, {2, 7}, {12, 12}} {
		p, err := r.log.ProveConsistency(ctx, c[0], c[1])
		if err != nil {
			f.Fatal(err)
		}
		b := mustJSON(f, p)
		f.Add(b)
		f.Add(indented(f, b))
		p.OldSize--
		f.Add(mustJSON(f, p))
	}
	f.Add([]byte(`{}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		var p ptlog.ConsistencyProof
		if json.Unmarshal(data, &p) != nil {
			return
		}
		for _, pin := range []string{tr.op.vkey, ""} {
			q := p
			q.Hashes = slices.Clone(p.Hashes)
			trust, err := q.Check(pin)
			switch {
			case err != nil && trust != "":
				t.Fatalf("Check(%q) gave trust %q with error %v", pin, trust, err)
			case err != nil:
				continue
			case trust != ptlog.Signed && trust != ptlog.Unsigned:
				t.Fatalf("Check(%q) gave trust %q", pin, trust)
			case trust == ptlog.Unsigned:
				if p.OldCheckpoint != "" && p.NewCheckpoint != "" && pin != "" {
					t.Fatalf("Check(%q) said Unsigned for a proof with both checkpoints", pin)
				}
				continue
			}
			if p.OldSize < 1 || p.OldSize > p.NewSize || p.NewSize > int64(len(tr.leaves)) || !tr.signed[p.OldSize] || !tr.signed[p.NewSize] {
				t.Fatalf("Check(%q) signed sizes %d→%d, which the operator did not both sign", pin, p.OldSize, p.NewSize)
			}
			if p.OldRoot != tr.roots[p.OldSize] || p.NewRoot != tr.roots[p.NewSize] {
				t.Fatalf("Check(%q) signed false roots for %d→%d: %s→%s", pin, p.OldSize, p.NewSize, p.OldRoot, p.NewRoot)
			}
		}
	})
}
