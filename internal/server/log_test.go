package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/account"
	"parley/internal/entry"
	ptlog "parley/internal/tlog"
	"parley/internal/vocab"
)

// batchOf is the body of POST /api/v1/batches for entries.
func batchOf(entries ...*entry.Signed) string {
	leaves := make([]string, len(entries))
	for i, se := range entries {
		leaves[i] = string(se.Leaf())
	}
	return `{"entries":[` + strings.Join(leaves, ",") + `]}`
}

// TestAppendAndRead appends one entry and a batch, resubmits them, and
// reads them back one by one and as a page, with the checkpoint.
func TestAppendAndRead(t *testing.T) {
	ls := startLive(t, Options{}, true)
	editor := ls.users[account.Editor]
	signer := ls.newKey(editor)
	append1 := func(body string, path string, status int) AppendResult {
		t.Helper()
		var res AppendResult
		ls.do(call{method: "POST", path: path, token: editor.token, body: body}).want(t, status, "POST "+path).decode(t, &res)
		return res
	}

	size := ls.size()
	one := ls.signNote(signer)
	res := append1(string(one.Leaf()), "/api/v1/entries", http.StatusCreated)
	if len(res.Appended) != 1 || res.Appended[0].Index != size || res.Appended[0].Hash != one.HashHex() || res.Appended[0].Duplicate {
		t.Fatalf("appended %+v, want index %d, hash %s, not a duplicate", res.Appended, size, one.HashHex())
	}
	if res.Checkpoint.Size != size+1 || ls.size() != size+1 {
		t.Errorf("checkpoint size %d, record size %d; want %d", res.Checkpoint.Size, ls.size(), size+1)
	}
	again := append1(string(one.Leaf()), "/api/v1/entries", http.StatusOK)
	if len(again.Appended) != 1 || !again.Appended[0].Duplicate || again.Appended[0].Index != size {
		t.Errorf("resubmitted: %+v, want a duplicate at %d", again.Appended, size)
	}
	if ls.size() != size+1 {
		t.Errorf("a resubmitted entry was appended again")
	}

	batch := []*entry.Signed{ls.signNote(signer), ls.signNote(signer), ls.signNote(signer)}
	res = append1(batchOf(batch...), "/api/v1/batches", http.StatusCreated)
	for i, a := range res.Appended {
		if a.Index != size+1+int64(i) || a.Hash != batch[i].HashHex() || a.Duplicate {
			t.Errorf("batch entry %d: %+v, want index %d", i, a, size+1+int64(i))
		}
	}
	again = append1(batchOf(batch...), "/api/v1/batches", http.StatusOK)
	for i, a := range again.Appended {
		if !a.Duplicate || a.Index != size+1+int64(i) {
			t.Errorf("resubmitted batch entry %d: %+v, want a duplicate", i, a)
		}
	}
	// A batch with something new is 201, and says which were not.
	fresh := ls.signNote(signer)
	res = append1(batchOf(batch[0], fresh), "/api/v1/batches", http.StatusCreated)
	if !res.Appended[0].Duplicate || res.Appended[1].Duplicate || res.Appended[1].Index != size+4 {
		t.Errorf("mixed batch: %+v, want the first a duplicate, the second new at %d", res.Appended, size+4)
	}
	mine := append([]*entry.Signed{one}, append(batch, fresh)...)
	if ls.size() != size+5 {
		t.Fatalf("record size %d, want %d", ls.size(), size+5)
	}

	// Read them back, one by one and as a page.
	reader := ls.users[account.Reader]
	var page EntryList
	ls.do(call{method: "GET", path: fmt.Sprintf("/api/v1/entries?from=%d&to=%d", size, size+5), token: reader.token}).
		want(t, http.StatusOK, "list entries").decode(t, &page)
	if len(page.Entries) != 5 || page.Size != size+5 || page.Next != nil {
		t.Fatalf("page: %d entries of %d, next %v; want 5 of %d, no next", len(page.Entries), page.Size, page.Next, size+5)
	}
	for i, se := range mine {
		var one EntryJSON
		ls.do(call{method: "GET", path: fmt.Sprintf("/api/v1/entries/%d", size+int64(i)), token: reader.token}).
			want(t, http.StatusOK, "get entry").decode(t, &one)
		for _, got := range []EntryJSON{one, page.Entries[i]} {
			if got.Index != size+int64(i) || got.Hash != se.HashHex() || !bytes.Equal(got.Entry, se.Canonical) ||
				got.Sig != base64.StdEncoding.EncodeToString(se.Sig) {
				t.Errorf("entry %d: %+v, want the entry as signed", size+int64(i), got)
			}
		}
	}
	// Past the end, a page is short, not an error.
	ls.do(call{method: "GET", path: fmt.Sprintf("/api/v1/entries?from=%d", size+5), token: reader.token}).
		want(t, http.StatusOK, "an empty page").decode(t, &page)
	if len(page.Entries) != 0 {
		t.Errorf("a page from the end has %d entries", len(page.Entries))
	}

	// The checkpoint is the operator's, for the whole record.
	var cp CheckpointJSON
	ls.do(call{method: "GET", path: "/api/v1/checkpoint", token: reader.token}).want(t, http.StatusOK, "checkpoint").decode(t, &cp)
	v, err := entry.NewVerifier(ls.rec.Log.OperatorKey())
	if err != nil {
		t.Fatal(err)
	}
	opened, err := ptlog.OpenCheckpoint([]byte(cp.Note), v, ls.rec.Log.Origin())
	if err != nil {
		t.Fatalf("the checkpoint does not open with the operator's key: %v", err)
	}
	if cp.Size != size+5 || opened.Size != cp.Size || opened.Root.String() != cp.Root || cp.Origin != ls.rec.Log.Origin() {
		t.Errorf("checkpoint %+v (note: size %d root %s), want size %d", cp, opened.Size, opened.Root, size+5)
	}
	var cps struct {
		Checkpoints []CheckpointJSON `json:"checkpoints"`
	}
	ls.do(call{method: "GET", path: fmt.Sprintf("/api/v1/checkpoints?from=%d", size), token: reader.token}).
		want(t, http.StatusOK, "checkpoints").decode(t, &cps)
	if n := len(cps.Checkpoints); n == 0 || cps.Checkpoints[n-1] != cp {
		t.Errorf("checkpoints from %d: %+v, want the latest last", size, cps.Checkpoints)
	}
	for i := 1; i < len(cps.Checkpoints); i++ {
		if cps.Checkpoints[i].Size <= cps.Checkpoints[i-1].Size {
			t.Errorf("checkpoints out of order: %d after %d", cps.Checkpoints[i].Size, cps.Checkpoints[i-1].Size)
		}
	}
}

