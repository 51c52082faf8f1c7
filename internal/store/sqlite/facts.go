package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"parley/internal/store"
	"parley/internal/store/internal/heads"
)

// The SQL that keeps the projections' facts. OR ROLLBACK: an append whose
// facts fail is rolled back whole anyway, so SQLite need not journal each
// many-row statement to undo just that statement.
const (
	sqlProjected    = `SELECT size FROM projected`
	sqlSetProjected = `UPDATE projected SET size = ?`
	sqlInsertFacts  = `INSERT OR ROLLBACK INTO facts (idx, seq, kind, subject, object, tag, time, latest, data) VALUES `
	sqlUpsertHeads  = `INSERT OR ROLLBACK INTO heads (kind, subject, object, tag, time, idx, seq) VALUES `
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
	if err := d.Check(from, through); err != nil {
		return err
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
	for _, q := range []string{`DELETE FROM facts`, `DELETE FROM heads`, `DELETE FROM voids`, `DELETE FROM tallies`, `UPDATE projected SET size = 0`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("reset facts: %w", err)
		}
	}
	return tx.Commit()
}

// The SQL of a rebuild. A rebuild loads the facts before it builds the
// indexes that find them: an index built in one sort costs a fraction of
// keeping it up to date row by row once its B-tree outgrows the page cache.
const (
	// The indexes of the facts and their heads, and the triggers that keep
	// the tallies, with the SQL that made them.
	sqlFactIndexes = `SELECT name, type, sql FROM sqlite_master
		WHERE type IN ('index', 'trigger') AND tbl_name IN ('facts', 'heads') AND sql IS NOT NULL ORDER BY type, name`
	// The tallies counted again from the heads, after a rebuild.
	sqlCountTallies = `INSERT INTO tallies (kind, subject, tag, day, n)
		SELECT kind, subject, tag, day, count(*) FROM heads WHERE kind GLOB 'tally.*' GROUP BY kind, subject, tag, day`
	// OR ROLLBACK: a failed insert fails the whole rebuild, so SQLite need
	// not journal the pages each statement changes to undo just that one.
	sqlLoadFacts = `INSERT OR ROLLBACK INTO facts (idx, seq, kind, subject, object, tag, time, latest, data) VALUES `
	sqlLoadHeads = `INSERT OR ROLLBACK INTO heads (kind, subject, object, tag, time, idx, seq) VALUES `
)

// keptIndex is the one index a rebuild keeps up to date as it loads the
// facts rather than build it at the end: facts come in the order of their
// entries, which is nearly the order of their times, so it only grows at
// the right edge of each kind, and that costs less than a sort.
const keptIndex = "facts_by_time"

// headsPerInsert is the most heads one INSERT of a rebuild writes.
const headsPerInsert = 512

