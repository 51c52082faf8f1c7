package geo

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// month returns n days from 1 March 2026 and three parties' counts.
func month(n int) ([]time.Time, []Series) {
	r := rand.New(rand.NewPCG(5, 6))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	days := make([]time.Time, n)
	series := []Series{{Name: "Russia"}, {Name: "Ukraine"}, {Name: "Unattributed <unknown> & other"}}
	for i := range days {
		days[i] = start.AddDate(0, 0, i)
		for s := range series {
			series[s].Values = append(series[s].Values, r.IntN(40))
		}
	}
	return days, series
}

func renderChart(t testing.TB, days []time.Time, series []Series, opt ChartOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderDailyChart(&buf, days, series, opt); err != nil {
		t.Fatalf("RenderDailyChart: %v", err)
	}
	wellFormed(t, buf.Bytes())
	return buf.Bytes()
}

func TestRenderDailyChart(t *testing.T) {
	d30, s30 := month(30)
	d120, s120 := month(120)
	tests := []struct {
		name   string
		days   []time.Time
		series []Series
		opt    ChartOptions
		want   []string
	}{
		{"month", d30, s30, ChartOptions{Title: "Violations per day, March 2026"}, []string{"<rect", "1 Mar", "Unattributed &lt;unknown&gt; &amp; other", "Russia, Sun 1 Mar 2026: "}},
		{"many days as lines", d120, s120, ChartOptions{}, []string{`stroke-dasharray="6 3"`, "Violations per day from 1 March 2026 to 28 June 2026, lines"}},
		{"empty", nil, nil, ChartOptions{}, []string{"No data", "Violations per day: no data."}},
		{"no series", d30, nil, ChartOptions{}, []string{"No data", "1 Mar"}},
		{"zeros", d30[:3], []Series{{Name: "A", Values: []int{0, 0, 0}}}, ChartOptions{Width: 300, Height: 200}, []string{">1</text>", "A: 0 violations in all."}},
		{"seven parties", d30[:7], func() []Series {
			var ss []Series
			for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
				ss = append(ss, Series{Name: "party " + n, Values: []int{1, 2, 3, 4, 5, 6, 7}})
			}
			return ss
		}(), ChartOptions{Width: 480, Height: 320}, []string{"party h (28)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := renderChart(t, tt.days, tt.series, tt.opt)
			keep(t, "chart-"+strings.ReplaceAll(tt.name, " ", "-")+".svg", b)
			for _, w := range tt.want {
				if !bytes.Contains(b, []byte(w)) {
					t.Errorf("no %q in the chart", w)
				}
			}
		})
	}
}

func TestRenderDailyChartBars(t *testing.T) {
	days, series := month(30)
	b := renderChart(t, days, series, ChartOptions{})
	if n := bytes.Count(b, []byte("violations</title></rect>")) + bytes.Count(b, []byte("violation</title></rect>")); n != 90 {
		t.Errorf("%d bars with a tooltip, want 90", n)
	}
	// Day labels are sparse: far fewer than 30 on 960 pixels... but some.
	if n := bytes.Count(b, []byte(` Mar</text>`)); n < 5 || n > 20 {
		t.Errorf("%d day labels for 30 days", n)
	}
}

func TestRenderDailyChartErrors(t *testing.T) {
	days, _ := month(3)
	tests := []struct {
		name   string
		series []Series
		opt    ChartOptions
		want   string
	}{
		{"length", []Series{{Name: "A", Values: []int{1, 2}}}, ChartOptions{}, `series 0 ("A"): 2 values for 3 days`},
		{"negative", []Series{{Name: "A", Values: []int{1, -2, 3}}}, ChartOptions{}, `day 1 (2026-03-02): negative count -2`},
		{"size", nil, ChartOptions{Width: 100000}, "size 100000x360"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := RenderDailyChart(&buf, days, tt.series, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
}
