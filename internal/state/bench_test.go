package state_test

import (
	"bufio"
	"bytes"
	"flag"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/entry"
	"parley/internal/gen"
	"parley/internal/record"
	"parley/internal/state"
)

// generated returns a record holding n generated entries.
func generated(tb testing.TB, n int) *record.Record {
	tb.Helper()
	r, err := record.Init(tb.Context(), filepath.Join(tb.TempDir(), "rec"), "parley.test/gen")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	for _, a := range gen.Authors {
		if _, _, err := r.NewKey(tb.Context(), a, "test"); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := gen.Write(tb.Context(), &buf, gen.Config{Entries: n, Seed: 1}); err != nil {
		tb.Fatal(err)
	}
	sg := r.Signers("")
	var batch []*entry.Signed
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		u, err := record.ParseUnsigned(sc.Bytes())
		if err != nil {
			tb.Fatal(err)
		}
		s, err := sg.Sign(u)
		if err != nil {
			tb.Fatal(err)
		}
		batch = append(batch, s)
		if len(batch) == 1000 {
			if _, err := r.Log.Append(tb.Context(), batch); err != nil {
				tb.Fatal(err)
			}
			batch = nil
		}
	}
	if _, err := r.Log.Append(tb.Context(), batch); err != nil {
		tb.Fatal(err)
	}
	return r
}

var benchEntries = flag.Int("bench-entries", 5000, "entries in the generated record the benchmarks use")

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
