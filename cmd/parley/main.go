// Command parley keeps a verifiable record of a ceasefire negotiation: a
// signed, append-only log of who said what, when and through whom, that
// anyone can check offline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"parley/internal/record"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "parley:", oneLine(err))
		os.Exit(exitCode(err))
	}
}

// env is what a command may touch: its streams and environment.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// server is the URL of a parley server to run the command against
	// (--server, or PARLEY_SERVER), "" for the local record; token is the
	// API token sent to it (--token, or PARLEY_TOKEN).
	server, token string
	// db names the record's store (--db, or PARLEY_DB): "" for the SQLite
	// file in the data directory; set by flags.
	db *string
}

// open opens the record whose keys are in dir, in the store --db names.
func (e *env) open(ctx context.Context, dir string) (*record.Record, error) {
	return record.OpenDB(ctx, dir, e.database())
}

// database is the store --db names ("" for the SQLite file in the data
// directory).
func (e *env) database() string {
	if e.db == nil {
		return e.getenv("PARLEY_DB")
	}
	return *e.db
}

// A command is one verb of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"init", "create a record: a data directory with its store and operator key", runInit},
		{"key", "manage author keys: key new NAME | key revoke NAME | key list", runKey},
		{"add", "append a signed entry: add TYPE --as KEY --body JSON|@FILE, or add --batch FILE.jsonl", runAdd},
		{"log", "list entries: log [--from N] [--to N] [--json]", runLog},
		{"show", "show one entry with its signature: show N [--json]", runShow},
		{"checkpoint", "print the latest signed checkpoint (or --size N)", runCheckpoint},
		{"proof", "prove: proof inclusion N [--size S] | proof consistency A B | proof check FILE", runProof},
		{"export", "write the record: export [--format bundle|plover|geojson|acled] FILE|-", runExport},
		{"import", "verify a bundle and load it as a new (read-only) record: import FILE|-", runImport},
		{"verify", "verify the local record, or a bundle: verify [FILE|-]", runVerify},
		{"ask", "ask the record: positions, routes, pending, roster, statements, tracks, timeline", runAsk},
		{"demo", "make a fresh record of the seed case in a temporary directory and answer its questions", runDemo},
		{"gen", "write a synthetic negotiation as a batch file: gen --entries N --seed S [--out FILE]", runGen},
		{"report", "reports on a ceasefire: report daily --date D [--agreement A] [--format text|json|html]", runReport},
		{"rebuild", "throw the projections away and fold the whole log again", runRebuild},
		{"migrate", "bring the store's schema up to date: migrate [--db postgres://…]", runMigrate},
		{"copy", "copy a record between stores and prove the copy: copy --from DB --to DB", runCopy},
		{"serve", "serve the record over HTTP: serve [--addr 127.0.0.1:8080] [--public]", runServe},
		{"channel", "confidential channels on a server: channel key|create|list|show|add|remove|post|read", runChannel},
		{"evidence", "files incident reports name by SHA-256: evidence add FILE... | get HASH [-o FILE] | show HASH", runEvidence},
		{"incidents", "import incident reports from ACLED-style CSV: incidents import FILE|- --as KEY --agreement A [--good-only]", runIncidents},
		{"account", "accounts on the record's server: account add NAME --role R | account list | account token NAME", runAccount},
		{"types", "list the entry types this record accepts", runTypes},
		{"bench", "measure the figures: signatures, appends, bundle verify, proofs, projections, the server", runBench},
	}
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr,
		server: getenv("PARLEY_SERVER"), token: getenv("PARLEY_TOKEN")}
	// Global flags come before the command.
	for len(args) > 1 && strings.HasPrefix(args[1], "--") {
		name, v, ok := strings.Cut(strings.TrimPrefix(args[1], "--"), "=")
		if name != "server" && name != "token" {
			break
		}
		n := 2
		if !ok {
			if len(args) < 3 {
				return usageErr("--%s needs a value", name)
			}
			v, n = args[2], 3
		}
		if name == "server" {
			e.server = v
		} else {
			e.token = v
		}
		args = append(args[:1:1], args[n:]...)
	}
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		usage(stdout)
		if len(args) < 2 {
			return usageErr("no command given")
		}
		return nil
	}
	name := args[1]
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[2:])
		}
	}
	usage(stderr)
	return usageErr("unknown command %q", name)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: parley COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes --dir DIR (default $PARLEY_DIR, else ./parley-data), where the keys are")
	fmt.Fprintln(w, "kept, and --db postgres://… (default $PARLEY_DB, else DIR/parley.db), where the record is.")
	fmt.Fprintln(w, "With --server URL (or $PARLEY_SERVER) before the command, add, ask, verify and export")
	fmt.Fprintln(w, "run against a parley server, with the API token --token (or $PARLEY_TOKEN); keys stay here.")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `parley COMMAND -h` for a command's flags.")
}

// usageError is a mistake in how parley was called: exit status 2.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usageErr(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCode is 2 for a usage mistake and 1 for anything else that failed.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// oneLine keeps an error to one line, as every error should be.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

// flags makes a command's flag set with the flags every command has.
func flags(e *env, name string) (*flag.FlagSet, *string) {
	fs := newFlagSet(e, name)
	def := e.getenv("PARLEY_DIR")
	if def == "" {
		def = "parley-data"
	}
	dir := fs.String("dir", def, "the record's data directory (env PARLEY_DIR)")
	e.db = fs.String("db", e.getenv("PARLEY_DB"), "the record's store: postgres://USER@HOST:PORT/DB, or sqlite:PATH (env PARLEY_DB; default DIR/parley.db)")
	return fs, dir
}

// newFlagSet makes an empty flag set whose -h prints to stdout.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors are reported once, by main; -h prints the flags to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "usage: parley %s [flags]\n\nflags:\n", name)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses flags that may come before, between or after positional
// arguments, and checks the number of positional arguments.
func parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageErr("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case len(pos) < min:
		return nil, usageErr("%s: missing argument (run `parley %s -h`)", fs.Name(), fs.Name())
	case max >= 0 && len(pos) > max:
		return nil, usageErr("%s: unexpected argument %q", fs.Name(), pos[max])
	}
	return pos, nil
}
