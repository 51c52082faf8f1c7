package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/channel"
	"parley/internal/entry"
	"parley/internal/record"
	"parley/internal/server"
)

// A channelWorld is a server on a loopback port with a few accounts, each
// with an API token, a registered signing key and an age identity whose
// recipient is registered.
type channelWorld struct {
	t     *testing.T
	rec   *record.Record
	http  *httptest.Server
	users map[string]*channelUser
	notes int
}

type channelUser struct {
	name     string
	token    string
	signer   note.Signer
	identity *age.X25519Identity
}

func newChannelWorld(t *testing.T) *channelWorld {
	t.Helper()
	ctx := context.Background()
	rec, err := record.Init(ctx, t.TempDir(), "test.parley.example/channels")
	if err != nil {
		t.Fatalf("init record: %v", err)
	}
	t.Cleanup(func() { rec.Close() })
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	srv, err := server.New(rec, acc, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	w := &channelWorld{t: t, rec: rec, http: hs, users: map[string]*channelUser{}}
	for _, u := range []struct {
		name string
		role account.Role
	}{{"alice", account.Editor}, {"bob", account.Editor}, {"carol", account.Monitor}, {"dave", account.Reader}, {"root", account.Admin}} {
		if _, err := acc.Create(ctx, u.name, "correct horse battery staple", u.role, ""); err != nil {
			t.Fatal(err)
		}
		secret, _, err := acc.NewToken(ctx, u.name, "tests")
		if err != nil {
			t.Fatal(err)
		}
		cu := &channelUser{name: u.name, token: secret}
		skey, vkey, err := note.GenerateKey(rand.Reader, u.name)
		if err != nil {
			t.Fatal(err)
		}
		w.do(http.MethodPost, "/api/v1/account/keys", secret, server.KeyRegistration{Key: vkey}).want(http.StatusCreated)
		if cu.signer, err = note.NewSigner(skey); err != nil {
			t.Fatal(err)
		}
		if cu.identity, err = age.GenerateX25519Identity(); err != nil {
			t.Fatal(err)
		}
		w.do(http.MethodPut, "/api/v1/account/recipient", secret, server.RecipientJSON{Recipient: cu.identity.Recipient().String()}).
			want(http.StatusNoContent)
		w.users[u.name] = cu
	}
	return w
}

// A channelReply is a response read whole.
type channelReply struct {
	t      *testing.T
	what   string
	status int
	body   []byte
}

// do sends a request with token ("" for none); body is sent as is if it is
// a string, else as JSON.
func (w *channelWorld) do(method, path, token string, body any) channelReply {
	w.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, w.http.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := w.http.Client().Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return channelReply{t: w.t, what: method + " " + path, status: resp.StatusCode, body: b}
}

func (r channelReply) want(status int) channelReply {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("%s: status %d, want %d: %s", r.what, r.status, status, r.body)
	}
	return r
}

func (r channelReply) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("%s: decode %s: %v", r.what, r.body, err)
	}
}

// problem checks the reply is a problem detail of status and kind whose
// detail says want.
func (r channelReply) problem(status int, kind, want string) server.Problem {
	r.t.Helper()
	var p server.Problem
	if r.status != status {
		r.t.Errorf("%s: status %d, want %d: %s", r.what, r.status, status, r.body)
		return p
	}
	r.decode(&p)
	if p.Kind != kind || !strings.Contains(p.Detail, want) {
		r.t.Errorf("%s: problem %s %q, want %s saying %q", r.what, p.Kind, p.Detail, kind, want)
	}
	return p
}

func (w *channelWorld) create(by, name string, members ...string) server.ChannelJSON {
	w.t.Helper()
	var c server.ChannelJSON
	w.do(http.MethodPost, "/api/v1/channels", w.users[by].token, server.NewChannel{Name: name, Members: members}).
		want(http.StatusCreated).decode(&c)
	return c
}

