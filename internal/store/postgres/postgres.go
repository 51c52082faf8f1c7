// Package postgres is parley's store for many teams and several servers: a
// PostgreSQL database, through pgx and its pool. It is the only package that
// knows PostgreSQL, and it behaves as the SQLite store does: both pass the
// conformance suite in store/storetest.
//
// Several processes may share one database. Appends take turns on one row
// that holds the log's size, so that an appender that did not start at the
// size gets store.ErrConflict, never a gap or a duplicated index; the schema
// is migrated under an advisory lock, so that servers starting together
// apply each migration once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/internal/store"
)

// defaultMaxConns is the pool's size unless the URL sets pool_max_conns.
// pgx's default (4 on a small machine) is too few: an answer reads the
// entries its facts rest on while it reads the facts, so each answer may
// hold two connections, and a rebuild holds one while its fold reads.
const defaultMaxConns = 16

// Store is a store.Store in a PostgreSQL schema.
type Store struct {
	pool     *pgxpool.Pool
	migrated []string
}

var _ store.Store = (*Store)(nil)

// The SQL of the log.
const (
	sqlSize     = `SELECT size FROM log_size`
	sqlLeaves   = `SELECT idx, hash, type, data FROM leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx`
	sqlOfType   = `SELECT idx, hash, type, data FROM leaves WHERE type = ANY($1) ORDER BY idx`
	sqlFindLeaf = `SELECT idx FROM leaves WHERE hash = $1`
	sqlTile     = `SELECT data FROM tiles WHERE level = $1 AND idx = $2`
	sqlCheckpts = `SELECT size, time, note FROM checkpoints WHERE size >= $1 AND size <= $2 ORDER BY size`
	sqlLatest   = `SELECT size, time, note FROM checkpoints ORDER BY size DESC LIMIT 1`
	sqlMeta     = `SELECT value FROM meta WHERE key = $1`
	sqlSetMeta  = `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	// The append's turn: it locks the size's row, waiting for the appender
	// before it, and changes it only if the batch starts at the size. Under
	// READ COMMITTED the condition is checked again on the row as the
	// appender before left it.
	sqlAdvance     = `UPDATE log_size SET size = $2 WHERE size = $1`
	sqlInsertLeafs = `INSERT INTO leaves (idx, hash, type, data)
		SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bytea[])`
	// A tile only ever grows: a narrower write never replaces a wider one.
	sqlUpsertTiles = `INSERT INTO tiles AS t (level, idx, width, data)
		SELECT * FROM unnest($1::integer[], $2::bigint[], $3::integer[], $4::bytea[])
		ON CONFLICT (level, idx) DO UPDATE SET width = excluded.width, data = excluded.data WHERE excluded.width > t.width`
	sqlInsertCheckpoint = `INSERT INTO checkpoints (size, time, note) VALUES ($1, $2, $3)`
)

// Open connects to the PostgreSQL database at url (a postgres:// URL, or
// key=value settings) and brings its schema up to date. The tables live in
// the first schema of the search path, which the URL may set, with
// options=-csearch_path=NAME or search_path=NAME; Open creates that schema
// if it does not exist. pool_max_conns and pgx's other pool_ settings size
// the pool (16 connections unless it says otherwise).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	// pg_stat_activity names the process behind each connection: with
	// pg_locks, it tells which server holds the turn to append.
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = fmt.Sprintf("parley pid %d", os.Getpid())
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	applied, err := migrate(ctx, conn.Conn())
	conn.Release()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	return &Store{pool: pool, migrated: applied}, nil
}

// Migrated returns the names of the migrations applied when the store was
// opened (none if its schema was up to date).
func (s *Store) Migrated() []string { return s.migrated }

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, sqlSize).Scan(&n); err != nil {
		return 0, fmt.Errorf("size: %w", err)
	}
	return n, nil
}

// Append commits b in one transaction, after the appenders before it.
func (s *Store) Append(ctx context.Context, b store.Batch) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return writeBatch(ctx, tx, b) })
	if err != nil {
		return fmt.Errorf("append: %w", err)
	}
	return nil
}

// writeBatch writes b in tx: it advances the size (store.ErrConflict if b
// does not start at it), and stores the leaves, tiles, facts and checkpoint.
// Its notice to the followers goes out when tx commits.
func writeBatch(ctx context.Context, tx pgx.Tx, b store.Batch) error {
	end := b.Start + int64(len(b.Leaves))
	tag, err := tx.Exec(ctx, sqlAdvance, b.Start, end)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var size int64
		if err := tx.QueryRow(ctx, sqlSize).Scan(&size); err != nil {
			return err
		}
		return fmt.Errorf("append at %d, log has %d: %w", b.Start, size, store.ErrConflict)
	}
	if err := insertLeaves(ctx, tx, b); err != nil {
		return err
	}
	if err := upsertTiles(ctx, tx, b.Tiles); err != nil {
		return err
	}
	if b.Derived != nil {
		if err := putDerived(ctx, tx, b.Start, end, b.Derived); err != nil {
			return fmt.Errorf("facts: %w", err)
		}
	}
	if b.Checkpoint.Note != nil {
		c := b.Checkpoint
		if _, err := tx.Exec(ctx, sqlInsertCheckpoint, c.Size, c.Time, c.Note); err != nil {
			return fmt.Errorf("checkpoint %d: %w", c.Size, err)
		}
	}
	if len(b.Leaves) > 0 {
		if _, err := tx.Exec(ctx, sqlNotify); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	return nil
}

// insertLeaves inserts the leaves of b in one statement. A leaf whose hash
// is stored fails it with an error that is not store.ErrConflict: the log
// core looks its entries up then, rather than reload and try again.
func insertLeaves(ctx context.Context, tx pgx.Tx, b store.Batch) error {
	if len(b.Leaves) == 0 {
		return nil
	}
	var (
		idx   = make([]int64, len(b.Leaves))
		hash  = make([][]byte, len(b.Leaves))
		types = make([]string, len(b.Leaves))
		data  = make([][]byte, len(b.Leaves))
	)
	for i, l := range b.Leaves {
		if l.Index != b.Start+int64(i) {
			return fmt.Errorf("leaf %d has index %d, want %d", i, l.Index, b.Start+int64(i))
		}
		idx[i], hash[i], types[i], data[i] = l.Index, l.Hash[:], l.Type, l.Data
	}
	_, err := tx.Exec(ctx, sqlInsertLeafs, idx, hash, types, data)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "leaves_hash_key" {
		return fmt.Errorf("leaves %d to %d: a leaf's hash is already stored: %s", b.Start, b.Start+int64(len(b.Leaves))-1, pe.Detail)
	}
	if err != nil {
		return fmt.Errorf("leaves %d to %d: %w", b.Start, b.Start+int64(len(b.Leaves))-1, err)
	}
	return nil
}

// upsertTiles writes the tiles in one statement. One statement may not
// change a row twice, so of a tile given twice the widest is written (the
// first of the widest, as writing them in turn would leave).
func upsertTiles(ctx context.Context, tx pgx.Tx, tiles []store.Tile) error {
	if len(tiles) == 0 {
		return nil
	}
	type key struct {
		level int
		index int64
	}
	at := map[key]int{}
	var widest []store.Tile
	for _, t := range tiles {
		k := key{t.Level, t.Index}
		if i, ok := at[k]; !ok {
			at[k] = len(widest)
			widest = append(widest, t)
		} else if t.Width > widest[i].Width {
			widest[i] = t
		}
	}
	var (
		levels = make([]int32, len(widest))
		idx    = make([]int64, len(widest))
		widths = make([]int32, len(widest))
		data   = make([][]byte, len(widest))
	)
	for i, t := range widest {
		levels[i], idx[i], widths[i], data[i] = int32(t.Level), t.Index, int32(t.Width), t.Data
	}
	if _, err := tx.Exec(ctx, sqlUpsertTiles, levels, idx, widths, data); err != nil {
		return fmt.Errorf("tiles: %w", err)
	}
	return nil
}

// Leaves calls fn for each leaf in [from, to).
func (s *Store) Leaves(ctx context.Context, from, to int64, fn func(store.Leaf) error) error {
	rows, err := s.pool.Query(ctx, sqlLeaves, from, to)
	return eachLeaf(rows, err, fn)
}

// LeavesOfType calls fn for each leaf of one of the given types.
func (s *Store) LeavesOfType(ctx context.Context, types []string, fn func(store.Leaf) error) error {
	if len(types) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, sqlOfType, types)
	return eachLeaf(rows, err, fn)
}

// eachLeaf calls fn for each leaf rows holds. It takes the query's error
// too, so that one error is wrapped for both.
func eachLeaf(rows pgx.Rows, err error, fn func(store.Leaf) error) error {
	if err != nil {
		return fmt.Errorf("read leaves: %w", err)
	}
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
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read leaves: %w", err)
	}
	return nil
}

// FindLeaf returns the index of the leaf whose hash is h.
func (s *Store) FindLeaf(ctx context.Context, h [32]byte) (int64, error) {
	var idx int64
	err := s.pool.QueryRow(ctx, sqlFindLeaf, h[:]).Scan(&idx)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("find leaf: %w", err)
	}
	return idx, nil
}

// Tile returns the widest stored data of a tile.
func (s *Store) Tile(ctx context.Context, level int, index int64) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, sqlTile, level, index).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", level, index, err)
	}
	return data, nil
}

// Checkpoints calls fn for each checkpoint with from <= size <= to.
func (s *Store) Checkpoints(ctx context.Context, from, to int64, fn func(store.Checkpoint) error) error {
	rows, err := s.pool.Query(ctx, sqlCheckpts, from, to)
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	return nil
}

// LatestCheckpoint returns the checkpoint of the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	c, err := scanCheckpoint(s.pool.QueryRow(ctx, sqlLatest))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Checkpoint{}, store.ErrNotFound
	}
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("latest checkpoint: %w", err)
	}
	return c, nil
}

func scanCheckpoint(row pgx.Row) (store.Checkpoint, error) {
	var c store.Checkpoint
	err := row.Scan(&c.Size, &c.Time, &c.Note)
	c.Time = c.Time.UTC()
	return c, err
}

// Meta returns a setting, or store.ErrNotFound.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, sqlMeta, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a setting.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if _, err := s.pool.Exec(ctx, sqlSetMeta, key, value); err != nil {
		return fmt.Errorf("set meta %q: %w", key, err)
	}
	return nil
}
