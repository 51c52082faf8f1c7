package geo

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var svgDir = flag.String("svgdir", "", "write the test pictures to this directory, to look at them")

// keep writes a picture to -svgdir, if set.
func keep(t testing.TB, name string, b []byte) {
	if *svgDir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(*svgDir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// wellFormed decodes the whole document and fails on any XML error, and
// checks the root's accessibility and that nothing needs inline style.
func wellFormed(t testing.TB, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, head(b))
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "svg" || attr(tok, "role") != "img" || attr(tok, "aria-labelledby") == "" {
					t.Errorf("root <%s role=%q aria-labelledby=%q>, want <svg role=img aria-labelledby=...>", tok.Name.Local, attr(tok, "role"), attr(tok, "aria-labelledby"))
				}
			}
			switch tok.Name.Local {
			case "style", "script", "foreignObject":
				t.Errorf("element <%s> is not allowed under the CSP", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				if a.Name.Local == "style" || strings.HasPrefix(a.Name.Local, "on") {
					t.Errorf("<%s> has attribute %s, not allowed under the CSP", tok.Name.Local, a.Name.Local)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("%d root elements, depth %d at the end", roots, depth)
	}
}

func head(b []byte) []byte {
	if len(b) > 400 {
		return b[:400]
	}
	return b
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func render(t testing.TB, pts []Point, opt MapOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderMap(&buf, pts, opt); err != nil {
		t.Fatalf("RenderMap: %v", err)
	}
	wellFormed(t, buf.Bytes())
	return buf.Bytes()
}

// donbas spreads n incidents over the Donbas front, the same for a seed.
func donbas(n int, seed uint64) []Point {
	r := rand.New(rand.NewPCG(seed, 1))
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{
			Lon:    36.5 + 3*r.Float64(),
			Lat:    47 + 2*r.Float64(),
			Status: Statuses[r.IntN(len(Statuses))],
			Label:  "Shelling #" + strconv.Itoa(i) + " <near> \"Avdiivka\" & co",
			Href:   "/incidents/" + strconv.Itoa(i),
		}
	}
	return pts
}

func TestRenderMapWellFormed(t *testing.T) {
	kyiv := Point{Lat: 50.45, Lon: 30.52, Status: "verified", Label: "Kyiv", Href: "/incidents/kyiv?x=1&y=2"}
	tests := []struct {
		name string
		pts  []Point
		opt  MapOptions
	}{
		{"empty", nil, MapOptions{}},
		{"one", []Point{kyiv}, MapOptions{Title: "One incident"}},
		{"donbas", donbas(300, 1), MapOptions{Title: "Donbas, 300 incidents"}},
		{"black-sea", []Point{{Lat: 44.6, Lon: 33.5, Status: "disputed", Label: "Sevastopol"}, {Lat: 43.5, Lon: 39.8, Status: "reported"}, {Lat: 46.5, Lon: 30.7, Status: "rejected", Label: "Odesa"}}, MapOptions{Width: 640, Height: 420}},
		{"region", nil, MapOptions{Bounds: &Box{20, 40, 50, 57}, Title: "The whole area"}},
		{"every-status", func() []Point {
			var ps []Point
			for i, s := range Statuses {
				ps = append(ps, Point{Lat: 48 + float64(i)*0.3, Lon: 31 + float64(i), Status: s, Label: s})
			}
			return ps
		}(), MapOptions{ClusterPx: -1}},
		{"narrow", donbas(50, 2), MapOptions{Width: 320, Height: 480}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := render(t, tt.pts, tt.opt)
			keep(t, "map-"+tt.name+".svg", b)
			if !bytes.Contains(b, []byte(">UKRAINE</text>")) && tt.name != "narrow" {
				t.Errorf("no label UKRAINE")
			}
		})
	}
}

func TestRenderMapEmptyDrawsUkraine(t *testing.T) {
	b := render(t, nil, MapOptions{})
	for _, want := range []string{`class="land"`, `class="borders"`, `class="regions"`, ">UKRAINE<", ">RUSSIA<", "Map of 0 incidents", "km</text>", Attribution} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("empty map lacks %q", want)
		}
	}
	if n := bytes.Count(b, []byte(`class="incident"`)); n != 0 {
		t.Errorf("%d incidents drawn on an empty map", n)
	}
}

var useRE = regexp.MustCompile(`<g class="incident"><title>([^<]*)</title><use href="#[^"]*-s(\d)" x="([-0-9.]+)" y="([-0-9.]+)"/>`)

