package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/entry"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/tlog"
)

// appendGoal is the share of the all-core Ed25519 verify rate that signed
// appends should reach: the log's own work (decoding, sequencing, hashing,
// SQLite, fsync) should cost less than the signature check it cannot avoid.
const appendGoal = 0.60

// measureAppends measures signed appends per second into a SQLite record,
// from many concurrent clients, one entry per call and then a batch per call.
func measureAppends(ctx context.Context, cfg Config, c *corpus, dir string, r *report) error {
	keys, err := c.keyEntries()
	if err != nil {
		return err
	}
	// Signing is the authors' work, not the log's: done before the clock starts.
	progress(cfg, "signing %s entries for the append tests", count(2*cfg.Appends))
	notes, err := c.sign(ctx, 0, int64(2*cfg.Appends))
	if err != nil {
		return err
	}
	for i, batch := range []int{1, cfg.Batch} {
		set := notes[i*cfg.Appends : (i+1)*cfg.Appends]
		name := fmt.Sprintf("signed appends, %d clients x %d %s/call", cfg.Clients, batch, plural(batch, "entry", "entries"))
		progress(cfg, "measuring %s: %s entries", name, count(len(set)))
		res, err := appendRun(ctx, cfg, c, filepath.Join(dir, fmt.Sprintf("appends-%d.db", batch)), keys, set, batch)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f := figure{name: name, value: perSecond(res.rate), num: res.rate}
		if r.verifyCap > 0 {
			share := res.rate / r.verifyCap
			f.limit = perSecond(r.verifyCap) + " Ed25519 verify, all cores"
			f.ratio = percent(share)
			f.goal = ">= " + percent(appendGoal)
			f.met = met(share >= appendGoal)
		}
		r.add(f)
		r.note("%s: %s entries in %s: %s commits (%.0f entries each), call latency p50 %s, p99 %s.",
			name, count(len(set)), seconds(res.took), count(res.commits), float64(len(set))/float64(res.commits), millis(res.p50), millis(res.p99))
	}
	r.note("appends: %d-byte pre-signed note entries by %d registered author keys, appended with tlog.Log.Append to a new SQLite file (WAL, synchronous=FULL); each call returns once its entries are verified, sequenced, in the tree, under a signed checkpoint and fsynced. Signing is not timed.", len(notes[0].Leaf()), authorCount)
	return nil
}

// appendResult is what one append test measured.
type appendResult struct {
	took     time.Duration
	rate     float64
	commits  int64
	p50, p99 time.Duration // per call
}

// appendRun appends notes to a new record at path from cfg.Clients
// goroutines, batch entries per call.
func appendRun(ctx context.Context, cfg Config, c *corpus, path string, keys, notes []*entry.Signed, batch int) (appendResult, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return appendResult{}, err
	}
	defer st.Close()
	lc, err := c.logConfig()
	if err != nil {
		return appendResult{}, err
	}
	l, err := tlog.Open(ctx, st, lc)
	if err != nil {
		return appendResult{}, err
	}
	defer l.Close()
	if _, err := l.Append(ctx, keys); err != nil {
		return appendResult{}, fmt.Errorf("register keys: %w", err)
	}
	before := l.Size()
	runtime.GC()

	calls := (len(notes) + batch - 1) / batch
	lat := make([]time.Duration, calls)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, cfg.Clients)
	start := time.Now()
	for w := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= calls {
					return
				}
				t0 := time.Now()
				_, err := l.Append(ctx, notes[k*batch:min((k+1)*batch, len(notes))])
				lat[k] = time.Since(t0)
				if err != nil {
					errs[w] = err
					next.Store(int64(calls))
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return appendResult{}, err
	}
	after := l.Size()
	if after-before != int64(len(notes)) {
		return appendResult{}, fmt.Errorf("appended %d entries, but the record grew by %d", len(notes), after-before)
	}
	var commits int64
	err = st.Checkpoints(ctx, before+1, after, func(store.Checkpoint) error { commits++; return nil })
	if err != nil {
		return appendResult{}, err
	}
	slices.Sort(lat)
	return appendResult{took: took, rate: float64(len(notes)) / took.Seconds(), commits: commits,
		p50: quantile(lat, 0.50), p99: quantile(lat, 0.99)}, nil
}

// quantile returns the q-quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
