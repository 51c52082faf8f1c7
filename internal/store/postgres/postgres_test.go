package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
	"parley/internal/store/postgres/pgtest"
	"parley/internal/store/storetest"
)

var (
	serverURL      = pgtest.ServerURL
	connect        = pgtest.Connect
	freshSchema    = pgtest.URL
	newSchema      = pgtest.NewSchema
	schemaName     = pgtest.SchemaName
	withSearchPath = func(_ testing.TB, u, schema string) string { return pgtest.WithSearchPath(u, schema) }
)

func open(t testing.TB, u string) *Store {
	t.Helper()
	s, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	connect(t).Close(t.Context()) // skip (or fail in CI) once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, freshSchema(t))
	})
}

// appliedMigrations reads schema_migrations. Each migration must have been
// applied in the last hour by the server's clock (the test's may differ).
func appliedMigrations(t *testing.T, s *Store) []string {
	t.Helper()
	rows, _ := s.pool.Query(t.Context(), `SELECT version, name, applied_at,
		applied_at <= now() AND applied_at > now() - interval '1 hour' FROM schema_migrations ORDER BY version`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var (
			v      int
			name   string
			at     time.Time
			recent bool
		)
		err := r.Scan(&v, &name, &at, &recent)
		if err == nil && !recent {
			t.Errorf("migration %s applied at %v, not in the server's last hour", name, at)
		}
		return fmt.Sprintf("%d %s", v, name), err
	})
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return out
}