var clipRE = regexp.MustCompile(`<clipPath id="[^"]*"><rect x="([-0-9.]+)" y="([-0-9.]+)" width="([-0-9.]+)" height="([-0-9.]+)"/>`)

func TestRenderMapPointPosition(t *testing.T) {
	// A view 10° of longitude wide, centred on 35°E 48°N, in a picture
	// 960 wide and tall enough that the width decides the scale: 96 px per
	// degree of longitude, and 96/cos 48° = 143.47 px per degree of
	// latitude, centred in the map area.
	box := Box{MinLon: 30, MinLat: 46, MaxLon: 40, MaxLat: 50}
	ky := 96 / math.Cos(48*math.Pi/180)
	tests := []struct {
		lat, lon float64
		x, dy    float64 // dy from the centre of the map area
	}{
		{48, 35, 480, 0},
		{50, 30, 0, -2 * ky},
		{46, 40, 960, 2 * ky},
		{47.5, 32.5, 240, 0.5 * ky},
		{48.25, 37.75, 744, -0.25 * ky},
	}
	for _, tt := range tests {
		b := render(t, []Point{{Lat: tt.lat, Lon: tt.lon, Status: "reported", Label: "p"}}, MapOptions{Width: 960, Height: 900, Bounds: &box, ClusterPx: -1})
		c := clipRE.FindSubmatch(b)
		m := useRE.FindSubmatch(b)
		if c == nil || m == nil {
			t.Fatalf("%v,%v: no map area or no marker in\n%s", tt.lat, tt.lon, b)
		}
		var f [6]float64
		for i, s := range [][]byte{c[2], c[4], m[3], m[4]} {
			f[i], _ = strconv.ParseFloat(string(s), 64)
		}
		cy := f[0] + f[1]/2
		if x, y := f[2], f[3]; math.Abs(x-tt.x) > 0.11 || math.Abs(y-(cy+tt.dy)) > 0.11 {
			t.Errorf("lat %v lon %v at %v,%v; want %.1f,%.1f", tt.lat, tt.lon, x, y, tt.x, cy+tt.dy)
		}
	}
}

func TestProjectionFitsBounds(t *testing.T) {
	area := rect{0, 34, 960, 600}
	for _, box := range []Box{{36, 47, 39, 49}, {20, 40, 50, 57}, {37.5, 47.9, 37.6, 48.0}, {22, 44, 41, 53}} {
		p := fit(box, area)
		corners := [][2]float64{{box.MinLon, box.MinLat}, {box.MaxLon, box.MaxLat}, {box.MinLon, box.MaxLat}, {box.MaxLon, box.MinLat}}
		for _, c := range corners {
			x, y := p.xy(c[0], c[1])
			if !area.grow(1e-6).has(x, y) {
				t.Errorf("%v: corner %v at %v,%v outside %v", box, c, x, y, area)
			}
		}
		// The box fills the area one way: it touches two opposite sides.
		x0, y0 := p.xy(box.MinLon, box.MaxLat)
		x1, y1 := p.xy(box.MaxLon, box.MinLat)
		if math.Abs(x1-x0-area.w()) > 1e-6 && math.Abs(y1-y0-area.h()) > 1e-6 {
			t.Errorf("%v: drawn %vx%v in a %vx%v area, fills neither way", box, x1-x0, y1-y0, area.w(), area.h())
		}
		// Centred.
		if cx, cy := (x0+x1)/2, (y0+y1)/2; math.Abs(cx-480) > 1e-6 || math.Abs(cy-317) > 1e-6 {
			t.Errorf("%v: centre at %v,%v", box, cx, cy)
		}
		// Round trip.
		lon, lat := p.lonlat(p.xy(box.MinLon, box.MinLat))
		if math.Abs(lon-box.MinLon) > 1e-9 || math.Abs(lat-box.MinLat) > 1e-9 {
			t.Errorf("%v: round trip gives %v,%v", box, lon, lat)
		}
	}
}

