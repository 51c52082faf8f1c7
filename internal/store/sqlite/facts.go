package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"parley/internal/store"
)

// The SQL that keeps the projections' facts.
const (
	sqlProjected    = `SELECT size FROM projected`
	sqlSetProjected = `UPDATE projected SET size = ?`
	sqlInsertFacts  = `INSERT INTO facts (idx, seq, kind, subject, object, tag, time, latest, data) VALUES `
	sqlUpsertHeads  = `INSERT INTO heads (kind, subject, object, tag, time, idx, seq) VALUES `
	// A head moves only to a later fact.
	sqlHeadConflict = ` ON CONFLICT (kind, subject, object) DO UPDATE SET tag = excluded.tag, time = excluded.time, idx = excluded.idx, seq = excluded.seq
		WHERE (excluded.time, excluded.idx, excluded.seq) > (heads.time, heads.idx, heads.seq)`
	sqlInsertVoid = `INSERT INTO voids (target, by) VALUES (?, ?)`
	// The keys whose head was a fact of a voided entry.
	sqlVoidedHeads = `SELECT kind, subject, object FROM heads WHERE idx = ?`
	sqlDeleteHead  = `DELETE FROM heads WHERE kind = ? AND subject = ? AND object = ?`
	// The head of a key is its latest fact of an entry not voided. ("+object"
	// keeps SQLite on the subject's index: many facts share an empty object.)
	sqlRecomputeHead = `INSERT INTO heads (kind, subject, object, tag, time, idx, seq)
		SELECT kind, subject, object, tag, time, idx, seq FROM facts f
		WHERE kind = ? AND subject = ? AND +object = ? AND latest = 1
		AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = f.idx)
		ORDER BY time DESC, idx DESC, seq DESC LIMIT 1`
)

// prepared returns the statement for query, prepared once: the queries of
// facts take a few shapes, and preparing one costs as much as running it.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// factsPerInsert is the most facts one INSERT writes (9 parameters each,
// well under SQLite's limit of 32,766).
const factsPerInsert = 256

// insertFacts is the INSERT of n facts.
func insertFacts(n int) string {
	return sqlInsertFacts + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ")
}

// upsertHeads is the upsert of n heads.
func upsertHeads(n int) string {
	return sqlUpsertHeads + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ") + sqlHeadConflict
}

// Projected returns the log size up to which facts have been derived.
func (s *Store) Projected(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, sqlProjected).Scan(&n); err != nil {
		return 0, fmt.Errorf("projected size: %w", err)
	}
	return n, nil
}

// Project stores the facts derived from the entries in [from, through).
func (s *Store) Project(ctx context.Context, from, through int64, d store.Derived) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("project: %w", err)
	}
	defer tx.Rollback()
	if err := s.putDerived(ctx, tx, from, through, &d); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("project: commit: %w", err)
	}
	return nil
}

// putDerived writes d in tx, if the facts reach exactly up to from.
func (s *Store) putDerived(ctx context.Context, tx *sql.Tx, from, through int64, d *store.Derived) error {
	var at int64
	if err := tx.QueryRowContext(ctx, sqlProjected).Scan(&at); err != nil {
		return err
	}
	if at != from {
		return fmt.Errorf("facts reach entry %d, not %d: %w", at, from, store.ErrConflict)
	}
	for _, f := range d.Facts {
		if f.Index < from || f.Index >= through {
			return fmt.Errorf("fact of entry %d outside [%d, %d)", f.Index, from, through)
		}
	}
	// Many rows per statement: a statement costs far more than a row.
	for rest := d.Facts; len(rest) > 0; {
		n := min(len(rest), factsPerInsert)
		chunk := rest[:n]
		rest = rest[n:]
		args := make([]any, 0, 9*n)
		var heads []any
		for _, f := range chunk {
			t := f.Time.UnixNano()
			args = append(args, f.Index, f.Seq, f.Kind, f.Subject, f.Object, f.Tag, t, f.Latest, f.Data)
			if f.Latest {
				heads = append(heads, f.Kind, f.Subject, f.Object, f.Tag, t, f.Index, f.Seq)
			}
		}
		ins, err := s.prepared(ctx, insertFacts(n))
		if err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("facts of entries %d to %d: %w", chunk[0].Index, chunk[n-1].Index, err)
		}
		if len(heads) > 0 {
			up, err := s.prepared(ctx, upsertHeads(len(heads)/7))
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, up).ExecContext(ctx, heads...); err != nil {
				return fmt.Errorf("heads of entries %d to %d: %w", chunk[0].Index, chunk[n-1].Index, err)
			}
		}
	}
	for _, v := range d.Voids {
		if err := putVoid(ctx, tx, v); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, sqlSetProjected, through)
	return err
}

