package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store"
	"parley/internal/store/internal/heads"
)

// The SQL that keeps the projections' facts.
const (
	sqlProjected = `SELECT size FROM projected`
	// A writer of facts takes its turn on the row of projected, and moves it
	// only if its facts start where the facts reach.
	sqlAdvanceProjected = `UPDATE projected SET size = $2 WHERE size = $1`
	sqlLockProjected    = `SELECT size FROM projected FOR UPDATE`
	sqlSetProjected     = `UPDATE projected SET size = $1`
	sqlInsertFacts      = `INSERT INTO facts (idx, seq, kind, subject, object, tag, time, latest, data)
		SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::boolean[], $9::bytea[])`
	// A head moves only to a later fact.
	sqlUpsertHeads = `INSERT INTO heads AS h (kind, subject, object, tag, time, idx, seq)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::integer[])
		ON CONFLICT (kind, subject, object) DO UPDATE SET tag = excluded.tag, time = excluded.time, idx = excluded.idx, seq = excluded.seq
		WHERE (excluded.time, excluded.idx, excluded.seq) > (h.time, h.idx, h.seq)`
	sqlInsertVoids = `INSERT INTO voids (target, voided_by) SELECT * FROM unnest($1::bigint[], $2::bigint[])`
	// The heads that were facts of voided entries go; their keys come back.
	sqlDeleteVoidedHeads = `DELETE FROM heads WHERE idx = ANY($1) RETURNING kind, subject, object`
	// The head of a key is its latest fact of an entry not voided.
	sqlRecomputeHeads = `INSERT INTO heads (kind, subject, object, tag, time, idx, seq)
		SELECT DISTINCT ON (f.kind, f.subject, f.object) f.kind, f.subject, f.object, f.tag, f.time, f.idx, f.seq
		FROM unnest($1::text[], $2::text[], $3::text[]) AS k (kind, subject, object)
		JOIN facts f ON f.kind = k.kind AND f.subject = k.subject AND f.object = k.object
		WHERE f.latest AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = f.idx)
		ORDER BY f.kind, f.subject, f.object, f.time DESC, f.idx DESC, f.seq DESC`
)

// copyAbove is the number of facts from which they are written with COPY
// rather than one INSERT: COPY costs a round trip more, and much less per
// row.
const copyAbove = 256

var factColumnNames = []string{"idx", "seq", "kind", "subject", "object", "tag", "time", "latest", "data"}

// Projected returns the log size up to which facts have been derived.
func (s *Store) Projected(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, sqlProjected).Scan(&n); err != nil {
		return 0, fmt.Errorf("projected size: %w", err)
	}
	return n, nil
}

// Project stores the facts derived from the entries in [from, through).
func (s *Store) Project(ctx context.Context, from, through int64, d store.Derived) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return putDerived(ctx, tx, from, through, &d)
	})
	if err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// putDerived writes d in tx, if the facts reach exactly up to from.
func putDerived(ctx context.Context, tx pgx.Tx, from, through int64, d *store.Derived) error {
	tag, err := tx.Exec(ctx, sqlAdvanceProjected, from, through)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		var at int64
		if err := tx.QueryRow(ctx, sqlProjected).Scan(&at); err != nil {
			return err
		}
		return fmt.Errorf("facts reach entry %d, not %d: %w", at, from, store.ErrConflict)
	}
	if err := d.Check(from, through); err != nil {
		return err
	}
	if err := insertFacts(ctx, tx, d.Facts); err != nil {
		return err
	}
	if err := upsertHeads(ctx, tx, d.Facts); err != nil {
		return err
	}
	return putVoids(ctx, tx, d.Voids)
}

// insertFacts writes facts, in one statement.
func insertFacts(ctx context.Context, tx pgx.Tx, facts []store.Fact) error {
	if len(facts) == 0 {
		return nil
	}
	first, last := facts[0].Index, facts[len(facts)-1].Index
	if len(facts) > copyAbove {
		if err := copyFacts(ctx, tx, facts); err != nil {
			return fmt.Errorf("facts of entries %d to %d: %w", first, last, err)
		}
		return nil
	}
	var c factColumns
	for _, f := range facts {
		c.add(f)
	}
	if _, err := tx.Exec(ctx, sqlInsertFacts, c.idx, c.seq, c.kind, c.subject, c.object, c.tag, c.time, c.latest, c.data); err != nil {
		return fmt.Errorf("facts of entries %d to %d: %w", first, last, err)
	}
	return nil
}

