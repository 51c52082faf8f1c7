package tlog_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store/sqlite"
	ptlog "parley/internal/tlog"
)

// The test entry types. "note" is free text that may name earlier entries
// (so it is an entry.Referrer); "position" is a party's stance.
const (
	typeNote     = "note"
	typePosition = "position"
)

type noteBody struct {
	Text  string  `json:"text"`
	About []int64 `json:"about,omitempty"`
}

func (b *noteBody) Validate() error {
	if strings.TrimSpace(b.Text) == "" {
		return errors.New(`"text" is required`)
	}
	return nil
}

func (b *noteBody) Refs() []int64 { return b.About }

type positionBody struct {
	Party  string `json:"party"`
	Stance string `json:"stance"`
}

func (b *positionBody) Validate() error {
	switch b.Stance {
	case "accepts", "accepts-in-principle", "rejects", "undecided":
	default:
		return fmt.Errorf(`"stance" %q is not one of accepts, accepts-in-principle, rejects, undecided`, b.Stance)
	}
	if b.Party == "" {
		return errors.New(`"party" is required`)
	}
	return nil
}

// testTypes returns a new registry with the test types. A registry is not
// safe for concurrent registration (Open and Verify add the key types), so
// every Open and Verify gets its own.
func testTypes() *entry.Registry {
	r := entry.NewRegistry()
	for _, t := range []entry.Type{
		{Name: typeNote, Doc: "free text", New: func() entry.Body { return new(noteBody) }},
		{Name: typePosition, Doc: "a party's stance", New: func() entry.Body { return new(positionBody) }},
	} {
		if err := r.Register(t); err != nil {
			panic(err)
		}
	}
	return r
}

// A testKey is a signed-note key pair made for one test.
type testKey struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string // name+hash+base64
	id       string // name+hash, as in an entry's author
}

// newKey makes a key from crypto/rand.
func newKey(t testing.TB, name string) testKey { return keyFrom(t, crand.Reader, name) }

// keyFrom makes a key from the bytes of r: with a seeded r, the same key
// every run.
func keyFrom(t testing.TB, r io.Reader, name string) testKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(r, name)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return testKey{signer: s, verifier: v, vkey: vkey, id: entry.KeyID(v.Name(), v.KeyHash())}
}

// seededReader returns a deterministic byte stream for keys.
func seededReader(seed uint64) io.Reader {
	var s [32]byte
	copy(s[:], strconv.FormatUint(seed, 10))
	return rand.NewChaCha8(s)
}

// testClock is a clock that ticks one second per reading, so that times in
// a record are distinct and, with no concurrency, the same every run.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

var baseTime = time.Date(2025, 3, 13, 9, 0, 0, 0, time.UTC)

func newClock() *testClock { return &testClock{t: baseTime} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// A testRecord is a record in a SQLite file of its own, open for writing.
type testRecord struct {
	t      testing.TB
	path   string
	origin string
	op     testKey
	clock  *testClock
	st     *sqlite.Store
	log    *ptlog.Log
}

// newRecord creates a record whose operator is a fresh key named origin.
func newRecord(t testing.TB, origin string, edit ...func(*ptlog.Config)) *testRecord {
	t.Helper()
	return newRecordWith(t, newKey(t, origin), edit...)
}

// newRecordWith creates a record operated by op (whose name is the origin).
func newRecordWith(t testing.TB, op testKey, edit ...func(*ptlog.Config)) *testRecord {
	t.Helper()
	r := &testRecord{t: t, path: filepath.Join(t.TempDir(), "record.db"), origin: op.signer.Name(), op: op, clock: newClock()}
	cfg := ptlog.Config{Origin: r.origin, Operator: op.signer, OperatorKey: op.vkey, Types: testTypes(), Now: r.clock.Now}
	for _, e := range edit {
		e(&cfg)
	}
	l, st, err := openLog(t, r.path, cfg)
	if err != nil {
		t.Fatalf("create record: %v", err)
	}
	r.st, r.log = st, l
	return r
}

// openLog opens the SQLite store at path and the log in it; both are closed
// at the end of the test (closing twice is harmless).
func openLog(t testing.TB, path string, cfg ptlog.Config) (*ptlog.Log, *sqlite.Store, error) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open store %s: %v", path, err)
	}
	l, err := ptlog.Open(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	t.Cleanup(func() {
		l.Close()
		st.Close()
	})
	return l, st, nil
}