// TestProofs checks inclusion and consistency proofs served over HTTP
// against the operator's key.
func TestProofs(t *testing.T) {
	ls := startLive(t, Options{}, true)
	editor, reader := ls.users[account.Editor], ls.users[account.Reader]
	signer := ls.newKey(editor)
	old := ls.size() // a checkpoint was issued at this size
	ls.do(call{method: "POST", path: "/api/v1/batches", token: editor.token,
		body: batchOf(ls.signNote(signer), ls.signNote(signer), ls.signNote(signer))}).want(t, http.StatusCreated, "append")
	size := ls.size()
	opKey := ls.rec.Log.OperatorKey()

	for _, q := range []string{
		fmt.Sprintf("index=%d", size-1),
		fmt.Sprintf("index=%d&size=%d", size-2, size),
		"index=0",
		fmt.Sprintf("index=0&size=%d", old),
	} {
		var p ptlog.InclusionProof
		ls.do(call{method: "GET", path: "/api/v1/proofs/inclusion?" + q, token: reader.token}).want(t, http.StatusOK, q).decode(t, &p)
		trust, err := p.Check(opKey)
		if err != nil || trust != ptlog.Signed {
			t.Errorf("inclusion %s: %s, %v; want it signed", q, trust, err)
		}
		e, err := ls.rec.Log.Entry(context.Background(), p.Index)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Leaf, e.Leaf()) {
			t.Errorf("inclusion %s: the leaf is not entry %d", q, p.Index)
		}
		if len(p.Hashes) > 0 {
			p.Hashes[0][0] ^= 1
			if _, err := p.Check(opKey); err == nil {
				t.Errorf("inclusion %s: a proof with a changed hash checks", q)
			}
		}
	}

	for _, q := range []string{fmt.Sprintf("from=%d", old), fmt.Sprintf("from=%d&to=%d", old, size), fmt.Sprintf("from=%d&to=%d", size, size)} {
		var p ptlog.ConsistencyProof
		ls.do(call{method: "GET", path: "/api/v1/proofs/consistency?" + q, token: reader.token}).want(t, http.StatusOK, q).decode(t, &p)
		trust, err := p.Check(opKey)
		if err != nil || trust != ptlog.Signed {
			t.Errorf("consistency %s: %s, %v; want it signed", q, trust, err)
		}
		if p.OldSize != old && p.OldSize != size || p.NewSize != size {
			t.Errorf("consistency %s: sizes %d..%d", q, p.OldSize, p.NewSize)
		}
	}
	// A proof from some other operator's key does not check.
	_, other := generateKey(t, "impostor")
	var p ptlog.ConsistencyProof
	ls.do(call{method: "GET", path: fmt.Sprintf("/api/v1/proofs/consistency?from=%d", old), token: reader.token}).
		want(t, http.StatusOK, "consistency").decode(t, &p)
	if _, err := p.Check(other); err == nil {
		t.Errorf("a consistency proof checks against another key")
	}
}

