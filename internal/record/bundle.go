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
	final := filepath.Join(dir, StoreFile)
	if _, err := os.Stat(final); err == nil {
		return tlog.Summary{}, problem.New(problem.Conflict, dir, "a record already exists here: import into a new directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tlog.Summary{}, err
	}
	tmp := filepath.Join(dir, StoreFile+".importing")
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
