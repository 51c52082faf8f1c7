// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server: PARLEY_TEST_POSTGRES, else postgres://postgres@127.0.0.1:5432/test.
// Without a server a test is skipped, except in CI (CI set), where one must
// run and its absence fails the test.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/internal/store/postgres/pgurl"
)

// ServerURL is the PostgreSQL server the tests run against.
func ServerURL() string {
	if u := os.Getenv("PARLEY_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Connect connects to the test server, or skips the test (fails it in CI).
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err == nil {
		err = conn.Ping(ctx)
	}
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL server at PARLEY_TEST_POSTGRES (%s): %v", Redacted(ServerURL()), err)
		if os.Getenv("CI") != "" {
			t.Fatalf("%s; CI must run one (pg_ctlcluster ... main start)", msg)
		}
		t.Skip(msg)
	}
	return conn
}

// Redacted is u without its password, to print.
func Redacted(u string) string { return pgurl.Redacted(u) }

// URL creates an empty schema for one test, dropped (with all it holds)
// when the test ends, and returns the URL of the server with the schema as
// its search path.
func URL(t testing.TB) string {
	t.Helper()
	_, u := NewSchema(t)
	return u
}

// NewSchema is URL, and returns the schema's name too.
func NewSchema(t testing.TB) (name, u string) {
	t.Helper()
	conn := Connect(t)
	defer conn.Close(context.Background())
	name = SchemaName(t)
	if _, err := conn.Exec(t.Context(), `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	return name, WithSearchPath(ServerURL(), name)
}

// SchemaName returns a new schema name for one test, and drops the schema
// of that name, with all it holds, if there is one when the test ends.
func SchemaName(t testing.TB) string {
	t.Helper()
	name := "parley_test_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		conn := Connect(t)
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// WithSearchPath returns the URL u with search_path set to schema.
func WithSearchPath(u, schema string) string { return pgurl.WithSearchPath(u, schema) }
