package main

import (
	"context"
	"fmt"

	"parley/internal/record"
)

// runCopy copies a record between stores (SQLite and PostgreSQL, either
// way) and proves the copy holds the same tree.
func runCopy(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "copy")
	from := fs.String("from", "", "the store to copy: sqlite:PATH or postgres://… (default: --db, else DIR/parley.db)")
	to := fs.String("to", "", "the empty store to copy into: sqlite:PATH or postgres://… (required)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *to == "" {
		return usageErr("copy: say where to copy to, with --to sqlite:PATH or --to postgres://…")
	}
	if *from == "" {
		*from = e.database()
	}
	bar := newProgress(e.stderr, 0)
	c, err := record.Copy(ctx, *dir, *from, *to, bar.update)
	bar.done()
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	fmt.Fprintf(e.stdout, "copied %s from %s to %s: tree size %d, root %s, the same in both\n",
		c.Origin, storeName(*dir, *from), storeName(*dir, *to), c.Size, c.Root)
	fmt.Fprintf(e.stdout, "with %d accounts, %d API tokens, %d channels and %d sealed entries (sessions are not copied)\n",
		c.Accounts, c.Tokens, c.Channels, c.Sealed)
	return nil
}

// storeName is how a store is named to the user.
func storeName(dir, db string) string {
	if db == "" {
		return dir + "/" + record.StoreFile
	}
	return record.Redact(db)
}
