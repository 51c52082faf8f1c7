package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/problem"
)

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// has is s.Has for a test that expects no error.
func has(t *testing.T, s *Store, hash string) bool {
	t.Helper()
	ok, err := s.Has(hash)
	if err != nil {
		t.Fatalf("Has(%s): %v", hash, err)
	}
	return ok
}

func open(t *testing.T, dir string, max int64) *Store {
	t.Helper()
	s, err := Open(dir, max)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nothingStored fails unless dir holds no file but an empty uploads.jsonl.
func nothingStored(t *testing.T, dir string) {
	t.Helper()
	if got := files(t, dir); len(got) != 1 || got[0] != "uploads.jsonl" {
		t.Errorf("files left behind: %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "uploads.jsonl")); len(b) != 0 {
		t.Errorf("an upload was recorded: %s", b)
	}
}

var photo = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("pixels"), 100)...)

func TestSameFileStoredOnce(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 0)
	ctx := context.Background()
	it, fresh, err := s.Put(ctx, bytes.NewReader(photo), Upload{Name: "crater.png", Type: "image/png", By: "account:anna"})
	if err != nil || !fresh {
		t.Fatalf("first put: fresh %v, err %v", fresh, err)
	}
	want := hashOf(photo)
	if it.SHA256 != want || it.Size != int64(len(photo)) || it.Type != "image/png" || it.Sniffed != "image/png" {
		t.Errorf("item %+v, want hash %s, size %d, image/png twice", it, want, len(photo))
	}
	it, fresh, err = s.Put(ctx, bytes.NewReader(photo), Upload{Name: "same-photo.png", Type: "application/octet-stream", By: "account:ben"})
	if err != nil || fresh {
		t.Fatalf("second put: fresh %v, err %v", fresh, err)
	}
	if len(it.Uploads) != 2 || it.Uploads[0].By != "account:anna" || it.Uploads[1].Name != "same-photo.png" ||
		it.Uploads[1].Type != "application/octet-stream" || it.Uploads[1].Time.IsZero() {
		t.Errorf("uploads %+v, want anna's then ben's", it.Uploads)
	}
	if it.Type != "image/png" {
		t.Errorf("type %q: the first upload's type is the item's", it.Type)
	}
	got := files(t, dir)
	wantFiles := []string{"sha256/" + want[:2] + "/" + want, "uploads.jsonl"}
	if strings.Join(got, " ") != strings.Join(wantFiles, " ") {
		t.Errorf("files %v, want %v", got, wantFiles)
	}
	f, it2, err := s.Get(want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if !bytes.Equal(b, photo) || len(it2.Uploads) != 2 {
		t.Errorf("get: %d bytes, %d uploads", len(b), len(it2.Uploads))
	}
	if !has(t, s, want) || has(t, s, hashOf([]byte("other"))) {
		t.Error("Has is wrong")
	}
}

// Has answers a file it has seen from memory, and says when it cannot
// read uploads.jsonl rather than that a file is missing.
func TestHasSaysWhyNot(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 0)
	if _, _, err := s.Put(context.Background(), bytes.NewReader(photo), Upload{By: "a"}); err != nil {
		t.Fatal(err)
	}
	if has(t, s, "not a hash") {
		t.Error("Has found a file under something that is not a hash")
	}
	// uploads.jsonl becomes unreadable: a link to itself.
	path := filepath.Join(dir, "uploads.jsonl")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("uploads.jsonl", path); err != nil {
		t.Fatal(err)
	}
	if !has(t, s, hashOf(photo)) {
		t.Error("Has lost a file it had seen")
	}
	if ok, err := s.Has(hashOf([]byte("other"))); ok || err == nil {
		t.Errorf("Has of a file it cannot look for = %v, %v; want an error", ok, err)
	}
}

func TestTypeFallsBackToSniffed(t *testing.T) {
	s := open(t, t.TempDir(), 0)
	for _, declared := range []string{"", "application/octet-stream"} {
		body := []byte("<html><body>report " + declared + "</body></html>")
		it, _, err := s.Put(context.Background(), bytes.NewReader(body), Upload{Type: declared})
		if err != nil {
			t.Fatal(err)
		}
		if it.Type != "text/html; charset=utf-8" || it.Uploads[0].Type != declared {
			t.Errorf("declared %q: type %q, upload type %q", declared, it.Type, it.Uploads[0].Type)
		}
	}
	if _, _, err := s.Put(context.Background(), strings.NewReader("x"), Upload{Type: "not a type"}); problem.KindOf(err) != problem.Invalid {
		t.Errorf("bad type: %v, want invalid", err)
	}
	if _, _, err := s.Put(context.Background(), strings.NewReader(""), Upload{}); problem.KindOf(err) != problem.Invalid {
		t.Errorf("empty file: %v, want invalid", err)
	}
	if it, _, _ := s.Put(context.Background(), strings.NewReader("x"), Upload{Type: "Text/Plain; Charset=UTF-8"}); it.Type != "text/plain; charset=UTF-8" {
		t.Errorf("type %q, want it in canonical form", it.Type)
	}
}

