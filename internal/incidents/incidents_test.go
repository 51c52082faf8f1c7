package incidents_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/export"
	"parley/internal/incidents"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/vocab"
)

// seedIncidents are the incidents of the demo record: the seed case and
// the ceasefire's first week.
func seedIncidents(t *testing.T) []state.IncidentRow {
	t.Helper()
	ctx := context.Background()
	r, err := record.Init(ctx, t.TempDir(), "test.example/incidents")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := r.LoadSeed(ctx); err != nil {
		t.Fatal(err)
	}
	ans, err := r.Ask.Incidents(ctx, state.Clock{}, state.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Incidents) < 5 {
		t.Fatalf("the demo record has %d incidents; expected more", len(ans.Incidents))
	}
	return ans.Incidents
}

// each yields rows, as export.IncidentRows would.
func each(rows []state.IncidentRow) iter.Seq2[state.IncidentRow, error] {
	return func(yield func(state.IncidentRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// partyNames maps the rows' party names (and reporter ids) for reading back.
func partyNames(rows []state.IncidentRow) (parties, reporters map[string]string) {
	parties, reporters = map[string]string{}, map[string]string{}
	for _, r := range rows {
		if r.Against.Key != vocab.Unattributed {
			_, id, _ := strings.Cut(r.Against.Key, "/")
			parties[r.Against.Name] = id
		}
		if _, id, ok := strings.Cut(r.ReportedBy, "/"); ok {
			reporters[id] = id
		}
	}
	return parties, reporters
}

func TestACLEDRoundTrip(t *testing.T) {
	rows := seedIncidents(t)
	var buf bytes.Buffer
	if _, err := export.WriteACLED(&buf, each(rows)); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(buf.String(), "\n")
	if header != strings.Join(export.ACLEDColumns, ",") {
		t.Fatalf("header %q", header)
	}
	parties, reporters := partyNames(rows)
	im, err := incidents.ReadACLED(bytes.NewReader(buf.Bytes()), incidents.ReadOptions{Agreement: "ceasefire-2025-03", Parties: parties, Reporters: reporters})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Errors) > 0 {
		t.Fatalf("errors reading back what was written: %v", im.Errors)
	}
	if im.Rows != len(rows) || len(im.Reports) != len(rows) {
		t.Fatalf("read %d rows, %d reports; wrote %d", im.Rows, len(im.Reports), len(rows))
	}
	for i, row := range rows {
		b := im.Reports[i]
		in := b.Incidents[0]
		tm, err := vocab.ParseTime(in.Time)
		if err != nil {
			t.Fatal(err)
		}
		against := vocab.Unattributed
		if in.Against != "" {
			against = "party/" + in.Against
		}
		var ev []string
		for _, e := range row.Evidence {
			ev = append(ev, e.SHA256)
		}
		var gotEv []string
		for _, e := range in.Evidence {
			gotEv = append(gotEv, e.SHA256)
		}
		for _, c := range []struct {
			name      string
			got, want any
		}{
			{"id", "incident/" + b.ID, row.Incident.Key},
			{"time", tm, row.Time},
			{"place", in.Place, row.Place},
			{"area", in.Area, row.Area},
			{"lat", *in.Lat, row.Lat},
			{"lon", *in.Lon, row.Lon},
			{"precision", in.Precision, row.Precision},
			{"categories", in.Categories, row.Categories},
			{"weapons", in.Weapons, row.Weapons},
			{"count", in.Count, row.Count},
			{"fatalities", in.Fatalities, row.Fatalities},
			{"injured", in.Injured, row.Injured},
			{"against", against, row.Against.Key},
			{"reported_by", b.ReportedBy, strings.TrimPrefix(strings.TrimPrefix(row.ReportedBy, "party/"), "actor/")},
			{"source", b.Source, row.Source},
			{"notes", in.Notes, row.Notes},
			{"evidence", gotEv, ev},
		} {
			if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
				t.Errorf("%s: %s is %v, want %v", row.Incident.Key, c.name, c.got, c.want)
			}
		}
		if !tm.Equal(row.Time) {
			t.Errorf("%s: time %v, want %v exactly", row.Incident.Key, tm, row.Time)
		}
	}
}

// csvOf writes a header and rows as CSV.
func csvOf(header string, rows ...string) string {
	return header + "\n" + strings.Join(rows, "\n") + "\n"
}

const testHeader = "event_id_cnty,event_date,sub_event_type,actor1,admin1,location,latitude,longitude,geo_precision,fatalities,tags"

func testOptions() incidents.ReadOptions {
	return incidents.ReadOptions{Agreement: "ceasefire-2025-03", Parties: map[string]string{"Russia": "russia", "Military Forces of Ukraine (2019-)": "ukraine"}}
}

func TestReadACLEDBadRows(t *testing.T) {
	good := "UKR1,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,"
	data := csvOf(testHeader,
		good, // line 2
		"UKR2,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,98.39,37.85,1,0,",                          // 3: latitude
		"UKR3,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,-190,1,0,",                           // 4: longitude
		"UKR4,2025-03-21,,Russia,Donetsk,Toretsk,48.39,37.85,1,0,shelling;carpet-bombing",              // 5: tags
		"UKR5,2025-03-21,Armed clash,Wagner Group,Donetsk,Toretsk,48.39,37.85,1,0,",                    // 6: actor1
		"UKR6,2025-02-30,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,",                          // 7: event_date
		"UKR7,21 March 2025,Shelling/artillery/missile attack,,Kherson,Kherson,46.63,32.61,2,3,",       // 8: good
		"UKR8,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,abc,37.85,7,-1,",                           // 9: three fields
		"UKR1,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,",                          // 10: repeated id
		"UKR9,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,time=2025-03-22T01:00:00Z", // 11: tags time off the date
		"UKR10,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85",                              // 12: too few fields
		`UKR11,2025-03-21,Armed clash,Military Forces of Ukraine (2019-),"Donetsk",,48.39,37.85,1,0,`,  // 13: location
	)
	im, err := incidents.ReadACLED(strings.NewReader(data), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	type lf struct {
		Line  int
		Field string
	}
	var got []lf
	for _, e := range im.Errors {
		got = append(got, lf{e.Line, e.Field})
		if e.Message == "" {
			t.Errorf("%v has no message", e)
		}
	}
	want := []lf{{3, "latitude"}, {4, "longitude"}, {5, "tags"}, {6, "actor1"}, {7, "event_date"},
		{9, "latitude"}, {9, "geo_precision"}, {9, "fatalities"}, {10, "event_id_cnty"}, {11, "tags"}, {12, ""}, {13, "location"}}
	if !slices.Equal(got, want) {
		t.Errorf("errors at\n %v\nwant\n %v\nerrors: %v", got, want, im.Errors)
	}
	if im.Rows != 12 || len(im.Reports) != 2 {
		t.Fatalf("rows %d, reports %d; want 12, 2", im.Rows, len(im.Reports))
	}
	r := im.Reports[1]
	in := r.Incidents[0]
	if r.ID != "ukr7" || in.Time != "2025-03-21" || in.Against != "" || in.Categories[0] != "shelling" || in.Precision != "near" || in.Fatalities != 3 {
		t.Errorf("line 8 read as %+v, %+v", r, in)
	}
	for _, e := range im.Errors {
		if e.Line == 5 && !strings.Contains(e.Message, "carpet-bombing") {
			t.Errorf("unknown category error does not name it: %v", e)
		}
		if e.Line == 6 && !strings.Contains(e.Message, "Wagner Group") {
			t.Errorf("unknown party error does not name it: %v", e)
		}
	}
}

func TestReadACLEDMissingColumn(t *testing.T) {
	for _, col := range []string{"event_date", "latitude", "longitude", "location"} {
		t.Run(col, func(t *testing.T) {
			cols := slices.DeleteFunc(strings.Split(testHeader, ","), func(c string) bool { return c == col })
			_, err := incidents.ReadACLED(strings.NewReader(strings.Join(cols, ",")+"\n"), testOptions())
			if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), col) {
				t.Fatalf("got %v, want an invalid-file error naming %s", err, col)
			}
		})
	}
	t.Run("sub_event_type and tags", func(t *testing.T) {
		_, err := incidents.ReadACLED(strings.NewReader("event_date,latitude,longitude,location\n"), testOptions())
		if err == nil || !strings.Contains(err.Error(), "sub_event_type") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if _, err := incidents.ReadACLED(strings.NewReader(""), testOptions()); err == nil {
			t.Fatal("an empty file read without error")
		}
	})
}

