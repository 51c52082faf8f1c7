// Package bench measures parley's figures in one run, each next to the
// physical limit it is bound by, measured on the same machine in the same
// run: Ed25519 and SHA-256 rates; signed, verified, sequenced and durable
// appends per second on SQLite against the all-core signature-verify cap;
// bundle verification against the bare cost of its signatures and hashes,
// with its peak memory at two sizes; and inclusion and consistency proof
// latency on large trees.
//
// Run prints the figures as a plain table. The go test benchmarks in this
// package measure the same things one at a time.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config says how big a run is. Zero fields take the defaults, which make
// the full run: about 8 minutes on two cores, of which about 2 building the
// 1,000,000-entry bundle and 2.5 building the 10,000,000-entry tree. Quick
// returns a run of about 20 seconds for CI.
type Config struct {
	// Dir is where the run's databases and bundles go: a new directory is
	// made in it and removed afterwards (default: the system's temporary
	// directory). The full run needs about 7 GB there at its peak.
	Dir string
	// Entries is the size of the bundle verified (default 1,000,000); a
	// bundle of a tenth of it is verified too, to show that memory does not
	// grow with size. At least 1,000.
	Entries int64
	// ProofSizes are the tree sizes at which proof latency is measured
	// (default 1,000,000 and 10,000,000).
	ProofSizes []int64
	// Proofs is the number of proofs of each kind at each size (default 10,000).
	Proofs int
	// Appends is the number of entries appended in each append test, one
	// entry per call and then Batch per call (default 200,000).
	Appends int
	// Clients is the number of concurrent appenders (default 64).
	Clients int
	// Batch is the number of entries per call in the batch append test (default 100).
	Batch int
	// Projected is the size of the generated negotiation the projections
	// are measured on (default 1,000,000).
	Projected int64
	// Asks is how many times each question is asked, now and in the past
	// (default 200).
	Asks int
	// Incidents is the number of incident reports imported in the
	// monitoring step (default 1,000,000; at least peakDay, 1,500).
	Incidents int64
	// ServeRecord is a record (data directory) to serve in the serve step;
	// the bench adds an account, a key and entries to it, so give it a copy.
	// Default: the projections step's record if it ran, else a generated
	// record of Projected entries.
	ServeRecord string
	// ServeExec is the parley binary to run `serve` with, so that the
	// server has a process (and a resident size) of its own; "" serves
	// in the bench's process.
	ServeExec string
	// ServeTime is how long each load of the serve step runs (default 10s);
	// MixedTime how long the mixed load runs (default 60s).
	ServeTime, MixedTime time.Duration
	// ServeClients is the number of concurrent HTTP clients (default 32).
	ServeClients int
	// ClusterDB is the PostgreSQL server the cluster step runs on, in
	// schemas of its own that it drops afterwards (default
	// DefaultClusterDB). Without one the step is skipped, saying so; with
	// CI set in the environment it fails.
	ClusterDB string
	// ClusterEntries is the size of the generated record on PostgreSQL
	// that the cluster step asks its questions of (default Projected).
	ClusterEntries int64
	// ClusterTrials is how many times the cluster step kills the server
	// holding the turn to append (default 5).
	ClusterTrials int
	// Steps, if set, names the steps to run: crypto, appends, bundles,
	// proofs, projections, serve, monitoring, cluster. The appends step needs
	// crypto's verify rate for its ratio, and runs it if asked for alone.
	Steps []string
	// CryptoTime is how long each Ed25519 and SHA-256 rate is measured (default 2s).
	CryptoTime time.Duration
	// Progress, if set, receives a status line now and then (the command
	// points it at stderr).
	Progress io.Writer
}

// Quick returns the configuration of a run of about 20 seconds on two cores,
// for CI: a 50,000-entry bundle, proofs on a 200,000-entry tree, 20,000
// appends of each kind and half a second for each crypto rate. Its figures
// are noisier than the full run's, and its proofs and bundle too small to
// show how the costs grow.
func Quick() Config {
	return Config{
		Entries:    50_000,
		ProofSizes: []int64{200_000},
		Proofs:     2_000,
		Appends:    20_000,
		Clients:    64,
		Batch:      100,
		CryptoTime: 500 * time.Millisecond,
		Projected:  20_000,
		Asks:       50,
		Incidents:  20_000,
		ServeTime:  time.Second,
		MixedTime:  3 * time.Second,
	}
}

