package tlog

import (
	"encoding/binary"

	"golang.org/x/mod/sumdb/tlog"
)

// dupes finds a signed entry that appears twice in a bundle (the log never
// writes one: a resubmitted entry is answered with its first index) without
// keeping every entry's hash in memory. Identical entries have identical
// leaf hashes; a Bloom filter over leaf hashes, at most 16 MiB, flags
// candidates, and a pass over the verifier's hash file settles them.
type dupes struct {
	bits       []uint64
	n          int64   // leaf hashes added
	candidates []int64 // indexes whose hash the filter may have seen before
}

const maxDupeWords = 16 << 20 / 8

func (d *dupes) positions(h tlog.Hash) [4]uint64 {
	m := uint64(len(d.bits) * 64)
	var p [4]uint64
	for i := range p {
		p[i] = binary.LittleEndian.Uint64(h[i*8:]) % m
	}
	return p
}

// add records the leaf hash of entry index, in index order. read returns the
// leaf hashes of earlier entries, for when the filter grows.
func (d *dupes) add(index int64, h tlog.Hash, read func(from, to int64, fn func(int64, tlog.Hash)) error) error {
	if d.bits == nil {
		d.bits = make([]uint64, 1024)
	}
	// Keep at least 32 bits per hash while the filter may grow.
	if d.n*32 > int64(len(d.bits)*64) && len(d.bits) < maxDupeWords {
		d.bits = make([]uint64, min(len(d.bits)*4, maxDupeWords))
		if err := read(0, index, func(_ int64, h tlog.Hash) { d.set(h) }); err != nil {
			return err
		}
	}
	if d.set(h) {
		d.candidates = append(d.candidates, index)
	}
	d.n++
	return nil
}

// set adds h and reports whether it may have been there already.
func (d *dupes) set(h tlog.Hash) bool {
	seen := true
	for _, p := range d.positions(h) {
		w, b := p/64, uint64(1)<<(p%64)
		if d.bits[w]&b == 0 {
			seen = false
			d.bits[w] |= b
		}
	}
	return seen
}

// first returns the first entry before limit that repeats an earlier one,
// and the earlier one; ok is false if there is none.
func (d *dupes) first(limit int64, read func(from, to int64, fn func(int64, tlog.Hash)) error) (dup, orig int64, ok bool, err error) {
	var cands []int64
	for _, c := range d.candidates {
		if c < limit {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return 0, 0, false, nil
	}
	// The hashes of the candidates, then the first index holding each.
	want := map[tlog.Hash]int64{}
	isCand := map[int64]bool{}
	for _, c := range cands {
		isCand[c] = true
	}
	if err := read(0, limit, func(i int64, h tlog.Hash) {
		if isCand[i] {
			want[h] = -1
		}
	}); err != nil {
		return 0, 0, false, err
	}
	dup = -1
	err = read(0, limit, func(i int64, h tlog.Hash) {
		f, ok := want[h]
		switch {
		case !ok || dup >= 0:
		case f < 0:
			want[h] = i
		default:
			dup, orig = i, f
		}
	})
	return dup, orig, dup >= 0, err
}
