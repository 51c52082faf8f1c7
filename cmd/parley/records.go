package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"parley/internal/export"
	"parley/internal/record"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

func runInit(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "init")
	origin := fs.String("origin", "", "the record's name on its checkpoints' origin line (default parley.local/record-RANDOM)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	r, err := record.InitDB(ctx, *dir, e.database(), *origin)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer r.Close()
	if r.DB != "" {
		fmt.Fprintf(e.stdout, "created record %s in %s (keys in %s)\n", r.Log.Origin(), record.Redact(r.DB), *dir)
	} else {
		fmt.Fprintf(e.stdout, "created record %s in %s\n", r.Log.Origin(), *dir)
	}
	fmt.Fprintf(e.stdout, "operator key: %s\n", r.Log.OperatorKey())
	return nil
}

func runKey(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("key: say new, revoke or list")
	}
	switch args[0] {
	case "new":
		fs, dir := flags(e, "key new")
		holder := fs.String("holder", "", "who holds the key, in words")
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		if e.server != "" {
			if *holder != "" {
				return usageErr("key new --server: the server names your account as the holder; give no --holder")
			}
			return keyNewRemote(ctx, e, *dir, pos[0])
		}
		r, err := e.open(ctx, *dir)
		if err != nil {
			return err
		}
		defer r.Close()
		k, a, err := r.NewKey(ctx, pos[0], *holder)
		if err != nil {
			return fmt.Errorf("key new: %w", err)
		}
		fmt.Fprintf(e.stdout, "registered key %s as entry %d\n", k.ID, a.Index)
		fmt.Fprintf(e.stdout, "verifier key: %s\n", k.VKey)
		fmt.Fprintf(e.stdout, "signing key:  %s (keep it secret)\n", filepath.Join(*dir, record.KeysDir, pos[0]+".key"))
		return nil
	case "revoke":
		fs, dir := flags(e, "key revoke")
		reason := fs.String("reason", "", "why the key is revoked")
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		r, err := e.open(ctx, *dir)
		if err != nil {
			return err
		}
		defer r.Close()
		k, a, err := r.Revoke(ctx, pos[0], *reason)
		if err != nil {
			return fmt.Errorf("key revoke: %w", err)
		}
		fmt.Fprintf(e.stdout, "revoked key %s as entry %d: entries it signs from now on are refused\n", k.ID, a.Index)
		return nil
	case "list":
		fs, dir := flags(e, "key list")
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parse(fs, args[1:], 0, 0); err != nil {
			return err
		}
		r, err := e.open(ctx, *dir)
		if err != nil {
			return err
		}
		defer r.Close()
		keys := r.Log.Keys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].Registered < keys[j].Registered })
		if *asJSON {
			type out struct {
				ID         string `json:"id"`
				Key        string `json:"key"`
				Holder     string `json:"holder,omitempty"`
				Registered int64  `json:"registered"`
				Revoked    *int64 `json:"revoked,omitempty"`
			}
			list := make([]out, 0, len(keys))
			for _, k := range keys {
				o := out{ID: k.ID, Key: k.VKey, Holder: k.Holder, Registered: k.Registered}
				if k.Revoked >= 0 {
					o.Revoked = &k.Revoked
				}
				list = append(list, o)
			}
			return writeJSON(e.stdout, list)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tREGISTERED\tSTATUS\tHOLDER")
		for _, k := range keys {
			status := "active"
			if k.Revoked >= 0 {
				status = fmt.Sprintf("revoked at entry %d", k.Revoked)
			}
			fmt.Fprintf(tw, "%s\tentry %d\t%s\t%s\n", k.ID, k.Registered, status, k.Holder)
		}
		return tw.Flush()
	}
	return usageErr("key: unknown subcommand %q (say new, revoke or list)", args[0])
}

func runTypes(ctx context.Context, e *env, args []string) error {
	fs, _ := flags(e, "types")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	types, err := vocab.Types()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, t := range types.Types() {
		fmt.Fprintf(tw, "%s\t%s\n", t.Name, t.Doc)
	}
	return tw.Flush()
}

// exportFormats are what export writes: the signed bundle, which verify and
// import read; PLOVER event data for analysts' tools; the incidents as
// GeoJSON for maps, or as CSV in ACLED's layout.
var exportFormats = []string{"bundle", "plover", "geojson", "acled"}

