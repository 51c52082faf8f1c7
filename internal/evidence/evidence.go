// Package evidence keeps the files that incident reports rest on — photos,
// video, documents — content-addressed by SHA-256, so that the log can name
// a file by its hash alone and anyone holding the file can check it.
//
// A store is a directory (a record keeps one in DIR/evidence):
//
//	sha256/ab/abcdef…   each file once, named by its hash
//	uploads.jsonl       every upload, one JSON line each, appended and synced
//	tmp/                files being received
//
// Nothing is ever deleted or rewritten: the same content uploaded twice is
// stored once, and both uploads are recorded. A file is received into tmp/,
// synced, and renamed into place, so a crash leaves either the whole file or
// none of it under sha256/.
package evidence

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"

	"parley/internal/problem"
)

// DirName is the store's directory within a record's data directory.
const DirName = "evidence"

// Dir is where the record in recordDir keeps its evidence.
func Dir(recordDir string) string { return filepath.Join(recordDir, DirName) }

// DefaultMax is the default limit on one file: 100 MiB.
const DefaultMax = 100 << 20

// Files and directories in a store.
const (
	blobsDir    = "sha256"
	tmpDir      = "tmp"
	uploadsFile = "uploads.jsonl"
)

// staleTemp is how old a file in tmp/ must be before Open removes it: a
// crash leaves temp files behind, but another process may be receiving one.
const staleTemp = 24 * time.Hour

// maxName is the longest file name kept, in bytes.
const maxName = 255

var (
	// ErrNotFound is the cause of the refusal for a hash the store has not.
	ErrNotFound = errors.New("no such evidence")
	// ErrTooLarge is the cause of the refusal for a file over the limit.
	ErrTooLarge = errors.New("evidence over the size limit")
)

// An Item is one stored file: its content's hash and size, its media type,
// and every upload of it, first first.
type Item struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Type is the media type the file is served with: the type the first
	// upload declared, or the sniffed type if it declared none (or only
	// application/octet-stream).
	Type string `json:"type"`
	// Sniffed is what http.DetectContentType makes of the first 512 bytes.
	Sniffed string   `json:"sniffed"`
	Uploads []Upload `json:"uploads"`
}

// An Upload is one time someone gave the store a file.
type Upload struct {
	// Name is the file's name as uploaded: its base name only, without
	// control or bidirectional-override characters; "" if none was given.
	Name string `json:"name"`
	// Type is the media type the uploader declared, "" if none.
	Type string `json:"type"`
	// By is who uploaded it, such as account:NAME.
	By   string    `json:"by"`
	Time time.Time `json:"time"`
}

// uploadLine is one line of uploads.jsonl: an upload and the file it gave.
type uploadLine struct {
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Sniffed string `json:"sniffed"`
	Upload
}

// A Store is an open evidence directory. It is safe for concurrent use,
// and several processes may share one directory (a server and the CLI on
// one record): each appends its own uploads, and every lookup first reads
// what the others have appended since.
type Store struct {
	dir string
	max int64
	now func() time.Time

	mu    sync.Mutex
	items map[string]*Item
	read  int64 // how much of uploads.jsonl has been read into items
}

