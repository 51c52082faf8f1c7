package incidents

import (
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unique"

	"parley/internal/export"
	"parley/internal/problem"
	"parley/internal/vocab"
)

// ReadOptions say how ACLED rows become reports.
type ReadOptions struct {
	// Agreement is the agreement every report is under; required.
	Agreement string
	// Parties maps ACLED actor names (actor1) to the parley party each is
	// alleged against. A row whose actor1 is not in it is refused; an
	// empty actor1 leaves the incident unattributed.
	Parties map[string]string
	// ReportedBy is who reports every row, such as the mission importing
	// its own spreadsheet. When empty, actor2 is looked up in Reporters,
	// and left out if it is not there (in ACLED's own data actor2 is the
	// one acted on, not a reporter).
	ReportedBy string
	Reporters  map[string]string
	// Source is the source of rows whose source column is empty.
	Source string
}

// A RowError is what was wrong with one row: its line in the file (from 1,
// the header's; a quoted field may span lines, and Line is where the row
// starts), the column, and what to do about it.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message)
}

// A Reading is what ReadACLED made of a file: a report for each good row,
// an error for each problem of each bad row, and how many rows it read.
type Reading struct {
	Reports []vocab.ReportBody `json:"reports"`
	Errors  []RowError         `json:"errors"`
	Rows    int                `json:"rows"`
}

// ReadACLED reads CSV in ACLED's layout (as export.WriteACLED writes it, or as
// ACLED exports it) into one report per row; see EachACLED for the rules.
// Bad rows do not stop it: each is in Reading.Errors. The error is for the
// file as a whole: no header, a required column missing, unreadable input.
func ReadACLED(r io.Reader, opts ReadOptions) (Reading, error) {
	out := Reading{Reports: []vocab.ReportBody{}, Errors: []RowError{}}
	err := EachACLED(r, opts, func(line int, b vocab.ReportBody) error {
		out.Reports = append(out.Reports, b)
		return nil
	}, func(e RowError) {
		out.Errors = append(out.Errors, e)
	})
	out.Rows = len(out.Reports) + rowsWithErrors(out.Errors)
	return out, err
}

// rowsWithErrors counts the distinct lines of errs, which come in line order.
func rowsWithErrors(errs []RowError) int {
	n, last := 0, 0
	for _, e := range errs {
		if e.Line != last {
			n++
			last = e.Line
		}
	}
	return n
}

// The columns a file must have; and one of sub_event_type or tags.
var requiredColumns = []string{"event_date", "latitude", "longitude", "location"}

// EachACLED reads CSV in ACLED's layout row by row, holding one row at a
// time, and calls fn with the report each good row makes and bad with
// each problem of each bad row (if bad is nil, the first problem ends the
// read as its error). An error from fn ends the read.
//
// The header is required and columns are matched by name, in any order;
// event_date, latitude, longitude and location are required, and
// sub_event_type or tags. Each row becomes a report with one incident:
//   - id: event_id_cnty, lower-cased and cleaned to a parley id, or
//     "row-LINE"; an id may not repeat in a file;
//   - time: the tag "time=RFC3339" if present (its date must be
//     event_date's), else event_date (2025-03-20 or 20 March 2025);
//   - place: location; area: admin1; precision: geo_precision 1, 2, 3;
//   - categories: the tags that name parley categories, or else the
//     category of sub_event_type (shelling, drone-strike, small-arms,
//     landmine, or other);
//   - against: actor1, through opts.Parties;
//   - count, injured, weapons, evidence: tags "count=", "injured=",
//     "weapon=", "evidence=" (a SHA-256);
//   - fatalities, source (or opts.Source), notes.
//
// Each report is checked as the record would check it (Validate).
func EachACLED(r io.Reader, opts ReadOptions, fn func(line int, b vocab.ReportBody) error, bad func(RowError)) error {
	if strings.TrimSpace(opts.Agreement) == "" {
		return problem.New(problem.Invalid, "agreement", "is required: the agreement the imported incidents are reported under")
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return problem.New(problem.Invalid, "line 1", "the file is empty: it needs a header row naming the columns (%s)", strings.Join(export.ACLEDColumns, ","))
	}
	if err != nil {
		return problem.New(problem.Invalid, "line 1", "the header row does not read as CSV: %v", err)
	}
	cols, err := columnsOf(header)
	if err != nil {
		return err
	}
	rd := rowReader{cols: cols, opts: opts, seen: map[uint64]int{}, seed: maphash.MakeSeed()}
	var stop error
	report := func(e RowError) {
		if bad == nil {
			if stop == nil {
				stop = e
			}
			return
		}
		bad(e)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return stop
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("read line %d: %w", line, err)
			}
			report(RowError{Line: pe.StartLine, Message: "does not read as CSV: " + pe.Err.Error()})
		} else if len(rec) != len(header) {
			report(RowError{Line: line, Message: fmt.Sprintf("has %d fields and the header %d", len(rec), len(header))})
		} else if b, ok := rd.row(line, rec, report); ok {
			if err := fn(line, b); err != nil {
				return fmt.Errorf("line %d: %w", line, err)
			}
		}
		if stop != nil {
			return stop
		}
	}
}