func runExport(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "export")
	format := fs.String("format", "bundle", "what to write: bundle (the whole signed record, for verify and import), plover (PLOVER JSON Lines of the coded events), "+
		"geojson (the incidents as an RFC 7946 FeatureCollection) or acled (the incidents as CSV in ACLED's columns)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if !slices.Contains(exportFormats, *format) {
		return usageErr("export: unknown --format %q (use %s or %s)", *format, strings.Join(exportFormats[:len(exportFormats)-1], ", "), exportFormats[len(exportFormats)-1])
	}
	to := pos[0]
	if e.server != "" {
		return exportRemote(ctx, e, *format, to)
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	where := to
	if to == "-" {
		where = "standard output"
	}
	switch *format {
	case "plover":
		var sum export.Summary
		err := writeExport(e, to, func(w io.Writer) (err error) {
			sum, err = export.WritePLOVER(ctx, r.Store(), r.Log.Origin(), w)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "exported %d PLOVER events to %s; %d of %d statements have no PLOVER event type (PLOVER does not code public statements, CAMEO 01)\n",
			sum.Events, where, sum.Uncoded, sum.Statements)
		return nil
	case "geojson", "acled":
		write, what := export.WriteGeoJSON, "GeoJSON features"
		if *format == "acled" {
			write, what = export.WriteACLED, "ACLED CSV rows"
		}
		var n int
		err := writeExport(e, to, func(w io.Writer) (err error) {
			n, err = write(w, export.IncidentRows(ctx, r.Store()))
			if err != nil {
				err = fmt.Errorf("export --format %s: %w", *format, err)
			}
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "exported %d incidents as %s to %s\n", n, what, where)
		return nil
	}
	if err := writeExport(e, to, func(w io.Writer) error { return r.Log.Export(ctx, w) }); err != nil {
		return err
	}
	if to != "-" {
		c, _ := r.Log.Latest()
		fmt.Fprintf(e.stderr, "exported %d entries to %s (root %s)\n", c.Size, to, c.Root)
	}
	return nil
}

// writeExport runs write on standard output for "-", or on the file name.
// It writes beside the file and renames, so a failed export leaves nothing
// half-written under the name asked for.
func writeExport(e *env, name string, write func(io.Writer) error) error {
	if name == "-" {
		return write(e.stdout)
	}
	tmp := name + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// openInput opens FILE, or standard input for "-", and says how big it is
// (0 if unknown) for the progress bar.
func openInput(e *env, name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(e.stdin), 0, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	return f, size, nil
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "import")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	in, size, err := openInput(e, pos[0])
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer in.Close()
	bar := newProgress(e.stderr, size)
	sum, err := record.ImportDB(ctx, *dir, e.database(), bufio.NewReaderSize(in, 1<<20), bar.update)
	bar.done()
	if err != nil {
		return fmt.Errorf("import %s: nothing imported: %w", pos[0], err)
	}
	where := *dir
	if db := e.database(); db != "" {
		where = record.Redact(db)
	}
	fmt.Fprintf(e.stdout, "imported %s into %s: %d entries, tree size %d, root %s (read-only: the operator key stays with the operator)\n",
		sum.Origin, where, sum.Entries, sum.Entries, sum.Root)
	return nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "verify")
	pin := fs.String("key", "", "the operator's verifier key a bundle must be signed with")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	start := time.Now()
	var (
		sum  tlog.Summary
		what string
	)
	if e.server != "" {
		if len(pos) > 0 {
			return usageErr("verify --server: verifies the server's record; give no FILE")
		}
		sum, err = verifyRemote(ctx, e, *pin)
		if err != nil {
			return fmt.Errorf("verify %s: FAILED: %w", e.server, err)
		}
		what = e.server
	} else if len(pos) == 0 {
		r, err := e.open(ctx, *dir)
		if err != nil {
			return err
		}
		defer r.Close()
		if *pin != "" && *pin != r.Log.OperatorKey() {
			return fmt.Errorf("verify %s: FAILED: the record's operator key is %s, not %s", *dir, r.Log.OperatorKey(), *pin)
		}
		bar := newProgress(e.stderr, 0)
		bar.total = r.Log.Size()
		bar.countEntries = true
		sum, err = r.Verify(ctx, bar.update)
		bar.done()
		what = *dir
		if err != nil {
			return fmt.Errorf("verify %s: FAILED: %w", what, err)
		}
	} else {
		in, size, err := openInput(e, pos[0])
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		defer in.Close()
		bar := newProgress(e.stderr, size)
		sum, err = record.VerifyBundle(ctx, in, *pin, bar.update)
		bar.done()
		what = pos[0]
		if err != nil {
			return fmt.Errorf("verify %s: FAILED: %w", what, err)
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, sum)
	}
	fmt.Fprintf(e.stdout, "verified %s: %s, %d entries, tree size %d, root %s, %d checkpoints, %d keys (%.1fs)\n",
		what, sum.Origin, sum.Entries, sum.Entries, sum.Root, sum.Checkpoints, sum.Keys, time.Since(start).Seconds())
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
