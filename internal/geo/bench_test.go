package geo

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkRenderMap1500 draws a day at the OSCE mission's peak: 1,500
// incidents over the Donbas front. Beside the time to draw, it reports the
// physical floor measured in the same run: the time to copy the same
// number of bytes into a buffer (copy-ns/op), and the size (bytes/op).
func BenchmarkRenderMap1500(b *testing.B) {
	pts := donbas(1500, 42)
	opt := MapOptions{Title: "Incidents, 1,500 reports"}
	var buf bytes.Buffer
	if err := RenderMap(&buf, pts, opt); err != nil {
		b.Fatal(err)
	}
	out := bytes.Clone(buf.Bytes())
	keep(b, "bench-map-1500.svg", out)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := RenderMap(&buf, pts, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(out)), "bytes/op")
	b.ReportMetric(copyFloor(out, b.N), "copy-ns/op")
}

// BenchmarkRenderDailyChart draws 30 days for 3 parties.
func BenchmarkRenderDailyChart(b *testing.B) {
	days, series := month(30)
	var buf bytes.Buffer
	if err := RenderDailyChart(&buf, days, series, ChartOptions{Title: "March"}); err != nil {
		b.Fatal(err)
	}
	out := bytes.Clone(buf.Bytes())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := RenderDailyChart(&buf, days, series, ChartOptions{Title: "March"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(out)), "bytes/op")
	b.ReportMetric(copyFloor(out, b.N), "copy-ns/op")
}

// copyFloor measures, in the same run, the nanoseconds to write out into a
// buffer already large enough: the least any renderer producing it could
// take.
func copyFloor(out []byte, n int) float64 {
	n = max(n, 10000)
	sink := 0
	var buf bytes.Buffer
	buf.Grow(len(out))
	start := time.Now()
	for range n {
		buf.Reset()
		buf.Write(out)
		sink += buf.Len()
	}
	el := time.Since(start)
	if sink != n*len(out) {
		panic("short copy")
	}
	return float64(el.Nanoseconds()) / float64(n)
}
