package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"parley/internal/entry"
	"parley/internal/gen"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
)

// Goals of the projections.
const (
	rebuildGoal = 100_000 // entries folded per second
	askGoal     = 5 * time.Millisecond
	asOfGoal    = 50 * time.Millisecond
)

// measureProjections loads a generated negotiation of cfg.Projected entries
// into a new record and measures the projections on it: the rebuild rate,
// each question's latency now and as of a random past time, and the size of
// the database.
func measureProjections(ctx context.Context, cfg Config, dir string, r *report) error {
	path := filepath.Join(dir, "projections")
	rec, err := initGenRecord(ctx, path, "", "parley.bench/projections")
	if err != nil {
		return err
	}
	defer rec.Close()
	progress(cfg, "generating, signing and appending a negotiation of %s entries", count(cfg.Projected))
	start := time.Now()
	stats, err := loadGenerated(ctx, cfg, rec)
	if err != nil {
		return err
	}
	took := time.Since(start)
	n := rec.Log.Size()
	r.add(figure{name: fmt.Sprintf("generated entries signed, appended and folded, %s", count(stats.Entries)),
		value: fmt.Sprintf("%s/s", count(int64(float64(stats.Entries)/took.Seconds()))), num: float64(stats.Entries) / took.Seconds()})

	// The rebuild, against decoding the same entries on every core: what
	// a rebuild would cost if writing the facts were free.
	progress(cfg, "decoding the %s entries on every core", count(n))
	start = time.Now()
	if err := decodeAll(ctx, rec.Store(), n); err != nil {
		return err
	}
	decodeRate := float64(n) / time.Since(start).Seconds()
	progress(cfg, "rebuilding the projections of %s entries", count(n))
	start = time.Now()
	if err := rec.Rebuild(ctx, nil); err != nil {
		return err
	}
	rate := float64(n) / time.Since(start).Seconds()
	r.add(figure{name: fmt.Sprintf("projection rebuild, %s entries", count(n)), value: fmt.Sprintf("%s entries/s", count(int64(rate))), num: rate,
		limit: fmt.Sprintf("%s entries/s decoded", count(int64(decodeRate))), ratio: fmt.Sprintf("%.2f", rate/decodeRate),
		goal: fmt.Sprintf(">= %s/s", count(int64(rebuildGoal))), met: met(rate >= rebuildGoal)})

	if err := measureAsks(ctx, cfg, rec, stats, r); err != nil {
		return err
	}

	// The database, against the bytes of the entries it holds.
	var leafBytes int64
	if err := rec.Store().Leaves(ctx, 0, n, func(l store.Leaf) error { leafBytes += int64(len(l.Data)); return nil }); err != nil {
		return err
	}
	rec.Close()
	dbBytes := fileSize(filepath.Join(path, record.StoreFile)) + fileSize(filepath.Join(path, record.StoreFile+"-wal"))
	r.add(figure{name: fmt.Sprintf("database size, %s entries", count(n)), value: mib(dbBytes), num: float64(dbBytes),
		limit: mib(leafBytes) + " of signed entries", ratio: fmt.Sprintf("%.2f", float64(dbBytes)/float64(leafBytes))})
	r.note("projections: `parley gen --entries %d --seed 1` (%d parties; %s to %s; at most %d actions open at once), signed with %d keys and appended in calls of 1,000 through record.Log with the projection on, as `parley add --batch` does. The rebuild folds the whole log again from the store (parley rebuild); its limit is reading and decoding the same entries on every core without folding or writing. Each question is asked %d times with random arguments (a proposal, an actor, talks, a time), through the same code as `parley ask`, answers capped at 100 rows where the question has a limit; \"as of\" asks at a random time within the record. The database size includes the log, the tiles, every checkpoint and the projections; its limit is the bytes of the signed entries alone.",
		cfg.Projected, gen.DefaultParties, stats.From.Format("2006-01-02"), stats.To.Format("2006-01-02"), stats.MaxOpenActions, len(gen.Authors), cfg.Asks)
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// loadGenerated streams the generator's lines into rec: signed on every
// core, appended 1,000 at a time.
func loadGenerated(ctx context.Context, cfg Config, rec *record.Record) (gen.Stats, error) {
	pr, pw := io.Pipe()
	var stats gen.Stats
	var genErr error
	go func() {
		stats, genErr = gen.Write(ctx, pw, gen.Config{Entries: int(cfg.Projected), Seed: 1})
		pw.CloseWithError(genErr)
	}()
	signers := rec.Signers("")
	for _, a := range gen.Authors {
		if _, err := signers.Key(a); err != nil {
			return stats, err
		}
	}
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	t := newTicker(cfg)
	var lines [][]byte
	flush := func() error {
		signed := make([]*entry.Signed, len(lines))
		errs := make([]error, len(lines))
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(lines); i += workers {
					u, err := record.ParseUnsigned(lines[i])
					if err == nil {
						signed[i], err = signers.Sign(u)
					}
					errs[i] = err
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("generated line: %w", err)
			}
		}
		if _, err := rec.Log.Append(ctx, signed); err != nil {
			return fmt.Errorf("append generated entries: %w", err)
		}
		lines = lines[:0]
		t.say("appended %s entries", count(rec.Log.Size()))
		return nil
	}
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
		if len(lines) == 1000 {
			if err := flush(); err != nil {
				pr.CloseWithError(err)
				return stats, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return stats, err
	}
	if err := flush(); err != nil {
		return stats, err
	}
	return stats, genErr
}

// decodeAll reads and decodes every entry on every core.
func decodeAll(ctx context.Context, st store.Store, n int64) error {
	types, err := vocab.Types()
	if err != nil {
		return err
	}
	work := make(chan []store.Leaf, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ls := range work {
				for _, l := range ls {
					s, err := entry.Parse(l.Data, 0)
					if err == nil {
						_, err = types.Decode(&s.Entry)
					}
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			}
		}()
	}
	var err2 error
	for at := int64(0); at < n && err2 == nil; at += 8192 {
		var ls []store.Leaf
		err2 = st.Leaves(ctx, at, min(at+8192, n), func(l store.Leaf) error { ls = append(ls, l); return nil })
		work <- ls
	}
	close(work)
	wg.Wait()
	if err2 != nil {
		return err2
	}
	return firstErr
}

// measureAsks times each question now and as of random past times.
func measureAsks(ctx context.Context, cfg Config, rec *record.Record, stats gen.Stats, r *report) error {
	st := rec.Store()
	keys := func(kind string) ([]string, error) {
		var out []string
		err := st.Facts(ctx, store.FactQuery{Kind: vocab.FactEntity, Latest: true, Tags: []string{kind}}, func(f store.Fact) error {
			out = append(out, f.Subject)
			return nil
		})
		if err == nil && len(out) == 0 {
			err = fmt.Errorf("the generated record has no %s", kind)
		}
		return out, err
	}
	proposals, err := keys(vocab.Proposal)
	if err != nil {
		return err
	}
	actors, err := keys(vocab.Actor)
	if err != nil {
		return err
	}
	talks, err := keys(vocab.Talks)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	span := stats.To.Sub(stats.From)
	ask := rec.Ask
	questions := []struct {
		name string
		run  func(c state.Clock) (any, error)
	}{
		{"positions", func(c state.Clock) (any, error) { return ask.Positions(ctx, c, pick(rng, proposals)) }},
		{"routes", func(c state.Clock) (any, error) { return ask.Routes(ctx, c, pick(rng, actors), "", 100) }},
		{"pending", func(c state.Clock) (any, error) { return ask.Pending(ctx, c, 100) }},
		{"roster", func(c state.Clock) (any, error) { return ask.Roster(ctx, c, pick(rng, talks)) }},
		{"statements", func(c state.Clock) (any, error) {
			return ask.Statements(ctx, c, state.StatementFilter{By: pick(rng, actors), Limit: 100})
		}},
		{"tracks", func(c state.Clock) (any, error) { return ask.Tracks(ctx, c) }},
		{"timeline", func(c state.Clock) (any, error) {
			return ask.Timeline(ctx, c, stats.From.Add(time.Duration(rng.Int64N(int64(span)))), 100)
		}},
	}
	// The floor: one entry read by index, as every answer does for its sources.
	n := rec.Log.Size()
	var reads []time.Duration
	for range cfg.Asks {
		i := rng.Int64N(n)
		start := time.Now()
		if err := st.Leaves(ctx, i, i+1, func(store.Leaf) error { return nil }); err != nil {
			return err
		}
		reads = append(reads, time.Since(start))
	}
	slices.Sort(reads)
	progress(cfg, "asking each question %d times now and %d times as of a random time", cfg.Asks, cfg.Asks)
	for _, q := range questions {
		for _, past := range []bool{false, true} {
			lat := make([]time.Duration, 0, cfg.Asks)
			for range cfg.Asks {
				var c state.Clock
				if past {
					c.AsOf = stats.From.Add(time.Duration(rng.Int64N(int64(span))))
				}
				start := time.Now()
				a, err := q.run(c)
				lat = append(lat, time.Since(start))
				if err != nil {
					return fmt.Errorf("ask %s: %w", q.name, err)
				}
				if a == nil {
					return fmt.Errorf("ask %s: no answer", q.name)
				}
			}
			slices.Sort(lat)
			when, goal := "now", askGoal
			if past {
				when, goal = "as of a past time", asOfGoal
			}
			p99 := quantile(lat, 0.99)
			r.add(figure{name: fmt.Sprintf("ask %s %s p50/p99, %s entries", q.name, when, count(n)),
				value: fmt.Sprintf("%s / %s", micros(quantile(lat, 0.5)), micros(p99)), num: float64(p99) / float64(time.Microsecond),
				limit: fmt.Sprintf("%s entry read p50", micros(quantile(reads, 0.5))),
				goal:  fmt.Sprintf("p99 <= %s", goal), met: met(p99 <= goal)})
		}
	}
	return nil
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// initGenRecord creates a record (in the store db names, "" for SQLite in
// path) with the keys of gen's authors, for a generated negotiation.
func initGenRecord(ctx context.Context, path, db, origin string) (*record.Record, error) {
	rec, err := record.InitDB(ctx, path, db, origin)
	if err != nil {
		return nil, err
	}
	for _, a := range gen.Authors {
		if _, _, err := rec.NewKey(ctx, a, "bench"); err != nil {
			rec.Close()
			return nil, err
		}
	}
	return rec, nil
}