// close closes the record's log and store, so that it can be reopened.
func (r *testRecord) close() {
	r.t.Helper()
	if err := r.log.Close(); err != nil {
		r.t.Fatalf("close log: %v", err)
	}
	if err := r.st.Close(); err != nil {
		r.t.Fatalf("close store: %v", err)
	}
}

// reopen opens the record's file again with cfg (Types and Now filled in if
// empty).
func (r *testRecord) reopen(cfg ptlog.Config) (*ptlog.Log, error) {
	r.t.Helper()
	if cfg.Types == nil {
		cfg.Types = testTypes()
	}
	if cfg.Now == nil {
		cfg.Now = r.clock.Now
	}
	l, _, err := openLog(r.t, r.path, cfg)
	return l, err
}

// entries of the test types.

func noteEntry(text string, about ...int64) entry.Entry {
	return bodyEntry(typeNote, noteBody{Text: text, About: about})
}

func positionEntry(party, stance string) entry.Entry {
	return bodyEntry(typePosition, positionBody{Party: party, Stance: stance})
}

func keyRegisterEntry(k testKey, holder string) entry.Entry {
	return bodyEntry(ptlog.KeyRegister, ptlog.KeyRegisterBody{Key: k.vkey, Holder: holder})
}

func keyRevokeEntry(k testKey, reason string) entry.Entry {
	return bodyEntry(ptlog.KeyRevoke, ptlog.KeyRevokeBody{Key: k.id, Reason: reason})
}

func bodyEntry(typ string, body any) entry.Entry {
	b, err := json.Marshal(body, json.Deterministic(true))
	if err != nil {
		panic(err)
	}
	return entry.Entry{Type: typ, Body: jsontext.Value(b), Time: baseTime, Recorded: baseTime.Add(time.Hour)}
}

func sign(t testing.TB, e entry.Entry, k testKey) *entry.Signed {
	t.Helper()
	s, err := entry.Sign(e, k.signer)
	if err != nil {
		t.Fatalf("sign %s entry: %v", e.Type, err)
	}
	return s
}

// appendOK appends ss in one call and fails t on any error.
func (r *testRecord) appendOK(ss ...*entry.Signed) []ptlog.Appended {
	r.t.Helper()
	res, err := r.log.Append(context.Background(), ss)
	if err != nil {
		r.t.Fatalf("append %d entries: %v", len(ss), err)
	}
	if len(res) != len(ss) {
		r.t.Fatalf("append %d entries: %d results", len(ss), len(res))
	}
	return res
}

// register has the operator register k.
func (r *testRecord) register(k testKey) int64 {
	r.t.Helper()
	return r.appendOK(sign(r.t, keyRegisterEntry(k, "holder of "+k.signer.Name()), r.op))[0].Index
}

// revoke has the operator revoke k.
func (r *testRecord) revoke(k testKey) int64 {
	r.t.Helper()
	return r.appendOK(sign(r.t, keyRevokeEntry(k, "lost"), r.op))[0].Index
}

// notes appends n notes by k, one per call, and returns their indexes.
func (r *testRecord) notes(k testKey, prefix string, n int) []int64 {
	r.t.Helper()
	var out []int64
	for i := range n {
		out = append(out, r.appendOK(sign(r.t, noteEntry(fmt.Sprintf("%s %d", prefix, i)), k))[0].Index)
	}
	return out
}

// leaves returns the leaf bytes of every entry on the record.
func (r *testRecord) leaves() [][]byte {
	r.t.Helper()
	var out [][]byte
	err := r.log.Entries(context.Background(), 0, r.log.Size(), func(e ptlog.Indexed) error {
		if e.Index != int64(len(out)) {
			return fmt.Errorf("Entries gave index %d at position %d", e.Index, len(out))
		}
		out = append(out, e.Leaf())
		return nil
	})
	if err != nil {
		r.t.Fatalf("Entries: %v", err)
	}
	if int64(len(out)) != r.log.Size() {
		r.t.Fatalf("Entries gave %d entries, Size says %d", len(out), r.log.Size())
	}
	return out
}

// checkpoints returns every checkpoint on the record.
func (r *testRecord) checkpoints() []ptlog.Checkpoint {
	r.t.Helper()
	var out []ptlog.Checkpoint
	if err := r.log.Checkpoints(context.Background(), 0, r.log.Size(), func(c ptlog.Checkpoint) error {
		out = append(out, c)
		return nil
	}); err != nil {
		r.t.Fatalf("Checkpoints: %v", err)
	}
	return out
}

