package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"parley/internal/record"
)

// runDemo makes a fresh record of the seed case and answers its questions.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo")
	dir := fs.String("dir", "", "make the record here (a new directory) and keep it; default: a temporary directory, removed after")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	keep := *dir != ""
	if !keep {
		tmp, err := os.MkdirTemp("", "parley-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = filepath.Join(tmp, "record")
	}
	r, err := record.Init(ctx, *dir, "parley.demo/seed-case")
	if err != nil {
		return err
	}
	n, err := r.LoadSeed(ctx)
	r.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "A fresh record of the seed case: %d entries from the news report, signed by the Kremlin,\n"+
		"the Ukrainian presidency, the U.S. administration and the press, in %s.\n", n, *dir)
	for _, q := range []struct{ title, ask string }{
		{"1. Where does the 30-day ceasefire proposal stand, party by party?", "positions"},
		{"2. Which messages went between Putin and Trump, through whom, and was each delivered?", "routes"},
		{"3. What is pending, and what does each pending thing wait on?", "pending"},
		{"4. Who is on the roster of the talks, who is absent, who was asked to be excluded?", "roster"},
		{"5. Who said what, verbatim, with source and confidence?", "statements"},
		{"6. What is the status of each track?", "tracks"},
	} {
		fmt.Fprintf(e.stdout, "\n%s\n$ parley ask %s\n", q.title, q.ask)
		if err := runAsk(ctx, e, []string{q.ask, "--dir", *dir}); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "\n7. Is the record intact?\n$ parley verify\n")
	if err := runVerify(ctx, e, []string{"--dir", *dir}); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nAsk about an earlier moment: parley ask positions --as-of 2025-03-12 (before Russia's answer).")
	if keep {
		fmt.Fprintf(e.stdout, "The record is kept in %s: try PARLEY_DIR=%s parley ask timeline\n", *dir, *dir)
	}
	return nil
}
