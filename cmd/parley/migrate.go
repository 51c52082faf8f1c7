package main

import (
	"context"
	"fmt"
	"strings"

	"parley/internal/record"
)

// runMigrate brings the schema of the store --db names up to date, as every
// command that opens it does, and says what it applied. Run before the
// servers start, it keeps their start-up short; run by several at once, the
// migrations are still applied once.
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "migrate")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	applied, err := record.Migrate(ctx, *dir, e.database())
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	where := record.Redact(e.database())
	if where == "" {
		where = *dir
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "%s: the schema is up to date\n", where)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: applied %s\n", where, strings.Join(applied, ", "))
	return nil
}
