package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"parley/internal/store/sqlite"
	ptlog "parley/internal/tlog"
)

// proofGoal is the slowest a proof may be at the 99th percentile.
const proofGoal = time.Millisecond

// measureProofs measures inclusion and consistency proof latency on a tree of
// each of cfg.ProofSizes.
func measureProofs(ctx context.Context, cfg Config, c *corpus, dir string, r *report) error {
	var leafSize int
	for _, size := range cfg.ProofSizes {
		if err := proofsAt(ctx, cfg, c, dir, size, r); err != nil {
			return fmt.Errorf("tree of %s entries: %w", count(size), err)
		}
		leafSize = len(c.syntheticLeaf(size - 1).Data)
	}
	r.note("proofs: each tree is a new SQLite file written by tlog.Synthesize: the genesis entry, then synthetic notes shaped as the signed ones (%d bytes) but with an all-zero placeholder signature, which does not verify, and with index-ordered store hashes (so that SQLite appends to its hash index instead of inserting at random, which would take far longer); the tiles, and a checkpoint signed by the operator every 65,536 entries, are real. Proofs run one at a time through the real read path, tlog.Log.ProveInclusion (the entry at a random index, in the latest tree) and ProveConsistency (a random older size against the latest), on the reopened file; every proof is then checked with Check, untimed, and all pass. The limit is one read of a random level-0 tile from the same store.", leafSize)
	return nil
}

// proofsAt builds a tree of size entries and measures proofs on it.
func proofsAt(ctx context.Context, cfg Config, c *corpus, dir string, size int64, r *report) error {
	path := filepath.Join(dir, fmt.Sprintf("proofs-%d.db", size))
	defer removeDB(path)
	if err := buildTree(ctx, cfg, c, path, size, r); err != nil {
		return err
	}
	st, l, err := openTree(ctx, path, size)
	if err != nil {
		return err
	}
	defer st.Close()
	defer l.Close()
	rng := rand.New(rand.NewPCG(uint64(size), 2025))

	progress(cfg, "measuring %s inclusion proofs in the tree of %s", count(cfg.Proofs), count(size))
	incl := make([]ptlog.InclusionProof, cfg.Proofs)
	inclLat := make([]time.Duration, cfg.Proofs)
	for i := range incl {
		index := rng.Int64N(size)
		start := time.Now()
		p, err := l.ProveInclusion(ctx, index, 0)
		inclLat[i] = time.Since(start)
		if err != nil {
			return fmt.Errorf("prove entry %d: %w", index, err)
		}
		incl[i] = p
	}
	for _, p := range incl {
		if trust, err := p.Check(c.operator.vkey); err != nil || trust != ptlog.Signed {
			return fmt.Errorf("the inclusion proof of entry %d does not check: %s %v", p.Index, trust, err)
		}
	}

	progress(cfg, "measuring %s consistency proofs in the tree of %s", count(cfg.Proofs), count(size))
	cons := make([]ptlog.ConsistencyProof, cfg.Proofs)
	consLat := make([]time.Duration, cfg.Proofs)
	for i := range cons {
		old := 1 + rng.Int64N(size-1)
		start := time.Now()
		p, err := l.ProveConsistency(ctx, old, size)
		consLat[i] = time.Since(start)
		if err != nil {
			return fmt.Errorf("prove %d consistent with %d: %w", old, size, err)
		}
		cons[i] = p
	}
	for _, p := range cons {
		if _, err := p.Check(c.operator.vkey); err != nil {
			return fmt.Errorf("the consistency proof of %d with %d does not check: %w", p.OldSize, p.NewSize, err)
		}
	}

	// The limit: one tile read, the unit of a proof's storage work.
	tiles := (size + 255) / 256
	tileLat := make([]time.Duration, min(cfg.Proofs, 2000))
	for i := range tileLat {
		start := time.Now()
		if _, err := st.Tile(ctx, 0, rng.Int64N(tiles)); err != nil {
			return fmt.Errorf("read tile: %w", err)
		}
		tileLat[i] = time.Since(start)
	}
	slices.Sort(tileLat)

	for _, k := range []struct {
		kind string
		lat  []time.Duration
	}{{"inclusion", inclLat}, {"consistency", consLat}} {
		slices.Sort(k.lat)
		for _, q := range []float64{0.50, 0.99} {
			v := quantile(k.lat, q)
			f := figure{
				name:  fmt.Sprintf("%s proof p%.0f, %s entries", k.kind, 100*q, count(size)),
				value: micros(v),
				num:   float64(v) / float64(time.Microsecond),
				limit: fmt.Sprintf("%s tile read p%.0f", micros(quantile(tileLat, q)), 100*q),
			}
			if q == 0.99 {
				f.ratio = fmt.Sprintf("%.2f", float64(v)/float64(proofGoal))
				f.goal = "<= " + millis(proofGoal)
				f.met = met(v <= proofGoal)
			}
			r.add(f)
		}
	}
	return nil
}

// openTree opens the tree of size entries at path, read-only.
func openTree(ctx context.Context, path string, size int64) (*sqlite.Store, *ptlog.Log, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	reg, err := types()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	l, err := ptlog.Open(ctx, st, ptlog.Config{Types: reg}) // no operator key: read-only
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if l.Size() != size {
		l.Close()
		st.Close()
		return nil, nil, fmt.Errorf("the tree has %d entries, want %d", l.Size(), size)
	}
	return st, l, nil
}

// buildTree writes a synthetic record of size entries to a new SQLite file.
func buildTree(ctx context.Context, cfg Config, c *corpus, path string, size int64, r *report) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	progress(cfg, "building a tree of %s synthetic entries", count(size))
	tk := newTicker(cfg)
	start := time.Now()
	err = ptlog.Synthesize(ctx, st, ptlog.SyntheticRecord{
		Origin: origin, Operator: c.operator.signer, OperatorKey: c.operator.vkey,
		Size: size, Leaf: c.syntheticLeaf,
		Progress: func(written int64) {
			tk.say("tree: %s of %s entries written", count(written), count(size))
		},
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	r.note("tree of %s entries built in %s.", count(size), seconds(time.Since(start)))
	return nil
}
