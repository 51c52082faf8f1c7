package geo

import "math"

// projection is an equirectangular projection scaled by the cosine of the
// view's middle latitude, so that shapes are true near the middle of a view
// the size of a country; it maps the view box, centred, into a screen
// rectangle of pixels, as large as fits.
type projection struct {
	kx, ky     float64 // pixels per degree of longitude and of latitude
	cx, cy     float64 // screen position of the view's centre
	lon0, lat0 float64 // the view's centre
	area       rect    // the screen rectangle the map is drawn in
}

// rect is a screen rectangle.
type rect struct{ x0, y0, x1, y1 float64 }

func (r rect) w() float64 { return r.x1 - r.x0 }
func (r rect) h() float64 { return r.y1 - r.y0 }

func (r rect) grow(d float64) rect { return rect{r.x0 - d, r.y0 - d, r.x1 + d, r.y1 + d} }

func (r rect) has(x, y float64) bool { return x >= r.x0 && x <= r.x1 && y >= r.y0 && y <= r.y1 }

func (r rect) overlaps(o rect) bool {
	return r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1
}

// fit returns the projection that shows all of view in area.
func fit(view Box, area rect) projection {
	lat0 := (view.MinLat + view.MaxLat) / 2
	lon0 := (view.MinLon + view.MaxLon) / 2
	c := math.Cos(lat0 * math.Pi / 180)
	k := math.Min(area.w()/((view.MaxLon-view.MinLon)*c), area.h()/(view.MaxLat-view.MinLat))
	return projection{
		kx: k * c, ky: k,
		cx: (area.x0 + area.x1) / 2, cy: (area.y0 + area.y1) / 2,
		lon0: lon0, lat0: lat0,
		area: area,
	}
}

// xy projects lon, lat to the screen.
func (p projection) xy(lon, lat float64) (x, y float64) {
	return p.cx + (lon-p.lon0)*p.kx, p.cy - (lat-p.lat0)*p.ky
}

// lonlat is the inverse of xy.
func (p projection) lonlat(x, y float64) (lon, lat float64) {
	return p.lon0 + (x-p.cx)/p.kx, p.lat0 - (y-p.cy)/p.ky
}

// visible returns the area of the earth that the screen area shows.
func (p projection) visible() Box {
	lon0, lat1 := p.lonlat(p.area.x0, p.area.y0)
	lon1, lat0 := p.lonlat(p.area.x1, p.area.y1)
	return Box{lon0, lat0, lon1, lat1}
}

// kmPerPixel is the scale at the view's middle latitude.
func (p projection) kmPerPixel() float64 {
	return 111.32 / p.ky
}

// viewOf chooses what a map shows: the given bounds, or else the points'
// bounding box, at least minExtent degrees each way and padded, or else
// Ukraine.
func viewOf(bounds *Box, pts []Point) Box {
	if bounds != nil {
		return *bounds
	}
	if len(pts) == 0 {
		return ukraine
	}
	b := Box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range pts {
		b.MinLon, b.MaxLon = min(b.MinLon, p.Lon), max(b.MaxLon, p.Lon)
		b.MinLat, b.MaxLat = min(b.MinLat, p.Lat), max(b.MaxLat, p.Lat)
	}
	const minExtent, pad = 3.0, 0.08
	grow := func(lo, hi float64) (float64, float64) {
		if d := hi - lo; d < minExtent {
			lo, hi = lo-(minExtent-d)/2, hi+(minExtent-d)/2
		}
		d := (hi - lo) * pad
		return lo - d, hi + d
	}
	b.MinLon, b.MaxLon = grow(b.MinLon, b.MaxLon)
	b.MinLat, b.MaxLat = grow(b.MinLat, b.MaxLat)
	b.MinLat, b.MaxLat = max(b.MinLat, -85), min(b.MaxLat, 85)
	b.MinLon, b.MaxLon = max(b.MinLon, -180), min(b.MaxLon, 180)
	return b
}

// clipper clips closed screen polygons (x0, y0, x1, y1, ...) to a
// rectangle (Sutherland–Hodgman), reusing its two buffers; a result is valid
// until the next call.
type clipper struct{ a, b []float64 }

func (c *clipper) clip(pts []float64, r rect) []float64 {
	in := pts
	for edge := range 4 {
		if len(in) < 6 {
			return nil
		}
		out := c.a[:0]
		px, py := in[len(in)-2], in[len(in)-1]
		pin := inside(edge, px, py, r)
		for i := 0; i < len(in); i += 2 {
			x, y := in[i], in[i+1]
			cin := inside(edge, x, y, r)
			if cin != pin {
				ix, iy := cross(edge, px, py, x, y, r)
				out = append(out, ix, iy)
			}
			if cin {
				out = append(out, x, y)
			}
			px, py, pin = x, y, cin
		}
		c.a, c.b = c.b, out
		in = out
	}
	if len(in) < 6 {
		return nil
	}
	return in
}

func inside(edge int, x, y float64, r rect) bool {
	switch edge {
	case 0:
		return x >= r.x0
	case 1:
		return x <= r.x1
	case 2:
		return y >= r.y0
	default:
		return y <= r.y1
	}
}

func cross(edge int, ax, ay, bx, by float64, r rect) (float64, float64) {
	switch edge {
	case 0, 1:
		x := r.x0
		if edge == 1 {
			x = r.x1
		}
		return x, ay + (x-ax)/(bx-ax)*(by-ay)
	default:
		y := r.y0
		if edge == 3 {
			y = r.y1
		}
		return ax + (y-ay)/(by-ay)*(bx-ax), y
	}
}

// polyArea is the signed area of a screen polygon.
func polyArea(p []float64) float64 {
	s := 0.0
	n := len(p)
	for i := 0; i < n; i += 2 {
		j := (i + 2) % n
		s += p[i]*p[j+1] - p[j]*p[i+1]
	}
	return s / 2
}

// polyCentroid is the centroid of a screen polygon.
func polyCentroid(p []float64) (float64, float64) {
	var cx, cy, s float64
	n := len(p)
	for i := 0; i < n; i += 2 {
		j := (i + 2) % n
		c := p[i]*p[j+1] - p[j]*p[i+1]
		cx += (p[i] + p[j]) * c
		cy += (p[i+1] + p[j+1]) * c
		s += c
	}
	if s == 0 {
		return p[0], p[1]
	}
	return cx / (3 * s), cy / (3 * s)
}

// polyHas reports whether x, y is inside a screen polygon (even–odd rule).
func polyHas(p []float64, x, y float64) bool {
	in := false
	n := len(p)
	for i, j := 0, n-2; i < n; j, i = i, i+2 {
		xi, yi, xj, yj := p[i], p[i+1], p[j], p[j+1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
