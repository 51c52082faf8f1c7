package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"parley/examples"
	"parley/internal/account"
	"parley/internal/export"
	"parley/internal/record"
	"parley/internal/server"
)

// agreementCLI is a record holding the seed case and the ceasefire
// agreement, with the ceasefire's keys, and no incident reports.
func agreementCLI(t *testing.T) *cli {
	t.Helper()
	c := seededCLI(t)
	for _, a := range examples.CeasefireAuthors {
		c.ok("key", "new", a[0])
	}
	lines := strings.SplitAfter(string(examples.Ceasefire), "\n")
	var head []string
	for _, l := range lines {
		if strings.Contains(l, `"type": "report"`) || strings.Contains(l, `"type": "review"`) || strings.Contains(l, `"type": "duplicate"`) || strings.TrimSpace(l) == "" {
			continue
		}
		head = append(head, l)
	}
	if len(head) != 2 {
		t.Fatalf("the ceasefire's entries before its reports are %d, want 2 (the mission and the agreement)", len(head))
	}
	c.ok("add", "--batch", c.write("agreement.jsonl", strings.Join(head, "")))
	return c
}

// monitoredCLI is a record holding the seed case and the ceasefire's
// first week: 24 incidents.
func monitoredCLI(t *testing.T) *cli {
	t.Helper()
	c := seededCLI(t)
	for _, a := range examples.CeasefireAuthors {
		c.ok("key", "new", a[0])
	}
	c.ok("add", "--batch", "../../examples/ceasefire.jsonl")
	return c
}

