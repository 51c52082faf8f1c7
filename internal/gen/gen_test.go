package gen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/record"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

func write(t *testing.T, c Config) ([]byte, Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := Write(context.Background(), &b, c)
	if err != nil {
		t.Fatalf("Write(%+v): %v", c, err)
	}
	return b.Bytes(), st
}

func TestSameSeedSameBytes(t *testing.T) {
	a, _ := write(t, Config{Entries: 5000, Seed: 7})
	b, _ := write(t, Config{Entries: 5000, Seed: 7})
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with seed 7 differ")
	}
	c, _ := write(t, Config{Entries: 5000, Seed: 8})
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 give the same file")
	}
	short, _ := write(t, Config{Entries: 1, Seed: 7})
	if got := bytes.Count(short, []byte("\n")); got != 1 {
		t.Fatalf("1 entry wrote %d lines", got)
	}
}

// TestEveryLineFolds appends whole generated files to real records: every
// line must be signed and folded without a refusal, at the index the
// generator expected.
func TestEveryLineFolds(t *testing.T) {
	for _, c := range []Config{
		{Entries: 4000, Seed: 1},
		{Entries: 1500, Seed: 2, Parties: 3},
		{Entries: 1500, Seed: 3, Parties: 30},
		{Entries: 1500, Seed: 4, Authors: []string{"solo"}},
	} {
		t.Run(fmt.Sprintf("seed%d", c.Seed), func(t *testing.T) {
			data, st := write(t, c)
			ctx := context.Background()
			r, err := record.Init(ctx, t.TempDir(), "gen.test/record")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, a := range st.Authors {
				if _, _, err := r.NewKey(ctx, a, ""); err != nil {
					t.Fatal(err)
				}
			}
			if r.Log.Size() != st.First {
				t.Fatalf("the record has %d entries; the file starts at %d", r.Log.Size(), st.First)
			}
			signers := r.Signers("")
			lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
			var entries []*entry.Signed
			for i, l := range lines {
				u, err := record.ParseUnsigned(l)
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				s, err := signers.Sign(u)
				if err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				entries = append(entries, s)
			}
			res, err := r.Log.Append(ctx, entries)
			if err != nil {
				var ref *tlog.Refusal
				if errors.As(err, &ref) {
					t.Fatalf("line %d refused: %v\n%s", ref.Pos+1, ref.Err, lines[ref.Pos])
				}
				t.Fatal(err)
			}
			for i, a := range res {
				if a.Duplicate || a.Index != st.First+int64(i) {
					t.Fatalf("line %d appended as %+v, want entry %d", i+1, a, st.First+int64(i))
				}
			}
		})
	}
}

// genLine is a line as the tests read it.
type genLine struct {
	As       string         `json:"as"`
	Type     string         `json:"type"`
	Time     time.Time      `json:"time"`
	Sources  []entry.Source `json:"sources"`
	Corrects *int64         `json:"corrects"`
	Body     jsontext.Value `json:"body"`
}

// idRE matches the ids the generator gives, and the ways entries refer to
// statements.
var idRE = regexp.MustCompile(`^(?:[a-z]+/)?(?:party|actor|talks|meeting|msg|st|prop|req|act|track)-\d+$|^#\d+$|^statement/s\d+$`)

// entityTypes are the types that declare something with an id.
var entityTypes = []string{"party", "actor", "talks", "meeting", "message", "statement", "proposal", "request", "action", "track"}

