package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/store/sqlite"
	ptlog "parley/internal/tlog"
)

// verifyGoal is the most that verifying a bundle may cost, as a multiple of
// the bare signature checks and hashes of its entries on all cores.
const verifyGoal = 1.3

// memoryGoal is the most the peak heap of Verify may grow from a bundle to
// one ten times its size.
const memoryGoal = 1.5

// measureBundles builds a bundle of cfg.Entries entries and one of a tenth
// of that, then times Verify over each against the bare cost of their
// signatures and hashes, and records Verify's peak memory.
func measureBundles(ctx context.Context, cfg Config, c *corpus, dir string, r *report) error {
	sizes := []int64{cfg.Entries / 10, cfg.Entries}
	paths, err := buildBundles(ctx, cfg, c, dir, sizes)
	if err != nil {
		return err
	}
	var peaks []memoryPeak
	for i, n := range sizes {
		v, err := verifyBundle(ctx, cfg, paths[i], c.operator.vkey, n)
		if err != nil {
			return err
		}
		progress(cfg, "measuring the signature checks and hashes alone of %s entries", count(n))
		floor, err := cryptoFloor(ctx, paths[i], c.verifiers())
		if err != nil {
			return err
		}
		ratio := v.took.Seconds() / floor.Seconds()
		r.add(figure{
			name:  fmt.Sprintf("verify bundle, %s entries", count(n)),
			value: fmt.Sprintf("%s (%s)", seconds(v.took), perSecond(float64(n)/v.took.Seconds())),
			num:   v.took.Seconds(),
			limit: seconds(floor) + " Ed25519 verify + SHA-256 alone, all cores",
			ratio: fmt.Sprintf("%.2f", ratio),
			goal:  fmt.Sprintf("<= %.1f", verifyGoal),
			met:   met(ratio <= verifyGoal),
		})
		peaks = append(peaks, v.peak)
	}
	small, large := peaks[0], peaks[1]
	growth := float64(large.heap) / float64(small.heap)
	r.add(figure{
		name:  fmt.Sprintf("peak heap in Verify, %s entries", count(sizes[1])),
		value: fmt.Sprintf("%s (%s live)", megabytes(large.heap), megabytes(large.live)),
		num:   float64(large.heap),
		limit: fmt.Sprintf("%s (%s live) at %s entries", megabytes(small.heap), megabytes(small.live), count(sizes[0])),
		ratio: fmt.Sprintf("%.2f", growth),
		goal:  fmt.Sprintf("<= %.1f (flat)", memoryGoal),
		met:   met(growth <= memoryGoal),
	})
	if large.rss > 0 {
		name := fmt.Sprintf("peak RSS in Verify, %s entries", count(sizes[1]))
		if large.ofRun {
			name = "process max RSS (whole run so far)"
		}
		r.add(figure{
			name:  name,
			value: megabytes(large.rss),
			num:   float64(large.rss),
			limit: fmt.Sprintf("%s at %s entries", megabytes(small.rss), count(sizes[0])),
			ratio: fmt.Sprintf("%.2f", float64(large.rss)/float64(small.rss)),
		})
	}
	r.note("bundles: %s entries (the genesis entry, %d key registrations, then signed notes as in the append tests), appended in commits of %s and exported with tlog.Log.Export; Verify reads the file from the page cache. The limit is the same entries' Ed25519 verifies plus their leaf and tree-node SHA-256 hashes on all cores, with the bundle parsed beforehand (untimed).",
		count(sizes[1]), authorCount, count(bundleCommit))
	r.note("memory: heap sampled every 2 ms from runtime/metrics (heap objects, live and not yet collected; live as of each GC) after a GC; peak RSS from getrusage after resetting the high-water mark through /proc/self/clear_refs.")
	return nil
}

// bundleCommit is the number of entries appended per call in building bundles.
const bundleCommit = 8192

