package tlog_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/problem"
	"parley/internal/racedetect"
	ptlog "parley/internal/tlog"
)

var (
	mutationTrials = flag.Int("mutation.trials", 0, "random single-byte mutations in TestBundleMutations (0: 2000, 400 with -short, 100 with -race)")
	mutationSeed   = flag.Uint64("mutation.seed", 0, "seed for TestBundleMutations (0: random, logged)")
)

// A mutationCorpus is an exported bundle cut into the bundles the record
// would have exported at each of its checkpoints: header, the entries up to
// the checkpoint's size, and the checkpoints up to it. Each is a complete,
// valid bundle, and a byte of the full bundle is mutated in the smallest of
// them that holds its line, which keeps a trial's cost to the entries
// before the byte rather than the whole record.
type mutationCorpus struct {
	lines   []string // the full bundle's lines, without newlines
	entries int      // entry lines: lines[1 : 1+entries]
	sizes   []int64  // checkpoint sizes, in order: lines[1+entries+k] is for sizes[k]
	starts  []int    // offset of each line in the full bundle
	total   int      // bytes in the full bundle
}

func newMutationCorpus(t testing.TB, b []byte) *mutationCorpus {
	t.Helper()
	pb, err := parseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	c := &mutationCorpus{lines: bundleLines(b), entries: len(pb.leaves), total: len(b)}
	for _, n := range pb.checkpoints {
		cp, err := ptlog.OpenCheckpoint([]byte(n), mustVerifier(t, pb.header.Operator), pb.header.Origin)
		if err != nil {
			t.Fatal(err)
		}
		c.sizes = append(c.sizes, cp.Size)
	}
	off := 0
	for _, l := range c.lines {
		c.starts = append(c.starts, off)
		off += len(l) + 1
	}
	return c
}

// prefix returns the bundle as of checkpoint k (0-based), and the offset in
// it of full-bundle line li, which it must hold.
func (c *mutationCorpus) prefix(k, li int) ([]byte, int) {
	var b bytes.Buffer
	at := -1
	add := func(i int) {
		if i == li {
			at = b.Len()
		}
		b.WriteString(c.lines[i])
		b.WriteByte('\n')
	}
	add(0)
	for e := range int(c.sizes[k]) {
		add(1 + e)
	}
	for j := 0; j <= k; j++ {
		add(1 + c.entries + j)
	}
	if at < 0 {
		panic(fmt.Sprintf("line %d is not in prefix %d", li, k))
	}
	return b.Bytes(), at
}

// smallest returns the first checkpoint whose bundle holds line li.
func (c *mutationCorpus) smallest(li int) int {
	switch {
	case li == 0:
		return 0
	case li <= c.entries:
		e := int64(li - 1)
		return sort.Search(len(c.sizes), func(k int) bool { return c.sizes[k] > e })
	default:
		return li - 1 - c.entries
	}
}

// locate returns the line holding byte pos of the full bundle, and the
// column (len(line) for its newline).
func (c *mutationCorpus) locate(pos int) (int, int) {
	li := sort.Search(len(c.starts), func(i int) bool { return c.starts[i] > pos }) - 1
	return li, pos - c.starts[li]
}

// A mutation replaces one byte of the full bundle.
type mutation struct {
	pos int
	to  byte
}

// mutationTally counts what the mutations did.
type mutationTally struct {
	mu                sync.Mutex
	tried, detected   int
	harmless          int // accepted, and the same record: re-exports byte for byte
	kinds             map[problem.Kind]int
	unplaced, missing []string
}

// try applies m in the smallest bundle holding its byte and verifies it.
// A mutation passes only if the mutated bundle is the same record: imported
// into a fresh store, it exports exactly the unmutated bundle.
func (c *mutationCorpus) try(t *testing.T, m mutation, tally *mutationTally) {
	li, col := c.locate(m.pos)
	orig, at := c.prefix(c.smallest(li), li)
	if orig[at+col] == m.to {
		panic("a mutation must change its byte")
	}
	mut := bytes.Clone(orig)
	mut[at+col] = m.to
	_, err := verifyBundle(mut, ptlog.VerifyOptions{})

	tally.mu.Lock()
	defer tally.mu.Unlock()
	tally.tried++
	desc := fmt.Sprintf("byte %d (line %d, column %d) %q→%q", m.pos, li+1, col+1, orig[at+col], m.to)
	if err != nil {
		tally.detected++
		kind := problem.KindOf(err)
		tally.kinds[kind]++
		var p *problem.Error
		if !errors.As(err, &p) || kind == problem.Internal || !(strings.Contains(p.Where, "entry ") || strings.Contains(p.Where, "line ")) {
			tally.unplaced = append(tally.unplaced, fmt.Sprintf("%s: %v (%T, kind %s)", desc, err, err, kind))
		}
		return
	}
	tally.mu.Unlock()
	l, _, _, ierr := importBundle(t, mut)
	same := ierr == nil && bytes.Equal(exportLog(t, l), orig)
	tally.mu.Lock()
	if same {
		tally.harmless++
		return
	}
	tally.missing = append(tally.missing, fmt.Sprintf("%s: Verify accepted it, but it is not the same record (import: %v)", desc, ierr))
}

