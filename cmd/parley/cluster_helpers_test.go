package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/entry"
	"parley/internal/racedetect"
	"parley/internal/server"
)

// buildParley builds the parley binary into a temporary directory, with
// the race detector if the test binary has it: the build then reuses the
// packages go test compiled, and the race detector watches the servers too.
func buildParley(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "parley")
	args := []string{"build", "-o", bin}
	if racedetect.Enabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(t.Context(), "go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// A cluster is a record in one PostgreSQL schema and the `parley serve`
// processes in front of it, each in a slot that a restarted server takes
// over. Every process it starts is killed when the test ends.
type cluster struct {
	t                    *testing.T
	bin, dir, db, schema string

	mu    sync.Mutex
	slots []*serverProc
	all   []*serverProc
}

// A serverProc is one `parley serve` process.
type serverProc struct {
	cmd    *exec.Cmd
	url    string
	pid    int
	logs   *syncWriter
	exited chan struct{} // closed once the process has been waited for
}

func newCluster(t *testing.T, bin, dir, db, schema string) *cluster {
	c := &cluster{t: t, bin: bin, dir: dir, db: db, schema: schema}
	t.Cleanup(func() {
		c.mu.Lock()
		all := c.all
		c.mu.Unlock()
		for _, s := range all {
			s.cmd.Process.Kill()
			<-s.exited
		}
		for _, s := range all {
			if _, race, ok := strings.Cut(s.logs.String(), "WARNING: DATA RACE"); ok {
				t.Errorf("server pid %d found a data race:\n%.8000s", s.pid, race)
			}
		}
	})
	return c
}

// parley runs the binary on the cluster's record and returns its standard
// output; a failure fails the test.
func (c *cluster) parley(stdin string, args ...string) string {
	c.t.Helper()
	out, stderr, err := c.try(stdin, args...)
	if err != nil {
		c.t.Fatalf("parley %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// try runs the binary on the cluster's record.
func (c *cluster) try(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(c.t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(args, "--dir", c.dir, "--db", c.db)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = environ()
	var out, errw bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errw
	err = cmd.Run()
	return out.String(), errw.String(), err
}

// start starts a server in slot i (appending a slot if i is the next one),
// and returns once it listens.
func (c *cluster) start(i int) *serverProc {
	c.t.Helper()
	cmd := exec.Command(c.bin, "serve", "--dir", c.dir, "--db", c.db, "--addr", "127.0.0.1:0")
	cmd.Env = environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	s := &serverProc{cmd: cmd, pid: cmd.Process.Pid, logs: &syncWriter{w: &bytes.Buffer{}}, exited: make(chan struct{})}
	c.mu.Lock()
	c.all = append(c.all, s)
	c.mu.Unlock()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			s.logs.Write(append(line, '\n'))
			var l struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &l, json.RejectUnknownMembers(false)) == nil && l.Msg == "serving" {
				addr <- l.Addr
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.url = <-addr:
	case <-s.exited:
		c.t.Fatalf("parley serve exited before serving:\n%s", s.logs.String())
	case <-time.After(2 * time.Minute):
		c.t.Fatalf("parley serve did not serve within two minutes:\n%s", s.logs.String())
	}
	c.mu.Lock()
	if i == len(c.slots) {
		c.slots = append(c.slots, s)
	} else {
		c.slots[i] = s
	}
	c.mu.Unlock()
	return s
}

// server is the server in slot i mod the number of slots.
func (c *cluster) server(i int) *serverProc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slots[i%len(c.slots)]
}

// servers are the servers in their slots now.
func (c *cluster) servers() []*serverProc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*serverProc(nil), c.slots...)
}

// sqlTurnHolders names the processes whose connections hold a record's
// turn to append (the advisory lock of internal/store/postgres/shared.go,
// on the pair 0x7061 and the hash of the record's schema).
const sqlTurnHolders = `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'advisory' AND l.classid = 28769 AND l.objid = hashtext($1)::oid AND l.objsubid = 2 AND l.granted
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// turnHolder returns the pid of the process holding the record's turn,
// or 0 if none holds it.
func (c *cluster) turnHolder(ctx context.Context, conn *pgx.Conn) (int, error) {
	rows, err := conn.Query(ctx, sqlTurnHolders, c.schema)
	if err != nil {
		return 0, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(names[0], "parley pid "))
	if err != nil {
		return 0, fmt.Errorf("the turn is held by %q, not a parley server", names[0])
	}
	return pid, nil
}

// killSequencer kills with SIGKILL the server seen holding the turn. With
// midTurn, it is killed while it holds it: stopped (SIGSTOP) first, and
// killed only if it still holds the turn then, so that its transaction is
// cut off. Without, it is killed at once, which is often just after its
// commit, before it has answered. It returns the killed server's slot and
// the time of the kill, once the process is gone.
func (c *cluster) killSequencer(ctx context.Context, conn *pgx.Conn, midTurn bool) (int, time.Time) {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for tries := 0; time.Now().Before(deadline); tries++ {
		if tries > 0 {
			time.Sleep(time.Millisecond)
		}
		pid, err := c.turnHolder(ctx, conn)
		if err != nil {
			c.t.Fatalf("who holds the turn: %v", err)
		}
		slot := -1
		for i, s := range c.servers() {
			if s.pid == pid {
				slot = i
			}
		}
		if slot < 0 {
			continue // no one, or a process of another test
		}
		s := c.server(slot)
		if midTurn {
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				c.t.Fatalf("stop pid %d: %v", pid, err)
			}
			again, err := c.turnHolder(ctx, conn)
			if err != nil {
				c.t.Fatalf("who holds the turn: %v", err)
			}
			if again != pid {
				syscall.Kill(pid, syscall.SIGCONT)
				continue // it let the turn go before it stopped
			}
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			c.t.Fatalf("kill pid %d: %v", pid, err)
		}
		killed := time.Now()
		<-s.exited
		how := "just after it was seen holding the turn"
		if midTurn {
			how = "holding the turn"
		}
		c.t.Logf("killed the sequencer, pid %d in slot %d, %s (found in %d tries)", pid, slot, how, tries+1)
		return slot, killed
	}
	c.t.Fatal("no server of the cluster was seen holding the turn for a minute")
	return 0, time.Time{}
}

// A signedEntry is an entry ready to post, with its hash as the server
// answers it.
type signedEntry struct {
	hash string
	body []byte
}

// signNote signs a note with text and makes the request body that appends it.
func signNote(signer note.Signer, text string) (signedEntry, error) {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return signedEntry{}, err
	}
	now := time.Now().UTC()
	s, err := entry.Sign(entry.Entry{Type: "note", Body: jsontext.Value(body), Time: now, Recorded: now}, signer)
	if err != nil {
		return signedEntry{}, err
	}
	b, err := json.Marshal(map[string]any{"entry": jsontext.Value(s.Canonical), "sig": base64.StdEncoding.EncodeToString(s.Sig)})
	return signedEntry{hash: s.HashHex(), body: b}, err
}

// errNotAcknowledged is a post that may or may not have been appended: the
// connection failed, or the server answered 5xx.
var errNotAcknowledged = errors.New("not acknowledged")

// postEntry posts a signed entry to a server and returns the index it was
// acknowledged at, and whether it was there already. A refusal (4xx) is an
// error that is not errNotAcknowledged.
func postEntry(ctx context.Context, hc *http.Client, base, token string, e signedEntry) (index int64, dup bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/entries", bytes.NewReader(e.body))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %v", errNotAcknowledged, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	switch {
	case err != nil || resp.StatusCode >= 500:
		return 0, false, fmt.Errorf("%w: %s %v %.200s", errNotAcknowledged, resp.Status, err, b)
	case resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK:
		return 0, false, fmt.Errorf("refused: %s %.500s", resp.Status, b)
	}
	var res server.AppendResult
	if err := json.Unmarshal(b, &res); err != nil || len(res.Appended) != 1 {
		return 0, false, fmt.Errorf("acknowledgement %.500s: %v", b, err)
	}
	a := res.Appended[0]
	if a.Hash != e.hash {
		return 0, false, fmt.Errorf("acknowledged hash %s at %d, posted %s", a.Hash, a.Index, e.hash)
	}
	return a.Index, a.Duplicate, nil
}

// clusterGet gets a path from a server and returns the status and the body.
func clusterGet(ctx context.Context, hc *http.Client, base, token, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// environ is this process's environment with PARLEY_* variables removed,
// so that a child's flags alone say which record it works on.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}