// putVoid records v and moves the heads that were facts of its target back
// to the latest fact still holding.
func putVoid(ctx context.Context, tx *sql.Tx, v store.Void) error {
	if _, err := tx.ExecContext(ctx, sqlInsertVoid, v.Target, v.By); err != nil {
		return fmt.Errorf("void entry %d: %w", v.Target, err)
	}
	rows, err := tx.QueryContext(ctx, sqlVoidedHeads, v.Target)
	if err != nil {
		return err
	}
	var keys [][3]string
	for rows.Next() {
		var k [3]string
		if err := rows.Scan(&k[0], &k[1], &k[2]); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, sqlDeleteHead, k[0], k[1], k[2]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlRecomputeHead, k[0], k[1], k[2]); err != nil {
			return err
		}
	}
	return nil
}

// ResetFacts throws every derived fact away.
func (s *Store) ResetFacts(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reset facts: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM facts`, `DELETE FROM heads`, `DELETE FROM voids`, `UPDATE projected SET size = 0`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset facts: %w", err)
		}
	}
	return tx.Commit()
}

// Facts calls fn for each fact q selects.
func (s *Store) Facts(ctx context.Context, q store.FactQuery, fn func(store.Fact) error) error {
	query, args := factSQL(q)
	stmt, err := s.prepared(ctx, query)
	if err != nil {
		return fmt.Errorf("read facts: %w", err)
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("read facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f store.Fact
		var t int64
		if err := rows.Scan(&f.Index, &f.Seq, &f.Kind, &f.Subject, &f.Object, &f.Tag, &t, &f.Latest, &f.Data); err != nil {
			return fmt.Errorf("read facts: %w", err)
		}
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

const factColumns = `f.idx, f.seq, f.kind, f.subject, f.object, f.tag, f.time, f.latest, f.data`

// factSQL builds the query for q. The latest facts of now come from heads;
// the latest facts of another moment are ranked among the facts that held
// then.
func factSQL(q store.FactQuery) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	order := ` ORDER BY f.time, f.idx, f.seq`
	if q.Desc {
		order = ` ORDER BY f.time DESC, f.idx DESC, f.seq DESC`
	}
	limit := ""
	if q.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	tags := func(col string) {
		if len(q.Tags) > 0 {
			add(col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.Tags)), ", ")+")", anys(q.Tags)...)
		}
	}
	keys := func(p string) {
		add(p+"kind = ?", q.Kind)
		if q.Subject != "" {
			add(p+"subject = ?", q.Subject)
		}
		if q.Object != "" && q.Subject != "" {
			// The subject narrows more than the object (which may be
			// empty for many facts): keep the planner on facts_by_subject.
			add("+"+p+"object = ?", q.Object)
		} else if q.Object != "" {
			add(p+"object = ?", q.Object)
		}
	}
	if q.Latest && q.KnownAt == 0 && q.AsOf.IsZero() && q.From.IsZero() {
		keys("h.")
		tags("h.tag")
		return `SELECT ` + factColumns + ` FROM heads h JOIN facts f ON f.idx = h.idx AND f.seq = h.seq WHERE ` +
			strings.Join(where, " AND ") + order + limit, args
	}
	keys("")
	if !q.AsOf.IsZero() {
		add("time <= ?", q.AsOf.UnixNano())
	}
	if !q.From.IsZero() {
		add("time >= ?", q.From.UnixNano())
	}
	if q.KnownAt > 0 {
		add("idx < ?", q.KnownAt)
		add("NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = f.idx AND v.by < ?)", q.KnownAt)
	} else {
		add("NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = f.idx)")
	}
	if !q.Latest {
		tags("tag")
		return `SELECT ` + factColumns + ` FROM facts f WHERE ` + strings.Join(where, " AND ") + order + limit, args
	}
	add("latest = 1")
	inner := `SELECT f.*, ROW_NUMBER() OVER (PARTITION BY subject, object ORDER BY time DESC, idx DESC, seq DESC) AS rank
		FROM facts f WHERE ` + strings.Join(where, " AND ")
	outer := `SELECT ` + factColumns + ` FROM (` + inner + `) f WHERE rank = 1`
	if len(q.Tags) > 0 {
		outer += " AND tag IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(q.Tags)), ", ") + ")"
		args = append(args, anys(q.Tags)...)
	}
	return outer + order + limit, args
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
