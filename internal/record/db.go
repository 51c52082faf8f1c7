package record

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/store/postgres"
	"parley/internal/store/postgres/pgurl"
	"parley/internal/store/sqlite"
)

// A record's store is named by a database string (--db, or PARLEY_DB):
//
//	""                  the SQLite file parley.db in the data directory
//	sqlite:PATH         a SQLite file elsewhere
//	postgres://…        a PostgreSQL database (postgresql:// too), which
//	                    several servers may share
//
// The data directory still holds the operator's and authors' keys, and the
// evidence files.

// IsPostgres reports whether db names a PostgreSQL database.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// sqlitePath is the SQLite file db names for a record in dir, or "" if db
// names PostgreSQL.
func sqlitePath(dir, db string) (string, error) {
	switch {
	case db == "":
		return filepath.Join(dir, StoreFile), nil
	case strings.HasPrefix(db, "sqlite:"):
		if p := strings.TrimPrefix(db, "sqlite:"); p != "" {
			return p, nil
		}
	case IsPostgres(db):
		return "", nil
	}
	return "", problem.New(problem.Invalid, "--db", "%q is not a database parley knows: give postgres://USER@HOST:PORT/DB (or postgresql://…), or sqlite:PATH", Redact(db))
}

// OpenStore opens the store db names for a record in dir (creating an empty
// one if there is none), bringing its schema up to date.
func OpenStore(ctx context.Context, dir, db string) (store.Store, error) {
	path, err := sqlitePath(dir, db)
	if err != nil {
		return nil, err
	}
	if path != "" {
		return sqlite.Open(ctx, path)
	}
	return postgres.Open(ctx, db)
}

// Redact returns db without a password, to print.
func Redact(db string) string {
	if !IsPostgres(db) {
		return db
	}
	return pgurl.Redacted(db)
}

// holdsRecord reports whether st holds a record (its origin is set).
func holdsRecord(ctx context.Context, st store.Store) (bool, error) {
	_, err := st.Meta(ctx, "origin")
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}

// Migrate brings the schema of the store db names up to date and returns
// the names of the migrations it applied. A SQLite file must exist: a new
// one is made by init or import.
func Migrate(ctx context.Context, dir, db string) ([]string, error) {
	path, err := sqlitePath(dir, db)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, problem.New(problem.NotFound, path, "no record here: create one with `parley init` or `parley import FILE`")
		}
	}
	st, err := OpenStore(ctx, dir, db)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if m, ok := st.(store.Migrator); ok {
		return m.Migrated(), nil
	}
	return nil, nil
}