func TestMigrations(t *testing.T) {
	all, err := store.Migrations(migrations, "migrations")
	if err != nil || len(all) == 0 {
		t.Fatalf("embedded migrations: %v, %v", all, err)
	}
	var want, names []string
	for _, m := range all {
		want = append(want, fmt.Sprintf("%d %s", m.Version, m.Name))
		names = append(names, m.Name)
		if !strings.HasPrefix(m.Name, fmt.Sprintf("%03d_", m.Version)) {
			t.Errorf("migration %s: want a three-digit number first", m.Name)
		}
	}
	schema, u := newSchema(t)

	applied, err := Migrate(t.Context(), u)
	if err != nil || !slices.Equal(applied, names) {
		t.Fatalf("Migrate on an empty schema = %q, %v; want %q", applied, err, names)
	}
	if again, err := Migrate(t.Context(), u); err != nil || len(again) != 0 {
		t.Fatalf("Migrate again = %q, %v; want nothing applied", again, err)
	}
	s := open(t, u)
	if got := appliedMigrations(t, s); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}
	b := store.Batch{Start: 0, Leaves: []store.Leaf{{Index: 0, Hash: sha256.Sum256([]byte("x")), Type: "note", Data: []byte("x")}}}
	if err := s.Append(t.Context(), b); err != nil {
		t.Fatalf("Append: %v", err)
	}
	s.Close()

	// A schema newer than the code is refused, not written to.
	conn := connect(t)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `INSERT INTO `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` (version, name) VALUES (999, '999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), u); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a schema at version 999 = %v, want an error that says it is newer", err)
	}
}

// TestOpenTogether opens several stores on one new schema at once, as
// servers starting together do: each migration is applied once, and every
// store works.
func TestOpenTogether(t *testing.T) {
	// Skip (or fail in CI) without a server. The schema is not created
	// here: Open creates it.
	connect(t).Close(t.Context())
	u := withSearchPath(t, serverURL(), schemaName(t))

	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), u) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	all, _ := store.Migrations(migrations, "migrations")
	var count int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&count); err != nil || count != len(all) {
		t.Errorf("schema_migrations has %d rows, %v; want %d", count, err, len(all))
	}
	// Every store appends through the others' appends.
	for i, s := range stores {
		b := store.Batch{Start: int64(i), Leaves: []store.Leaf{{Index: int64(i), Hash: sha256.Sum256(fmt.Append(nil, i)), Type: "note", Data: []byte{byte(i)}}}}
		if err := s.Append(t.Context(), b); err != nil {
			t.Errorf("store %d: Append at %d: %v", i, i, err)
		}
	}
}

// TestStoresShareOneLog runs appenders through two stores (two pools, as
// two servers would have) on one schema: each append lands at the size or
// gets ErrConflict, and the log has no gap and no leaf twice.
func TestStoresShareOneLog(t *testing.T) {
	u := freshSchema(t)
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	const writers, each = 6, 10
	var wg sync.WaitGroup
	for w := range writers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for k := 0; k < each; {
				start, err := s.Size(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				tag := fmt.Sprintf("w%d/%d", w, k)
				l := store.Leaf{Index: start, Hash: sha256.Sum256([]byte(tag)), Type: "note", Data: []byte(tag)}
				err = s.Append(t.Context(), store.Batch{Start: start, Leaves: []store.Leaf{l},
					Checkpoint: store.Checkpoint{Size: start + 1, Time: time.Now(), Note: []byte(tag)}})
				switch {
				case err == nil:
					k++
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	var next int64
	seen := map[string]bool{}
	err := a.Leaves(t.Context(), 0, 1<<40, func(l store.Leaf) error {
		if l.Index != next || seen[string(l.Data)] {
			return fmt.Errorf("leaf %d (%s) where %d was expected", l.Index, l.Data, next)
		}
		seen[string(l.Data)] = true
		next++
		return nil
	})
	if err != nil || next != writers*each {
		t.Errorf("log of %d leaves, %v; want %d", next, err, writers*each)
	}
}

// TestSearchPathInOptions opens a store whose schema the URL names the
// libpq way, in options.
func TestSearchPathInOptions(t *testing.T) {
	schema, _ := newSchema(t)
	p, err := url.Parse(serverURL())
	if err != nil || p.Scheme == "" {
		t.Skip("PARLEY_TEST_POSTGRES is not a URL")
	}
	q := p.Query()
	q.Set("options", "-csearch_path="+schema)
	p.RawQuery = q.Encode()
	s := open(t, p.String())
	defer s.Close()
	if err := s.SetMeta(t.Context(), "origin", "x"); err != nil {
		t.Fatal(err)
	}
	var n int
	err = s.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{schema, "meta"}.Sanitize()).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("%s.meta has %d rows, %v; want 1", schema, n, err)
	}
}

func TestFirstSchema(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{`parley`, "parley"},
		{`"$user", public`, "public"},
		{`"My ""Schema""", public`, `My "Schema"`},
		{` t1 ,t2`, "t1"},
		{``, ""},
	} {
		if got := firstSchema(c.path); got != c.want {
			t.Errorf("firstSchema(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

// BenchmarkAppend appends batches of 1 and of 100 leaves, each with a tile
// and a checkpoint, as the log core commits them.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("leaves=%d", n), func(b *testing.B) {
			s := open(b, freshSchema(b))
			defer s.Close()
			data := make([]byte, 1024)
			var size int64
			for b.Loop() {
				batch := store.Batch{Start: size}
				for i := range n {
					idx := size + int64(i)
					batch.Leaves = append(batch.Leaves, store.Leaf{Index: idx, Hash: sha256.Sum256(fmt.Append(nil, idx)), Type: "note", Data: data})
				}
				size += int64(n)
				batch.Tiles = []store.Tile{{Level: 0, Index: size / 256, Width: int(size%256) + 1, Data: data}}
				batch.Checkpoint = store.Checkpoint{Size: size, Time: time.Now(), Note: []byte(hex.EncodeToString(data[:32]))}
				if err := s.Append(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "leaves/s")
		})
	}
}

// batchAt is a one-leaf batch at start, with a checkpoint.
func batchAt(start int64, tag string) store.Batch {
	return store.Batch{Start: start, Leaves: []store.Leaf{{Index: start, Hash: sha256.Sum256([]byte(tag)), Type: "note", Data: []byte(tag)}},
		Checkpoint: store.Checkpoint{Size: start + 1, Time: time.Now(), Note: []byte(tag)}}
}

// TestTurns checks that one store at a time holds the turn, that a turn
// appends at its size and then ends, that a turn ended without appending
// leaves nothing, and that a holder that sits idle loses the turn after
// turnIdle, its append then failing, while the next store takes it.
func TestTurns(t *testing.T) {
	u := freshSchema(t)
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()

	ta, err := a.Turn(ctx)
	if err != nil || ta.Size() != 0 {
		t.Fatalf("a.Turn = size %v, %v; want a turn at 0", ta, err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if _, err := b.Turn(short); err == nil {
		t.Errorf("b took the turn while a held it")
	}
	cancel()
	if err := ta.Append(ctx, batchAt(0, "a0")); err != nil {
		t.Fatalf("a's append in its turn: %v", err)
	}
	ta.End() // after Append: nothing

	tb, err := b.Turn(ctx)
	if err != nil || tb.Size() != 1 {
		t.Fatalf("b.Turn after a's append = %v, %v; want a turn at 1", tb, err)
	}
	tb.End()
	if err := tb.Append(ctx, batchAt(1, "late")); err == nil {
		t.Errorf("an append after the turn ended succeeded")
	}
	if n, _ := a.Size(ctx); n != 1 {
		t.Errorf("size %d after a turn ended without an append, want 1", n)
	}
	if tb, err = b.Turn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tb.Append(ctx, batchAt(0, "stale")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("an append at 0 in a turn at 1 = %v, want ErrConflict", err)
	}

	// A holder that goes quiet loses the turn; the next waiting takes it.
	frozen, err := a.Turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	next, err := b.Turn(ctx)
	waited := time.Since(start)
	if err != nil {
		t.Fatalf("b.Turn behind a frozen holder: %v", err)
	}
	if waited < turnIdle-500*time.Millisecond {
		t.Errorf("b took the turn after %v, before the holder had been idle %v", waited, turnIdle)
	}
	if err := frozen.Append(ctx, batchAt(1, "frozen")); err == nil {
		t.Errorf("the frozen holder's append succeeded after it lost the turn")
	}
	if err := next.Append(ctx, batchAt(1, "b1")); err != nil {
		t.Errorf("the next holder's append: %v", err)
	}
	var tags []string
	a.Leaves(ctx, 0, 10, func(l store.Leaf) error { tags = append(tags, string(l.Data)); return nil })
	if !slices.Equal(tags, []string{"a0", "b1"}) {
		t.Errorf("leaves %q, want a0 b1", tags)
	}
}

// TestChanges checks that a store hears of another's append.
func TestChanges(t *testing.T) {
	u := freshSchema(t)
	a, b := open(t, u), open(t, u)
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	changes := b.Changes(ctx)
	<-changes // the first, once it listens
	if err := a.Append(ctx, batchAt(0, "x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatalf("no change heard in 10 s after an append")
	}
	cancel()
	for range changes {
		// drained until closed: it closes when ctx ends
	}
}
