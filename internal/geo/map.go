package geo

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MapOptions says how to draw a map. The zero value draws a 960×640 map
// that fits the points.
type MapOptions struct {
	// Width and Height are the size of the picture in pixels; 0 means
	// 960 by 640.
	Width, Height int
	// Title is written above the map and names it for screen readers.
	Title string
	// Bounds, if set, is the area to show, fitted whole and centred; if
	// nil, the map fits the points with a margin, at least 3 degrees each
	// way, or shows all of Ukraine when there are none.
	Bounds *Box
	// ClusterPx is the distance in pixels under which incidents are drawn
	// as one cluster; 0 means 14, and a negative value draws every
	// incident on its own.
	ClusterPx float64
	// ID prefixes the ids of the picture's elements; by default one is
	// derived from the title and the view. Set it when a page holds two
	// maps of the same title and view.
	ID string
}

// Sizes and colours of the map.
const (
	defaultClusterPx = 14
	titleBand        = 34
	legendRow        = 24
	waterColour      = "#dcebf5"
	landColour       = "#f4f1ea"
	borderColour     = "#5e5e5e"
	regionColour     = "#9c958a"
	inkColour        = "#1a1a1a"
	font             = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
)

// RenderMap draws pts on a map of the boundaries as an SVG document for
// inline use, and writes it to w in one write. Incidents closer together
// than opt.ClusterPx are drawn as one circle that gives their count, in the
// colour of the status of most weight among them (verified, disputed,
// under-review, reported, unverified, rejected, duplicate, in that order);
// each lone incident is drawn with its status's colour and shape, its
// Label as a tooltip, and a link to its Href if set. It returns an error,
// and writes nothing, if a point or an option is invalid.
func RenderMap(w io.Writer, pts []Point, opt MapOptions) error {
	width, height, err := checkSize(opt.Width, opt.Height, 960, 640)
	if err != nil {
		return fmt.Errorf("render map: %w", err)
	}
	status := make([]int, len(pts))
	for i, p := range pts {
		if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
			return fmt.Errorf("render map: point %d (%q): lat %v, lon %v outside -90..90, -180..180", i, p.Label, p.Lat, p.Lon)
		}
		if status[i] = statusIndex(p.Status); status[i] < 0 {
			return fmt.Errorf("render map: point %d (%q): unknown status %q (want one of %s)", i, p.Label, p.Status, statusList())
		}
		if err := checkHref(p.Href); err != nil {
			return fmt.Errorf("render map: point %d (%q): %w", i, p.Label, err)
		}
	}
	if opt.Bounds != nil {
		if err := opt.Bounds.check(); err != nil {
			return fmt.Errorf("render map: %w", err)
		}
	}
	clusterPx := opt.ClusterPx
	if math.IsNaN(clusterPx) || math.IsInf(clusterPx, 0) {
		return fmt.Errorf("render map: ClusterPx %v is not a number", clusterPx)
	}
	if clusterPx == 0 {
		clusterPx = defaultClusterPx
	}
	data, err := loadBoundaries()
	if err != nil {
		return fmt.Errorf("render map: %w", err)
	}
	view := viewOf(opt.Bounds, pts)
	id, err := idPrefix(opt.ID, "map", opt.Title, view.String(), strconv.Itoa(len(pts)), strconv.Itoa(width), strconv.Itoa(height))
	if err != nil {
		return fmt.Errorf("render map: %w", err)
	}

	m := &mapper{id: id, width: float64(width), height: float64(height)}
	m.b = make([]byte, 0, 96<<10+100*len(pts))
	top := 0.0
	if opt.Title != "" {
		top = titleBand
	}
	counts := make([]int, len(styles))
	for _, s := range status {
		counts[s]++
	}
	legend, rows := m.layoutLegend(counts)
	bottom := m.height - float64(rows)*legendRow - 10
	m.proj = fit(view, rect{0, top, m.width, bottom})

	// Place the incidents first: the description counts them.
	var inView []placed
	outside := 0
	near := m.proj.area.grow(4)
	for i, p := range pts {
		x, y := m.proj.xy(p.Lon, p.Lat)
		if !near.has(x, y) {
			outside++
			continue
		}
		inView = append(inView, placed{x: x, y: y, status: status[i], index: i})
	}
	clusters := clusterPoints(inView, clusterPx)
	if clusterPx > 0 {
		clusters = mergeOverlapping(clusters)
	}

	m.open(opt.Title, m.describe(opt.Title, len(pts), counts, clusters, outside))
	m.base(data)
	m.graticule()
	m.labels(data)
	m.incidents(pts, clusters)
	m.scaleBar()
	m.s(`</g>`)
	m.drawLegend(legend, counts)
	if opt.Title != "" {
		m.s(`<text x="12" y="23" font-size="17" font-weight="bold"`)
		m.sattr("fill", inkColour)
		m.s(`>`)
		m.text(opt.Title)
		m.s(`</text>`)
	}
	m.s("</svg>\n")
	return m.flush(w)
}

