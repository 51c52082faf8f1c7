package tlog_test

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	sumdb "golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/racedetect"
	"parley/internal/store/sqlite"
	"parley/internal/tlog"
)

// The crash test re-executes its own test binary as a child that appends to a
// record until the parent kills it with SIGKILL; the parent then reopens the
// record and checks that nothing the child acknowledged was lost.

var (
	crashTrialsFlag  = flag.Int("crash.trials", 0, "SIGKILL trials in TestCrashSIGKILL (0: 20, or 3 with -short)")
	crashMinAcksFlag = flag.Int("crash.minacks", 0, "fewest acknowledgements before a kill in TestCrashSIGKILL (0: 100, or 20 under the race detector)")
	crashMaxAcksFlag = flag.Int("crash.maxacks", 0, "most acknowledgements before a kill in TestCrashSIGKILL (0: 3000, or 600 under the race detector)")
	crashSeedFlag    = flag.Uint64("crash.seed", 0, "seed for TestCrashSIGKILL's kill points (0: random, logged)")
)

const (
	// crashChildEnv, when set to the record's directory, makes the test
	// binary act as the appending child.
	crashChildEnv = "PARLEY_CRASH_CHILD"
	// crashTrialEnv tells the child which trial it is.
	crashTrialEnv = "PARLEY_CRASH_TRIAL"

	crashOrigin     = "crash.parley.test/record"
	crashTickType   = "crash.tick"
	crashWorkers    = 8
	crashChildLimit = 2 * time.Minute  // a child left behind gives up on its own
	crashWatchdog   = 60 * time.Second // a trial with no kill by then fails
	crashMinDelay   = 5 * time.Millisecond
	crashMaxDelay   = 400 * time.Millisecond
)

// crashTick is the body of the child's entries: which trial, worker and
// Append call wrote it, and its place in that call.
type crashTick struct {
	Trial  int `json:"trial"`
	Worker int `json:"worker"`
	Seq    int `json:"seq"`
	Part   int `json:"part"`
	Of     int `json:"of"`
}

func (b *crashTick) Validate() error {
	if b.Of < 1 || b.Part < 0 || b.Part >= b.Of {
		return fmt.Errorf("part %d of %d", b.Part, b.Of)
	}
	return nil
}

// crashTypes returns a registry with the key types and crash.tick.
func crashTypes() *entry.Registry {
	r := entry.NewRegistry()
	if err := tlog.RegisterTypes(r); err != nil {
		panic(err)
	}
	if err := r.Register(entry.Type{Name: crashTickType, Doc: "a crash test's append", New: func() entry.Body { return new(crashTick) }}); err != nil {
		panic(err)
	}
	return r
}

// crashFiles names the files the parent and its children share.
type crashFiles struct{ dir string }

func (f crashFiles) db() string          { return filepath.Join(f.dir, "record.db") }
func (f crashFiles) operatorKey() string { return filepath.Join(f.dir, "operator.key") }
func (f crashFiles) authorKey() string   { return filepath.Join(f.dir, "author.key") }

func crashSigner(path string) (note.Signer, error) {
	skey, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return note.NewSigner(strings.TrimSpace(string(skey)))
}

// crashSign signs one crash.tick entry.
func crashSign(tick crashTick, author note.Signer) (*entry.Signed, error) {
	body, err := entry.Object(tick)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	return entry.Sign(entry.Entry{Type: crashTickType, Body: body, Time: now, Recorded: now}, author)
}

