package export

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/state"
	"parley/internal/vocab"
)

// feature is one incident as a GeoJSON Feature. Its members are the ones
// RFC 7946 section 3.2 names; the properties are flat so that GIS tools
// show them as columns.
type feature struct {
	Type       string     `json:"type"`
	ID         string     `json:"id"`
	Geometry   point      `json:"geometry"`
	Properties properties `json:"properties"`
}

// point is a GeoJSON Point: longitude first (RFC 7946 section 3.1.1).
type point struct {
	Type        string   `json:"type"`
	Coordinates [2]coord `json:"coordinates"`
}

// coord is a coordinate written with at most six decimals, about 10 cm,
// which RFC 7946 section 11.2 says is precision enough.
type coord float64

// MarshalJSON writes the number in plain decimal notation.
func (c coord) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, round6(float64(c)), 'f', -1, 64), nil
}

func round6(x float64) float64 {
	r := math.Round(x*1e6) / 1e6
	if r == 0 {
		return 0 // not -0
	}
	return r
}

type properties struct {
	Time              string   `json:"time"`
	Place             string   `json:"place"`
	Area              string   `json:"area"`
	Precision         string   `json:"precision"`
	Categories        []string `json:"categories"`
	ACLEDEventType    string   `json:"acled_event_type"`
	ACLEDSubEventType string   `json:"acled_sub_event_type"`
	Status            string   `json:"status"`
	Against           string   `json:"against"`
	AgainstName       string   `json:"against_name"`
	ReportedBy        string   `json:"reported_by"`
	Count             int      `json:"count"`
	Fatalities        int      `json:"fatalities"`
	Injured           int      `json:"injured"`
	Outside           bool     `json:"outside"`
	SameAs            string   `json:"same_as"`
	Report            string   `json:"report"`
	Entry             int64    `json:"entry"`
}

// WriteGeoJSON writes rows as an RFC 7946 FeatureCollection, one row at a
// time as they come: one Feature per incident, its id the incident's key, a
// Point at [longitude, latitude], and the incident's fields as properties.
// It writes no "crs" (RFC 7946 coordinates are always WGS 84). A row with
// coordinates out of range is an error naming the incident, as is an error
// from rows; either leaves the collection unfinished. It returns the
// number of features written.
func WriteGeoJSON(w io.Writer, rows iter.Seq2[state.IncidentRow, error]) (int, error) {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	n := 0
	for r, err := range rows {
		if err != nil {
			return n, err
		}
		if err := checkCoords(r); err != nil {
			return n, err
		}
		ev, sub := acledTypes(r.Categories)
		f := feature{Type: "Feature", ID: r.Incident.Key,
			Geometry: point{Type: "Point", Coordinates: [2]coord{coord(r.Lon), coord(r.Lat)}},
			Properties: properties{Time: r.Time.UTC().Format(time.RFC3339Nano), Place: r.Place, Area: r.Area,
				Precision: r.Precision, Categories: r.Categories, ACLEDEventType: ev, ACLEDSubEventType: sub,
				Status: r.Status, Against: r.Against.Key, AgainstName: r.Against.Name, ReportedBy: r.ReportedBy,
				Count: r.Count, Fatalities: r.Fatalities, Injured: r.Injured, Outside: r.Outside,
				SameAs: r.SameAs, Report: r.Report, Entry: r.Basis.Index}}
		b, err := json.Marshal(f)
		if err != nil {
			return n, fmt.Errorf("incident %s: %w", r.Incident.Key, err)
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		if _, err := bw.Write(b); err != nil {
			return n, err
		}
		n++
	}
	bw.WriteString("\n]}\n")
	return n, bw.Flush()
}

// checkCoords refuses coordinates no map can place.
func checkCoords(r state.IncidentRow) error {
	if math.IsNaN(r.Lat) || r.Lat < -90 || r.Lat > 90 || math.IsNaN(r.Lon) || r.Lon < -180 || r.Lon > 180 {
		return fmt.Errorf("incident %s: coordinates %v, %v are out of range (latitude -90 to 90, longitude -180 to 180)", r.Incident.Key, r.Lat, r.Lon)
	}
	return nil
}

// acledTypes are ACLED's event and sub-event types of an incident's first
// category.
func acledTypes(categories []string) (event, sub string) {
	if len(categories) == 0 {
		return "", ""
	}
	c, ok := vocab.CategoryOf(categories[0])
	if !ok {
		return "", ""
	}
	return c.Event, c.SubEvent
}
