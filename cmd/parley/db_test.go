package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parley/internal/account"
	"parley/internal/record"
	"parley/internal/store/postgres/pgtest"
)

// TestCopyToPostgresAndBack copies a record of the seed case from its
// SQLite file into PostgreSQL and back, and uses the PostgreSQL copy with
// --db: the copy proves the same tree, answers as the original does, keeps
// its accounts and tokens, takes appends, and refuses to be copied over.
func TestCopyToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	c := newCLI(t)
	rec, err := record.Open(ctx, c.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.LoadSeed(ctx); err != nil {
		t.Fatal(err)
	}
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	if _, err := acc.Create(ctx, "mediator", "a long enough password", account.Editor, ""); err != nil {
		t.Fatal(err)
	}
	secret, _, err := acc.NewToken(ctx, "mediator", "copy test")
	if err != nil {
		t.Fatal(err)
	}
	rec.Close()
	size := c.size()
	pg := pgtest.URL(t)

	out := c.ok("copy", "--to", pg)
	for _, want := range []string{"tree size " + strconv.Itoa(size), "the same in both", "1 accounts, 1 API tokens"} {
		if !strings.Contains(out, want) {
			t.Errorf("copy said %q, want it to say %q", out, want)
		}
	}
	// The copy answers every question as the original does.
	for _, q := range []string{"positions", "pending", "roster", "timeline", "compliance"} {
		if a, b := c.ok("ask", q, "--json"), c.ok("ask", q, "--json", "--db", pg); a != b {
			t.Errorf("ask %s: the PostgreSQL copy answers\n%s\nthe original\n%s", q, b, a)
		}
	}
	if a, b := c.ok("checkpoint"), c.ok("checkpoint", "--db", pg); a != b {
		t.Errorf("checkpoint: the copy's is\n%s\nthe original's\n%s", b, a)
	}
	c.ok("verify", "--db", pg)

	// Its accounts and tokens came along: the token still signs in.
	copied, err := record.OpenDB(ctx, c.dir, pg)
	if err != nil {
		t.Fatal(err)
	}
	pgAcc := account.New(copied.Store(), account.Options{Argon: account.FastArgon})
	if _, a, err := pgAcc.ByToken(ctx, secret); err != nil || a.Name != "mediator" {
		t.Errorf("the token made on SQLite, on the copy: %v, %v; want the mediator", a, err)
	}
	if err := pgAcc.CheckPassword(ctx, "mediator", "a long enough password", "test"); err != nil {
		t.Errorf("the password set on SQLite, on the copy: %v", err)
	}
	copied.Close()

	// It takes appends; the original does not see them.
	c.ok("key", "new", "bob", "--db", pg)
	if got := c.size(); got != size {
		t.Errorf("the original grew to %d entries when its copy was appended to", got)
	}

	// And back, to a new SQLite file: the same tree again.
	back := "sqlite:" + filepath.Join(t.TempDir(), "back.db")
	out = c.ok("copy", "--from", pg, "--to", back)
	if !strings.Contains(out, "tree size "+strconv.Itoa(size+1)) {
		t.Errorf("copy back said %q, want tree size %d", out, size+1)
	}
	if a, b := c.ok("checkpoint", "--db", pg), c.ok("checkpoint", "--db", back); a != b {
		t.Errorf("checkpoint: the copy back's is\n%s\nPostgreSQL's\n%s", b, a)
	}

	// A store that holds a record is not copied over.
	c.fails(1, "already holds a record", "copy", "--to", pg)
	c.fails(1, "a record already exists", "copy", "--from", pg, "--to", back)
	c.fails(2, "--to", "copy")
	c.fails(1, "another store", "copy", "--from", back, "--to", back)
}

// TestDatabaseFlag covers --db's forms, migrate and init on PostgreSQL.
func TestDatabaseFlag(t *testing.T) {
	c := newCLI(t)
	fresh := pgtest.URL(t)
	if out := c.ok("migrate", "--db", fresh); !strings.Contains(out, "applied 001_log.sql") {
		t.Errorf("migrate on a new schema said %q, want the migrations it applied", out)
	}
	if out := c.ok("migrate", "--db", fresh); !strings.Contains(out, "up to date") {
		t.Errorf("migrate again said %q, want up to date", out)
	}
	if out := c.ok("migrate"); !strings.Contains(out, "up to date") {
		t.Errorf("migrate on the SQLite record said %q, want up to date", out)
	}
	c.fails(1, "holds no record", "log", "--db", fresh)
	c.fails(1, "is not a database parley knows", "log", "--db", "mysql://x/y")
	c.fails(1, "no record here", "log", "--db", "sqlite:"+filepath.Join(t.TempDir(), "none.db"))
	// init keeps one operator key per directory.
	c.fails(1, "operator key is already kept here", "init", "--db", fresh)

	keys := filepath.Join(t.TempDir(), "keys")
	out := c.ok("init", "--dir", keys, "--db", fresh, "--origin", "test.example/pg")
	if !strings.Contains(out, "created record test.example/pg") {
		t.Errorf("init --db said %q", out)
	}
	c.ok("key", "new", "alice", "--dir", keys, "--db", fresh)
	if out := c.ok("log", "--dir", keys, "--db", fresh); !strings.Contains(out, "alice") {
		t.Errorf("log of the PostgreSQL record:\n%s\nwant alice's key", out)
	}
	c.fails(1, "already holds a record", "init", "--dir", filepath.Join(t.TempDir(), "other"), "--db", fresh)
}