func TestOverLimit(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 1024)
	_, _, err := s.Put(context.Background(), bytes.NewReader(make([]byte, 1<<20)), Upload{Name: "big.bin"})
	if !errors.Is(err, ErrTooLarge) || problem.KindOf(err) != problem.TooLarge {
		t.Fatalf("err %v, want too large", err)
	}
	for _, want := range []string{"1 KiB", "1024 bytes", "1025 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	nothingStored(t, dir)
	// Exactly the limit is accepted.
	if _, _, err := s.Put(context.Background(), bytes.NewReader(make([]byte, 1024)), Upload{}); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

func TestCancelledLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Put(ctx, bytes.NewReader(photo), Upload{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	nothingStored(t, dir)
}

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"photo.jpg", "photo.jpg"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\anna\Desktop\crater.jpg`, "crater.jpg"},
		{"line\nbreak\t.txt", "linebreak.txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"  spaced  ", "spaced"},
		{"..", ""},
		{"dir/", ""},
		{"bad\xffutf8", "badutf8"},
		{"удар по ТЭЦ.mp4", "удар по ТЭЦ.mp4"},
		{strings.Repeat("й", 200), strings.Repeat("й", 127)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := CleanName(tc.in); got != tc.want {
				t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	s := open(t, t.TempDir(), 0)
	it, _, err := s.Put(context.Background(), strings.NewReader("x"), Upload{Name: "../secret/\x1b[31mred.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if it.Uploads[0].Name != "[31mred.txt" {
		t.Errorf("name %q", it.Uploads[0].Name)
	}
}

func TestParseHash(t *testing.T) {
	good := hashOf([]byte("x"))
	if h, err := ParseHash(good); err != nil || h != good {
		t.Errorf("ParseHash(%s) = %q, %v", good, h, err)
	}
	for _, tc := range []struct{ in, says string }{
		{"", "got 0 characters"},
		{good[:63], "got 63 characters"},
		{strings.ToUpper(good), "lower case"},
		{good[:63] + "g", "0-9, a-f"},
		{"sha256:" + good, "got 71 characters"},
	} {
		_, err := ParseHash(tc.in)
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParseHash(%q) = %v, want invalid saying %q", tc.in, err, tc.says)
		}
	}
	s := open(t, t.TempDir(), 0)
	if _, err := s.Stat(good); !errors.Is(err, ErrNotFound) || problem.KindOf(err) != problem.NotFound {
		t.Errorf("Stat of an unknown hash: %v", err)
	}
	if _, _, err := s.Get("nope"); problem.KindOf(err) != problem.Invalid {
		t.Errorf("Get of a bad hash: %v", err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 0)
	const n = 16
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for i := range n {
		wg.Go(func() {
			_, f, err := s.Put(context.Background(), bytes.NewReader(photo), Upload{Name: "p.png", By: "account:" + string(rune('a'+i))})
			if err != nil {
				t.Error(err)
			}
			if f {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("%d puts said they stored the file, want 1", fresh)
	}
	it, err := s.Stat(hashOf(photo))
	if err != nil || len(it.Uploads) != n {
		t.Fatalf("stat: %d uploads, %v", len(it.Uploads), err)
	}
	if got := files(t, dir); len(got) != 2 {
		t.Errorf("files %v, want one blob and uploads.jsonl", got)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 0)
	ctx := context.Background()
	at := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	s.Put(ctx, bytes.NewReader(photo), Upload{Name: "a.png", Type: "image/png", By: "account:anna", Time: at})
	s.Put(ctx, bytes.NewReader(photo), Upload{Name: "b.png", By: "account:ben", Time: at.Add(time.Hour)})
	s.Put(ctx, strings.NewReader("statement text"), Upload{Name: "s.txt", Type: "text/plain", By: "account:anna"})
	before, _ := s.Stat(hashOf(photo))

	// A crash cut the last upload's line short.
	f, _ := os.OpenFile(filepath.Join(dir, "uploads.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"sha256":"` + hashOf([]byte("lost")))
	f.Close()

	r := open(t, dir, 0)
	after, err := r.Stat(hashOf(photo))
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Uploads) != 2 || !after.Uploads[0].Time.Equal(at) || after.Uploads[1].By != "account:ben" ||
		after.Type != before.Type || after.Sniffed != before.Sniffed || after.Size != before.Size {
		t.Errorf("after reopening: %+v, was %+v", after, before)
	}
	if !has(t, r, hashOf([]byte("statement text"))) || has(t, r, hashOf([]byte("lost"))) {
		t.Error("reopened store lost a file, or found one never stored")
	}
	// Uploads after the torn line are read back too.
	if _, _, err := r.Put(ctx, strings.NewReader("after the crash"), Upload{Name: "c.txt"}); err != nil {
		t.Fatal(err)
	}
	if !has(t, open(t, dir, 0), hashOf([]byte("after the crash"))) {
		t.Error("an upload after a torn line was lost")
	}
}

// Two stores on one directory, as a server and the CLI on one record:
// each sees what the other stored.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir, 0), open(t, dir, 0)
	ctx := context.Background()
	if _, fresh, _ := a.Put(ctx, bytes.NewReader(photo), Upload{By: "a"}); !fresh {
		t.Error("a: not fresh")
	}
	if !has(t, b, hashOf(photo)) {
		t.Fatal("b does not see a's file")
	}
	it, fresh, err := b.Put(ctx, bytes.NewReader(photo), Upload{By: "b"})
	if err != nil || fresh || len(it.Uploads) != 2 {
		t.Errorf("b: fresh %v, %d uploads, %v", fresh, len(it.Uploads), err)
	}
	if it, _ := a.Stat(hashOf(photo)); len(it.Uploads) != 2 {
		t.Errorf("a sees %d uploads, want b's too", len(it.Uploads))
	}
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1024", 1024}, {"64MiB", 64 << 20}, {"64 MiB", 64 << 20}, {"64mib", 64 << 20}, {"100MB", 100e6},
		{"2G", 2 << 30}, {"1KiB", 1024}, {"10B", 10},
	} {
		if got, err := ParseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "MiB", "1.5MiB", "lots", "99999999999TiB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
	for n, want := range map[int64]string{512: "512 bytes", 1024: "1 KiB", 100 << 20: "100 MiB", 3 << 29: "1.5 GiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