// copyFacts writes facts with COPY.
func copyFacts(ctx context.Context, tx pgx.Tx, facts []store.Fact) error {
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"facts"}, factColumnNames, pgx.CopyFromSlice(len(facts), func(i int) ([]any, error) {
		f := facts[i]
		return []any{f.Index, f.Seq, f.Kind, f.Subject, f.Object, f.Tag, f.Time.UnixNano(), f.Latest, f.Data}, nil
	}))
	return err
}

// factColumns are facts as the arrays an INSERT … SELECT FROM unnest takes.
type factColumns struct {
	idx, time                  []int64
	seq                        []int32
	kind, subject, object, tag []string
	latest                     []bool
	data                       [][]byte
}

func (c *factColumns) add(f store.Fact) {
	c.idx = append(c.idx, f.Index)
	c.seq = append(c.seq, int32(f.Seq))
	c.kind = append(c.kind, f.Kind)
	c.subject = append(c.subject, f.Subject)
	c.object = append(c.object, f.Object)
	c.tag = append(c.tag, f.Tag)
	c.time = append(c.time, f.Time.UnixNano())
	c.latest = append(c.latest, f.Latest)
	c.data = append(c.data, f.Data)
}

// headColumns are heads as the arrays an INSERT … SELECT FROM unnest takes.
type headColumns struct {
	kind, subject, object, tag []string
	time, idx                  []int64
	seq                        []int32
}

func (c *headColumns) add(k heads.Key, h heads.Head) {
	c.kind = append(c.kind, k.Kind)
	c.subject = append(c.subject, k.Subject)
	c.object = append(c.object, k.Object)
	c.tag = append(c.tag, h.Tag)
	c.time = append(c.time, h.Time)
	c.idx = append(c.idx, h.Index)
	c.seq = append(c.seq, int32(h.Seq))
}

// upsertHeads moves the heads of the keys of facts to their latest fact, if
// it is later than the head. One statement may not change a row twice: the
// latest of each key's facts is found first.
func upsertHeads(ctx context.Context, tx pgx.Tx, facts []store.Fact) error {
	var latest heads.Latest
	latest.Add(facts)
	if len(latest.Keys()) == 0 {
		return nil
	}
	var c headColumns
	for _, k := range latest.Keys() {
		c.add(k, latest.Head(k))
	}
	if _, err := tx.Exec(ctx, sqlUpsertHeads, c.kind, c.subject, c.object, c.tag, c.time, c.idx, c.seq); err != nil {
		return fmt.Errorf("heads of entries %d to %d: %w", facts[0].Index, facts[len(facts)-1].Index, err)
	}
	return nil
}

// putVoids records voids and moves the heads that were facts of their
// targets back to the latest fact still holding. (Done for all the voids at
// once, it ends where voiding them in turn would.)
func putVoids(ctx context.Context, tx pgx.Tx, voids []store.Void) error {
	if len(voids) == 0 {
		return nil
	}
	targets, by := make([]int64, len(voids)), make([]int64, len(voids))
	for i, v := range voids {
		targets[i], by[i] = v.Target, v.By
	}
	if _, err := tx.Exec(ctx, sqlInsertVoids, targets, by); err != nil {
		return fmt.Errorf("void entries %v: %w", targets, err)
	}
	rows, _ := tx.Query(ctx, sqlDeleteVoidedHeads, targets)
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (heads.Key, error) {
		var k heads.Key
		err := r.Scan(&k.Kind, &k.Subject, &k.Object)
		return k, err
	})
	if err != nil {
		return fmt.Errorf("void entries %v: heads: %w", targets, err)
	}
	return recomputeHeads(ctx, tx, keys)
}

// recomputeHeads finds the head of each key again from its facts.
func recomputeHeads(ctx context.Context, tx pgx.Tx, keys []heads.Key) error {
	if len(keys) == 0 {
		return nil
	}
	var kind, subject, object []string
	for _, k := range keys {
		kind, subject, object = append(kind, k.Kind), append(subject, k.Subject), append(object, k.Object)
	}
	if _, err := tx.Exec(ctx, sqlRecomputeHeads, kind, subject, object); err != nil {
		return fmt.Errorf("recompute heads: %w", err)
	}
	return nil
}

