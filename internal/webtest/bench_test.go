package webtest

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
)

var renderRecord = flag.String("render-record", "",
	"the record directory BenchmarkOverviewRender renders (a big one, say 1,000,000 entries); default: a fresh record holding the seed case")

// pageGoal is the most the overview may weigh, HTML, CSS and JS together,
// uncompressed.
const pageGoal = 100 << 10

// floorPath serves the floor of the browser figures: the least page a
// browser can render, from the same server.
const floorPath = "/floor-of-the-figures"

const floorPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>floor</title>` +
	`<link rel="icon" href="data:,"></head><body><p>An empty page.</p></body></html>`

func withFloor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != floorPath {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, floorPage)
	})
}

// A load is what the browser measured of one page load.
type load struct {
	FCP   float64  `json:"fcp"`  // first contentful paint, ms after the navigation started
	Load  float64  `json:"load"` // the load event's end, ms
	HTML  int64    `json:"html"` // the document's bytes, uncompressed
	CSS   int64    `json:"css"`
	JS    int64    `json:"js"`
	Other int64    `json:"other"`
	Files []string `json:"files"` // each file and its bytes
}

func (l load) bytes() int64 { return l.HTML + l.CSS + l.JS + l.Other }

// measure loads path with the cache off and reads the Performance API.
func (tb *tab) measure(path string) load {
	tb.t.Helper()
	if status := tb.open(path); status != http.StatusOK {
		tb.t.Fatalf("GET %s: %d (%s)", path, status, tb.where())
	}
	tb.waitFor("the first contentful paint of "+path, `performance.getEntriesByName("first-contentful-paint").length > 0 &&
		performance.getEntriesByType("navigation")[0].loadEventEnd > 0`)
	return eval[load](tb, `(() => {
		const nav = performance.getEntriesByType("navigation")[0];
		const out = {fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,
			load: nav.loadEventEnd, html: nav.decodedBodySize, css: 0, js: 0, other: 0, files: []};
		for (const r of performance.getEntriesByType("resource")) {
			const path = new URL(r.name).pathname;
			if (path.startsWith("/api/")) continue; // the live feed: data, not page
			const kind = path.endsWith(".css") ? "css" : path.endsWith(".js") ? "js" : "other";
			out[kind] += r.decodedBodySize;
			out.files.push(path + " " + r.decodedBodySize);
		}
		return out;
	})()`)
}

// BenchmarkOverviewInBrowser measures the overview in Chromium on loopback,
// cache off: its weight (HTML + CSS + JS as fetched, uncompressed; the goal
// is at most 100 KB) and its first contentful paint, beside the same for
// an empty page from the same server (the floor).
func BenchmarkOverviewInBrowser(b *testing.B) {
	s := startSite(b, siteOptions{wrap: withFloor})
	tb := s.newTab(b)
	tb.signIn(readerName)
	call(tb, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
	var page, floor []load
	for b.Loop() {
		floor = append(floor, tb.measure(floorPath))
		page = append(page, tb.measure("/"))
	}
	w := page[0]
	b.ReportMetric(float64(w.bytes()), "page-bytes")
	b.ReportMetric(median(page, func(l load) float64 { return l.FCP }), "fcp-ms")
	b.ReportMetric(median(floor, func(l load) float64 { return l.FCP }), "floor-fcp-ms")
	b.ReportMetric(median(page, func(l load) float64 { return l.Load }), "load-ms")
	b.ReportMetric(median(floor, func(l load) float64 { return l.Load }), "floor-load-ms")
	verdict := "within the goal"
	if w.bytes() > pageGoal {
		verdict = "OVER THE GOAL"
	}
	b.Logf("overview weight: %.1f KB (HTML %.1f KB, CSS %.1f KB, JS %.1f KB, other %.1f KB): %s of %d KB; files: %s",
		kb(w.bytes()), kb(w.HTML), kb(w.CSS), kb(w.JS), kb(w.Other), verdict, pageGoal>>10, strings.Join(w.Files, ", "))
	b.Logf("first contentful paint, median of %d loads: overview %.1f ms, floor (an empty page) %.1f ms; load event: %.1f ms, floor %.1f ms",
		len(page), median(page, func(l load) float64 { return l.FCP }), median(floor, func(l load) float64 { return l.FCP }),
		median(page, func(l load) float64 { return l.Load }), median(floor, func(l load) float64 { return l.Load }))
}

func kb(n int64) float64 { return float64(n) / 1024 }

func median(ls []load, f func(load) float64) float64 {
	v := make([]float64, len(ls))
	for i, l := range ls {
		v[i] = f(l)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// BenchmarkOverviewRender times the server's render of the overview (the
// handler, no network) on the seed record, or on -render-record's: p50 and
// p99 over the renders, and the first render, which asks the questions
// afresh (later ones reuse the answers until the log grows). "as-of" moves
// the clock a day each render, so that every render folds the log again.
func BenchmarkOverviewRender(b *testing.B) {
	s := startSite(b, siteOptions{publicRead: true, dir: *renderRecord})
	size := s.rec.Log.Size()
	render := func(path string) (time.Duration, int) {
		req := httptest.NewRequest("GET", path, nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		s.handler.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
		}
		return d, rec.Body.Len()
	}
	for _, c := range []struct {
		name string
		path func(i int) string
	}{
		{"now", func(int) string { return "/" }},
		{"as-of", func(i int) string {
			return "/?as_of=" + time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%3650).Format(time.DateOnly)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			first, html := render(c.path(0))
			var ds []time.Duration
			i := 0
			for b.Loop() {
				d, _ := render(c.path(i))
				ds = append(ds, d)
				i++
			}
			slices.Sort(ds)
			p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
			b.ReportMetric(p(0.50), "p50-ms")
			b.ReportMetric(p(0.99), "p99-ms")
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			b.ReportMetric(float64(html), "html-bytes")
			b.Logf("%s, on a record of %d entries: %d renders, p50 %.2f ms, p99 %.2f ms, first %s, %d bytes of HTML",
				c.name, size, len(ds), p(0.5), p(0.99), first, html)
		})
	}
}