// TestBundleMutations changes single bytes of an exported bundle of about
// 200 entries (three authors, two types, references, corrections, a
// revocation, many checkpoints): at random positions, and at every position
// of the header, the genesis entry and the first checkpoint. Verify must
// refuse every mutation, naming where, unless the mutated bundle is the
// same record (imports and re-exports to the same bytes).
func TestBundleMutations(t *testing.T) {
	seed := *mutationSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	trials := *mutationTrials
	switch {
	case trials > 0:
	case racedetect.Enabled:
		trials = 100
	case testing.Short():
		trials = 400
	default:
		trials = 2000
	}
	t.Logf("-mutation.seed=%d -mutation.trials=%d", seed, trials)
	start := time.Now()

	r, _ := richRecord(t, 42, 200)
	full := r.export()
	c := newMutationCorpus(t, full)
	if len(c.sizes) < 10 || c.entries < 195 {
		t.Fatalf("the record has %d entries and %d checkpoints; the test wants about 200 and many", c.entries, len(c.sizes))
	}
	// Every bundle a mutation lands in is a valid bundle before it.
	for k := range c.sizes {
		b, _ := c.prefix(k, 0)
		sum, err := verifyBundle(b, ptlog.VerifyOptions{})
		if err != nil || sum.Entries != c.sizes[k] {
			t.Fatalf("the record's bundle as of checkpoint %d does not verify: %v", c.sizes[k], err)
		}
		if k == len(c.sizes)-1 && !bytes.Equal(b, full) {
			t.Fatalf("the last prefix is not the exported bundle")
		}
	}
	built := time.Since(start)

	rng := rand.New(rand.NewPCG(seed, 0x6d7574))
	var ms []mutation
	other := func(b byte) byte { return b ^ byte(1+rng.IntN(255)) }
	byteAt := func(pos int) byte {
		li, col := c.locate(pos)
		if col == len(c.lines[li]) {
			return '\n'
		}
		return c.lines[li][col]
	}
	for range trials {
		pos := rng.IntN(c.total)
		ms = append(ms, mutation{pos, other(byteAt(pos))})
	}
	// Every position of three short lines: the header, the genesis entry and
	// the first checkpoint. Each byte becomes a random other byte and, in the
	// header, a letter also becomes the same letter in the other case (hex
	// digits, base64 and names are case-sensitive). Under -race or -short,
	// the header only.
	short := 0
	shortLines := []int{0, 1, 1 + c.entries}
	if racedetect.Enabled || testing.Short() {
		shortLines = shortLines[:1]
	}
	for _, li := range shortLines {
		for col := 0; col <= len(c.lines[li]); col++ {
			pos := c.starts[li] + col
			b := byteAt(pos)
			ms = append(ms, mutation{pos, other(b)})
			short++
			if li == 0 && 'a' <= b|0x20 && b|0x20 <= 'z' {
				ms = append(ms, mutation{pos, b ^ 0x20})
				short++
			}
		}
	}

	tally := &mutationTally{kinds: map[problem.Kind]int{}}
	work := make(chan mutation)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				c.try(t, m, tally)
			}
		}()
	}
	for _, m := range ms {
		work <- m
	}
	close(work)
	wg.Wait()

	t.Logf("detected %d / tried %d (%d at random positions of a %d-byte bundle of %d entries and %d checkpoints, %d at every position of %d short lines); "+
		"%d accepted as the same record; refusals by kind %v; record built in %v, all in %v",
		tally.detected, tally.tried, trials, c.total, c.entries, len(c.sizes), short, len(shortLines), tally.harmless, tally.kinds,
		built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	for _, s := range tally.missing {
		t.Errorf("a mutation that changes the record passed: %s", s)
	}
	for i, s := range tally.unplaced {
		if i == 10 {
			t.Errorf("... and %d more refusals that do not say where", len(tally.unplaced)-10)
			break
		}
		t.Errorf("a refusal that does not name its entry or line: %s", s)
	}
	if tally.tried != len(ms) {
		t.Errorf("tried %d of %d mutations", tally.tried, len(ms))
	}
}