// geoJSON decodes a FeatureCollection's features.
func geoJSON(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string         `json:"type"`
			ID         string         `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
		t.Fatalf("not a FeatureCollection (%v):\n%s", err, data)
	}
	var out []map[string]any
	for _, f := range fc.Features {
		if f.Type != "Feature" || !strings.HasPrefix(f.ID, "incident/") {
			t.Errorf("feature %+v", f)
		}
		out = append(out, f.Properties)
	}
	return out
}

// csvRows decodes CSV, header first.
func csvRows(t *testing.T, data []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, data)
	}
	return rows
}

func TestExportIncidents(t *testing.T) {
	c := monitoredCLI(t)
	dir := t.TempDir()
	for _, f := range []struct{ format, what string }{{"geojson", "GeoJSON features"}, {"acled", "ACLED CSV rows"}} {
		t.Run(f.format, func(t *testing.T) {
			file := filepath.Join(dir, "incidents."+f.format)
			out, stderr, err := c.run("", "export", "--format", f.format, file)
			if err != nil || out != "" || stderr != "exported 24 incidents as "+f.what+" to "+file+"\n" {
				t.Fatalf("export --format %s: %v, stdout %q, stderr %q", f.format, err, out, stderr)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if out := c.ok("export", "--format", f.format, "-"); out != string(data) {
				t.Errorf("export --format %s - differs from the file it writes", f.format)
			}
			if f.format == "geojson" {
				features := geoJSON(t, data)
				if len(features) != 24 {
					t.Fatalf("%d features, want 24", len(features))
				}
				return
			}
			rows := csvRows(t, data)
			if len(rows) != 25 || !slices.Equal(rows[0], export.ACLEDColumns) {
				t.Fatalf("%d rows, header %v", len(rows), rows[0])
			}
		})
	}
}

func TestExportIncidentsRemote(t *testing.T) {
	c := monitoredCLI(t)
	ctx := context.Background()
	rec, err := record.Open(ctx, c.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	acc := account.New(rec.Store(), account.Options{Argon: account.FastArgon})
	if _, err := acc.Create(ctx, "analyst", "a long enough password", account.Reader, ""); err != nil {
		t.Fatal(err)
	}
	token, _, err := acc.NewToken(ctx, "analyst", "cli test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(rec, acc, server.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	r := &remote{t: t, url: ts.URL, token: token, rec: rec, home: filepath.Join(t.TempDir(), "client")}
	for _, format := range []string{"geojson", "acled"} {
		if got, want := r.ok("export", "--format", format, "-"), c.ok("export", "--format", format, "-"); got != want {
			t.Errorf("export --format %s over the server differs from the local export:\n%s", format, got)
		}
	}
}

// importMaps are the --party and --reporter flags that map an ACLED export
// of the monitored record back to its parties and reporters.
func importMaps(t *testing.T, c *cli) []string {
	t.Helper()
	var args []string
	seen := map[string]bool{}
	for _, p := range geoJSON(t, []byte(c.ok("export", "--format", "geojson", "-"))) {
		against, name := p["against"].(string), p["against_name"].(string)
		if id, ok := strings.CutPrefix(against, "party/"); ok && !seen[name] {
			seen[name] = true
			args = append(args, "--party", name+"="+id)
		}
		by := p["reported_by"].(string)
		if _, id, ok := strings.Cut(by, "/"); ok && !seen[by] {
			seen[by] = true
			args = append(args, "--reporter", id+"="+id)
		}
	}
	return args
}

// acledCompared is a row of an ACLED export with what a fresh record
// cannot share with the one it came from left out: the id (each row is its
// own report), the timestamp (the entry that last changed it) and the tags
// that review sets (status, same_as).
func acledCompared(row []string) []string {
	out := slices.Clone(row)
	at := func(col string) int { return slices.Index(export.ACLEDColumns, col) }
	out[at("event_id_cnty")], out[at("timestamp")] = "", ""
	tags := strings.Split(out[at("tags")], ";")
	tags = slices.DeleteFunc(tags, func(s string) bool {
		return strings.HasPrefix(s, export.TagStatus+"=") || strings.HasPrefix(s, export.TagSameAs+"=")
	})
	out[at("tags")] = strings.Join(tags, ";")
	return out
}

func TestIncidentsImportRoundTrip(t *testing.T) {
	from := monitoredCLI(t)
	data := []byte(from.ok("export", "--format", "acled", "-"))
	file := from.write("incidents.csv", string(data))
	maps := importMaps(t, from)

	for _, how := range []string{"file", "pipe"} {
		t.Run(how, func(t *testing.T) {
			to := agreementCLI(t)
			before := to.size()
			args := append([]string{"incidents", "import", "--as", "monitor-north", "--agreement", "ceasefire-2025-03"}, maps...)
			var (
				out, stderr string
				err         error
			)
			if how == "file" {
				out, stderr, err = to.run("", append(args, file)...)
			} else {
				// Standard input that cannot seek: it is kept aside for
				// the second pass.
				out, stderr, err = to.runPipe(string(data), append(args, "-")...)
			}
			if err != nil {
				t.Fatalf("import: %v\nstderr: %s", err, stderr)
			}
			where := file
			if how == "pipe" {
				where = "stdin"
			}
			want := fmt.Sprintf("imported 24 reports under agreement/ceasefire-2025-03 from %s (entries %d to %d); 24 rows read, 0 skipped\n", where, before, before+23)
			if out != want || stderr != "" {
				t.Errorf("stdout %q, want %q; stderr %q", out, want, stderr)
			}
			if n := to.size(); n != before+24 {
				t.Errorf("the record grew from %d to %d entries, want 24 more", before, n)
			}
			got := csvRows(t, []byte(to.ok("export", "--format", "acled", "-")))
			wantRows := csvRows(t, data)
			if len(got) != len(wantRows) {
				t.Fatalf("%d rows back, want %d", len(got), len(wantRows))
			}
			for i := 1; i < len(got); i++ {
				if g, w := acledCompared(got[i]), acledCompared(wantRows[i]); !slices.Equal(g, w) {
					t.Errorf("row %d:\n got %q\nwant %q", i, g, w)
				}
			}
			// The entries describe the incidents' times, and name the file.
			show := to.ok("show", fmt.Sprint(before), "--json")
			if !strings.Contains(show, `"time": "2025-03-19T23:40:00Z"`) || !strings.Contains(show, "line 2") {
				t.Errorf("the first imported entry:\n%s", show)
			}

			// Again: every id is on the record now.
			size := to.size()
			_, stderr, err = to.run("", append(args, file)...)
			if exitCode(err) != 1 || to.size() != size || strings.Count(stderr, ": event_id_cnty: report ") != 24 {
				t.Errorf("a second import: %v, the record %d → %d entries; stderr:\n%s", err, size, to.size(), stderr)
			}
		})
	}
}

// runPipe runs parley with stdin as a reader that cannot seek, as a pipe.
func (c *cli) runPipe(stdin string, args ...string) (string, string, error) {
	var out, errw bytes.Buffer
	getenv := func(k string) string {
		if k == "PARLEY_DIR" {
			return c.dir
		}
		return ""
	}
	err := run(context.Background(), append([]string{"parley"}, args...), getenv, struct{ io.Reader }{strings.NewReader(stdin)}, &out, &errw)
	return out.String(), errw.String(), err
}

const importHeader = "event_id_cnty,event_date,sub_event_type,actor1,admin1,location,latitude,longitude,geo_precision,fatalities,tags"

func TestIncidentsImportBadRows(t *testing.T) {
	c := agreementCLI(t)
	base := []string{"incidents", "import", "--as", "monitor-north", "--agreement", "ceasefire-2025-03", "--reported-by", "monitoring-mission",
		"--party", "Russia=russia", "--party", "Belarus=belarus", "--party", "USA=united-states"}
	first := c.write("first.csv", importHeader+"\nPRE1,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,\n")
	if out := c.ok(append(base, first)...); !strings.Contains(out, "imported 1 reports") {
		t.Fatalf("import: %q", out)
	}

	data := strings.Join([]string{importHeader,
		"UKR1,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,",                    // 2: good
		"UKR2,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,98.39,37.85,1,0,",                    // 3: coordinates
		"UKR3,2025-03-21,,Russia,Donetsk,Toretsk,48.39,37.85,1,0,shelling;carpet-bombing",        // 4: category
		"UKR4,2025-03-21,Armed clash,Wagner Group,Donetsk,Toretsk,48.39,37.85,1,0,",              // 5: party not mapped
		"UKR5,2025-03-21,Armed clash,Belarus,Donetsk,Toretsk,48.39,37.85,1,0,",                   // 6: party not on the record
		"UKR6,2025-03-21,Armed clash,USA,Donetsk,Toretsk,48.39,37.85,1,0,",                       // 7: party not bound
		"UKR7,2025-02-30,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,",                    // 8: date
		"UKR1,2025-03-22,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,",                    // 9: repeated id
		"PRE1,2025-03-22,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,",                    // 10: already on the record
		"UKR8,21 March 2025,Shelling/artillery/missile attack,,Kherson,Kherson,46.63,32.61,2,3,", // 11: good
		"UKR9,2025-03-21,Armed clash,Russia,Donetsk,Toretsk",                                     // 12: too few fields
	}, "\n") + "\n"
	file := c.write("bad.csv", data)
	want := []string{"3: latitude: ", "4: tags: ", "5: actor1: ", "6: actor1: ", "7: actor1: ", "8: event_date: ", "9: event_id_cnty: ", "10: event_id_cnty: ", "12: "}

	before := c.size()
	out, stderr, err := c.run("", append(base, file)...)
	if exitCode(err) != 1 || out != "" || c.size() != before {
		t.Fatalf("import of bad rows: %v (exit %d), stdout %q; the record %d → %d entries", err, exitCode(err), out, before, c.size())
	}
	if msg := oneLine(err); !strings.Contains(msg, "9 of 11 rows are bad, so nothing was imported") || !strings.Contains(msg, "--good-only") {
		t.Errorf("error %q", msg)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d lines on stderr, want %d:\n%s", len(lines), len(want), stderr)
	}
	for i, w := range want {
		if i < len(lines) && !strings.HasPrefix(lines[i], file+":"+w) {
			t.Errorf("stderr line %d is %q, want it to begin %q", i+1, lines[i], file+":"+w)
		}
	}
	for _, s := range []string{"carpet-bombing", "Wagner Group", `no party called "belarus"`, "is not a party to", "line 2", "entry"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}

	// --good-only imports the two good rows, and still names the bad.
	out, stderr, err = c.run("", append(base, "--good-only", "--batch", "1", file)...)
	if err != nil || !strings.HasPrefix(out, "imported 2 reports") || !strings.Contains(out, "11 rows read, 9 skipped") || strings.Count(stderr, "\n") != len(want) {
		t.Fatalf("--good-only: %v, stdout %q, stderr:\n%s", err, out, stderr)
	}
	if c.size() != before+2 {
		t.Errorf("--good-only: the record grew from %d to %d, want 2 more", before, c.size())
	}
	features := geoJSON(t, []byte(c.ok("export", "--format", "geojson", "-")))
	var places []string
	for _, f := range features {
		places = append(places, f["report"].(string))
	}
	if !slices.Equal(places, []string{"report/ukr8", "report/pre1", "report/ukr1"}) && !slices.Equal(places, []string{"report/pre1", "report/ukr1", "report/ukr8"}) {
		t.Errorf("the record's reports are %v", places)
	}
}

func TestIncidentsImportRefusesTheFile(t *testing.T) {
	c := agreementCLI(t)
	good := importHeader + "\nUKR1,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,\n"
	args := func(file string, more ...string) []string {
		return append([]string{"incidents", "import", file, "--as", "monitor-north", "--reported-by", "monitoring-mission", "--party", "Russia=russia"}, more...)
	}
	noLat := c.write("nolat.csv", strings.Replace(strings.Replace(good, "latitude,", "", 1), "48.39,", "", 1))
	c.fails(1, `line 1: column "latitude" is required`, args(noLat, "--agreement", "ceasefire-2025-03")...)
	file := c.write("good.csv", good)
	c.fails(1, `--agreement: no agreement called "no-such-ceasefire" is on the record`, args(file, "--agreement", "no-such-ceasefire")...)
	c.fails(1, `--reported-by: no actor or party called "nobody" is on the record`,
		append(args(file, "--agreement", "ceasefire-2025-03"), "--reported-by", "nobody")...)
	c.fails(1, "may not report under", append(args(file, "--agreement", "ceasefire-2025-03"), "--reported-by", "united-states")...)
	c.fails(1, "nobody", "incidents", "import", file, "--as", "nobody", "--agreement", "ceasefire-2025-03")
	c.fails(2, "--as KEY", "incidents", "import", file, "--agreement", "ceasefire-2025-03")
	c.fails(2, "flag -party", "incidents", "import", file, "--as", "monitor-north", "--agreement", "ceasefire-2025-03", "--party", "Russia")
	c.fails(2, "say import", "incidents", "export")
}
