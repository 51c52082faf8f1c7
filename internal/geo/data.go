package geo

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
)

// Regenerate boundaries.bin from the npm tarballs named in README.md.
//go:generate go run ./internal/mkdata -countries ${NE_COUNTRIES} -regions ${NE_ADMIN1} -o boundaries.bin

//go:embed boundaries.bin
var boundariesBin []byte

// Attribution names the source of the boundaries, for a map's caption.
const Attribution = "Boundaries: Natural Earth"

// dataMagic opens boundaries.bin (see internal/mkdata).
const dataMagic = "PARLEYGEO1\n"

// quantum is the number of data units per degree in boundaries.bin.
const quantum = 1000

// feature is a country or a region with its outline.
type feature struct {
	region  bool
	code    string // ISO 3166-1 numeric for a country, ISO 3166-2 for a region
	name    string
	country string // for a region, the ISO 3166-1 alpha-2 code of its ISO 3166-2 code
	label   [2]float64
	rings   []ring
}

// ring is one closed outline, lon/lat pairs without the closing point.
type ring struct {
	pts []float64 // lon0, lat0, lon1, lat1, ...
	box Box
}

// boundaries is the decoded data.
type boundaries struct {
	source   string
	features []feature
}

// loadBoundaries decodes the embedded data once; the result is shared and
// never changed.
var loadBoundaries = sync.OnceValues(func() (*boundaries, error) {
	return decodeBoundaries(boundariesBin)
})

// decodeBoundaries reads the format that internal/mkdata writes.
func decodeBoundaries(b []byte) (*boundaries, error) {
	if !bytes.HasPrefix(b, []byte(dataMagic)) {
		return nil, errors.New("boundary data: bad magic (regenerate boundaries.bin with go generate)")
	}
	r := bytes.NewReader(b[len(dataMagic):])
	var err error
	uv := func() uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = binary.ReadUvarint(r)
		return v
	}
	sv := func() int64 {
		if err != nil {
			return 0
		}
		var v int64
		v, err = binary.ReadVarint(r)
		return v
	}
	str := func() string {
		n := uv()
		if err != nil {
			return ""
		}
		if n > uint64(r.Len()) {
			err = errors.New("string past the end")
			return ""
		}
		s := make([]byte, n)
		_, err = r.Read(s)
		return string(s)
	}
	d := &boundaries{source: str()}
	nf := uv()
	if err == nil && nf > uint64(r.Len()) {
		err = errors.New("feature count past the end")
	}
	for i := uint64(0); i < nf && err == nil; i++ {
		var kind byte
		kind, err = r.ReadByte()
		f := feature{region: kind == 2, code: str(), name: str(), country: str()}
		f.label = [2]float64{float64(sv()) / quantum, float64(sv()) / quantum}
		nr := uv()
		if err == nil && nr > uint64(r.Len()) {
			err = errors.New("ring count past the end")
		}
		for j := uint64(0); j < nr && err == nil; j++ {
			np := uv()
			if err == nil && np > uint64(r.Len()) {
				err = errors.New("point count past the end")
				break
			}
			rg := ring{pts: make([]float64, 0, 2*np), box: Box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}}
			var x, y int64
			for k := uint64(0); k < np && err == nil; k++ {
				x += sv()
				y += sv()
				lon, lat := float64(x)/quantum, float64(y)/quantum
				rg.pts = append(rg.pts, lon, lat)
				rg.box.MinLon, rg.box.MaxLon = min(rg.box.MinLon, lon), max(rg.box.MaxLon, lon)
				rg.box.MinLat, rg.box.MaxLat = min(rg.box.MinLat, lat), max(rg.box.MaxLat, lat)
			}
			f.rings = append(f.rings, rg)
		}
		d.features = append(d.features, f)
	}
	if err != nil {
		return nil, fmt.Errorf("boundary data: feature %d: %w", len(d.features), err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("boundary data: %d bytes after the last feature", r.Len())
	}
	return d, nil
}
