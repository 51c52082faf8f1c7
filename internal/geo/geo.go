// Package geo draws the monitoring's pictures on the server: a map of
// incident reports over the boundaries of Ukraine, its neighbours and their
// regions, and a chart of violations per day per party.
//
// Both are SVG meant to be embedded inline in HTML pages served under a
// strict Content-Security-Policy: they use no script, no style attribute and
// no <style> element, only presentation attributes and class names. Every
// text is escaped, and the output is well-formed XML.
//
// The boundaries are Natural Earth's (public domain), derived by
// internal/mkdata into boundaries.bin and embedded; see README.md.
package geo

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// Statuses are the verification statuses of an incident report, from the
// first report to the end of its review. Each has a colour and a marker
// shape (see StatusColor) so that the map reads in colour-blind vision and
// in greyscale print alike.
var Statuses = []string{"reported", "under-review", "verified", "unverified", "disputed", "rejected", "duplicate"}

// statusStyle is how one status is drawn: a colour from the Okabe–Ito
// palette, a shape, and the weight that decides a cluster's colour.
type statusStyle struct {
	name   string
	fill   string // marker fill; "#ffffff" for hollow markers
	stroke string // marker outline
	shape  string // SVG path of the marker, centred on 0,0
	weight int    // higher wins a cluster's colour
	ink    string // colour of a count written on a cluster of this colour
}

// styles is indexed like Statuses.
var styles = [...]statusStyle{
	{"reported", "#0072B2", "#1a1a1a", "M-4.5-4.5h9v9h-9z", 3, "#ffffff"},                                       // blue square
	{"under-review", "#E69F00", "#1a1a1a", "M0-6L5.5 4H-5.5z", 4, "#000000"},                                    // orange triangle
	{"verified", "#D55E00", "#1a1a1a", "M-5.5 0a5.5 5.5 0 1 0 11 0a5.5 5.5 0 1 0-11 0z", 6, "#ffffff"},          // vermillion disc
	{"unverified", "#ffffff", "#56B4E9", "M-4.5 0a4.5 4.5 0 1 0 9 0a4.5 4.5 0 1 0-9 0z", 2, "#000000"},          // sky-blue ring
	{"disputed", "#CC79A7", "#1a1a1a", "M0-6.5L6.5 0L0 6.5L-6.5 0z", 5, "#000000"},                              // purple diamond
	{"rejected", "#999999", "#1a1a1a", "M-5-3l2-2l3 3l3-3l2 2l-3 3l3 3l-2 2l-3-3l-3 3l-2-2l3-3z", 1, "#000000"}, // grey cross
	{"duplicate", "#ffffff", "#777777", "M-4-4h8v8h-8z", 0, "#000000"},                                          // grey hollow square
}

// StatusColor returns the colour (#rrggbb) that marks incidents of the
// given status on the map and in its legend, and "" for an unknown status.
// Hollow markers (unverified, duplicate) are drawn in this colour as an
// outline on white.
func StatusColor(status string) string {
	i := statusIndex(status)
	if i < 0 {
		return ""
	}
	if styles[i].fill == "#ffffff" {
		return styles[i].stroke
	}
	return styles[i].fill
}

func statusIndex(status string) int {
	for i, s := range styles {
		if s.name == status {
			return i
		}
	}
	return -1
}

// Point is one incident report to place on the map.
type Point struct {
	// Lat and Lon are in decimal degrees (WGS 84).
	Lat, Lon float64
	// Status is one of Statuses.
	Status string
	// Label names the incident in the marker's tooltip.
	Label string
	// Href, if set, makes the marker a link (a relative URL, or http or https).
	Href string
}

// Box is an area in decimal degrees.
type Box struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// ukraine is the view of a map with nothing to show.
var ukraine = Box{MinLon: 22.0, MinLat: 44.2, MaxLon: 40.3, MaxLat: 52.5}

// String gives the box as "lon 30..40, lat 45..51", for messages.
func (b Box) String() string {
	return fmt.Sprintf("lon %g..%g, lat %g..%g", b.MinLon, b.MaxLon, b.MinLat, b.MaxLat)
}

func (b Box) check() error {
	for _, v := range []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("bounds %v: not a number", b)
		}
	}
	if b.MinLon >= b.MaxLon || b.MinLat >= b.MaxLat {
		return fmt.Errorf("bounds %v: empty (want MinLon < MaxLon and MinLat < MaxLat)", b)
	}
	if b.MinLon < -180 || b.MaxLon > 180 || b.MinLat < -85 || b.MaxLat > 85 {
		return fmt.Errorf("bounds %v: outside lon -180..180, lat -85..85", b)
	}
	return nil
}

// checkSize applies the default size to zero values and refuses sizes no
// page could use.
func checkSize(w, h, defW, defH int) (int, int, error) {
	if w == 0 {
		w = defW
	}
	if h == 0 {
		h = defH
	}
	if w < 200 || h < 150 || w > 8000 || h > 8000 {
		return 0, 0, fmt.Errorf("size %dx%d: want 200..8000 by 150..8000 pixels, or 0 for the default %dx%d", w, h, defW, defH)
	}
	return w, h, nil
}

// checkHref accepts relative URLs and absolute http and https URLs, so that
// a label taken from a report can never become a script URL.
func checkHref(href string) error {
	for i, c := range href {
		switch {
		case c == ':':
			scheme := strings.ToLower(href[:i])
			if scheme == "http" || scheme == "https" {
				return nil
			}
			return fmt.Errorf("href %q: scheme %q not allowed (want a relative URL, http or https)", href, scheme)
		case c == '/' || c == '?' || c == '#':
			return nil
		case c < ' ' || c == 0x7f:
			return fmt.Errorf("href %q: control character", href)
		}
	}
	return nil
}

// idPrefix returns id if set, or else a prefix derived from the content,
// so that two pictures inline in one page do not share element ids.
func idPrefix(id, kind string, parts ...string) (string, error) {
	if id != "" {
		for _, c := range id {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("id %q: want letters, digits, '-' and '_' only", id)
			}
		}
		if c := id[0]; c >= '0' && c <= '9' || c == '-' {
			return "", fmt.Errorf("id %q: must start with a letter or '_'", id)
		}
		return id, nil
	}
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%s%012x", kind, h.Sum64()&0xffffffffffff), nil
}

// statusList says the valid statuses in an error message.
func statusList() string {
	return strings.Join(Statuses, ", ")
}
