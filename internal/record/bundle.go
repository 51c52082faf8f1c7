package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"parley/internal/problem"
	"parley/internal/store/sqlite"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// VerifyBundle checks a bundle against the whole vocabulary. If operator is
// set, the bundle must be signed by that operator key.
func VerifyBundle(ctx context.Context, rd io.Reader, operator string, progress func(entries, bytes int64)) (tlog.Summary, error) {
	types, err := vocab.Types()
	if err != nil {
		return tlog.Summary{}, err
	}
	return tlog.Verify(ctx, rd, tlog.VerifyOptions{Operator: operator, Types: types, Progress: progress})
}

// Verify checks the whole record as a bundle would be checked by anyone
// else: it streams the record's export through the bundle verifier, pinned
// to the record's own operator key.
func (r *Record) Verify(ctx context.Context, progress func(entries, bytes int64)) (tlog.Summary, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(r.Log.Export(ctx, pw)) }()
	s, err := VerifyBundle(ctx, pr, r.Log.OperatorKey(), progress)
	pr.CloseWithError(errors.New("verification stopped"))
	return s, err
}

// Import verifies the bundle read from rd and, only if it verifies, makes it
// the record in dir. The new record has no operator key: it is a read-only
// copy that proves what the bundle holds.
func Import(ctx context.Context, dir string, rd io.Reader, progress func(entries, bytes int64)) (tlog.Summary, error) {
	return ImportDB(ctx, dir, "", rd, progress)
}

// ImportDB is Import into the store db names. A SQLite file is written
// aside and renamed into place only once the bundle verifies; a PostgreSQL
// schema must hold nothing, and if the bundle fails to verify part way it
// keeps what was read before the failure, which the error says, and must
// be emptied (its schema dropped) before it is used again.
func ImportDB(ctx context.Context, dir, db string, rd io.Reader, progress func(entries, bytes int64)) (tlog.Summary, error) {
	path, err := sqlitePath(dir, db)
	if err != nil {
		return tlog.Summary{}, err
	}
	if path == "" {
		return importInto(ctx, db, rd, progress)
	}
	return importFile(ctx, dir, path, rd, progress)
}

// importInto imports into an empty PostgreSQL schema.
func importInto(ctx context.Context, db string, rd io.Reader, progress func(entries, bytes int64)) (tlog.Summary, error) {
	st, err := OpenStore(ctx, "", db)
	if err != nil {
		return tlog.Summary{}, err
	}
	defer st.Close()
	held, err := holdsRecord(ctx, st)
	if err != nil {
		return tlog.Summary{}, err
	}
	size, err := st.Size(ctx)
	if err != nil {
		return tlog.Summary{}, err
	}
	if held || size > 0 {
		return tlog.Summary{}, problem.New(problem.Conflict, "--db", "%s already holds a record (%d entries): import into an empty schema", Redact(db), size)
	}
	types, err := vocab.Types()
	if err != nil {
		return tlog.Summary{}, err
	}
	sum, err := tlog.Verify(ctx, rd, tlog.VerifyOptions{Types: types, Progress: progress, Into: st})
	if err != nil {
		n, _ := st.Size(ctx)
		return tlog.Summary{}, fmt.Errorf("%w (%s now holds the %d entries read before this: drop its schema before using it again)", err, Redact(db), n)
	}
	return sum, nil
}

// importFile imports into a new SQLite file at final.
func importFile(ctx context.Context, dir, final string, rd io.Reader, progress func(entries, bytes int64)) (tlog.Summary, error) {
	if _, err := os.Stat(final); err == nil {
		return tlog.Summary{}, problem.New(problem.Conflict, dir, "a record already exists here: import into a new directory")
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return tlog.Summary{}, err
	}
	tmp := final + ".importing"
	removeDB(tmp)
	st, err := sqlite.Open(ctx, tmp)
	if err != nil {
		return tlog.Summary{}, err
	}
	types, err := vocab.Types()
	if err != nil {
		st.Close()
		return tlog.Summary{}, err
	}
	sum, err := tlog.Verify(ctx, rd, tlog.VerifyOptions{Types: types, Progress: progress, Into: st})
	if cerr := st.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		removeDB(tmp)
		return tlog.Summary{}, err
	}
	for _, suffix := range []string{"-wal", "-shm", ""} {
		if err := os.Rename(tmp+suffix, final+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return tlog.Summary{}, fmt.Errorf("import: %w", err)
		}
	}
	return sum, nil
}

// removeDB removes a SQLite database file and its WAL companions.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}