// TestBundleOverHTTP checks the bundle streamed from /api/v1/bundle
// verifies, and covers the whole record.
func TestBundleOverHTTP(t *testing.T) {
	ls := startLive(t, Options{}, true)
	editor := ls.users[account.Editor]
	signer := ls.newKey(editor)
	ls.do(call{method: "POST", path: "/api/v1/entries", token: editor.token, body: ls.signNote(signer).Leaf()}).
		want(t, http.StatusCreated, "append")
	resp := ls.send(context.Background(), call{method: "GET", path: "/api/v1/bundle", token: ls.users[account.Reader].token})
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jsonl" {
		t.Fatalf("bundle: %d %q, want 200 application/jsonl", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	types, err := vocab.Types()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ptlog.Verify(context.Background(), resp.Body, ptlog.VerifyOptions{Operator: ls.rec.Log.OperatorKey(), Types: types})
	if err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	latest, _ := ls.rec.Log.Latest()
	if sum.Entries != ls.size() || sum.Root != latest.Root || sum.Origin != ls.rec.Log.Origin() {
		t.Errorf("bundle summary %+v, want %d entries, root %s", sum, ls.size(), latest.Root)
	}
}

// An sseEvent is one Server-Sent Event.
type sseEvent struct {
	event, id, data string
}

// readEvent reads the next event that carries data, skipping comments and
// the retry hint.
func readEvent(br *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return sseEvent{}, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.data != "" {
				return ev, nil
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			ev.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

// TestFeed follows the live feed: it delivers the entries already there
// from ?from=, then each new one, each with its index as id; a client that
// reconnects with Last-Event-ID resumes after it.
func TestFeed(t *testing.T) {
	ls := startLive(t, Options{}, true)
	editor, reader := ls.users[account.Editor], ls.users[account.Reader]
	signer := ls.newKey(editor)
	size := ls.size()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	follow := func(c call) *bufio.Reader {
		t.Helper()
		resp := ls.send(ctx, c)
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("feed: %d %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return bufio.NewReader(resp.Body)
	}
	expect := func(br *bufio.Reader, index int64, hash string) {
		t.Helper()
		ev, err := readEvent(br)
		if err != nil {
			t.Fatalf("feed: waiting for entry %d: %v", index, err)
		}
		var e EntryJSON
		if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
			t.Fatalf("feed: event data %q: %v", ev.data, err)
		}
		if ev.event != "entry" || ev.id != strconv.FormatInt(index, 10) || e.Index != index {
			t.Errorf("feed: event %q id %q index %d, want entry %d", ev.event, ev.id, e.Index, index)
		}
		if hash != "" && e.Hash != hash {
			t.Errorf("feed: entry %d has hash %s, want %s", index, e.Hash, hash)
		}
	}

	br := follow(call{method: "GET", path: fmt.Sprintf("/api/v1/feed?from=%d", size-2), token: reader.token})
	expect(br, size-2, "")
	expect(br, size-1, "")
	for i := range 2 {
		se := ls.signNote(signer)
		ls.do(call{method: "POST", path: "/api/v1/entries", token: editor.token, body: se.Leaf()}).want(t, http.StatusCreated, "append")
		expect(br, size+int64(i), se.HashHex())
	}

	resumed := follow(call{method: "GET", path: "/api/v1/feed", token: reader.token,
		header: map[string]string{"Last-Event-ID": strconv.FormatInt(size, 10)}})
	expect(resumed, size+1, "")
}

// tileFetcher is a tlog.TileReader over the server's C2SP tiles: what a
// third party with only x/mod's tlog and the URL would write.
type tileFetcher struct {
	t       *testing.T
	ls      *liveServer
	token   string
	fetched []string
}

func (f *tileFetcher) Height() int { return 8 }

func (f *tileFetcher) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		path := c2spTilePath(tile)
		r := f.ls.do(call{method: "GET", path: path, token: f.token})
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
		f.fetched = append(f.fetched, path)
		out[i] = r.body
	}
	return out, nil
}

func (f *tileFetcher) SaveTiles([]tlog.Tile, [][]byte) {}

// c2spTilePath is a tile's URL path in the C2SP layout: x/mod's tile path
// without the height ("tile/8/0/x001/234.p/5" is "/tile/0/x001/234.p/5"),
// and "entries" for the data tiles.
func c2spTilePath(tile tlog.Tile) string {
	p := strings.TrimPrefix(tile.Path(), "tile/8/")
	if tile.L == -1 {
		p = "entries" + strings.TrimPrefix(p, "data")
	}
	return "/tile/" + p
}

// TestTilesThirdParty checks the log in the C2SP tlog-tiles layout as a
// third party would, with only golang.org/x/mod/sumdb/tlog and note: the
// checkpoint's signature, every entry's leaf hash against the hash tiles,
// and the tree's root from the tiles and from the leaves against the
// checkpoint's.
func TestTilesThirdParty(t *testing.T) {
	ls := startLive(t, Options{}, true)
	editor := ls.users[account.Editor]
	signer := ls.newKey(editor)
	// Grow past one full tile, so that there are full and partial tiles
	// and a tile of level 1.
	var more []*entry.Signed
	for range 300 - ls.size() {
		more = append(more, ls.signNote(signer))
	}
	ls.do(call{method: "POST", path: "/api/v1/batches", token: editor.token, body: batchOf(more...)}).want(t, http.StatusCreated, "grow")
	token := ls.users[account.Reader].token
	opKey := ls.rec.Log.OperatorKey() // known to the third party from elsewhere

	// The checkpoint, signed by the operator.
	r := ls.do(call{method: "GET", path: "/checkpoint", token: token}).want(t, http.StatusOK, "GET /checkpoint")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/checkpoint is %q, want text/plain", ct)
	}
	v, err := note.NewVerifier(opKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(r.body, note.VerifierList(v))
	if err != nil {
		t.Fatalf("the checkpoint's signature does not verify: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != v.Name() {
		t.Fatalf("checkpoint text %q: want origin %s, size, root", n.Text, v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size != ls.size() {
		t.Fatalf("checkpoint size %q, want %d", lines[1], ls.size())
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		t.Fatalf("checkpoint root %q is not a base64 hash", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)

	// The entry bundles: every entry, length-prefixed.
	var leaves [][]byte
	for n := int64(0); n*256 < size; n++ {
		w := int(min(256, size-n*256))
		path := c2spTilePath(tlog.Tile{H: 8, L: -1, N: n, W: w})
		r := ls.do(call{method: "GET", path: path, token: token}).want(t, http.StatusOK, "GET "+path)
		if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("%s is %q, want application/octet-stream", path, ct)
		}
		got := 0
		for data := r.body; len(data) > 0; got++ {
			if len(data) < 2 || len(data) < 2+int(binary.BigEndian.Uint16(data)) {
				t.Fatalf("%s: entry %d is cut off", path, got)
			}
			l := int(binary.BigEndian.Uint16(data))
			leaves = append(leaves, data[2:2+l])
			data = data[2+l:]
		}
		if got != w {
			t.Errorf("%s holds %d entries, want %d", path, got, w)
		}
	}
	if int64(len(leaves)) != size {
		t.Fatalf("the entry bundles hold %d entries, want %d", len(leaves), size)
	}

	// The root from the hash tiles, which TileHashReader checks against the
	// checkpoint as it reads them.
	f := &tileFetcher{t: t, ls: ls, token: token}
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, f)
	if got, err := tlog.TreeHash(size, hr); err != nil || got != root {
		t.Fatalf("root from the tiles: %v, %v; want %v", got, err, root)
	}
	// Every leaf's hash is in the level-0 tiles.
	indexes := make([]int64, len(leaves))
	for i := range leaves {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	hs, err := hr.ReadHashes(indexes)
	if err != nil {
		t.Fatalf("leaf hashes from the tiles: %v", err)
	}
	for i, leaf := range leaves {
		if hs[i] != tlog.RecordHash(leaf) {
			t.Fatalf("leaf %d: the tile holds %v, the entry bundle's entry hashes to %v", i, hs[i], tlog.RecordHash(leaf))
		}
	}
	for _, want := range []string{"/tile/0/000", fmt.Sprintf("/tile/0/001.p/%d", size-256), "/tile/1/000.p/1"} {
		if !slices.Contains(f.fetched, want) {
			t.Errorf("the check never fetched %s (it fetched %v)", want, f.fetched)
		}
	}
	// The root from the leaves alone.
	var stored []tlog.Hash
	mem := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash %d not computed", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, mem)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	if got, err := tlog.TreeHash(size, mem); err != nil || got != root {
		t.Errorf("root from the leaves: %v, %v; want %v", got, err, root)
	}

	// Full tiles are immutable; partial ones are not; a narrower partial
	// tile is a prefix of a wider one.
	full := ls.do(call{method: "GET", path: "/tile/0/000", token: token}).want(t, http.StatusOK, "full tile")
	if len(full.body) != 256*32 || !strings.Contains(full.header.Get("Cache-Control"), "immutable") {
		t.Errorf("full tile: %d bytes, Cache-Control %q", len(full.body), full.header.Get("Cache-Control"))
	}
	w := size - 256
	partial := ls.do(call{method: "GET", path: fmt.Sprintf("/tile/0/001.p/%d", w), token: token}).want(t, http.StatusOK, "partial tile")
	if int64(len(partial.body)) != w*32 || strings.Contains(partial.header.Get("Cache-Control"), "immutable") {
		t.Errorf("partial tile: %d bytes, Cache-Control %q", len(partial.body), partial.header.Get("Cache-Control"))
	}
	narrow := ls.do(call{method: "GET", path: "/tile/0/001.p/3", token: token}).want(t, http.StatusOK, "narrow partial tile")
	if !bytes.Equal(narrow.body, partial.body[:3*32]) {
		t.Errorf("/tile/0/001.p/3 is not the start of /tile/0/001.p/%d", w)
	}
	for _, path := range []string{fmt.Sprintf("/tile/0/001.p/%d", w+1), "/tile/0/001", "/tile/1/000", "/tile/entries/002.p/1"} {
		ls.do(call{method: "GET", path: path, token: token}).problem(t, http.StatusNotFound, "not-found")
	}
}

// TestHealthAndMetrics checks /healthz, /readyz, and that /metrics exposes
// request counts and the tree size.
func TestHealthAndMetrics(t *testing.T) {
	ls := startLive(t, Options{}, true)
	var h map[string]any
	ls.do(call{method: "GET", path: "/healthz"}).want(t, http.StatusOK, "healthz").decode(t, &h)
	if h["status"] != "ok" {
		t.Errorf("healthz: %v", h)
	}
	var ready struct {
		Status string `json:"status"`
		Size   int64  `json:"size"`
	}
	ls.do(call{method: "GET", path: "/readyz"}).want(t, http.StatusOK, "readyz").decode(t, &ready)
	if ready.Status != "ready" || ready.Size != ls.size() {
		t.Errorf("readyz: %+v, want ready at size %d", ready, ls.size())
	}
	r := ls.do(call{method: "GET", path: "/metrics", token: ls.users[account.Admin].token}).want(t, http.StatusOK, "metrics")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("metrics Content-Type %q, want text/plain", ct)
	}
	body := string(r.body)
	for _, want := range []string{
		`parley_http_requests_total{code="200",route="GET /healthz"} 1`,
		`parley_http_requests_total{code="200",route="GET /readyz"} 1`,
		fmt.Sprintf("parley_tree_size %d\n", ls.size()),
		"parley_http_request_duration_seconds_bucket",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
