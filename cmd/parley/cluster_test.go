package main

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/record"
	"parley/internal/server"
	"parley/internal/store/postgres/pgtest"
)

var (
	clusterTrials  = flag.Int("cluster.trials", 3, "TestClusterSequencerKilled: how many times the sequencer is killed")
	clusterClients = flag.Int("cluster.clients", 24, "TestClusterSequencerKilled: concurrent appending clients")
)

// TestClusterSequencerKilled runs three `parley serve` processes on one
// PostgreSQL record and appends through all of them from many clients at
// once; meanwhile it kills (SIGKILL) the server holding the turn to append
// and starts it again, several times: every other time while it holds the
// turn (stopped first, and killed once it is seen still holding it), and
// in between at once, as likely as not after it committed and before it
// answered. A client that gets no answer, or a 5xx, posts the same signed
// entry to the next server. At the end every acknowledged entry is on the
// record once, at the index it was acknowledged with, and nothing else was
// appended; the record verifies; and the three servers give the same
// checkpoint and the same answer to every question. Built with -race, the
// servers are too, and a race they find fails the test.
func TestClusterSequencerKilled(t *testing.T) {
	schema, db := pgtest.NewSchema(t)
	conn := pgtest.Connect(t)
	t.Cleanup(func() { conn.Close(context.Background()) })
	bin := buildParley(t)
	c := newCluster(t, bin, filepath.Join(t.TempDir(), "rec"), db, schema)
	ctx := t.Context()

	c.parley("", "init", "--origin", "test.example/cluster")
	c.parley("a long enough password\n", "account", "add", "writer", "--role", "editor")
	token := strings.TrimSpace(c.parley("", "account", "token", "writer", "--label", "cluster test"))
	c.parley("", "key", "new", "writer-own", "--holder", server.Holder("writer"))
	signer, err := record.LoadSigner(c.dir, "writer-own")
	if err != nil {
		t.Fatal(err)
	}
	// The seed case, so that the questions have something to answer.
	rec, err := record.OpenDB(ctx, c.dir, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.LoadSeed(ctx); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	sizeBefore := storeSize(t, conn, schema)

	for i := range 3 {
		c.start(i)
	}
	l := startClusterLoad(c, token, signer, *clusterClients)
	for trial := range *clusterTrials {
		before := l.acks()
		waitFor(t, "50 more appends acknowledged", func() bool { return l.acks() >= before+50 })
		slot, killed := c.killSequencer(ctx, conn, trial%2 == 0)
		if at, ok := l.firstAckAfter(killed); ok {
			t.Logf("trial %d: the first append acknowledged after the kill came %s after it", trial+1, at.Sub(killed).Round(time.Millisecond))
		}
		s := c.start(slot)
		waitFor(t, "the restarted server acknowledging appends", func() bool { return l.ackedVia(s) >= 10 })
	}
	l.finish()
	made, acked, retries, dups := l.result()
	t.Logf("%d entries appended by %d clients through %d server processes; %d posts retried on another server, %d of them found already on the record",
		made, *clusterClients, len(c.all), retries, dups)
	if len(acked) != made {
		t.Fatalf("%d entries made, %d acknowledged", made, len(acked))
	}

	// The servers agree on the size, and it is the record's.
	want := sizeBefore + int64(made)
	if got := storeSize(t, conn, schema); got != want {
		t.Errorf("the record holds %d entries: %d before the load and %d acknowledged make %d", got, sizeBefore, made, want)
	}
	hc := &http.Client{Timeout: time.Minute}
	waitFor(t, "every server at the record's size", func() bool {
		for _, s := range c.servers() {
			var cp server.CheckpointJSON
			if code, b, err := clusterGet(ctx, hc, s.url, token, "/api/v1/checkpoint"); err != nil || code != http.StatusOK || json.Unmarshal(b, &cp) != nil || cp.Size != want {
				return false
			}
		}
		return true
	})

	// Every acknowledged entry is on the record once, at its index.
	at := map[string]int64{}
	base := c.server(0).url
	for from := int64(0); from < want; {
		code, b, err := clusterGet(ctx, hc, base, token, fmt.Sprintf("/api/v1/entries?from=%d&to=%d", from, want))
		var page server.EntryList
		if err == nil && code == http.StatusOK {
			err = json.Unmarshal(b, &page)
		}
		if err != nil || code != http.StatusOK {
			t.Fatalf("entries from %d: %d %v %.300s", from, code, err, b)
		}
		for i, e := range page.Entries {
			if e.Index != from+int64(i) {
				t.Fatalf("entries from %d: entry %d has index %d", from, i, e.Index)
			}
			if prev, ok := at[e.Hash]; ok {
				t.Errorf("entry %s is on the record twice: at %d and %d", e.Hash, prev, e.Index)
			}
			at[e.Hash] = e.Index
		}
		if page.Next == nil {
			break
		}
		from = *page.Next
	}
	if int64(len(at)) != want {
		t.Errorf("read %d distinct entries, want %d", len(at), want)
	}
	for hash, i := range acked {
		if got, ok := at[hash]; !ok || got != i {
			t.Errorf("entry %s was acknowledged at %d; on the record: %d (present %v)", hash, i, got, ok)
		}
	}

	if out, stderr, err := c.try("", "verify"); err != nil {
		t.Errorf("parley verify: %v\n%s%s", err, out, stderr)
	}

	// Every server gives the same checkpoint and the same answers.
	paths := []string{"/api/v1/checkpoint"}
	for _, q := range []string{"positions", "routes", "pending", "roster", "statements", "tracks", "timeline", "compliance", "incidents",
		"timeline?limit=1000", "statements?limit=1000", "positions?known_at=%2340", "pending?as_of=2025-03-20", "compliance?from=2025-03-01&to=2025-04-30"} {
		paths = append(paths, "/api/v1/ask/"+q)
	}
	for _, p := range paths {
		var first any
		var firstBody []byte
		for i, s := range c.servers() {
			code, b, err := clusterGet(ctx, hc, s.url, token, p)
			var v any
			if err == nil && code == http.StatusOK {
				err = stdjson.Unmarshal(b, &v)
			}
			if err != nil || code != http.StatusOK {
				t.Errorf("server %d: GET %s: %d %v %.300s", i, p, code, err, b)
				continue
			}
			if i == 0 {
				first, firstBody = v, b
			} else if !reflect.DeepEqual(first, v) {
				t.Errorf("GET %s: server %d answers differently from server 0:\n%.1000s\n%.1000s", p, i, b, firstBody)
			}
		}
	}
	hc.CloseIdleConnections()
}

// storeSize is the record's size in its PostgreSQL schema.
func storeSize(t *testing.T, conn *pgx.Conn, schema string) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(t.Context(), `SELECT size FROM `+pgx.Identifier{schema, "log_size"}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("the record's size: %v", err)
	}
	return n
}