func (w *channelWorld) channel(by, id string) server.ChannelJSON {
	w.t.Helper()
	var c server.ChannelJSON
	w.do(http.MethodGet, "/api/v1/channels/"+id, w.users[by].token, nil).want(http.StatusOK).decode(&c)
	return c
}

// note signs a new note as by.
func (w *channelWorld) note(by string) *entry.Signed {
	w.t.Helper()
	w.notes++
	body, _ := entry.Object(map[string]any{"text": fmt.Sprintf("confidential note %d", w.notes)})
	at := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	s, err := entry.Sign(entry.Entry{Type: "note", Body: body, Time: at, Recorded: at}, w.users[by].signer)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// seal signs a note as by and seals it for the channel's members as they
// are now.
func (w *channelWorld) seal(by, id string) (*entry.Signed, server.SealedPost) {
	w.t.Helper()
	c := w.channel(by, id)
	var rs []string
	for _, m := range c.Members {
		rs = append(rs, m.Recipient)
	}
	s := w.note(by)
	commitment, ct, err := channel.Seal(s, rs)
	if err != nil {
		w.t.Fatal(err)
	}
	return s, server.SealedPost{Epoch: c.Epoch, Commitment: commitment, Ciphertext: base64.StdEncoding.EncodeToString(ct)}
}

func (w *channelWorld) post(by, id string, p server.SealedPost) server.SealedPosted {
	w.t.Helper()
	var out server.SealedPosted
	w.do(http.MethodPost, "/api/v1/channels/"+id+"/entries", w.users[by].token, p).want(http.StatusCreated).decode(&out)
	return out
}

func (w *channelWorld) entries(by, id string) []server.SealedJSON {
	w.t.Helper()
	var out struct {
		Entries []server.SealedJSON `json:"entries"`
	}
	w.do(http.MethodGet, "/api/v1/channels/"+id+"/entries", w.users[by].token, nil).want(http.StatusOK).decode(&out)
	return out.Entries
}

// open decrypts x with the identity of who.
func (w *channelWorld) open(who string, x server.SealedJSON) (channel.Opened, error) {
	w.t.Helper()
	ct, err := base64.StdEncoding.DecodeString(x.Ciphertext)
	if err != nil {
		w.t.Fatal(err)
	}
	return channel.Open(ct, w.users[who].identity)
}

// publicEntry fetches the public entry at index and checks that it is a
// sealed entry holding only the commitment, signed by the operator.
func (w *channelWorld) publicEntry(index int64, commitment string) {
	w.t.Helper()
	var ej server.EntryJSON
	w.do(http.MethodGet, fmt.Sprintf("/api/v1/entries/%d", index), w.users["dave"].token, nil).want(http.StatusOK).decode(&ej)
	s, err := entry.FromParts(ej.Entry, ej.Sig, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	if s.Entry.Type != "sealed" {
		w.t.Errorf("entry %d is a %s entry, want sealed", index, s.Entry.Type)
	}
	if want := `{"commitment":"` + commitment + `"}`; string(s.Entry.Body) != want {
		w.t.Errorf("entry %d body = %s, want only %s", index, s.Entry.Body, want)
	}
	if len(s.Entry.Sources) > 0 || s.Entry.Corrects != nil {
		w.t.Errorf("entry %d carries more than its commitment: %s", index, s.Canonical)
	}
	op, err := entry.NewVerifier(w.rec.Log.OperatorKey())
	if err != nil {
		w.t.Fatal(err)
	}
	if err := s.Verify(op); err != nil {
		w.t.Errorf("entry %d is not signed by the operator: %v", index, err)
	}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		if strings.Contains(string(s.Canonical), name) {
			w.t.Errorf("entry %d names %s: %s", index, name, s.Canonical)
		}
	}
}

// checkInner checks the inner entry's signature against its author's key
// as registered on the record.
func (w *channelWorld) checkInner(s *entry.Signed) {
	w.t.Helper()
	k, ok := w.rec.Log.Key(s.Entry.Author)
	if !ok {
		w.t.Fatalf("the inner entry's author %s is not registered", s.Entry.Author)
	}
	if err := s.Verify(k.Verifier()); err != nil {
		w.t.Errorf("the inner entry's signature: %v", err)
	}
}

func TestChannelRoundTrip(t *testing.T) {
	w := newChannelWorld(t)
	c := w.create("alice", "security guarantees", "bob", "carol", "alice")
	if c.Epoch != 1 || len(c.Members) != 3 || c.Creator != "alice" || len(c.ID) != 16 {
		t.Fatalf("created %+v, want epoch 1, alice, bob and carol", c)
	}
	for _, m := range c.Members {
		if m.Recipient != w.users[m.Account].identity.Recipient().String() {
			t.Errorf("member %s has recipient %q, want the registered one", m.Account, m.Recipient)
		}
	}

	inner, p := w.seal("alice", c.ID)
	before := w.rec.Log.Size()
	got := w.post("alice", c.ID, p)
	if got.Index != before || got.Epoch != 1 || got.Commitment != p.Commitment {
		t.Errorf("posted %+v, want index %d, epoch 1, commitment %s", got, before, p.Commitment)
	}
	if w.rec.Log.Size() != before+1 {
		t.Errorf("the log grew by %d entries, want 1", w.rec.Log.Size()-before)
	}

	es := w.entries("bob", c.ID)
	if len(es) != 1 || es[0].Index != got.Index || es[0].Poster != "alice" || es[0].Epoch != 1 || es[0].Time.IsZero() {
		t.Fatalf("bob reads %+v, want alice's entry at %d", es, got.Index)
	}
	o, err := w.open("bob", es[0])
	if err != nil {
		t.Fatalf("bob cannot decrypt: %v", err)
	}
	if !bytes.Equal(o.Entry.Leaf(), inner.Leaf()) {
		t.Errorf("bob decrypts %s, want %s", o.Entry.Leaf(), inner.Leaf())
	}
	if o.Commitment != p.Commitment || es[0].Commitment != p.Commitment {
		t.Errorf("commitment recomputed %s, stored %s, want %s", o.Commitment, es[0].Commitment, p.Commitment)
	}
	w.publicEntry(got.Index, o.Commitment)
	w.checkInner(o.Entry)

	var one server.SealedJSON
	w.do(http.MethodGet, fmt.Sprintf("/api/v1/channels/%s/entries/%d", c.ID, got.Index), w.users["carol"].token, nil).
		want(http.StatusOK).decode(&one)
	if one != es[0] {
		t.Errorf("GET one entry = %+v, want %+v", one, es[0])
	}
	if _, err := w.open("carol", one); err != nil {
		t.Errorf("carol cannot decrypt: %v", err)
	}
	if _, err := w.open("dave", one); !errors.Is(err, channel.ErrNotForYou) {
		t.Errorf("dave, not a member, opens the entry: %v; want ErrNotForYou", err)
	}
	w.do(http.MethodGet, fmt.Sprintf("/api/v1/channels/%s/entries/%d", c.ID, got.Index-1), w.users["carol"].token, nil).
		problem(http.StatusNotFound, "not-found", "not posted to this channel")

	var list struct {
		Channels []server.ChannelJSON `json:"channels"`
	}
	w.do(http.MethodGet, "/api/v1/channels", w.users["carol"].token, nil).want(http.StatusOK).decode(&list)
	if len(list.Channels) != 1 || list.Channels[0].ID != c.ID {
		t.Errorf("carol's channels = %+v, want %s", list.Channels, c.ID)
	}
	w.do(http.MethodGet, "/api/v1/channels", w.users["dave"].token, nil).want(http.StatusOK).decode(&list)
	if len(list.Channels) != 0 {
		t.Errorf("dave's channels = %+v, want none", list.Channels)
	}

	// A member added later reads what is posted from then on, not before.
	var added server.ChannelJSON
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/members", w.users["bob"].token, server.NewMember{Account: "dave"}).
		want(http.StatusOK).decode(&added)
	if added.Epoch != 1 || len(added.Members) != 4 {
		t.Errorf("after adding dave: %+v, want 4 members at epoch 1", added)
	}
	_, p2 := w.seal("bob", c.ID)
	w.post("bob", c.ID, p2)
	es = w.entries("dave", c.ID)
	if len(es) != 2 {
		t.Fatalf("dave sees %d entries, want 2", len(es))
	}
	if _, err := w.open("dave", es[0]); !errors.Is(err, channel.ErrNotForYou) {
		t.Errorf("dave opens what was posted before he joined: %v", err)
	}
	if o, err := w.open("dave", es[1]); err != nil || o.Commitment != p2.Commitment {
		t.Errorf("dave cannot open what was posted after he joined: %v", err)
	}
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/members", w.users["bob"].token, server.NewMember{Account: "dave"}).
		problem(http.StatusConflict, "conflict", "a member already")
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/members", w.users["bob"].token, server.NewMember{Account: "zed"}).
		problem(http.StatusBadRequest, "invalid", `no account called "zed"`)

	// A stale client that missed dave's arrival encrypts to too few.
	inner3 := w.note("alice")
	var rs []string
	for _, u := range []string{"alice", "bob", "carol"} {
		rs = append(rs, w.users[u].identity.Recipient().String())
	}
	commitment, ct, err := channel.Seal(inner3, rs)
	if err != nil {
		t.Fatal(err)
	}
	before = w.rec.Log.Size()
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/entries", w.users["alice"].token,
		server.SealedPost{Epoch: 1, Commitment: commitment, Ciphertext: base64.StdEncoding.EncodeToString(ct)}).
		problem(http.StatusConflict, "conflict", "encrypted to 3 recipients, but the channel has 4 members")
	if w.rec.Log.Size() != before {
		t.Errorf("a refused post appended to the log")
	}

	if _, err := w.rec.Verify(context.Background(), nil); err != nil {
		t.Errorf("verify the public log: %v", err)
	}
}

