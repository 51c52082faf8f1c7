package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/export"
	"parley/internal/state"
	"parley/internal/vocab"
)

// seedIncidents are the incidents of the demo record (the seed case and
// the ceasefire's first week), as the export reads them from the store.
func seedIncidents(t *testing.T) []state.IncidentRow {
	t.Helper()
	r, _ := seed(t)
	var rows []state.IncidentRow
	for row, err := range export.IncidentRows(context.Background(), r.Store()) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	if len(rows) < 5 {
		t.Fatalf("the demo record has %d incidents; expected more", len(rows))
	}
	// They are the rows `ask incidents` answers, in the same order.
	ans, err := r.Ask.Incidents(context.Background(), state.Clock{}, state.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Incidents) != len(rows) {
		t.Fatalf("the export reads %d incidents, ask incidents answers %d", len(rows), len(ans.Incidents))
	}
	for i, want := range ans.Incidents {
		if got := fmt.Sprintf("%+v", rows[i]); got != fmt.Sprintf("%+v", want) {
			t.Errorf("incident %d:\n got %s\nwant %+v", i, got, want)
		}
	}
	return rows
}

// each yields rows, as IncidentRows would.
func each(rows []state.IncidentRow) iter.Seq2[state.IncidentRow, error] {
	return func(yield func(state.IncidentRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func TestGeoJSONFollowsRFC7946(t *testing.T) {
	rows := seedIncidents(t)
	var buf bytes.Buffer
	n, err := export.WriteGeoJSON(&buf, each(rows))
	if err != nil || n != len(rows) {
		t.Fatalf("wrote %d of %d: %v", n, len(rows), err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("not valid JSON:\n%s", buf.String())
	}
	var fc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
		t.Fatal(err)
	}
	if _, ok := fc["crs"]; ok {
		t.Error(`the collection has a "crs" member, which RFC 7946 removed`)
	}
	if got := string(fc["type"]); got != `"FeatureCollection"` {
		t.Errorf("type is %s, want FeatureCollection", got)
	}
	var features []struct {
		Type     string          `json:"type"`
		ID       any             `json:"id"`
		CRS      json.RawMessage `json:"crs"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates []json.Number   `json:"coordinates"`
			CRS         json.RawMessage `json:"crs"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(fc["features"]))
	dec.UseNumber()
	if err := dec.Decode(&features); err != nil {
		t.Fatal(err)
	}
	if len(features) != len(rows) {
		t.Fatalf("%d features for %d incidents", len(features), len(rows))
	}
	ids := map[string]bool{}
	for i, f := range features {
		row := rows[i]
		if f.Type != "Feature" || f.Geometry.Type != "Point" {
			t.Errorf("feature %d: type %q, geometry %q; want Feature, Point", i, f.Type, f.Geometry.Type)
		}
		if f.CRS != nil || f.Geometry.CRS != nil {
			t.Errorf("feature %d has a crs", i)
		}
		id, ok := f.ID.(string)
		if !ok || id == "" || ids[id] {
			t.Errorf("feature %d: id %v is not a unique string", i, f.ID)
		}
		ids[id] = true
		if id != row.Incident.Key {
			t.Errorf("feature %d: id %s, want %s", i, id, row.Incident.Key)
		}
		if len(f.Geometry.Coordinates) != 2 {
			t.Fatalf("feature %d: %d coordinates, want 2 (no altitude)", i, len(f.Geometry.Coordinates))
		}
		for _, c := range f.Geometry.Coordinates {
			if _, frac, ok := strings.Cut(c.String(), "."); ok && len(frac) > 6 || strings.ContainsAny(c.String(), "eE") {
				t.Errorf("feature %d: coordinate %s has more than 6 decimals or an exponent", i, c)
			}
		}
		lon, _ := f.Geometry.Coordinates[0].Float64()
		lat, _ := f.Geometry.Coordinates[1].Float64()
		if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
			t.Errorf("feature %d: [%v, %v] out of range", i, lon, lat)
		}
		// Longitude first: the seed's places are in Ukraine (lon 22-41,
		// lat 44-53), where swapping them would put lon below lat.
		if math.Abs(lon-row.Lon) > 1e-6 || math.Abs(lat-row.Lat) > 1e-6 {
			t.Errorf("feature %d: [%v, %v], want [lon %v, lat %v]", i, lon, lat, row.Lon, row.Lat)
		}
		if _, err := time.Parse(time.RFC3339, f.Properties["time"].(string)); err != nil {
			t.Errorf("feature %d: time: %v", i, err)
		}
		for _, p := range []string{"place", "area", "precision", "categories", "acled_event_type", "acled_sub_event_type", "status",
			"against", "reported_by", "count", "fatalities", "injured", "outside", "same_as", "report", "entry"} {
			if _, ok := f.Properties[p]; !ok {
				t.Errorf("feature %d has no property %q", i, p)
			}
		}
	}
}

func TestWritersRefuseBadCoordinates(t *testing.T) {
	rows := []state.IncidentRow{{Incident: state.Ref{Key: "incident/x.1"}, IncidentView: vocab.IncidentView{Lat: 91, Lon: 30}}}
	for name, write := range map[string]func(io.Writer, iter.Seq2[state.IncidentRow, error]) (int, error){
		"geojson": export.WriteGeoJSON, "acled": export.WriteACLED,
	} {
		if _, err := write(io.Discard, each(rows)); err == nil || !strings.Contains(err.Error(), "incident/x.1") {
			t.Errorf("%s: got %v, want an error naming the incident", name, err)
		}
	}
	var buf bytes.Buffer
	if n, err := export.WriteGeoJSON(&buf, each(nil)); err != nil || n != 0 || !json.Valid(buf.Bytes()) {
		t.Fatalf("empty collection: %d, %v, %s", n, err, buf.String())
	}
}

func TestWritersPassOnErrors(t *testing.T) {
	boom := fmt.Errorf("the store went away")
	rows := func(yield func(state.IncidentRow, error) bool) {
		if yield(state.IncidentRow{Incident: state.Ref{Key: "incident/x.1"}, IncidentView: vocab.IncidentView{Lat: 1, Lon: 1, Categories: []string{"shelling"}}}, nil) {
			yield(state.IncidentRow{}, boom)
		}
	}
	for name, write := range map[string]func(io.Writer, iter.Seq2[state.IncidentRow, error]) (int, error){
		"geojson": export.WriteGeoJSON, "acled": export.WriteACLED,
	} {
		if n, err := write(io.Discard, rows); err != boom || n != 1 {
			t.Errorf("%s: wrote %d, %v; want 1 and the iterator's error", name, n, err)
		}
	}
}

func TestACLEDColumns(t *testing.T) {
	rows := seedIncidents(t)
	var buf bytes.Buffer
	n, err := export.WriteACLED(&buf, each(rows))
	if err != nil || n != len(rows) {
		t.Fatalf("wrote %d of %d: %v", n, len(rows), err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[0] != strings.Join(export.ACLEDColumns, ",") {
		t.Fatalf("header %q", lines[0])
	}
	if len(lines) != len(rows)+1 {
		t.Fatalf("%d lines for %d incidents (the seed's notes have no line breaks)", len(lines), len(rows))
	}
	first := strings.Split(lines[1], ",")
	at := func(col string) string { return first[slices.Index(export.ACLEDColumns, col)] }
	r := rows[0]
	if at("event_id_cnty") != strings.TrimPrefix(r.Incident.Key, "incident/") || at("event_date") != r.Time.UTC().Format(time.DateOnly) ||
		!strings.Contains(lines[1], "time="+r.Time.UTC().Format(time.RFC3339)) {
		t.Errorf("first row %q for %+v", lines[1], r)
	}
}
