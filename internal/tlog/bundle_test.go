package tlog_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/store/sqlite"
	ptlog "parley/internal/tlog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRecord builds a small record that is the same every run: its keys
// come from a fixed seed and its clock ticks a second per reading. It has
// two authors, both types, a note about an earlier entry, a correction and
// a revocation.
func goldenRecord(t testing.TB) (*testRecord, []testKey) {
	t.Helper()
	keys := seededReader(20250313)
	r := newRecordWith(t, keyFrom(t, keys, "parley.example/golden"))
	envoy, press := keyFrom(t, keys, "envoy"), keyFrom(t, keys, "kremlin-press")
	r.appendOK(sign(t, keyRegisterEntry(envoy, "U.S. Special Envoy"), r.op), sign(t, keyRegisterEntry(press, "Kremlin press office"), r.op))
	proposal := r.appendOK(sign(t, noteEntry("A 30-day ceasefire is proposed."), envoy))[0].Index
	r.appendOK(
		sign(t, positionEntry("Ukraine", "accepts"), envoy),
		sign(t, positionEntry("Russia", "accepts-in-principle"), press),
		sign(t, noteEntry("Conditions attached: \"nuances\" to settle.", proposal), press),
	)
	c := proposal
	fix := noteEntry("A 30-day ceasefire is proposed, energy infrastructure first.")
	fix.Corrects = &c
	fix.Sources = []entry.Source{{URL: "https://example.org/statement", Quote: "30-day"}, {Citation: "TASS, 13 March"}}
	r.appendOK(sign(t, fix, envoy))
	r.revoke(press)
	r.appendOK(sign(t, noteEntry("The call waits on the envoy's report."), envoy))
	return r, []testKey{envoy, press}
}

// TestExportGolden checks that the bundle format does not drift: a record
// built the same way exports to the same bytes as testdata/golden.bundle
// (rewrite it with -update), and the file verifies.
func TestExportGolden(t *testing.T) {
	r, _ := goldenRecord(t)
	got := r.export()
	path := filepath.Join("testdata", "golden.bundle")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestExportGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bundleLines(got), bundleLines(want)
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("export differs from %s at line %d:\n got %s\nwant %s\n(if the change is meant, rerun with -update)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("export has %d lines, %s has %d (if the change is meant, rerun with -update)", len(gl), path, len(wl))
	}
	sum, err := verifyBundle(want, ptlog.VerifyOptions{Operator: r.op.vkey})
	if err != nil {
		t.Fatalf("%s does not verify: %v", path, err)
	}
	if sum.Entries != 10 || sum.Checkpoints != 7 || sum.Keys != 3 {
		t.Errorf("golden summary %+v, want 10 entries, 7 checkpoints, 3 keys", sum)
	}
}

func TestExportVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	r, _ := richRecord(t, 3, 80)
	b := r.export()
	leaves := r.leaves()
	cps := r.checkpoints()
	latest, _ := r.log.Latest()

	sum, err := verifyBundle(b, ptlog.VerifyOptions{Operator: r.op.vkey})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := ptlog.Summary{Origin: r.origin, Operator: r.op.vkey, Entries: r.log.Size(), Root: latest.Root, Checkpoints: len(cps), Keys: len(r.log.Keys())}
	if sum != want {
		t.Errorf("summary\n%+v\nwant\n%+v", sum, want)
	}
	if sum.Root != merkleRoot(leaves) {
		t.Errorf("summary root %s, independent root %s", sum.Root, merkleRoot(leaves))
	}

	// The bundle's lines are the header, each entry's leaf with its index,
	// and each checkpoint, in order.
	pb, err := parseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	if pb.header != (ptlog.BundleHeader{Format: ptlog.BundleFormat, Version: ptlog.BundleVersion, Origin: r.origin, Operator: r.op.vkey}) {
		t.Errorf("header %+v", pb.header)
	}
	if len(pb.leaves) != len(leaves) {
		t.Fatalf("bundle has %d entries, record %d", len(pb.leaves), len(leaves))
	}
	for i := range leaves {
		if pb.indexes[i] != int64(i) || !bytes.Equal(pb.leaves[i], leaves[i]) {
			t.Errorf("bundle line for entry %d (index %d) does not hold the stored leaf", i, pb.indexes[i])
		}
	}
	if len(pb.checkpoints) != len(cps) {
		t.Fatalf("bundle has %d checkpoints, record %d", len(pb.checkpoints), len(cps))
	}
	for i, c := range cps {
		if pb.checkpoints[i] != string(c.Note) {
			t.Errorf("bundle checkpoint %d is not checkpoint %d's note", i, c.Size)
		}
	}
	for _, line := range bundleLines(b) {
		c, err := entry.Canonical([]byte(line))
		if err != nil || string(c) != line {
			t.Errorf("line is not canonical JSON: %s", line)
		}
	}

	// An export taken while the record grows stops at its latest checkpoint.
	var during bytes.Buffer
	if err := r.log.Export(ctx, &during); err != nil {
		t.Fatal(err)
	}
	r.notes(r.op, "after the export", 2)
	if !bytes.Equal(during.Bytes(), b) {
		t.Errorf("two exports of the same size differ")
	}
}

