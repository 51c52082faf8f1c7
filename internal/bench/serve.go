package bench

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/gen"
	"parley/internal/record"
	"parley/internal/server"
)

// Goals of the server.
const (
	readGoal        = 5000      // read requests per second on 2 cores
	serveMemoryGoal = 200 << 20 // resident bytes
)

// measureServe puts a record behind `parley serve` and loads it over
// loopback HTTP: read requests per second and latency for the questions
// and for proofs, signed appends per second, the server's resident memory,
// and a mixed read and write load that must end with no errors and a log
// that verifies. The limit beside each rate is the same server answering
// /healthz, which does no work: what loopback HTTP itself allows.
func measureServe(ctx context.Context, cfg Config, dir string, r *report) error {
	path := cfg.ServeRecord
	if path == "" && cfg.wants("projections") {
		// The projections step left its generated record here.
		path = filepath.Join(dir, "projections")
	}
	if path == "" {
		path = filepath.Join(dir, "serve")
		rec, err := record.Init(ctx, path, "parley.bench/serve")
		if err != nil {
			return err
		}
		if err := loadInto(ctx, cfg, rec); err != nil {
			rec.Close()
			return err
		}
		rec.Close()
	}
	b, err := prepareServe(ctx, path)
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, cfg, path)
	if err != nil {
		return err
	}
	defer srv.stop()
	progress(cfg, "serving a record of %s entries at %s", count(b.size), srv.url)
	l := &loader{base: srv.url, token: b.token, signer: b.signer, clients: cfg.ServeClients,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.ServeClients, MaxConnsPerHost: cfg.ServeClients}}}

	floor, err := l.run(ctx, cfg.ServeTime, func(rng *rand.Rand) request { return request{path: "/healthz"} })
	if err != nil {
		return err
	}
	r.add(figure{name: fmt.Sprintf("HTTP /healthz, %d clients", cfg.ServeClients), value: perSecond(floor.rate),
		limit: "-", ratio: "-"})
	size := b.size
	asks, err := l.run(ctx, cfg.ServeTime, func(rng *rand.Rand) request { return askRequest(rng) })
	if err != nil {
		return err
	}
	r.add(serveFigure(fmt.Sprintf("ask (the 7 questions, now and as of) over HTTP, %s entries", count(size)), asks, floor))
	proofs, err := l.run(ctx, cfg.ServeTime, func(rng *rand.Rand) request {
		return request{path: fmt.Sprintf("/api/v1/proofs/inclusion?index=%d&size=%d", rng.Int64N(size), size)}
	})
	if err != nil {
		return err
	}
	r.add(serveFigure(fmt.Sprintf("inclusion proofs over HTTP, %s entries", count(size)), proofs, floor))
	appends, err := l.run(ctx, cfg.ServeTime, func(rng *rand.Rand) request { return l.appendRequest(rng) })
	if err != nil {
		return err
	}
	r.add(figure{name: fmt.Sprintf("signed appends over HTTP, %d clients, one entry per request", cfg.ServeClients),
		value: perSecond(appends.rate), num: appends.rate, limit: perSecond(floor.rate) + " /healthz",
		ratio: fmt.Sprintf("%.2f", appends.rate/floor.rate)})
	if appends.errors > 0 {
		return fmt.Errorf("%d of %d appends failed: %s", appends.errors, appends.requests, appends.firstErr)
	}

	progress(cfg, "mixed load for %s: nine reads to one append", cfg.MixedTime)
	mixed, err := l.run(ctx, cfg.MixedTime, func(rng *rand.Rand) request {
		switch k := rng.IntN(10); {
		case k == 0:
			return l.appendRequest(rng)
		case k < 6:
			return askRequest(rng)
		case k < 8:
			return request{path: fmt.Sprintf("/api/v1/proofs/inclusion?index=%d", rng.Int64N(size))}
		default:
			from := rng.Int64N(size)
			return request{path: fmt.Sprintf("/api/v1/entries?from=%d&to=%d", from, from+10)}
		}
	})
	if err != nil {
		return err
	}
	rss, hwm, anon := srv.memory()
	r.add(figure{name: "server resident memory (now / peak; of it, the process's own)" + srv.memoryNote(),
		value: megabytes(rss) + " / " + megabytes(hwm) + "; " + megabytes(anon), num: float64(hwm),
		limit: fmt.Sprintf("%s database", megabytes(uint64(fileSize(filepath.Join(path, record.StoreFile))))),
		goal:  fmt.Sprintf("<= %s", megabytes(serveMemoryGoal)), met: met(hwm <= serveMemoryGoal)})
	if err := srv.stop(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	rec, err := record.Open(ctx, path)
	if err != nil {
		return err
	}
	sum, verr := rec.Verify(ctx, nil)
	rec.Close()
	verdict := fmt.Sprintf("%s requests, %d errors; verify: %s entries, root %s", count(mixed.requests), mixed.errors, count(sum.Entries), sum.Root)
	if verr != nil {
		verdict = fmt.Sprintf("%s requests, %d errors; verify FAILED: %v", count(mixed.requests), mixed.errors, verr)
	}
	r.add(figure{name: fmt.Sprintf("mixed load, %s, %d clients (p99 %s)", cfg.MixedTime, cfg.ServeClients, micros(mixed.p99)), value: verdict,
		num: float64(mixed.errors), goal: "0 errors, verifies", met: met(mixed.errors == 0 && verr == nil)})
	if mixed.errors > 0 {
		r.note("mixed load: first error: %s", mixed.firstErr)
	}
	r.note("serve: `parley serve` on 127.0.0.1 in a process of its own (%s), loaded by %d concurrent clients in the bench process over keep-alive HTTP/1.1 connections, %s per figure. An ask request is one of the seven questions (limit=100; 20 proposals, 5 talks, 20 tracks), now or as of a random day of the record's year; a proof is an inclusion proof of a random entry in the latest tree. An append is a note signed by the client (Ed25519) and sent as JSON. The limit is the same server answering /healthz in the same run: the cost of loopback HTTP and of the load client, which share the machine's cores with the server.",
		srv.how, cfg.ServeClients, cfg.ServeTime)
	return nil
}

