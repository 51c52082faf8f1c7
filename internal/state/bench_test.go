package state_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/entry"
	"parley/internal/gen"
	"parley/internal/record"
	"parley/internal/state"
)

// generated returns a record holding n generated entries: a new one, or,
// with -bench-dir, the one an earlier run kept there.
func generated(tb testing.TB, n int) *record.Record {
	tb.Helper()
	if *benchDir == "" {
		r := generate(tb, filepath.Join(tb.TempDir(), "rec"), n)
		tb.Cleanup(func() { r.Close() })
		return r
	}
	dir := filepath.Join(*benchDir, fmt.Sprintf("gen-%d", n))
	if _, err := os.Stat(dir); err != nil {
		// Generated aside and renamed when whole: an interrupted run
		// leaves nothing a later one would take for a record of n entries.
		partial := dir + ".partial"
		if err := os.RemoveAll(partial); err != nil {
			tb.Fatal(err)
		}
		if err := generate(tb, partial, n).Close(); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(partial, dir); err != nil {
			tb.Fatal(err)
		}
	}
	r, err := record.Open(tb.Context(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// generate creates a record in dir and appends n generated entries to it.
func generate(tb testing.TB, dir string, n int) *record.Record {
	tb.Helper()
	r, err := record.Init(tb.Context(), dir, "parley.test/gen")
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range gen.Authors {
		if _, _, err := r.NewKey(tb.Context(), a, "test"); err != nil {
			r.Close()
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := gen.Write(tb.Context(), &buf, gen.Config{Entries: n, Seed: 1}); err != nil {
		r.Close()
		tb.Fatal(err)
	}
	sg := r.Signers("")
	var batch []*entry.Signed
	appendBatch := func() {
		if _, err := r.Log.Append(tb.Context(), batch); err != nil {
			r.Close()
			tb.Fatal(err)
		}
		batch = nil
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		u, err := record.ParseUnsigned(sc.Bytes())
		if err == nil {
			var s *entry.Signed
			if s, err = sg.Sign(u); err == nil {
				batch = append(batch, s)
			}
		}
		if err != nil {
			r.Close()
			tb.Fatal(err)
		}
		if len(batch) == 1000 {
			appendBatch()
		}
	}
	appendBatch()
	return r
}

var (
	benchEntries = flag.Int("bench-entries", 5000, "entries in the generated record the benchmarks use")
	benchDir     = flag.String("bench-dir", "", "keep the generated records in this directory and reuse them in later runs")
)

func BenchmarkRebuild(b *testing.B) {
	r := generated(b, *benchEntries)
	b.ResetTimer()
	for range b.N {
		if err := r.Rebuild(b.Context(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(r.Log.Size())/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkAsk(b *testing.B) {
	r := generated(b, *benchEntries)
	ctx := b.Context()
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"pending", func() error { _, err := r.Ask.Pending(ctx, state.Clock{}, 100); return err }},
		{"tracks", func() error { _, err := r.Ask.Tracks(ctx, state.Clock{}); return err }},
		{"positions", func() error { _, err := r.Ask.Positions(ctx, state.Clock{}, ""); return err }},
		{"routes", func() error { _, err := r.Ask.Routes(ctx, state.Clock{}, "", "", 100); return err }},
		{"roster", func() error { _, err := r.Ask.Roster(ctx, state.Clock{}, ""); return err }},
		{"timeline", func() error { _, err := r.Ask.Timeline(ctx, state.Clock{}, time.Time{}, 100); return err }},
		{"statements", func() error {
			_, err := r.Ask.Statements(ctx, state.Clock{}, state.StatementFilter{Limit: 100})
			return err
		}},
	} {
		b.Run(q.name, func(b *testing.B) {
			for range b.N {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
