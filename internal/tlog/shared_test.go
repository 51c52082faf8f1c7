package tlog_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/store/postgres"
	"parley/internal/store/postgres/pgtest"
	ptlog "parley/internal/tlog"
)

// openShared opens n logs, each on a store of its own (as n servers would
// have), over one new PostgreSQL schema; the first creates the record.
func openShared(t *testing.T, op testKey, n int) []*ptlog.Log {
	t.Helper()
	u := pgtest.URL(t)
	logs := make([]*ptlog.Log, n)
	for i := range n {
		st, err := postgres.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("open store %d: %v", i, err)
		}
		cfg := ptlog.Config{Operator: op.signer, Types: testTypes()}
		if i == 0 {
			cfg.Origin, cfg.OperatorKey = op.signer.Name(), op.vkey
		}
		l, err := ptlog.Open(t.Context(), st, cfg)
		if err != nil {
			st.Close()
			t.Fatalf("open log %d: %v", i, err)
		}
		t.Cleanup(func() {
			l.Close()
			st.Close()
		})
		logs[i] = l
	}
	return logs
}

// TestSharedLogOneHistory appends through three logs on one database at
// once: every entry gets one index, a key registered through one log signs
// at once through another, a key revoked through one is refused by the
// others, and every log ends with the same checkpoint and a tree that
// proves every other log's checkpoints consistent with it.
func TestSharedLogOneHistory(t *testing.T) {
	op := newKey(t, "example.org/shared")
	logs := openShared(t, op, 3)
	ctx := t.Context()

	author := newKey(t, "author")
	reg, err := logs[0].Append(ctx, []*entry.Signed{sign(t, keyRegisterEntry(author, "a delegate"), op)})
	if err != nil {
		t.Fatalf("register through log 0: %v", err)
	}
	// Registered through log 0, the key signs through log 2 at once: log 2
	// catches up before it judges an author it does not know.
	if _, err := logs[2].Append(ctx, []*entry.Signed{sign(t, noteEntry("first"), author)}); err != nil {
		t.Fatalf("append through log 2 right after the key was registered through log 0: %v", err)
	}

	const writers, each = 12, 25
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		indexOf = map[string]int64{}
	)
	for w := range writers {
		l := logs[w%len(logs)]
		wg.Go(func() {
			for k := range each {
				text := fmt.Sprintf("writer %d, note %d", w, k)
				res, err := l.Append(ctx, []*entry.Signed{sign(t, noteEntry(text), author)})
				if err != nil {
					t.Errorf("%s: %v", text, err)
					return
				}
				mu.Lock()
				indexOf[text] = res[0].Index
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Every acknowledged entry is on the log once, at the index it was given.
	const size = 2 + 1 + writers*each // genesis, key, first note and the writers' notes
	waitFor(t, fmt.Sprintf("every log to follow the others to size %d", size), func() bool {
		for _, l := range logs {
			if l.Size() != size {
				return false
			}
		}
		return true
	})
	final, _ := logs[0].Latest()
	seen := map[string]int64{}
	err = logs[1].Entries(ctx, 0, size, func(e ptlog.Indexed) error {
		if e.Entry.Type == typeNote {
			var b noteBody
			if err := json.Unmarshal(e.Entry.Body, &b); err != nil {
				return err
			}
			if prev, ok := seen[b.Text]; ok {
				return fmt.Errorf("%q at %d and at %d", b.Text, prev, e.Index)
			}
			seen[b.Text] = e.Index
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for text, idx := range indexOf {
		if seen[text] != idx {
			t.Errorf("%q was acknowledged at %d, is on the log at %d", text, idx, seen[text])
		}
	}
	for i, l := range logs {
		c, _ := l.Latest()
		if c.Size != final.Size || c.Root != final.Root {
			t.Errorf("log %d's latest checkpoint is %d %x, log 0's %d %x", i, c.Size, c.Root, final.Size, final.Root)
		}
		// Every checkpoint any log issued is consistent with the final tree.
		err := l.Checkpoints(ctx, 1, size, func(c ptlog.Checkpoint) error {
			p, err := logs[(i+1)%len(logs)].ProveConsistency(ctx, c.Size, size)
			if err != nil {
				return err
			}
			if p.OldRoot != c.Root || p.NewRoot != final.Root {
				return fmt.Errorf("proof from %d to %d is between roots %x and %x, want %x and %x", c.Size, size, p.OldRoot, p.NewRoot, c.Root, final.Root)
			}
			if trust, err := p.Check(op.vkey); err != nil || trust != ptlog.Signed {
				return fmt.Errorf("proof from %d to %d: %s, %v", c.Size, size, trust, err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("log %d: %v", i, err)
		}
	}

	// A key revoked through one log is refused by the others.
	if _, err := logs[1].Append(ctx, []*entry.Signed{sign(t, keyRevokeEntry(author, "lost"), op)}); err != nil {
		t.Fatalf("revoke through log 1: %v", err)
	}
	_, err = logs[2].Append(ctx, []*entry.Signed{sign(t, noteEntry("after the revocation"), author)})
	if err == nil {
		t.Errorf("a note by a key revoked through log 1 was appended through log 2")
	}
	if reg[0].Index != 1 {
		t.Errorf("the key was registered at %d, want 1 (after genesis)", reg[0].Index)
	}
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