// serveFigure is a read rate beside the /healthz rate, with its latency.
func serveFigure(name string, x, floor loadResult) figure {
	f := figure{name: fmt.Sprintf("%s (p50 %s, p99 %s)", name, micros(x.p50), micros(x.p99)), value: perSecond(x.rate), num: x.rate,
		limit: perSecond(floor.rate) + " /healthz", ratio: fmt.Sprintf("%.2f", x.rate/floor.rate),
		goal: fmt.Sprintf(">= %s/s", count(int64(readGoal))), met: met(x.rate >= readGoal && x.errors == 0)}
	if x.errors > 0 {
		f.value += fmt.Sprintf(" (%d errors: %s)", x.errors, x.firstErr)
	}
	return f
}

// askRequest is one of the questions, now or as of a random day.
func askRequest(rng *rand.Rand) request {
	q := []string{"positions?limit=20", "routes?limit=100", "pending?limit=100", "roster?limit=5", "statements?limit=100", "tracks?limit=20", "timeline?limit=100"}[rng.IntN(7)]
	path := "/api/v1/ask/" + q
	if rng.IntN(2) == 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "as_of=" + time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365)).Format(time.DateOnly)
	}
	return request{path: path}
}

// loadInto fills a record with a generated negotiation of cfg.Projected
// entries, signed by the generator's keys.
func loadInto(ctx context.Context, cfg Config, rec *record.Record) error {
	for _, a := range gen.Authors {
		if _, _, err := rec.NewKey(ctx, a, "bench"); err != nil {
			return err
		}
	}
	_, err := loadGenerated(ctx, cfg, rec)
	return err
}

// benchServer is what the load needs from the record: an admin's token and
// a key registered to that account.
type benchServer struct {
	size   int64
	token  string
	signer note.Signer
}

// prepareServe adds an admin account with an API token, and registers a
// signing key under it, to the record at path.
func prepareServe(ctx context.Context, path string) (benchServer, error) {
	return prepareServeOn(ctx, path, "")
}

