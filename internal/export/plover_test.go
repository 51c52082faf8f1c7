package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/examples"
	"parley/internal/entry"
	"parley/internal/export"
	"parley/internal/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const origin = "test.example/seed"

// seed makes a record of the seed case. It returns the record and the index
// of each seed entry that has an id, by that id.
func seed(t *testing.T) (*record.Record, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	r, err := record.Init(ctx, t.TempDir(), origin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := r.LoadSeed(ctx); err != nil {
		t.Fatal(err)
	}
	// The seed's entries come before the ceasefire's keys and entries, in
	// the order of its lines.
	lines := strings.Split(strings.TrimSpace(string(examples.Seed)), "\n")
	ceasefire := strings.Count(strings.TrimSpace(string(examples.Ceasefire)), "\n") + 1
	first := r.Log.Size() - int64(len(lines)) - int64(ceasefire) - int64(len(examples.CeasefireAuthors))
	index := map[string]int64{}
	for i, l := range lines {
		var u struct{ Body struct{ ID string } }
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			t.Fatal(err)
		}
		if u.Body.ID != "" {
			index[u.Body.ID] = first + int64(i)
		}
	}
	return r, index
}

// add signs u and appends it, returning its index.
func add(t *testing.T, r *record.Record, u record.Unsigned) int64 {
	t.Helper()
	s, err := r.Signers("").Sign(u)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Log.Append(context.Background(), []*entry.Signed{s})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].Index
}

// exportOf exports r and returns the output and its events, decoded.
func exportOf(t *testing.T, r *record.Record) (string, []export.PLOVEREvent, export.Summary) {
	t.Helper()
	var out bytes.Buffer
	sum, err := export.WritePLOVER(context.Background(), r.Store(), r.Log.Origin(), &out)
	if err != nil {
		t.Fatal(err)
	}
	var evs []export.PLOVEREvent
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var ev export.PLOVEREvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
		}
		evs = append(evs, ev)
	}
	if len(evs) != sum.Events {
		t.Errorf("wrote %d lines, summary says %d events", len(evs), sum.Events)
	}
	return out.String(), evs, sum
}

// find returns the events of the entry of type typ whose text contains text.
func find(evs []export.PLOVEREvent, typ, text string) []export.PLOVEREvent {
	var out []export.PLOVEREvent
	for _, ev := range evs {
		if ev.Parley.Type == typ && strings.Contains(strings.Join(ev.EventText, " "), text) {
			out = append(out, ev)
		}
	}
	return out
}

func one(t *testing.T, evs []export.PLOVEREvent, typ, text string) export.PLOVEREvent {
	t.Helper()
	found := find(evs, typ, text)
	if len(found) != 1 {
		t.Fatalf("%d %s events with text %q, want 1", len(found), typ, text)
	}
	return found[0]
}

func TestPLOVERSeed(t *testing.T) {
	r, _ := seed(t)
	_, evs, sum := exportOf(t, r)
	// 13 events of the negotiation; the ceasefire agreement and the 23
	// incidents of its first week alleged against a party.
	if sum != (export.Summary{Events: 37, Statements: 8, Uncoded: 6}) {
		t.Errorf("summary %+v, want 37 events, 8 statements of which 6 uncoded", sum)
	}

	ids := map[string]bool{}
	for i, ev := range evs {
		if ev.ID == "" || ids[ev.ID] {
			t.Errorf("event %d: id %q is empty or not unique", i, ev.ID)
		}
		ids[ev.ID] = true
		if _, err := time.Parse(time.DateOnly, ev.Date); err != nil {
			t.Errorf("%s: date %q: %v", ev.ID, ev.Date, err)
		}
		if len(ev.Source) != 1 || ev.Source[0].Code == "" || ev.Source[0].Text == "" {
			t.Errorf("%s: source %+v", ev.ID, ev.Source)
		}
		if len(ev.Event) != 1 || ev.Event[0] == "" {
			t.Errorf("%s: event %v", ev.ID, ev.Event)
		}
		// The ceasefire's week is an illustration: it cites, but quotes nothing.
		quoted := ev.Parley.Type != "agreement" && ev.Parley.Type != "report"
		if ev.Text == "" || ev.CiteInfo == nil || (quoted && ev.CiteInfo.Quote == "") || ev.Parley.Author == "" {
			t.Errorf("%s: no text, cite_info or author: %+v", ev.ID, ev)
		}
		if i > 0 && ev.Date < evs[i-1].Date {
			t.Errorf("%s: dated %s, after %s", ev.ID, ev.Date, evs[i-1].Date)
		}
	}

	russia := one(t, evs, "position", "accepts-in-principle")
	if russia.Source[0] != (export.PLOVERActor{Text: "Russia", Code: "party/russia"}) || russia.Event[0] != "AGREE" ||
		russia.CAMEO != "0356" || !slices.Equal(russia.Context, []string{"military", "diplomatic"}) || russia.Date != "2025-03-13" {
		t.Errorf("Russia's position: %+v", russia)
	}
	if !strings.Contains(russia.Text, "Russia accepts-in-principle 30-day ceasefire (conditions:") {
		t.Errorf("Russia's position: text %q is not the entry's story", russia.Text)
	}
	if !strings.HasPrefix(russia.Parley.Author, "kremlin+") || !strings.HasPrefix(russia.ID, origin+"-") {
		t.Errorf("Russia's position: author %q, id %q", russia.Parley.Author, russia.ID)
	}

	acc := one(t, evs, "accusation", "delaying the process")
	if acc.Event[0] != "ACCUSE" || acc.Source[0].Code != "actor/zelenskyy" ||
		len(acc.Recipient) != 1 || acc.Recipient[0] != (export.PLOVERActor{Text: "Russia", Code: "party/russia"}) {
		t.Errorf("Zelenskyy's accusation: %+v", acc)
	}
	if acc.CiteInfo.Quote != "accusing Moscow of delaying the process to ensure the war continues" || !strings.HasPrefix(acc.CiteInfo.Citation, "seed report") {
		t.Errorf("Zelenskyy's accusation: cite_info %+v", acc.CiteInfo)
	}

	req := one(t, evs, "request", "Kellogg")
	if req.Event[0] != "REQUEST" || req.Source[0].Code != "party/russia" || req.Recipient[0].Code != "party/united-states" {
		t.Errorf("Kellogg's exclusion: %+v", req)
	}

	msg := one(t, evs, "message", "signals")
	if msg.Event[0] != "CONSULT" || !slices.Equal(msg.Mode, []string{"third-party"}) ||
		msg.Source[0].Code != "actor/putin" || msg.Recipient[0].Code != "actor/trump" {
		t.Errorf("Putin's message to Trump: %+v", msg)
	}

	call := one(t, evs, "action", "Direct conversation")
	if call.Recipient != nil {
		t.Errorf("the call has no recipient on the record, but exports %+v", call.Recipient)
	}
}

