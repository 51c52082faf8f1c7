package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"parley/internal/evidence"
	"parley/internal/problem"
	"parley/internal/record"
)

// The evidence store: files incident reports name by SHA-256, kept in
// DIR/evidence, or on a server with --server.

const evidenceUsage = "evidence add FILE... [--type T] | get HASH [-o FILE] | show HASH [--json]"

// sizeFlag is a flag for a size in bytes that takes units: 64MiB, 1GB.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return evidence.FormatSize(*f.n)
}

func (f sizeFlag) Set(v string) error {
	n, err := evidence.ParseSize(v)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}

func runEvidence(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageErr("evidence: say what to do: %s", evidenceUsage)
	}
	verb, args := args[0], args[1:]
	fset, dir := flags(e, "evidence "+verb)
	typ := fset.String("type", "", "add: the files' media type (default: from each file's extension; else the server sniffs it)")
	out := fset.String("o", "-", "get: the file to write (- for standard output)")
	asJSON := fset.Bool("json", false, "show: print JSON")
	max := int64(evidence.DefaultMax)
	fset.Var(sizeFlag{&max}, "max", "add, on the local record: the largest file accepted (such as 64MiB)")
	min, most := 1, 1
	switch verb {
	case "add":
		most = -1
	case "get", "show":
	default:
		return usageErr("evidence: unknown action %q (%s)", verb, evidenceUsage)
	}
	pos, err := parse(fset, args, min, most)
	if err != nil {
		return err
	}
	var ev evidenceStore
	if e.server != "" {
		c, err := e.client()
		if err != nil {
			return err
		}
		ev = remoteEvidence{c}
	} else {
		local, err := openEvidence(*dir, max, e.getenv("USER"))
		if err != nil {
			return err
		}
		ev = local
	}
	switch verb {
	case "add":
		return evidenceAdd(ctx, e, ev, pos, *typ)
	case "get":
		return evidenceGet(ctx, e, ev, pos[0], *out)
	default:
		return evidenceShow(ctx, e, ev, pos[0], *asJSON)
	}
}

// evidenceStore is where the commands find evidence: the local record's
// store, or a server's.
type evidenceStore interface {
	put(ctx context.Context, f *os.File, size int64, up evidence.Upload) (evidence.Item, bool, error)
	get(ctx context.Context, hash string) (io.ReadCloser, error)
	stat(ctx context.Context, hash string) (evidence.Item, error)
}

// evidenceAdd stores each file and prints a line for it: its hash, size,
// name, and whether it was stored now or before.
func evidenceAdd(ctx context.Context, e *env, ev evidenceStore, files []string, typ string) error {
	for _, name := range files {
		it, fresh, err := addFile(ctx, ev, name, typ)
		if err != nil {
			return fmt.Errorf("evidence add %s: %w", name, err)
		}
		status := "already stored"
		if fresh {
			status = "stored"
		}
		fmt.Fprintf(e.stdout, "%s  %d  %s  %s\n", it.SHA256, it.Size, evidence.CleanName(name), status)
	}
	return nil
}

func addFile(ctx context.Context, ev evidenceStore, name, typ string) (evidence.Item, bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return evidence.Item{}, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return evidence.Item{}, false, err
	}
	if !st.Mode().IsRegular() {
		return evidence.Item{}, false, problem.New(problem.Invalid, "", "not a regular file")
	}
	if typ == "" {
		typ = mime.TypeByExtension(filepath.Ext(name))
	}
	return ev.put(ctx, f, st.Size(), evidence.Upload{Name: filepath.Base(name), Type: typ})
}