func TestCrashSIGKILL(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashRunChild(t, crashFiles{dir})
		return
	}
	if testing.Short() && *crashTrialsFlag == 0 {
		*crashTrialsFlag = 3
	}
	trials := *crashTrialsFlag
	if trials == 0 {
		trials = 20
	}
	// The race detector slows appends and verification about tenfold, and
	// every trial verifies the whole record: kill sooner to stay brief.
	minAcks, maxAcks := 100, 3000
	if racedetect.Enabled {
		minAcks, maxAcks = 20, 600
	}
	if *crashMinAcksFlag > 0 {
		minAcks = *crashMinAcksFlag
	}
	if *crashMaxAcksFlag > 0 {
		maxAcks = *crashMaxAcksFlag
	}
	if maxAcks < minAcks {
		t.Fatalf("-crash.maxacks=%d is below -crash.minacks=%d", maxAcks, minAcks)
	}
	seed := *crashSeedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("%d trials, killing after %d to %d acknowledgements or %v to %v; -crash.seed=%d",
		trials, minAcks, maxAcks, crashMinDelay, crashMaxDelay, seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	env := crashSetUp(t)
	env.minAcks, env.maxAcks = minAcks, maxAcks
	start := time.Now()
	var total crashTotals
	for trial := 1; trial <= trials; trial++ {
		r := env.runTrial(t, trial, rng)
		r.last = trial == trials
		env.check(t, r)
		total.add(r)
	}
	t.Logf("%d trials in %v: %d entries acknowledged by children (%d, %d and %d in a trial at least, on average and at most), "+
		"final size %d; %d of %d kills landed with appends in flight, %d entries committed but not acknowledged (kept, atomically)",
		trials, time.Since(start).Round(time.Millisecond), total.acked, total.minAcked, total.acked/int64(trials), total.maxAcked,
		env.size, total.inFlightKills, trials, total.unacked)
}

// crashEnv is the parent's view of the record across trials.
type crashEnv struct {
	files       crashFiles
	operatorKey string
	operator    note.Signer
	author      note.Signer
	// acked holds every acknowledged entry's hash by index, over all trials.
	acked map[int64]string
	// size and root are the record's after the last trial's own append.
	size int64
	root sumdb.Hash
	// A trial's child is killed after between minAcks and maxAcks
	// acknowledgements, or after a delay.
	minAcks, maxAcks int
}