// ResetFacts throws every derived fact away.
func (s *Store) ResetFacts(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, q := range []string{sqlLockProjected, `DELETE FROM facts`, `DELETE FROM heads`, `DELETE FROM voids`,
			`DELETE FROM tallies`, `UPDATE projected SET size = 0`} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reset facts: %w", err)
	}
	return nil
}

// RebuildFacts replaces the facts in one transaction: it deletes them, loads
// with COPY the facts fold derives while it finds the latest fact of each
// key, and writes the heads (the tallies follow them by trigger, once per
// statement). The log is not touched, and until the commit every reader
// sees the facts as they were (the deleted rows stay theirs until then:
// nothing here locks a reader out). Writers of facts wait for the rebuild.
func (s *Store) RebuildFacts(ctx context.Context, fold func(put func(through int64, d store.Derived) error) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, q := range []string{sqlLockProjected, `DELETE FROM facts`, `DELETE FROM heads`, `DELETE FROM voids`, `DELETE FROM tallies`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("rebuild facts: %w", err)
		}
	}
	r, err := heads.Fold(fold, func(d store.Derived) error { return loadRun(ctx, tx, d) })
	if err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	if err := putHeads(ctx, tx, r); err != nil {
		return fmt.Errorf("rebuild facts: heads: %w", err)
	}
	if _, err := tx.Exec(ctx, sqlSetProjected, r.At()); err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("rebuild facts: commit: %w", err)
	}
	return nil
}

// loadRun loads d, a run of a rebuild that heads.Fold has checked.
func loadRun(ctx context.Context, tx pgx.Tx, d store.Derived) error {
	if len(d.Facts) > 0 {
		if err := copyFacts(ctx, tx, d.Facts); err != nil {
			return fmt.Errorf("facts of entries %d to %d: %w", d.Facts[0].Index, d.Facts[len(d.Facts)-1].Index, err)
		}
	}
	if len(d.Voids) > 0 {
		targets, by := make([]int64, len(d.Voids)), make([]int64, len(d.Voids))
		for i, v := range d.Voids {
			targets[i], by[i] = v.Target, v.By
		}
		if _, err := tx.Exec(ctx, sqlInsertVoids, targets, by); err != nil {
			return fmt.Errorf("void entries %v: %w", targets, err)
		}
	}
	return nil
}

// putHeads writes with COPY the heads r found whose fact is not void, and
// finds the heads of the other keys among their older facts.
func putHeads(ctx context.Context, tx pgx.Tx, r *heads.Rebuild) error {
	kept, moved := r.Split()
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"heads"}, []string{"kind", "subject", "object", "tag", "time", "idx", "seq"},
		pgx.CopyFromSlice(len(kept), func(i int) ([]any, error) {
			k := kept[i]
			h := r.Head(k)
			return []any{k.Kind, k.Subject, k.Object, h.Tag, h.Time, h.Index, h.Seq}, nil
		}))
	if err != nil {
		return err
	}
	return recomputeHeads(ctx, tx, moved)
}

// Facts calls fn for each fact q selects.
func (s *Store) Facts(ctx context.Context, q store.FactQuery, fn func(store.Fact) error) error {
	query, args := factSQL(q)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f store.Fact
		var t int64
		var seq int32
		if err := rows.Scan(&f.Index, &seq, &f.Kind, &f.Subject, &f.Object, &f.Tag, &t, &f.Latest, &f.Data); err != nil {
			return fmt.Errorf("read facts: %w", err)
		}
		f.Seq = int(seq)
		f.Time = time.Unix(0, t).UTC()
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read facts: %w", err)
	}
	return nil
}

const factSelect = `SELECT f.idx, f.seq, f.kind, f.subject, f.object, f.tag, f.time, f.latest, f.data`

// conditions are the WHERE of a query and its arguments, numbered in turn.
type conditions struct {
	where []string
	args  []any
}

// add adds cond, in which each "?" is the next of args.
func (c *conditions) add(cond string, args ...any) {
	for _, a := range args {
		c.args = append(c.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(c.args)), 1)
	}
	c.where = append(c.where, cond)
}