// evidenceGet writes a stored file to out, checking on the way that its
// content has the hash asked for.
func evidenceGet(ctx context.Context, e *env, ev evidenceStore, arg, out string) error {
	hash, err := evidence.ParseHash(arg)
	if err != nil {
		return err
	}
	rc, err := ev.get(ctx, hash)
	if err != nil {
		return err
	}
	defer rc.Close()
	err = writeExport(e, out, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), rc); err != nil {
			return fmt.Errorf("evidence get %s: %w", hash, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != hash {
			return problem.New(problem.Tampered, hash, "the content received hashes to %s, not to the hash asked for", got)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if out != "-" {
		fmt.Fprintf(e.stderr, "wrote %s to %s (its SHA-256 checks)\n", hash, out)
	}
	return nil
}

// evidenceShow prints what is known of a stored file.
func evidenceShow(ctx context.Context, e *env, ev evidenceStore, arg string, asJSON bool) error {
	hash, err := evidence.ParseHash(arg)
	if err != nil {
		return err
	}
	it, err := ev.stat(ctx, hash)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, it)
	}
	w := e.stdout
	fmt.Fprintf(w, "sha256   %s\n", it.SHA256)
	fmt.Fprintf(w, "size     %d (%s)\n", it.Size, evidence.FormatSize(it.Size))
	fmt.Fprintf(w, "type     %s\n", it.Type)
	fmt.Fprintf(w, "sniffed  %s\n", it.Sniffed)
	fmt.Fprintf(w, "uploads  %d\n", len(it.Uploads))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tBY\tNAME\tTYPE")
	for _, u := range it.Uploads {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Time.Format(time.RFC3339), u.By, u.Name, u.Type)
	}
	return tw.Flush()
}

// localEvidence is the evidence of the record in a data directory.
type localEvidence struct {
	s  *evidence.Store
	by string
}

// openEvidence opens DIR/evidence, if DIR holds a record; uploads are
// recorded as by local:USER.
func openEvidence(dir string, max int64, user string) (localEvidence, error) {
	if _, err := os.Stat(filepath.Join(dir, record.StoreFile)); errors.Is(err, fs.ErrNotExist) {
		return localEvidence{}, problem.New(problem.NotFound, dir, "no record here: create one with `parley init` (or point --dir / PARLEY_DIR at one, or give --server URL)")
	}
	s, err := evidence.Open(evidence.Dir(dir), max)
	if err != nil {
		return localEvidence{}, err
	}
	if user == "" {
		user = "unknown"
	}
	return localEvidence{s: s, by: "local:" + user}, nil
}

func (l localEvidence) put(ctx context.Context, f *os.File, _ int64, up evidence.Upload) (evidence.Item, bool, error) {
	up.By = l.by
	return l.s.Put(ctx, f, up)
}

func (l localEvidence) get(_ context.Context, hash string) (io.ReadCloser, error) {
	f, _, err := l.s.Get(hash)
	return f, err
}

func (l localEvidence) stat(_ context.Context, hash string) (evidence.Item, error) {
	return l.s.Stat(hash)
}

// remoteEvidence is the evidence on a server.
type remoteEvidence struct{ c *apiClient }

func (r remoteEvidence) put(ctx context.Context, f *os.File, size int64, up evidence.Upload) (evidence.Item, bool, error) {
	const path = "/api/v1/evidence"
	resp, err := r.c.send(ctx, http.MethodPost, path, url.Values{"name": {up.Name}}, f, up.Type, size)
	if err != nil {
		return evidence.Item{}, false, err
	}
	var it evidence.Item
	if err := r.c.decode(resp, http.MethodPost, path, &it); err != nil {
		return evidence.Item{}, false, err
	}
	return it, resp.StatusCode == http.StatusCreated, nil
}

func (r remoteEvidence) get(ctx context.Context, hash string) (io.ReadCloser, error) {
	resp, err := r.c.request(ctx, http.MethodGet, "/api/v1/evidence/"+hash, nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (r remoteEvidence) stat(ctx context.Context, hash string) (evidence.Item, error) {
	var it evidence.Item
	err := r.c.call(ctx, http.MethodGet, "/api/v1/evidence/"+hash+"/meta", nil, nil, &it)
	return it, err
}
