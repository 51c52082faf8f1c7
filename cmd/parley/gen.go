package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"parley/internal/gen"
)

// bigBatch is about the most entries add --batch takes comfortably at once.
const bigBatch = 100000

// runGen writes a synthetic negotiation as a batch file, for benchmarks and
// load tests, and says on stderr which keys and record it needs.
func runGen(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "gen")
	entries := fs.Int("entries", 0, "the number of entries to write (required)")
	seed := fs.Uint64("seed", 1, "the seed: the same seed writes the same file")
	out := fs.String("out", "-", "the file to write, or - for standard output")
	parties := fs.Int("parties", gen.DefaultParties, "the number of parties, sides and mediators (at least 3)")
	base := fs.Int64("base", 1+int64(len(gen.Authors)),
		"the log index the first entry will get: the size of the record it is added to (genesis + one entry per key)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	switch {
	case *entries < 1:
		return usageErr("gen: say how many entries to write with --entries N")
	case *parties < 3:
		return usageErr("gen: --parties %d: a negotiation needs at least 3 (two sides and a mediator)", *parties)
	case *base < 1:
		return usageErr("gen: --base %d: entry 0 is the record's genesis, so the first entry is at least 1", *base)
	}
	cfg := gen.Config{Entries: *entries, Seed: *seed, Parties: *parties, Base: *base}

	var w io.Writer = e.stdout
	var f *os.File
	if *out != "-" {
		var err error
		if f, err = os.Create(*out); err != nil {
			return fmt.Errorf("gen: %w", err)
		}
		w = f
	}
	start := time.Now()
	st, err := gen.Write(ctx, w, cfg)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(*out)
			return fmt.Errorf("gen: nothing written: %w", err)
		}
	}
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	where, file := *out, *out
	if where == "-" {
		where, file = "standard output", "FILE"
	}
	fmt.Fprintf(e.stderr, "gen: wrote %d entries to %s in %s: entries %d to %d of the record, %s to %s; %d corrections, %d retractions, at most %d actions open at once\n",
		st.Entries, where, time.Since(start).Round(time.Millisecond), st.First, st.Last,
		st.From.Format(time.DateOnly), st.To.Format(time.DateOnly), st.Corrections, st.Types["retraction"], st.MaxOpenActions)
	fmt.Fprintf(e.stderr, "gen: the batch needs the keys %s, and a record of exactly %d entries to add it to", strings.Join(st.Authors, ", "), *base)
	if *base == 1+int64(len(st.Authors)) {
		var steps []string
		for _, a := range st.Authors {
			steps = append(steps, "parley key new "+a)
		}
		fmt.Fprintf(e.stderr, "; on a fresh record:\n  %s && parley add --batch %s\n", strings.Join(steps, " && "), file)
	} else {
		fmt.Fprintln(e.stderr)
	}
	if st.Entries > bigBatch {
		fmt.Fprintf(e.stderr, "gen: add --batch holds a whole file in memory; add a file this large in parts, in order (split -l %d %s part-)\n", bigBatch, file)
	}
	return nil
}