// crashSetUp writes the keys and creates the record, with the author's key
// registered, before any child runs.
func crashSetUp(t *testing.T) *crashEnv {
	t.Helper()
	files := crashFiles{t.TempDir()}
	opSkey, opVkey, err := note.GenerateKey(crand.Reader, crashOrigin)
	if err != nil {
		t.Fatal(err)
	}
	auSkey, auVkey, err := note.GenerateKey(crand.Reader, "crash-author")
	if err != nil {
		t.Fatal(err)
	}
	for path, skey := range map[string]string{files.operatorKey(): opSkey, files.authorKey(): auSkey} {
		if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := &crashEnv{files: files, operatorKey: opVkey, acked: map[int64]string{}}
	if env.operator, err = crashSigner(files.operatorKey()); err != nil {
		t.Fatal(err)
	}
	if env.author, err = crashSigner(files.authorKey()); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	st, err := sqlite.Open(ctx, files.db())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := tlog.Open(ctx, st, tlog.Config{Origin: crashOrigin, Operator: env.operator, OperatorKey: opVkey, Types: crashTypes()})
	if err != nil {
		t.Fatalf("create record: %v", err)
	}
	defer l.Close()
	body, err := entry.Object(tlog.KeyRegisterBody{Key: auVkey, Holder: "the crash test's child processes"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	reg, err := entry.Sign(entry.Entry{Type: tlog.KeyRegister, Body: body, Time: now, Recorded: now}, env.operator)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, []*entry.Signed{reg}); err != nil {
		t.Fatalf("register the author key: %v", err)
	}
	env.size = l.Size()
	if env.root, err = l.RootAt(ctx, env.size); err != nil {
		t.Fatal(err)
	}
	return env
}

// crashCall is one Append call the child announced.
type crashCall struct {
	worker, seq, n int
	done           bool
}

// crashTrial is what the parent saw of one child.
type crashTrial struct {
	trial     int
	before    int64            // record size when the child started
	acks      map[int64]string // this trial's acknowledged entries
	calls     map[[2]int]*crashCall
	inFlight  int    // Append calls announced but not acknowledged when the child died
	killedBy  string // "acks" or "timer"
	last      bool   // the last trial checks every entry on the record
	committed int64  // the child's entries found on the record afterwards
}

// runTrial starts a child, kills it with SIGKILL mid-append and collects
// every acknowledgement it wrote before dying.
func (env *crashEnv) runTrial(t *testing.T, trial int, rng *rand.Rand) *crashTrial {
	t.Helper()
	r := &crashTrial{trial: trial, before: env.size, acks: map[int64]string{}, calls: map[[2]int]*crashCall{}}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+env.files.dir, crashTrialEnv+"="+strconv.Itoa(trial))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe() // the child exits if the parent goes away
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("trial %d: start child: %v", trial, err)
	}

	var killOnce sync.Once
	var killed, watchdogFired atomic.Bool
	kill := func() {
		killOnce.Do(func() {
			killed.Store(true)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("trial %d: SIGKILL: %v", trial, err)
			}
		})
	}
	watchdog := time.AfterFunc(crashWatchdog, func() { watchdogFired.Store(true); kill() })
	defer watchdog.Stop()

	// Kill after a number of acknowledgements, or after a delay once the
	// child is appending.
	killAt, delay := 0, time.Duration(0)
	if rng.IntN(3) == 0 {
		r.killedBy = "timer"
		delay = crashMinDelay + time.Duration(rng.Int64N(int64(crashMaxDelay-crashMinDelay)))
	} else {
		r.killedBy = "acks"
		killAt = env.minAcks + rng.IntN(env.maxAcks-env.minAcks+1)
	}

	var other []string // lines that are not part of the protocol: the child's complaints
	in := bufio.NewReader(stdout)
	for {
		line, err := in.ReadString('\n')
		if err != nil {
			if line != "" {
				other = append(other, "partial line: "+line)
			}
			break
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "ready":
			if n := int64(crashAtoi(t, f[1])); n != r.before {
				t.Fatalf("trial %d: the child opened the record at size %d, not %d", trial, n, r.before)
			}
			if delay > 0 {
				tm := time.AfterFunc(delay, kill)
				defer tm.Stop()
			}
		case len(f) == 4 && f[0] == "sub":
			c := &crashCall{worker: crashAtoi(t, f[1]), seq: crashAtoi(t, f[2]), n: crashAtoi(t, f[3])}
			r.calls[[2]int{c.worker, c.seq}] = c
		case len(f) == 3 && f[0] == "ack":
			idx := int64(crashAtoi(t, f[1]))
			if prev, dup := env.acked[idx]; dup {
				t.Fatalf("trial %d: child acknowledged index %d, already acknowledged for %s", trial, idx, prev)
			}
			if prev, dup := r.acks[idx]; dup {
				t.Fatalf("trial %d: child acknowledged index %d twice (%s, %s)", trial, idx, prev, f[2])
			}
			r.acks[idx] = f[2]
			if killAt > 0 && len(r.acks) >= killAt {
				kill()
			}
		case len(f) == 3 && f[0] == "done":
			c := r.calls[[2]int{crashAtoi(t, f[1]), crashAtoi(t, f[2])}]
			if c == nil {
				t.Fatalf("trial %d: child finished a call it never announced: %s", trial, line)
			}
			c.done = true
		default:
			other = append(other, strings.TrimSuffix(line, "\n"))
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !killed.Load() || !errors.As(err, &ee) || !crashSignalled(ee) {
		t.Fatalf("trial %d: the child ended before it was killed (%v) after %d acknowledgements\nstdout:\n%s\nstderr:\n%s",
			trial, err, len(r.acks), strings.Join(other, "\n"), stderr.String())
	}
	if watchdogFired.Load() {
		t.Fatalf("trial %d: the child did not reach its kill point within %v (%d acknowledgements, wanted %d)\nstdout:\n%s\nstderr:\n%s",
			trial, crashWatchdog, len(r.acks), killAt, strings.Join(other, "\n"), stderr.String())
	}
	if len(other) > 0 {
		t.Fatalf("trial %d: unexpected output from the child:\n%s\nstderr:\n%s", trial, strings.Join(other, "\n"), stderr.String())
	}
	for _, c := range r.calls {
		if !c.done {
			r.inFlight++
		}
	}
	return r
}

func crashSignalled(ee *exec.ExitError) bool {
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func crashAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("child wrote %q where a number belongs", s)
	}
	return n
}