// TestShape reads a larger file line by line and checks what the folds
// cannot see at once: the mix, times, references, corrections and how
// many actions are open.
func TestShape(t *testing.T) {
	const n = 20000
	data, st := write(t, Config{Entries: n, Seed: 11})
	if st.Entries != n || st.First != 5 || st.Last != 5+n-1 {
		t.Fatalf("stats %+v", st)
	}
	var (
		lines    []genLine
		bodies   []map[string]any
		declared = map[string]bool{} // ids and "#N" refs declared so far
		voided   = map[int64]bool{}
		status   = map[string]string{} // action id → latest status
		open     = 0
		maxOpen  = 0
		lastTime time.Time
		seen     = map[string]map[string]bool{}
	)
	note := func(what, v string) {
		if seen[what] == nil {
			seen[what] = map[string]bool{}
		}
		seen[what][v] = true
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for i := 0; sc.Scan(); i++ {
		idx := st.First + int64(i)
		var l genLine
		if err := json.Unmarshal(sc.Bytes(), &l, json.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var body map[string]any
		if err := json.Unmarshal(l.Body, &body); err != nil {
			t.Fatalf("line %d body: %v", i+1, err)
		}
		where := fmt.Sprintf("line %d (entry %d, %s)", i+1, idx, l.Type)
		if !slices.Contains(Authors, l.As) || len(l.Sources) == 0 {
			t.Fatalf("%s: author %q, %d sources", where, l.As, len(l.Sources))
		}
		// Every reference is to something declared before.
		walk(body, func(field, s string) {
			if field != "id" && idRE.MatchString(s) && !declared[s[strings.IndexByte(s, '/')+1:]] {
				t.Errorf("%s: %q names %q, which is not declared before", where, field, s)
			}
		})
		id, _ := body["id"].(string)
		if l.Corrects != nil {
			c := *l.Corrects
			if c < st.First || c >= idx {
				t.Fatalf("%s corrects entry %d, not an earlier line", where, c)
			}
			target := lines[c-st.First]
			if target.Type != l.Type || voided[c] {
				t.Errorf("%s corrects entry %d, a %s, voided before: %v", where, c, target.Type, voided[c])
			}
			if !l.Time.Equal(target.Time) {
				t.Errorf("%s: a correction describes the time of what it corrects", where)
			}
			tid, _ := bodies[c-st.First]["id"].(string)
			if l.Type == "statement" && tid == "" {
				tid = fmt.Sprintf("s%d", c)
			}
			if slices.Contains(entityTypes, l.Type) && id != tid {
				t.Errorf("%s: a correction of %q has the id %q", where, tid, id)
			}
			voided[c] = true
			note("corrected", l.Type)
		} else {
			if !l.Time.After(lastTime) {
				t.Errorf("%s: time %s is not after %s", where, l.Time, lastTime)
			}
			lastTime = l.Time
		}
		switch l.Type {
		case "retraction":
			e := int64(body["entry"].(float64))
			if e < st.First || e >= idx || voided[e] {
				t.Fatalf("%s retracts entry %d (voided before: %v)", where, e, voided[e])
			}
			if typ := lines[e-st.First].Type; typ != "statement" && typ != "position" {
				t.Errorf("%s retracts a %s", where, typ)
			}
			voided[e] = true
		case "statement":
			note("confidence", body["confidence"].(string))
			_, q := body["quote"]
			_, p := body["paraphrase"]
			note("said", fmt.Sprint(q, p))
			if id == "" {
				declared[fmt.Sprintf("#%d", idx)] = true
				declared[fmt.Sprintf("s%d", idx)] = true
			}
		case "position":
			note("stance", body["stance"].(string))
			if _, ok := body["conditions"]; ok {
				note("conditions", body["stance"].(string))
			}
		case "relay":
			note("hop", body["event"].(string))
		case "message":
			via, _ := body["via"].([]any)
			note("carriers", fmt.Sprint(len(via)))
		case "meeting":
			if _, ok := body["absent"]; ok {
				note("meeting", "absent")
			}
		case "request", "track":
			if declared[id] {
				note("update", l.Type)
			}
		case "action":
			s := body["status"].(string)
			note("action", s)
			if _, ok := body["waits_on"]; ok {
				note("action", "waits")
			}
			old, ok := status[id]
			if ok && !vocab.Closed(old) {
				open--
			}
			if !vocab.Closed(s) {
				open++
			}
			status[id] = s
			maxOpen = max(maxOpen, open)
		}
		if id != "" {
			declared[id] = true
		}
		lines = append(lines, l)
		bodies = append(bodies, body)
	}
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for what, want := range map[string][]string{
		"stance":     vocab.Stances,
		"conditions": {vocab.AcceptsConditions, vocab.AcceptsInPrinciple, vocab.Counters, vocab.Rejects},
		"confidence": vocab.Confidences,
		"said":       {"true false", "false true", "true true"},
		"hop":        vocab.HopEvents,
		"carriers":   {"0", "1", "2", "3"},
		"meeting":    {"absent"},
		"update":     {"request", "track"},
		"action":     {"planned", "pending", "blocked", "ready", "done", "cancelled", "waits"},
		"corrected":  {"statement", "position", "message", "relay", "action", "roster"},
	} {
		for _, w := range want {
			if !seen[what][w] {
				t.Errorf("no %s %q in %d entries", what, w, n)
			}
		}
	}
	if st.Types["retraction"] == 0 || st.Corrections == 0 {
		t.Errorf("%d retractions, %d corrections", st.Types["retraction"], st.Corrections)
	}
	if maxOpen != st.MaxOpenActions || maxOpen > 300 || maxOpen < 10 {
		t.Errorf("at most %d actions open (stats say %d); want tens to hundreds", maxOpen, st.MaxOpenActions)
	}
	if st.From.Before(Start) || st.To.Sub(st.From) < 365*24*time.Hour {
		t.Errorf("the entries span %s to %s; want more than a year", st.From, st.To)
	}
}

// walk calls fn for every string in v, with the name of the field it is in.
func walk(v any, fn func(field, s string)) {
	var rec func(field string, v any)
	rec = func(field string, v any) {
		switch x := v.(type) {
		case string:
			fn(field, x)
		case []any:
			for _, e := range x {
				rec(field, e)
			}
		case map[string]any:
			for k, e := range x {
				rec(k, e)
			}
		}
	}
	rec("", v)
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Entries: 10, Parties: 2}, "at least 3"},
		{Config{Entries: -1}, "0 or more"},
		{Config{Entries: 10, Authors: []string{}}, "no authors"},
		{Config{Entries: 10, Authors: []string{"a", ""}}, "empty"},
		{Config{Entries: 10, Base: -3}, "genesis"},
	} {
		if _, err := Write(context.Background(), io.Discard, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Write(%+v): %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
	data, st := write(t, Config{Entries: 3, Base: 100, Authors: []string{"x", "y"}})
	if st.First != 100 || st.Last != 102 || !bytes.Contains(data, []byte(`"as":"y"`)) {
		t.Errorf("base 100, authors x and y: %+v\n%s", st, data)
	}
	if data, _ := write(t, Config{}); len(data) != 0 {
		t.Errorf("0 entries wrote %d bytes", len(data))
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, io.Discard, Config{Entries: 100000}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write after cancel: %v", err)
	}
}

type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) {
	if f.n += len(p); f.n > 1<<20 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	if _, err := Write(context.Background(), &failing{}, Config{Entries: 100000}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write to a failing writer: %v", err)
	}
}

func BenchmarkWrite(b *testing.B) {
	var bytes countWriter
	for b.Loop() {
		if _, err := Write(context.Background(), &bytes, Config{Entries: 10000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/entry")
	b.ReportMetric(float64(bytes)/float64(b.N*10000), "bytes/entry")
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
