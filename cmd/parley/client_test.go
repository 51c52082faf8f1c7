package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/account"
	"parley/internal/record"
	"parley/internal/server"
)

// remote is a parley server on a loopback port over a seeded record, and a
// client machine with a data directory of its own (keys only, no record).
type remote struct {
	t        *testing.T
	url      string
	token    string
	operator string
	rec      *record.Record
	home     string
}

func newRemote(t *testing.T, role account.Role, party string) *remote {
	t.Helper()
	c := seededCLI(t)
	ctx := context.Background()
	rec, err := record.Open(ctx, c.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	if _, err := acc.Create(ctx, "negotiator", "a long enough password", role, party); err != nil {
		t.Fatal(err)
	}
	token, _, err := acc.NewToken(ctx, "negotiator", "cli test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(rec, acc, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &remote{t: t, url: ts.URL, token: token, operator: rec.Log.OperatorKey(), rec: rec, home: filepath.Join(t.TempDir(), "client")}
}

// run runs parley against the server from the client machine.
func (r *remote) run(args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	getenv := func(k string) string {
		switch k {
		case "PARLEY_DIR":
			return r.home
		case "PARLEY_TOKEN":
			return r.token
		}
		return ""
	}
	err := run(context.Background(), append([]string{"parley", "--server", r.url}, args...), getenv, strings.NewReader(""), &out, &errw)
	return out.String(), errw.String(), err
}

func (r *remote) ok(args ...string) string {
	r.t.Helper()
	out, stderr, err := r.run(args...)
	if err != nil {
		r.t.Fatalf("parley --server %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return out
}

func TestClient(t *testing.T) {
	r := newRemote(t, account.Editor, "ukraine")
	before := r.rec.Log.Size()

	// The key is made here and only its public half is sent.
	out := r.ok("key", "new", "umerov")
	if !strings.Contains(out, "registered key umerov+") {
		t.Fatalf("key new: %q", out)
	}
	skey, err := os.ReadFile(filepath.Join(r.home, "keys", "umerov.key"))
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := r.rec.Log.Entry(context.Background(), before); strings.Contains(string(raw.Canonical), strings.TrimSpace(string(skey))) {
		t.Fatal("the private key reached the server")
	}

	out = r.ok("add", "statement", "--as", "umerov", "--time", "2025-03-14",
		"--source", "test", "--body", `{"speaker":"zelenskyy","verb":"said","quote":"We are ready.","confidence":"confirmed"}`)
	if !strings.Contains(out, fmt.Sprintf("appended entry %d", before+1)) {
		t.Fatalf("add: %q", out)
	}
	// The same entry again is a duplicate, not a second entry.
	batch := filepath.Join(t.TempDir(), "batch.jsonl")
	os.WriteFile(batch, []byte(`{"type":"note","body":{"text":"one"},"time":"2025-03-14T00:00:00Z"}
{"type":"note","body":{"text":"two"},"time":"2025-03-14T00:00:00Z"}
`), 0o600)
	out = r.ok("add", "--batch", batch, "--as", "umerov")
	if !strings.Contains(out, "appended 2 entries") {
		t.Fatalf("add --batch: %q", out)
	}
	if got := r.rec.Log.Size(); got != before+4 {
		t.Fatalf("size %d, want %d", got, before+4)
	}

	out = r.ok("ask", "statements", "--by", "Zelenskyy")
	if !strings.Contains(out, "We are ready.") {
		t.Errorf("ask statements over the server: %q", out)
	}
	out = r.ok("ask", "positions", "--as-of", "2025-03-12")
	if !strings.Contains(out, "Ukraine  accepts") || strings.Contains(out, "Russia   accepts") {
		t.Errorf("ask positions --as-of over the server: %q", out)
	}

	out = r.ok("verify", "--key", r.operator)
	if !strings.Contains(out, fmt.Sprintf("%d entries", before+4)) {
		t.Errorf("verify --server: %q", out)
	}
	file := filepath.Join(t.TempDir(), "copy.jsonl")
	r.ok("export", file)
	c := &cli{t: t, dir: filepath.Join(t.TempDir(), "copy")}
	out = c.ok("verify", file, "--key", r.operator)
	if !strings.Contains(out, fmt.Sprintf("%d entries", before+4)) {
		t.Errorf("verify of the exported bundle: %q", out)
	}
	plover := r.ok("export", "--format", "plover", "-")
	if !strings.Contains(plover, `"event":`) {
		t.Errorf("export --format plover over the server: %q", plover)
	}

	// Refusals come back as errors of the same kind, naming the field.
	for _, tt := range []struct {
		code int
		want string
		args []string
	}{
		{1, `body/party: negotiator edits for ukraine, not russia`, []string{"add", "position", "--as", "umerov", "--body", `{"party":"russia","proposal":"ceasefire-30-day","stance":"rejects"}`}},
		{1, `"proposal" names "peace-plan"`, []string{"add", "position", "--as", "umerov", "--body", `{"party":"ukraine","proposal":"peace-plan","stance":"accepts"}`}},
		{1, `no signing key "kremlin"`, []string{"add", "note", "--as", "kremlin", "--body", `{"text":"x"}`}},
		{2, `--confidence: "sure"`, []string{"ask", "statements", "--confidence", "sure"}},
	} {
		size := r.rec.Log.Size()
		_, _, err := r.run(tt.args...)
		if err == nil || exitCode(err) != tt.code || !strings.Contains(oneLine(err), tt.want) {
			t.Errorf("parley --server %s: %v (exit %d), want exit %d and %q", strings.Join(tt.args, " "), err, exitCode(err), tt.code, tt.want)
		}
		if r.rec.Log.Size() != size {
			t.Errorf("parley --server %s: the record grew on a refusal", strings.Join(tt.args, " "))
		}
	}

	thirdParty(t, r.url, r.token, r.operator, before+1)
}

// thirdParty checks, as a generic transparency-log client would, with only
// golang.org/x/mod's tlog and note: the signed /checkpoint, the hash tiles
// under /tile/, and that entry index is in the tree, its bytes as served
// in the entry bundle.
func thirdParty(t *testing.T, base, token, operator string, index int64) {
	t.Helper()
	get := func(path string) []byte {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
		}
		return b
	}
	v, err := note.NewVerifier(operator)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(get("/checkpoint"), note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	var size int64
	fmt.Sscan(lines[1], &size)
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	reader := tileReader{get: get}
	th, err := tlog.TreeHash(size, tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, reader))
	if err != nil || th != root {
		t.Fatalf("tree hash from the tiles: %v, %v; want %v", th, err, root)
	}
	// The entry, as the entry bundle holds it, hashes to a leaf of the tree.
	tile := tlog.TileForIndex(8, tlog.StoredHashIndex(0, index))
	bundle := get(fmt.Sprintf("/tile/entries/%s", tilePath(tile.N, int(min(size-tile.N*256, 256)))))
	var leaf []byte
	for i := int64(0); len(bundle) > 0; i++ {
		l := int(binary.BigEndian.Uint16(bundle))
		if tile.N*256+i == index {
			leaf = bundle[2 : 2+l]
		}
		bundle = bundle[2+l:]
	}
	proof, err := tlog.ProveRecord(size, index, tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, reader))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(leaf)); err != nil {
		t.Fatalf("entry %d from the entry bundle is not in the signed tree: %v", index, err)
	}
	if !strings.Contains(string(leaf), "We are ready.") {
		t.Errorf("entry %d in the bundle is %s", index, leaf)
	}
}

// tilePath is a C2SP tile index path: N in groups of three digits, all but
// the last prefixed with x, and .p/W for a partial tile.
func tilePath(n int64, w int) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	if w < 256 {
		s += fmt.Sprintf(".p/%d", w)
	}
	return s
}

// tileReader reads hash tiles from the C2SP layout.
type tileReader struct{ get func(string) []byte }

func (tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tl := range tiles {
		out[i] = r.get(fmt.Sprintf("/tile/%d/%s", tl.L, tilePath(tl.N, tl.W)))
	}
	return out, nil
}

func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}