func TestChannelHidden(t *testing.T) {
	w := newChannelWorld(t)
	c := w.create("alice", "hidden", "bob")
	_, p := w.seal("alice", c.ID)
	posted := w.post("alice", c.ID, p)
	w.publicEntry(posted.Index, p.Commitment)

	other := "0123456789abcdef"
	if other == c.ID {
		other = "fedcba9876543210"
	}
	paths := func(id string) []struct{ method, path string } {
		return []struct{ method, path string }{
			{http.MethodGet, "/api/v1/channels/" + id},
			{http.MethodPost, "/api/v1/channels/" + id + "/members"},
			{http.MethodDelete, "/api/v1/channels/" + id + "/members/alice"},
			{http.MethodGet, "/api/v1/channels/" + id + "/entries"},
			{http.MethodPost, "/api/v1/channels/" + id + "/entries"},
			{http.MethodGet, fmt.Sprintf("/api/v1/channels/%s/entries/%d", id, posted.Index)},
		}
	}
	bodyFor := func(method, path string) any {
		switch {
		case method != http.MethodPost:
			return nil
		case strings.HasSuffix(path, "/members"):
			return server.NewMember{Account: "dave"}
		}
		return p
	}
	before := w.rec.Log.Size()
	for _, tc := range []struct{ who, id string }{
		{"dave", c.ID},     // a non-member
		{"root", c.ID},     // an admin, not a member
		{"carol", c.ID},    // a monitor, not a member
		{"alice", other},   // a member of another channel, a wrong id
		{"alice", "nope"},  // not an id at all
		{"dave", "ABCDEF"}, // nor this
	} {
		for _, rq := range paths(tc.id) {
			r := w.do(rq.method, rq.path, w.users[tc.who].token, bodyFor(rq.method, rq.path))
			r.what = tc.who + ": " + r.what
			r.problem(http.StatusNotFound, "not-found", "no such channel")
		}
	}
	// Anonymous callers are told to sign in, for channels that exist and
	// channels that do not alike: the answer does not depend on the id.
	for _, id := range []string{c.ID, other} {
		for _, rq := range paths(id) {
			r := w.do(rq.method, rq.path, "", bodyFor(rq.method, rq.path))
			r.problem(http.StatusUnauthorized, "unauthenticated", "sign in")
		}
	}
	if w.rec.Log.Size() != before {
		t.Errorf("refused requests appended %d entries", w.rec.Log.Size()-before)
	}
	if c := w.channel("alice", c.ID); len(c.Members) != 2 || c.Epoch != 1 {
		t.Errorf("refused requests changed the channel: %+v", c)
	}
	if es := w.entries("alice", c.ID); len(es) != 1 {
		t.Errorf("refused requests changed the entries: %d", len(es))
	}
}

