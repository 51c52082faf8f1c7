// Package sqlite is parley's embedded store: one SQLite file in WAL mode,
// through modernc.org/sqlite (pure Go, no cgo). It is the only package that
// knows SQLite.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"parley/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxIdle is the most connections kept open while idle.
const maxIdle = 8

// Store is a store.Store in one SQLite file.
type Store struct {
	db *sql.DB
	q  statements
	// stmts holds the prepared statements of facts, by their SQL.
	stmts sync.Map
	// The checkpointer copies the WAL into the database file in the
	// background, so that commits do not pay for it.
	stop    chan struct{}
	stopped chan struct{}
	// walRestart is walRestartFrames, lowered by tests.
	walRestart atomic.Int64
	// migrated names the migrations Open applied.
	migrated []string
}

// statements are the queries the store runs, prepared once at Open:
// preparing one costs about as much as running a small one.
type statements struct {
	size, leaves, findLeaf, tile, checkpoints, latest, meta, setMeta *sql.Stmt
	insertLeaf, upsertTile, insertCheckpoint                         *sql.Stmt
}

// statement is one of the statements and its SQL.
type statement struct {
	stmt **sql.Stmt
	sql  string
}

// all lists the statements.
func (q *statements) all() []statement {
	return []statement{
		{&q.size, sqlSize}, {&q.leaves, sqlLeaves}, {&q.findLeaf, sqlFindLeaf}, {&q.tile, sqlTile},
		{&q.checkpoints, sqlCheckpoints}, {&q.latest, sqlLatest}, {&q.meta, sqlMeta}, {&q.setMeta, sqlSetMeta},
		{&q.insertLeaf, sqlInsertLeaf}, {&q.upsertTile, sqlUpsertTile}, {&q.insertCheckpoint, sqlInsertCheckpoint},
	}
}