func (c *conditions) String() string { return strings.Join(c.where, " AND ") }

// factSQL builds the query for q. The latest facts of now come from heads;
// the latest facts of another moment are ranked among the facts that held
// then.
func factSQL(q store.FactQuery) (string, []any) {
	var c conditions
	order := ` ORDER BY f.time, f.idx, f.seq`
	if q.Desc {
		order = ` ORDER BY f.time DESC, f.idx DESC, f.seq DESC`
	}
	// The cap is an argument, numbered after all others, so that queries
	// of one shape share one prepared statement.
	limit := func() string {
		if q.Limit <= 0 {
			return ""
		}
		c.args = append(c.args, q.Limit)
		return fmt.Sprintf(" LIMIT $%d", len(c.args))
	}
	keys := func(p string) {
		c.add(p+"kind = ?", q.Kind)
		if q.Subject != "" {
			c.add(p+"subject = ?", q.Subject)
		}
		if q.Object != "" {
			c.add(p+"object = ?", q.Object)
		}
	}
	if q.Latest && q.KnownAt == 0 && q.AsOf.IsZero() {
		keys("h.")
		if len(q.Tags) > 0 {
			c.add("h.tag = ANY(?)", q.Tags)
		}
		if !q.From.IsZero() {
			c.add("h.time >= ?", q.From.UnixNano())
		}
		if !q.Until.IsZero() {
			c.add("h.time < ?", q.Until.UnixNano())
		}
		query := factSelect + ` FROM heads h JOIN facts f ON f.idx = h.idx AND f.seq = h.seq WHERE ` +
			c.String() + order + limit()
		return query, c.args
	}
	keys("f.")
	if !q.AsOf.IsZero() {
		c.add("f.time <= ?", q.AsOf.UnixNano())
	}
	if !q.From.IsZero() {
		c.add("f.time >= ?", q.From.UnixNano())
	}
	if q.KnownAt > 0 {
		c.add("f.idx < ?", q.KnownAt)
		c.add("NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = f.idx AND v.voided_by < ?)", q.KnownAt)
	} else {
		c.add("NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = f.idx)")
	}
	if !q.Latest {
		if !q.Until.IsZero() {
			c.add("f.time < ?", q.Until.UnixNano())
		}
		if len(q.Tags) > 0 {
			c.add("f.tag = ANY(?)", q.Tags)
		}
		query := factSelect + ` FROM facts f WHERE ` + c.String() + order + limit()
		return query, c.args
	}
	c.add("f.latest")
	inner := `SELECT f.*, row_number() OVER (PARTITION BY f.subject, f.object ORDER BY f.time DESC, f.idx DESC, f.seq DESC) AS rank
		FROM facts f WHERE ` + c.String()
	outer := factSelect + ` FROM (` + inner + `) f WHERE f.rank = 1`
	if !q.Until.IsZero() {
		c.args = append(c.args, q.Until.UnixNano())
		outer += fmt.Sprintf(" AND f.time < $%d", len(c.args))
	}
	if len(q.Tags) > 0 {
		c.args = append(c.args, q.Tags)
		outer += fmt.Sprintf(" AND f.tag = ANY($%d)", len(c.args))
	}
	query := outer + order + limit()
	return query, c.args
}

// sqlTallies reads the counts of one tallied kind: the subject prefix is
// matched as a range, as SQLite matches it, so the primary key finds it.
const sqlTallies = `SELECT subject, tag, day, n FROM tallies
	WHERE kind = $1 AND subject >= $2 AND subject < $3 AND day >= $4 AND day <= $5
	ORDER BY subject, day, tag`

// Tallies calls fn for each count q selects.
func (s *Store) Tallies(ctx context.Context, q store.TallyQuery, fn func(store.Tally) error) error {
	lo, hi, from, to := q.Bounds()
	rows, err := s.pool.Query(ctx, sqlTallies, q.Kind, lo, hi, from, to)
	if err != nil {
		return fmt.Errorf("read tallies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t := store.Tally{Kind: q.Kind}
		if err := rows.Scan(&t.Subject, &t.Tag, &t.Day, &t.N); err != nil {
			return fmt.Errorf("read tallies: %w", err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read tallies: %w", err)
	}
	return nil
}