// prepareServeOn is prepareServe for the record whose keys are in dir and
// whose store db names ("" for SQLite in dir).
func prepareServeOn(ctx context.Context, dir, db string) (benchServer, error) {
	rec, err := record.OpenDB(ctx, dir, db)
	if err != nil {
		return benchServer{}, err
	}
	defer rec.Close()
	suffix := make([]byte, 4)
	crand.Read(suffix)
	name := "bench-" + hex.EncodeToString(suffix)
	pw := make([]byte, 24)
	crand.Read(pw)
	acc := account.New(rec.Store(), account.Options{})
	if _, err := acc.Create(ctx, name, base64.RawURLEncoding.EncodeToString(pw), account.Admin, ""); err != nil {
		return benchServer{}, err
	}
	token, _, err := acc.NewToken(ctx, name, "parley bench")
	if err != nil {
		return benchServer{}, err
	}
	skey, vkey, err := note.GenerateKey(crand.Reader, name)
	if err != nil {
		return benchServer{}, err
	}
	if _, _, err := rec.RegisterKey(ctx, vkey, server.Holder(name)); err != nil {
		return benchServer{}, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return benchServer{}, err
	}
	return benchServer{size: rec.Log.Size(), token: token, signer: signer}, nil
}

// runningServer is a server under load: a child process running `parley
// serve`, or, where there is no parley binary (go test), one in this process.
type runningServer struct {
	url  string
	how  string
	cmd  *exec.Cmd
	done chan error
	// in this process:
	cancel context.CancelFunc
	rec    *record.Record
	once   sync.Once
	err    error
}

// startServer serves the SQLite record at path (see startServerOn).
func startServer(ctx context.Context, cfg Config, path string) (*runningServer, error) {
	return startServerOn(ctx, cfg, path, "")
}

// stop shuts the server down gracefully and waits for it.
func (s *runningServer) stop() error {
	s.once.Do(func() {
		if s.cmd != nil {
			s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case s.err = <-s.done:
			case <-time.After(time.Minute):
				s.cmd.Process.Kill()
				s.err = errors.New("did not stop within a minute of SIGTERM")
			}
			return
		}
		s.cancel()
		s.err = <-s.done
		s.rec.Close()
	})
	return s.err
}

// memory returns the server's resident size, its peak, and the part of it
// that is the process's own memory rather than pages of the database file
// mapped into it (RssAnon), from /proc/PID/status.
func (s *runningServer) memory() (rss, hwm, anon uint64) {
	pid := "self"
	if s.cmd != nil {
		pid = strconv.Itoa(s.cmd.Process.Pid)
	}
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseUint(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			hwm = n << 10
		case "RssAnon":
			anon = n << 10
		}
	}
	return rss, hwm, anon
}

func (s *runningServer) memoryNote() string {
	if s.cmd == nil {
		return " (in-process: includes the load client)"
	}
	return ""
}

// A request is one HTTP request of a load.
type request struct {
	method string
	path   string
	body   []byte
}

// A loader sends requests from concurrent clients.
type loader struct {
	base, token string
	signer      note.Signer
	clients     int
	http        *http.Client
	seq         atomic.Int64
}

// appendRequest signs a new note and makes the request that appends it.
func (l *loader) appendRequest(rng *rand.Rand) request {
	n := l.seq.Add(1)
	body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("load note %d %d", n, rng.Int64())})
	now := time.Now().UTC()
	s, err := entry.Sign(entry.Entry{Type: "note", Body: jsontext.Value(body), Time: now, Recorded: now}, l.signer)
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(map[string]any{"entry": jsontext.Value(s.Canonical), "sig": base64.StdEncoding.EncodeToString(s.Sig)})
	return request{method: http.MethodPost, path: "/api/v1/entries", body: b}
}

// loadResult is what a load did.
type loadResult struct {
	requests, errors int64
	firstErr         string
	rate             float64
	p50, p99         time.Duration
}

// run sends requests made by next from every client for d.
func (l *loader) run(ctx context.Context, d time.Duration, next func(*rand.Rand) request) (loadResult, error) {
	var (
		mu       sync.Mutex
		lat      []time.Duration
		res      loadResult
		wg       sync.WaitGroup
		deadline = time.Now().Add(d)
	)
	start := time.Now()
	for c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			var mine []time.Duration
			var n, bad int64
			first := ""
			for time.Now().Before(deadline) && ctx.Err() == nil {
				rq := next(rng)
				t := time.Now()
				err := l.do(ctx, rq)
				mine = append(mine, time.Since(t))
				n++
				if err != nil {
					bad++
					if first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.requests += n
			res.errors += bad
			if res.firstErr == "" {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.rate = float64(res.requests) / time.Since(start).Seconds()
	slices.Sort(lat)
	res.p50, res.p99 = quantile(lat, 0.5), quantile(lat, 0.99)
	return res, nil
}

func (l *loader) do(ctx context.Context, rq request) error {
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+rq.path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.200s", method, rq.path, resp.Status, b)
	}
	return nil
}