func TestReadACLEDColumnsInAnyOrder(t *testing.T) {
	data := "\ufeffLongitude,location,tags,latitude,event_date,notes\n37.85,Toretsk,small-arms;count=4,48.39,2025-03-21,\"shots, then a burst\nat dawn\"\n37.9,Pokrovsk,,48.28,2025-03-22,\n"
	im, err := incidents.ReadACLED(strings.NewReader(data), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Reports) != 1 || len(im.Errors) != 1 || im.Errors[0].Line != 4 || im.Errors[0].Field != "tags" {
		t.Fatalf("got %+v", im)
	}
	in := im.Reports[0].Incidents[0]
	if im.Reports[0].ID != "row-2" || *in.Lon != 37.85 || *in.Lat != 48.39 || in.Count != 4 || in.Notes != "shots, then a burst\nat dawn" {
		t.Errorf("got %+v %+v", im.Reports[0], in)
	}
}

func TestEachACLEDStopsAtFirstProblemWithoutBad(t *testing.T) {
	data := csvOf(testHeader, "UKR1,2025-03-21,Armed clash,Russia,Donetsk,Toretsk,48.39,37.85,1,0,", "x,nope,Armed clash,,D,T,1,1,1,0,", "y,nope,,,,,,,,,")
	n := 0
	err := incidents.EachACLED(strings.NewReader(data), testOptions(), func(int, vocab.ReportBody) error { n++; return nil }, nil)
	var re incidents.RowError
	if !errors.As(err, &re) || re.Line != 3 || re.Field != "event_date" || n != 1 {
		t.Fatalf("got %v after %d reports", err, n)
	}
}