// check reopens the record after a kill and checks that it lost nothing
// acknowledged, that every Append call is on it whole or not at all, that it
// verifies, and that it still takes appends.
func (env *crashEnv) check(t *testing.T, r *crashTrial) {
	t.Helper()
	ctx := t.Context()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("trial %d (killed by %s after %d acknowledgements, %d calls in flight): %s",
			r.trial, r.killedBy, len(r.acks), r.inFlight, fmt.Sprintf(format, args...))
	}
	st, err := sqlite.Open(ctx, env.files.db())
	if err != nil {
		fail("reopen the store: %v", err)
	}
	defer st.Close()
	l, err := tlog.Open(ctx, st, tlog.Config{Operator: env.operator, Types: crashTypes()})
	if err != nil {
		fail("reopen the record: %v", err)
	}
	defer l.Close()

	// The size: every leaf is under the latest checkpoint, and nothing
	// acknowledged, in this trial or before, is beyond it.
	size := l.Size()
	leaves, err := st.Size(ctx)
	if err != nil {
		fail("store size: %v", err)
	}
	if leaves != size {
		fail("the store holds %d leaves but the latest checkpoint is for %d", leaves, size)
	}
	if size < r.before {
		fail("the record shrank from %d to %d entries", r.before, size)
	}
	for idx := range r.acks {
		if idx < r.before || idx >= size {
			fail("entry %d was acknowledged, but the record has %d entries (%d before this trial)", idx, size, r.before)
		}
	}

	// The latest checkpoint opens under the operator key and signs the
	// tree's actual root.
	cp, ok := l.Latest()
	if !ok {
		fail("no checkpoint after reopening")
	}
	opVerifier, err := note.NewVerifier(env.operatorKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.OpenCheckpoint(cp.Note, opVerifier, crashOrigin); err != nil {
		fail("latest checkpoint: %v", err)
	}
	root, err := l.RootAt(ctx, size)
	if err != nil {
		fail("RootAt(%d): %v", size, err)
	}
	if root != cp.Root {
		fail("the checkpoint for size %d has root %s, but the tree's root is %s", size, cp.Root, root)
	}

	// Entries acknowledged in this trial read back one by one (a sample:
	// the pass below checks them all more cheaply), the last one included.
	var sample []int64
	last := int64(-1)
	for idx := range r.acks { // in random order
		last = max(last, idx)
		if len(sample) < 32 {
			sample = append(sample, idx)
		}
	}
	if last >= 0 {
		sample = append(sample, last)
	}
	for _, idx := range sample {
		e, err := l.Entry(ctx, idx)
		if err != nil {
			fail("acknowledged entry %d: %v", idx, err)
		}
		if got, want := e.HashHex(), r.acks[idx]; got != want {
			fail("entry %d has hash %s, but %s was acknowledged there", idx, got, want)
		}
	}

	// The tree as it was after the last trial is a prefix of this one, so
	// every entry acknowledged before is still at its index.
	if old, err := l.RootAt(ctx, env.size); err != nil || old != env.root {
		fail("the tree's root at size %d is %s (%v); after the last trial it was %s", env.size, old, err, env.root)
	}

	// One pass over this trial's entries (over the whole record in the last
	// trial): everything acknowledged is at its index, and this trial's
	// entries come in whole calls, each either acknowledged or in flight
	// when the child died.
	type callSeen struct{ first, parts int64 }
	seen := map[[2]int]*callSeen{}
	from, found, want := r.before, 0, len(r.acks)
	if r.last {
		from, want = 0, want+len(env.acked)
	}
	err = l.Entries(ctx, from, size, func(e tlog.Indexed) error {
		acked, ok := env.acked[e.Index]
		if !ok {
			acked, ok = r.acks[e.Index]
		}
		if ok {
			if got := e.HashHex(); got != acked {
				return fmt.Errorf("entry %d has hash %s, but %s was acknowledged there", e.Index, got, acked)
			}
			found++
		}
		if e.Index < r.before || e.Entry.Type != crashTickType {
			return nil
		}
		var tick crashTick
		if err := json.Unmarshal(e.Entry.Body, &tick); err != nil {
			return fmt.Errorf("entry %d: %v", e.Index, err)
		}
		if tick.Trial != r.trial {
			return fmt.Errorf("entry %d is from trial %d, after this trial began at %d", e.Index, tick.Trial, r.before)
		}
		key := [2]int{tick.Worker, tick.Seq}
		c := r.calls[key]
		if c == nil {
			return fmt.Errorf("entry %d is from call %d of worker %d, which the child never announced", e.Index, tick.Seq, tick.Worker)
		}
		if _, ok := r.acks[e.Index]; !ok && c.done {
			return fmt.Errorf("entry %d is from a call the child acknowledged, but not at this index", e.Index)
		}
		s := seen[key]
		if s == nil {
			s = &callSeen{first: e.Index}
			seen[key] = s
		}
		if tick.Of != c.n || int64(tick.Part) != s.parts || e.Index != s.first+s.parts {
			return fmt.Errorf("entry %d is part %d of %d of worker %d's call %d, out of place (the call's part 0 is at %d, %d parts seen)",
				e.Index, tick.Part, tick.Of, tick.Worker, tick.Seq, s.first, s.parts)
		}
		s.parts++
		r.committed++
		return nil
	})
	if err != nil {
		fail("%v", err)
	}
	if found != want {
		fail("%d of the %d entries acknowledged are on the record", found, want)
	}
	for key, s := range seen {
		if c := r.calls[key]; s.parts != int64(c.n) {
			fail("worker %d's call %d has %d of its %d entries on the record: an Append was not atomic", key[0], key[1], s.parts, c.n)
		}
	}
	for key, c := range r.calls {
		if c.done && seen[key] == nil {
			fail("worker %d's call %d was acknowledged but none of its entries is on the record", key[0], key[1])
		}
	}
	if size != r.before+r.committed {
		fail("the record grew from %d to %d, but holds %d of the child's entries", r.before, size, r.committed)
	}

	// The record, exported, verifies against the pinned operator key: every
	// signature, every checkpoint and the consistency between them.
	pr, pw := io.Pipe()
	exported := make(chan error, 1)
	go func() {
		err := l.Export(ctx, pw)
		pw.CloseWithError(err)
		exported <- err
	}()
	sum, err := tlog.Verify(ctx, pr, tlog.VerifyOptions{Operator: env.operatorKey, Types: crashTypes()})
	pr.CloseWithError(errors.New("verify stopped reading"))
	exportErr := <-exported
	if err != nil {
		fail("verify the exported record: %v (export: %v)", err, exportErr)
	}
	if exportErr != nil {
		fail("export: %v", exportErr)
	}
	if sum.Entries != size || sum.Root != cp.Root || sum.Keys != 2 {
		fail("verify says %d entries, root %s, %d keys; want %d, %s, 2", sum.Entries, sum.Root, sum.Keys, size, cp.Root)
	}

	// A client retrying an acknowledged call after the crash appends nothing.
	n := 0
	for idx := range r.acks {
		if n++; n > 3 {
			break
		}
		e, err := l.Entry(ctx, idx)
		if err != nil {
			fail("entry %d: %v", idx, err)
		}
		res, err := l.Append(ctx, []*entry.Signed{e.Signed})
		if err != nil {
			fail("resubmit entry %d: %v", idx, err)
		}
		if !res[0].Duplicate || res[0].Index != idx {
			fail("resubmitting entry %d gave %+v, want a duplicate at %d", idx, res[0], idx)
		}
	}

	// And the record still takes new entries.
	s, err := crashSign(crashTick{Trial: r.trial, Worker: -1, Of: 1}, env.author)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Append(ctx, []*entry.Signed{s})
	if err != nil {
		fail("append after restart: %v", err)
	}
	if res[0].Index != size || res[0].Duplicate || l.Size() != size+1 {
		fail("append after restart gave %+v and size %d, want index %d and size %d", res[0], l.Size(), size, size+1)
	}
	for idx, h := range r.acks {
		env.acked[idx] = h
	}
	env.acked[size] = s.HashHex()
	env.size = size + 1
	if env.root, err = l.RootAt(ctx, env.size); err != nil {
		fail("RootAt(%d): %v", env.size, err)
	}
}

