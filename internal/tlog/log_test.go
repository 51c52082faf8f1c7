package tlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/problem"
	ptlog "parley/internal/tlog"
)

func TestOpenCreatesRecord(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/geneva")
	l := r.log

	if got := l.Origin(); got != r.origin {
		t.Errorf("Origin() = %q, want %q", got, r.origin)
	}
	if got := l.OperatorKey(); got != r.op.vkey {
		t.Errorf("OperatorKey() = %q, want %q", got, r.op.vkey)
	}
	if got := l.Size(); got != 1 {
		t.Fatalf("a new record has %d entries, want 1 (the genesis entry)", got)
	}
	g, err := l.Entry(ctx, 0)
	if err != nil {
		t.Fatalf("Entry(0): %v", err)
	}
	if g.Entry.Type != ptlog.KeyRegister || g.Entry.Author != r.op.id {
		t.Errorf("entry 0 is a %s by %s, want a %s by the operator %s", g.Entry.Type, g.Entry.Author, ptlog.KeyRegister, r.op.id)
	}
	var body ptlog.KeyRegisterBody
	if err := json.Unmarshal(g.Entry.Body, &body); err != nil {
		t.Fatalf("genesis body: %v", err)
	}
	if body.Key != r.op.vkey {
		t.Errorf("the genesis entry registers %q, want the operator's own key %q", body.Key, r.op.vkey)
	}
	if err := g.Verify(r.op.verifier); err != nil {
		t.Errorf("the genesis entry's signature: %v", err)
	}

	c, ok := l.Latest()
	if !ok {
		t.Fatal("no checkpoint after genesis")
	}
	if c.Origin != r.origin || c.Size != 1 || c.Root != merkleRoot([][]byte{g.Leaf()}) {
		t.Errorf("checkpoint after genesis is %s/%d/%s, want %s/1/%s", c.Origin, c.Size, c.Root, r.origin, merkleRoot([][]byte{g.Leaf()}))
	}
	keys := l.Keys()
	if len(keys) != 1 || keys[0].ID != r.op.id || keys[0].VKey != r.op.vkey || keys[0].Registered != 0 || keys[0].Revoked != -1 {
		t.Errorf("Keys() = %+v, want only the operator's, registered at 0 and not revoked", keys)
	}
	if _, ok := l.Types().Lookup(ptlog.KeyRevoke); !ok {
		t.Errorf("Open did not add %s to the registry", ptlog.KeyRevoke)
	}
}