func (r *testRecord) export() []byte {
	r.t.Helper()
	var b bytes.Buffer
	if err := r.log.Export(context.Background(), &b); err != nil {
		r.t.Fatalf("Export: %v", err)
	}
	return b.Bytes()
}

// wantProblem fails t unless err is a refusal of the given kind whose
// message contains each of msgs.
func wantProblem(t testing.TB, err error, kind problem.Kind, msgs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a %s refusal mentioning %q", kind, msgs)
	}
	var p *problem.Error
	if !errors.As(err, &p) {
		t.Fatalf("got %T %q, want a *problem.Error of kind %s", err, err, kind)
	}
	if p.Kind != kind {
		t.Errorf("got kind %s (%q), want %s", p.Kind, err, kind)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// merkleRoot is RFC 6962's Merkle tree hash, written out here so that the
// log's tree (x/mod's tiles) is checked against an independent reckoning.
func merkleRoot(leaves [][]byte) tlog.Hash {
	if len(leaves) == 0 {
		return sha256.Sum256(nil)
	}
	if len(leaves) == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := merkleRoot(leaves[:k]), merkleRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// leafHashOf is RFC 6962's leaf hash.
func leafHashOf(leaf []byte) tlog.Hash { return sha256.Sum256(append([]byte{0}, leaf...)) }

// A parsedBundle is a bundle split into its parts, independently of Verify.
type parsedBundle struct {
	header      ptlog.BundleHeader
	leaves      [][]byte // each entry line with its "index" member taken out
	indexes     []int64
	checkpoints []string
}

// parseBundle splits a bundle into header, entry leaves and checkpoints,
// without checking signatures or trees.
func parseBundle(b []byte) (parsedBundle, error) {
	var pb parsedBundle
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if err := json.Unmarshal([]byte(lines[0]), &pb.header); err != nil {
		return pb, fmt.Errorf("line 1: %v", err)
	}
	for i, line := range lines[1:] {
		var c struct {
			Checkpoint *string `json:"checkpoint"`
		}
		if err := json.Unmarshal([]byte(line), &c); err == nil && c.Checkpoint != nil {
			pb.checkpoints = append(pb.checkpoints, *c.Checkpoint)
			continue
		}
		var e struct {
			Entry jsontext.Value `json:"entry"`
			Index int64          `json:"index"`
			Sig   string         `json:"sig"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			return pb, fmt.Errorf("line %d: %v", i+2, err)
		}
		leaf := `{"entry":` + string(e.Entry) + `,"sig":` + strconv.Quote(e.Sig) + `}`
		pb.leaves = append(pb.leaves, []byte(leaf))
		pb.indexes = append(pb.indexes, e.Index)
	}
	return pb, nil
}

// bundleLines splits a bundle into lines, without their newlines.
func bundleLines(b []byte) []string {
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func joinLines(lines []string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

// entryLine is the bundle line of s at index, as Export writes it.
func entryLine(index int64, s *entry.Signed) string {
	return fmt.Sprintf(`{"entry":%s,"index":%d,"sig":"%s"}`, s.Canonical, index, base64.StdEncoding.EncodeToString(s.Sig))
}

// checkpointNote signs a checkpoint as the log does, for any root: the
// C2SP checkpoint body and a "time" extension line.
func checkpointNote(t testing.TB, op testKey, size int64, root tlog.Hash, at time.Time) string {
	t.Helper()
	text := fmt.Sprintf("%s\n%d\n%s\ntime %s\n", op.signer.Name(), size, base64.StdEncoding.EncodeToString(root[:]), at.UTC().Format(time.RFC3339Nano))
	msg, err := note.Sign(&note.Note{Text: text}, op.signer)
	if err != nil {
		t.Fatalf("sign checkpoint: %v", err)
	}
	return string(msg)
}

// checkpointLine is the bundle line for a signed checkpoint note.
func checkpointLine(t testing.TB, msg string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"checkpoint": msg})
	if err != nil {
		t.Fatal(err)
	}
	c, err := entry.Canonical(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

// headerLine is a bundle header line for op.
func headerLine(op testKey) string {
	return fmt.Sprintf(`{"format":"parley-bundle","operator":"%s","origin":"%s","version":1}`, op.vkey, op.signer.Name())
}

// forgeBundle writes a bundle of the given entries, with a checkpoint
// signed by op at each of sizes, without any of the log's checks: the
// entries need not be admissible, but the tree and signatures are real.
func forgeBundle(t testing.TB, op testKey, entries []*entry.Signed, sizes ...int64) []byte {
	t.Helper()
	lines := []string{headerLine(op)}
	var leaves [][]byte
	for i, s := range entries {
		lines = append(lines, entryLine(int64(i), s))
		leaves = append(leaves, s.Leaf())
	}
	for _, n := range sizes {
		lines = append(lines, checkpointLine(t, checkpointNote(t, op, n, merkleRoot(leaves[:n]), baseTime)))
	}
	return joinLines(lines)
}

// verifyBundle verifies b with the test types and opts.
func verifyBundle(b []byte, opts ptlog.VerifyOptions) (ptlog.Summary, error) {
	if opts.Types == nil {
		opts.Types = testTypes()
	}
	return ptlog.Verify(context.Background(), bytes.NewReader(b), opts)
}

// importBundle verifies b into a fresh SQLite store and opens the store as
// a read-only log; it returns the log and the store's path.
func importBundle(t testing.TB, b []byte) (*ptlog.Log, string, ptlog.Summary, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "import.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	sum, err := verifyBundle(b, ptlog.VerifyOptions{Into: st})
	st.Close()
	if err != nil {
		return nil, path, sum, err
	}
	l, _, err := openLog(t, path, ptlog.Config{Types: testTypes()})
	if err != nil {
		t.Fatalf("open imported record read-only: %v", err)
	}
	return l, path, sum, nil
}

func exportLog(t testing.TB, l *ptlog.Log) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := l.Export(context.Background(), &b); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return b.Bytes()
}

// richRecord builds a record of about n entries with keys from seed: three
// authors, notes and positions, notes about earlier entries, a correction,
// batches of several sizes (so several checkpoints) and one author revoked
// part way. It returns the record and its authors.
func richRecord(t testing.TB, seed uint64, n int) (*testRecord, []testKey) {
	t.Helper()
	keys := seededReader(seed)
	r := newRecordWith(t, keyFrom(t, keys, "ceasefire.example/talks"))
	authors := []testKey{keyFrom(t, keys, "envoy"), keyFrom(t, keys, "kremlin-press"), keyFrom(t, keys, "monitors")}
	var regs []*entry.Signed
	for _, a := range authors {
		regs = append(regs, sign(t, keyRegisterEntry(a, "holder of "+a.signer.Name()), r.op))
	}
	r.appendOK(regs...)
	rng := rand.New(rand.NewPCG(seed, 1))
	stances := []string{"accepts", "accepts-in-principle", "rejects", "undecided"}
	revoked := false
	for i := 0; r.log.Size() < int64(n); i++ {
		batch := 1 + rng.IntN(12)
		var ss []*entry.Signed
		size := r.log.Size()
		for j := range batch {
			a := authors[rng.IntN(len(authors))]
			if revoked && a.id == authors[1].id {
				a = authors[0]
			}
			var e entry.Entry
			switch rng.IntN(4) {
			case 0:
				e = positionEntry(a.signer.Name(), stances[rng.IntN(len(stances))])
			case 1:
				e = noteEntry(fmt.Sprintf("note %d.%d about an earlier entry", i, j), rng.Int64N(size))
			case 2:
				e = noteEntry(fmt.Sprintf("correction %d.%d", i, j))
				c := rng.Int64N(size)
				e.Corrects = &c
			default:
				e = noteEntry(fmt.Sprintf("note %d.%d: \"talks\" ☮ résumé <&>", i, j))
			}
			e.Time = baseTime.Add(time.Duration(i) * time.Minute)
			e.Recorded = e.Time.Add(time.Duration(j) * time.Second)
			if j%3 == 0 {
				e.Sources = []entry.Source{{URL: fmt.Sprintf("https://example.org/%d/%d", i, j), Quote: "q"}}
			}
			ss = append(ss, sign(t, e, a))
		}
		r.appendOK(ss...)
		if !revoked && r.log.Size() > int64(n)/2 {
			r.revoke(authors[1])
			revoked = true
		}
	}
	return r, authors
}

func mustVerifier(t testing.TB, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("verifier key %q: %v", vkey, err)
	}
	return v
}
