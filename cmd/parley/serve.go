package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"parley/internal/account"
	"parley/internal/evidence"
	"parley/internal/record"
	"parley/internal/server"
)

// runServe serves the record over HTTP until interrupted, then finishes
// the requests in flight.
func runServe(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "serve")
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on")
	public := fs.Bool("public", false, "let anyone read the record and ask it questions without signing in")
	maxBody := fs.Int64("max-body", server.DefaultMaxBody, "the largest request body accepted, in bytes")
	evidenceMax := int64(evidence.DefaultMax)
	fs.Var(sizeFlag{&evidenceMax}, "evidence-max", "the largest evidence file accepted (bytes, or with a unit: 64MiB, 1GiB)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.ReadOnly() {
		return fmt.Errorf("serve: %s has no operator key (it was imported from a bundle): it can be read and verified, not served for appends", *dir)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return serve(ctx, e, r, ln, server.Options{PublicRead: *public, MaxBody: *maxBody, EvidenceMax: evidenceMax})
}

// serve runs a server for r on ln until ctx is done.
func serve(ctx context.Context, e *env, r *record.Record, ln net.Listener, opts server.Options) error {
	opts.Logger = newLogger(e)
	acc := account.New(r.Store(), account.Options{})
	s, err := server.New(r, acc, opts)
	if err != nil {
		return err
	}
	opts.Logger.Info("serving", "addr", "http://"+ln.Addr().String(), "origin", r.Log.Origin(), "size", r.Log.Size(), "public", opts.PublicRead)
	return s.Serve(ctx, ln)
}

// newLogger logs text to a terminal and JSON otherwise.
func newLogger(e *env) *slog.Logger {
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(e.stderr, nil))
}

// runAccount manages the accounts of the record's server, on the machine
// that holds the record: the first admin is made here.
func runAccount(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr("account: say what to do: account add NAME --role R [--party P] | account list | account token NAME --label L")
	}
	verb, args := args[0], args[1:]
	fs, dir := flags(e, "account "+verb)
	role := fs.String("role", "", "add: the account's role: admin, editor, monitor or reader")
	party := fs.String("party", "", "add: the party an editor appends for")
	label := fs.String("label", "", "token: what the token is for")
	var min, max int
	switch verb {
	case "add", "token":
		min, max = 1, 1
	case "list":
	default:
		return usageErr("account: unknown action %q (add, list or token)", verb)
	}
	pos, err := parse(fs, args, min, max)
	if err != nil {
		return err
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	acc := account.New(r.Store(), account.Options{})
	switch verb {
	case "add":
		rl, err := account.ParseRole(*role)
		if err != nil {
			return usageErr("account add: --role: %v", err)
		}
		pw, err := readPassword(e)
		if err != nil {
			return err
		}
		a, err := acc.Create(ctx, pos[0], pw, rl, *party)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "account %s created (%s)\n", a.Name, a.Role)
	case "list":
		as, err := acc.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tPARTY\tDISABLED")
		for _, a := range as {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", a.Name, a.Role, a.Party, a.Disabled)
		}
		return tw.Flush()
	case "token":
		secret, t, err := acc.NewToken(ctx, pos[0], *label)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "token %s for %s; it is shown once:\n", t.ID, t.Account)
		fmt.Fprintln(e.stdout, secret)
	}
	return nil
}

// readPassword reads a password from PARLEY_PASSWORD, else the first line
// of standard input (without echo on a terminal).
func readPassword(e *env) (string, error) {
	if pw := e.getenv("PARLEY_PASSWORD"); pw != "" {
		return pw, nil
	}
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if line = strings.TrimRight(line, "\r\n"); line == "" {
		return "", usageErr("account add: give the password in PARLEY_PASSWORD or on standard input (%v)", err)
	}
	return line, nil
}
