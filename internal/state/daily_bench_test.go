package state_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/incidents"
	"parley/internal/record"
	"parley/internal/state"
)

// BenchmarkDaily makes the daily report of a day of 1,500 incidents, the
// OSCE SMM's peak of a day, as `parley bench --steps monitoring` does
// (which also renders it, and times it on a record of a million).
func BenchmarkDaily(b *testing.B) {
	day := time.Date(2025, 3, 22, 0, 0, 0, 0, time.UTC)
	r := withIncidents(b, day, 1500)
	if _, err := r.Ask.Daily(b.Context(), state.Clock{}, "", day); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rep, err := r.Ask.Daily(b.Context(), state.Clock{}, "", day)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Incidents < 1500 {
			b.Fatalf("the report counts %d incidents, want at least 1500", rep.Incidents)
		}
	}
}

// withIncidents returns a record holding the seed case and n incidents on
// day under its ceasefire, imported as ACLED CSV as `parley incidents
// import` does.
func withIncidents(b *testing.B, day time.Time, n int) *record.Record {
	b.Helper()
	r, err := record.Init(b.Context(), filepath.Join(b.TempDir(), "rec"), "parley.test/daily")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if _, err := r.LoadSeed(b.Context()); err != nil {
		b.Fatal(err)
	}
	places := []struct {
		name, area string
		lat, lon   float64
	}{
		{"Pokrovsk", "Donetsk", 48.282, 37.176}, {"Toretsk", "Donetsk", 48.398, 37.847}, {"Huliaipole", "Zaporizhzhia", 47.664, 36.256},
		{"Orikhiv", "Zaporizhzhia", 47.567, 35.784}, {"Kupiansk", "Kharkiv", 49.711, 37.616},
	}
	cats := []string{"shelling", "explosion-impact", "small-arms", "drone-strike", "muzzle-flash", "illumination-flare"}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"event_id_cnty", "event_date", "actor1", "admin1", "location", "latitude", "longitude", "geo_precision", "tags", "fatalities"})
	rnd := rand.New(rand.NewPCG(1, 1))
	for i := range n {
		at := day.Add(time.Duration(rnd.Int64N(int64(24 * time.Hour))))
		p := places[rnd.IntN(len(places))]
		w.Write([]string{fmt.Sprintf("bench-%d", i), at.Format(time.DateOnly), []string{"Russia", "Ukraine"}[rnd.IntN(2)], p.area, p.name,
			fmt.Sprintf("%.4f", p.lat), fmt.Sprintf("%.4f", p.lon), "2", cats[rnd.IntN(len(cats))] + "; time=" + at.Format(time.RFC3339), "0"})
	}
	w.Flush()
	_, err = incidents.Import(b.Context(), r, &buf, incidents.ImportOptions{
		ReadOptions: incidents.ReadOptions{Agreement: "ceasefire-2025-03", ReportedBy: "monitoring-mission",
			Parties: map[string]string{"Russia": "russia", "Ukraine": "ukraine"}},
		As: "monitor-north",
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return r
}