// The SQL of the statements.
const (
	sqlSize        = `SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves`
	sqlLeaves      = `SELECT idx, hash, type, data FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx`
	sqlFindLeaf    = `SELECT idx FROM leaves WHERE hash = ?`
	sqlTile        = `SELECT data FROM tiles WHERE level = ? AND idx = ?`
	sqlCheckpoints = `SELECT size, time, note FROM checkpoints WHERE size >= ? AND size <= ? ORDER BY size`
	sqlLatest      = `SELECT size, time, note FROM checkpoints ORDER BY size DESC LIMIT 1`
	sqlMeta        = `SELECT value FROM meta WHERE key = ?`
	sqlSetMeta     = `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	sqlInsertLeaf  = `INSERT INTO leaves (idx, hash, type, data) VALUES (?, ?, ?, ?)`
	// A tile only ever grows: a narrower write never replaces a wider one.
	sqlUpsertTile = `INSERT INTO tiles (level, idx, width, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (level, idx) DO UPDATE SET width = excluded.width, data = excluded.data WHERE excluded.width > tiles.width`
	sqlInsertCheckpoint = `INSERT INTO checkpoints (size, time, note) VALUES (?, ?, ?)`
)

var _ store.Store = (*Store)(nil)

// Open opens (creating if need be) the SQLite store at path and brings its
// schema up to date. Commits are durable: WAL with synchronous=FULL.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	// Set on every connection. Besides durability, they make reads cheaper:
	// a memory map of the first 1 GiB of the file (no system call per page
	// read, shared by every connection) and a page cache of up to 8 MiB per
	// connection (the default is 2 MiB), which keeps the upper levels of the
	// B-trees that every read descends. Sorts too big for memory (an as-of
	// question's window over a kind's facts) spill to temporary files rather
	// than to the heap: a busy server runs many at once.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(30000)", "foreign_keys(1)",
		"mmap_size(1073741824)", "cache_size(-8192)", "wal_autocheckpoint(0)", "journal_size_limit(67108864)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Every connection has its own page cache: few are kept idle. (The
	// pool is not capped: an answer reads the entries its rows rest on
	// while it reads the rows, so a capped pool could deadlock.)
	db.SetMaxIdleConns(maxIdle)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	s.walRestart.Store(walRestartFrames)
	go s.checkpointWAL()
	return s, nil
}

// walRestartFrames is how many pages the write-ahead log may hold before
// the checkpointer makes writers wait while it empties the log: about
// 64 MiB of 4 KiB pages.
const walRestartFrames = 16384

// checkpointWAL copies committed pages from the write-ahead log into the
// database file every half second, off the commit path (automatic
// checkpoints, which run inside a commit, are off). A crash loses nothing:
// SQLite replays the WAL when the file is next opened.
//
// A passive checkpoint never waits, so under appends without a pause (an
// import) it never catches up with the last commit, and the log is never
// started again from its beginning: it would grow without bound. Past
// walRestartFrames the checkpointer therefore runs a RESTART checkpoint,
// which holds new commits back (they wait, as for any lock) until the log
// is copied, so that the next commit writes the log from its start.
func (s *Store) checkpointWAL() {
	defer close(s.stopped)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			var busy, frames, copied int
			if s.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied) == nil && int64(frames) > s.walRestart.Load() {
				s.db.Exec(`PRAGMA wal_checkpoint(RESTART)`)
			}
		}
	}
}

// prepare prepares the statements, once the schema is up to date.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range s.q.all() {
		stmt, err := s.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.stmt = stmt
	}
	return nil
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations not yet recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	all, err := store.Migrations(migrations, "migrations")
	if err != nil {
		return err
	}
	for _, m := range all {
		done, err := s.apply(ctx, m)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if done {
			s.migrated = append(s.migrated, m.Name)
		}
	}
	return nil
}

// Migrated returns the names of the migrations applied when the store was
// opened (none if its schema was up to date).
func (s *Store) Migrated() []string { return s.migrated }

// apply runs m and records it, in one transaction, unless it is recorded,
// and says whether it ran.
func (s *Store) apply(ctx context.Context, m store.Migration) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.Body); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Close closes the database, folding the WAL into the file first.
func (s *Store) Close() error {
	if s.stop != nil {
		close(s.stop)
		<-s.stopped
		s.stop = nil
		s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	for _, p := range s.q.all() {
		if *p.stmt != nil {
			(*p.stmt).Close()
		}
	}
	s.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.q.size.QueryRowContext(ctx).Scan(&n)
	return n, err
}

// Append commits b in one transaction.
func (s *Store) Append(ctx context.Context, b store.Batch) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	defer tx.Rollback()
	var size int64
	if err := tx.StmtContext(ctx, s.q.size).QueryRowContext(ctx).Scan(&size); err != nil {
		return fmt.Errorf("append: %w", err)
	}
	if size != b.Start {
		return fmt.Errorf("append at %d, log has %d: %w", b.Start, size, store.ErrConflict)
	}
	ins := tx.StmtContext(ctx, s.q.insertLeaf)
	for i, l := range b.Leaves {
		if l.Index != b.Start+int64(i) {
			return fmt.Errorf("append: leaf %d has index %d, want %d", i, l.Index, b.Start+int64(i))
		}
		if _, err := ins.ExecContext(ctx, l.Index, l.Hash[:], l.Type, l.Data); err != nil {
			return fmt.Errorf("append leaf %d: %w", l.Index, err)
		}
	}
	tile := tx.StmtContext(ctx, s.q.upsertTile)
	for _, t := range b.Tiles {
		if _, err := tile.ExecContext(ctx, t.Level, t.Index, t.Width, t.Data); err != nil {
			return fmt.Errorf("append tile %d/%d: %w", t.Level, t.Index, err)
		}
	}
	if b.Derived != nil {
		if err := s.putDerived(ctx, tx, b.Start, b.Start+int64(len(b.Leaves)), b.Derived); err != nil {
			return fmt.Errorf("append facts: %w", err)
		}
	}
	if b.Checkpoint.Note != nil {
		cp := tx.StmtContext(ctx, s.q.insertCheckpoint)
		if _, err := cp.ExecContext(ctx, b.Checkpoint.Size, b.Checkpoint.Time.UTC().Format(time.RFC3339Nano), b.Checkpoint.Note); err != nil {
			return fmt.Errorf("append checkpoint %d: %w", b.Checkpoint.Size, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append: commit: %w", err)
	}
	return nil
}

// Leaves calls fn for each leaf in [from, to).
func (s *Store) Leaves(ctx context.Context, from, to int64, fn func(store.Leaf) error) error {
	rows, err := s.q.leaves.QueryContext(ctx, from, to)
	if err != nil {
		return fmt.Errorf("read leaves: %w", err)
	}
	return scanLeaves(rows, fn)
}

// LeavesOfType calls fn for each leaf of one of the given types.
func (s *Store) LeavesOfType(ctx context.Context, types []string, fn func(store.Leaf) error) error {
	if len(types) == 0 {
		return nil
	}
	args := make([]any, len(types))
	for i, t := range types {
		args[i] = t
	}
	q := `SELECT idx, hash, type, data FROM leaves WHERE type IN (?` + strings.Repeat(",?", len(types)-1) + `) ORDER BY idx`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read leaves: %w", err)
	}
	return scanLeaves(rows, fn)
}

func scanLeaves(rows *sql.Rows, fn func(store.Leaf) error) error {
	defer rows.Close()
	for rows.Next() {
		var l store.Leaf
		var h []byte
		if err := rows.Scan(&l.Index, &h, &l.Type, &l.Data); err != nil {
			return fmt.Errorf("read leaves: %w", err)
		}
		copy(l.Hash[:], h)
		if err := fn(l); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FindLeaf returns the index of the leaf whose hash is h.
func (s *Store) FindLeaf(ctx context.Context, h [32]byte) (int64, error) {
	var idx int64
	err := s.q.findLeaf.QueryRowContext(ctx, h[:]).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	return idx, err
}

// Tile returns the widest stored data of a tile.
func (s *Store) Tile(ctx context.Context, level int, index int64) ([]byte, error) {
	var data []byte
	err := s.q.tile.QueryRowContext(ctx, level, index).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return data, err
}

// Checkpoints calls fn for each checkpoint with from <= size <= to.
func (s *Store) Checkpoints(ctx context.Context, from, to int64, fn func(store.Checkpoint) error) error {
	rows, err := s.q.checkpoints.QueryContext(ctx, from, to)
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LatestCheckpoint returns the checkpoint of the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	row := s.q.latest.QueryRowContext(ctx)
	c, err := scanCheckpoint(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Checkpoint{}, store.ErrNotFound
	}
	return c, err
}

func scanCheckpoint(row interface{ Scan(...any) error }) (store.Checkpoint, error) {
	var c store.Checkpoint
	var t string
	if err := row.Scan(&c.Size, &t, &c.Note); err != nil {
		return c, err
	}
	var err error
	c.Time, err = time.Parse(time.RFC3339Nano, t)
	return c, err
}

// Meta returns a setting, or store.ErrNotFound.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.q.meta.QueryRowContext(ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return v, err
}

// SetMeta stores a setting.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.q.setMeta.ExecContext(ctx, key, value)
	return err
}