// Open opens the store in dir, creating it if need be, with max as the
// limit on one file (DefaultMax if max <= 0).
func Open(dir string, max int64) (*Store, error) {
	if max <= 0 {
		max = DefaultMax
	}
	for _, d := range []string{dir, filepath.Join(dir, blobsDir), filepath.Join(dir, tmpDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
	}
	s := &Store{dir: dir, max: max, now: func() time.Time { return time.Now().UTC() }, items: map[string]*Item{}}
	if err := s.endTornLine(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	err := s.catchUp()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.removeStaleTemps()
	return s, nil
}

// Max is the limit on one file, in bytes.
func (s *Store) Max() int64 { return s.max }

// ParseHash checks that v is a SHA-256 hash as the store names files: 64
// lower-case hex digits.
func ParseHash(v string) (string, error) {
	switch {
	case len(v) != sha256.Size*2:
		return "", problem.New(problem.Invalid, "sha256", "%q is not a SHA-256 hash: want 64 hex digits, got %d characters", clip(v), len(v))
	case strings.Trim(v, "0123456789abcdef") == "":
		return v, nil
	case strings.Trim(strings.ToLower(v), "0123456789abcdef") == "":
		return "", problem.New(problem.Invalid, "sha256", "%q: write the hash in lower case", v)
	}
	return "", problem.New(problem.Invalid, "sha256", "%q is not a SHA-256 hash: want 64 hex digits (0-9, a-f)", v)
}

// clip shortens a long bad input for an error message.
func clip(v string) string {
	if len(v) > 80 {
		return v[:80] + "…"
	}
	return v
}

// Put reads a file from r, stores it unless the same content is stored
// already, and records the upload. It returns the item with every upload so
// far, and whether the content was newly stored. A file over the limit is
// refused (a *problem.Error of kind TooLarge, wrapping ErrTooLarge) and
// leaves nothing behind.
func (s *Store) Put(ctx context.Context, r io.Reader, up Upload) (Item, bool, error) {
	up.Name = CleanName(up.Name)
	typ, err := cleanType(up.Type)
	if err != nil {
		return Item{}, false, err
	}
	up.Type = typ
	up.By = strings.Map(dropControl, up.By)
	if up.Time.IsZero() {
		up.Time = s.now()
	}
	up.Time = up.Time.UTC()

	tmp, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), "put-*.tmp")
	if err != nil {
		return Item{}, false, fmt.Errorf("evidence: %w", err)
	}
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	head := &headBuffer{max: 512}
	n, err := io.Copy(io.MultiWriter(tmp, h, head), &ctxReader{ctx: ctx, r: io.LimitReader(r, s.max+1)})
	if err != nil {
		if ctx.Err() != nil {
			return Item{}, false, ctx.Err()
		}
		return Item{}, false, &problem.Error{Kind: problem.Invalid, Where: "file", Err: err,
			Message: fmt.Sprintf("reading the file: %v (nothing was stored)", err)}
	}
	if n > s.max {
		return Item{}, false, &problem.Error{Kind: problem.TooLarge, Where: "file", Err: ErrTooLarge,
			Message: fmt.Sprintf("the file is over the limit of %s (%d bytes): stopped after reading %d bytes; nothing was stored", FormatSize(s.max), s.max, n)}
	}
	if n == 0 {
		return Item{}, false, problem.New(problem.Invalid, "file", "the file is empty")
	}
	if err := tmp.Sync(); err != nil {
		return Item{}, false, fmt.Errorf("evidence: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Item{}, false, fmt.Errorf("evidence: %w", err)
	}
	line := uploadLine{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Sniffed: http.DetectContentType(head.b), Upload: up}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catchUp(); err != nil {
		return Item{}, false, err
	}
	_, stored := s.items[line.SHA256]
	if !stored {
		if err := s.place(tmp.Name(), line.SHA256); err != nil {
			return Item{}, false, err
		}
		kept = true
	}
	if err := s.appendLine(line); err != nil {
		return Item{}, false, err
	}
	return s.items[line.SHA256].clone(), !stored, nil
}

// place moves a received file to its place under sha256/ and syncs the
// directory, so that the name survives a crash.
func (s *Store) place(tmp, hash string) error {
	dir := filepath.Join(s.dir, blobsDir, hash[:2])
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("evidence: %w", err)
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, hash)); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return syncDir(dir)
}

// appendLine records an upload: one line appended to uploads.jsonl and
// synced, then added to the index. The caller holds s.mu.
func (s *Store) appendLine(line uploadLine) error {
	b, err := json.Marshal(line, json.Deterministic(true))
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, uploadsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("evidence: record the upload: %w", err)
	}
	// Read it back as any other line, with whatever other processes have
	// appended before it.
	return s.catchUp()
}

