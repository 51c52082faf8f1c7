package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ploverLine is what the tests read of a line of a PLOVER export.
type ploverLine struct {
	ID     string `json:"id"`
	Date   string `json:"date"`
	Source []struct {
		Text string `json:"actor_text"`
		Code string `json:"code"`
	} `json:"source"`
	Recipient []struct {
		Text string `json:"actor_text"`
		Code string `json:"code"`
	} `json:"recipient"`
	Event     []string `json:"event"`
	Mode      []string `json:"mode"`
	Context   []string `json:"context"`
	EventText []string `json:"event_text"`
	Text      string   `json:"text"`
	CiteInfo  struct {
		Citation string `json:"citation"`
		Quote    string `json:"quote"`
	} `json:"cite_info"`
	CAMEO  string `json:"cameo"`
	Parley struct {
		Index  int64  `json:"index"`
		Type   string `json:"type"`
		Author string `json:"author"`
	} `json:"parley"`
}

// ploverLines decodes a PLOVER export, checking what every line must have.
func ploverLines(t *testing.T, out string) []ploverLine {
	t.Helper()
	var lines []ploverLine
	ids := map[string]bool{}
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var raw map[string]any
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		for _, k := range []string{"id", "date", "source", "event"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("line %d has no %q: %s", i+1, k, l)
			}
		}
		var p ploverLine
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if ids[p.ID] {
			t.Errorf("line %d: id %q is not unique", i+1, p.ID)
		}
		ids[p.ID] = true
		lines = append(lines, p)
	}
	return lines
}

// ploverOf returns the one line of the entry type typ whose event text
// contains text.
func ploverOf(t *testing.T, lines []ploverLine, typ, text string) ploverLine {
	t.Helper()
	var found []ploverLine
	for _, l := range lines {
		if l.Parley.Type == typ && strings.Contains(strings.Join(l.EventText, " "), text) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s events with the text %q, want 1", len(found), typ, text)
	}
	return found[0]
}

func TestExportPLOVER(t *testing.T) {
	c := seededCLI(t)
	file := filepath.Join(t.TempDir(), "events.jsonl")
	out, stderr, err := c.run("", "export", "--format", "plover", file)
	if err != nil || out != "" {
		t.Fatalf("export --format plover: %v, stdout %q", err, out)
	}
	if want := "exported 13 PLOVER events to " + file + "; 6 of 8 statements have no PLOVER event type (PLOVER does not code public statements, CAMEO 01)\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := c.run("", "export", "-", "--format", "plover")
	if err != nil || stdout != string(data) || !strings.Contains(stderr, "exported 13 PLOVER events to standard output") {
		t.Errorf("export --format plover -: %v, stderr %q; the same as the file: %v", err, stderr, stdout == string(data))
	}

	lines := ploverLines(t, string(data))
	if len(lines) != 13 {
		t.Fatalf("%d lines, want 13", len(lines))
	}
	for i, l := range lines {
		if i > 0 && l.Date < lines[i-1].Date {
			t.Errorf("%s (%s) comes after %s (%s): not in time order", l.ID, l.Date, lines[i-1].ID, lines[i-1].Date)
		}
		if !strings.HasPrefix(l.ID, "test.example/talks-") {
			t.Errorf("id %q does not name the record", l.ID)
		}
	}

	russia := ploverOf(t, lines, "position", "accepts-in-principle")
	if russia.Event[0] != "AGREE" || russia.CAMEO != "0356" || !slices.Equal(russia.Context, []string{"military", "diplomatic"}) ||
		russia.Source[0].Code != "party/russia" || russia.Date != "2025-03-13" || !strings.HasPrefix(russia.Parley.Author, "kremlin+") {
		t.Errorf("Russia's position: %+v", russia)
	}
	acc := ploverOf(t, lines, "accusation", "delaying the process")
	if acc.Event[0] != "ACCUSE" || acc.Source[0].Text != "Volodymyr Zelenskyy" || len(acc.Recipient) != 1 || acc.Recipient[0].Code != "party/russia" {
		t.Errorf("Zelenskyy's accusation: %+v", acc)
	}
	if acc.CiteInfo.Quote != "accusing Moscow of delaying the process to ensure the war continues" || acc.CiteInfo.Citation == "" {
		t.Errorf("Zelenskyy's accusation: cite_info %+v", acc.CiteInfo)
	}
	req := ploverOf(t, lines, "request", "exclude U.S. Envoy Keith Kellogg")
	if req.Event[0] != "REQUEST" || req.Source[0].Code != "party/russia" || req.Recipient[0].Code != "party/united-states" {
		t.Errorf("the Kellogg exclusion request: %+v", req)
	}
	msg := ploverOf(t, lines, "message", "additional information and signals")
	if msg.Event[0] != "CONSULT" || !slices.Equal(msg.Mode, []string{"third-party"}) ||
		msg.Source[0].Code != "actor/putin" || msg.Recipient[0].Code != "actor/trump" {
		t.Errorf("Putin's message to Trump: %+v", msg)
	}
	if !strings.HasPrefix(msg.Text, "Vladimir Putin sent a message to Donald Trump through Steve Witkoff") {
		t.Errorf("the message's text %q is not the entry's story", msg.Text)
	}

	// A retracted accusation is left out.
	c.ok("add", "retraction", "--as", "press", "--body", `{"entry":`+strconv.FormatInt(acc.Parley.Index, 10)+`,"reason":"misreported"}`)
	out, stderr, err = c.run("", "export", "--format", "plover", "-")
	if err != nil || !strings.Contains(stderr, "exported 12 PLOVER events") {
		t.Fatalf("export after a retraction: %v, stderr %q", err, stderr)
	}
	for _, l := range ploverLines(t, out) {
		if l.Parley.Index == acc.Parley.Index {
			t.Errorf("the retracted accusation is exported: %+v", l)
		}
	}
}

func TestExportFormats(t *testing.T) {
	c := seededCLI(t)
	c.fails(2, `export: unknown --format "csv" (use bundle, plover, geojson or acled)`, "export", "--format", "csv", "-")

	// The bundle stays the default, and --format bundle says so.
	def := filepath.Join(t.TempDir(), "default.jsonl")
	c.ok("export", def)
	named := filepath.Join(t.TempDir(), "named.jsonl")
	c.ok("export", "--format", "bundle", named)
	for _, f := range []string{def, named} {
		if out := c.ok("verify", f); !strings.Contains(out, "40 entries") {
			t.Errorf("verify %s: %q", f, out)
		}
	}
	bundle, _ := os.ReadFile(def)
	if out := c.ok("export", "-"); out != string(bundle) {
		t.Errorf("export - differs from the file it writes")
	}
}