func TestChannelRemoval(t *testing.T) {
	w := newChannelWorld(t)
	c := w.create("alice", "rotation", "bob", "carol")
	_, early := w.seal("alice", c.ID)
	w.post("alice", c.ID, early)
	stale := w.channel("alice", c.ID)

	var after server.ChannelJSON
	w.do(http.MethodDelete, "/api/v1/channels/"+c.ID+"/members/carol", w.users["bob"].token, nil).
		want(http.StatusOK).decode(&after)
	if after.Epoch != 2 || len(after.Members) != 2 {
		t.Fatalf("after removing carol: %+v, want 2 members at epoch 2", after)
	}

	// A post sealed for epoch 1 is refused, and nothing is appended.
	inner := w.note("alice")
	var rs []string
	for _, m := range stale.Members {
		rs = append(rs, m.Recipient)
	}
	commitment, ct, err := channel.Seal(inner, rs)
	if err != nil {
		t.Fatal(err)
	}
	before := w.rec.Log.Size()
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/entries", w.users["alice"].token,
		server.SealedPost{Epoch: 1, Commitment: commitment, Ciphertext: base64.StdEncoding.EncodeToString(ct)}).
		problem(http.StatusConflict, "conflict", "fetch the channel again")
	if w.rec.Log.Size() != before {
		t.Errorf("a stale post appended to the log")
	}
	// So is the same stale ciphertext claiming the new epoch: it has a
	// recipient too many.
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/entries", w.users["alice"].token,
		server.SealedPost{Epoch: 2, Commitment: commitment, Ciphertext: base64.StdEncoding.EncodeToString(ct)}).
		problem(http.StatusConflict, "conflict", "encrypted to 3 recipients, but the channel has 2 members")

	_, late := w.seal("alice", c.ID)
	if late.Epoch != 2 {
		t.Fatalf("sealed for epoch %d, want 2", late.Epoch)
	}
	w.post("alice", c.ID, late)

	// Carol no longer sees the channel; of the ciphertexts (as bob fetches
	// them) her key opens the one from before her removal, not the one after.
	w.do(http.MethodGet, "/api/v1/channels/"+c.ID+"/entries", w.users["carol"].token, nil).
		problem(http.StatusNotFound, "not-found", "no such channel")
	es := w.entries("bob", c.ID)
	if len(es) != 2 || es[0].Epoch != 1 || es[1].Epoch != 2 {
		t.Fatalf("entries %+v, want one at epoch 1 and one at 2", es)
	}
	if o, err := w.open("carol", es[0]); err != nil || o.Commitment != early.Commitment {
		t.Errorf("carol cannot open what was posted while she was a member: %v", err)
	}
	if _, err := w.open("carol", es[1]); !errors.Is(err, channel.ErrNotForYou) {
		t.Errorf("carol opens what was posted after her removal: %v; want ErrNotForYou", err)
	}
	for _, who := range []string{"alice", "bob"} {
		if o, err := w.open(who, es[1]); err != nil || o.Commitment != late.Commitment {
			t.Errorf("%s cannot open the entry of epoch 2: %v", who, err)
		}
	}

	w.do(http.MethodDelete, "/api/v1/channels/"+c.ID+"/members/carol", w.users["bob"].token, nil).
		problem(http.StatusNotFound, "not-found", "not a member of this channel")
	w.do(http.MethodDelete, "/api/v1/channels/"+c.ID+"/members/alice", w.users["alice"].token, nil).want(http.StatusOK)
	w.do(http.MethodDelete, "/api/v1/channels/"+c.ID+"/members/bob", w.users["bob"].token, nil).
		problem(http.StatusConflict, "conflict", "last member")
	if got := w.channel("bob", c.ID); got.Epoch != 3 || len(got.Members) != 1 {
		t.Errorf("channel %+v, want bob alone at epoch 3", got)
	}

	if _, err := w.rec.Verify(context.Background(), nil); err != nil {
		t.Errorf("verify the public log: %v", err)
	}
	var bundle bytes.Buffer
	if err := w.rec.Log.Export(context.Background(), &bundle); err != nil {
		t.Fatal(err)
	}
	if _, err := record.VerifyBundle(context.Background(), &bundle, w.rec.Log.OperatorKey(), nil); err != nil {
		t.Errorf("verify the bundle: %v", err)
	}
}

