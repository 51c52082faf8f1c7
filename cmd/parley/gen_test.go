package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"parley/internal/gen"
)

// TestGen writes a synthetic negotiation, adds it to a fresh record with the
// keys it asks for, and asks the record about it.
func TestGen(t *testing.T) {
	c := newCLI(t)
	for _, a := range gen.Authors {
		c.ok("key", "new", a)
	}
	file := filepath.Join(t.TempDir(), "gen.jsonl")
	out, stderr, err := c.run("", "gen", "--entries", "3000", "--seed", "7", "--out", file)
	if err != nil || out != "" {
		t.Fatalf("gen: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	for _, w := range []string{"wrote 3000 entries", "entries 5 to 3004", "parley key new gen-a", "parley key new gen-d"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("gen's report does not say %q:\n%s", w, stderr)
		}
	}
	if out := c.ok("add", "--batch", file); !strings.Contains(out, "appended 3000 entries (5 to 3004)") {
		t.Fatalf("add --batch: %q", out)
	}
	if got := c.size(); got != 3005 {
		t.Fatalf("the record has %d entries, want 3005", got)
	}
	for _, q := range []struct{ question, list string }{
		{"pending", "actions"},
		{"positions", "proposals"},
		{"routes", "messages"},
		{"roster", "talks"},
		{"tracks", "tracks"},
	} {
		var answer map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.ok("ask", q.question, "--json")), &answer); err != nil {
			t.Fatalf("ask %s --json: %v", q.question, err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(answer[q.list], &list); err != nil || len(list) == 0 {
			t.Errorf("ask %s: no %s (%v)", q.question, q.list, err)
		}
	}
	var pending struct{ Actions []struct{ Status string } }
	json.Unmarshal([]byte(c.ok("ask", "pending", "--json")), &pending)
	if n := len(pending.Actions); n > 100 {
		t.Errorf("%d actions open after 3000 entries; want a modest number", n)
	}
}

func TestGenSameSeedSameFile(t *testing.T) {
	c := newCLI(t)
	gen := func(seed int) string {
		out, _, err := c.run("", "gen", "--entries", "500", "--seed", fmt.Sprint(seed))
		if err != nil {
			t.Fatalf("gen --seed %d: %v", seed, err)
		}
		return out
	}
	a, b, other := gen(3), gen(3), gen(4)
	if a != b {
		t.Error("gen --seed 3 wrote two different files")
	}
	if a == other {
		t.Error("seeds 3 and 4 wrote the same file")
	}
	if n := strings.Count(a, "\n"); n != 500 {
		t.Errorf("gen --entries 500 wrote %d lines", n)
	}
}

func TestGenBadInput(t *testing.T) {
	c := newCLI(t)
	c.fails(2, "--entries N", "gen")
	c.fails(2, "at least 3", "gen", "--entries", "10", "--parties", "2")
	c.fails(2, "genesis", "gen", "--entries", "10", "--base", "0")
	c.fails(2, "unexpected argument", "gen", "--entries", "10", "extra")
	c.fails(1, "no such file", "gen", "--entries", "10", "--out", filepath.Join(t.TempDir(), "missing", "x.jsonl"))
}