func TestVerifyOperatorPin(t *testing.T) {
	r, _ := goldenRecord(t)
	b := r.export()
	other := newKey(t, r.origin)
	if _, err := verifyBundle(b, ptlog.VerifyOptions{Operator: r.op.vkey}); err != nil {
		t.Errorf("pinned to its own operator: %v", err)
	}
	_, err := verifyBundle(b, ptlog.VerifyOptions{Operator: other.vkey})
	wantProblem(t, err, problem.Tampered, "line 1", "not the expected")
}

// TestVerifyInto imports a bundle into a fresh store: the store opens as
// the same record, exports the same bytes, and the operator can go on
// appending to it.
func TestVerifyInto(t *testing.T) {
	ctx := context.Background()
	r, authors := richRecord(t, 5, 60)
	b := r.export()
	want, _ := r.log.Latest()

	l, path, sum, err := importBundle(t, b)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	got, ok := l.Latest()
	if !ok || got.Root != want.Root || got.Size != want.Size || !bytes.Equal(got.Note, want.Note) || sum.Root != want.Root {
		t.Fatalf("imported record's latest checkpoint is %d/%s, want %d/%s", got.Size, got.Root, want.Size, want.Root)
	}
	if l.Origin() != r.origin || l.OperatorKey() != r.op.vkey {
		t.Errorf("imported record is %q by %q", l.Origin(), l.OperatorKey())
	}
	for _, c := range r.checkpoints() {
		root, err := l.RootAt(ctx, c.Size)
		if err != nil || root != c.Root {
			t.Errorf("imported RootAt(%d) = %s, %v; want %s", c.Size, root, err, c.Root)
		}
		ic, err := l.CheckpointAt(ctx, c.Size)
		if err != nil || !bytes.Equal(ic.Note, c.Note) {
			t.Errorf("imported CheckpointAt(%d): %v", c.Size, err)
		}
	}
	for _, i := range []int64{0, 1, want.Size / 2, want.Size - 1} {
		p, err := l.ProveInclusion(ctx, i, 0)
		if err != nil {
			t.Fatal(err)
		}
		if trust, err := p.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
			t.Errorf("imported proof of entry %d: %q, %v", i, trust, err)
		}
	}
	revoked := authors[1]
	if k, ok := l.Key(revoked.id); !ok || k.Revoked < 0 {
		t.Errorf("imported keyring: %s is %+v, %v; want revoked", revoked.id, k, ok)
	}
	if got := exportLog(t, l); !bytes.Equal(got, b) {
		t.Errorf("the imported record exports differently")
	}

	// The operator takes the imported record over and appends to it.
	w, _, err := openLog(t, path, ptlog.Config{Operator: r.op.signer, Types: testTypes()})
	if err != nil {
		t.Fatalf("open the imported record for writing: %v", err)
	}
	s := sign(t, noteEntry("after the import"), authors[0])
	res, err := w.Append(ctx, []*entry.Signed{s})
	if err != nil {
		t.Fatalf("append to the imported record: %v", err)
	}
	if res[0].Index != want.Size {
		t.Errorf("first entry after the import got index %d, want %d", res[0].Index, want.Size)
	}
	_, err = w.Append(ctx, []*entry.Signed{sign(t, noteEntry("by a revoked key"), revoked)})
	wantProblem(t, err, problem.Unauthorized, "revoked")
	p, err := w.ProveConsistency(ctx, want.Size, w.Size())
	if err != nil {
		t.Fatal(err)
	}
	if trust, err := p.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
		t.Errorf("the imported record and its continuation are not consistent: %q, %v", trust, err)
	}
	if root, _ := w.RootAt(ctx, w.Size()); root != merkleRoot(append(r.leaves(), s.Leaf())) {
		t.Errorf("root after appending to the imported record is %s, want %s", root, merkleRoot(append(r.leaves(), s.Leaf())))
	}
}