func TestReopenKeepsRecord(t *testing.T) {
	r := newRecord(t, "talks.example/reopen")
	a := newKey(t, "envoy")
	r.register(a)
	r.notes(a, "before reopening", 3)
	want, _ := r.log.Latest()
	wantKeys := r.log.Keys()
	wantExport := r.export()
	r.close()

	for _, tc := range []struct {
		name string
		cfg  ptlog.Config
	}{
		{"with the operator", ptlog.Config{Operator: r.op.signer}},
		{"with the operator, and origin and key repeated", ptlog.Config{Origin: r.origin, Operator: r.op.signer, OperatorKey: r.op.vkey}},
		{"read-only", ptlog.Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := r.reopen(tc.cfg)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if l.Origin() != r.origin || l.OperatorKey() != r.op.vkey {
				t.Errorf("reopened as %q by %q, want %q by %q", l.Origin(), l.OperatorKey(), r.origin, r.op.vkey)
			}
			if l.Size() != want.Size {
				t.Errorf("reopened with %d entries, want %d (no second genesis)", l.Size(), want.Size)
			}
			got, ok := l.Latest()
			if !ok || !bytes.Equal(got.Note, want.Note) || got.Root != want.Root || !got.Time.Equal(want.Time) {
				t.Errorf("reopened with checkpoint\n%s\nwant\n%s", got.Note, want.Note)
			}
			sortKeys := func(ks []ptlog.Key) []string {
				var s []string
				for _, k := range ks {
					s = append(s, fmt.Sprintf("%s %s %d %d", k.ID, k.VKey, k.Registered, k.Revoked))
				}
				slices.Sort(s)
				return s
			}
			if g, w := sortKeys(l.Keys()), sortKeys(wantKeys); !slices.Equal(g, w) {
				t.Errorf("reopened keys %v, want %v", g, w)
			}
			if got := exportLog(t, l); !bytes.Equal(got, wantExport) {
				t.Errorf("the reopened record exports differently")
			}
			l.Close()
		})
	}

	// Appends continue where they stopped, and the tree stays one tree.
	l, err := r.reopen(ptlog.Config{Operator: r.op.signer})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Append(context.Background(), []*entry.Signed{sign(t, noteEntry("after reopening"), a)})
	if err != nil {
		t.Fatalf("append after reopening: %v", err)
	}
	if res[0].Index != want.Size {
		t.Errorf("first entry after reopening got index %d, want %d", res[0].Index, want.Size)
	}
	p, err := l.ProveConsistency(context.Background(), want.Size, l.Size())
	if err != nil {
		t.Fatal(err)
	}
	if trust, err := p.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
		t.Errorf("consistency of the record before and after reopening: %v, %v", trust, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	r := newRecord(t, "talks.example/refuse")
	size := r.log.Size()
	r.close()
	impostor := newKey(t, r.origin) // same name, other key
	stranger := newKey(t, "someone-else")

	for _, tc := range []struct {
		name string
		cfg  ptlog.Config
		want string
	}{
		{"another operator key of the same name", ptlog.Config{Operator: impostor.signer}, "operator"},
		{"another operator key of another name", ptlog.Config{Operator: stranger.signer}, "operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.reopen(tc.cfg); err == nil || !bytesContains(err.Error(), tc.want) {
				t.Fatalf("reopen: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	l, err := r.reopen(ptlog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Size() != size {
		t.Errorf("a refused open changed the record: size %d, want %d", l.Size(), size)
	}

	op := newKey(t, "talks.example/new")
	for _, tc := range []struct {
		name string
		cfg  ptlog.Config
		want string
	}{
		{"no origin", ptlog.Config{Operator: op.signer, OperatorKey: op.vkey}, "no origin"},
		{"no operator key", ptlog.Config{Origin: "talks.example/new", Operator: op.signer}, "no origin and operator key"},
		{"read-only on an empty store", ptlog.Config{}, "holds no record"},
		{"key not named after the origin", ptlog.Config{Origin: "talks.example/other", Operator: op.signer, OperatorKey: op.vkey}, "must be named after the origin"},
		{"malformed operator key", ptlog.Config{Origin: "talks.example/new", Operator: op.signer, OperatorKey: "talks.example/new+00000000+AAAA"}, "operator key"},
		{"signer is not the operator key", ptlog.Config{Origin: "talks.example/new", Operator: impostor.signer, OperatorKey: op.vkey}, "operator"},
	} {
		t.Run("create/"+tc.name, func(t *testing.T) {
			tc.cfg.Types = testTypes()
			_, _, err := openLog(t, t.TempDir()+"/record.db", tc.cfg)
			if err == nil || !bytesContains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func bytesContains(s, sub string) bool { return bytes.Contains([]byte(s), []byte(sub)) }

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/readonly")
	a := newKey(t, "envoy")
	r.register(a)
	r.notes(a, "on the record", 4)
	// A reader opens the same file while the writer still has it open.
	ro, _, err := openLog(t, r.path, ptlog.Config{Types: testTypes()})
	if err != nil {
		t.Fatalf("open read-only: %v", err)
	}

	_, err = ro.Append(ctx, []*entry.Signed{sign(t, noteEntry("refused"), a)})
	if !errors.Is(err, ptlog.ErrReadOnly) {
		t.Errorf("Append on a read-only record: %v, want ErrReadOnly", err)
	}
	if ro.Size() != r.log.Size() {
		t.Errorf("read-only size %d, writer's %d", ro.Size(), r.log.Size())
	}
	for i := range r.log.Size() {
		got, err := ro.Entry(ctx, i)
		if err != nil {
			t.Fatalf("read-only Entry(%d): %v", i, err)
		}
		want, _ := r.log.Entry(ctx, i)
		if !bytes.Equal(got.Leaf(), want.Leaf()) {
			t.Errorf("entry %d differs between reader and writer", i)
		}
	}
	p, err := ro.ProveInclusion(ctx, 3, 0)
	if err != nil {
		t.Fatalf("read-only ProveInclusion: %v", err)
	}
	if trust, err := p.Check(r.op.vkey); trust != ptlog.Signed || err != nil {
		t.Errorf("read-only proof: %v, %v", trust, err)
	}
	if !bytes.Equal(exportLog(t, ro), r.export()) {
		t.Errorf("read-only export differs from the writer's")
	}
	if root, err := ro.RootAt(ctx, ro.Size()); err != nil || root != merkleRoot(r.leaves()) {
		t.Errorf("read-only RootAt: %s, %v", root, err)
	}
}

func TestAppendSingleAndBatch(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/append")
	a := newKey(t, "envoy")
	if idx := r.register(a); idx != 1 {
		t.Fatalf("first append got index %d, want 1", idx)
	}

	single := sign(t, noteEntry("a single entry"), a)
	res := r.appendOK(single)
	if res[0].Index != 2 || res[0].Duplicate || res[0].Hash != single.Hash() {
		t.Errorf("single append: %+v, want index 2, not duplicate, hash %x", res[0], single.Hash())
	}

	var batch []*entry.Signed
	for i := range 7 {
		if i%2 == 0 {
			batch = append(batch, sign(t, noteEntry(fmt.Sprintf("batch entry %d", i)), a))
		} else {
			batch = append(batch, sign(t, positionEntry("party "+fmt.Sprint(i), "accepts-in-principle"), a))
		}
	}
	res = r.appendOK(batch...)
	for i, got := range res {
		if got.Index != 3+int64(i) || got.Duplicate || got.Hash != batch[i].Hash() {
			t.Errorf("batch entry %d: %+v, want index %d", i, got, 3+i)
		}
		e, err := r.log.Entry(ctx, got.Index)
		if err != nil {
			t.Fatalf("Entry(%d): %v", got.Index, err)
		}
		if e.Index != got.Index || !bytes.Equal(e.Canonical, batch[i].Canonical) || !bytes.Equal(e.Sig, batch[i].Sig) {
			t.Errorf("Entry(%d) is not the entry appended there", got.Index)
		}
	}
	if got := r.log.Size(); got != 10 {
		t.Errorf("size %d, want 10", got)
	}
	if res, err := r.log.Append(ctx, nil); res != nil || err != nil {
		t.Errorf("Append(nil) = %v, %v; want nothing", res, err)
	}

	var seen []int64
	if err := r.log.Entries(ctx, 2, 6, func(e ptlog.Indexed) error { seen = append(seen, e.Index); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int64{2, 3, 4, 5}) {
		t.Errorf("Entries(2, 6) gave %v", seen)
	}
	stop := errors.New("stop")
	if err := r.log.Entries(ctx, 0, 10, func(ptlog.Indexed) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Entries does not pass on fn's error: %v", err)
	}
}

func TestAppendConcurrent(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/concurrent")
	authors := []testKey{newKey(t, "envoy"), newKey(t, "monitors")}
	for _, a := range authors {
		r.register(a)
	}
	start := r.log.Size()
	const workers, calls = 8, 8

	type call struct {
		entries []*entry.Signed
		res     []ptlog.Appended
	}
	results := make([][]call, workers)
	stop := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() { // a reader proving entries while the record grows
		defer close(readerErr)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c, _ := r.log.Latest()
			p, err := r.log.ProveInclusion(ctx, c.Size-1, c.Size)
			if err != nil {
				readerErr <- err
				return
			}
			if trust, err := p.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
				readerErr <- fmt.Errorf("proof at size %d: %v %v", c.Size, trust, err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := authors[w%len(authors)]
			for c := range calls {
				n := 1 + (w+c)%3
				var ss []*entry.Signed
				for i := range n {
					ss = append(ss, sign(t, noteEntry(fmt.Sprintf("worker %d call %d entry %d", w, c, i)), a))
				}
				res, err := r.log.Append(ctx, ss)
				if err != nil {
					t.Errorf("worker %d call %d: %v", w, c, err)
					return
				}
				results[w] = append(results[w], call{ss, res})
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readerErr; err != nil {
		t.Errorf("reader: %v", err)
	}
	if t.Failed() {
		return
	}

	byIndex := map[int64]*entry.Signed{}
	ncalls := 0
	for _, rs := range results {
		for _, c := range rs {
			ncalls++
			for i, a := range c.res {
				if a.Duplicate {
					t.Errorf("a new entry was reported duplicate: %+v", a)
				}
				if i > 0 && a.Index != c.res[i-1].Index+1 {
					t.Errorf("one call's entries got indexes %d and %d: not consecutive", c.res[i-1].Index, a.Index)
				}
				if _, dup := byIndex[a.Index]; dup {
					t.Errorf("index %d given twice", a.Index)
				}
				byIndex[a.Index] = c.entries[i]
			}
		}
	}
	size := r.log.Size()
	if int64(len(byIndex)) != size-start {
		t.Fatalf("%d entries appended, but the record grew by %d", len(byIndex), size-start)
	}
	for i := start; i < size; i++ {
		s, ok := byIndex[i]
		if !ok {
			t.Fatalf("no call got index %d", i)
		}
		e, err := r.log.Entry(ctx, i)
		if err != nil || !bytes.Equal(e.Canonical, s.Canonical) {
			t.Fatalf("Entry(%d) is not the entry that was told it is there (%v)", i, err)
		}
	}
	leaves := r.leaves()
	cps := r.checkpoints()
	if len(cps) > int(start)+ncalls {
		t.Errorf("%d checkpoints for %d commits at most", len(cps), int(start)+ncalls)
	}
	for _, c := range cps {
		if c.Root != merkleRoot(leaves[:c.Size]) {
			t.Errorf("checkpoint %d has root %s, want %s", c.Size, c.Root, merkleRoot(leaves[:c.Size]))
		}
	}
	sum, err := verifyBundle(r.export(), ptlog.VerifyOptions{Operator: r.op.vkey})
	if err != nil {
		t.Fatalf("the record does not verify: %v", err)
	}
	if sum.Entries != size || sum.Root != merkleRoot(leaves) {
		t.Errorf("verified %d entries with root %s, want %d and %s", sum.Entries, sum.Root, size, merkleRoot(leaves))
	}
	t.Logf("%d calls from %d goroutines: %d entries in %d commits", ncalls, workers, size-start, len(cps)-int(start))
}

func TestAppendIdempotent(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/idempotent")
	a := newKey(t, "envoy")
	r.register(a)
	s := sign(t, noteEntry("said once"), a)
	first := r.appendOK(s)[0]

	size, ncp := r.log.Size(), len(r.checkpoints())
	again := r.appendOK(s)[0]
	if !again.Duplicate || again.Index != first.Index || again.Hash != first.Hash {
		t.Errorf("the same entry again: %+v, want duplicate at %d", again, first.Index)
	}
	// The same entry parsed back from its wire form is the same entry.
	parsed, err := entry.Parse(s.Leaf(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.appendOK(parsed)[0]; !got.Duplicate || got.Index != first.Index {
		t.Errorf("the same entry from the wire: %+v", got)
	}
	if r.log.Size() != size || len(r.checkpoints()) != ncp {
		t.Errorf("duplicates changed the record: size %d→%d, checkpoints %d→%d", size, r.log.Size(), ncp, len(r.checkpoints()))
	}

	// Twice in one call: once appended, once a duplicate of it.
	s2 := sign(t, noteEntry("said twice in one breath"), a)
	res := r.appendOK(s2, s2)
	if res[0].Duplicate || res[0].Index != size || !res[1].Duplicate || res[1].Index != size {
		t.Errorf("twice in one call: %+v, want new at %d then duplicate at %d", res, size, size)
	}
	// Old and new mixed: the old is a duplicate, the new ones are appended.
	s3 := sign(t, noteEntry("new in a mixed call"), a)
	res = r.appendOK(s3, s, s2)
	want := []ptlog.Appended{{Index: size + 1, Hash: s3.Hash()}, {Index: first.Index, Hash: s.Hash(), Duplicate: true}, {Index: size, Hash: s2.Hash(), Duplicate: true}}
	if !slices.Equal(res, want) {
		t.Errorf("mixed call: %+v, want %+v", res, want)
	}
	if r.log.Size() != size+2 {
		t.Errorf("size %d, want %d", r.log.Size(), size+2)
	}
	// An entry already on the record is a duplicate even after its key is
	// revoked: resubmitting is not writing anew.
	r.revoke(a)
	if got := r.appendOK(s)[0]; !got.Duplicate || got.Index != first.Index {
		t.Errorf("resubmitted after its key was revoked: %+v", got)
	}
	if _, err := r.log.Entry(ctx, first.Index); err != nil {
		t.Error(err)
	}
}

// TestAppendRefuses submits batches with one bad entry among good ones: the
// whole call is refused, the refusal names the bad entry by its position,
// and nothing is appended.
func TestAppendRefuses(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/refusals", func(c *ptlog.Config) { c.MaxBody = 300 })
	a := newKey(t, "envoy")
	revoked := newKey(t, "leaked")
	unknown := newKey(t, "stranger")
	r.register(a)
	r.register(revoked)
	r.notes(revoked, "before the leak", 2)
	r.revoke(revoked)

	withSig := func(s *entry.Signed, sig []byte) *entry.Signed {
		c := *s
		c.Sig = sig
		return &c
	}
	flipped := func(s *entry.Signed) *entry.Signed {
		sig := bytes.Clone(s.Sig)
		sig[10] ^= 1
		return withSig(s, sig)
	}
	n := 0
	good := func() *entry.Signed { // a fresh good entry each time
		n++
		return sign(t, noteEntry(fmt.Sprintf("good entry %d", n)), a)
	}
	at := func(i int64) *int64 { return &i }

	for _, tc := range []struct {
		name string
		// bad returns the bad entries, placed after two good ones; size is
		// the record's size before the call.
		bad  func(size int64) []*entry.Signed
		pos  int // position of the refused entry in the call
		kind problem.Kind
		msg  string
	}{
		{"unknown author", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, noteEntry("who?"), unknown)} },
			2, problem.Unauthorized, "not registered"},
		{"key used before it is registered in the same call", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, noteEntry("too early"), unknown), sign(t, keyRegisterEntry(unknown, "late"), r.op)}
		}, 2, problem.Unauthorized, "not registered"},
		{"key.register by a non-operator", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, keyRegisterEntry(unknown, "self-appointed"), a)}
		}, 2, problem.Unauthorized, "only the operator"},
		{"key.revoke by a non-operator", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, keyRevokeEntry(r.op, "coup"), a)}
		}, 2, problem.Unauthorized, "only the operator"},
		{"revoked key", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, noteEntry("after the leak"), revoked)} },
			2, problem.Unauthorized, "revoked at entry"},
		{"key registered and revoked earlier in the call", func(int64) []*entry.Signed {
			k := newKey(t, "short-lived")
			return []*entry.Signed{sign(t, keyRegisterEntry(k, "brief"), r.op), sign(t, keyRevokeEntry(k, "gone"), r.op), sign(t, noteEntry("too late"), k)}
		}, 4, problem.Unauthorized, "revoked at entry"},
		{"key registered twice", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, keyRegisterEntry(a, "again"), r.op)} },
			2, problem.Conflict, "already registered"},
		{"key revoked twice", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, keyRevokeEntry(revoked, "again"), r.op)} },
			2, problem.Conflict, "already revoked"},
		{"revoking an unknown key", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, keyRevokeEntry(unknown, "who?"), r.op)} },
			2, problem.NotFound, "no such key"},
		{"revoking the operator", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, keyRevokeEntry(r.op, "resign"), r.op)} },
			2, problem.Invalid, "cannot be revoked"},
		{"registering a malformed key", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, bodyEntry(ptlog.KeyRegister, map[string]string{"key": "envoy+12345678+AAAA"}), r.op)}
		}, 2, problem.Invalid, "key"},
		{"unknown type", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, bodyEntry("minutes", map[string]string{"text": "x"}), a)}
		},
			2, problem.Invalid, `unknown entry type "minutes"`},
		{"body failing validation", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, noteEntry("   "), a)} },
			2, problem.Invalid, `"text" is required`},
		{"body with an unknown member", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, bodyEntry(typeNote, map[string]string{"text": "x", "mood": "tense"}), a)}
		}, 2, problem.Invalid, "note body"},
		{"position with no such stance", func(int64) []*entry.Signed { return []*entry.Signed{sign(t, positionEntry("north", "maybe"), a)} },
			2, problem.Invalid, `"stance"`},
		{"oversized body", func(int64) []*entry.Signed {
			return []*entry.Signed{sign(t, noteEntry(string(bytes.Repeat([]byte("x"), 300))), a)}
		}, 2, problem.TooLarge, "over the limit of 300"},
		{"bad signature", func(int64) []*entry.Signed { return []*entry.Signed{flipped(good())} },
			2, problem.Tampered, "does not verify"},
		{"signed by another key than its author", func(int64) []*entry.Signed {
			s := good()
			sig, err := unknown.signer.Sign(s.Canonical)
			if err != nil {
				t.Fatal(err)
			}
			return []*entry.Signed{withSig(s, sig)}
		}, 2, problem.Tampered, "does not verify"},
		{"corrects a future entry", func(size int64) []*entry.Signed {
			e := noteEntry("correcting the future")
			e.Corrects = at(size + 10)
			return []*entry.Signed{sign(t, e, a)}
		}, 2, problem.Invalid, "not before it"},
		{"corrects itself", func(size int64) []*entry.Signed {
			e := noteEntry("correcting myself")
			e.Corrects = at(size + 2)
			return []*entry.Signed{sign(t, e, a)}
		}, 2, problem.Invalid, "not before it"},
		{"note about a future entry", func(size int64) []*entry.Signed {
			return []*entry.Signed{sign(t, noteEntry("about what comes", size+3), a)}
		}, 2, problem.Invalid, "names entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, ncp := r.log.Size(), len(r.checkpoints())
			batch := append([]*entry.Signed{good(), good()}, tc.bad(size)...)
			batch = append(batch, good())
			_, err := r.log.Append(ctx, batch)
			wantProblem(t, err, tc.kind, fmt.Sprintf("entry %d", tc.pos), tc.msg)
			var ref *ptlog.Refusal
			if !errors.As(err, &ref) || ref.Pos != tc.pos {
				t.Errorf("refusal %#v, want a *tlog.Refusal at position %d", err, tc.pos)
			}
			if r.log.Size() != size || len(r.checkpoints()) != ncp {
				t.Fatalf("a refused call changed the record: size %d→%d, checkpoints %d→%d", size, r.log.Size(), ncp, len(r.checkpoints()))
			}
			// The good entries were not consumed: alone, they are appended
			// at the indexes they would have had.
			res := r.appendOK(batch[0], batch[1])
			if res[0].Index != size || res[0].Duplicate || res[1].Index != size+1 {
				t.Errorf("the good entries of a refused call: %+v", res)
			}
		})
	}
}