// columns are the index of each column a row is read from, -1 if absent.
type columns struct {
	id, date, subEvent, actor1, actor2, admin1, location, lat, lon, precision, source, notes, fatalities, tags int
}

// columnsOf finds the columns by name in the header, refusing a header
// without a required column or naming one twice.
func columnsOf(header []string) (columns, error) {
	at := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte order mark, as spreadsheets write
		}
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := at[h]; dup && h != "" {
			return columns{}, problem.New(problem.Invalid, "line 1", "the header names column %q twice", h)
		}
		at[h] = i
	}
	for _, c := range requiredColumns {
		if _, ok := at[c]; !ok {
			return columns{}, problem.New(problem.Invalid, "line 1", "column %q is required and the header has none", c)
		}
	}
	idx := func(name string) int {
		if i, ok := at[name]; ok {
			return i
		}
		return -1
	}
	c := columns{idx("event_id_cnty"), idx("event_date"), idx("sub_event_type"), idx("actor1"), idx("actor2"), idx("admin1"),
		idx("location"), idx("latitude"), idx("longitude"), idx("geo_precision"), idx("source"), idx("notes"), idx("fatalities"), idx("tags")}
	if c.subEvent < 0 && c.tags < 0 {
		return columns{}, problem.New(problem.Invalid, "line 1", "column %q or %q is required, to say what happened, and the header has neither", "sub_event_type", "tags")
	}
	return c, nil
}

// rowReader turns rows into reports.
type rowReader struct {
	cols columns
	opts ReadOptions
	// seen holds a hash of each id so far and its line: 1,000,000 rows
	// take about 20 MB rather than the ids themselves. Two ids share a
	// 64-bit hash with odds of about 1 in 30 million in such a file.
	seen map[uint64]int
	seed maphash.Seed
}

// field is the value of column i, trimmed, or "" where there is no column.
func field(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// intern keeps one copy of a value many rows repeat (a place, a date), and
// copies it out of the csv.Reader's reused buffer.
func intern(s string) string { return unique.Make(s).Value() }

// row reads one row, reporting each of its problems.
func (rd *rowReader) row(line int, rec []string, report func(RowError)) (vocab.ReportBody, bool) {
	c, opts := rd.cols, rd.opts
	errs := 0
	fail := func(col, format string, args ...any) {
		errs++
		report(RowError{Line: line, Field: col, Message: fmt.Sprintf(format, args...)})
	}
	var in vocab.ReportedIncident
	b := vocab.ReportBody{ID: cleanID(field(rec, c.id)), Agreement: opts.Agreement, ReportedBy: opts.ReportedBy}
	if b.ID == "" {
		b.ID = "row-" + strconv.Itoa(line)
	}
	h := maphash.String(rd.seed, b.ID)
	if first, ok := rd.seen[h]; ok {
		fail("event_id_cnty", "id %q is line %d's too: give each row its own id, or leave event_id_cnty empty", b.ID, first)
	} else {
		rd.seen[h] = line
	}

	date := field(rec, c.date)
	day, err := parseDate(date)
	if err != nil {
		fail("event_date", "%q is not a date: write 2025-03-20 or 20 March 2025", date)
	}
	in.Time = intern(day.Format(time.DateOnly))

	ll := new([2]float64)
	for i, col := range []struct {
		name  string
		idx   int
		limit float64
	}{{"latitude", c.lat, 90}, {"longitude", c.lon, 180}} {
		s := field(rec, col.idx)
		v, err := strconv.ParseFloat(s, 64)
		switch {
		case s == "":
			fail(col.name, "is required: a number of degrees from -%v to %v", col.limit, col.limit)
		case err != nil:
			fail(col.name, "%q is not a number: write decimal degrees, such as 47.8388", s)
		case math.IsNaN(v) || math.Abs(v) > col.limit:
			fail(col.name, "%s is out of range: from -%v to %v", s, col.limit, col.limit)
		}
		ll[i] = v
	}
	in.Lat, in.Lon = &ll[0], &ll[1]

	in.Place = intern(field(rec, c.location))
	if in.Place == "" {
		fail("location", "is required: the place it happened")
	}
	in.Area = intern(field(rec, c.admin1))
	switch p := field(rec, c.precision); p {
	case "":
	case "1", "2", "3":
		in.Precision = vocab.Precisions[p[0]-'1']
	default:
		fail("geo_precision", "%q is not 1 (the place itself), 2 (near it) or 3 (the region)", p)
	}

	if s := field(rec, c.fatalities); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fail("fatalities", "%q is not a whole number, 0 or more", s)
		}
		in.Fatalities = n
	}

	if a := field(rec, c.actor1); a != "" {
		p, ok := opts.Parties[a]
		if !ok {
			fail("actor1", "no parley party is mapped to actor %q: map it to a party of %s, or leave actor1 empty for unattributed", a, opts.Agreement)
		}
		in.Against = p
	}
	if b.ReportedBy == "" {
		b.ReportedBy = opts.Reporters[field(rec, c.actor2)]
	}
	b.Source = intern(field(rec, c.source))
	if b.Source == "" {
		b.Source = opts.Source
	}
	if n := field(rec, c.notes); n != "" {
		in.Notes = strings.Clone(n)
	}

	if rd.tags(field(rec, c.tags), day, &in, fail) && len(in.Categories) == 0 {
		sub := field(rec, c.subEvent)
		switch {
		case sub != "":
			in.Categories = []string{categoryOfSubEvent(sub)}
		case c.subEvent >= 0:
			fail("sub_event_type", "is required when tags name no parley category: what happened, such as %q", "Armed clash")
		default:
			fail("tags", "names no parley category (%s): say what happened", strings.Join(vocab.CategoryIDs, ", "))
		}
	}
	if errs > 0 {
		return vocab.ReportBody{}, false
	}
	b.Incidents = []vocab.ReportedIncident{in}
	if err := b.Validate(); err != nil {
		col, msg := columnOf(err)
		fail(col, "%s", msg)
		return vocab.ReportBody{}, false
	}
	return b, true
}