func TestVerifyIntoNonEmptyStore(t *testing.T) {
	r, _ := goldenRecord(t)
	b := r.export()
	other := newRecord(t, "talks.example/occupied")
	other.close()
	st, err := sqlite.Open(context.Background(), other.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := verifyBundle(b, ptlog.VerifyOptions{Into: st}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("import into a store that holds a record: %v, want an error saying it is not empty", err)
	}
	if n, _ := st.Size(context.Background()); n != 1 {
		t.Errorf("the occupied store now has %d entries", n)
	}
}

// TestVerifyProgressAndLargeImport verifies and imports a bundle of more
// than 4096 entries, so that Progress is called mid-way and the import
// flushes in more than one batch.
func TestVerifyProgressAndLargeImport(t *testing.T) {
	const n = 4100
	op := newKey(t, "talks.example/large")
	ss := []*entry.Signed{sign(t, keyRegisterEntry(op, "operator of talks.example/large"), op)}
	for i := 1; i < n; i++ {
		ss = append(ss, sign(t, noteEntry(fmt.Sprintf("report %d", i)), op))
	}
	b := forgeBundle(t, op, ss, 1, 1000, 4096, n)

	path := filepath.Join(t.TempDir(), "import.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	type call struct{ entries, bytes int64 }
	var calls []call
	sum, err := verifyBundle(b, ptlog.VerifyOptions{Into: st, Progress: func(e, b int64) { calls = append(calls, call{e, b}) }})
	st.Close()
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if sum.Entries != n || sum.Checkpoints != 4 {
		t.Errorf("summary %+v", sum)
	}
	if len(calls) < 2 || calls[len(calls)-1] != (call{n, int64(len(b))}) {
		t.Errorf("Progress calls %v, want some mid-way and last (%d, %d)", calls, n, len(b))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].entries < calls[i-1].entries || calls[i].bytes < calls[i-1].bytes {
			t.Errorf("Progress went backwards: %v", calls)
		}
	}
	l, _, err := openLog(t, path, ptlog.Config{Types: testTypes()})
	if err != nil {
		t.Fatal(err)
	}
	if got := exportLog(t, l); !bytes.Equal(got, b) {
		t.Errorf("the imported record exports differently from the bundle imported")
	}
	p, err := l.ProveInclusion(context.Background(), 4097, 0)
	if err != nil {
		t.Fatal(err)
	}
	if trust, err := p.Check(op.vkey); err != nil || trust != ptlog.Signed {
		t.Errorf("proof of an entry past the first flush: %q, %v", trust, err)
	}
}

// brokenBundleRecord builds the record the broken-bundle cases start from:
// entries 0 to 9, committed at sizes 1, 2, 5, 7 and 10, so that line k+2
// holds entry k and lines 12 to 16 hold the checkpoints.
func brokenBundleRecord(t *testing.T) (*testRecord, testKey, []*entry.Signed) {
	t.Helper()
	r := newRecord(t, "talks.example/broken")
	a := newKey(t, "envoy")
	r.register(a)
	for _, batch := range [][]string{{"two", "three", "four"}, {"five", "six"}, {"seven", "eight", "nine"}} {
		var ss []*entry.Signed
		for _, text := range batch {
			ss = append(ss, sign(t, noteEntry("entry "+text), a))
		}
		r.appendOK(ss...)
	}
	var ss []*entry.Signed
	r.log.Entries(context.Background(), 0, 10, func(e ptlog.Indexed) error { ss = append(ss, e.Signed); return nil })
	return r, a, ss
}

func sigOf(s *entry.Signed) string { return base64.StdEncoding.EncodeToString(s.Sig) }

// TestVerifyBrokenBundles breaks an exported bundle in many ways; each must
// fail with a refusal that names the entry or line at fault.
func TestVerifyBrokenBundles(t *testing.T) {
	r, a, ss := brokenBundleRecord(t)
	good := r.export()
	lines := bundleLines(good)
	if len(lines) != 16 {
		t.Fatalf("bundle has %d lines, want 16:\n%s", len(lines), good)
	}
	if _, err := verifyBundle(good, ptlog.VerifyOptions{}); err != nil {
		t.Fatalf("the unbroken bundle does not verify: %v", err)
	}
	impostor := newKey(t, r.origin)

	// edit returns the bundle with line n (1-based) replaced by f(line).
	edit := func(n int, f func(string) string) []byte {
		l := slices.Clone(lines)
		l[n-1] = f(l[n-1])
		return joinLines(l)
	}
	without := func(ns ...int) []byte {
		var l []string
		for i, line := range lines {
			if !slices.Contains(ns, i+1) {
				l = append(l, line)
			}
		}
		return joinLines(l)
	}
	swap := func(i, j int) []byte {
		l := slices.Clone(lines)
		l[i-1], l[j-1] = l[j-1], l[i-1]
		return joinLines(l)
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("%q not in line %s", old, s)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	header := func(format string, args ...any) func(string) string {
		return func(string) string { return fmt.Sprintf(format, args...) }
	}
	cut := strings.Index(string(good), lines[10]) + len(lines[10])/2 // mid-way through entry 9's line
	sig3 := sigOf(ss[3])                                             // entry 3's signature, base64
	// The same signature with one of the unused low bits of its last
	// character set: loose base64 decoders read the same 64 bytes.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	nonStrictSig := sig3[:85] + string(alphabet[strings.IndexByte(alphabet, sig3[85])^1]) + "=="
	// The same signature with its first character changed to another:
	// the first six bits of R differ, so it no longer verifies.
	editedSig := string(alphabet[strings.IndexByte(alphabet, sig3[0])^32]) + sig3[1:]

	for _, tc := range []struct {
		name   string
		bundle []byte
		kind   problem.Kind // "" for any kind
		where  string
		msg    string
	}{
		{"empty", nil, problem.Invalid, "line 1", "empty bundle"},
		{"header only", joinLines(lines[:1]), problem.Invalid, "line 2", "no entries"},
		{"truncated in the last entry line", good[:cut], problem.Invalid, "entry 9 (line 11)", "malformed JSON"},
		{"truncated after the entries", joinLines(lines[:11]), problem.Tampered, "entry 9", "truncated"},
		{"truncated in the checkpoints", joinLines(lines[:14]), problem.Tampered, "entry 5", "truncated"},
		{"truncated in the last checkpoint line", good[:len(good)-40], problem.Invalid, "line 16", "malformed JSON"},
		{"an entry line missing", without(5), problem.Tampered, "entry 3 (line 5)", "holds entry 4 where entry 3 belongs"},
		{"two entry lines swapped", swap(5, 6), problem.Tampered, "entry 3 (line 5)", "holds entry 4 where entry 3 belongs"},
		{"an entry line repeated", edit(6, func(string) string { return lines[4] }), problem.Tampered, "entry 4 (line 6)", "holds entry 3 where entry 4 belongs"},
		{"an entry's index edited", edit(5, replace(`"index":3`, `"index":4`)), problem.Tampered, "entry 3 (line 5)", "holds entry 4"},
		{"a checkpoint among the entries", joinLines(slices.Concat(lines[:2], lines[11:12], lines[2:11], lines[12:])), problem.Invalid, "entry 1 (line 4)", "after the checkpoints"},
		{"two checkpoints swapped", swap(13, 14), problem.Tampered, "line 14", "checkpoints must grow"},
		{"a checkpoint repeated", joinLines(append(slices.Clone(lines), lines[15])), problem.Tampered, "line 17", "checkpoints must grow"},
		{"a checkpoint from another operator", edit(16, func(string) string {
			return checkpointLine(t, checkpointNote(t, impostor, 10, merkleRoot(r.leaves()), baseTime))
		}), problem.Tampered, "line 16", "checkpoint signature"},
		{"a checkpoint edited", edit(14, replace(`\n5\n`, `\n6\n`)), problem.Tampered, "line 14", "checkpoint signature"},
		{"a checkpoint with a wrong root", edit(16, func(string) string {
			root := merkleRoot(r.leaves())
			root[0] ^= 1
			return checkpointLine(t, checkpointNote(t, r.op, 10, root, baseTime))
		}), problem.Tampered, "line 16", "entries hash to"},
		{"a checkpoint beyond the entries", joinLines(append(slices.Clone(lines), checkpointLine(t, checkpointNote(t, r.op, 11, tlog.Hash{}, baseTime)))), problem.Tampered, "line 17", "only 10 entries"},
		{"a checkpoint line with an unknown member", edit(12, replace(`{"checkpoint":`, `{"checkpoint2":1,"checkpoint":`)), "", "line 12", ""},
		{"a checkpoint line that is not canonical", edit(12, replace(`{"checkpoint":`, `{"checkpoint": `)), problem.Tampered, "line 12", "canonical"},

		{"header: another format", edit(1, replace(`"format":"parley-bundle"`, `"format":"parley-bundles"`)), problem.Invalid, "line 1", "not a parley bundle"},
		{"header: another version", edit(1, replace(`"version":1`, `"version":2`)), problem.Invalid, "line 1", "not a parley bundle"},
		{"header: no operator", edit(1, header(`{"format":"parley-bundle","origin":"%s","version":1}`, r.origin)), problem.Invalid, "line 1", "operator key"},
		{"header: no format", edit(1, header(`{"operator":"%s","origin":"%s","version":1}`, r.op.vkey, r.origin)), problem.Invalid, "line 1", "not a parley bundle"},
		{"header: an unknown member", edit(1, replace(`"operator"`, `"note":"x","operator"`)), problem.Invalid, "line 1", "header"},
		{"header: another origin", edit(1, replace(`"origin":"talks.example/broken"`, `"origin":"talks.example/brokem"`)), problem.Invalid, "line 1", "not after the origin"},
		{"header: another operator", edit(1, replace(r.op.vkey, impostor.vkey)), problem.Unauthorized, "entry 0 (line 2)", "not registered"},
		{"header: not canonical", edit(1, replace(`"version":1`, `"version":1.0`)), problem.Tampered, "line 1", "canonical"},
		{"header: not JSON", edit(1, header(`parley-bundle v1`)), problem.Invalid, "line 1", "malformed JSON"},
		{"header: CRLF line ends", []byte(strings.ReplaceAll(string(good), "\n", "\r\n")), "", "line 1", ""},

		{"entry: a space after a colon", edit(5, replace(`"index":3`, `"index": 3`)), problem.Tampered, "entry 3 (line 5)", "canonical"},
		{"entry: members reordered", edit(5, func(string) string {
			return fmt.Sprintf(`{"index":3,"entry":%s,"sig":"%s"}`, ss[3].Canonical, sig3)
		}), problem.Tampered, "entry 3 (line 5)", "canonical"},
		{"entry: a needless escape", edit(5, replace(`"type":"note"`, `"type":"\u006eote"`)), problem.Tampered, "entry 3 (line 5)", "canonical"},
		{"entry: a trailing space", edit(5, func(s string) string { return s + " " }), "", "entry 3 (line 5)", ""},
		{"entry: an unknown member", edit(5, replace(`"index":3,`, `"index":3,"note":"x",`)), problem.Invalid, "entry 3 (line 5)", "not an entry line"},
		{"entry: its text edited", edit(5, replace(`entry three`, `entry thre3`)), problem.Tampered, "entry 3 (line 5)", "does not verify"},
		{"entry: its signature edited", edit(5, replace(sig3, editedSig)), problem.Tampered, "entry 3 (line 5)", "does not verify"},
		{"entry: its signature in loose base64", edit(5, replace(sig3, nonStrictSig)), problem.Invalid, "entry 3 (line 5)", `"sig"`},
		{"entry: its author edited", edit(5, replace(a.id, impostor.id)), problem.Unauthorized, "entry 3 (line 5)", "not registered"},
		{"entry: another entry's signature", edit(5, replace(sig3, sigOf(ss[4]))), problem.Tampered, "entry 3 (line 5)", "does not verify"},

		{"trailing garbage line", append(bytes.Clone(good), "garbage\n"...), problem.Invalid, "entry 10 (line 17)", "after the checkpoints"},
		{"trailing garbage without a newline", append(bytes.Clone(good), "}"...), problem.Invalid, "entry 10 (line 17)", "after the checkpoints"},
		{"a trailing blank line", append(bytes.Clone(good), "\n"...), problem.Invalid, "entry 10 (line 17)", "after the checkpoints"},
		{"an entry after the checkpoints", joinLines(append(slices.Clone(lines), lines[10])), problem.Invalid, "entry 10 (line 17)", "after the checkpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyBundle(tc.bundle, ptlog.VerifyOptions{})
			if tc.kind == "" {
				if err == nil || !strings.Contains(err.Error(), tc.where) {
					t.Fatalf("Verify: %v; want an error at %q", err, tc.where)
				}
				return
			}
			wantProblem(t, err, tc.kind, tc.where+":", tc.msg)
		})
	}
}

// TestVerifyRefusesInadmissibleEntries verifies bundles whose tree and
// signatures are all real but whose entries the log would never have
// accepted: the bundle must be refused at that entry.
func TestVerifyRefusesInadmissibleEntries(t *testing.T) {
	op := newKey(t, "talks.example/forged")
	a, b := newKey(t, "envoy"), newKey(t, "stranger")
	genesis := sign(t, keyRegisterEntry(op, "operator of talks.example/forged"), op)
	regA := sign(t, keyRegisterEntry(a, "the envoy"), op)
	noteA := sign(t, noteEntry("said while the key was good"), a)
	revA := sign(t, keyRevokeEntry(a, "leaked"), op)
	at := func(i int64) *int64 { return &i }

	// The forger's bundles are right where they should be: the same entries
	// without the bad one verify.
	ok := []*entry.Signed{genesis, regA, noteA, revA}
	if _, err := verifyBundle(forgeBundle(t, op, ok, 2, 4), ptlog.VerifyOptions{Operator: op.vkey}); err != nil {
		t.Fatalf("the admissible prefix does not verify: %v", err)
	}
	for _, tc := range []struct {
		name    string
		entries []*entry.Signed
		kind    problem.Kind
		where   string
		msg     string
	}{
		{"an entry by a key revoked before it", append(slices.Clone(ok), sign(t, noteEntry("after the leak"), a)),
			problem.Unauthorized, "entry 4 (line 6)", "revoked at entry 3"},
		{"an entry by a key never registered", append(slices.Clone(ok), sign(t, noteEntry("who?"), b)),
			problem.Unauthorized, "entry 4 (line 6)", "not registered"},
		{"an entry by a key registered after it", []*entry.Signed{genesis, sign(t, noteEntry("early"), a), regA},
			problem.Unauthorized, "entry 1 (line 3)", "not registered"},
		{"a key registered by a non-operator", []*entry.Signed{genesis, regA, sign(t, keyRegisterEntry(b, "self"), a)},
			problem.Unauthorized, "entry 2 (line 4)", "only the operator"},
		{"a key registered twice", []*entry.Signed{genesis, regA, sign(t, keyRegisterEntry(a, "again"), op)},
			problem.Conflict, "entry 2 (line 4)", "already registered"},
		{"a genesis entry by another key", []*entry.Signed{sign(t, keyRegisterEntry(a, "usurper"), a)},
			problem.Unauthorized, "entry 0 (line 2)", "not registered"},
		{"a genesis entry that is not a key registration", []*entry.Signed{sign(t, noteEntry("in the beginning"), op)},
			problem.Unauthorized, "entry 0 (line 2)", "first entry"},
		{"a genesis entry registering another key", []*entry.Signed{sign(t, keyRegisterEntry(a, "delegate"), op)},
			problem.Unauthorized, "entry 0 (line 2)", "first entry must register the operator key"},
		{"a correction of a later entry", []*entry.Signed{genesis, regA, sign(t, func() entry.Entry { e := noteEntry("fix"); e.Corrects = at(3); return e }(), a), noteA},
			problem.Invalid, "entry 2 (line 4)", "not before it"},
		{"a note about itself", []*entry.Signed{genesis, regA, sign(t, noteEntry("self-reference", 2), a)},
			problem.Invalid, "entry 2 (line 4)", "names entry 2"},
		{"an unknown type", []*entry.Signed{genesis, regA, sign(t, bodyEntry("minutes", map[string]string{"text": "x"}), a)},
			problem.Invalid, "entry 2 (line 4)", "unknown entry type"},
		{"an invalid body", []*entry.Signed{genesis, regA, sign(t, positionEntry("north", "perhaps"), a)},
			problem.Invalid, "entry 2 (line 4)", "stance"},
		// The log appends an entry once: submitted again, it is a duplicate
		// of the first, and nothing is appended (see TestAppendIdempotent).
		{"an entry repeated at a later index", []*entry.Signed{genesis, regA, noteA, noteA},
			"", "entry 3 (line 5)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := forgeBundle(t, op, tc.entries, int64(len(tc.entries)))
			_, err := verifyBundle(bundle, ptlog.VerifyOptions{})
			if tc.kind == "" {
				if err == nil {
					_, _, _, ierr := importBundle(t, bundle)
					t.Fatalf("Verify accepted a bundle holding the same signed entry at indexes 2 and 3, which Append "+
						"never writes (it answers Duplicate). Verify (bundle.go, consume) keeps no set of entry hashes; "+
						"importing the bundle Into a store then fails on the store's unique hash, with an error "+
						"that does not name the entry: %v", ierr)
				}
				if !strings.Contains(err.Error(), tc.where+":") {
					t.Fatalf("Verify: %v; want an error at %q", err, tc.where)
				}
				return
			}
			wantProblem(t, err, tc.kind, tc.where+":", tc.msg)
		})
	}
}

