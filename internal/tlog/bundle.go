package tlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store"
)

// The bundle format: JSON Lines, every line in canonical JSON. Line 1 is the
// header; then one line per entry, {"entry":…,"index":N,"sig":…}, in index
// order; then every checkpoint, {"checkpoint":"<signed note>"}, by size.
const (
	BundleFormat  = "parley-bundle"
	BundleVersion = 1
)

// BundleHeader is the first line of a bundle.
type BundleHeader struct {
	Format   string `json:"format"`
	Version  int    `json:"version"`
	Origin   string `json:"origin"`
	Operator string `json:"operator"`
}

type bundleEntry struct {
	Entry jsontext.Value `json:"entry"`
	Index int64          `json:"index"`
	Sig   string         `json:"sig"`
}

type bundleCheckpoint struct {
	Checkpoint string `json:"checkpoint"`
}

// canonicalLine encodes v as one canonical JSON line.
func canonicalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	c, err := entry.Canonical(b)
	if err != nil {
		return nil, err
	}
	return append(c, '\n'), nil
}

// sigSuffix is the length of `,"sig":"<88 base64 chars>"}` at the end of a leaf.
const sigSuffix = len(`,"sig":"`) + 88 + len(`"}`)

// Export writes the record, as of its latest checkpoint, as a bundle.
func (l *Log) Export(ctx context.Context, w io.Writer) error {
	size := l.Size()
	bw := bufio.NewWriterSize(w, 1<<20)
	h, err := canonicalLine(BundleHeader{Format: BundleFormat, Version: BundleVersion, Origin: l.origin, Operator: l.opKey})
	if err != nil {
		return err
	}
	bw.Write(h)
	err = l.st.Leaves(ctx, 0, size, func(lf store.Leaf) error {
		d := lf.Data
		if len(d) < sigSuffix {
			return fmt.Errorf("export: entry %d: stored leaf is too short", lf.Index)
		}
		cut := len(d) - sigSuffix
		bw.Write(d[:cut])
		bw.WriteString(`,"index":`)
		bw.WriteString(strconv.FormatInt(lf.Index, 10))
		bw.Write(d[cut:])
		return bw.WriteByte('\n')
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	err = l.st.Checkpoints(ctx, 1, size, func(c store.Checkpoint) error {
		line, err := canonicalLine(bundleCheckpoint{Checkpoint: string(c.Note)})
		if err != nil {
			return err
		}
		_, err = bw.Write(line)
		return err
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return bw.Flush()
}

// Summary is what a successful verification establishes.
type Summary struct {
	Origin      string    `json:"origin"`
	Operator    string    `json:"operator"`
	Entries     int64     `json:"entries"`
	Root        tlog.Hash `json:"root"`
	Checkpoints int       `json:"checkpoints"`
	Keys        int       `json:"keys"`
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Operator, if set, pins the operator's verifier key: a bundle signed by
	// any other key fails.
	Operator string
	// Types are the entry types to check bodies against (default: the key
	// types only, and any other type fails as unknown).
	Types *entry.Registry
	// MaxBody is the body limit (default entry.DefaultMaxBody).
	MaxBody int
	// Progress, if set, is called now and then with the entries checked and
	// the bytes read so far.
	Progress func(entries, bytes int64)
	// Into, if set, receives the verified record: leaves, tiles and
	// checkpoints. It must be empty. On failure it holds part of the bundle
	// and the caller must discard it.
	Into store.Store
}

// Verify reads a bundle from r and checks everything in it: the header, every
// line's canonical encoding, every entry's index, body and signature, that
// each author key was registered and not revoked at that index, every
// checkpoint's signature and root, consistency between consecutive
// checkpoints, and that the last checkpoint covers every entry. It streams:
// memory does not grow with the bundle (the tree's hashes go to a temporary
// file). The first problem is returned as a *problem.Error naming the entry
// ("entry N") or the line.
func Verify(ctx context.Context, r io.Reader, opts VerifyOptions) (Summary, error) {
	if opts.Types == nil {
		opts.Types = entry.NewRegistry()
	}
	if _, ok := opts.Types.Lookup(KeyRegister); !ok {
		if err := RegisterTypes(opts.Types); err != nil {
			return Summary{}, err
		}
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = entry.DefaultMaxBody
	}
	hf, err := newHashFile()
	if err != nil {
		return Summary{}, err
	}
	defer hf.close()
	v := &verifier{opts: opts, hf: hf, in: bufio.NewReaderSize(r, 1<<20)}
	return v.run(ctx)
}

type verifier struct {
	dupes    dupes
	opts     VerifyOptions
	hf       *hashFile
	in       *bufio.Reader
	read     int64 // bytes read
	header   BundleHeader
	opVerify note.Verifier
	keys     *keyring
	// known is the verifiers the workers may use, replaced when a key is registered.
	known atomic.Pointer[map[string]note.Verifier]

	entries     int64
	checkpoints int
	last        Checkpoint
	pending     []store.Leaf // leaves not yet written to Into
	stored      int64        // leaves written to Into
}

// job is one line on its way through the pipeline.
type job struct {
	line       int64
	index      int64 // the index an entry on this line must have
	data       []byte
	checkpoint bool

	s        *entry.Signed
	body     entry.Body
	leafHash tlog.Hash
	leaf     []byte
	verified bool
	err      error
	done     chan struct{}
}

func (v *verifier) readLine() ([]byte, error) {
	line, err := v.in.ReadBytes('\n')
	v.read += int64(len(line))
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	return bytes.TrimSuffix(line, []byte("\n")), err
}

func (v *verifier) run(ctx context.Context) (Summary, error) {
	first, err := v.readLine()
	if err == io.EOF {
		return Summary{}, problem.New(problem.Invalid, "line 1", "empty bundle: no header")
	}
	if err != nil {
		return Summary{}, fmt.Errorf("read bundle: %w", err)
	}
	if err := v.readHeader(ctx, first); err != nil {
		return Summary{}, problem.At("line 1", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *job, 1024)
	order := make(chan *job, 4096)
	readErr := make(chan error, 1)
	go func() { readErr <- v.feed(ctx, work, order) }()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				v.check(j)
				close(j.done)
			}
		}()
	}
	defer wg.Wait()
	defer cancel()
	stop := func(err error) (Summary, error) {
		cancel()
		for range order { // let the feeder stop
		}
		return Summary{}, err
	}
	for j := range order {
		select {
		case <-j.done:
		case <-ctx.Done():
			return stop(ctx.Err())
		}
		if err := v.consume(ctx, j); err != nil {
			// A repeated entry before this one is the first thing wrong.
			if derr := v.repeated(v.entries); derr != nil {
				err = derr
			}
			return stop(err)
		}
	}
	if err := <-readErr; err != nil {
		return Summary{}, err
	}
	if err := v.repeated(v.entries); err != nil {
		return Summary{}, err
	}
	return v.finish(ctx)
}

func (v *verifier) readHeader(ctx context.Context, line []byte) error {
	if err := mustBeCanonical(line); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if err := json.Unmarshal(line, &v.header, json.RejectUnknownMembers(true)); err != nil {
		return problem.New(problem.Invalid, "", "header: %v", err)
	}
	h := v.header
	if h.Format != BundleFormat || h.Version != BundleVersion {
		return problem.New(problem.Invalid, "", "not a parley bundle: header says format %q version %d, want %q version %d", h.Format, h.Version, BundleFormat, BundleVersion)
	}
	if v.opts.Operator != "" && h.Operator != v.opts.Operator {
		return problem.New(problem.Tampered, "", "bundle is signed by operator %s, not the expected %s", h.Operator, v.opts.Operator)
	}
	ov, err := entry.NewVerifier(h.Operator)
	if err != nil {
		return problem.New(problem.Invalid, "", "header operator key: %v", err)
	}
	if ov.Name() != h.Origin {
		return problem.New(problem.Invalid, "", "header operator key is named %q, not after the origin %q", ov.Name(), h.Origin)
	}
	v.opVerify = ov
	v.keys = newKeyring(keyIDOf(ov), v.opts.Types)
	v.known.Store(&map[string]note.Verifier{})
	if v.opts.Into != nil {
		if n, err := v.opts.Into.Size(ctx); err != nil || n != 0 {
			return fmt.Errorf("import: the target store is not empty")
		}
		if err := v.opts.Into.SetMeta(ctx, metaOrigin, h.Origin); err != nil {
			return err
		}
		if err := v.opts.Into.SetMeta(ctx, metaOperator, h.Operator); err != nil {
			return err
		}
	}
	return nil
}

// mustBeCanonical refuses a line that is not exactly its canonical form.
func mustBeCanonical(line []byte) error {
	if !jsontext.Value(line).IsValid() {
		return problem.New(problem.Invalid, "", "malformed JSON: %s", lineJSONError(line))
	}
	c, err := entry.Canonical(line)
	if err != nil {
		return problem.New(problem.Invalid, "", "malformed JSON: %v", err)
	}
	if !bytes.Equal(c, line) {
		return problem.New(problem.Tampered, "", "not in canonical JSON form (RFC 8785)")
	}
	return nil
}

func lineJSONError(line []byte) string {
	var x any
	if err := json.Unmarshal(line, &x); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// feed reads lines and sends them down the pipeline in order.
func (v *verifier) feed(ctx context.Context, work, order chan<- *job) error {
	defer close(order)
	defer close(work)
	var index int64
	for lineNo := int64(2); ; lineNo++ {
		line, err := v.readLine()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read bundle: line %d: %w", lineNo, err)
		}
		j := &job{line: lineNo, data: line, done: make(chan struct{})}
		j.checkpoint = bytes.HasPrefix(line, []byte(`{"checkpoint":`))
		if j.checkpoint {
			close(j.done)
		} else {
			j.index = index
			index++
		}
		select {
		case order <- j:
		case <-ctx.Done():
			return nil
		}
		if !j.checkpoint {
			select {
			case work <- j:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// check does the work that needs no order: parsing, canonical form, body,
// and the signature when the author's key is already known.
func (v *verifier) check(j *job) {
	if err := mustBeCanonical(j.data); err != nil {
		j.err = err
		return
	}
	var be bundleEntry
	if err := json.Unmarshal(j.data, &be, json.RejectUnknownMembers(true)); err != nil {
		j.err = problem.New(problem.Invalid, "", "not an entry line: %v", err)
		return
	}
	if be.Index != j.index {
		j.err = problem.New(problem.Tampered, "", "line holds entry %d where entry %d belongs: lines are missing, repeated or out of order", be.Index, j.index)
		return
	}
	// The line is canonical, so the entry within it is too.
	s, err := entry.FromCanonical(be.Entry, be.Sig, v.opts.MaxBody)
	if err != nil {
		j.err = err
		return
	}
	if j.body, err = v.opts.Types.Decode(&s.Entry); err != nil {
		j.err = err
		return
	}
	if key, ok := (*v.known.Load())[s.Entry.Author]; ok {
		if j.err = s.Verify(key); j.err != nil {
			return
		}
		j.verified = true
	}
	j.s = s
	j.leaf = s.Leaf()
	j.leafHash = tlog.RecordHash(j.leaf)
}

// consume checks, in order, what depends on the entries before.
func (v *verifier) consume(ctx context.Context, j *job) error {
	if j.checkpoint {
		return problem.At(fmt.Sprintf("line %d", j.line), v.checkpoint(ctx, j.data))
	}
	where := fmt.Sprintf("entry %d (line %d)", j.index, j.line)
	if v.checkpoints > 0 {
		return problem.New(problem.Invalid, where, "an entry after the checkpoints: the bundle's lines are out of order")
	}
	if j.err != nil {
		return problem.At(where, j.err)
	}
	s := j.s
	if !j.verified {
		key, ok := v.keys.verifier(s.Entry.Author)
		if !ok && j.index == 0 {
			key, ok = v.opVerify, s.Entry.Author == keyIDOf(v.opVerify)
		}
		if !ok {
			return problem.New(problem.Unauthorized, where, "author key %s is not registered", s.Entry.Author)
		}
		if err := s.Verify(key); err != nil {
			return problem.At(where, err)
		}
	}
	if err := v.keys.admit(j.index, s); err != nil {
		return problem.At(where, err)
	}
	if err := checkRefs(j.index, s, j.body); err != nil {
		return problem.At(where, err)
	}
	if s.Entry.Type == KeyRegister || s.Entry.Type == KeyRevoke {
		if err := v.keys.apply(j.index, s, j.body); err != nil {
			return problem.At(where, err)
		}
		known := map[string]note.Verifier{}
		for id, k := range v.keys.keys {
			known[id] = k.verifier
		}
		v.known.Store(&known)
	}
	hs, err := tlog.StoredHashesForRecordHash(j.index, j.leafHash, v.hf)
	if err != nil {
		return fmt.Errorf("%s: tree: %w", where, err)
	}
	if err := v.hf.append(hs); err != nil {
		return err
	}
	if err := v.dupes.add(j.index, j.leafHash, v.hf.leafHashes); err != nil {
		return err
	}
	v.entries++
	if v.opts.Into != nil {
		h := s.Hash()
		v.pending = append(v.pending, store.Leaf{Index: j.index, Hash: h, Type: s.Entry.Type, Data: j.leaf})
		if len(v.pending) >= 4096 {
			if err := v.flush(ctx, nil); err != nil {
				return err
			}
		}
	}
	if v.opts.Progress != nil && v.entries%4096 == 0 {
		v.opts.Progress(v.entries, v.read)
	}
	return nil
}

// checkpoint checks one checkpoint line against the tree so far.
func (v *verifier) checkpoint(ctx context.Context, line []byte) error {
	if err := mustBeCanonical(line); err != nil {
		return err
	}
	var bc bundleCheckpoint
	if err := json.Unmarshal(line, &bc, json.RejectUnknownMembers(true)); err != nil {
		return problem.New(problem.Invalid, "", "not a checkpoint line: %v", err)
	}
	c, err := OpenCheckpoint([]byte(bc.Checkpoint), v.opVerify, v.header.Origin)
	if err != nil {
		return err
	}
	if c.Size <= v.last.Size {
		return problem.New(problem.Tampered, "", "checkpoint for size %d follows one for size %d: checkpoints must grow", c.Size, v.last.Size)
	}
	if c.Size > v.entries {
		return problem.New(problem.Tampered, "", "checkpoint for size %d, but the bundle has only %d entries", c.Size, v.entries)
	}
	root, err := tlog.TreeHash(c.Size, v.hf)
	if err != nil {
		return err
	}
	if root != c.Root {
		return problem.New(problem.Tampered, "", "checkpoint for size %d has root %s, but the entries hash to %s", c.Size, c.Root, root)
	}
	if v.last.Size > 0 {
		p, err := tlog.ProveTree(c.Size, v.last.Size, v.hf)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(p, c.Size, c.Root, v.last.Size, v.last.Root); err != nil {
			return problem.New(problem.Tampered, "", "checkpoint for size %d is not consistent with the one for size %d: %v", c.Size, v.last.Size, err)
		}
	}
	v.last = c
	v.checkpoints++
	if v.opts.Into != nil {
		return v.flush(ctx, &c)
	}
	return nil
}

// flush writes pending leaves (and the checkpoint, if any) to the target store.
func (v *verifier) flush(ctx context.Context, c *Checkpoint) error {
	b := store.Batch{Start: v.stored, Leaves: v.pending}
	for _, t := range tlog.NewTiles(TileHeight, v.stored, v.stored+int64(len(v.pending))) {
		data, err := tlog.ReadTileData(t, v.hf)
		if err != nil {
			return err
		}
		b.Tiles = append(b.Tiles, store.Tile{Level: t.L, Index: t.N, Width: t.W, Data: data})
	}
	if c != nil {
		b.Checkpoint = store.Checkpoint{Size: c.Size, Time: c.Time, Note: c.Note}
	}
	if err := v.opts.Into.Append(ctx, b); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	v.stored += int64(len(v.pending))
	v.pending = v.pending[:0]
	return nil
}

// repeated refuses the first entry before limit that repeats an earlier one.
func (v *verifier) repeated(limit int64) error {
	dup, orig, ok, err := v.dupes.first(limit, v.hf.leafHashes)
	if err != nil {
		return err
	}
	if ok {
		return problem.New(problem.Tampered, fmt.Sprintf("entry %d (line %d)", dup, dup+2), "the same signed entry as entry %d: an entry is on the record once", orig)
	}
	return nil
}

func (v *verifier) finish(ctx context.Context) (Summary, error) {
	switch {
	case v.entries == 0:
		return Summary{}, problem.New(problem.Invalid, "line 2", "the bundle holds no entries")
	case v.checkpoints == 0:
		return Summary{}, problem.New(problem.Tampered, fmt.Sprintf("entry %d", v.entries-1), "the bundle ends without checkpoints: it is truncated")
	case v.last.Size != v.entries:
		return Summary{}, problem.New(problem.Tampered, fmt.Sprintf("entry %d", v.last.Size), "not covered by any checkpoint: the last checkpoint is for size %d of %d entries; the bundle is truncated", v.last.Size, v.entries)
	}
	if v.opts.Progress != nil {
		v.opts.Progress(v.entries, v.read)
	}
	if v.opts.Into != nil && len(v.pending) > 0 {
		if err := v.flush(ctx, nil); err != nil {
			return Summary{}, err
		}
	}
	return Summary{Origin: v.header.Origin, Operator: v.header.Operator, Entries: v.entries, Root: v.last.Root,
		Checkpoints: v.checkpoints, Keys: len(v.keys.keys)}, nil
}

// hashFile holds the tree's stored hashes in a temporary file, so that
// verification needs constant memory.
type hashFile struct {
	f    *os.File
	base int64 // hashes already in the file
	buf  []tlog.Hash
}

func newHashFile() (*hashFile, error) {
	f, err := os.CreateTemp("", "parley-verify-*")
	if err != nil {
		return nil, fmt.Errorf("verify: temporary file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: the space is freed when closed, whatever happens
	return &hashFile{f: f}, nil
}

func (h *hashFile) close() { h.f.Close() }

func (h *hashFile) append(hs []tlog.Hash) error {
	h.buf = append(h.buf, hs...)
	if len(h.buf) < 1<<14 {
		return nil
	}
	b := make([]byte, 0, len(h.buf)*tlog.HashSize)
	for _, x := range h.buf {
		b = append(b, x[:]...)
	}
	if _, err := h.f.WriteAt(b, h.base*tlog.HashSize); err != nil {
		return fmt.Errorf("verify: temporary file: %w", err)
	}
	h.base += int64(len(h.buf))
	h.buf = h.buf[:0]
	return nil
}

// leafHashes calls fn with the leaf hash of every entry from from to to,
// reading the file in large contiguous pieces.
func (h *hashFile) leafHashes(from, to int64, fn func(int64, tlog.Hash)) error {
	const chunk = 8192
	var raw []byte
	for i := from; i < to; i += chunk {
		end := min(i+chunk, to)
		lo, hi := tlog.StoredHashIndex(0, i), tlog.StoredHashIndex(0, end-1)+1
		hs := make([]tlog.Hash, hi-lo)
		if fileHi := min(hi, h.base); lo < fileHi {
			raw = slices.Grow(raw[:0], int(fileHi-lo)*tlog.HashSize)[:int(fileHi-lo)*tlog.HashSize]
			if _, err := h.f.ReadAt(raw, lo*tlog.HashSize); err != nil {
				return fmt.Errorf("verify: temporary file: %w", err)
			}
			for k := range fileHi - lo {
				copy(hs[k][:], raw[k*tlog.HashSize:])
			}
		}
		for k := max(lo, h.base); k < hi; k++ {
			hs[k-lo] = h.buf[k-h.base]
		}
		for k := i; k < end; k++ {
			fn(k, hs[tlog.StoredHashIndex(0, k)-lo])
		}
	}
	return nil
}

// ReadHashes implements tlog.HashReader.
func (h *hashFile) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		switch {
		case idx >= h.base && idx-h.base < int64(len(h.buf)):
			out[i] = h.buf[idx-h.base]
		case idx < h.base:
			if _, err := h.f.ReadAt(out[i][:], idx*tlog.HashSize); err != nil {
				return nil, fmt.Errorf("verify: temporary file: %w", err)
			}
		default:
			return nil, errors.New("verify: hash not yet computed")
		}
	}
	return out, nil
}
