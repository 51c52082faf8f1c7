package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/entry"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/tlog"
)

var (
	full  = flag.Bool("full", false, "TestFull: run the full benchmark, the default Config (several minutes, about 6 GB of scratch space)")
	quick = flag.Bool("quick", false, "TestFull: run the Quick preset (about 20 seconds)")
)

// TestFull runs the whole benchmark and prints its report, when asked with
// -full or -quick:
//
//	go test -run TestFull -full -v -timeout 1h ./internal/bench/
func TestFull(t *testing.T) {
	var cfg Config
	switch {
	case *full:
	case *quick:
		cfg = Quick()
	default:
		t.Skip("the full benchmark runs only with -full or -quick")
	}
	cfg.Dir = t.TempDir()
	cfg.Progress = &stamped{w: os.Stderr, start: time.Now()}
	var out bytes.Buffer
	err := Run(context.Background(), &out, cfg)
	fmt.Print(out.String())
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunQuick runs every step at a tiny size and checks that the report
// holds every figure with a plausible value. It says nothing of the
// figures' goals, which only a full run on a quiet machine can judge.
func TestRunQuick(t *testing.T) {
	cfg := Config{
		Dir:          t.TempDir(),
		Entries:      1000,
		ProofSizes:   []int64{2000},
		Proofs:       100,
		Appends:      400,
		Clients:      8,
		Batch:        50,
		CryptoTime:   50 * time.Millisecond,
		Projected:    1000,
		Asks:         3,
		Incidents:    peakDay,
		ServeTime:    300 * time.Millisecond,
		MixedTime:    time.Second,
		ServeClients: 4,
	}
	if testing.Verbose() {
		cfg.Progress = &stamped{w: os.Stderr, start: time.Now()}
	}
	var out bytes.Buffer
	if err := Run(context.Background(), &out, cfg); err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())

	values := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		cols := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(cols) >= 2 {
			values[cols[0]] = cols[1]
		}
	}
	for name, value := range values {
		if strings.HasPrefix(name, "mixed load") && !strings.Contains(value, " 0 errors; verify: ") {
			t.Errorf("%s: %q, want no errors and a log that verifies", name, value)
		}
	}
	for _, f := range []struct {
		name     string  // a regular expression for the figure's name
		min, max float64 // the plausible range of the value's first number
	}{
		{`Ed25519 sign, 1 core`, 100, 1e7},
		{`Ed25519 sign, all cores \(\d+\)`, 100, 1e7},
		{`Ed25519 verify, 1 core`, 100, 1e7},
		{`Ed25519 verify, all cores \(\d+\)`, 100, 1e7},
		{`SHA-256 of \d+-byte leaves, 1 core`, 1, 1e6},
		{`SHA-256 of \d+-byte leaves, all cores \(\d+\)`, 1, 1e6},
		{`signed appends, 8 clients x 1 entry/call`, 1, 1e7},
		{`signed appends, 8 clients x 50 entries/call`, 1, 1e7},
		{`verify bundle, 100 entries`, 1e-6, 100},
		{`verify bundle, 1,000 entries`, 1e-6, 100},
		{`peak heap in Verify, 1,000 entries`, 0.01, 1000},
		{`inclusion proof p50, 2,000 entries`, 0.1, 1e6},
		{`inclusion proof p99, 2,000 entries`, 0.1, 1e6},
		{`consistency proof p50, 2,000 entries`, 0.1, 1e6},
		{`consistency proof p99, 2,000 entries`, 0.1, 1e6},
		{`generated entries signed, appended and folded, 1,000`, 1, 1e7},
		{`projection rebuild, 1,005 entries`, 1, 1e8},
		{`ask positions now p50/p99, 1,005 entries`, 1, 1e7},
		{`ask pending as of a past time p50/p99, 1,005 entries`, 1, 1e7},
		{`ask timeline now p50/p99, 1,005 entries`, 1, 1e7},
		{`database size, 1,005 entries`, 0.01, 1e4},
		{`HTTP /healthz, 4 clients`, 1, 1e7},
		{`ask \(the 7 questions, now and as of\) over HTTP, 1,00\d entries \(p50 .*\)`, 1, 1e7},
		{`inclusion proofs over HTTP, 1,00\d entries \(p50 .*\)`, 1, 1e7},
		{`signed appends over HTTP, 4 clients, one entry per request`, 1, 1e7},
		{`server resident memory \(now / peak; of it, the process's own\).*`, 1, 1e5},
		{`mixed load, 1s, 4 clients \(p99 .*\)`, 1, 1e9},
		{`incident reports imported from ACLED CSV, 1,500`, 1, 1e7},
		{`ask compliance p99, 1,524 incidents \(p50 .*\)`, 0.001, 1e5},
		{`daily report of 1,500 incidents, made and rendered, p99 \(.*\)`, 0.001, 1e5},
		{`map of a day of 1,500 incidents, asked and drawn, p99 \(.*\)`, 0.001, 1e5},
	} {
		re := regexp.MustCompile(`^` + f.name + `$`)
		found := false
		for name, value := range values {
			if !re.MatchString(name) {
				continue
			}
			found = true
			num := regexp.MustCompile(`^[0-9][0-9,]*(\.[0-9]+)?`).FindString(value)
			v, err := strconv.ParseFloat(strings.ReplaceAll(num, ",", ""), 64)
			if err != nil || v < f.min || v > f.max {
				t.Errorf("%s: value %q is not between %g and %g", name, value, f.min, f.max)
			}
		}
		if !found {
			t.Errorf("no figure named %q in the report", f.name)
		}
	}
}

