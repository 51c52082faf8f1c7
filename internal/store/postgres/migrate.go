package postgres

import (
	"context"
	"embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the session advisory lock held while the
// schema is brought up to date, so that servers starting together apply
// each migration once: "parley" in ASCII.
const migrationLock = 0x7061726c6579

// The SQL of the migrations' history.
const (
	sqlCreateHistory = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`
	sqlApplied       = `SELECT version FROM schema_migrations ORDER BY version`
	sqlRecord        = `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`
	sqlLock          = `SELECT pg_advisory_lock($1)`
	sqlUnlock        = `SELECT pg_advisory_unlock($1)`
	sqlCurrentSchema = `SELECT current_schema(), current_setting('search_path')`
)

// Migrate brings the schema of the database at url up to date, as Open
// does, and returns the names of the migrations it applied (none if the
// schema was up to date). It is what a `parley migrate` command runs before
// the servers start.
func Migrate(ctx context.Context, url string) (applied []string, err error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrate(ctx, conn)
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations not yet recorded in schema_migrations, holding the migration
// lock on conn meanwhile: a second process waits for the first, then finds
// nothing left to do. It creates the first schema of the search path if
// there is none.
func migrate(ctx context.Context, conn *pgx.Conn) (applied []string, err error) {
	all, err := store.Migrations(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, sqlLock, int64(migrationLock)); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A lock not released would outlive the call on a pooled
		// connection: close the connection instead.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), sqlUnlock, int64(migrationLock)); uerr != nil {
			conn.Close(context.WithoutCancel(ctx))
			if err == nil {
				err = fmt.Errorf("migrate: unlock: %w", uerr)
			}
		}
	}()
	if err := ensureSchema(ctx, conn); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, sqlCreateHistory); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	rows, _ := conn.Query(ctx, sqlApplied)
	done, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	if n := len(done); n > 0 && len(all) > 0 && done[n-1] > all[len(all)-1].Version {
		return nil, fmt.Errorf("migrate: the database's schema is at version %d, newer than this parley knows (%d): run a newer parley",
			done[n-1], all[len(all)-1].Version)
	}
	have := map[int]bool{}
	for _, v := range done {
		have[v] = true
	}
	for _, m := range all {
		if have[m.Version] {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// apply runs one migration and records it, in one transaction.
func apply(ctx context.Context, conn *pgx.Conn, m store.Migration) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Without arguments, pgx sends the file as one simple query: every
		// statement in it runs.
		if _, err := tx.Exec(ctx, m.Body); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, sqlRecord, m.Version, m.Name)
		return err
	})
}

// ensureSchema creates the first schema the search path names if no schema
// of the path exists, so that a URL naming a new schema
// (options=-csearch_path=NAME, or search_path=NAME) makes it.
func ensureSchema(ctx context.Context, conn *pgx.Conn) error {
	var current *string
	var path string
	if err := conn.QueryRow(ctx, sqlCurrentSchema).Scan(&current, &path); err != nil {
		return err
	}
	if current != nil {
		return nil
	}
	name := firstSchema(path)
	if name == "" {
		return fmt.Errorf("the search path %q names no schema to create the tables in", path)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %q: %w", name, err)
	}
	return nil
}

// firstSchema returns the first schema a search_path setting names, but
// "$user", unquoted.
func firstSchema(path string) string {
	for _, s := range strings.Split(path, ",") {
		s = strings.TrimSpace(s)
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
		}
		if s != "" && s != "$user" {
			return s
		}
	}
	return ""
}
