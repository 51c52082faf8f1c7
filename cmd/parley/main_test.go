package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cli runs parley commands against one data directory.
type cli struct {
	t   *testing.T
	dir string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{t: t, dir: filepath.Join(t.TempDir(), "rec")}
	c.ok("init", "--origin", "test.example/talks")
	return c
}

// run runs parley with args and returns stdout, stderr and the error.
func (c *cli) run(stdin string, args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	getenv := func(k string) string {
		if k == "PARLEY_DIR" {
			return c.dir
		}
		return ""
	}
	err := run(context.Background(), append([]string{"parley"}, args...), getenv, strings.NewReader(stdin), &out, &errw)
	return out.String(), errw.String(), err
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, stderr, err := c.run("", args...)
	if err != nil {
		c.t.Fatalf("parley %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// fails runs a command that must fail with the given exit code and an error
// containing want, and must not change the record's size.
func (c *cli) fails(code int, want string, args ...string) string {
	c.t.Helper()
	before := c.size()
	_, _, err := c.run("", args...)
	if err == nil {
		c.t.Fatalf("parley %s: succeeded, want an error containing %q", strings.Join(args, " "), want)
	}
	if got := exitCode(err); got != code {
		c.t.Errorf("parley %s: exit %d, want %d (%v)", strings.Join(args, " "), got, code, err)
	}
	if msg := oneLine(err); !strings.Contains(msg, want) {
		c.t.Errorf("parley %s: error %q does not contain %q", strings.Join(args, " "), msg, want)
	}
	if after := c.size(); after != before {
		c.t.Errorf("parley %s: the record grew from %d to %d entries on a failed command", strings.Join(args, " "), before, after)
	}
	return oneLine(err)
}

// size is the record's tree size, from its checkpoint.
func (c *cli) size() int {
	c.t.Helper()
	out := c.ok("checkpoint")
	lines := strings.Split(out, "\n")
	n, err := strconv.Atoi(lines[1])
	if err != nil {
		c.t.Fatalf("checkpoint: %q", out)
	}
	return n
}

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

var appendedRE = regexp.MustCompile(`appended entry (\d+)`)

func appendedIndex(t *testing.T, out string) int {
	t.Helper()
	m := appendedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no index in %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestRecordLifecycle(t *testing.T) {
	c := newCLI(t)
	if got := c.size(); got != 1 {
		t.Fatalf("a new record has %d entries, want 1 (the operator's key)", got)
	}
	out := c.ok("key", "new", "lavrov", "--holder", "Sergei Lavrov")
	if !strings.Contains(out, "registered key lavrov+") || !strings.Contains(out, "as entry 1") {
		t.Fatalf("key new: %q", out)
	}
	st, err := os.Stat(filepath.Join(c.dir, "keys", "lavrov.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("signing key mode %v, want 0600", st.Mode().Perm())
	}
	if st, err := os.Stat(filepath.Join(c.dir, "operator.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("operator key: %v %v, want mode 0600", st, err)
	}

	out = c.ok("add", "note", "--as", "lavrov", "--body", `{"text":"Russia supports the idea of a ceasefire"}`,
		"--time", "2025-03-13", "--source", "https://apnews.com/article/x", "--quote", "we agree with the proposals")
	n := appendedIndex(t, out)
	if n != 2 {
		t.Fatalf("note appended at %d, want 2", n)
	}
	show := c.ok("show", "2")
	for _, want := range []string{"type      note", "time      2025-03-13T00:00:00Z", "lavrov+", "Sergei Lavrov",
		"https://apnews.com/article/x", "“we agree with the proposals”", `"text": "Russia supports the idea of a ceasefire"`} {
		if !strings.Contains(show, want) {
			t.Errorf("show 2 lacks %q:\n%s", want, show)
		}
	}
	var shown indexedJSON
	if err := json.Unmarshal([]byte(c.ok("show", "2", "--json")), &shown); err != nil || shown.Index != 2 || len(shown.Hash) != 64 {
		t.Fatalf("show --json: %+v %v", shown, err)
	}

	logOut := c.ok("log")
	if !strings.Contains(logOut, "Russia supports the idea of a ceasefire") || strings.Count(logOut, "\n") != 4 {
		t.Errorf("log:\n%s", logOut)
	}
	jl := strings.Split(strings.TrimSpace(c.ok("log", "--json", "--from", "1")), "\n")
	if len(jl) != 2 {
		t.Fatalf("log --json --from 1: %d lines", len(jl))
	}

	// Re-submitting the same signed entry appends nothing.
	again := c.write("again.jsonl", jl[1]+"\n")
	if out := c.ok("add", "--batch", again); !strings.Contains(out, "already on the record as entry 2") {
		t.Errorf("resubmit: %q", out)
	}
	if got := c.size(); got != 3 {
		t.Errorf("size after a duplicate %d, want 3", got)
	}

	// Proofs, checked with the local record's key and with a pinned one.
	inc := c.write("inc.json", c.ok("proof", "inclusion", "2"))
	if out := c.ok("proof", "check", inc); !strings.Contains(out, "proof OK: entry 2 is in the tree of size 3") {
		t.Errorf("proof check: %q", out)
	}
	c.ok("key", "new", "rubio")
	cons := c.write("cons.json", c.ok("proof", "consistency", "2", "4"))
	if out := c.ok("proof", "check", cons); !strings.Contains(out, "tree of size 2") || !strings.Contains(out, "prefix of the tree of size 4") {
		t.Errorf("proof check consistency: %q", out)
	}
	old := c.write("inc-old.json", c.ok("proof", "inclusion", "1", "--size", "2"))
	if out := c.ok("proof", "check", old); !strings.Contains(out, "entry 1 is in the tree of size 2") {
		t.Errorf("proof check at size 2: %q", out)
	}
	other := newCLI(t)
	c.fails(1, "not the expected", "proof", "check", inc, "--key", keyOf(t, other))
	if out := c.ok("proof", "check", inc, "--key", keyOf(t, c)); !strings.Contains(out, "signed by the pinned operator key") {
		t.Errorf("proof check --key: %q", out)
	}

	// Revocation: refused from then on, earlier entries still verify.
	c.ok("key", "revoke", "lavrov", "--reason", "test")
	c.fails(1, "revoked at entry", "add", "note", "--as", "lavrov", "--body", `{"text":"after"}`)
	if out := c.ok("verify"); !strings.Contains(out, "verified") || !strings.Contains(out, "5 entries") {
		t.Errorf("verify: %q", out)
	}
	list := c.ok("key", "list")
	if !strings.Contains(list, "revoked at entry 4") {
		t.Errorf("key list:\n%s", list)
	}

	// Export, verify the bundle, import it elsewhere: same root, read-only.
	bundle := filepath.Join(t.TempDir(), "record.jsonl")
	c.ok("export", bundle)
	vb := c.ok("verify", bundle)
	root := regexp.MustCompile(`root (\S+),`).FindStringSubmatch(vb)
	if root == nil || !strings.Contains(vb, "5 entries, tree size 5") {
		t.Fatalf("verify bundle: %q", vb)
	}
	imp := &cli{t: t, dir: filepath.Join(t.TempDir(), "copy")}
	if out := imp.ok("import", bundle); !strings.Contains(out, root[1]) {
		t.Errorf("import: %q lacks root %s", out, root[1])
	}
	if out := imp.ok("verify"); !strings.Contains(out, root[1]) {
		t.Errorf("verify the import: %q", out)
	}
	imp.fails(1, "read-only", "key", "new", "x")
	imp.fails(1, "a record already exists", "import", bundle)
}

// keyOf returns the operator's verifier key of a record.
func keyOf(t *testing.T, c *cli) string {
	t.Helper()
	var keys []struct{ Key string }
	if err := json.Unmarshal([]byte(c.ok("key", "list", "--json")), &keys); err != nil || len(keys) == 0 {
		t.Fatalf("key list --json: %v", err)
	}
	return keys[0].Key
}

func TestBatch(t *testing.T) {
	c := newCLI(t)
	c.ok("key", "new", "witkoff")
	good := c.write("good.jsonl", `{"type":"note","body":{"text":"one"},"time":"2025-03-13T12:00:00Z"}

{"type":"note","body":{"text":"two","about":[1]},"sources":[{"citation":"AP, 13 March 2025"}]}
`)
	if out := c.ok("add", "--batch", good, "--as", "witkoff"); !strings.Contains(out, "appended 2 entries (2 to 3)") {
		t.Fatalf("batch: %q", out)
	}
	out, _, err := c.run(`{"type":"note","body":{"text":"three"}}`+"\n", "add", "--batch", "-", "--as", "witkoff")
	if err != nil || !strings.Contains(out, "appended entry 4") {
		t.Fatalf("batch from stdin: %q %v", out, err)
	}
}

func TestBadInput(t *testing.T) {
	c := newCLI(t)
	c.ok("key", "new", "lavrov")
	big := `{"text":"` + strings.Repeat("x", 1<<20) + `"}`
	bigFile := c.write("big.json", big)
	tests := []struct {
		name string
		code int
		want string
		args []string
	}{
		{"no command", 2, "no command", nil},
		{"unknown command", 2, `unknown command "frobnicate"`, []string{"frobnicate"}},
		{"malformed body", 1, "--body: malformed JSON at byte 8", []string{"add", "note", "--as", "lavrov", "--body", `{"text":`}},
		{"body not an object", 1, `"body" must be a JSON object`, []string{"add", "note", "--as", "lavrov", "--body", `[1]`}},
		{"unknown field", 1, `unknown field "txt"`, []string{"add", "note", "--as", "lavrov", "--body", `{"txt":"x"}`}},
		{"wrong field type", 1, "/about/0 must be an integer, not a string", []string{"add", "note", "--as", "lavrov", "--body", `{"text":"x","about":["a"]}`}},
		{"fails validation", 1, `"text" is required`, []string{"add", "note", "--as", "lavrov", "--body", `{"text":" "}`}},
		{"reference forward", 1, "names entry 99, which is not before it", []string{"add", "note", "--as", "lavrov", "--body", `{"text":"x","about":[99]}`}},
		{"corrects forward", 1, "corrects entry 50", []string{"add", "note", "--as", "lavrov", "--body", `{"text":"x"}`, "--corrects", "50"}},
		{"unknown type", 1, `unknown entry type "treaty" (known: accusation, action, actor, `, []string{"add", "treaty", "--as", "lavrov", "--body", `{}`}},
		{"unknown key", 1, `no signing key "ghost"`, []string{"add", "note", "--as", "ghost", "--body", `{"text":"x"}`}},
		{"oversized body", 1, "over the limit of 1048576", []string{"add", "note", "--as", "lavrov", "--body", "@" + bigFile}},
		{"bad time", 2, `"yesterday" is not a time`, []string{"add", "note", "--as", "lavrov", "--body", `{"text":"x"}`, "--time", "yesterday"}},
		{"no signer", 2, "--as NAME", []string{"add", "note", "--body", `{"text":"x"}`}},
		{"operator-only type", 1, "only the operator", []string{"add", "key.revoke", "--as", "lavrov", "--body", `{"key":"lavrov+00000000"}`}},
		{"no such entry", 1, "entry 99: no such entry", []string{"show", "99"}},
		{"bad index", 2, `"x" is not an entry index`, []string{"show", "x"}},
		{"proof out of range", 1, "entry 42 is not in the tree", []string{"proof", "inclusion", "42"}},
		{"bad consistency", 1, "1 <= old size <= new size", []string{"proof", "consistency", "3", "2"}},
		{"key exists", 1, `a key called "lavrov" already exists`, []string{"key", "new", "lavrov"}},
		{"bad key name", 1, "not a usable key name", []string{"key", "new", "a b"}},
		{"second init", 1, "a record already exists here", []string{"init"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			if tt.args == nil {
				_, _, err := c.run("")
				if err == nil || exitCode(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v", err)
				}
				return
			}
			c.fails(tt.code, tt.want, tt.args...)
		})
	}
}

func TestBadBatch(t *testing.T) {
	c := newCLI(t)
	c.ok("key", "new", "lavrov")
	c.ok("add", "note", "--as", "lavrov", "--body", `{"text":"first"}`)
	c.ok("add", "note", "--as", "lavrov", "--body", `{"text":"second"}`)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(c.ok("log", "--json", "--from", "2")), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "hash")
		delete(m, "index")
		lines = append(lines, m)
	}
	line := func(m map[string]any) string { b, _ := json.Marshal(m); return string(b) + "\n" }
	swapped := map[string]any{"entry": lines[0]["entry"], "sig": lines[1]["sig"]}
	tampered := map[string]any{"entry": lines[0]["entry"], "sig": lines[0]["sig"]}
	tampered["entry"].(map[string]any)["body"] = map[string]any{"text": "FIRST"}
	unsignedBy := map[string]any{"entry": lines[1]["entry"]}
	tests := []struct{ name, content, want string }{
		{"malformed line", "{\"type\":\"note\",\"body\":{\"text\":\"ok\"}}\n{\"type\":", "line 2: nothing appended: malformed JSON at byte 8"},
		{"not an object", "[1,2]\n", "line 1: nothing appended: each line must be a JSON object"},
		{"unknown member", `{"type":"note","body":{"text":"b"},"extra":1}` + "\n", `line 1: nothing appended: unsigned entry: unknown field "extra"`},
		{"invalid body at line 3", "{\"type\":\"note\",\"body\":{\"text\":\"a\"}}\n\n{\"type\":\"note\",\"body\":{\"text\":\"\"}}\n", `line 3: nothing appended: note body: "text" is required`},
		{"signature of another entry", line(swapped), "line 1: nothing appended: signature by lavrov+"},
		{"tampered signed entry", line(tampered), "line 1: nothing appended: signature by lavrov+"},
		{"missing signature", line(unsignedBy), `line 1: nothing appended: signed entry has no "sig"`},
		{"hash mismatch", `{"entry":` + string(mustJSON(t, lines[0]["entry"])) + `,"sig":"` + lines[0]["sig"].(string) + `","hash":"00"}` + "\n", "is not the hash of its entry"},
		{"empty", "\n\n", "no entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			msg := c.fails(1, tt.want, "add", "--batch", c.write("b.jsonl", tt.content), "--as", "lavrov")
			t.Log(msg)
		})
	}
}

func TestVerifyNamesTheBadEntry(t *testing.T) {
	c := newCLI(t)
	c.ok("key", "new", "lavrov")
	for i := range 5 {
		c.ok("add", "note", "--as", "lavrov", "--body", `{"text":"note `+strconv.Itoa(i)+`"}`)
	}
	bundle := filepath.Join(t.TempDir(), "b.jsonl")
	c.ok("export", bundle)
	data, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	// Line 1 is the header, so entry 4 is on line 6.
	lines[5] = strings.Replace(lines[5], "note 2", "note 9", 1)
	bad := c.write("bad.jsonl", strings.Join(lines, "\n"))
	_, _, err = c.run("", "verify", bad)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "entry 4") {
		t.Fatalf("verify a tampered bundle: %v, want exit 1 naming entry 4", err)
	}
	if strings.Contains(oneLine(err), "\n") {
		t.Errorf("error is not one line")
	}
	// Nothing is imported from it.
	imp := &cli{t: t, dir: filepath.Join(t.TempDir(), "copy")}
	if _, _, err := imp.run("", "import", bad); err == nil || !strings.Contains(err.Error(), "entry 4") {
		t.Fatalf("import a tampered bundle: %v", err)
	}
	if _, err := os.Stat(filepath.Join(imp.dir, "parley.db")); !os.IsNotExist(err) {
		t.Errorf("a failed import left a record behind: %v", err)
	}
	// No progress bar when stderr is not a terminal.
	_, stderr, err := c.run("", "verify", bundle)
	if err != nil || stderr != "" {
		t.Errorf("verify wrote %q to a non-terminal stderr (%v)", stderr, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
