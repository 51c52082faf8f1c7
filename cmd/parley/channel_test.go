package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/account"
	"parley/internal/channel"
	"parley/internal/record"
	"parley/internal/server"
)

// A channelPeer is one person at their own machine: a data directory with
// their keys only, and an API token for the server.
type channelPeer struct {
	t     *testing.T
	name  string
	url   string
	token string
	home  string
}

// newChannelPeers starts a server over a fresh record and makes an editor
// account for each name, each with a machine of its own.
func newChannelPeers(t *testing.T, names ...string) (*record.Record, map[string]*channelPeer) {
	t.Helper()
	ctx := context.Background()
	rec, err := record.Init(ctx, filepath.Join(t.TempDir(), "server"), "test.example/channels")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	s, err := server.New(rec, acc, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	peers := map[string]*channelPeer{}
	for _, n := range names {
		if _, err := acc.Create(ctx, n, "a long enough password", account.Editor, ""); err != nil {
			t.Fatal(err)
		}
		token, _, err := acc.NewToken(ctx, n, "cli test")
		if err != nil {
			t.Fatal(err)
		}
		peers[n] = &channelPeer{t: t, name: n, url: ts.URL, token: token, home: filepath.Join(t.TempDir(), n)}
	}
	return rec, peers
}

func (p *channelPeer) run(args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	getenv := func(k string) string {
		if k == "PARLEY_DIR" {
			return p.home
		}
		return ""
	}
	err := run(context.Background(), append([]string{"parley", "--server", p.url, "--token", p.token}, args...), getenv,
		strings.NewReader(""), &out, &errw)
	return out.String(), errw.String(), err
}

func (p *channelPeer) ok(args ...string) string {
	p.t.Helper()
	out, stderr, err := p.run(args...)
	if err != nil {
		p.t.Fatalf("%s: parley %s: %v\nstderr: %s", p.name, strings.Join(args, " "), err, stderr)
	}
	return out
}

// fails runs a command that must fail with an error saying want.
func (p *channelPeer) fails(want string, args ...string) {
	p.t.Helper()
	out, _, err := p.run(args...)
	if err == nil {
		p.t.Fatalf("%s: parley %s succeeded, want an error saying %q:\n%s", p.name, strings.Join(args, " "), want, out)
	}
	if !strings.Contains(oneLine(err), want) {
		p.t.Errorf("%s: parley %s: error %q does not say %q", p.name, strings.Join(args, " "), oneLine(err), want)
	}
}

var createdChannel = regexp.MustCompile(`created channel ([0-9a-f]{16}) `)

func TestChannelCLI(t *testing.T) {
	rec, peers := newChannelPeers(t, "alice", "bob", "carol")
	alice, bob, carol := peers["alice"], peers["bob"], peers["carol"]

	alice.ok("key", "new", "alice-key")
	bob.ok("key", "new", "bob-key")
	for _, p := range []*channelPeer{alice, bob, carol} {
		out := p.ok("channel", "key", "--as", p.name)
		if !strings.Contains(out, "registered recipient age1") {
			t.Fatalf("channel key: %q", out)
		}
		fi, err := os.Stat(filepath.Join(p.home, "keys", p.name+".age"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("identity file: %v, %v; want mode 0600", fi, err)
		}
	}
	alice.fails("already here", "channel", "key", "--as", "alice")
	alice.fails("the token is alice's, not bob's", "channel", "key", "--as", "bob")
	if _, err := os.Stat(filepath.Join(alice.home, "keys", "bob.age")); err == nil {
		t.Error("a refused channel key left an identity behind")
	}

	out := alice.ok("channel", "create", "ceasefire terms", "--members", "bob, carol")
	m := createdChannel.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("channel create: %q", out)
	}
	id := m[1]
	if out := bob.ok("channel", "list"); !strings.Contains(out, id) || !strings.Contains(out, "ceasefire terms") {
		t.Errorf("channel list: %q", out)
	}
	if out := carol.ok("channel", "show", id); !strings.Contains(out, "epoch 1") || strings.Count(out, "age1") != 3 {
		t.Errorf("channel show: %q", out)
	}

	before := rec.Log.Size()
	out = alice.ok("channel", "post", id, "note", "--as", "alice-key", "--source", "minutes of the call",
		"--body", `{"text":"the secret draft of article 4"}`)
	if !strings.Contains(out, fmt.Sprintf("public entry %d holds its commitment", before)) {
		t.Fatalf("channel post: %q", out)
	}
	if rec.Log.Size() != before+1 {
		t.Fatalf("a post appended %d entries, want 1", rec.Log.Size()-before)
	}
	out = bob.ok("channel", "read", id, "--identity", "bob")
	for _, want := range []string{"note by alice-key+", "(account:alice)", "the secret draft of article 4", "posted by alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("channel read does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAILED") {
		t.Errorf("channel read failed a check:\n%s", out)
	}

	// The public log holds only the commitment.
	var bundle bytes.Buffer
	if err := rec.Log.Export(context.Background(), &bundle); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"secret draft", "ceasefire terms", "minutes of the call"} {
		if strings.Contains(bundle.String(), secret) {
			t.Errorf("the public log holds %q", secret)
		}
	}

	// A body the vocabulary refuses is not posted.
	before = rec.Log.Size()
	alice.fails("\"text\" is required", "channel", "post", id, "note", "--as", "alice-key", "--body", `{"text":" "}`)
	alice.fails("sealed entries are the operator's", "channel", "post", id, "sealed", "--as", "alice-key", "--body", `{"commitment":"`+strings.Repeat("a", 64)+`"}`)
	alice.fails("nothing posted", "channel", "post", id, "nosuchtype", "--as", "alice-key", "--body", `{}`)
	alice.fails("no signing key", "channel", "post", id, "note", "--as", "bob-key", "--body", `{"text":"x"}`)
	if rec.Log.Size() != before {
		t.Errorf("refused posts appended to the log")
	}

	// Carol is removed: the key rotates; what follows she cannot read.
	if out := bob.ok("channel", "remove", id, "carol"); !strings.Contains(out, "epoch 2") {
		t.Errorf("channel remove: %q", out)
	}
	carol.fails("no such channel", "channel", "read", id, "--identity", "carol")
	bob.ok("channel", "post", id, "note", "--as", "bob-key", "--body", `{"text":"after carol left"}`)
	if out := alice.ok("channel", "read", id, "--identity", "alice"); !strings.Contains(out, "after carol left") ||
		!strings.Contains(out, "the secret draft") {
		t.Errorf("alice reads:\n%s", out)
	}
	// Back in, she reads what was posted before her removal, not during it.
	bob.ok("channel", "add", id, "carol")
	out = carol.ok("channel", "read", id, "--identity", "carol")
	if !strings.Contains(out, "the secret draft") || strings.Contains(out, "after carol left") ||
		!strings.Contains(out, "not readable with carol's key (posted after you were removed, or before you joined)") {
		t.Errorf("carol reads:\n%s", out)
	}
	carol.fails("no age identity for dave", "channel", "read", id, "--identity", "dave")

	// JSON, for programs.
	var entries []readEntry
	if err := json.Unmarshal([]byte(alice.ok("channel", "read", id, "--identity", "alice", "--json")), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || !entries[0].Readable || entries[0].Type != "note" || entries[1].Poster != "bob" || len(entries[1].Problems) != 0 {
		t.Errorf("read --json: %+v", entries)
	}

	// A member who posts a commitment that is not the entry's is caught by
	// the readers.
	s, err := record.KeySigners(bob.home, "bob-key").Sign(record.Unsigned{Type: "note", Body: jsontext.Value(`{"text":"lying"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var ch struct {
		Epoch   int64 `json:"epoch"`
		Members []struct {
			Recipient string `json:"recipient"`
		} `json:"members"`
	}
	getJSON(t, bob, "/api/v1/channels/"+id, &ch)
	var rs []string
	for _, m := range ch.Members {
		rs = append(rs, m.Recipient)
	}
	_, ct, err := channel.Seal(s, rs)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"epoch": ch.Epoch, "commitment": strings.Repeat("0", 64), "ciphertext": base64.StdEncoding.EncodeToString(ct)})
	req, _ := http.NewRequest(http.MethodPost, bob.url+"/api/v1/channels/"+id+"/entries", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bob.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("posting a false commitment: %s", resp.Status)
	}
	out, _, err = alice.run("channel", "read", id, "--identity", "alice")
	if err == nil || !strings.Contains(oneLine(err), "1 of 3 entries failed their checks") ||
		!strings.Contains(out, "FAILED: the plaintext's commitment") {
		t.Errorf("a false commitment: %v\n%s", err, out)
	}

	if _, err := rec.Verify(context.Background(), nil); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// getJSON GETs path on the peer's server and decodes the answer.
func getJSON(t *testing.T, p *channelPeer, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
