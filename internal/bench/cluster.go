package bench

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/jackc/pgx/v5"

	"parley/internal/account"
	"parley/internal/record"
	"parley/internal/server"
	"parley/internal/store/postgres/pgurl"
)

// DefaultClusterDB is the PostgreSQL server the cluster step runs on unless
// told otherwise: the tests' server.
const DefaultClusterDB = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Defaults of the cluster step.
const (
	clusterServers = 3
	clusterTrials  = 5
)

// sqlTurnHolder names the process whose connection holds a record's turn
// to append: the advisory lock on (0x7061, hashtext(schema)) that
// store/postgres takes for each append, and the application_name
// ("parley pid N") each of its connections carries.
const sqlTurnHolder = `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'advisory' AND l.classid = 28769 AND l.objid = hashtext($1)::oid AND l.objsubid = 2 AND l.granted
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// measureCluster measures a record on PostgreSQL behind several servers:
// signed appends per second through one `parley serve` and through three
// on the same record, beside one server on SQLite and beside PostgreSQL's
// own commit rate over as many connections; how long appends stop when
// the server holding the turn to append is killed (SIGKILL) in the middle
// of its turn; and the questions' latency on a generated record of
// cfg.ClusterEntries entries in PostgreSQL. Each record lives in a schema
// of its own, dropped afterwards. Without a PostgreSQL server the step is
// skipped, saying so, unless CI is set: then it fails.
func measureCluster(ctx context.Context, cfg Config, dir string, r *report) error {
	if cfg.ClusterDB == "" {
		cfg.ClusterDB = DefaultClusterDB
	}
	if cfg.ClusterEntries == 0 {
		cfg.ClusterEntries = cfg.Projected
	}
	if cfg.ClusterTrials == 0 {
		cfg.ClusterTrials = clusterTrials
	}
	pg, err := connectPG(ctx, cfg.ClusterDB)
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL server at %s: %v", record.Redact(cfg.ClusterDB), err)
		if os.Getenv("CI") != "" {
			return fmt.Errorf("%s; CI must run one", msg)
		}
		progress(cfg, "cluster: skipped: %s", msg)
		r.note("cluster: skipped: %s (give one with --cluster-db).", msg)
		return nil
	}
	defer pg.Close(context.WithoutCancel(ctx))
	how := "run in the bench's process"
	if cfg.ServeExec != "" {
		how = "are `parley serve` processes of their own (so they, and PostgreSQL, count as other processes in the CPU share below)"
	}
	r.note("cluster: records in PostgreSQL (%s), each in a schema of its own, dropped afterwards. Appends are notes signed by the client (Ed25519), one per request, from %d concurrent clients over keep-alive HTTP/1.1, each sending to the servers in turn, for %s each; the servers %s, and several on one record take turns to append (a transaction-scoped advisory lock), each following the others' appends. The limit of the PostgreSQL figures is PostgreSQL itself committing one %d-byte row per INSERT from as many connections; the servers commit many entries per transaction, so they may pass it. The SQLite server's limit is /healthz on it: loopback HTTP and the load client.",
		record.Redact(cfg.ClusterDB), cfg.ServeClients, cfg.ServeTime, how, commitRow)

	// The limit: PostgreSQL committing one small row per transaction, from
	// as many connections as there are clients.
	schema, err := newSchema(ctx, pg)
	if err != nil {
		return err
	}
	defer dropSchema(ctx, pg, schema)
	progress(cfg, "cluster: PostgreSQL's commit rate over %d connections", cfg.ServeClients)
	commitRate, err := measureCommits(ctx, pgurl.WithSearchPath(cfg.ClusterDB, schema), cfg.ServeClients, cfg.ServeTime)
	if err != nil {
		return fmt.Errorf("commit rate: %w", err)
	}
	r.add(figure{name: fmt.Sprintf("PostgreSQL commits of one %d-byte row, %d connections", commitRow, cfg.ServeClients),
		value: perSecond(commitRate), num: commitRate})

	if err := measureSQLiteServer(ctx, cfg, dir, r); err != nil {
		return err
	}
	if err := measureSharedRecord(ctx, cfg, dir, pg, commitRate, r); err != nil {
		return err
	}
	return measureLargePG(ctx, cfg, dir, pg, r)
}

// measureSQLiteServer measures signed appends through one server on a new
// SQLite record, beside /healthz on the same server.
func measureSQLiteServer(ctx context.Context, cfg Config, dir string, r *report) error {
	path := filepath.Join(dir, "cluster-sqlite")
	if err := initRecord(ctx, path, ""); err != nil {
		return err
	}
	load, err := prepareLoad(ctx, cfg, path, "")
	if err != nil {
		return err
	}
	srv, err := startServerOn(ctx, cfg, path, "")
	if err != nil {
		return err
	}
	defer srv.stop()
	load.setURLs([]string{srv.url})
	floor, err := load.l.run(ctx, cfg.ServeTime, func(*rand.Rand) request { return request{path: "/healthz"} })
	if err != nil {
		return err
	}
	r.add(figure{name: fmt.Sprintf("HTTP /healthz, %d clients, one server", cfg.ServeClients), value: perSecond(floor.rate), num: floor.rate})
	progress(cfg, "cluster: signed appends through one server on SQLite")
	res, err := load.measure(ctx, cfg.ServeTime)
	if err != nil {
		return err
	}
	r.add(figure{name: fmt.Sprintf("signed appends over HTTP, %d clients, one server on SQLite (p50 %s, p99 %s)", cfg.ServeClients, millis(res.p50), millis(res.p99)),
		value: perSecond(res.rate), num: res.rate, limit: perSecond(floor.rate) + " /healthz", ratio: fmt.Sprintf("%.2f", res.rate/floor.rate)})
	if err := srv.stop(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// measureSharedRecord measures signed appends through one server on a new
// PostgreSQL record, then through three on it; then, if the servers are
// processes of their own, the takeover when the one holding the turn is
// killed. The record must verify afterwards.
func measureSharedRecord(ctx context.Context, cfg Config, dir string, pg *pgx.Conn, commitRate float64, r *report) error {
	schema, err := newSchema(ctx, pg)
	if err != nil {
		return err
	}
	defer dropSchema(ctx, pg, schema)
	db := pgurl.WithSearchPath(cfg.ClusterDB, schema)
	path := filepath.Join(dir, "cluster-postgres")
	if err := initRecord(ctx, path, db); err != nil {
		return err
	}
	load, err := prepareLoad(ctx, cfg, path, db)
	if err != nil {
		return err
	}
	c := &cluster{cfg: cfg, dir: path, db: db, schema: schema}
	defer c.stop()
	if err := c.start(ctx, 0); err != nil {
		return err
	}
	load.setURLs(c.urls())
	progress(cfg, "cluster: signed appends through one server on PostgreSQL")
	one, err := load.measure(ctx, cfg.ServeTime)
	if err != nil {
		return err
	}
	r.add(clusterFigure(fmt.Sprintf("signed appends over HTTP, %d clients, one server on PostgreSQL", cfg.ServeClients), one, commitRate))
	for i := 1; i < clusterServers; i++ {
		if err := c.start(ctx, i); err != nil {
			return err
		}
	}
	load.setURLs(c.urls())
	progress(cfg, "cluster: signed appends through %d servers on one PostgreSQL record", clusterServers)
	three, err := load.measure(ctx, cfg.ServeTime)
	if err != nil {
		return err
	}
	r.add(clusterFigure(fmt.Sprintf("signed appends over HTTP, %d clients, %d servers on one PostgreSQL record", cfg.ServeClients, clusterServers), three, commitRate))

	if cfg.ServeExec == "" {
		r.note("cluster: takeover not measured: it kills server processes, and this run serves in its own process (run `parley bench`).")
	} else if err := measureTakeover(ctx, cfg, c, load, pg, three, r); err != nil {
		return fmt.Errorf("takeover: %w", err)
	}
	if err := c.stop(); err != nil {
		return err
	}
	rec, err := record.OpenDB(ctx, path, db)
	if err != nil {
		return err
	}
	sum, verr := rec.Verify(ctx, nil)
	rec.Close()
	verdict := fmt.Sprintf("verify: %s entries, root %s", count(sum.Entries), sum.Root)
	if verr != nil {
		verdict = fmt.Sprintf("verify FAILED: %v", verr)
	}
	r.add(figure{name: fmt.Sprintf("the PostgreSQL record after these loads (%d servers started in all)", c.started),
		value: verdict, goal: "verifies", met: met(verr == nil)})
	return nil
}

// clusterFigure is an append rate on PostgreSQL beside its commit rate.
func clusterFigure(name string, x clusterResult, commitRate float64) figure {
	f := figure{name: fmt.Sprintf("%s (p50 %s, p99 %s)", name, millis(x.p50), millis(x.p99)), value: perSecond(x.rate), num: x.rate,
		limit: perSecond(commitRate) + " PostgreSQL commits", ratio: fmt.Sprintf("%.2f", x.rate/commitRate)}
	if x.failed > 0 {
		f.value += fmt.Sprintf(" (%d failed: %s)", x.failed, x.firstErr)
	}
	return f
}

// measureTakeover kills the server holding the turn in the middle of its
// turn, under the load, cfg.ClusterTrials times: the time from the kill to
// the first append acknowledged after it, by a surviving server, at an
// index the killed server's turn did not reach. The killed server is
// started again (on a new port) before the next trial.
func measureTakeover(ctx context.Context, cfg Config, c *cluster, load *appendLoad, pg *pgx.Conn, steady clusterResult, r *report) error {
	progress(cfg, "cluster: killing the server that holds the turn, %d times, under load", cfg.ClusterTrials)
	stop := load.background(ctx)
	defer stop()
	var took []time.Duration
	for trial := range cfg.ClusterTrials {
		// Let the load run a while (after the restart of the trial before).
		if err := load.waitAcks(ctx, 20, time.Minute); err != nil {
			return err
		}
		slot, size, killed, err := c.killTurnHolder(ctx, pg)
		if err != nil {
			return err
		}
		next, err := load.firstAck(ctx, killed, size, time.Minute)
		if err != nil {
			return fmt.Errorf("trial %d: %w", trial+1, err)
		}
		took = append(took, next.Sub(killed))
		if err := c.start(ctx, slot); err != nil {
			return err
		}
		load.setURLs(c.urls())
	}
	slices.Sort(took)
	r.add(figure{name: fmt.Sprintf("takeover: sequencer killed mid-turn under load, %d servers, first append acknowledged after it, p50 / max of %d", clusterServers, len(took)),
		value: millis(quantile(took, 0.5)) + " / " + millis(took[len(took)-1]), num: float64(quantile(took, 0.5)) / float64(time.Millisecond),
		limit: millis(steady.p50) + " append p50, same servers", ratio: fmt.Sprintf("%.1f", float64(quantile(took, 0.5))/float64(steady.p50))})
	r.note("takeover: under the same load, the server whose connection holds the turn (pg_locks) is stopped (SIGSTOP), seen still holding it, and killed (SIGKILL): PostgreSQL then ends its transaction and frees the turn. The time is from the kill to the first append acknowledged by another server at an index past what was committed before the kill; the killed server is started again before the next trial. Its limit is an append's latency through the same servers under the same load.")
	return nil
}

// measureLargePG generates a negotiation of cfg.ClusterEntries entries into
// a record on PostgreSQL and asks it the questions, as the projections step
// does on SQLite.
func measureLargePG(ctx context.Context, cfg Config, dir string, pg *pgx.Conn, r *report) error {
	schema, err := newSchema(ctx, pg)
	if err != nil {
		return err
	}
	defer dropSchema(ctx, pg, schema)
	path := filepath.Join(dir, "cluster-large")
	rec, err := initGenRecord(ctx, path, pgurl.WithSearchPath(cfg.ClusterDB, schema), "parley.bench/cluster")
	if err != nil {
		return err
	}
	defer rec.Close()
	progress(cfg, "cluster: generating, signing and appending a negotiation of %s entries into PostgreSQL", count(cfg.ClusterEntries))
	gcfg := cfg
	gcfg.Projected = cfg.ClusterEntries
	start := time.Now()
	stats, err := loadGenerated(ctx, gcfg, rec)
	if err != nil {
		return err
	}
	rate := float64(stats.Entries) / time.Since(start).Seconds()
	r.add(figure{name: fmt.Sprintf("generated entries signed, appended and folded into PostgreSQL, %s", count(stats.Entries)),
		value: fmt.Sprintf("%s/s", count(int64(rate))), num: rate})
	from := len(r.figures)
	if err := measureAsks(ctx, cfg, rec, stats, r); err != nil {
		return err
	}
	for i := from; i < len(r.figures); i++ {
		r.figures[i].name += ", PostgreSQL"
	}
	r.note("cluster: the questions on PostgreSQL are asked as the projections step asks them on SQLite (%d times each, now and as of a random time), of `parley gen --entries %d --seed 1` appended through record.Log in calls of 1,000.",
		cfg.Asks, cfg.ClusterEntries)
	return nil
}

// connectPG connects to the PostgreSQL server at u, giving up after ten
// seconds.
func connectPG(ctx context.Context, u string) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, u)
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(cctx); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return conn, nil
}

// newSchema creates a schema with a new name.
func newSchema(ctx context.Context, pg *pgx.Conn) (string, error) {
	b := make([]byte, 6)
	crand.Read(b)
	name := "parley_bench_" + hex.EncodeToString(b)
	if _, err := pg.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create schema %s: %w", name, err)
	}
	return name, nil
}

// dropSchema drops a schema and all it holds, even when ctx is done.
func dropSchema(ctx context.Context, pg *pgx.Conn, name string) {
	pg.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
}

// commitRow is the size of the row the commit rate is measured with: about
// a signed note's leaf.
const commitRow = 480

// measureCommits measures PostgreSQL committing one row per transaction
// from conns connections at once for d.
func measureCommits(ctx context.Context, db string, conns int, d time.Duration) (float64, error) {
	pg, err := connectPG(ctx, db)
	if err != nil {
		return 0, err
	}
	_, err = pg.Exec(ctx, `CREATE TABLE commits (id bigserial PRIMARY KEY, data bytea NOT NULL)`)
	pg.Close(ctx)
	if err != nil {
		return 0, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		first error
	)
	row := make([]byte, commitRow)
	crand.Read(row)
	start := time.Now()
	deadline := start.Add(d)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := connectPG(ctx, db)
			var n int64
			for err == nil && time.Now().Before(deadline) {
				if _, err = conn.Exec(ctx, `INSERT INTO commits (data) VALUES ($1)`, row); err == nil {
					n++
				}
			}
			if conn != nil {
				conn.Close(ctx)
			}
			mu.Lock()
			total += n
			if first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

// initRecord creates a record in dir, on the store db names ("" for SQLite
// in dir).
func initRecord(ctx context.Context, dir, db string) error {
	rec, err := record.InitDB(ctx, dir, db, "parley.bench/cluster")
	if err != nil {
		return err
	}
	return rec.Close()
}

// A cluster is the servers in front of one PostgreSQL record, each in a
// slot that a restarted server takes over.
type cluster struct {
	cfg             Config
	dir, db, schema string
	mu              sync.Mutex
	slots           []*runningServer
	started         int
}

// start starts a server in slot i (a new slot if i is the next one).
func (c *cluster) start(ctx context.Context, i int) error {
	s, err := startServerOn(ctx, c.cfg, c.dir, c.db)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started++
	if i == len(c.slots) {
		c.slots = append(c.slots, s)
	} else {
		c.slots[i] = s
	}
	return nil
}

func (c *cluster) urls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.slots {
		out = append(out, s.url)
	}
	return out
}

// stop stops every server gracefully.
func (c *cluster) stop() error {
	c.mu.Lock()
	slots := c.slots
	c.slots = nil
	c.mu.Unlock()
	var first error
	for _, s := range slots {
		if err := s.stop(); err != nil && first == nil {
			first = fmt.Errorf("server %s: %w", s.how, err)
		}
	}
	return first
}

// killTurnHolder finds the server whose connection holds the record's turn
// to append, stops it, and, if it still holds the turn, kills it. It
// returns the server's slot, the record's size while it was stopped (what
// was committed before its turn), and the time of the kill, once the
// process is gone.
func (c *cluster) killTurnHolder(ctx context.Context, pg *pgx.Conn) (slot int, size int64, killed time.Time, err error) {
	sizeSQL := `SELECT size FROM ` + pgx.Identifier{c.schema, "log_size"}.Sanitize()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		pid, err := c.turnHolder(ctx, pg)
		if err != nil {
			return 0, 0, time.Time{}, err
		}
		c.mu.Lock()
		slot = slices.IndexFunc(c.slots, func(s *runningServer) bool { return s.cmd != nil && s.cmd.Process.Pid == pid })
		var s *runningServer
		if slot >= 0 {
			s = c.slots[slot]
		}
		c.mu.Unlock()
		if s == nil {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return 0, 0, time.Time{}, err
		}
		again, err := c.turnHolder(ctx, pg)
		if err == nil && again == pid {
			err = pg.QueryRow(ctx, sizeSQL).Scan(&size)
		}
		if err != nil || again != pid {
			syscall.Kill(pid, syscall.SIGCONT)
			if err != nil {
				return 0, 0, time.Time{}, err
			}
			continue // it let the turn go before it stopped
		}
		if err := s.cmd.Process.Kill(); err != nil {
			return 0, 0, time.Time{}, err
		}
		killed = time.Now()
		s.stop() // waits for it; its error is the kill
		return slot, size, killed, nil
	}
	return 0, 0, time.Time{}, errors.New("no server was seen holding the turn for a minute")
}

// turnHolder returns the pid of the process holding the record's turn, or
// 0 if none holds it.
func (c *cluster) turnHolder(ctx context.Context, pg *pgx.Conn) (int, error) {
	var name string
	err := pg.QueryRow(ctx, sqlTurnHolder, c.schema).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("who holds the turn: %w", err)
	}
	pid, _ := strconv.Atoi(strings.TrimPrefix(name, "parley pid "))
	return pid, nil
}

// startServerOn starts `parley serve` on the record whose keys are in dir
// and whose store db names ("" for SQLite in dir): a process of its own if
// cfg.ServeExec names the parley binary, else in this process. It returns
// once the server is ready.
func startServerOn(ctx context.Context, cfg Config, dir, db string) (*runningServer, error) {
	if cfg.ServeExec == "" {
		return startInProcessOn(ctx, dir, db)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, cfg.ServeExec, "serve", "--dir", dir, "--db", db, "--addr", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &runningServer{url: "http://" + addr, how: "pid " + strconv.Itoa(cmd.Process.Pid), cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("parley serve exited: %v", err)
		default:
		}
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, errors.New("parley serve did not become ready in a minute")
}

// startInProcessOn serves the record in this process.
func startInProcessOn(ctx context.Context, dir, db string) (*runningServer, error) {
	rec, err := record.OpenDB(ctx, dir, db)
	if err != nil {
		return nil, err
	}
	srv, err := server.New(rec, account.New(rec.Store(), account.Options{}), server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		rec.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rec.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &runningServer{url: "http://" + ln.Addr().String(), how: "in the bench process", cancel: cancel, rec: rec, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(sctx, ln) }()
	return s, nil
}

// prepareLoad adds an admin account with an API token and a signing key
// registered to it, to the record in dir on db, and returns the appenders
// that use them.
func prepareLoad(ctx context.Context, cfg Config, dir, db string) (*appendLoad, error) {
	bs, err := prepareServeOn(ctx, dir, db)
	if err != nil {
		return nil, err
	}
	token, signer := bs.token, bs.signer
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.ServeClients}}
	l := &loader{token: token, signer: signer, clients: cfg.ServeClients, http: hc}
	return &appendLoad{l: l, clients: cfg.ServeClients}, nil
}

// An appendLoad is clients appending signed notes through several
// servers, each client sending to them in turn.
type appendLoad struct {
	l       *loader // signs the notes, and sends other requests to urls[0]
	clients int

	mu    sync.Mutex
	urls  []string
	acks  int64
	watch *ackWatch
}

// An ackWatch waits for the first append acknowledged after a time, at an
// index of at least a size.
type ackWatch struct {
	after time.Time
	size  int64
	seen  chan time.Time
}

// clusterResult is what a timed append load did.
type clusterResult struct {
	acked, failed int64
	firstErr      string
	rate          float64
	p50, p99      time.Duration
}

// setURLs sets the servers the clients send to; other requests go to the
// first.
func (a *appendLoad) setURLs(urls []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.urls = urls
	a.l.base = urls[0]
}

func (a *appendLoad) url(i int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.urls[i%len(a.urls)]
}

// measure appends from every client for d, and returns the rate of
// acknowledged appends and their latency.
func (a *appendLoad) measure(ctx context.Context, d time.Duration) (clusterResult, error) {
	var (
		mu  sync.Mutex
		lat []time.Duration
		res clusterResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range a.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var mine []time.Duration
			var failed int64
			first := ""
			for i := w; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				t := time.Now()
				if _, err := a.post(ctx, a.url(i), rng); err != nil {
					failed++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.failed += failed
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
	res.acked = int64(len(lat))
	res.rate = float64(res.acked) / time.Since(start).Seconds()
	slices.Sort(lat)
	res.p50, res.p99 = quantile(lat, 0.5), quantile(lat, 0.99)
	if res.acked == 0 {
		return res, fmt.Errorf("no append was acknowledged: %s", res.firstErr)
	}
	return res, nil
}

// background appends from every client until the returned function is
// called; failures (a killed server) are expected and not counted.
func (a *appendLoad) background(ctx context.Context) (stop func()) {
	bctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range a.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := w; bctx.Err() == nil; i++ {
				if _, err := a.post(bctx, a.url(i), rng); err != nil {
					select {
					case <-bctx.Done():
					case <-time.After(5 * time.Millisecond):
					}
				}
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// waitAcks waits for n more acknowledged appends.
func (a *appendLoad) waitAcks(ctx context.Context, n int64, limit time.Duration) error {
	a.mu.Lock()
	want := a.acks + n
	a.mu.Unlock()
	for deadline := time.Now().Add(limit); ; time.Sleep(5 * time.Millisecond) {
		a.mu.Lock()
		got := a.acks
		a.mu.Unlock()
		switch {
		case got >= want:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("%d appends acknowledged in %s, waiting for %d", got-want+n, limit, n)
		}
	}
}

// firstAck returns the time of the first append acknowledged after the
// time after at an index of at least size.
func (a *appendLoad) firstAck(ctx context.Context, after time.Time, size int64, limit time.Duration) (time.Time, error) {
	w := &ackWatch{after: after, size: size, seen: make(chan time.Time, 1)}
	a.mu.Lock()
	a.watch = w
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.watch = nil
		a.mu.Unlock()
	}()
	select {
	case t := <-w.seen:
		return t, nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-time.After(limit):
		return time.Time{}, fmt.Errorf("no append was acknowledged within %s of the kill", limit)
	}
}

// post signs a new note and appends it through the server at base; it
// returns the index it was acknowledged at.
func (a *appendLoad) post(ctx context.Context, base string, rng *rand.Rand) (int64, error) {
	rq := a.l.appendRequest(rng)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+rq.path, bytes.NewReader(rq.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+a.l.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.l.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST %s: %s: %.200s", rq.path, resp.Status, b)
	}
	var res server.AppendResult
	if err := json.Unmarshal(b, &res); err != nil || len(res.Appended) != 1 {
		return 0, fmt.Errorf("POST %s: %.200s: %v", rq.path, b, err)
	}
	at := time.Now()
	i := res.Appended[0].Index
	a.mu.Lock()
	a.acks++
	if w := a.watch; w != nil && at.After(w.after) && i >= w.size {
		select {
		case w.seen <- at:
		default:
		}
	}
	a.mu.Unlock()
	return i, nil
}