func TestViewOf(t *testing.T) {
	tests := []struct {
		name   string
		bounds *Box
		pts    []Point
		check  func(Box) bool
	}{
		{"bounds win", &Box{1, 2, 3, 4}, []Point{{Lat: 48, Lon: 37}}, func(b Box) bool { return b == Box{1, 2, 3, 4} }},
		{"no points is Ukraine", nil, nil, func(b Box) bool { return b == ukraine }},
		{"one point gets the minimum extent", nil, []Point{{Lat: 48, Lon: 37}}, func(b Box) bool {
			return b.MaxLon-b.MinLon >= 3 && b.MaxLat-b.MinLat >= 3 && b.MinLon < 37 && b.MaxLon > 37 && math.Abs((b.MinLat+b.MaxLat)/2-48) < 1e-9
		}},
		{"points are padded", nil, []Point{{Lat: 44, Lon: 30}, {Lat: 52, Lon: 40}}, func(b Box) bool {
			return b.MinLon < 30 && b.MaxLon > 40 && b.MinLat < 44 && b.MaxLat > 52 && b.MaxLon-b.MinLon < 12
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b := viewOf(tt.bounds, tt.pts); !tt.check(b) {
				t.Errorf("viewOf = %v", b)
			}
		})
	}
}

func TestRenderMapFitsPoints(t *testing.T) {
	// Without bounds every point is in view and drawn.
	pts := []Point{{Lat: 44.5, Lon: 33.5, Status: "verified"}, {Lat: 51.5, Lon: 35.0, Status: "reported"}, {Lat: 47.1, Lon: 39.7, Status: "disputed"}}
	b := render(t, pts, MapOptions{ClusterPx: -1})
	if n := bytes.Count(b, []byte(`class="incident"`)); n != 3 {
		t.Errorf("%d incidents drawn, want 3", n)
	}
	if bytes.Contains(b, []byte("outside the view")) {
		t.Errorf("description says some are outside the view")
	}
	// With bounds, points outside are left out and said to be.
	b = render(t, pts, MapOptions{Bounds: &Box{32, 44, 36, 46}, ClusterPx: -1})
	if n := bytes.Count(b, []byte(`class="incident"`)); n != 1 {
		t.Errorf("%d incidents drawn, want 1", n)
	}
	if !bytes.Contains(b, []byte("2 incidents outside the view")) {
		t.Errorf("description does not say 2 are outside the view")
	}
}

func TestClusterPoints(t *testing.T) {
	pl := func(x, y float64, status, i int) placed { return placed{x: x, y: y, status: status, index: i} }
	t.Run("near merge, far stay apart", func(t *testing.T) {
		cs := clusterPoints([]placed{pl(100, 100, 0, 0), pl(105, 103, 2, 1), pl(300, 100, 0, 2), pl(101, 99, 4, 3)}, 14)
		if len(cs) != 2 {
			t.Fatalf("%d clusters, want 2", len(cs))
		}
		var big, lone *cluster
		for _, c := range cs {
			if c.n == 3 {
				big = c
			} else {
				lone = c
			}
		}
		if big == nil || lone == nil || lone.first != 2 {
			t.Fatalf("clusters %+v %+v", cs[0], cs[1])
		}
		if st := styles[big.top()].name; st != "verified" {
			t.Errorf("cluster of reported, verified, disputed coloured %s, want verified", st)
		}
	})
	t.Run("weight order", func(t *testing.T) {
		order := []string{"verified", "disputed", "under-review", "reported", "unverified", "rejected", "duplicate"}
		for i := range order {
			var ps []placed
			for j, s := range order[i:] {
				ps = append(ps, pl(50, 50+float64(j)*0.1, statusIndex(s), j))
			}
			cs := clusterPoints(ps, 14)
			if len(cs) != 1 {
				t.Fatalf("%d clusters", len(cs))
			}
			if got := styles[cs[0].top()].name; got != order[i] {
				t.Errorf("cluster of %v coloured %s, want %s", order[i:], got, order[i])
			}
		}
	})
	t.Run("counts add up", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		var ps []placed
		want := make([]int, len(styles))
		for i := range 2000 {
			s := r.IntN(len(styles))
			want[s]++
			ps = append(ps, pl(r.Float64()*500, r.Float64()*300, s, i))
		}
		cs := clusterPoints(ps, 14)
		got := make([]int, len(styles))
		total := 0
		for _, c := range cs {
			sum := 0
			for s, n := range c.counts {
				got[s] += n
				sum += n
			}
			if sum != c.n {
				t.Errorf("cluster of %d counts %d by status", c.n, sum)
			}
			total += c.n
			// Every member lies within the radius of the seed, so the mean
			// does too.
			if dx, dy := c.x()-c.seedX, c.y()-c.seedY; dx*dx+dy*dy > 14*14 {
				t.Errorf("cluster centre %v,%v far from its seed %v,%v", c.x(), c.y(), c.seedX, c.seedY)
			}
		}
		if total != 2000 {
			t.Errorf("clusters hold %d points, want 2000", total)
		}
		for s := range want {
			if got[s] != want[s] {
				t.Errorf("%s: %d in clusters, want %d", styles[s].name, got[s], want[s])
			}
		}
		if len(cs) >= 2000 || len(cs) < 100 {
			t.Errorf("%d clusters for 2000 points in 500x300 px", len(cs))
		}
	})
	t.Run("overlapping circles merge", func(t *testing.T) {
		r := rand.New(rand.NewPCG(8, 9))
		var ps []placed
		for i := range 1500 {
			ps = append(ps, pl(r.Float64()*300, r.Float64()*200, r.IntN(len(styles)), i))
		}
		cs := mergeOverlapping(clusterPoints(ps, 14))
		total := 0
		for i, a := range cs {
			total += a.n
			for _, b := range cs[i+1:] {
				d := math.Hypot(a.x()-b.x(), a.y()-b.y())
				if d < 0.75*(markerRadius(a)+markerRadius(b))-1e-9 {
					t.Errorf("clusters of %d and %d overlap: %.1f px apart", a.n, b.n, d)
				}
			}
		}
		if total != 1500 {
			t.Errorf("merged clusters hold %d points, want 1500", total)
		}
		// Points far apart stay apart.
		far := mergeOverlapping(clusterPoints([]placed{pl(0, 0, 0, 0), pl(100, 0, 0, 1), pl(0, 100, 0, 2)}, 14))
		if len(far) != 3 {
			t.Errorf("%d clusters of 3 far points", len(far))
		}
	})
	t.Run("off", func(t *testing.T) {
		cs := clusterPoints([]placed{pl(1, 1, 0, 0), pl(1, 1, 0, 1)}, -1)
		if len(cs) != 2 {
			t.Errorf("%d clusters with clustering off, want 2", len(cs))
		}
	})
}

