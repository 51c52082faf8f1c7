package tlog

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestDupes checks the repeated-entry finder across the filter's growth:
// a repeat far from its original is found, with both indexes, and a run
// with no repeat reports none, whatever the filter's false candidates.
func TestDupes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int64
		dup, orig int64 // dup < 0: no repeat
	}{
		{"no repeat", 200_000, -1, 0},
		{"repeat before the filter grows", 1000, 900, 3},
		{"repeat across growth", 100_000, 99_000, 7},
		{"two repeats: the first is reported", 50_000, 20_000, 19_999},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hashes := make([]tlog.Hash, 0, tc.n)
			read := func(from, to int64, fn func(int64, tlog.Hash)) error {
				for i := from; i < to; i++ {
					fn(i, hashes[i])
				}
				return nil
			}
			var d dupes
			for i := range tc.n {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], uint64(i))
				h := tlog.Hash(sha256.Sum256(b[:]))
				switch {
				case i == tc.dup:
					h = hashes[tc.orig]
				case tc.name == "two repeats: the first is reported" && i == 40_000:
					h = hashes[5]
				}
				hashes = append(hashes, h)
				if err := d.add(i, h, read); err != nil {
					t.Fatal(err)
				}
			}
			dup, orig, ok, err := d.first(tc.n, read)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dup < 0 {
				if ok {
					t.Fatalf("found a repeat %d of %d where there is none", dup, orig)
				}
				t.Logf("%d candidates for %d hashes, filter %d KiB", len(d.candidates), tc.n, len(d.bits)*8/1024)
				return
			}
			if !ok || dup != tc.dup || orig != tc.orig {
				t.Fatalf("first repeat = %d of %d (found %v), want %d of %d", dup, orig, ok, tc.dup, tc.orig)
			}
			if _, _, ok, _ := d.first(tc.dup, read); ok {
				t.Errorf("a repeat reported before limit %d", tc.dup)
			}
		})
	}
}

// TestHashFileLeafHashes reads leaf hashes back from the verifier's hash
// file, across its flushed part and its buffer.
func TestHashFileLeafHashes(t *testing.T) {
	hf, err := newHashFile()
	if err != nil {
		t.Fatal(err)
	}
	defer hf.close()
	const n = 30_000
	leaves := make([]tlog.Hash, n)
	for i := range int64(n) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		leaves[i] = tlog.RecordHash(b[:])
		hs, err := tlog.StoredHashesForRecordHash(i, leaves[i], hf)
		if err != nil {
			t.Fatal(err)
		}
		if err := hf.append(hs); err != nil {
			t.Fatal(err)
		}
	}
	if hf.base == 0 || len(hf.buf) == 0 {
		t.Fatalf("want hashes both in the file and in the buffer: %d, %d", hf.base, len(hf.buf))
	}
	for _, r := range [][2]int64{{0, n}, {123, 9000}, {n - 5, n}} {
		next := r[0]
		err := hf.leafHashes(r[0], r[1], func(i int64, h tlog.Hash) {
			if i != next || h != leaves[i] {
				t.Fatalf("leafHashes(%d, %d): got %d %x, want %d %x", r[0], r[1], i, h, next, leaves[next])
			}
			next++
		})
		if err != nil || next != r[1] {
			t.Fatalf("leafHashes(%d, %d) stopped at %d: %v", r[0], r[1], next, err)
		}
	}
}