// waitFor waits, for up to two minutes, until done says so.
func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited two minutes for %s", what)
		}
	}
}

// A clusterLoad is clients appending unique signed notes through a
// cluster's servers in turn. A post that is not acknowledged is made again,
// with the same signed entry, to the next server, until one acknowledges it
// (a server answers an entry already on the record with its index).
type clusterLoad struct {
	c      *cluster
	token  string
	signer note.Signer
	hc     *http.Client
	stop   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	made    int
	acked   map[string]int64 // hash → index
	via     map[*serverProc]int
	times   []ackTime
	retries int
	// dups counts entries a server acknowledged as already on the record:
	// posted to a server that appended them but was killed before it
	// answered.
	dups int
}

type ackTime struct {
	at  time.Time
	via *serverProc
}

func startClusterLoad(c *cluster, token string, signer note.Signer, clients int) *clusterLoad {
	l := &clusterLoad{c: c, token: token, signer: signer, stop: make(chan struct{}),
		hc:    &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}},
		acked: map[string]int64{}, via: map[*serverProc]int{}}
	for w := range clients {
		l.wg.Add(1)
		go l.client(c.t.Context(), w)
	}
	c.t.Cleanup(l.finish)
	return l
}

// client appends notes until the load stops.
func (l *clusterLoad) client(ctx context.Context, w int) {
	defer l.wg.Done()
	for i := 0; ; i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		e, err := signNote(l.signer, fmt.Sprintf("cluster client %d entry %d", w, i))
		if err != nil {
			l.c.t.Error(err)
			return
		}
		l.mu.Lock()
		l.made++
		l.mu.Unlock()
		if !l.append(ctx, w+i, e) {
			return
		}
	}
}

// append posts e to one server after another, starting with the server
// first, until one acknowledges it.
func (l *clusterLoad) append(ctx context.Context, first int, e signedEntry) bool {
	start := time.Now()
	for try := 0; ; try++ {
		s := l.c.server(first + try)
		i, dup, err := postEntry(ctx, l.hc, s.url, l.token, e)
		if err == nil {
			l.mu.Lock()
			if dup {
				l.dups++
			}
			l.acked[e.hash] = i
			l.via[s]++
			l.times = append(l.times, ackTime{time.Now(), s})
			l.mu.Unlock()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !errors.Is(err, errNotAcknowledged) {
			l.c.t.Errorf("entry %s through %s: %v", e.hash, s.url, err)
			return false
		}
		if time.Since(start) > 2*time.Minute {
			l.c.t.Errorf("entry %s: no server acknowledged it in two minutes: %v", e.hash, err)
			return false
		}
		l.mu.Lock()
		l.retries++
		l.mu.Unlock()
		time.Sleep(time.Duration(min(try, 20)) * 5 * time.Millisecond)
	}
}

// finish stops the clients once each has its last entry acknowledged.
func (l *clusterLoad) finish() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	l.hc.CloseIdleConnections()
}

func (l *clusterLoad) acks() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

func (l *clusterLoad) ackedVia(s *serverProc) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.via[s]
}

// firstAckAfter is when the first append acknowledged after t was.
func (l *clusterLoad) firstAckAfter(t time.Time) (time.Time, bool) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, a := range l.times {
			if a.at.After(t) {
				l.mu.Unlock()
				return a.at, true
			}
		}
		l.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	return time.Time{}, false
}

func (l *clusterLoad) result() (made int, acked map[string]int64, retries, dups int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.made, l.acked, l.retries, l.dups
}
