package sqlite

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// migration is one row of schema_migrations.
type migration struct {
	version int
	name    string
	applied string
}

func appliedMigrations(t *testing.T, s *Store) []migration {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT version, name, applied FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []migration
	for rows.Next() {
		var m migration
		if err := rows.Scan(&m.version, &m.name, &m.applied); err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return out
}

func TestMigrations(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded migrations: %v, %v", names, err)
	}
	path := filepath.Join(t.TempDir(), "parley.db")

	s := open(t, path)
	first := appliedMigrations(t, s)
	if len(first) != len(names) {
		t.Fatalf("schema_migrations has %d rows, want one per embedded migration (%d)", len(first), len(names))
	}
	for i, m := range first {
		base := strings.TrimPrefix(names[i], "migrations/")
		if m.name != base || !strings.HasPrefix(base, fmt.Sprintf("%03d_", m.version)) {
			t.Errorf("migration %d recorded as version %d, name %q; want %q", i, m.version, m.name, base)
		}
		if _, err := time.Parse(time.RFC3339, m.applied); err != nil {
			t.Errorf("migration %s: applied %q is not a time: %v", m.name, m.applied, err)
		}
	}
	mustAppend(t, s, 0, "before reopen")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Reopening applies nothing: the rows, their times and the data are as
	// they were. (A second run of 001 would fail on CREATE TABLE anyway.)
	for i := range 2 {
		s := open(t, path)
		if again := appliedMigrations(t, s); !slices.Equal(again, first) {
			t.Errorf("reopen %d: schema_migrations = %v, want %v", i+1, again, first)
		}
		if n, err := s.Size(t.Context()); err != nil || n != 1 {
			t.Errorf("reopen %d: Size = %d, %v; want 1", i+1, n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// TestDurabilitySettings checks what Open promises: WAL, synchronous=FULL.
func TestDurabilitySettings(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "parley.db"))
	defer s.Close()
	pragmas := []struct {
		name, want string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "30000"},
		{"journal_size_limit", "67108864"},
	}
	for _, p := range pragmas {
		t.Run(p.name, func(t *testing.T) {
			var got string
			if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+p.name).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", p.name, err)
			}
			if got != p.want {
				t.Errorf("PRAGMA %s = %q, want %q", p.name, got, p.want)
			}
		})
	}
}

// mustAppend appends one leaf, its tile and checkpoint at index i.
func mustAppend(t *testing.T, s *Store, i int64, tag string) store.Batch {
	t.Helper()
	b := store.Batch{
		Start: i,
		Leaves: []store.Leaf{{
			Index: i,
			Hash:  sha256.Sum256([]byte(tag)),
			Type:  "position",
			Data:  []byte(tag),
		}},
		Tiles:      []store.Tile{{Level: 0, Index: 0, Width: int(i + 1), Data: []byte(tag)}},
		Checkpoint: store.Checkpoint{Size: i + 1, Time: time.Date(2025, 1, 2, 3, 4, 5, int(i)*1000, time.UTC), Note: []byte(tag)},
	}
	if err := s.Append(t.Context(), b); err != nil {
		t.Fatalf("Append at %d: %v", i, err)
	}
	return b
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := open(t, path)
	var batches []store.Batch
	for i := range int64(3) {
		batches = append(batches, mustAppend(t, s, i, fmt.Sprintf("leaf %d", i)))
	}
	if err := s.SetMeta(t.Context(), "origin", "parley.example/talks"); err != nil {
		t.Fatalf("SetMeta: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	defer s.Close()
	ctx := t.Context()
	if n, err := s.Size(ctx); err != nil || n != 3 {
		t.Fatalf("Size after reopen = %d, %v; want 3", n, err)
	}
	var got []store.Leaf
	if err := s.Leaves(ctx, 0, 3, func(l store.Leaf) error { got = append(got, l); return nil }); err != nil {
		t.Fatalf("Leaves: %v", err)
	}
	for i, b := range batches {
		want := b.Leaves[0]
		if i >= len(got) || got[i].Index != want.Index || got[i].Hash != want.Hash || got[i].Type != want.Type || !bytes.Equal(got[i].Data, want.Data) {
			t.Errorf("leaf %d after reopen: got %+v, want %+v", i, got, want)
		}
		if idx, err := s.FindLeaf(ctx, want.Hash); err != nil || idx != want.Index {
			t.Errorf("FindLeaf(leaf %d) after reopen = %d, %v", i, idx, err)
		}
	}
	if data, err := s.Tile(ctx, 0, 0); err != nil || string(data) != "leaf 2" {
		t.Errorf("Tile(0, 0) after reopen = %q, %v; want %q", data, err, "leaf 2")
	}
	var cps []store.Checkpoint
	if err := s.Checkpoints(ctx, 0, 3, func(c store.Checkpoint) error { cps = append(cps, c); return nil }); err != nil {
		t.Fatalf("Checkpoints: %v", err)
	}
	if len(cps) != 3 {
		t.Fatalf("%d checkpoints after reopen, want 3", len(cps))
	}
	for i, c := range cps {
		want := batches[i].Checkpoint
		if c.Size != want.Size || !c.Time.Equal(want.Time) || !bytes.Equal(c.Note, want.Note) {
			t.Errorf("checkpoint %d after reopen = %+v, want %+v", i, c, want)
		}
	}
	if v, err := s.Meta(ctx, "origin"); err != nil || v != "parley.example/talks" {
		t.Errorf("Meta(origin) after reopen = %q, %v", v, err)
	}

	// The log goes on where it stopped, and refuses to rewrite its past.
	err := s.Append(ctx, store.Batch{Start: 2, Leaves: []store.Leaf{{Index: 2, Hash: sha256.Sum256([]byte("late")), Type: "position", Data: []byte("late")}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("Append at 2 after reopen: error = %v, want store.ErrConflict", err)
	}
	mustAppend(t, s, 3, "leaf 3")
}

// TestWALStaysBounded appends without a pause, as an import does: the
// checkpointer must start the write-ahead log again from its beginning now
// and then, or it grows with every commit. The log's header counts the
// times it was started again (its checkpoint sequence number).
func TestWALStaysBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s := open(t, path)
	defer s.Close()
	s.walRestart.Store(256) // 1 MiB of pages, not 64
	restarts := func() uint32 {
		t.Helper()
		h := make([]byte, 16)
		f, err := os.Open(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := io.ReadFull(f, h); err != nil {
			t.Fatal(err)
		}
		return binary.BigEndian.Uint32(h[12:16])
	}
	leaf := bytes.Repeat([]byte("x"), 4<<10)
	var first uint32
	start := time.Now()
	for i := int64(0); ; i++ {
		tag := fmt.Sprintf("leaf %d ", i)
		b := store.Batch{Start: i,
			Leaves:     []store.Leaf{{Index: i, Hash: sha256.Sum256([]byte(tag)), Type: "note", Data: append([]byte(tag), leaf...)}},
			Tiles:      []store.Tile{{Level: 0, Index: i / 256, Width: int(i%256 + 1), Data: []byte(tag)}},
			Checkpoint: store.Checkpoint{Size: i + 1, Time: time.Now(), Note: []byte(tag)}}
		if err := s.Append(t.Context(), b); err != nil {
			t.Fatalf("Append at %d: %v", i, err)
		}
		if i == 0 {
			first = restarts()
		}
		if n := restarts() - first; n >= 2 {
			t.Logf("the log was started again %d times in %d appends", n, i+1)
			return
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%d appends in 20 s without a pause, and the write-ahead log was started again %d times: it only grows", i+1, restarts()-first)
		}
	}
}