func (c Config) withDefaults() (Config, error) {
	if c.Entries == 0 {
		c.Entries = 1_000_000
	}
	if len(c.ProofSizes) == 0 {
		c.ProofSizes = []int64{1_000_000, 10_000_000}
	}
	if c.Proofs == 0 {
		c.Proofs = 10_000
	}
	if c.Appends == 0 {
		c.Appends = 200_000
	}
	if c.Clients == 0 {
		c.Clients = 64
	}
	if c.Batch == 0 {
		c.Batch = 100
	}
	if c.Projected == 0 {
		c.Projected = 1_000_000
	}
	if c.Asks == 0 {
		c.Asks = 200
	}
	if c.Incidents == 0 {
		c.Incidents = 1_000_000
	}
	if c.ServeTime == 0 {
		c.ServeTime = 10 * time.Second
	}
	if c.MixedTime == 0 {
		c.MixedTime = time.Minute
	}
	if c.ServeClients == 0 {
		c.ServeClients = 32
	}
	if c.CryptoTime == 0 {
		c.CryptoTime = 2 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	switch {
	case c.Entries < 1000:
		return c, fmt.Errorf("bench: the bundle must have at least 1,000 entries, not %d", c.Entries)
	case c.Projected < 1000:
		return c, fmt.Errorf("bench: the generated negotiation must have at least 1,000 entries, not %d", c.Projected)
	case c.Incidents < peakDay:
		return c, fmt.Errorf("bench: the monitoring step imports at least %d incidents (a day at the OSCE peak), not %d", peakDay, c.Incidents)
	case c.Proofs < 1 || c.Asks < 1 || c.Appends < 1 || c.Clients < 1 || c.Batch < 1 || c.CryptoTime < 0:
		return c, errors.New("bench: proofs, appends, clients and batch must be positive")
	}
	for _, s := range c.Steps {
		if !slices.Contains(stepNames, s) {
			return c, fmt.Errorf("bench: no step %q (the steps are %s)", s, strings.Join(stepNames, ", "))
		}
	}
	for _, n := range c.ProofSizes {
		if n < 2 {
			return c, fmt.Errorf("bench: a proof size must be at least 2, not %d", n)
		}
	}
	return c, nil
}

// Run measures every figure and writes the table to w. Status lines go to
// cfg.Progress. If a step fails, the figures measured so far are still
// written, and the error says which step failed.
func Run(ctx context.Context, w io.Writer, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(cfg.Dir, "parley-bench-")
	if err != nil {
		return fmt.Errorf("bench: scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	r := &report{}
	defer func() { r.write(w, time.Since(start)) }()

	c, err := newCorpus()
	if err != nil {
		return fmt.Errorf("bench: keys: %w", err)
	}
	steps := []struct {
		name string
		run  func() error
	}{
		{"crypto", func() error { return measureCrypto(ctx, cfg, c, r) }},
		{"appends", func() error { return measureAppends(ctx, cfg, c, dir, r) }},
		{"bundles", func() error { return measureBundles(ctx, cfg, c, dir, r) }},
		{"proofs", func() error { return measureProofs(ctx, cfg, c, dir, r) }},
		{"projections", func() error { return measureProjections(ctx, cfg, dir, r) }},
		{"serve", func() error { return measureServe(ctx, cfg, dir, r) }},
		{"monitoring", func() error { return measureMonitoring(ctx, cfg, dir, r) }},
		{"cluster", func() error { return measureCluster(ctx, cfg, dir, r) }},
	}
	for _, s := range steps {
		if !cfg.wants(s.name) {
			continue
		}
		m := startCPU()
		err := s.run()
		if share, ok := m.others(); ok {
			r.load = append(r.load, fmt.Sprintf("%s %.0f %%", s.name, 100*share))
		}
		if err != nil {
			return fmt.Errorf("bench: %s: %w", s.name, err)
		}
	}
	return nil
}

// stepNames are the steps a run may be limited to.
var stepNames = []string{"crypto", "appends", "bundles", "proofs", "projections", "serve", "monitoring", "cluster"}

// wants says whether the run includes the step.
func (c Config) wants(name string) bool {
	return len(c.Steps) == 0 || slices.Contains(c.Steps, name) ||
		(name == "crypto" && slices.Contains(c.Steps, "appends"))
}

// A figure is one line of the report.
type figure struct {
	name  string  // what was measured
	value string  // the measurement, with its unit
	num   float64 // the measurement as a number (for tests)
	limit string  // the limit it is compared with, measured in the same run
	ratio string  // value over limit, or over the goal
	goal  string
	met   *bool // whether the goal was met, if there is one
}

// A report collects the figures and the notes that say what they are.
type report struct {
	figures []figure
	notes   []string
	// verifyCap is the all-core Ed25519 verify rate, once measured.
	verifyCap float64
	// load is, for each step, the share of the CPU other processes took.
	load []string
}

func (r *report) add(f figure) { r.figures = append(r.figures, f) }

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *report) write(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "parley bench: %s, %d cores (GOMAXPROCS %d), %s/%s, %s\n\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tlimit (same run)\tratio\tgoal")
	for _, f := range r.figures {
		verdict := ""
		if f.met != nil {
			verdict = "met"
			if !*f.met {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.name, f.value, dash(f.limit), dash(f.ratio), dash(strings.TrimSpace(f.goal+" "+verdict)))
	}
	tw.Flush()
	notes := r.notes
	if len(r.load) > 0 {
		notes = append(notes, "other processes took this share of the machine's CPU during each step (figures taken while they were busy are lower than the machine can do): "+strings.Join(r.load, ", ")+".")
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	fmt.Fprintf(w, "\nwall time %s\n", took.Round(100*time.Millisecond))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func met(ok bool) *bool { return &ok }

// cpuModel names the processor, where Linux says.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// progress writes a status line.
func progress(cfg Config, format string, args ...any) {
	fmt.Fprintf(cfg.Progress, "bench: "+format+"\n", args...)
}

// A ticker limits status lines about one long step to one every few seconds.
type ticker struct {
	cfg  Config
	next time.Time
}

func newTicker(cfg Config) *ticker { return &ticker{cfg: cfg, next: time.Now().Add(5 * time.Second)} }

func (t *ticker) say(format string, args ...any) {
	if now := time.Now(); now.After(t.next) {
		t.next = now.Add(5 * time.Second)
		progress(t.cfg, format, args...)
	}
}

// count formats n with thousands separators: 1,000,000.
func count[T int | int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// perSecond formats a rate.
func perSecond(r float64) string { return count(int64(r+0.5)) + " /s" }

// percent formats a fraction.
func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + " %" }

// micros formats a duration in microseconds.
func micros(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
}

// seconds formats a duration in seconds.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

// megabytes formats a size in MB (10^6 bytes).
func megabytes(n uint64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
}

// millis formats a duration in milliseconds.
func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}
