package geo

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Series is one party's count of violations per day.
type Series struct {
	// Name is the party's name, shown in the legend.
	Name string
	// Values holds one count per day, in the order of the days.
	Values []int
}

// ChartOptions says how to draw a chart. The zero value draws a 960×360
// chart.
type ChartOptions struct {
	// Width and Height are the size of the picture in pixels; 0 means
	// 960 by 360.
	Width, Height int
	// Title is written above the chart and names it for screen readers.
	Title string
	// ID prefixes the ids of the picture's elements; by default one is
	// derived from the title and the data.
	ID string
}

// seriesStyle tells parties apart by colour and, for readers who cannot
// see the colours, by the bars' hatching and the lines' dashes and marker
// shapes. The colours are the Okabe–Ito palette's.
var seriesStyles = [...]struct {
	colour string
	dash   string // stroke-dasharray of the line, "" for solid
	mark   string // marker path centred on 0,0
	hatch  string // hatching path on an 8×8 tile, "" for solid bars
}{
	{"#0072B2", "", "M-3.5 0a3.5 3.5 0 1 0 7 0a3.5 3.5 0 1 0-7 0z", ""},
	{"#D55E00", "6 3", "M-3.5-3.5h7v7h-7z", "M-2 2l4-4M0 8l8-8M6 10l4-4"},
	{"#009E73", "2 2", "M0-4.5L4 3H-4z", "M0 4h8"},
	{"#CC79A7", "8 2 2 2", "M0-4.5L4.5 0L0 4.5L-4.5 0z", "M-2 6l4 4M0 0l8 8M6-2l4 4"},
	{"#E69F00", "1 3", "M-3-3l6 6M3-3l-6 6", "M4 0v8"},
	{"#56B4E9", "10 3", "M-3.5 0a3.5 3.5 0 1 0 7 0a3.5 3.5 0 1 0-7 0z", "M-2 2l4-4M0 8l8-8M6 10l4-4M-2 6l4 4M0 0l8 8M6-2l4 4"},
	{"#000000", "4 4", "M-3.5-3.5h7v7h-7z", ""},
}