func TestVerifyOptions(t *testing.T) {
	r, _ := goldenRecord(t)
	b := r.export()
	// Without the record's types, its notes are unknown.
	_, err := ptlog.Verify(context.Background(), bytes.NewReader(b), ptlog.VerifyOptions{})
	wantProblem(t, err, problem.Invalid, "entry 3 (line 5):", `unknown entry type "note"`)
	// A body limit below the record's bodies.
	_, err = verifyBundle(b, ptlog.VerifyOptions{MaxBody: 40})
	wantProblem(t, err, problem.TooLarge, "entry 0 (line 2):", "over the limit of 40")
}

// TestVerifyCancelled checks that Verify returns, with an error, when its
// context is cancelled, before it starts or part way.
func TestVerifyCancelled(t *testing.T) {
	r, _ := richRecord(t, 11, 120)
	b := r.export()
	const trials = 40
	type result struct {
		sum ptlog.Summary
		err error
	}
	done := make(chan result, trials)
	for i := range trials {
		ctx, cancel := context.WithCancel(context.Background())
		opts := ptlog.VerifyOptions{Types: testTypes()}
		if i%2 == 0 {
			cancel() // before it starts
		}
		// Otherwise part way: once the first 8 KiB are read.
		rd := &cancellingReader{r: bytes.NewReader(b), after: 8192, cancel: cancel}
		go func() {
			defer cancel()
			sum, err := ptlog.Verify(ctx, rd, opts)
			done <- result{sum, err}
		}()
	}
	timeout := time.After(5 * time.Second)
	for i := range trials {
		select {
		case res := <-done:
			if res.err == nil {
				// Finishing anyway is acceptable only with the right answer.
				if res.sum.Root != merkleRoot(r.leaves()) {
					t.Errorf("a cancelled Verify succeeded with root %s", res.sum.Root)
				}
			}
		case <-timeout:
			t.Fatalf("%d of %d Verify calls with a cancelled context never returned: in bundle.go, feed sends a job on "+
				"order and then, seeing ctx done, returns without sending it on work, so no worker ever closes j.done and "+
				"run's consume loop waits on <-j.done forever", trials-i, trials)
		}
	}
}

