package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"parley/internal/state"
	"parley/internal/vocab"
)

// ACLEDColumns are the columns of ACLED's event data export, in its order.
// WriteACLED writes them all and fills what parley knows.
var ACLEDColumns = []string{
	"event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
	"actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
	"iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
	"source", "source_scale", "notes", "fatalities", "tags", "timestamp",
}

// The tags WriteACLED adds beside the categories, as "name=value", and
// incidents.ReadACLED reads back. ACLED has only the date of an event, so
// the time travels as a tag; ACLED's own timestamp column is when the row
// last changed, which for parley is the entry that last changed the
// incident.
const (
	TagTime     = "time"
	TagStatus   = "status"
	TagCount    = "count"
	TagInjured  = "injured"
	TagWeapon   = "weapon"
	TagEvidence = "evidence"
	TagSameAs   = "same_as"
	TagOutside  = "outside"
)

// WriteACLED writes rows as CSV in ACLED's layout (ACLEDColumns): the
// incident id as event_id_cnty, the date, ACLED's event and sub-event
// types of the first category, the party alleged as actor1 and the
// reporter as actor2, the area as admin1 and the place as location, the
// coordinates and geo_precision, source, notes and fatalities. The tags
// hold the categories and, as "name=value", the exact time, status,
// count, injured, weapons and evidence hashes. Columns parley has nothing
// for are left empty. It writes each row as it comes, and returns the
// number written; an error from rows, or a row whose coordinates are out
// of range, ends it.
func WriteACLED(w io.Writer, rows iter.Seq2[state.IncidentRow, error]) (int, error) {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(ACLEDColumns); err != nil {
		return 0, err
	}
	rec := make([]string, len(ACLEDColumns))
	n := 0
	for r, err := range rows {
		if err != nil {
			return n, err
		}
		if err := checkCoords(r); err != nil {
			return n, err
		}
		clear(rec)
		t := r.Time.UTC()
		ev, sub := acledTypes(r.Categories)
		rec[colEventID] = strings.TrimPrefix(r.Incident.Key, vocab.Incident+"/")
		rec[colEventDate] = t.Format(time.DateOnly)
		rec[colYear] = strconv.Itoa(t.Year())
		rec[colTimePrecision] = "1"
		rec[colDisorderType] = disorderType(ev)
		rec[colEventType] = ev
		rec[colSubEventType] = sub
		if r.Against.Key != vocab.Unattributed {
			rec[colActor1] = r.Against.Name
		}
		rec[colActor2] = idOf(r.ReportedBy)
		rec[colAdmin1] = r.Area
		rec[colLocation] = r.Place
		rec[colLatitude] = strconv.FormatFloat(r.Lat, 'f', -1, 64)
		rec[colLongitude] = strconv.FormatFloat(r.Lon, 'f', -1, 64)
		if p := vocab.PrecisionCode(r.Precision); p > 0 {
			rec[colGeoPrecision] = strconv.Itoa(p)
		}
		rec[colSource] = r.Source
		rec[colNotes] = r.Notes
		rec[colFatalities] = strconv.Itoa(r.Fatalities)
		rec[colTags] = tagsOf(r)
		if !r.Basis.Time.IsZero() {
			rec[colTimestamp] = strconv.FormatInt(r.Basis.Time.Unix(), 10)
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// The indexes of ACLEDColumns.
const (
	colEventID = iota
	colEventDate
	colYear
	colTimePrecision
	colDisorderType
	colEventType
	colSubEventType
	colActor1
	colAssocActor1
	colInter1
	colActor2
	colAssocActor2
	colInter2
	colInteraction
	colCivilianTargeting
	colISO
	colRegion
	colCountry
	colAdmin1
	colAdmin2
	colAdmin3
	colLocation
	colLatitude
	colLongitude
	colGeoPrecision
	colSource
	colSourceScale
	colNotes
	colFatalities
	colTags
	colTimestamp
)

// disorderType is ACLED's disorder type of an event type.
func disorderType(event string) string {
	switch event {
	case "Battles", "Explosions/Remote violence", "Violence against civilians":
		return "Political violence"
	case "":
		return ""
	}
	return event
}

// idOf is the id of an entity key ("party/russia" → "russia").
func idOf(key string) string {
	if _, id, ok := strings.Cut(key, "/"); ok {
		return id
	}
	return key
}

// tagsOf is the incident's tags: its categories, then name=value pairs.
// A value never holds ";", the separator.
func tagsOf(r state.IncidentRow) string {
	var b strings.Builder
	add := func(s string) {
		if b.Len() > 0 {
			b.WriteString(";")
		}
		b.WriteString(strings.ReplaceAll(s, ";", ","))
	}
	for _, c := range r.Categories {
		add(c)
	}
	add(TagTime + "=" + r.Time.UTC().Format(time.RFC3339Nano))
	add(TagStatus + "=" + r.Status)
	add(TagCount + "=" + strconv.Itoa(r.Count))
	add(TagInjured + "=" + strconv.Itoa(r.Injured))
	for _, w := range r.Weapons {
		add(TagWeapon + "=" + w)
	}
	for _, e := range r.Evidence {
		add(TagEvidence + "=" + e.SHA256)
	}
	if r.SameAs != "" {
		add(TagSameAs + "=" + r.SameAs)
	}
	if r.Outside {
		add(TagOutside + "=true")
	}
	return b.String()
}
