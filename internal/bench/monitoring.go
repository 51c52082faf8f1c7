package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"parley/internal/geo"
	"parley/internal/incidents"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
	"parley/internal/web"
)

// Goals of the monitoring (issue 7).
const (
	complianceGoal = 20 * time.Millisecond
	dailyGoal      = 100 * time.Millisecond
	// peakDay is the incidents of the busiest day, the OSCE SMM's peak of
	// February 2022.
	peakDay = 1500
)

// The seed ceasefire's first day, and the day the generated peak falls on.
var (
	ceasefireStart = time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC)
	peakDate       = time.Date(2025, 3, 22, 0, 0, 0, 0, time.UTC)
)

// measureMonitoring imports cfg.Incidents generated incident reports (ACLED
// CSV, one incident a row) into a record holding the seed case and its
// ceasefire, through the same code as `parley incidents import`; then
// times the compliance question, the daily report of the busiest day
// (peakDay incidents) and its map.
func measureMonitoring(ctx context.Context, cfg Config, dir string, r *report) error {
	path := filepath.Join(dir, "monitoring")
	rec, err := record.Init(ctx, path, "parley.bench/monitoring")
	if err != nil {
		return err
	}
	defer rec.Close()
	if _, err := rec.LoadSeed(ctx); err != nil {
		return err
	}
	seed, err := rec.Ask.Incidents(ctx, state.Clock{}, state.IncidentFilter{Limit: 10_000})
	if err != nil {
		return err
	}
	csvPath := filepath.Join(dir, "incidents.csv")
	progress(cfg, "writing %s incident reports as ACLED CSV", count(cfg.Incidents))
	size, err := writeIncidentCSV(csvPath, cfg.Incidents)
	if err != nil {
		return err
	}

	// The floor of an import: reading the same file's rows as CSV.
	start := time.Now()
	rows, err := countCSVRows(csvPath)
	if err != nil {
		return err
	}
	csvRate := float64(rows) / time.Since(start).Seconds()

	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	t := newTicker(cfg)
	start = time.Now()
	sum, err := incidents.Import(ctx, rec, f, incidents.ImportOptions{
		ReadOptions: incidents.ReadOptions{Agreement: "ceasefire-2025-03", ReportedBy: "monitoring-mission",
			Parties: map[string]string{"Russia": "russia", "Ukraine": "ukraine"}},
		As: "monitor-north",
	}, func(p incidents.Progress) {
		if p.Appending {
			t.say("imported %s of %s reports", count(p.Rows), count(p.Of))
		} else {
			t.say("checked %s rows (%s of %s)", count(p.Rows), mib(p.Bytes), mib(size))
		}
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	took := time.Since(start)
	rate := float64(sum.Imported) / took.Seconds()
	r.add(figure{name: fmt.Sprintf("incident reports imported from ACLED CSV, %s", count(sum.Imported)),
		value: fmt.Sprintf("%s rows/s", count(int64(rate))), num: rate,
		limit: fmt.Sprintf("%s rows/s read as CSV", count(int64(csvRate))), ratio: fmt.Sprintf("%.3f", rate/csvRate)})

	// Compliance, over the agreement's whole period and over random weeks
	// of it: each a new question, not the answer cache.
	rnd := rand.New(rand.NewPCG(7, 7))
	var comp, floor []time.Duration
	for i := range cfg.Asks {
		from, to := time.Time{}, time.Time{}
		if i%2 == 1 {
			from = ceasefireStart.AddDate(0, 0, rnd.IntN(23))
			to = from.AddDate(0, 0, 6)
		}
		start := time.Now()
		c, err := rec.Ask.Compliance(ctx, state.Clock{}, "", from, to)
		comp = append(comp, time.Since(start))
		if err != nil {
			return fmt.Errorf("compliance: %w", err)
		}
		if i == 0 && c.Incidents+c.Duplicates < peakDay {
			return fmt.Errorf("compliance counts %d incidents, fewer than the %d of the peak day", c.Incidents+c.Duplicates, peakDay)
		}
		// The floor: one read of the store, its size.
		start = time.Now()
		if _, err := rec.Store().Size(ctx); err != nil {
			return err
		}
		floor = append(floor, time.Since(start))
	}
	slices.Sort(comp)
	slices.Sort(floor)
	p99 := quantile(comp, 0.99)
	r.add(figure{name: fmt.Sprintf("ask compliance p99, %s incidents (p50 %s)", count(sum.Imported+int64(len(seed.Incidents))), ms(quantile(comp, 0.5))),
		value: ms(p99), num: float64(p99), limit: ms(quantile(floor, 0.99)) + " one store read",
		ratio: fmt.Sprintf("%.2f of goal", float64(p99)/float64(complianceGoal)), goal: "<= " + ms(complianceGoal), met: met(p99 <= complianceGoal)})

	// The daily report of the busiest day, made and rendered as HTML.
	var daily, copies []time.Duration
	var page bytes.Buffer
	n := cfg.Asks
	runtime.GC() // the import's garbage is not the report's
	// The page's templates are parsed once, as a server does when it starts.
	if err := web.RenderDaily(io.Discard, state.DailyReport{}); err != nil {
		return err
	}
	for range n {
		page.Reset()
		start := time.Now()
		rep, err := rec.Ask.Daily(ctx, state.Clock{}, "", peakDate)
		if err == nil {
			err = web.RenderDaily(&page, rep)
		}
		daily = append(daily, time.Since(start))
		if err != nil {
			return fmt.Errorf("daily report: %w", err)
		}
		if rep.Incidents+rep.Duplicates < peakDay {
			return fmt.Errorf("the daily report of %s counts %d incidents, want at least %d", peakDate.Format(time.DateOnly), rep.Incidents, peakDay)
		}
		copies = append(copies, readDay(ctx, rec))
	}
	slices.Sort(daily)
	slices.Sort(copies)
	p99 = quantile(daily, 0.99)
	r.add(figure{name: fmt.Sprintf("daily report of %s incidents, made and rendered, p99 (p50 %s; %s of HTML)", count(int64(peakDay)), ms(quantile(daily, 0.5)), mib(int64(page.Len()))),
		value: ms(p99), num: float64(p99), limit: ms(quantile(copies, 0.99)) + " to read the day's incidents",
		ratio: fmt.Sprintf("%.2f of goal", float64(p99)/float64(dailyGoal)), goal: "<= " + ms(dailyGoal), met: met(p99 <= dailyGoal)})

	// The busiest day's map: its incidents asked for and drawn.
	var maps []time.Duration
	copies = copies[:0]
	for range n {
		page.Reset()
		start := time.Now()
		inc, err := rec.Ask.Incidents(ctx, state.Clock{}, state.IncidentFilter{From: peakDate, To: peakDate.AddDate(0, 0, 1), Limit: 5000})
		if err != nil {
			return fmt.Errorf("map: %w", err)
		}
		pts := make([]geo.Point, 0, len(inc.Incidents))
		for _, in := range inc.Incidents {
			pts = append(pts, geo.Point{Lat: in.Lat, Lon: in.Lon, Status: in.Status, Label: in.Place})
		}
		if err := geo.RenderMap(&page, pts, geo.MapOptions{Title: "Incidents of " + peakDate.Format(time.DateOnly)}); err != nil {
			return fmt.Errorf("map: %w", err)
		}
		maps = append(maps, time.Since(start))
		copies = append(copies, readDay(ctx, rec))
	}
	slices.Sort(maps)
	slices.Sort(copies)
	p99 = quantile(maps, 0.99)
	r.add(figure{name: fmt.Sprintf("map of a day of %s incidents, asked and drawn, p99 (p50 %s; %s of SVG)", count(int64(peakDay)), ms(quantile(maps, 0.5)), mib(int64(page.Len()))),
		value: ms(p99), num: float64(p99), limit: ms(quantile(copies, 0.99)) + " to read the day's incidents", ratio: fmt.Sprintf("%.1f", float64(p99)/float64(max(quantile(copies, 0.99), time.Microsecond)))})

	r.note("monitoring: %s incident reports (one incident a row; %s on %s, the OSCE SMM's peak of a day, the rest spread over the 1,000 days up to the end of the seed case's 30-day ceasefire, most before it) written as ACLED CSV and imported into a record holding the seed case with `incidents.Import`, as `parley incidents import` does: every row checked against the record first, then signed and appended 1,000 at a time with the projection on. Its limit is reading the same rows with encoding/csv. Compliance is asked %d times, over the whole period and over random weeks (each a new question, not the answer cache), from the store's tallies; its limit is one read of the store. The daily report of the busiest day is made and rendered as the standalone HTML page (its templates parsed beforehand, as a server does at start), and its map asked for and drawn, %d times each; their limit is reading the day's incident facts from the store.",
		count(sum.Imported), count(int64(peakDay)), peakDate.Format(time.DateOnly), cfg.Asks, n)
	return nil
}

// readDay is how long reading the busiest day's incident facts from the
// store takes, without decoding them: the least a report or map of the day
// costs.
func readDay(ctx context.Context, rec *record.Record) time.Duration {
	start := time.Now()
	rec.Store().Facts(ctx, store.FactQuery{Kind: vocab.FactIncident, Subject: "agreement/ceasefire-2025-03", Latest: true,
		From: peakDate, Until: peakDate.AddDate(0, 0, 1)}, func(store.Fact) error { return nil })
	return time.Since(start)
}

// ms writes d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// writeIncidentCSV writes n incidents as ACLED CSV: peakDay of them on
// peakDate, the rest over the 1,000 days up to the ceasefire's end, along
// the front in the Donbas and Zaporizhzhia. It returns the file's size.
func writeIncidentCSV(path string, n int64) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"event_id_cnty", "event_date", "actor1", "admin1", "location", "latitude", "longitude", "geo_precision", "tags", "fatalities"})
	rnd := rand.New(rand.NewPCG(1, 1))
	places := []struct {
		name, area string
		lat, lon   float64
	}{
		{"Pokrovsk", "Donetsk", 48.282, 37.176}, {"Toretsk", "Donetsk", 48.398, 37.847}, {"Chasiv Yar", "Donetsk", 48.586, 37.835},
		{"Kostiantynivka", "Donetsk", 48.527, 37.706}, {"Huliaipole", "Zaporizhzhia", 47.664, 36.256},
		{"Orikhiv", "Zaporizhzhia", 47.567, 35.784}, {"Kupiansk", "Kharkiv", 49.711, 37.616},
	}
	cats := []string{"shelling", "explosion-impact", "explosion-airburst", "small-arms", "drone-strike", "muzzle-flash", "illumination-flare"}
	parties := []string{"Russia", "Ukraine"}
	for i := range n {
		// The peak day holds peakDay incidents and no more: the rest fall
		// on the 1,000 days up to the ceasefire's end (most before it, as
		// reports of the war), about a thousand a day.
		day := peakDate
		for i >= peakDay && day.Equal(peakDate) {
			day = ceasefireStart.AddDate(0, 0, 30-rnd.IntN(1000))
		}
		at := day.Add(time.Duration(rnd.Int64N(int64(24 * time.Hour))))
		p := places[rnd.IntN(len(places))]
		tags := cats[rnd.IntN(len(cats))] + "; time=" + at.Format(time.RFC3339)
		err := w.Write([]string{fmt.Sprintf("gen-%d", i), at.Format(time.DateOnly), parties[rnd.IntN(2)], p.area, p.name,
			fmt.Sprintf("%.4f", p.lat+rnd.Float64()*0.2-0.1), fmt.Sprintf("%.4f", p.lon+rnd.Float64()*0.2-0.1), "2", tags, "0"})
		if err != nil {
			return 0, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), f.Close()
}

// countCSVRows reads the file's rows with encoding/csv alone.
func countCSVRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.ReuseRecord = true
	var n int64
	for {
		_, err := cr.Read()
		if err == io.EOF {
			return n - 1, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}
