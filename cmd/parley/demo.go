package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"parley/internal/account"
	"parley/internal/record"
	"parley/internal/server"
)

// runDemo makes a fresh record of the seed case, answers its questions,
// and serves the web UI on it until interrupted.
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo")
	dir := fs.String("dir", "", "make the record here (a new directory) and keep it; default: a temporary directory, removed after")
	addr := fs.String("addr", "127.0.0.1:8080", "serve the web UI here")
	noServe := fs.Bool("no-serve", false, "answer the questions and stop, without serving the web UI")
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
		"the Ukrainian presidency, the U.S. administration and the press, then an illustrative first week of a\n"+
		"30-day ceasefire reported and reviewed by a monitoring mission, in %s.\n", n, *dir)
	for _, q := range []struct{ title, ask string }{
		{"1. Where does the 30-day ceasefire proposal stand, party by party?", "positions"},
		{"2. Which messages went between Putin and Trump, through whom, and was each delivered?", "routes"},
		{"3. What is pending, and what does each pending thing wait on?", "pending"},
		{"4. Who is on the roster of the talks, who is absent, who was asked to be excluded?", "roster"},
		{"5. Who said what, verbatim, with source and confidence?", "statements"},
		{"6. What is the status of each track?", "tracks"},
		{"7. Is the ceasefire holding? Incidents per party and day, verified or not", "compliance"},
	} {
		fmt.Fprintf(e.stdout, "\n%s\n$ parley ask %s\n", q.title, q.ask)
		if err := runAsk(ctx, e, []string{q.ask, "--dir", *dir}); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "\n8. What happened on 22 March, the ceasefire's third day?\n$ parley report daily --date 2025-03-22\n")
	if err := runReport(ctx, e, []string{"daily", "--date", "2025-03-22", "--dir", *dir}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n9. Is the record intact?\n$ parley verify\n")
	if err := runVerify(ctx, e, []string{"--dir", *dir}); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nAsk about an earlier moment: parley ask positions --as-of 2025-03-12 (before Russia's answer).")
	if keep {
		fmt.Fprintf(e.stdout, "The record is kept in %s: try PARLEY_DIR=%s parley ask timeline\n", *dir, *dir)
	}
	if *noServe {
		return nil
	}
	return serveDemo(ctx, e, *dir, *addr)
}

// serveDemo serves the demo record's web UI, readable by anyone, with an
// editor account (for Ukraine) and an admin account whose passwords it
// prints.
func serveDemo(ctx context.Context, e *env, dir, addr string) error {
	r, err := record.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer r.Close()
	acc := account.New(r.Store(), account.Options{})
	passwords := map[string]string{}
	for _, a := range []struct {
		name  string
		role  account.Role
		party string
	}{{"mediator", account.Admin, ""}, {"kyiv", account.Editor, "ukraine"}} {
		pw := make([]byte, 12)
		rand.Read(pw)
		passwords[a.name] = base64.RawURLEncoding.EncodeToString(pw)
		if _, err := acc.Create(ctx, a.name, passwords[a.name], a.role, a.party); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: serve: %w (use --addr to pick another, or --no-serve)", err)
	}
	fmt.Fprintf(e.stdout, "\nThe web UI: open http://%s/ (anyone may read).\n"+
		"Sign in as kyiv (an editor for Ukraine) with password %s, or as mediator (an admin) with %s,\n"+
		"to make a key in the browser and add entries. Ctrl-C stops the demo.\n",
		ln.Addr(), passwords["kyiv"], passwords["mediator"])
	le := *e
	le.stderr = io.Discard
	return serve(ctx, &le, r, ln, server.Options{PublicRead: true})
}