// stamped prefixes each write with the time since start.
type stamped struct {
	w     io.Writer
	start time.Time
}

func (s *stamped) Write(p []byte) (int, error) {
	fmt.Fprintf(s.w, "%6.2fs ", time.Since(s.start).Seconds())
	return s.w.Write(p)
}

var (
	clients   = flag.Int("clients", 64, "BenchmarkAppendSQLite: concurrent appenders")
	bundle    = flag.Int64("bundle", 10_000, "BenchmarkVerifyBundle: entries in the bundle")
	proofSize = flag.Int64("proofsize", 100_000, "BenchmarkInclusionProof, BenchmarkConsistencyProof: entries in the tree")
)

func testCorpus(b *testing.B) *corpus {
	b.Helper()
	c, err := newCorpus()
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// perSecondMetric reports b.N operations over the benchmark's time.
func perSecondMetric(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkEd25519Sign(b *testing.B) {
	c := testCorpus(b)
	e, a := c.note(1)
	s, err := entry.Sign(e, a.signer)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.signer.Sign(s.Canonical); err != nil {
				b.Error(err)
				return
			}
		}
	})
	perSecondMetric(b, "signs/s")
}

func BenchmarkEd25519Verify(b *testing.B) {
	c := testCorpus(b)
	e, a := c.note(1)
	s, err := entry.Sign(e, a.signer)
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !a.verifier.Verify(s.Canonical, s.Sig) {
				b.Error("a good signature does not verify")
				return
			}
		}
	})
	perSecondMetric(b, "verifies/s")
}

func BenchmarkSHA256(b *testing.B) {
	c := testCorpus(b)
	leaf := c.syntheticLeaf(1).Data
	b.SetBytes(int64(len(leaf)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sha256.Sum256(leaf)
		}
	})
	perSecondMetric(b, "hashes/s")
}

// BenchmarkAppendSQLite appends pre-signed entries from -clients concurrent
// goroutines, one entry per call and 100 per call.
func BenchmarkAppendSQLite(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			c := testCorpus(b)
			keys, err := c.keyEntries()
			if err != nil {
				b.Fatal(err)
			}
			notes, err := c.sign(ctx, 0, int64(b.N*batch))
			if err != nil {
				b.Fatal(err)
			}
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "appends.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			lc, err := c.logConfig()
			if err != nil {
				b.Fatal(err)
			}
			l, err := tlog.Open(ctx, st, lc)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Append(ctx, keys); err != nil {
				b.Fatal(err)
			}
			before := l.Size()
			var next atomic.Int64
			b.SetParallelism((*clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1)-1) * batch
					if _, err := l.Append(ctx, notes[i:i+batch]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			var commits int
			st.Checkpoints(ctx, before+1, l.Size(), func(store.Checkpoint) error { commits++; return nil })
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(b.N*batch)/float64(max(commits, 1)), "entries/commit")
		})
	}
}

// BenchmarkVerifyBundle verifies a bundle of -bundle entries.
func BenchmarkVerifyBundle(b *testing.B) {
	ctx := context.Background()
	c := testCorpus(b)
	cfg, _ := Config{}.withDefaults()
	paths, err := buildBundles(ctx, cfg, c, b.TempDir(), []int64{*bundle})
	if err != nil {
		b.Fatal(err)
	}
	floor, err := cryptoFloor(ctx, paths[0], c.verifiers())
	if err != nil {
		b.Fatal(err)
	}
	var took time.Duration
	var peak memoryPeak
	b.ResetTimer()
	for b.Loop() {
		v, err := verifyBundle(ctx, cfg, paths[0], c.operator.vkey, *bundle)
		if err != nil {
			b.Fatal(err)
		}
		took += v.took
		peak.heap = max(peak.heap, v.peak.heap)
	}
	b.ReportMetric(float64(*bundle)*float64(b.N)/took.Seconds(), "entries/s")
	b.ReportMetric(took.Seconds()/float64(b.N)/floor.Seconds(), "x-crypto")
	b.ReportMetric(float64(peak.heap)/1e6, "peak-heap-MB")
}

// proofTree builds a tree of -proofsize synthetic entries and opens it.
func proofTree(b *testing.B) (*corpus, *tlog.Log) {
	b.Helper()
	ctx := context.Background()
	c := testCorpus(b)
	cfg, _ := Config{}.withDefaults()
	path := filepath.Join(b.TempDir(), "proofs.db")
	if err := buildTree(ctx, cfg, c, path, *proofSize, &report{}); err != nil {
		b.Fatal(err)
	}
	st, l, err := openTree(ctx, path, *proofSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close(); st.Close() })
	return c, l
}

// reportLatency reports the median and 99th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(quantile(lat, 0.50))/1e3, "p50-µs")
	b.ReportMetric(float64(quantile(lat, 0.99))/1e3, "p99-µs")
}

// BenchmarkInclusionProof proves random entries in a tree of -proofsize.
func BenchmarkInclusionProof(b *testing.B) {
	ctx := context.Background()
	c, l := proofTree(b)
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := l.ProveInclusion(ctx, rng.Int64N(*proofSize), 0)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(lat) <= 100 { // check a sample, off the clock's purpose
			if _, err := p.Check(c.operator.vkey); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportLatency(b, lat)
}

// BenchmarkConsistencyProof proves random older sizes consistent with a tree
// of -proofsize.
func BenchmarkConsistencyProof(b *testing.B) {
	ctx := context.Background()
	c, l := proofTree(b)
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := l.ProveConsistency(ctx, 1+rng.Int64N(*proofSize-1), *proofSize)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(lat) <= 100 {
			if _, err := p.Check(c.operator.vkey); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportLatency(b, lat)
}