// Stat returns the item stored under hash, or a NotFound refusal wrapping
// ErrNotFound.
func (s *Store) Stat(hash string) (Item, error) {
	hash, err := ParseHash(hash)
	if err != nil {
		return Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.catchUp(); err != nil {
		return Item{}, err
	}
	it, ok := s.items[hash]
	if !ok {
		return Item{}, &problem.Error{Kind: problem.NotFound, Where: "sha256", Err: ErrNotFound,
			Message: fmt.Sprintf("no evidence %s is stored", hash)}
	}
	return it.clone(), nil
}

// Has says whether a file with this hash is stored; a string that is not a
// hash names no file. It looks in the index first: the index only grows, so
// a file found there is stored for good, and only a miss reads what other
// processes have appended since.
func (s *Store) Has(hash string) (bool, error) {
	if _, err := ParseHash(hash); err != nil {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[hash]; ok {
		return true, nil
	}
	if err := s.catchUp(); err != nil {
		return false, err
	}
	_, ok := s.items[hash]
	return ok, nil
}

// Get opens the file stored under hash for reading; the caller closes it.
func (s *Store) Get(hash string) (*os.File, Item, error) {
	it, err := s.Stat(hash)
	if err != nil {
		return nil, Item{}, err
	}
	f, err := os.Open(s.path(it.SHA256))
	if err != nil {
		return nil, Item{}, fmt.Errorf("evidence %s is recorded but its file cannot be opened: %w", it.SHA256, err)
	}
	return f, it, nil
}

// path is where the file with this hash is kept.
func (s *Store) path(hash string) string {
	return filepath.Join(s.dir, blobsDir, hash[:2], hash)
}

// catchUp reads the lines of uploads.jsonl not read yet into the index. A
// line still being written (no newline yet) waits for the next time. The
// caller holds s.mu.
func (s *Store) catchUp() error {
	path := filepath.Join(s.dir, uploadsFile)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	unread := st.Size() - s.read
	if unread <= 0 {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(f, s.read, unread), int(min(unread, 64<<10)))
	for {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return nil // an unfinished line, or none
		}
		if err != nil {
			return fmt.Errorf("evidence: read %s: %w", uploadsFile, err)
		}
		s.read += int64(len(b))
		s.index(b)
	}
}

// index adds one line of uploads.jsonl to the index. A line that does not
// parse can only be the torn end of a write a crash interrupted (see
// endTornLine): it recorded nothing, and is passed over.
func (s *Store) index(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return
	}
	var l uploadLine
	if json.Unmarshal(b, &l) != nil {
		return
	}
	if _, err := ParseHash(l.SHA256); err != nil {
		return
	}
	it, ok := s.items[l.SHA256]
	if !ok {
		it = &Item{SHA256: l.SHA256, Size: l.Size, Sniffed: l.Sniffed, Type: l.Type}
		if it.Type == "" || it.Type == "application/octet-stream" {
			it.Type = l.Sniffed
		}
		s.items[l.SHA256] = it
	}
	it.Uploads = append(it.Uploads, l.Upload)
}

// endTornLine ends with a newline an uploads.jsonl whose last line a crash
// cut short, so that the next upload starts a line of its own. This
// appends; it never rewrites.
func (s *Store) endTornLine() error {
	path := filepath.Join(s.dir, uploadsFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if st.Size() == 0 {
		return syncDir(s.dir)
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return f.Sync()
}

// removeStaleTemps removes what crashes left in tmp/. Failing to is no
// reason not to open.
func (s *Store) removeStaleTemps() {
	dir := filepath.Join(s.dir, tmpDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if info, err := e.Info(); err == nil && !e.IsDir() && time.Since(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func (it *Item) clone() Item {
	c := *it
	c.Uploads = append([]Upload(nil), it.Uploads...)
	return c
}

// CleanName keeps a file name safe to show and to save as: its base name
// only (after / or \), without control characters or the invisible
// characters that reorder text (which can make "exe.pdf" read "fdp.exe"),
// at most 255 bytes. "." and ".." become "".
func CleanName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.TrimSpace(strings.Map(dropControl, name))
	if name == "." || name == ".." {
		return ""
	}
	for len(name) > maxName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// dropControl drops control characters and bidirectional formatting
// characters, for strings.Map.
func dropControl(r rune) rune {
	if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
		return -1
	}
	return r
}

// cleanType checks a declared media type and writes it in its canonical
// form (lower case, parameters quoted as needed).
func cleanType(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" {
		return "", nil
	}
	mt, params, err := mime.ParseMediaType(t)
	if err != nil || !strings.Contains(mt, "/") {
		return "", problem.New(problem.Invalid, "type", "%q is not a media type (such as image/jpeg)", clip(t))
	}
	return mime.FormatMediaType(mt, params), nil
}

// syncDir syncs a directory, so that names made in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("evidence: sync %s: %w", dir, err)
	}
	return nil
}

// headBuffer keeps the first max bytes written to it, for sniffing.
type headBuffer struct {
	b   []byte
	max int
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.max - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
