package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"parley/internal/account"
	"parley/internal/evidence"
)

func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// storedFiles counts the files kept in a record's evidence store.
func storedFiles(t *testing.T, recordDir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(evidence.Dir(recordDir), "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

const (
	photoBytes  = "\x89PNG\r\n\x1a\n a photo of the crater"
	reportBytes = "The shelling began at 04:10."
)

func TestEvidenceLocal(t *testing.T) {
	c := newCLI(t)
	photo := c.write("crater.png", photoBytes)
	again := c.write("crater-again.png", photoBytes)
	report := c.write("report.txt", reportBytes)
	ph, rh := hashString(photoBytes), hashString(reportBytes)

	out := c.ok("evidence", "add", photo, again, report)
	want := []string{
		ph + "  " + strconv.Itoa(len(photoBytes)) + "  crater.png  stored",
		ph + "  " + strconv.Itoa(len(photoBytes)) + "  crater-again.png  already stored",
		rh + "  " + strconv.Itoa(len(reportBytes)) + "  report.txt  stored",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("evidence add:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	if n := storedFiles(t, c.dir); n != 2 {
		t.Errorf("%d files stored, want 2", n)
	}

	out = c.ok("evidence", "show", ph)
	for _, s := range []string{"sha256   " + ph, "type     image/png", "uploads  2", "crater.png", "crater-again.png", "local:"} {
		if !strings.Contains(out, s) {
			t.Errorf("show: %q lacks %q", out, s)
		}
	}
	var it evidence.Item
	if err := json.Unmarshal([]byte(c.ok("evidence", "show", rh, "--json")), &it); err != nil || it.SHA256 != rh || it.Type != "text/plain; charset=utf-8" {
		t.Errorf("show --json: %+v, %v", it, err)
	}

	if out := c.ok("evidence", "get", rh); out != reportBytes {
		t.Errorf("get to stdout: %q", out)
	}
	to := filepath.Join(t.TempDir(), "copy.png")
	c.ok("evidence", "get", ph, "-o", to)
	if b, err := os.ReadFile(to); err != nil || string(b) != photoBytes {
		t.Errorf("get -o: %q, %v", b, err)
	}

	// --type overrides the extension.
	c.ok("evidence", "add", c.write("clip.bin", "not really a video"), "--type", "video/mp4")
	if out := c.ok("evidence", "show", hashString("not really a video")); !strings.Contains(out, "type     video/mp4") {
		t.Errorf("--type: %s", out)
	}

	c.fails(1, "limit of 10 bytes", "evidence", "add", report, "--max", "10B")
	c.fails(1, "lower case", "evidence", "get", strings.ToUpper(ph))
	c.fails(1, "no evidence "+hashString("x"), "evidence", "show", hashString("x"))
	c.fails(1, "no such file", "evidence", "add", filepath.Join(t.TempDir(), "missing.jpg"))
	c.fails(2, "missing argument", "evidence", "add")
	c.fails(2, "unknown action", "evidence", "delete", ph)
	c.fails(2, "not a size", "evidence", "add", report, "--max", "lots")
	c.fails(2, "not a size", "serve", "--evidence-max", "64 furlongs")
	if n := storedFiles(t, c.dir); n != 3 {
		t.Errorf("%d files stored after the refusals, want 3", n)
	}

	// No record, no store.
	nowhere := &cli{t: t, dir: filepath.Join(t.TempDir(), "none")}
	if _, _, err := nowhere.run("", "evidence", "add", report); err == nil || !strings.Contains(err.Error(), "no record here") {
		t.Errorf("evidence add without a record: %v", err)
	}
}

func TestEvidenceRemote(t *testing.T) {
	r := newRemote(t, account.Monitor, "")
	dir := t.TempDir()
	photo := filepath.Join(dir, "crater.png")
	os.WriteFile(photo, []byte(photoBytes), 0o600)
	ph := hashString(photoBytes)

	if out := r.ok("evidence", "add", photo); out != ph+"  "+strconv.Itoa(len(photoBytes))+"  crater.png  stored\n" {
		t.Errorf("add: %q", out)
	}
	if out := r.ok("evidence", "add", photo, "--type", "image/png"); !strings.HasSuffix(out, "  crater.png  already stored\n") {
		t.Errorf("add again: %q", out)
	}
	if n := storedFiles(t, r.rec.Dir); n != 1 {
		t.Errorf("%d files on the server, want 1", n)
	}
	out := r.ok("evidence", "show", ph)
	for _, s := range []string{"uploads  2", "account:negotiator", "image/png"} {
		if !strings.Contains(out, s) {
			t.Errorf("show: %q lacks %q", out, s)
		}
	}
	to := filepath.Join(dir, "copy.png")
	r.ok("evidence", "get", ph, "-o", to)
	if b, _ := os.ReadFile(to); string(b) != photoBytes {
		t.Errorf("get -o: %q", b)
	}
	if _, _, err := r.run("evidence", "get", hashString("x")); err == nil || !strings.Contains(err.Error(), "no evidence") {
		t.Errorf("get of an unknown hash: %v", err)
	}

	// A reader may read evidence but not add it.
	rd := newRemote(t, account.Reader, "")
	if _, _, err := rd.run("evidence", "add", photo); err == nil || !strings.Contains(err.Error(), "reader") {
		t.Errorf("a reader's add: %v", err)
	}
	if n := storedFiles(t, rd.rec.Dir); n != 0 {
		t.Errorf("a reader's add stored %d files", n)
	}
}