var clusterRE = regexp.MustCompile(`<g class="cluster"><title>(\d+) incidents: ([^<]*)</title>`)

func TestRenderMapClusters(t *testing.T) {
	pts := []Point{
		{Lat: 48.000, Lon: 37.800, Status: "reported", Label: "a"},
		{Lat: 48.001, Lon: 37.801, Status: "verified", Label: "b"},
		{Lat: 48.002, Lon: 37.799, Status: "reported", Label: "c"},
		{Lat: 47.200, Lon: 38.900, Status: "disputed", Label: "far away"},
	}
	b := render(t, pts, MapOptions{Bounds: &Box{36, 46.5, 40, 49.5}})
	m := clusterRE.FindAllSubmatch(b, -1)
	if len(m) != 1 || string(m[0][1]) != "3" || string(m[0][2]) != "2 reported, 1 verified" {
		t.Fatalf("clusters %q, want one of 3: 2 reported, 1 verified", m)
	}
	singles := useRE.FindAllSubmatch(b, -1)
	if len(singles) != 1 || string(singles[0][1]) != "far away (disputed)" {
		t.Errorf("lone incidents %q, want the far one", singles)
	}
	// The cluster takes the colour of verified.
	if !bytes.Contains(b, []byte(`fill="`+StatusColor("verified")+`" fill-opacity`)) {
		t.Errorf("cluster not coloured as verified")
	}

	// 1,500 incidents: the counts in clusters and markers add up.
	pts = donbas(1500, 7)
	b = render(t, pts, MapOptions{})
	total := len(useRE.FindAllSubmatch(b, -1))
	for _, m := range clusterRE.FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		total += n
	}
	if total != 1500 {
		t.Errorf("markers and clusters count %d incidents, want 1500", total)
	}
}

func TestRenderMapEscapes(t *testing.T) {
	nasty := `<script>alert("x")</script> & 'quotes' ]]> ` + "\x00\x01 bad \xff utf8 \u2028"
	pts := []Point{{Lat: 48, Lon: 37, Status: "verified", Label: nasty, Href: `/i?a=1&b="2"<`}}
	b := render(t, pts, MapOptions{Title: nasty, ClusterPx: -1, ID: "m1"})
	if bytes.Contains(b, []byte("<script")) {
		t.Errorf("label not escaped")
	}
	// The decoder gives back the label as written, invalid characters
	// replaced.
	d := xml.NewDecoder(bytes.NewReader(b))
	var titles []string
	inTitle := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inTitle = tok.Name.Local == "title"
			if tok.Name.Local == "a" && attr(tok, "href") != `/i?a=1&b="2"<` {
				t.Errorf("href decoded as %q", attr(tok, "href"))
			}
		case xml.CharData:
			if inTitle {
				titles = append(titles, string(tok))
			}
		case xml.EndElement:
			inTitle = false
		}
	}
	want := strings.NewReplacer("\x00", "\uFFFD", "\x01", "\uFFFD", "\xff", "\uFFFD").Replace(nasty)
	if len(titles) < 2 || titles[0] != want || titles[1] != want+" (verified)" {
		t.Errorf("titles %q, want %q", titles, want)
	}
}

