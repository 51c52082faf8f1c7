package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/problem"
	"parley/internal/tlog"
)

func runLog(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "log")
	from := fs.Int64("from", 0, "the first entry to list")
	to := fs.Int64("to", -1, "list entries before this index (default: all)")
	asJSON := fs.Bool("json", false, "print JSON Lines: one signed entry per line, with its index and hash")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	end := r.Log.Size()
	if *to >= 0 && *to < end {
		end = *to
	}
	if *from < 0 {
		return usageErr("log: --from must be an entry index, not %d", *from)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		return r.Log.Entries(ctx, *from, end, func(ix tlog.Indexed) error {
			return enc.Encode(entryJSON(ix))
		})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tTIME\tTYPE\tAUTHOR\tSUMMARY")
	err = r.Log.Entries(ctx, *from, end, func(ix tlog.Indexed) error {
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ix.Index, ix.Entry.Time.Format(time.RFC3339),
			ix.Entry.Type, ix.Entry.Author, summarize(ix.Entry.Body, 70))
		return err
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// indexedJSON is an entry as `log --json` and `show --json` print it.
type indexedJSON struct {
	Index int64           `json:"index"`
	Hash  string          `json:"hash"`
	Entry json.RawMessage `json:"entry"`
	Sig   string          `json:"sig"`
}

func entryJSON(ix tlog.Indexed) indexedJSON {
	return indexedJSON{Index: ix.Index, Hash: ix.HashHex(), Entry: json.RawMessage(ix.Canonical),
		Sig: base64.StdEncoding.EncodeToString(ix.Sig)}
}

// summarize renders a body on one line: its text if it has one, else its JSON.
func summarize(body jsontext.Value, max int) string {
	var m map[string]any
	s := string(body)
	if json.Unmarshal(body, &m) == nil {
		for _, k := range []string{"text", "key", "name", "summary", "quote"} {
			if v, ok := m[k].(string); ok && v != "" {
				s = v
				break
			}
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

func entryIndex(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n < 0 {
		return 0, usageErr("%q is not an entry index (0, 1, 2, …)", s)
	}
	return n, nil
}

func runShow(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "show")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	n, err := entryIndex(pos[0])
	if err != nil {
		return err
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	ix, err := r.Log.Entry(ctx, n)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, entryJSON(ix))
	}
	en := ix.Entry
	w := e.stdout
	fmt.Fprintf(w, "entry     %d\n", ix.Index)
	fmt.Fprintf(w, "type      %s\n", en.Type)
	fmt.Fprintf(w, "time      %s\n", en.Time.Format(time.RFC3339Nano))
	fmt.Fprintf(w, "recorded  %s\n", en.Recorded.Format(time.RFC3339Nano))
	author := en.Author
	if k, ok := r.Log.Key(en.Author); ok && k.Holder != "" {
		author += " (" + k.Holder + ")"
	}
	fmt.Fprintf(w, "author    %s\n", author)
	if en.Corrects != nil {
		fmt.Fprintf(w, "corrects  entry %d\n", *en.Corrects)
	}
	for i, s := range en.Sources {
		label := "source"
		if i > 0 {
			label = ""
		}
		ref := s.URL
		if ref == "" {
			ref = s.Citation
		}
		fmt.Fprintf(w, "%-9s %s\n", label, ref)
		if s.Quote != "" {
			fmt.Fprintf(w, "          “%s”\n", s.Quote)
		}
	}
	fmt.Fprintf(w, "hash      %s\n", ix.HashHex())
	fmt.Fprintf(w, "signature %s\n", base64.StdEncoding.EncodeToString(ix.Sig))
	var pretty strings.Builder
	b := jsontext.Value(append([]byte(nil), en.Body...))
	if err := b.Indent(jsontext.WithIndent("  ")); err == nil {
		pretty.Write(b)
	} else {
		pretty.Write(en.Body)
	}
	fmt.Fprintf(w, "body\n%s\n", indent(pretty.String(), "  "))
	return nil
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func runCheckpoint(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "checkpoint")
	size := fs.Int64("size", 0, "the checkpoint issued at this tree size (default: the latest)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	var c tlog.Checkpoint
	if *size == 0 {
		var ok bool
		if c, ok = r.Log.Latest(); !ok {
			return problem.New(problem.NotFound, "", "the record has no checkpoint yet")
		}
	} else if c, err = r.Log.CheckpointAt(ctx, *size); err != nil {
		return err
	}
	_, err = e.stdout.Write(c.Note)
	return err
}

func runProof(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageErr("proof: say inclusion, consistency or check")
	}
	switch args[0] {
	case "inclusion":
		fs, dir := flags(e, "proof inclusion")
		size := fs.Int64("size", 0, "prove against the tree of this size (default: the latest checkpoint)")
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		n, err := entryIndex(pos[0])
		if err != nil {
			return err
		}
		r, err := e.open(ctx, *dir)
		if err != nil {
			return err
		}
		defer r.Close()
		p, err := r.Log.ProveInclusion(ctx, n, *size)
		if err != nil {
			return fmt.Errorf("proof inclusion: %w", err)
		}
		return writeJSON(e.stdout, p)
	case "consistency":
		fs, dir := flags(e, "proof consistency")
		pos, err := parse(fs, args[1:], 2, 2)
		if err != nil {
			return err
		}
		var sizes [2]int64
		for i, s := range pos {
			if sizes[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return usageErr("proof consistency: %q is not a tree size", s)
			}
		}
		r, err := e.open(ctx, *dir)
		if err != nil {
			return err
		}
		defer r.Close()
		p, err := r.Log.ProveConsistency(ctx, sizes[0], sizes[1])
		if err != nil {
			return fmt.Errorf("proof consistency: %w", err)
		}
		return writeJSON(e.stdout, p)
	case "check":
		fs, dir := flags(e, "proof check")
		key := fs.String("key", "", "the operator's verifier key to pin (name+hash+base64, or @FILE; default: the local record's, if there is one)")
		pos, err := parse(fs, args[1:], 1, 1)
		if err != nil {
			return err
		}
		pinned := "the pinned operator key"
		if *key == "" {
			if r, err := e.open(ctx, *dir); err == nil {
				*key = r.Log.OperatorKey()
				pinned = "the operator key of the record in " + *dir
				r.Close()
			}
		}
		return checkProof(e, pos[0], *key, pinned)
	}
	return usageErr("proof: unknown subcommand %q (say inclusion, consistency or check)", args[0])
}

// checkProof checks a proof file made by `proof inclusion` or `proof consistency`.
func checkProof(e *env, file, key, pinned string) error {
	in, _, err := openInput(e, file)
	if err != nil {
		return fmt.Errorf("proof check: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(in, 16<<20))
	in.Close()
	if err != nil {
		return fmt.Errorf("proof check: %w", err)
	}
	if key != "" {
		k, err := readArg(e, key)
		if err != nil {
			return fmt.Errorf("proof check: --key: %w", err)
		}
		key = strings.TrimSpace(string(k))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return problem.New(problem.Invalid, file, "not a proof: %v", err)
	}
	var (
		trust tlog.Trust
		what  string
	)
	dec := func(v any) error {
		d := json.NewDecoder(strings.NewReader(string(data)))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return problem.New(problem.Invalid, file, "not a proof: %v", err)
		}
		return nil
	}
	switch {
	case probe["leaf_hash"] != nil:
		var p tlog.InclusionProof
		if err := dec(&p); err != nil {
			return err
		}
		if trust, err = p.Check(key); err != nil {
			return fmt.Errorf("proof check %s: FAILED: %w", file, err)
		}
		what = fmt.Sprintf("entry %d is in the tree of size %d, root %s", p.Index, p.Size, p.Root)
	case probe["old_size"] != nil:
		var p tlog.ConsistencyProof
		if err := dec(&p); err != nil {
			return err
		}
		if trust, err = p.Check(key); err != nil {
			return fmt.Errorf("proof check %s: FAILED: %w", file, err)
		}
		what = fmt.Sprintf("the tree of size %d (root %s) is a prefix of the tree of size %d (root %s)", p.OldSize, p.OldRoot, p.NewSize, p.NewRoot)
	default:
		return problem.New(problem.Invalid, file, "not an inclusion or consistency proof (no leaf_hash or old_size)")
	}
	switch {
	case trust == tlog.Signed:
		fmt.Fprintf(e.stdout, "proof OK: %s, in checkpoints signed by %s\n", what, pinned)
	case key == "":
		fmt.Fprintf(e.stdout, "proof OK: %s; the checkpoints were not checked: pin the operator's key with --key (or run in the record's --dir)\n", what)
	default:
		fmt.Fprintf(e.stdout, "proof OK: %s; no signed checkpoint vouches for the root\n", what)
	}
	return nil
}