func TestChannelBadInput(t *testing.T) {
	w := newChannelWorld(t)
	c := w.create("alice", "bad input", "bob")
	_, good := w.seal("alice", c.ID)
	path := "/api/v1/channels/" + c.ID + "/entries"
	with := func(change func(p *server.SealedPost)) server.SealedPost {
		p := good
		change(&p)
		return p
	}
	notAge := base64.StdEncoding.EncodeToString([]byte("just some bytes, not an age file"))
	before := w.rec.Log.Size()
	for _, tc := range []struct {
		name   string
		body   any
		status int
		kind   string
		want   string
	}{
		{"MalformedJSON", `{"epoch": 1, "commitment": `, http.StatusBadRequest, "invalid", "body"},
		{"NotAnObject", `[1, 2]`, http.StatusBadRequest, "invalid", "body"},
		{"UnknownMember", `{"epoch": 1, "commitment": "` + good.Commitment + `", "ciphertext": "` + good.Ciphertext + `", "channel": "x"}`,
			http.StatusBadRequest, "invalid", "body"},
		{"Empty", ``, http.StatusBadRequest, "invalid", "no body"},
		{"ShortCommitment", with(func(p *server.SealedPost) { p.Commitment = "abc123" }), http.StatusBadRequest, "invalid", "commitment"},
		{"UpperCaseCommitment", with(func(p *server.SealedPost) { p.Commitment = strings.ToUpper(p.Commitment) }), http.StatusBadRequest, "invalid", "64 lower-case hex"},
		{"NoCommitment", with(func(p *server.SealedPost) { p.Commitment = "" }), http.StatusBadRequest, "invalid", "commitment"},
		{"NotBase64", with(func(p *server.SealedPost) { p.Ciphertext = "%%% not base64 %%%" }), http.StatusBadRequest, "invalid", "not standard base64"},
		{"URLBase64", with(func(p *server.SealedPost) {
			p.Ciphertext = strings.NewReplacer("+", "-", "/", "_").Replace(p.Ciphertext) + "_-"
		}), http.StatusBadRequest, "invalid", "ciphertext"},
		{"NoCiphertext", with(func(p *server.SealedPost) { p.Ciphertext = "" }), http.StatusBadRequest, "invalid", "not a binary age file"},
		{"NotAgeFile", with(func(p *server.SealedPost) { p.Ciphertext = notAge }), http.StatusBadRequest, "invalid", "not a binary age file"},
		{"FutureEpoch", with(func(p *server.SealedPost) { p.Epoch = 2 }), http.StatusConflict, "conflict", "is at epoch 1, not 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.do(http.MethodPost, path, w.users["alice"].token, tc.body).problem(tc.status, tc.kind, tc.want)
		})
	}
	w.t = t
	r := w.do(http.MethodPost, path, w.users["alice"].token, nil)
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("a post without a body or Content-Type: status %d, want 415", r.status)
	}

	// A member without a recipient: nothing can be posted until they have one.
	acc := account.New(w.rec.Store(), account.Options{Argon: account.FastArgon})
	if _, err := acc.Create(context.Background(), "erin", "correct horse battery staple", account.Editor, ""); err != nil {
		t.Fatal(err)
	}
	w.do(http.MethodPost, "/api/v1/channels/"+c.ID+"/members", w.users["bob"].token, server.NewMember{Account: "erin"}).want(http.StatusOK)
	if ch := w.channel("alice", c.ID); len(ch.Members) != 3 || ch.Members[2].Recipient != "" {
		t.Fatalf("channel %+v, want erin without a recipient", ch)
	}
	w.do(http.MethodPost, path, w.users["alice"].token, good).problem(http.StatusConflict, "conflict", "erin has registered no age recipient")

	if got := w.rec.Log.Size(); got != before {
		t.Errorf("refused posts appended %d entries", got-before)
	}
	if es := w.entries("alice", c.ID); len(es) != 0 {
		t.Errorf("refused posts stored %d ciphertexts", len(es))
	}

	// Creating channels.
	for _, tc := range []struct {
		name   string
		by     string
		body   any
		status int
		kind   string
		want   string
	}{
		{"NoName", "alice", server.NewChannel{Members: []string{"bob"}}, http.StatusBadRequest, "invalid", "needs a name"},
		{"ControlInName", "alice", server.NewChannel{Name: "a\x00b"}, http.StatusBadRequest, "invalid", "control character"},
		{"LongName", "alice", server.NewChannel{Name: strings.Repeat("x", 101)}, http.StatusBadRequest, "invalid", "at most 100"},
		{"NoSuchMember", "alice", server.NewChannel{Name: "x", Members: []string{"bob", "zed"}}, http.StatusBadRequest, "invalid", `members/1: there is no account called "zed"`},
		{"Reader", "dave", server.NewChannel{Name: "x"}, http.StatusForbidden, "forbidden", "reader"},
		{"Malformed", "alice", `{"name":`, http.StatusBadRequest, "invalid", "body"},
	} {
		t.Run("Create"+tc.name, func(t *testing.T) {
			w.t = t
			w.do(http.MethodPost, "/api/v1/channels", w.users[tc.by].token, tc.body).problem(tc.status, tc.kind, tc.want)
		})
	}
	w.t = t
	var list struct {
		Channels []server.ChannelJSON `json:"channels"`
	}
	w.do(http.MethodGet, "/api/v1/channels", w.users["alice"].token, nil).want(http.StatusOK).decode(&list)
	if len(list.Channels) != 1 {
		t.Errorf("refused creations made channels: %+v", list.Channels)
	}
	w.do(http.MethodGet, fmt.Sprintf("/api/v1/channels/%s/entries/x1", c.ID), w.users["alice"].token, nil).
		problem(http.StatusBadRequest, "invalid", "not an entry index")
}

// TestSealedIsTheOperators checks that nobody, an admin included, can
// submit a sealed entry of their own through the API.
func TestSealedIsTheOperators(t *testing.T) {
	w := newChannelWorld(t)
	body, _ := entry.Object(map[string]any{"commitment": strings.Repeat("ab", 32)})
	now := time.Now().UTC()
	before := w.rec.Log.Size()
	for _, who := range []string{"alice", "root"} {
		s, err := entry.Sign(entry.Entry{Type: "sealed", Body: body, Time: now, Recorded: now}, w.users[who].signer)
		if err != nil {
			t.Fatal(err)
		}
		w.do(http.MethodPost, "/api/v1/entries", w.users[who].token, string(s.Leaf())).
			problem(http.StatusForbidden, "forbidden", "sealed entries are the operator's")
		w.do(http.MethodPost, "/api/v1/batches", w.users[who].token, `{"entries":[`+string(s.Leaf())+`]}`).
			problem(http.StatusForbidden, "forbidden", "sealed entries are the operator's")
	}
	if w.rec.Log.Size() != before {
		t.Errorf("a sealed entry signed by an author was appended")
	}
}