// cancellingReader reads at most 1 KiB at a time and calls cancel once
// after bytes have been read.
type cancellingReader struct {
	r      io.Reader
	read   int
	after  int
	cancel func()
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if len(p) > 1024 {
		p = p[:1024]
	}
	n, err := c.r.Read(p)
	c.read += n
	if c.read >= c.after && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	return n, err
}

// TestVerifyRefusesNonCanonicalOperatorKey checks that a header whose
// operator key is spelled differently from the key itself (upper-case hex in
// the hash, a line break inside the base64, both of which note.NewVerifier
// tolerates) is refused: otherwise two different bundles verify as the same
// record, and a record imported from the respelled one carries an operator
// key string that no longer matches the operator's, so its proofs fail
// against the real key.
func TestVerifyRefusesNonCanonicalOperatorKey(t *testing.T) {
	r, _ := goldenRecord(t)
	b := r.export()
	name, rest, _ := strings.Cut(r.op.vkey, "+")
	hash, key, _ := strings.Cut(rest, "+")
	if strings.ToUpper(hash) == hash {
		t.Fatalf("the golden operator's key hash %s has no hex letter to respell", hash)
	}
	for _, tc := range []struct {
		name, vkey string
	}{
		{"upper-case hash", name + "+" + strings.ToUpper(hash) + "+" + key},
		{"a line break in the base64", name + "+" + hash + "+" + key[:10] + "\n" + key[10:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := note.NewVerifier(tc.vkey); err != nil {
				t.Skipf("note.NewVerifier refuses this spelling (%v): nothing to check", err)
			}
			lines := bundleLines(b)
			h, err := json.Marshal(ptlog.BundleHeader{Format: ptlog.BundleFormat, Version: ptlog.BundleVersion, Origin: r.origin, Operator: tc.vkey})
			if err != nil {
				t.Fatal(err)
			}
			c, err := entry.Canonical(h)
			if err != nil {
				t.Fatal(err)
			}
			lines[0] = string(c)
			respelled := joinLines(lines)
			_, err = verifyBundle(respelled, ptlog.VerifyOptions{})
			if err != nil {
				wantProblem(t, err, problem.Invalid, "line 1")
				return
			}
			msg := "Verify accepted a header whose operator key is respelled (%q for %q). readHeader (bundle.go) checks " +
				"the key only with note.NewVerifier, which parses the hash with strconv.ParseUint (any case) and the key " +
				"with non-strict base64 (skips \\r and \\n); it should also require the canonical spelling"
			l, _, _, err := importBundle(t, respelled)
			if err != nil {
				t.Fatalf(msg+"; importing it then failed: %v", tc.vkey, r.op.vkey, err)
			}
			p, err := l.ProveInclusion(context.Background(), 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, perr := p.Check(r.op.vkey)
			t.Errorf(msg+". The imported record's OperatorKey() is %q, and its proofs checked against the operator's real key give: %v",
				tc.vkey, r.op.vkey, l.OperatorKey(), perr)
		})
	}
}