// crashTotals sums the trials up for the log.
type crashTotals struct {
	acked, unacked, minAcked, maxAcked int64
	inFlightKills                      int
}

func (c *crashTotals) add(r *crashTrial) {
	n := int64(len(r.acks))
	if c.acked == 0 || n < c.minAcked {
		c.minAcked = n
	}
	c.maxAcked = max(c.maxAcked, n)
	c.acked += n
	c.unacked += r.committed - n
	if r.inFlight > 0 {
		c.inFlightKills++
	}
}

// crashRunChild is the child: it appends from several goroutines, single
// entries and small batches, and acknowledges on stdout each entry whose
// Append returned, until it is killed.
func crashRunChild(t *testing.T, files crashFiles) {
	trial, err := strconv.Atoi(os.Getenv(crashTrialEnv))
	if err != nil {
		t.Fatalf("%s: %v", crashTrialEnv, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), crashChildLimit)
	defer cancel()
	operator, err := crashSigner(files.operatorKey())
	if err != nil {
		t.Fatal(err)
	}
	author, err := crashSigner(files.authorKey())
	if err != nil {
		t.Fatal(err)
	}
	// The child never closes the record: it dies by SIGKILL, or simply
	// exits if the parent has gone.
	st, err := sqlite.Open(ctx, files.db())
	if err != nil {
		t.Fatal(err)
	}
	l, err := tlog.Open(ctx, st, tlog.Config{Operator: operator, Types: crashTypes()})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	emit := func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := os.Stdout.Write(b) // one write: a pipe takes it whole
		return err
	}
	if err := emit(fmt.Appendf(nil, "ready %d\n", l.Size())); err != nil {
		t.Fatal(err)
	}
	go func() { // the parent is gone: stop
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()

	errs := make(chan error, crashWorkers)
	for w := range crashWorkers {
		go func() {
			errs <- crashAppendLoop(ctx, l, author, trial, w, emit)
		}()
	}
	select {
	case err := <-errs:
		emit(fmt.Appendf(nil, "fail %v\n", err)) // the parent shows it
		t.Fatal(err)
	case <-ctx.Done():
	}
}