// RebuildFacts replaces the facts in one transaction: it drops the indexes
// of facts and heads, loads the facts fold derives while it finds the latest
// fact of each key, writes the heads, and builds the indexes again from the
// SQL they were made with. The log is not touched, and until the commit
// every reader sees the facts as they were.
func (s *Store) RebuildFacts(ctx context.Context, fold func(put func(through int64, d store.Derived) error) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	defer tx.Rollback()
	indexes, err := dropFactIndexes(ctx, tx)
	if err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	for _, q := range []string{`DELETE FROM facts`, `DELETE FROM heads`, `DELETE FROM voids`, `DELETE FROM tallies`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild facts: %w", err)
		}
	}
	l := &loader{tx: tx}
	if l.insert, err = tx.PrepareContext(ctx, loadFacts(factsPerInsert)); err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	r, err := heads.Fold(fold, func(d store.Derived) error { return l.load(ctx, d) })
	if err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	moved, err := putHeads(ctx, tx, r)
	if err != nil {
		return fmt.Errorf("rebuild facts: heads: %w", err)
	}
	for _, ix := range indexes {
		if ix.typ != "index" {
			continue
		}
		if _, err := tx.ExecContext(ctx, ix.sql); err != nil {
			return fmt.Errorf("rebuild facts: index %s: %w", ix.name, err)
		}
	}
	// The keys whose latest fact is void, now that the facts are indexed.
	for _, k := range moved {
		if _, err := tx.ExecContext(ctx, sqlRecomputeHead, k.Kind, k.Subject, k.Object); err != nil {
			return fmt.Errorf("rebuild facts: heads: %w", err)
		}
	}
	// The tallies, counted once, and their triggers back.
	if _, err := tx.ExecContext(ctx, sqlCountTallies); err != nil {
		return fmt.Errorf("rebuild facts: tallies: %w", err)
	}
	for _, ix := range indexes {
		if ix.typ != "trigger" {
			continue
		}
		if _, err := tx.ExecContext(ctx, ix.sql); err != nil {
			return fmt.Errorf("rebuild facts: trigger %s: %w", ix.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, sqlSetProjected, r.At()); err != nil {
		return fmt.Errorf("rebuild facts: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild facts: commit: %w", err)
	}
	return nil
}

// A schemaObject is an index or trigger a rebuild drops and makes again.
type schemaObject struct{ name, typ, sql string }

// dropFactIndexes drops the indexes of facts and heads but keptIndex, and
// the triggers that keep the tallies, and returns each it dropped.
func dropFactIndexes(ctx context.Context, tx *sql.Tx) ([]schemaObject, error) {
	rows, err := tx.QueryContext(ctx, sqlFactIndexes)
	if err != nil {
		return nil, err
	}
	var out []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.name, &o.typ, &o.sql); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	dropped := out[:0]
	for _, o := range out {
		if o.name == keptIndex {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DROP `+strings.ToUpper(o.typ)+` "`+o.name+`"`); err != nil {
			return nil, fmt.Errorf("drop %s %s: %w", o.typ, o.name, err)
		}
		dropped = append(dropped, o)
	}
	return dropped, nil
}

// loadFacts is the INSERT of n facts in a rebuild.
func loadFacts(n int) string {
	return sqlLoadFacts + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ")
}

// loadHeads is the INSERT of n heads in a rebuild.
func loadHeads(n int) string {
	return sqlLoadHeads + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ")
}

// A loader loads the runs of a rebuild into its transaction.
type loader struct {
	tx     *sql.Tx
	insert *sql.Stmt // of factsPerInsert facts
}

// load inserts d, a run that heads.Fold has checked. An insert OR ROLLBACK
// refused may end the transaction: heads.Fold lets nothing follow.
func (l *loader) load(ctx context.Context, d store.Derived) error {
	args := make([]any, 0, 9*factsPerInsert)
	for rest := d.Facts; len(rest) > 0; {
		n := min(len(rest), factsPerInsert)
		chunk := rest[:n]
		rest = rest[n:]
		args = args[:0]
		for _, f := range chunk {
			args = append(args, f.Index, f.Seq, f.Kind, f.Subject, f.Object, f.Tag, f.Time.UnixNano(), f.Latest, f.Data)
		}
		ins := l.insert
		if n < factsPerInsert {
			var err error
			if ins, err = l.tx.PrepareContext(ctx, loadFacts(n)); err != nil {
				return err
			}
			defer ins.Close()
		}
		if _, err := ins.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("facts of entries %d to %d: %w", chunk[0].Index, chunk[n-1].Index, err)
		}
	}
	for _, v := range d.Voids {
		if _, err := l.tx.ExecContext(ctx, sqlInsertVoid, v.Target, v.By); err != nil {
			return fmt.Errorf("void entry %d: %w", v.Target, err)
		}
	}
	return nil
}

// putHeads inserts the heads r found whose fact holds, in the order of
// their key, and returns the keys whose latest fact is void: their head is
// an older fact.
func putHeads(ctx context.Context, tx *sql.Tx, r *heads.Rebuild) ([]heads.Key, error) {
	keys, moved := r.Split()
	// In the order of the heads' primary key, each insert appends.
	slices.SortFunc(keys, heads.Key.Compare)
	args := make([]any, 0, 7*headsPerInsert)
	for rest := keys; len(rest) > 0; {
		n := min(len(rest), headsPerInsert)
		args = args[:0]
		for _, k := range rest[:n] {
			h := r.Head(k)
			args = append(args, k.Kind, k.Subject, k.Object, h.Tag, h.Time, h.Index, h.Seq)
		}
		rest = rest[n:]
		if _, err := tx.ExecContext(ctx, loadHeads(n), args...); err != nil {
			return nil, err
		}
	}
	return moved, nil
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
	if q.Latest && q.KnownAt == 0 && q.AsOf.IsZero() {
		keys("h.")
		tags("h.tag")
		if !q.From.IsZero() {
			add("h.time >= ?", q.From.UnixNano())
		}
		if !q.Until.IsZero() {
			add("h.time < ?", q.Until.UnixNano())
		}
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
		if !q.Until.IsZero() {
			add("time < ?", q.Until.UnixNano())
		}
		tags("tag")
		return `SELECT ` + factColumns + ` FROM facts f WHERE ` + strings.Join(where, " AND ") + order + limit, args
	}
	add("latest = 1")
	inner := `SELECT f.*, ROW_NUMBER() OVER (PARTITION BY subject, object ORDER BY time DESC, idx DESC, seq DESC) AS rank
		FROM facts f WHERE ` + strings.Join(where, " AND ")
	outer := `SELECT ` + factColumns + ` FROM (` + inner + `) f WHERE rank = 1`
	if !q.Until.IsZero() {
		outer += " AND time < ?"
		args = append(args, q.Until.UnixNano())
	}
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

// sqlTallies reads the counts of one tallied kind: the subject prefix is
// matched as a range, so the primary key finds it.
const sqlTallies = `SELECT subject, tag, day, n FROM tallies
	WHERE kind = ? AND subject >= ? AND subject < ? AND day >= ? AND day <= ?
	ORDER BY subject, day, tag`

// Tallies calls fn for each count q selects.
func (s *Store) Tallies(ctx context.Context, q store.TallyQuery, fn func(store.Tally) error) error {
	stmt, err := s.prepared(ctx, sqlTallies)
	if err != nil {
		return fmt.Errorf("read tallies: %w", err)
	}
	lo, hi, from, to := q.Bounds()
	rows, err := stmt.QueryContext(ctx, q.Kind, lo, hi, from, to)
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