// TestKeyLifecycle follows one author key: registered by the operator,
// used, revoked, refused after, while its earlier entries still prove and
// verify; and the keyring survives reopening.
func TestKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/keys")
	k := newKey(t, "kremlin-press")

	_, err := r.log.Append(ctx, []*entry.Signed{sign(t, noteEntry("before registration"), k)})
	wantProblem(t, err, problem.Unauthorized, "entry 0", "not registered")

	reg := r.register(k)
	got, ok := r.log.Key(k.id)
	if !ok || got.VKey != k.vkey || got.Registered != reg || got.Revoked != -1 || got.Holder == "" {
		t.Fatalf("Key(%s) = %+v, %v after registering at %d", k.id, got, ok, reg)
	}
	if got.Verifier() == nil || !got.Verifier().Verify([]byte("x"), mustSignRaw(t, k, "x")) {
		t.Errorf("the registered key's verifier does not verify its signatures")
	}
	earlier := r.notes(k, "while the key is good", 3)

	rev := r.revoke(k)
	if got, _ := r.log.Key(k.id); got.Revoked != rev {
		t.Errorf("Key(%s).Revoked = %d, want %d", k.id, got.Revoked, rev)
	}
	_, err = r.log.Append(ctx, []*entry.Signed{sign(t, noteEntry("after revocation"), k)})
	wantProblem(t, err, problem.Unauthorized, "entry 0", fmt.Sprintf("revoked at entry %d", rev))

	for _, i := range earlier {
		p, err := r.log.ProveInclusion(ctx, i, 0)
		if err != nil {
			t.Fatal(err)
		}
		if trust, err := p.Check(r.op.vkey); err != nil || trust != ptlog.Signed {
			t.Errorf("entry %d by the revoked key no longer proves: %v %v", i, trust, err)
		}
	}
	sum, err := verifyBundle(r.export(), ptlog.VerifyOptions{})
	if err != nil {
		t.Fatalf("a record with a revoked key's earlier entries does not verify: %v", err)
	}
	if sum.Keys != 2 {
		t.Errorf("summary counts %d keys, want 2 (operator and the revoked one)", sum.Keys)
	}

	// Reopened, the record remembers both the registration and the revocation.
	r.close()
	l, err := r.reopen(ptlog.Config{Operator: r.op.signer})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := l.Key(k.id); !ok || got.Registered != reg || got.Revoked != rev {
		t.Errorf("after reopening, Key = %+v, %v", got, ok)
	}
	_, err = l.Append(ctx, []*entry.Signed{sign(t, noteEntry("after reopening"), k)})
	wantProblem(t, err, problem.Unauthorized, "revoked")
	k2 := newKey(t, "monitors")
	if _, err := l.Append(ctx, []*entry.Signed{sign(t, keyRegisterEntry(k2, "OSCE"), r.op), sign(t, noteEntry("registered after reopening"), k2)}); err != nil {
		t.Errorf("register and use a key after reopening: %v", err)
	}
}