// RenderDailyChart draws violations per day, one series per party, as an
// SVG document for inline use, and writes it to w in one write: grouped
// bars when each bar can be at least a few pixels wide, or else lines with
// a marker per day. Days are labelled along the bottom, as many as fit;
// each bar or marker has a tooltip with its party, day and count. It
// returns an error, and writes nothing, if a series has not one value per
// day, a value is negative, or an option is invalid.
func RenderDailyChart(w io.Writer, days []time.Time, series []Series, opt ChartOptions) error {
	width, height, err := checkSize(opt.Width, opt.Height, 960, 360)
	if err != nil {
		return fmt.Errorf("render chart: %w", err)
	}
	maxV := 0
	for i, s := range series {
		if len(s.Values) != len(days) {
			return fmt.Errorf("render chart: series %d (%q): %d values for %d days (want one per day)", i, s.Name, len(s.Values), len(days))
		}
		for j, v := range s.Values {
			if v < 0 {
				return fmt.Errorf("render chart: series %d (%q): day %d (%s): negative count %d", i, s.Name, j, days[j].Format(time.DateOnly), v)
			}
			maxV = max(maxV, v)
		}
	}
	parts := []string{opt.Title, strconv.Itoa(len(days))}
	if len(days) > 0 {
		parts = append(parts, days[0].Format(time.DateOnly))
	}
	for _, s := range series {
		parts = append(parts, s.Name)
	}
	id, err := idPrefix(opt.ID, "chart", parts...)
	if err != nil {
		return fmt.Errorf("render chart: %w", err)
	}

	c := &svg{}
	W, H := float64(width), float64(height)
	title := opt.Title
	if title == "" {
		title = "Violations per day"
	}
	top := 16.0
	if opt.Title != "" {
		top = titleBand + 8
	}
	// The legend flows under the axis labels.
	type entry struct{ x, y float64 }
	var legend []entry
	lx, lrow := 48.0, 0
	for i, s := range series {
		w := 40 + textWidth(legendText(s), 11) + 14
		if lx+w > W-8 && i > 0 {
			lx, lrow = 48, lrow+1
		}
		legend = append(legend, entry{lx, float64(lrow)})
		lx += w
	}
	legendH := 0.0
	if len(series) > 0 {
		legendH = float64(lrow+1) * 20
	}
	plot := rect{48, top, W - 16, H - 34 - legendH}
	if plot.h() < 40 {
		return fmt.Errorf("render chart: height %d leaves no room for %d series in the legend", height, len(series))
	}

	// The value axis runs to a round number above the largest count.
	step := math.Max(1, niceStep(float64(maxV)/5))
	top2 := math.Max(step, math.Ceil(float64(maxV)/step)*step)
	yOf := func(v float64) float64 { return plot.y1 - v/top2*plot.h() }
	band := plot.w() / math.Max(1, float64(len(days)))
	bars := len(series) > 0 && band*0.8/float64(len(series)) >= 4

	c.s(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="parley-chart" role="img"`)
	c.sattr("aria-labelledby", id+"-title "+id+"-desc")
	c.s(` viewBox="0 0 `)
	c.num(W)
	c.s(" ")
	c.num(H)
	c.s(`"`)
	c.attr("width", W)
	c.attr("height", H)
	c.sattr("font-family", font)
	c.s(`><title`)
	c.sattr("id", id+"-title")
	c.s(`>`)
	c.text(title)
	c.s(`</title><desc`)
	c.sattr("id", id+"-desc")
	c.s(`>`)
	c.text(describeChart(days, series, bars))
	c.s(`</desc><defs>`)
	for i := range series {
		st := seriesStyles[i%len(seriesStyles)]
		c.s(`<path`)
		c.sattr("id", id+"-m"+strconv.Itoa(i))
		c.sattr("d", st.mark)
		c.sattr("fill", st.colour)
		c.sattr("stroke", st.colour)
		c.s(` stroke-width="1.5"/>`)
		if st.hatch != "" {
			c.s(`<pattern`)
			c.sattr("id", id+"-h"+strconv.Itoa(i))
			c.s(` width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8"`)
			c.sattr("fill", st.colour)
			c.s(`/><path`)
			c.sattr("d", st.hatch)
			c.s(` stroke="#ffffff" stroke-width="1.5" stroke-opacity="0.8"/></pattern>`)
		}
	}
	c.s(`</defs><rect`)
	c.attr("width", W)
	c.attr("height", H)
	c.s(` fill="#ffffff"/>`)
	if opt.Title != "" {
		c.s(`<text x="12" y="23" font-size="17" font-weight="bold"`)
		c.sattr("fill", inkColour)
		c.s(`>`)
		c.text(opt.Title)
		c.s(`</text>`)
	}

	// Value ticks and grid.
	c.s(`<g class="y-axis" font-size="11" text-anchor="end" fill="#444444">`)
	for v := 0.0; v <= top2+step/2; v += step {
		y := yOf(v)
		c.s(`<path`)
		c.s(` d="M`)
		c.num(plot.x0)
		c.s(" ")
		c.num(y)
		c.s("H")
		c.num(plot.x1)
		if v == 0 {
			c.s(`" stroke="#444444" stroke-width="1"/>`)
		} else {
			c.s(`" stroke="#dddddd" stroke-width="1"/>`)
		}
		c.s(`<text`)
		c.attr("x", plot.x0-6)
		c.attr("y", y+4)
		c.s(`>`)
		c.text(strconv.FormatFloat(v, 'f', -1, 64))
		c.s(`</text>`)
	}
	c.s(`</g>`)

	// Day labels, as many as fit at about 56 pixels apart.
	every := max(1, int(math.Ceil(56/band)))
	c.s(`<g class="x-axis" font-size="11" text-anchor="middle" fill="#444444">`)
	for i, d := range days {
		if i%every != 0 {
			continue
		}
		x := plot.x0 + (float64(i)+0.5)*band
		c.s(`<path d="M`)
		c.num(x)
		c.s(" ")
		c.num(plot.y1)
		c.s(`v4" stroke="#444444"/><text`)
		c.attr("x", x)
		c.attr("y", plot.y1+16)
		c.s(`>`)
		c.text(d.Format("2 Jan"))
		c.s(`</text>`)
	}
	c.s(`</g>`)

	if len(days) == 0 || len(series) == 0 {
		c.s(`<text`)
		c.attr("x", (plot.x0+plot.x1)/2)
		c.attr("y", (plot.y0+plot.y1)/2)
		c.s(` text-anchor="middle" font-size="13" fill="#666666">No data</text>`)
	}

	c.s(`<g class="series">`)
	for i, s := range series {
		st := seriesStyles[i%len(seriesStyles)]
		c.s(`<g`)
		c.sattr("class", "series-"+strconv.Itoa(i))
		c.s(`>`)
		if bars {
			gw := band * 0.8
			bw := gw / float64(len(series))
			fill := st.colour
			if st.hatch != "" {
				fill = "url(#" + id + "-h" + strconv.Itoa(i) + ")"
			}
			for j, v := range s.Values {
				x := plot.x0 + float64(j)*band + band*0.1 + float64(i)*bw
				y := yOf(float64(v))
				c.s(`<rect`)
				c.attr("x", x)
				c.attr("y", y)
				c.attr("width", math.Max(1, bw-1))
				c.attr("height", plot.y1-y)
				c.sattr("fill", fill)
				c.sattr("stroke", st.colour)
				c.s(` stroke-width="0.5"><title>`)
				c.text(pointText(s.Name, days[j], v))
				c.s(`</title></rect>`)
			}
		} else if len(s.Values) > 0 {
			c.s(`<path fill="none" stroke-width="2" stroke-linejoin="round"`)
			c.sattr("stroke", st.colour)
			if st.dash != "" {
				c.sattr("stroke-dasharray", st.dash)
			}
			c.s(` d="`)
			for j, v := range s.Values {
				if j == 0 {
					c.s("M")
				} else {
					c.s(" ")
				}
				c.num(plot.x0 + (float64(j)+0.5)*band)
				c.s(" ")
				c.num(yOf(float64(v)))
			}
			c.s(`"/>`)
			if band >= 5 {
				for j, v := range s.Values {
					c.s(`<g><title>`)
					c.text(pointText(s.Name, days[j], v))
					c.s(`</title><use`)
					c.sattr("href", "#"+id+"-m"+strconv.Itoa(i))
					c.attr("x", plot.x0+(float64(j)+0.5)*band)
					c.attr("y", yOf(float64(v)))
					c.s(`/></g>`)
				}
			}
		}
		c.s(`</g>`)
	}
	c.s(`</g>`)

	// Legend.
	c.s(`<g class="legend" font-size="11"`)
	c.sattr("fill", inkColour)
	c.s(`>`)
	for i, s := range series {
		st := seriesStyles[i%len(seriesStyles)]
		x := legend[i].x
		y := H - legendH + legend[i].y*20 + 4
		if bars {
			fill := st.colour
			if st.hatch != "" {
				fill = "url(#" + id + "-h" + strconv.Itoa(i) + ")"
			}
			c.s(`<rect`)
			c.attr("x", x)
			c.attr("y", y)
			c.s(` width="28" height="12"`)
			c.sattr("fill", fill)
			c.sattr("stroke", st.colour)
			c.s(`/>`)
		} else {
			c.s(`<path`)
			c.s(` d="M`)
			c.num(x)
			c.s(" ")
			c.num(y + 6)
			c.s(`h28" stroke-width="2"`)
			c.sattr("stroke", st.colour)
			if st.dash != "" {
				c.sattr("stroke-dasharray", st.dash)
			}
			c.s(`/><use`)
			c.sattr("href", "#"+id+"-m"+strconv.Itoa(i))
			c.attr("x", x+14)
			c.attr("y", y+6)
			c.s(`/>`)
		}
		c.s(`<text`)
		c.attr("x", x+34)
		c.attr("y", y+10)
		c.s(`>`)
		c.text(legendText(s))
		c.s(`</text>`)
	}
	c.s("</g></svg>\n")
	return c.flush(w)
}

func legendText(s Series) string {
	return s.Name + " (" + strconv.Itoa(sum(s.Values)) + ")"
}

func sum(vs []int) int {
	t := 0
	for _, v := range vs {
		t += v
	}
	return t
}

func pointText(name string, day time.Time, v int) string {
	return name + ", " + day.Format("Mon 2 Jan 2006") + ": " + plural(v, "violation")
}

// describeChart says in words what the chart shows, for screen readers.
func describeChart(days []time.Time, series []Series, bars bool) string {
	if len(days) == 0 || len(series) == 0 {
		return "Violations per day: no data."
	}
	var b strings.Builder
	kind := "lines"
	if bars {
		kind = "bars"
	}
	fmt.Fprintf(&b, "Violations per day from %s to %s, %s, one per party.", days[0].Format("2 January 2006"), days[len(days)-1].Format("2 January 2006"), kind)
	for _, s := range series {
		most, at := -1, 0
		for j, v := range s.Values {
			if v > most {
				most, at = v, j
			}
		}
		fmt.Fprintf(&b, " %s: %s in all", s.Name, plural(sum(s.Values), "violation"))
		if most > 0 {
			fmt.Fprintf(&b, ", most on %s (%d)", days[at].Format("2 January"), most)
		}
		b.WriteString(".")
	}
	return b.String()
}