// mapper holds one map while it is drawn.
type mapper struct {
	svg
	id            string
	width, height float64
	proj          projection
	clip          clipper
	ring          []float64 // projected ring, reused
	shapes        []shape   // the countries then the regions in view
	taken         []rect    // labels placed so far
}

// open writes the root element, the accessible name and description, and
// the definitions: the map's clip and one marker per status.
func (m *mapper) open(title, desc string) {
	if title == "" {
		title = "Map of incidents"
	}
	m.s(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="parley-map" role="img"`)
	m.sattr("aria-labelledby", m.id+"-title "+m.id+"-desc")
	m.s(` viewBox="0 0 `)
	m.num(m.width)
	m.s(` `)
	m.num(m.height)
	m.s(`"`)
	m.attr("width", m.width)
	m.attr("height", m.height)
	m.sattr("font-family", font)
	m.s(`><title`)
	m.sattr("id", m.id+"-title")
	m.s(`>`)
	m.text(title)
	m.s(`</title><desc`)
	m.sattr("id", m.id+"-desc")
	m.s(`>`)
	m.text(desc)
	m.s(`</desc><defs><clipPath`)
	m.sattr("id", m.id+"-clip")
	m.s(`><rect`)
	m.rect(m.proj.area)
	m.s(`/></clipPath>`)
	for i, st := range styles {
		m.s(`<path`)
		m.sattr("id", m.id+"-s"+strconv.Itoa(i))
		m.sattr("d", st.shape)
		m.sattr("fill", st.fill)
		m.sattr("stroke", st.stroke)
		if st.fill == "#ffffff" {
			m.s(` stroke-width="2.2"`)
		} else {
			m.s(` stroke-width="1"`)
		}
		m.s(`/>`)
	}
	m.s(`</defs><rect`)
	m.attr("width", m.width)
	m.attr("height", m.height)
	m.s(` fill="#ffffff"/><g`)
	m.sattr("clip-path", "url(#"+m.id+"-clip)")
	m.s(`><rect`)
	m.rect(m.proj.area)
	m.sattr("fill", waterColour)
	m.s(`/>`)
}

// rect writes the x, y, width and height attributes of r.
func (m *mapper) rect(r rect) {
	m.attr("x", r.x0)
	m.attr("y", r.y0)
	m.attr("width", r.w())
	m.attr("height", r.h())
}

// describe says in words what the map shows, for screen readers.
func (m *mapper) describe(title string, n int, counts []int, clusters []*cluster, outside int) string {
	var b strings.Builder
	v := m.proj.visible()
	fmt.Fprintf(&b, "Map of %s between %s and %s, %s and %s", plural(n, "incident"), lonText(v.MinLon), lonText(v.MaxLon), latText(v.MinLat), latText(v.MaxLat))
	if n > 0 {
		b.WriteString(": ")
		b.WriteString(statusCounts(counts[:]))
	}
	b.WriteString(".")
	if groups := countGroups(clusters); groups > 0 {
		fmt.Fprintf(&b, " %s drawn as %s, of which %s of incidents too close to tell apart.", plural(n-outside, "incident"), plural(len(clusters), "marker"), plural(groups, "cluster"))
	}
	if outside > 0 {
		fmt.Fprintf(&b, " %s outside the view.", plural(outside, "incident"))
	}
	return b.String()
}

func countGroups(cs []*cluster) int {
	n := 0
	for _, c := range cs {
		if c.n > 1 {
			n++
		}
	}
	return n
}

// statusCounts says "3 verified, 1 disputed" in the order of Statuses,
// leaving out those with none.
func statusCounts(counts []int) string {
	var parts []string
	for i, n := range counts {
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+styles[i].name)
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func lonText(lon float64) string { return degrees(lon, 1, "E", "W") }
func latText(lat float64) string { return degrees(lat, 1, "N", "S") }

// degrees writes an angle as "48.5°N", with the hemisphere for its sign.
func degrees(v float64, prec int, pos, neg string) string {
	h := pos
	if v < 0 {
		v, h = -v, neg
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + "°" + h
}

// shape is a feature as drawn in this view.
type shape struct {
	f       *feature
	d       []byte  // path data
	area    float64 // visible area, in square pixels
	best    []float64
	bestBox rect
}

// base draws the land, the regions' boundaries and the countries' borders.
func (m *mapper) base(data *boundaries) {
	var countries, regions []shape
	for i := range data.features {
		f := &data.features[i]
		sh := m.outline(f)
		if sh.d == nil {
			continue
		}
		if f.region {
			regions = append(regions, sh)
		} else {
			countries = append(countries, sh)
		}
	}
	m.shapes = append(countries, regions...)
	m.s(`<defs>`)
	for i, sh := range countries {
		m.s(`<path`)
		m.sattr("id", m.id+"-c"+strconv.Itoa(i))
		m.s(` d="`)
		m.b = append(m.b, sh.d...)
		m.s(`"/>`)
	}
	m.s(`</defs><g class="land" fill-rule="evenodd"`)
	m.sattr("fill", landColour)
	m.s(` stroke="none">`)
	for i := range countries {
		m.s(`<use`)
		m.sattr("href", "#"+m.id+"-c"+strconv.Itoa(i))
		m.s(`/>`)
	}
	m.s(`</g><g class="regions" fill="none" stroke-width="0.7" stroke-dasharray="4 2" stroke-linejoin="round"`)
	m.sattr("stroke", regionColour)
	m.s(`>`)
	for _, sh := range regions {
		m.s(`<path d="`)
		m.b = append(m.b, sh.d...)
		m.s(`"/>`)
	}
	m.s(`</g><g class="borders" fill="none" stroke-width="1.2" stroke-linejoin="round"`)
	m.sattr("stroke", borderColour)
	m.s(`>`)
	for i := range countries {
		m.s(`<use`)
		m.sattr("href", "#"+m.id+"-c"+strconv.Itoa(i))
		m.s(`/>`)
	}
	m.s(`</g>`)
}

// outline projects and clips a feature's rings to the view and returns its
// path data, nil if nothing of it shows.
func (m *mapper) outline(f *feature) shape {
	sh := shape{f: f}
	vis := m.proj.visible()
	// A margin of a few pixels keeps the cut edges out of sight.
	margin := 4 / m.proj.ky
	near := Box{vis.MinLon - margin*2, vis.MinLat - margin, vis.MaxLon + margin*2, vis.MaxLat + margin}
	clipTo := m.proj.area.grow(4)
	bestArea := 0.0
	for _, rg := range f.rings {
		if rg.box.MaxLon < near.MinLon || rg.box.MinLon > near.MaxLon || rg.box.MaxLat < near.MinLat || rg.box.MinLat > near.MaxLat {
			continue
		}
		pts := m.ring[:0]
		for k := 0; k < len(rg.pts); k += 2 {
			x, y := m.proj.xy(rg.pts[k], rg.pts[k+1])
			pts = append(pts, x, y)
		}
		m.ring = pts
		if !(rg.box.MinLon >= near.MinLon && rg.box.MaxLon <= near.MaxLon && rg.box.MinLat >= near.MinLat && rg.box.MaxLat <= near.MaxLat) {
			pts = m.clip.clip(pts, clipTo)
		}
		if len(pts) < 6 {
			continue
		}
		a := math.Abs(polyArea(pts))
		if a < 1 {
			continue // smaller than a pixel
		}
		sh.area += a
		if a > bestArea {
			bestArea = a
			sh.best = append(sh.best[:0], pts...)
		}
		sh.d = appendPath(sh.d, pts)
	}
	if sh.best != nil {
		b := rect{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for k := 0; k < len(sh.best); k += 2 {
			b.x0, b.x1 = min(b.x0, sh.best[k]), max(b.x1, sh.best[k])
			b.y0, b.y1 = min(b.y0, sh.best[k+1]), max(b.y1, sh.best[k+1])
		}
		sh.bestBox = b
	}
	return sh
}

// appendPath appends a closed ring as path data, leaving out points less
// than half a pixel from the last one written.
func appendPath(d []byte, pts []float64) []byte {
	d = append(d, 'M')
	d = appendNum(d, pts[0])
	d = append(d, ' ')
	d = appendNum(d, pts[1])
	lx, ly := pts[0], pts[1]
	for k := 2; k < len(pts); k += 2 {
		x, y := pts[k], pts[k+1]
		if math.Abs(x-lx)+math.Abs(y-ly) < 0.7 {
			continue
		}
		d = append(d, ' ')
		d = appendNum(d, x)
		d = append(d, ' ')
		d = appendNum(d, y)
		lx, ly = x, y
	}
	return append(d, 'Z')
}

// graticule draws meridians and parallels at a round step, labelled at the
// map's left and top edges.
func (m *mapper) graticule() {
	v := m.proj.visible()
	step := niceStep(max(v.MaxLat-v.MinLat, (v.MaxLon-v.MinLon)*0.66) / 5)
	a := m.proj.area
	m.s(`<g class="graticule" fill="none" stroke="#4f7fa8" stroke-opacity="0.35" stroke-width="0.6"><path d="`)
	for lon := math.Ceil(v.MinLon/step) * step; lon <= v.MaxLon; lon += step {
		x, _ := m.proj.xy(lon, 0)
		m.s("M")
		m.num(x)
		m.s(" ")
		m.num(a.y0)
		m.s("V")
		m.num(a.y1)
	}
	for lat := math.Ceil(v.MinLat/step) * step; lat <= v.MaxLat; lat += step {
		_, y := m.proj.xy(0, lat)
		m.s("M")
		m.num(a.x0)
		m.s(" ")
		m.num(y)
		m.s("H")
		m.num(a.x1)
	}
	m.s(`"/></g><g class="graticule-labels" font-size="10" stroke="#ffffff" stroke-width="2.5" stroke-linejoin="round" paint-order="stroke" fill="#3d5f7d">`)
	prec := 0
	if step < 1 {
		prec = 1
	}
	for lon := math.Ceil(v.MinLon/step) * step; lon <= v.MaxLon; lon += step {
		x, _ := m.proj.xy(lon, 0)
		if x < a.x0+24 || x > a.x1-24 {
			continue
		}
		m.s(`<text`)
		m.attr("x", x+3)
		m.attr("y", a.y0+12)
		m.s(`>`)
		m.text(degrees(lon, prec, "E", "W"))
		m.s(`</text>`)
	}
	for lat := math.Ceil(v.MinLat/step) * step; lat <= v.MaxLat; lat += step {
		_, y := m.proj.xy(0, lat)
		if y < a.y0+20 || y > a.y1-30 {
			continue
		}
		m.s(`<text`)
		m.attr("x", a.x0+4)
		m.attr("y", y-3)
		m.s(`>`)
		m.text(degrees(lat, prec, "N", "S"))
		m.s(`</text>`)
	}
	m.s(`</g>`)
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= raw {
			return f * p
		}
	}
	return 10 * p
}

// labels names the countries and regions, the countries first, leaving out
// a name that would not fit its shape or would cover another.
func (m *mapper) labels(data *boundaries) {
	m.s(`<g class="labels" text-anchor="middle" stroke="#ffffff" stroke-opacity="0.85" stroke-width="3" stroke-linejoin="round" paint-order="stroke">`)
	for _, sh := range m.shapes {
		if sh.best == nil {
			continue
		}
		name, size := sh.f.name, 10.0
		if !sh.f.region {
			name, size = strings.ToUpper(name), 13
		}
		tw := textWidth(name, size)
		if !sh.f.region {
			tw += 1.5 * float64(len(name)) // letter spacing
		}
		if sh.bestBox.w() < tw*0.9 || sh.bestBox.h() < 2.2*size || sh.area < 4*tw*size {
			continue
		}
		box, ok := m.placeLabel(sh, tw, size)
		if !ok {
			continue
		}
		x, y := (box.x0+box.x1)/2, box.y1-size*0.4
		m.taken = append(m.taken, box)
		m.s(`<text`)
		m.attr("x", x)
		m.attr("y", y)
		if sh.f.region {
			m.s(` font-size="10" font-style="italic" fill="#5b554c"`)
		} else {
			m.s(` font-size="13" letter-spacing="1.5" font-weight="600" fill="#3b3b3b"`)
		}
		m.s(`>`)
		m.text(name)
		m.s(`</text>`)
	}
	m.s(`</g>`)
}

// placeLabel finds where a name fits inside a shape without covering
// another name: at Natural Earth's label point, at the centroid of the
// shape's largest visible part, or else at the point of a grid over that
// part farthest from its edges.
func (m *mapper) placeLabel(sh shape, tw, size float64) (rect, bool) {
	inner := m.proj.area.grow(-2)
	try := func(x, y float64) (rect, bool) {
		box := rect{x - tw/2 - 2, y - size*0.8, x + tw/2 + 2, y + size*0.4}
		if !polyHas(sh.best, x, y) || !inner.has(box.x0, box.y0) || !inner.has(box.x1, box.y1) || slices.ContainsFunc(m.taken, box.overlaps) {
			return rect{}, false
		}
		return box, true
	}
	if box, ok := try(m.proj.xy(sh.f.label[0], sh.f.label[1])); ok {
		return box, true
	}
	if box, ok := try(polyCentroid(sh.best)); ok {
		return box, true
	}
	// A coarse copy of the outline is enough to measure distances.
	step := max(1, len(sh.best)/2/150) * 2
	var coarse []float64
	for k := 0; k+1 < len(sh.best); k += step {
		coarse = append(coarse, sh.best[k], sh.best[k+1])
	}
	type cand struct{ x, y, d float64 }
	var cands []cand
	const n = 12
	b := sh.bestBox
	for i := range n {
		for j := range n {
			x := b.x0 + (float64(i)+0.5)*b.w()/n
			y := b.y0 + (float64(j)+0.5)*b.h()/n
			if polyHas(sh.best, x, y) {
				cands = append(cands, cand{x, y, edgeDist(coarse, x, y)})
			}
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Compare(b.d, a.d) })
	for _, c := range cands {
		if c.d < size*0.6 {
			break
		}
		if box, ok := try(c.x, c.y); ok {
			return box, true
		}
	}
	return rect{}, false
}

// edgeDist is the distance from x, y to the nearest edge of a polygon.
func edgeDist(p []float64, x, y float64) float64 {
	best := math.Inf(1)
	n := len(p)
	for i := 0; i < n; i += 2 {
		j := (i + 2) % n
		ax, ay, bx, by := p[i], p[i+1], p[j], p[j+1]
		dx, dy := bx-ax, by-ay
		t := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			t = max(0, min(1, ((x-ax)*dx+(y-ay)*dy)/l2))
		}
		ex, ey := ax+t*dx-x, ay+t*dy-y
		best = min(best, ex*ex+ey*ey)
	}
	return math.Sqrt(best)
}

// incidents draws the lone incidents, the most weighty on top, then the
// clusters, the largest first so that none hides a smaller one.
func (m *mapper) incidents(pts []Point, clusters []*cluster) {
	// Lone incidents by weight, then clusters by size, largest first.
	order := func(c *cluster) int {
		if c.n == 1 {
			return styles[c.top()].weight - len(pts) - len(styles)
		}
		return -c.n
	}
	slices.SortStableFunc(clusters, func(a, b *cluster) int { return cmp.Compare(order(a), order(b)) })
	m.s(`<g class="incidents">`)
	for _, c := range clusters {
		top := c.top()
		st := styles[top]
		if c.n == 1 {
			p := pts[c.first]
			if p.Href != "" {
				m.s(`<a`)
				m.sattr("href", p.Href)
				m.s(`>`)
			}
			m.s(`<g class="incident"><title>`)
			if p.Label != "" {
				m.text(p.Label)
				m.s(" (")
				m.text(st.name)
				m.s(")")
			} else {
				m.text(st.name)
				m.s(" incident")
			}
			m.s(`</title><use`)
			m.sattr("href", "#"+m.id+"-s"+strconv.Itoa(top))
			m.attr("x", c.x())
			m.attr("y", c.y())
			m.s(`/></g>`)
			if p.Href != "" {
				m.s(`</a>`)
			}
			continue
		}
		r := clusterRadius(c.n)
		m.s(`<g class="cluster"><title>`)
		m.text(plural(c.n, "incident") + ": " + statusCounts(c.counts[:]))
		m.s(`</title><circle`)
		m.attr("cx", c.x())
		m.attr("cy", c.y())
		m.attr("r", r)
		m.sattr("fill", st.fill)
		m.s(` fill-opacity="0.92"`)
		if st.fill == "#ffffff" {
			m.sattr("stroke", st.stroke)
			m.s(` stroke-width="2.5"`)
		} else {
			m.sattr("stroke", inkColour)
			m.s(` stroke-width="1.2"`)
		}
		m.s(`/><text`)
		m.attr("x", c.x())
		m.attr("y", c.y()+3.8)
		m.s(` text-anchor="middle" font-size="11" font-weight="bold"`)
		m.sattr("fill", st.ink)
		m.s(`>`)
		m.int(c.n)
		m.s(`</text></g>`)
	}
	m.s(`</g>`)
}

// scaleBar draws a bar of a round number of kilometres at the bottom left,
// and the attribution at the bottom right.
func (m *mapper) scaleBar() {
	kmpp := m.proj.kmPerPixel()
	km := niceStep(120 * kmpp)
	for km/kmpp > 140 {
		km /= 2
	}
	px := km / kmpp
	a := m.proj.area
	x0, y0 := a.x0+12, a.y1-12
	m.s(`<g class="scale" font-size="10"`)
	m.sattr("fill", inkColour)
	m.s(`><rect`)
	m.attr("x", x0-4)
	m.attr("y", y0-20)
	m.attr("width", px+8)
	m.s(` height="26" fill="#ffffff" fill-opacity="0.75"/><path`)
	m.s(` d="M`)
	m.num(x0)
	m.s(" ")
	m.num(y0 - 5)
	m.s("V")
	m.num(y0)
	m.s("H")
	m.num(x0 + px)
	m.s("V")
	m.num(y0 - 5)
	m.s(`" fill="none" stroke-width="1.5"`)
	m.sattr("stroke", inkColour)
	m.s(`/><text`)
	m.attr("x", x0)
	m.attr("y", y0-8)
	m.s(`>`)
	m.text(strconv.FormatFloat(km, 'f', -1, 64) + " km")
	m.s(`</text></g><text class="attribution" font-size="9" text-anchor="end" fill="#555555"`)
	m.attr("x", a.x1-6)
	m.attr("y", a.y1-6)
	m.s(`>`)
	m.text(Attribution)
	m.s(`</text>`)
}

// legendItem is one entry of the legend and where it goes.
type legendItem struct {
	status int // -1 for the cluster entry
	x, y   float64
}

// layoutLegend flows the legend's entries into rows across the width.
func (m *mapper) layoutLegend(counts []int) (items []legendItem, rows int) {
	var out []legendItem
	x, row := 12.0, 0
	entry := func(status int, label string) {
		w := 18 + textWidth(label, 11) + 14
		if x+w > m.width-8 && x > 12 {
			x, row = 12, row+1
		}
		out = append(out, legendItem{status: status, x: x, y: float64(row)})
		x += w
	}
	for i := range styles {
		entry(i, legendLabel(i, counts))
	}
	entry(-1, "several incidents")
	rows = row + 1
	for i := range out {
		out[i].y = m.height - (float64(rows)-out[i].y)*legendRow + 6
	}
	return out, rows
}

func legendLabel(status int, counts []int) string {
	return styles[status].name + " (" + strconv.Itoa(counts[status]) + ")"
}

// drawLegend draws the legend below the map.
func (m *mapper) drawLegend(items []legendItem, counts []int) {
	m.s(`<g class="legend" font-size="11"`)
	m.sattr("fill", inkColour)
	m.s(`>`)
	for _, it := range items {
		cy := it.y + 6
		if it.status < 0 {
			m.s(`<circle`)
			m.attr("cx", it.x+7)
			m.attr("cy", cy)
			m.s(` r="7" fill="#ffffff"`)
			m.sattr("stroke", inkColour)
			m.s(`/><text`)
			m.attr("x", it.x+7)
			m.attr("y", cy+3)
			m.s(` font-size="8" text-anchor="middle">n</text><text`)
			m.attr("x", it.x+18)
			m.attr("y", cy+4)
			m.s(`>several incidents</text>`)
			continue
		}
		m.s(`<use`)
		m.sattr("href", "#"+m.id+"-s"+strconv.Itoa(it.status))
		m.attr("x", it.x+7)
		m.attr("y", cy)
		m.s(`/><text`)
		m.attr("x", it.x+18)
		m.attr("y", cy+4)
		m.s(`>`)
		m.text(legendLabel(it.status, counts))
		m.s(`</text>`)
	}
	m.s(`</g>`)
}
