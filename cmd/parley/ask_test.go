package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley/examples"
)

// seededCLI is a record holding the seed case, loaded through add --batch.
func seededCLI(t *testing.T) *cli {
	t.Helper()
	c := newCLI(t)
	for _, a := range examples.SeedAuthors {
		c.ok("key", "new", a[0])
	}
	out := c.ok("add", "--batch", "../../examples/seed.jsonl")
	if !strings.Contains(out, "appended 35 entries") {
		t.Fatalf("add --batch seed: %q", out)
	}
	return c
}

func TestAsk(t *testing.T) {
	c := seededCLI(t)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"ask", "positions"}, []string{"Russia   accepts-in-principle", "Ukraine  accepts", `"promising" but "not complete"`}},
		{[]string{"ask", "positions", "--as-of", "2025-03-12"}, []string{"as of 2025-03-12T23:59:59Z", "Ukraine  accepts"}},
		{[]string{"ask", "routes", "--from", "Putin", "--to", "trump"}, []string{"Vladimir Putin → Steve Witkoff → Donald Trump", "(delivered)"}},
		{[]string{"ask", "pending"}, []string{"action/putin-trump-call", "blocked", "timing not set", "action/witkoff-report (pending)"}},
		{[]string{"ask", "roster", "ceasefire-talks"}, []string{"Keith Kellogg  absent", "requested, undecided [reported]"}},
		{[]string{"ask", "statements", "--by", "Peskov"}, []string{"There is an understanding on both sides that such a conversation is necessary"}},
		{[]string{"ask", "statements", "--confidence", "reported"}, []string{"Keith Kellogg criticized"}},
		{[]string{"ask", "tracks", "--known-at", "#39"}, []string{"U.S. military aid to Ukraine", "restoring", "intelligence sharing (United States – Ukraine): paused"}},
		{[]string{"ask", "timeline", "--from", "2025-03-13", "--to", "2025-03-13"}, []string{"Putin–Witkoff meeting in Moscow"}},
	} {
		out := c.ok(tt.args...)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("parley %s: output does not contain %q:\n%s", strings.Join(tt.args, " "), w, out)
			}
		}
	}
	if out := c.ok("ask", "positions", "--as-of", "2025-03-12"); strings.Contains(out, "accepts-in-principle") {
		t.Errorf("as of 12 March, before Russia's answer, Russia has no position:\n%s", out)
	}
	if out := c.ok("ask", "timeline", "--to", "2025-03-12"); strings.Contains(out, "2025-03-13") {
		t.Errorf("timeline --to 2025-03-12 shows later lines:\n%s", out)
	}
	var pend struct {
		Actions []struct {
			Action struct{ Key string }
			Ready  bool
			Basis  struct {
				Index   int64
				Sources []struct{ Quote string }
			}
		}
	}
	if err := json.Unmarshal([]byte(c.ok("ask", "pending", "--json")), &pend); err != nil {
		t.Fatal(err)
	}
	if len(pend.Actions) != 2 || pend.Actions[1].Ready || pend.Actions[1].Basis.Index == 0 || pend.Actions[1].Basis.Sources[0].Quote == "" {
		t.Errorf("ask pending --json: %+v", pend)
	}
}

func TestAskBadInput(t *testing.T) {
	c := seededCLI(t)
	for _, tt := range []struct {
		code int
		want string
		args []string
	}{
		{2, `unknown question "positons"`, []string{"ask", "positons"}},
		{2, "--by: does not apply to the question positions", []string{"ask", "positions", "--by", "putin"}},
		{2, "takes no argument", []string{"ask", "pending", "x"}},
		{2, "--as-of", []string{"ask", "positions", "--as-of", "yesterday"}},
		{2, "a log size is #N", []string{"ask", "positions", "--known-at", "#x"}},
		{1, "the record has 40 entries, not 999", []string{"ask", "positions", "--known-at", "#999"}},
		{2, `--confidence: "sure": one of confirmed`, []string{"ask", "statements", "--confidence", "sure"}},
		{1, `no proposal called "peace" is on the record`, []string{"ask", "positions", "peace"}},
		{1, `no actor called "Lavrov"`, []string{"ask", "routes", "--from", "Lavrov"}},
		{1, `"party" names "russa", but no party`, []string{"add", "position", "--as", "press", "--body", `{"party":"russa","proposal":"ceasefire-30-day","stance":"accepts"}`}},
		{1, `which is not allowed: one of accepts`, []string{"add", "position", "--as", "press", "--body", `{"party":"russia","proposal":"ceasefire-30-day","stance":"maybe"}`}},
	} {
		c.fails(tt.code, tt.want, tt.args...)
	}
}

func TestDemo(t *testing.T) {
	c := &cli{t: t, dir: t.TempDir() + "/unused"}
	out := c.ok("demo", "--no-serve")
	for _, w := range []string{"78 entries", "Russia   accepts-in-principle", "Vladimir Putin → Steve Witkoff → Donald Trump",
		"action/witkoff-report (pending)", "Keith Kellogg  absent", "U.S.–Ukraine intelligence sharing", "verified",
		"22 incidents, 6 verified, 1 duplicates set aside; 26 of 30 days without a verified violation",
		"Daily report for 2025-03-22", "duplicate of ua-0322.1"} {
		if !strings.Contains(out, w) {
			t.Errorf("demo output does not contain %q", w)
		}
	}
	kept := t.TempDir() + "/kept"
	defer func() {
		c.dir = kept
		if out := c.ok("report", "daily", "--date", "2025-03-22", "--format", "html"); !strings.Contains(out, "<html") || !strings.Contains(out, "ua-0322.1") {
			t.Errorf("report daily --format html: %.300s", out)
		}
		c.fails(2, "--date is required", "report", "daily")
		c.fails(2, `--format is "pdf"`, "report", "daily", "--date", "2025-03-22", "--format", "pdf")
	}()
	c.ok("demo", "--dir", kept, "--no-serve")
	c.dir = kept
	if out := c.ok("ask", "tracks"); !strings.Contains(out, "restoring") {
		t.Errorf("the kept demo record does not answer: %s", out)
	}
}

// TestDemoServes runs `parley demo` as a person would: it serves the web UI
// on the seed case until interrupted.
func TestDemoServes(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	out := &syncWriter{w: &bytes.Buffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"parley", "demo", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, strings.NewReader(""), out, io.Discard)
	}()
	re := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/)`)
	var url string
	for deadline := time.Now().Add(time.Minute); url == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		stop()
		t.Fatalf("demo printed no address:\n%s", out.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `data-party="party/russia" data-stance="accepts-in-principle"`) {
		t.Errorf("the demo's overview: %s\n%.500s", resp.Status, page)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("demo: %v", err)
	}
}
