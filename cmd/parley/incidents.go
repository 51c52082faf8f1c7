package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"parley/internal/incidents"
)

// mapFlag collects repeated "NAME=ID" flags: a name in the file, and what
// it is on the record.
type mapFlag map[string]string

func (m mapFlag) String() string { return "" }

func (m mapFlag) Set(v string) error {
	name, id, ok := strings.Cut(v, "=")
	name, id = strings.TrimSpace(name), strings.TrimSpace(id)
	if !ok || name == "" || id == "" {
		return fmt.Errorf("%q is not NAME=ID (such as \"Military Forces of Russia (2000-)=russia\")", v)
	}
	if old, dup := m[name]; dup && old != id {
		return fmt.Errorf("%q is mapped twice, to %s and %s", name, old, id)
	}
	m[name] = id
	return nil
}

func runIncidents(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "usage: parley incidents import FILE|- --as KEY --agreement A [--party \"ACLED NAME=PARTY\"]... [--reported-by R] [--good-only]")
			return nil
		}
		return usageErr("incidents: say import (incidents import FILE|- --as KEY --agreement A)")
	}
	fs, dir := flags(e, "incidents import")
	as := fs.String("as", "", "the author key that signs the reports (a name under DIR/keys)")
	agreement := fs.String("agreement", "", "the agreement the incidents are reported under (its id, key or name)")
	parties, reporters := mapFlag{}, mapFlag{}
	fs.Var(parties, "party", `map an actor1 name to the party it is alleged against: "ACLED NAME=PARTY" (repeat for each)`)
	fs.Var(reporters, "reporter", `map an actor2 name to the reporter: "NAME=ACTOR" (repeat for each); rows without one have no reporter`)
	reportedBy := fs.String("reported-by", "", "who reports every row (an actor or party), such as the mission importing its own spreadsheet")
	source := fs.String("source", "", "the source of rows whose source column is empty")
	goodOnly := fs.Bool("good-only", false, "import the good rows and skip the bad ones (default: any bad row refuses the whole file)")
	batch := fs.Int("batch", 1000, "reports appended per batch")
	pos, err := parse(fs, args[1:], 1, 1)
	if err != nil {
		return err
	}
	if e.server != "" {
		return usageErr("incidents import: works on a local record (--dir); against a server, import into a local copy or send reports with add --batch")
	}
	if *as == "" {
		return usageErr("incidents import: say which key signs the reports with --as KEY")
	}
	if *agreement == "" {
		return usageErr("incidents import: say which agreement the incidents are under with --agreement A")
	}
	if *batch < 1 {
		return usageErr("incidents import: --batch must be 1 or more")
	}
	if *reportedBy != "" && len(reporters) > 0 {
		return usageErr("incidents import: give --reported-by (one reporter for every row) or --reporter (by actor2), not both")
	}
	name := pos[0]
	var (
		in   io.Reader
		size int64
		cite = "ACLED CSV " + filepath.Base(name)
	)
	if name == "-" {
		// Not through openInput's wrapper: Import seeks back on a
		// redirected file, and copies a pipe aside for its second pass.
		in, cite = e.stdin, "ACLED CSV from standard input"
		if f, ok := e.stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				size = st.Size()
			}
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("incidents import: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()

	opts := incidents.ImportOptions{
		ReadOptions: incidents.ReadOptions{Agreement: *agreement, Parties: parties, Reporters: reporters, ReportedBy: *reportedBy, Source: *source},
		As:          *as, GoodOnly: *goodOnly, Batch: *batch, Cite: cite,
	}
	checking := newProgress(e.stderr, size)
	var appending *progress
	sum, err := incidents.Import(ctx, r, in, opts, func(p incidents.Progress) {
		if !p.Appending {
			checking.update(p.Rows, p.Bytes)
			return
		}
		if appending == nil {
			checking.done()
			appending = newProgress(e.stderr, 0)
			appending.total, appending.countEntries = p.Of, true
		}
		appending.update(p.Rows, 0)
	})
	checking.done()
	if appending != nil {
		appending.done()
	}
	where := name
	if name == "-" {
		where = "stdin"
	}
	for _, re := range sum.Errors {
		if re.Field == "" {
			fmt.Fprintf(e.stderr, "%s:%d: %s\n", where, re.Line, re.Message)
		} else {
			fmt.Fprintf(e.stderr, "%s:%d: %s: %s\n", where, re.Line, re.Field, re.Message)
		}
	}
	if err != nil {
		if errors.Is(err, incidents.ErrBadRows) && !*goodOnly {
			return fmt.Errorf("incidents import %s: %w (with --good-only)", where, err)
		}
		if sum.Imported > 0 {
			return fmt.Errorf("incidents import %s: %d of %d rows imported (entries %d to %d), then: %w", where, sum.Imported, sum.Rows, sum.First, sum.Last, err)
		}
		return fmt.Errorf("incidents import %s: %w", where, err)
	}
	entries := "no entries"
	if sum.Imported > 0 {
		entries = fmt.Sprintf("entries %d to %d", sum.First, sum.Last)
	}
	fmt.Fprintf(e.stdout, "imported %d reports under %s from %s (%s); %d rows read, %d skipped\n",
		sum.Imported, sum.Agreement, where, entries, sum.Rows, sum.Skipped)
	return nil
}