// TestPLOVERStops checks that an error from the caller ends the export with
// that error, after the events before it.
func TestPLOVERStops(t *testing.T) {
	r, _ := seed(t)
	full := errors.New("disk full")
	n := 0
	sum, err := export.PLOVER(context.Background(), r.Store(), origin, func(export.PLOVEREvent) error {
		if n++; n == 3 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) || sum.Events != 2 {
		t.Errorf("got %+v, %v; want 2 events and the caller's error", sum, err)
	}
}

func TestPLOVEREmpty(t *testing.T) {
	r, err := record.Init(context.Background(), t.TempDir(), origin)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, _, sum := exportOf(t, r)
	if out != "" || sum != (export.Summary{}) {
		t.Errorf("a record with no events exports %q, %+v", out, sum)
	}
}

// TestPLOVERCorrections checks that corrected and retracted entries are left
// out, and their corrections put in.
func TestPLOVERCorrections(t *testing.T) {
	r, index := seed(t)
	_, before, _ := exportOf(t, r)
	accusation := one(t, before, "accusation", "delaying").Parley.Index
	position := one(t, before, "position", "accepts-in-principle").Parley.Index

	at := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	add(t, r, record.Unsigned{As: "press", Type: "retraction", Time: at, Body: []byte(`{"entry":` + itoa(accusation) + `,"reason":"test"}`)})
	add(t, r, record.Unsigned{As: "press", Type: "retraction", Time: at, Body: []byte(`{"entry":` + itoa(index["kellogg-criticized"]) + `,"reason":"test"}`)})
	fix := add(t, r, record.Unsigned{As: "kremlin", Type: "position", Time: time.Date(2025, 3, 13, 12, 0, 0, 0, time.UTC), Corrects: &position,
		Body:    []byte(`{"party":"russia","proposal":"ceasefire-30-day","stance":"rejects"}`),
		Sources: []entry.Source{{URL: "https://example.org/fix", Quote: "Russia rejects"}}})

	_, evs, sum := exportOf(t, r)
	if sum != (export.Summary{Events: 35, Statements: 7, Uncoded: 6}) {
		t.Errorf("summary %+v, want 35 events, 7 statements of which 6 uncoded", sum)
	}
	for _, ev := range evs {
		if ev.Parley.Index == accusation || ev.Parley.Index == position {
			t.Errorf("voided entry %d exported: %+v", ev.Parley.Index, ev)
		}
	}
	rej := one(t, evs, "position", "rejects")
	if rej.Parley.Index != fix || rej.Parley.Corrects == nil || *rej.Parley.Corrects != position ||
		rej.Event[0] != "REJECT" || rej.CAMEO != "1246" || rej.CiteInfo.URL != "https://example.org/fix" {
		t.Errorf("the correction: %+v", rej)
	}
	if !strings.HasPrefix(rej.Text, "corrects entry ") {
		t.Errorf("the correction's text %q", rej.Text)
	}
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

// authorHash is the part of a key id that changes from run to run.
var authorHash = regexp.MustCompile(`("author":"[^"+]+)\+[0-9a-f]{8}"`)

func TestPLOVERGolden(t *testing.T) {
	r, _ := seed(t)
	out, _, _ := exportOf(t, r)
	got := authorHash.ReplaceAllString(out, `$1+HASH"`)
	golden := filepath.Join("testdata", "seed.plover.jsonl")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("the export differs from %s (run go test -update if the change is meant):\n%s", golden, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines that differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(int64(i+1)) + ":\n- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}