func TestCleanIDs(t *testing.T) {
	data := csvOf("event_id_cnty,event_date,latitude,longitude,location,sub_event_type",
		"UKR 12345,2025-03-21,1,1,A,Armed clash", "--Weird__ID!!,2025-03-21,1,1,A,Armed clash", ",2025-03-21,1,1,A,Armed clash",
		strings.Repeat("A", 80)+",2025-03-21,1,1,A,Armed clash")
	im, err := incidents.ReadACLED(strings.NewReader(data), testOptions())
	if err != nil || len(im.Errors) > 0 {
		t.Fatal(err, im.Errors)
	}
	var ids []string
	for _, r := range im.Reports {
		ids = append(ids, r.ID)
	}
	want := []string{"ukr-12345", "weird__id", "row-4", strings.Repeat("a", 64)}
	if !slices.Equal(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
}

// generated writes n rows of ACLED CSV as WriteACLED would.
func generated(n int) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(export.ACLEDColumns)
	rec := make([]string, len(export.ACLEDColumns))
	subs := []string{"Shelling/artillery/missile attack", "Air/drone strike", "Armed clash", "Remote explosive/landmine/IED"}
	places := []string{"Toretsk", "Pokrovsk", "Kherson", "Zaporizhzhia", "Kharkiv", "Sumy", "Nikopol"}
	day := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	for i := range n {
		t := day.Add(time.Duration(i%(30*24*60)) * time.Minute)
		clear(rec)
		rec[0] = fmt.Sprintf("UKR%d", i+1)
		rec[1] = t.Format(time.DateOnly)
		rec[2] = "2025"
		rec[5] = "Explosions/Remote violence"
		rec[6] = subs[i%len(subs)]
		rec[7] = "Russia"
		rec[18] = "Donetsk"
		rec[21] = places[i%len(places)]
		rec[22] = fmt.Sprintf("%.4f", 46+float64(i%700)/100)
		rec[23] = fmt.Sprintf("%.4f", 32+float64(i%600)/100)
		rec[24] = "2"
		rec[25] = "Mission daily report"
		rec[27] = "Several explosions, then small-arms fire, heard from the observation post."
		rec[28] = "0"
		rec[29] = "shelling;time=" + t.Format(time.RFC3339) + ";count=3"
		w.Write(rec)
	}
	w.Flush()
	return buf.Bytes()
}

func TestReadGenerated(t *testing.T) {
	im, err := incidents.ReadACLED(bytes.NewReader(generated(1000)), testOptions())
	if err != nil || len(im.Errors) > 0 || len(im.Reports) != 1000 {
		t.Fatal(err, im.Errors, len(im.Reports))
	}
}

// BenchmarkReadACLED reads 100,000 generated rows into reports, and reports
// beside the rate the floor: csv.Reader alone over the same bytes. Each
// iteration does both, so ns/op is their sum; rows/s and
// csv-floor-rows/s are each timed on its own.
func BenchmarkReadACLED(b *testing.B) {
	const rows = 100_000
	data := generated(rows)
	opts := testOptions()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var readTime, csvTime time.Duration
	for b.Loop() {
		start := time.Now()
		im, err := incidents.ReadACLED(bytes.NewReader(data), opts)
		if err != nil || len(im.Reports) != rows {
			b.Fatal(err, len(im.Errors))
		}
		readTime += time.Since(start)
		start = time.Now()
		cr := csv.NewReader(bytes.NewReader(data))
		cr.ReuseRecord = true
		for {
			_, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		csvTime += time.Since(start)
	}
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/readTime.Seconds(), "rows/s")
	b.ReportMetric(total/csvTime.Seconds(), "csv-floor-rows/s")
}