// tags reads the categories and name=value tags into in. It says whether
// they were good, having reported each problem.
func (rd *rowReader) tags(s string, day time.Time, in *vocab.ReportedIncident, fail func(string, string, ...any)) bool {
	ok := true
	bad := func(format string, args ...any) {
		ok = false
		fail("tags", format, args...)
	}
	for t := range strings.SplitSeq(s, ";") {
		t = strings.TrimSpace(t)
		name, value, isPair := strings.Cut(t, "=")
		switch {
		case t == "":
		case !isPair:
			// A tag that could be a category id names one; ACLED's own
			// tags are phrases, with spaces or capitals.
			if !looksLikeID(t) {
				continue
			}
			if _, known := vocab.CategoryOf(t); !known {
				bad("%q is not a parley category: the categories are %s", t, strings.Join(vocab.CategoryIDs, ", "))
				continue
			}
			c, _ := vocab.CategoryOf(t)
			in.Categories = append(in.Categories, c.ID)
		case name == export.TagTime:
			tm, err := time.Parse(time.RFC3339Nano, value)
			switch {
			case err != nil:
				bad("%q is not an RFC 3339 time, such as 2025-03-20T04:30:00Z", t)
			case !day.IsZero() && !sameDay(tm.UTC(), day):
				bad("%q falls on %s, and event_date is %s", t, tm.UTC().Format(time.DateOnly), day.Format(time.DateOnly))
			default:
				in.Time = strings.Clone(value)
			}
		case name == export.TagCount || name == export.TagInjured:
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				bad("%q: %s is not a whole number, 0 or more", t, name)
			}
			if name == export.TagCount {
				in.Count = n
			} else {
				in.Injured = n
			}
		case name == export.TagWeapon:
			in.Weapons = append(in.Weapons, intern(value))
		case name == export.TagEvidence:
			in.Evidence = append(in.Evidence, vocab.Evidence{SHA256: strings.Clone(value)})
		}
	}
	return ok
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// looksLikeID says whether s is written as a parley id is.
func looksLikeID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != ""
}

// parseDate reads ACLED's dates: 2025-03-20, as its API writes them, or
// 20 March 2025, as its spreadsheets do.
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, "2 January 2006", "02 January 2006", "2-Jan-06"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}

// categoryOfSubEvent is the parley category of an ACLED sub-event type.
func categoryOfSubEvent(sub string) string {
	switch strings.ToLower(sub) {
	case "shelling/artillery/missile attack":
		return "shelling"
	case "air/drone strike":
		return "drone-strike"
	case "armed clash":
		return "small-arms"
	case "remote explosive/landmine/ied":
		return "landmine"
	}
	return "other"
}

// cleanID makes an ACLED event id a parley id: lower-case letters and
// digits, other runs of characters as one "-", at most 64 characters.
func cleanID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case (r == '.' || r == '_' || r == '-') && b.Len() > 0 && !dash:
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}

// The columns of a report's fields, for naming where a row went wrong.
var columnOfField = map[string]string{
	"id": "event_id_cnty", "agreement": "agreement", "reported_by": "actor2", "source": "source",
	"time": "event_date", "place": "location", "area": "admin1", "lat": "latitude", "lon": "longitude",
	"precision": "geo_precision", "categories": "tags", "weapons": "tags", "count": "tags",
	"fatalities": "fatalities", "injured": "tags", "against": "actor1", "notes": "notes", "evidence": "tags",
}

// columnOf finds the column of a Validate error, which begins with the
// field's path in quotes ("incidents/0/lat" is ...).
func columnOf(err error) (col, msg string) {
	msg = err.Error()
	var p *problem.Error
	if errors.As(err, &p) {
		msg = p.Message
	}
	path, _, ok := strings.Cut(strings.TrimPrefix(msg, `"`), `"`)
	if !ok || !strings.HasPrefix(msg, `"`) {
		return "", msg
	}
	parts := strings.Split(path, "/")
	if len(parts) >= 3 && parts[0] == "incidents" {
		parts = parts[2:]
	}
	if c, ok := columnOfField[parts[0]]; ok {
		return c, msg
	}
	return "", msg
}