func TestRenderMapErrors(t *testing.T) {
	ok := Point{Lat: 48, Lon: 37, Status: "verified"}
	tests := []struct {
		name string
		pts  []Point
		opt  MapOptions
		want string
	}{
		{"status", []Point{ok, {Lat: 48, Lon: 37, Status: "confirmed"}}, MapOptions{}, `point 1 (""): unknown status "confirmed"`},
		{"lat", []Point{{Lat: 91, Lon: 37, Status: "verified"}}, MapOptions{}, "lat 91"},
		{"nan", []Point{{Lat: math.NaN(), Lon: 37, Status: "verified"}}, MapOptions{}, "lat NaN"},
		{"href", []Point{{Lat: 48, Lon: 37, Status: "verified", Href: "javascript:alert(1)"}}, MapOptions{}, `scheme "javascript" not allowed`},
		{"size", nil, MapOptions{Width: 10}, "size 10x640"},
		{"bounds", nil, MapOptions{Bounds: &Box{40, 45, 30, 50}}, "empty"},
		{"cluster", nil, MapOptions{ClusterPx: math.Inf(1)}, "ClusterPx"},
		{"id", nil, MapOptions{ID: `x" onload="`}, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := RenderMap(&buf, tt.pts, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes on error", buf.Len())
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	if len(Statuses) != len(styles) {
		t.Fatalf("%d statuses, %d styles", len(Statuses), len(styles))
	}
	seen := map[string]bool{}
	for i, s := range Statuses {
		if styles[i].name != s {
			t.Errorf("style %d is %q, status %q", i, styles[i].name, s)
		}
		c := StatusColor(s)
		if len(c) != 7 || c[0] != '#' || seen[c] {
			t.Errorf("%s: colour %q missing or shared", s, c)
		}
		seen[c] = true
	}
	if StatusColor("confirmed") != "" {
		t.Errorf("colour for an unknown status")
	}
}

func TestBoundaries(t *testing.T) {
	d, err := loadBoundaries()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range d.features {
		names[f.name] = true
		if len(f.rings) == 0 {
			t.Errorf("%s has no outline", f.name)
		}
	}
	for _, n := range []string{"Ukraine", "Russia", "Belarus", "Moldova", "Romania", "Poland", "Turkey", "Georgia", "Donetsk", "Luhansk", "Zaporizhzhia", "Kherson", "Kharkiv", "Belgorod", "Kursk", "Rostov", "Sevastopol"} {
		if !names[n] {
			t.Errorf("no boundary of %s", n)
		}
	}
	if !strings.Contains(d.source, "Natural Earth") {
		t.Errorf("source %q does not name Natural Earth", d.source)
	}
	if _, err := decodeBoundaries(boundariesBin[:len(boundariesBin)-3]); err == nil {
		t.Errorf("truncated data decoded without error")
	}
	if _, err := decodeBoundaries([]byte("GIF89a")); err == nil {
		t.Errorf("foreign data decoded without error")
	}
}

func TestAppendEscapedMatchesEncodingXML(t *testing.T) {
	for _, s := range []string{"", "plain", `<&>"'`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "Київ – Донецьк", "\xff\xfe", "\uFFFE\uFFFF", "😀", "\u2028"} {
		var want bytes.Buffer
		xml.EscapeText(&want, []byte(s))
		if got := appendEscaped(nil, s); string(got) != want.String() {
			t.Errorf("appendEscaped(%q) = %q, encoding/xml says %q", s, got, want.String())
		}
	}
}

func TestAppendNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1.25: "1.3", -0.04: "0", -0.06: "-0.1", 123.45: "123.5", 99.96: "100", -7: "-7", math.NaN(): "0"} {
		if got := string(appendNum(nil, v)); got != want {
			t.Errorf("appendNum(%v) = %q, want %q", v, got, want)
		}
	}
}