// buildBundles appends notes to a new record and exports it as a bundle
// each time it reaches one of sizes, which must grow. It returns the paths.
func buildBundles(ctx context.Context, cfg Config, c *corpus, dir string, sizes []int64) ([]string, error) {
	path := filepath.Join(dir, "bundle.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer removeDB(path)
	defer st.Close()
	lc, err := c.logConfig()
	if err != nil {
		return nil, err
	}
	l, err := ptlog.Open(ctx, st, lc)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	keys, err := c.keyEntries()
	if err != nil {
		return nil, err
	}
	if _, err := l.Append(ctx, keys); err != nil {
		return nil, fmt.Errorf("register keys: %w", err)
	}
	first := l.Size() // notes are numbered from here, as their indexes
	if sizes[0] < first+1 {
		return nil, fmt.Errorf("a bundle of %d entries is too small for the %d entries that register keys", sizes[0], first)
	}
	progress(cfg, "building bundles of %s entries: signing and appending", countsOf(sizes))

	// One goroutine signs the next chunk while the log takes the last one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []*entry.Signed, 1)
	signed := make(chan error, 1)
	go func() {
		defer close(chunks)
		at := first
		for _, size := range sizes {
			for at < size {
				n := min(bundleCommit, size-at)
				s, err := c.sign(ctx, at, at+n)
				if err != nil {
					signed <- err
					return
				}
				select {
				case chunks <- s:
				case <-ctx.Done():
					signed <- ctx.Err()
					return
				}
				at += n
			}
		}
		signed <- nil
	}()
	var paths []string
	tk := newTicker(cfg)
	next := 0
	for chunk := range chunks {
		if _, err := l.Append(ctx, chunk); err != nil {
			cancel()
			for range chunks {
			}
			return nil, fmt.Errorf("append: %w", err)
		}
		tk.say("bundle: %s of %s entries signed and appended", count(l.Size()), count(sizes[len(sizes)-1]))
		if l.Size() == sizes[next] {
			p := filepath.Join(dir, fmt.Sprintf("bundle-%d.jsonl", sizes[next]))
			if err := export(ctx, l, p); err != nil {
				return nil, err
			}
			paths = append(paths, p)
			next++
		}
	}
	if err := <-signed; err != nil {
		return nil, err
	}
	if len(paths) != len(sizes) {
		return nil, fmt.Errorf("built %d bundles of %d", len(paths), len(sizes))
	}
	return paths, nil
}

func countsOf(sizes []int64) string {
	var b bytes.Buffer
	for i, n := range sizes {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(count(n))
	}
	return b.String()
}

// export writes l as a bundle to a new file at path.
func export(ctx context.Context, l *ptlog.Log, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := l.Export(ctx, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// removeDB removes a SQLite file and its companions.
func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}

// verifyResult is what one Verify measured.
type verifyResult struct {
	took time.Duration
	peak memoryPeak
}

// verifyBundle times tlog.Verify over the bundle at path, which must hold n
// entries, and watches its memory.
func verifyBundle(ctx context.Context, cfg Config, path, operator string, n int64) (verifyResult, error) {
	reg, err := types()
	if err != nil {
		return verifyResult{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return verifyResult{}, err
	}
	defer f.Close()
	progress(cfg, "verifying the bundle of %s entries", count(n))
	tk := newTicker(cfg)
	opts := ptlog.VerifyOptions{Operator: operator, Types: reg, Progress: func(entries, _ int64) {
		tk.say("verify: %s of %s entries", count(entries), count(n))
	}}
	w := watchMemory()
	start := time.Now()
	sum, err := ptlog.Verify(ctx, f, opts)
	took := time.Since(start)
	peak := w.end()
	if err != nil {
		return verifyResult{}, fmt.Errorf("verify %s: %w", filepath.Base(path), err)
	}
	if sum.Entries != n {
		return verifyResult{}, fmt.Errorf("verify %s: %d entries, want %d", filepath.Base(path), sum.Entries, n)
	}
	return verifyResult{took: took, peak: peak}, nil
}

// floorItem is one entry reduced to what its signature check and hashes need.
type floorItem struct {
	key      note.Verifier
	msg, sig []byte
	leaf     []byte
}

// cryptoFloor returns the time the Ed25519 verifies and SHA-256 hashes of
// the bundle's entries take on all cores, and nothing else: for each entry,
// its signature check, its leaf hash and one tree-node hash (a tree has one
// node per leaf). The bundle is read and parsed in chunks, untimed, and each
// chunk is timed at its best of two.
func cryptoFloor(ctx context.Context, path string, keys map[string]note.Verifier) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	in := bufio.NewReaderSize(f, 1<<20)
	if _, err := in.ReadBytes('\n'); err != nil { // the header
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	var took time.Duration
	items := make([]floorItem, 0, 1<<16)
	// Each chunk is checked twice and the faster time kept: the limit is
	// what the machine can do, not what it did while something else ran.
	flush := func() error {
		best := time.Duration(1<<63 - 1)
		for range 2 {
			runtime.GC() // so that no collection of the parsing's garbage runs on the clock
			start := time.Now()
			if err := checkAll(items); err != nil {
				return err
			}
			best = min(best, time.Since(start))
		}
		took += best
		items = items[:0]
		return nil
	}
	for {
		line, err := in.ReadBytes('\n')
		if err == io.EOF || bytes.HasPrefix(line, []byte(`{"checkpoint":`)) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		it, err := parseFloorItem(line, keys)
		if err != nil {
			return 0, err
		}
		items = append(items, it)
		if len(items) == cap(items) {
			if err := flush(); err != nil {
				return 0, err
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
	return took, flush()
}

// parseFloorItem takes one bundle line apart.
func parseFloorItem(line []byte, keys map[string]note.Verifier) (floorItem, error) {
	var be struct {
		Entry jsontext.Value `json:"entry"`
		Index int64          `json:"index"`
		Sig   string         `json:"sig"`
	}
	if err := json.Unmarshal(line, &be); err != nil {
		return floorItem{}, fmt.Errorf("bundle line: %w", err)
	}
	var e struct {
		Author string `json:"author"`
	}
	if err := json.Unmarshal(be.Entry, &e); err != nil {
		return floorItem{}, fmt.Errorf("entry %d: %w", be.Index, err)
	}
	key, ok := keys[e.Author]
	if !ok {
		return floorItem{}, fmt.Errorf("entry %d: unknown author %s", be.Index, e.Author)
	}
	sig, err := base64.StdEncoding.DecodeString(be.Sig)
	if err != nil {
		return floorItem{}, fmt.Errorf("entry %d: %w", be.Index, err)
	}
	leaf := make([]byte, 0, len(be.Entry)+len(be.Sig)+20)
	leaf = append(leaf, `{"entry":`...)
	leaf = append(leaf, be.Entry...)
	leaf = append(leaf, `,"sig":"`...)
	leaf = append(leaf, be.Sig...)
	leaf = append(leaf, `"}`...)
	return floorItem{key: key, msg: be.Entry, sig: sig, leaf: leaf}, nil
}

// checkAll verifies and hashes items on every core.
func checkAll(items []floorItem) error {
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	sinks := make([]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sink byte
			for i := w; i < len(items); i += workers {
				it := &items[i]
				if !it.key.Verify(it.msg, it.sig) {
					errs[w] = errors.New("a signature in the bundle does not verify")
					return
				}
				h := tlog.RecordHash(it.leaf)
				n := tlog.NodeHash(h, h)
				sink ^= n[0]
			}
			sinks[w] = sink
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