// crashAppendLoop is one of the child's writers: it announces each call
// ("sub worker seq n"), makes it, and acknowledges each entry ("ack index
// hash") and the call ("done worker seq") in one write.
func crashAppendLoop(ctx context.Context, l *tlog.Log, author note.Signer, trial, worker int, emit func([]byte) error) error {
	rng := rand.New(rand.NewPCG(uint64(trial), uint64(worker)))
	for seq := 0; ; seq++ {
		n := 1
		if rng.IntN(2) == 0 {
			n = 2 + rng.IntN(5)
		}
		batch := make([]*entry.Signed, n)
		for part := range batch {
			s, err := crashSign(crashTick{Trial: trial, Worker: worker, Seq: seq, Part: part, Of: n}, author)
			if err != nil {
				return err
			}
			batch[part] = s
		}
		if err := emit(fmt.Appendf(nil, "sub %d %d %d\n", worker, seq, n)); err != nil {
			return err
		}
		res, err := l.Append(ctx, batch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("worker %d call %d: %w", worker, seq, err)
		}
		if len(res) != n {
			return fmt.Errorf("worker %d call %d: %d results for %d entries", worker, seq, len(res), n)
		}
		var out []byte
		for i, a := range res {
			if a.Duplicate || a.Hash != batch[i].Hash() {
				return fmt.Errorf("worker %d call %d: entry %d came back as %+v", worker, seq, i, a)
			}
			out = fmt.Appendf(out, "ack %d %s\n", a.Index, hex.EncodeToString(a.Hash[:]))
		}
		out = fmt.Appendf(out, "done %d %d\n", worker, seq)
		if err := emit(out); err != nil {
			return err
		}
	}
}