func mustSignRaw(t *testing.T, k testKey, msg string) []byte {
	t.Helper()
	sig, err := k.signer.Sign([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestKeyRegisteredInSameCall(t *testing.T) {
	r := newRecord(t, "talks.example/same-call")
	k := newKey(t, "envoy")
	size := r.log.Size()
	res := r.appendOK(
		sign(t, keyRegisterEntry(k, "the envoy"), r.op),
		sign(t, noteEntry("first words"), k),
		sign(t, positionEntry("mediator", "undecided"), k),
	)
	for i, a := range res {
		if a.Index != size+int64(i) {
			t.Errorf("entry %d got index %d", i, a.Index)
		}
	}
	if got, ok := r.log.Key(k.id); !ok || got.Registered != size {
		t.Errorf("Key = %+v, %v; want registered at %d", got, ok, size)
	}
	// More than 32 entries are checked in parallel; a key registered in the
	// call still signs the later ones.
	k2 := newKey(t, "monitors")
	batch := []*entry.Signed{sign(t, keyRegisterEntry(k2, "OSCE"), r.op)}
	for i := range 40 {
		batch = append(batch, sign(t, noteEntry(fmt.Sprintf("report %d", i)), k2))
	}
	r.appendOK(batch...)
	if _, err := verifyBundle(r.export(), ptlog.VerifyOptions{Operator: r.op.vkey}); err != nil {
		t.Fatal(err)
	}
}

func TestAppendParallelCheckNamesFirstBadEntry(t *testing.T) {
	r := newRecord(t, "talks.example/parallel")
	a := newKey(t, "envoy")
	r.register(a)
	var batch []*entry.Signed
	for i := range 100 {
		batch = append(batch, sign(t, noteEntry(fmt.Sprintf("report %d", i)), a))
	}
	for _, bad := range []int{99, 57, 31, 0} {
		s := *batch[bad]
		s.Sig = bytes.Clone(s.Sig)
		s.Sig[0] ^= 0x80
		batch[bad] = &s
	}
	_, err := r.log.Append(context.Background(), batch)
	wantProblem(t, err, problem.Tampered, "entry 0:")
	if r.log.Size() != 2 {
		t.Errorf("size %d after a refused call", r.log.Size())
	}
}

// TestCheckpoints checks that each commit issues one checkpoint, that all
// are kept, and that each is signed by the operator over the right root.
func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	r := newRecord(t, "talks.example/checkpoints")
	a := newKey(t, "envoy")
	r.register(a)
	wantSizes := []int64{1, 2}
	for i, n := range []int{1, 3, 1, 7, 2, 16, 1, 5} {
		var ss []*entry.Signed
		for j := range n {
			ss = append(ss, sign(t, noteEntry(fmt.Sprintf("commit %d entry %d", i, j)), a))
		}
		r.appendOK(ss...)
		wantSizes = append(wantSizes, wantSizes[len(wantSizes)-1]+int64(n))
	}
	// A call of duplicates commits nothing and issues no checkpoint.
	r.appendOK(sign(t, noteEntry("commit 0 entry 0"), a))

	leaves := r.leaves()
	cps := r.checkpoints()
	var sizes []int64
	for i, c := range cps {
		sizes = append(sizes, c.Size)
		oc, err := ptlog.OpenCheckpoint(c.Note, r.op.verifier, r.origin)
		if err != nil {
			t.Fatalf("checkpoint %d does not open: %v", c.Size, err)
		}
		if oc.Size != c.Size || oc.Root != c.Root || !oc.Time.Equal(c.Time) || oc.Origin != r.origin {
			t.Errorf("checkpoint %d opens as %+v", c.Size, oc)
		}
		root, err := r.log.RootAt(ctx, c.Size)
		if err != nil {
			t.Fatal(err)
		}
		if c.Root != root || root != merkleRoot(leaves[:c.Size]) {
			t.Errorf("checkpoint %d: root %s, RootAt %s, independent %s", c.Size, c.Root, root, merkleRoot(leaves[:c.Size]))
		}
		if i > 0 && !c.Time.After(cps[i-1].Time) {
			t.Errorf("checkpoint %d is not later than the one before (%v, %v)", c.Size, c.Time, cps[i-1].Time)
		}
		at, err := r.log.CheckpointAt(ctx, c.Size)
		if err != nil || !bytes.Equal(at.Note, c.Note) {
			t.Errorf("CheckpointAt(%d): %v", c.Size, err)
		}
	}
	if !slices.Equal(sizes, wantSizes) {
		t.Errorf("checkpoint sizes %v, want one per commit: %v", sizes, wantSizes)
	}
	if c, _ := r.log.Latest(); c.Size != r.log.Size() || !bytes.Equal(c.Note, cps[len(cps)-1].Note) {
		t.Errorf("Latest is %d, want the last checkpoint %d", c.Size, r.log.Size())
	}
	_, err := r.log.CheckpointAt(ctx, 4)
	wantProblem(t, err, problem.NotFound, "size 4")
	var part []int64
	r.log.Checkpoints(ctx, 3, 13, func(c ptlog.Checkpoint) error { part = append(part, c.Size); return nil })
	if !slices.Equal(part, []int64{3, 6, 7}) {
		t.Errorf("Checkpoints(3, 13) gave %v, want [3 6 7]", part)
	}
	// A checkpoint does not open for another key or another origin.
	other := newKey(t, r.origin)
	if _, err := ptlog.OpenCheckpoint(cps[1].Note, other.verifier, r.origin); err == nil {
		t.Errorf("a checkpoint opened with another key")
	}
	if _, err := ptlog.OpenCheckpoint(cps[1].Note, r.op.verifier, "talks.example/elsewhere"); err == nil {
		t.Errorf("a checkpoint opened for another origin")
	}
}

// TestCheckpointTime checks the time line of checkpoints comes from
// Config.Now.
func TestCheckpointTime(t *testing.T) {
	at := time.Date(2025, 3, 18, 14, 0, 0, 123456789, time.FixedZone("MSK", 3*3600))
	r := newRecord(t, "talks.example/time", func(c *ptlog.Config) { c.Now = func() time.Time { return at } })
	c, _ := r.log.Latest()
	if !c.Time.Equal(at) || c.Time.Location() != time.UTC {
		t.Errorf("checkpoint time %v, want %v in UTC", c.Time, at)
	}
	if !bytes.Contains(c.Note, []byte("\ntime 2025-03-18T11:00:00.123456789Z\n")) {
		t.Errorf("checkpoint note has no RFC 3339 time line:\n%s", c.Note)
	}
	if r.log.Now() != at.UTC() {
		t.Errorf("Now() = %v", r.log.Now())
	}
}

// TestAppendAfterClose checks that Append on a closed log returns an error
// instead of waiting forever for a sequencer that has stopped.
func TestAppendAfterClose(t *testing.T) {
	r := newRecord(t, "talks.example/closed")
	a := newKey(t, "envoy")
	r.register(a)
	if err := r.log.Close(); err != nil {
		t.Fatal(err)
	}
	const calls = 16
	done := make(chan error, calls)
	for i := range calls {
		s := sign(t, noteEntry(fmt.Sprintf("after close %d", i)), a)
		go func() {
			_, err := r.log.Append(context.Background(), []*entry.Signed{s})
			done <- err
		}()
	}
	timeout := time.After(3 * time.Second)
	for i := range calls {
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("Append after Close succeeded")
			}
		case <-timeout:
			t.Fatalf("%d of %d Append calls on a closed log never returned: Append's select (log.go) can send the "+
				"request on l.reqs, which has room, after the sequencer has exited, and then waits on req.done forever",
				calls-i, calls)
		}
	}
}

func TestGrown(t *testing.T) {
	r := newRecord(t, "talks.example/grown")
	l := r.log
	ch := l.Grown()
	select {
	case <-ch:
		t.Fatal("Grown closed before the log grew")
	default:
	}
	r.register(newKey(t, "lavrov"))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Grown not closed after an append")
	}
	if next := l.Grown(); next == ch {
		t.Error("Grown returned the closed channel again")
	}
}
