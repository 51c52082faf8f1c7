// Package incidents brings a ceasefire's incidents onto the record from the
// spreadsheets monitors keep: CSV in ACLED's layout (as export.WriteACLED
// writes it, or as ACLED exports it) becomes one signed report per row.
//
// ReadACLED and EachACLED read and check rows; Import checks a whole file
// against the record as well, and appends it all or, if asked, the good
// rows only.
package incidents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/state"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// ImportOptions say how Import reads a file and what it appends.
type ImportOptions struct {
	// ReadOptions say how rows become reports. Agreement may be the
	// agreement's key, id or name; Parties, Reporters and ReportedBy map
	// to parties and actors by key, id or name.
	ReadOptions
	// As is the name of the key, under the record's keys directory, that
	// signs every report.
	As string
	// GoodOnly appends the good rows and skips the bad ones. Without it,
	// one bad row refuses the whole file and nothing is appended.
	GoodOnly bool
	// Batch is how many reports go in one append (default 1000). Each
	// append is all or nothing; a failed one ends the import, leaving the
	// batches before it on the record.
	Batch int
	// Cite, if set, names the file on every entry: its source is Cite
	// followed by ", line N".
	Cite string
	// TempDir is where input that cannot be read twice (standard input)
	// is kept between the check and the append; default the record's
	// directory, which has room for the record.
	TempDir string
}

// A Summary is what an import did.
type Summary struct {
	// Agreement is the key of the agreement the reports are under.
	Agreement string `json:"agreement"`
	// Rows counts the rows read; Bad those with a problem.
	Rows int64 `json:"rows"`
	Bad  int64 `json:"bad"`
	// Imported counts the reports appended, from entry First to Last.
	Imported    int64 `json:"imported"`
	First, Last int64 `json:"-"`
	// Skipped counts the bad rows left out (GoodOnly).
	Skipped int64 `json:"skipped"`
	// Errors holds every problem of every bad row, in line order.
	Errors []RowError `json:"errors"`
}

// Progress is how far an import has got, for a progress bar.
type Progress struct {
	// Appending is false while the file is read and checked, true while
	// its good rows are appended.
	Appending bool
	// Rows counts the rows read (checking) or reports appended
	// (appending), of Of (appending only: the reports to append).
	Rows, Of int64
	// Bytes counts the bytes of the file read so far (checking only).
	Bytes int64
}

// ErrBadRows is wrapped by the error of an import refused for its bad rows
// (Summary.Errors names them).
var ErrBadRows = errors.New("nothing was imported")

// errChanged ends an import whose input reads differently the second time.
var errChanged = errors.New("the input changed while it was imported: a row that read well the first time did not the second; import it again")

// Import reads CSV in ACLED's layout from r and appends a report for each
// row, signed with opts.As, in two passes over the input:
//
//  1. It reads every row (EachACLED), and checks each good one against
//     the record as the record would when appending it, without
//     appending: the agreement exists (checked before the first row), the
//     party each row alleges it against exists and is bound by the
//     agreement, the reporter exists and may report under it, and the
//     report's id is not already on the record. That last takes one store
//     query per row (ids are distinct within a file): a large import into
//     a large record pays a lookup per row rather than holding every id on
//     the record.
//  2. If any row is bad and opts.GoodOnly is not set, it appends nothing
//     and returns an error wrapping ErrBadRows, with every problem in
//     Summary.Errors. Otherwise it reads the file again and appends the
//     good rows, opts.Batch reports at a time.
//
// Input that cannot be read twice (r is not an io.Seeker whose Seek works,
// as for a pipe) is copied, as the first pass reads it, to a temporary file
// under opts.TempDir and read back from there: that keeps memory flat
// whatever the size of the import, where holding the good reports would
// take about a kilobyte each. The input must not change between the
// passes; a row that reads differently the second time ends the import.
//
// Each report is an entry whose time (the time it describes) is the
// incident's: the tag "time=" or the event_date at midnight UTC. The fold
// dates an incident's facts by the incident's time whatever the entry's,
// but the entry's time is where its timeline line and its PLOVER event
// fall, and those should fall on the day of the incident, not the day of
// the import. When it was put on the record is the entry's recorded time,
// which is now.
//
// progress, if not nil, is called as the import goes.
func Import(ctx context.Context, rec *record.Record, r io.Reader, opts ImportOptions, progress func(Progress)) (Summary, error) {
	sum := Summary{First: -1, Last: -1, Errors: []RowError{}}
	if progress == nil {
		progress = func(Progress) {}
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if rec.ReadOnly() {
		return sum, problem.New(problem.Forbidden, "", "the record is read-only (it has no operator key): import incidents into the record the operator keeps")
	}
	signers, err := importSigner(rec, opts.As)
	if err != nil {
		return sum, err
	}
	chk := checker{ctx: ctx, ask: rec.Ask, parties: map[string]string{}, reporters: map[string]string{}}
	if err := chk.agreement(opts.Agreement); err != nil {
		return sum, err
	}
	// The reports name what they refer to by key, as resolved now, so
	// that a name made ambiguous later does not change what they say.
	sum.Agreement = chk.ag.Key()
	opts.Agreement = chk.ag.Key()
	if err := chk.reportedBy(&opts.ReadOptions); err != nil {
		return sum, err
	}
	opts.Parties = chk.keys(opts.Parties, vocab.Party)
	opts.Reporters = chk.keys(opts.Reporters, vocab.Actor, vocab.Party)

	// The first pass: read and check every row.
	again, cleanup, err := rereadable(r, opts.TempDir, rec.Dir)
	if err != nil {
		return sum, err
	}
	defer cleanup()
	counted := &countingReader{r: again.first}
	badLines := []int{}
	bad := func(e RowError) {
		sum.Errors = append(sum.Errors, e)
		if n := len(badLines); n == 0 || badLines[n-1] != e.Line {
			badLines = append(badLines, e.Line)
		}
	}
	var good int64
	err = EachACLED(counted, opts.ReadOptions, func(line int, b vocab.ReportBody) error {
		errs, err := chk.row(line, b)
		if err != nil {
			return err
		}
		for _, e := range errs {
			bad(e)
		}
		if len(errs) == 0 {
			good++
		}
		if n := good + int64(len(badLines)); n%1000 == 0 {
			progress(Progress{Rows: n, Bytes: counted.n})
		}
		return nil
	}, bad)
	sum.Rows = good + int64(len(badLines))
	sum.Bad = int64(len(badLines))
	progress(Progress{Rows: sum.Rows, Bytes: counted.n})
	if err != nil {
		return sum, err
	}
	if sum.Bad > 0 && !opts.GoodOnly {
		return sum, fmt.Errorf("%d of %d rows are bad, so %w: correct them, or import the good rows only", sum.Bad, sum.Rows, ErrBadRows)
	}
	if sum.Bad > 0 && good == 0 {
		return sum, fmt.Errorf("all %d rows are bad, so %w", sum.Rows, ErrBadRows)
	}
	sum.Skipped = sum.Bad
	if good == 0 {
		return sum, nil
	}

	// The second pass: read the good rows again and append them.
	second, err := again.second()
	if err != nil {
		return sum, err
	}
	var (
		batch []*entry.Signed
		lines []int
		// appendErr is why an append failed; errAppend stops the reading.
		appendErr error
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// A cancelled import stops between batches, each all or nothing.
		err := ctx.Err()
		var res []tlog.Appended
		if err == nil {
			res, err = rec.Log.Append(ctx, batch)
		}
		if err != nil {
			var ref *tlog.Refusal
			if errors.As(err, &ref) {
				appendErr = fmt.Errorf("line %d: the record refused it, so lines %d to %d were not imported (%d reports were, before them): %w",
					lines[ref.Pos], lines[0], lines[len(lines)-1], sum.Imported, ref.Err)
			} else {
				appendErr = fmt.Errorf("appending lines %d to %d: %w (%d reports were imported before them)",
					lines[0], lines[len(lines)-1], err, sum.Imported)
			}
			return errAppend
		}
		for _, a := range res {
			if sum.First < 0 {
				sum.First = a.Index
			}
			sum.Last = a.Index
		}
		sum.Imported += int64(len(batch))
		batch, lines = batch[:0], lines[:0]
		progress(Progress{Appending: true, Rows: sum.Imported, Of: good})
		return nil
	}
	next := 0 // the first bad line not yet passed
	changed := false
	err = EachACLED(second, opts.ReadOptions, func(line int, b vocab.ReportBody) error {
		if changed {
			return errChanged
		}
		for next < len(badLines) && badLines[next] < line {
			next++
		}
		if next < len(badLines) && badLines[next] == line {
			return nil
		}
		s, err := signReport(signers, b, line, opts.Cite)
		if err != nil {
			return err
		}
		batch, lines = append(batch, s), append(lines, line)
		if len(batch) == opts.Batch {
			return flush()
		}
		return nil
	}, func(e RowError) {
		if _, found := slices.BinarySearch(badLines, e.Line); !found {
			changed = true
			sum.Errors = append(sum.Errors, e)
		}
	})
	if err == nil && changed {
		err = errChanged
	}
	if err == nil {
		err = flush()
	}
	if errors.Is(err, errAppend) {
		err = appendErr
	}
	return sum, err
}

// errAppend stops the second pass when an append fails: the failure itself,
// with the lines it concerns, is in appendErr.
var errAppend = errors.New("an append failed")

// importSigner loads the key as and checks the record would take entries
// it signs.
func importSigner(rec *record.Record, as string) (*record.Signers, error) {
	if as == "" {
		return nil, problem.New(problem.Invalid, "--as", "is required: the key that signs the reports")
	}
	k, err := rec.Signer(as)
	if err != nil {
		return nil, err
	}
	id := entry.KeyID(k.Name(), k.KeyHash())
	reg, ok := rec.Log.Key(id)
	switch {
	case !ok:
		return nil, problem.New(problem.Unauthorized, "--as", "key %s is not registered on this record: register it with `parley key new` (see `parley key list`)", id)
	case reg.Revoked >= 0:
		return nil, problem.New(problem.Unauthorized, "--as", "key %s was revoked at entry %d: sign with another", id, reg.Revoked)
	}
	return rec.Signers(as), nil
}

// signReport signs b as a report entry describing its incident's time.
func signReport(signers *record.Signers, b vocab.ReportBody, line int, cite string) (*entry.Signed, error) {
	body, err := json.Marshal(b, json.Deterministic(true))
	if err != nil {
		return nil, err
	}
	at, err := vocab.ParseTime(b.Incidents[0].Time)
	if err != nil {
		return nil, err
	}
	u := record.Unsigned{Type: reportType, Body: body, Time: at}
	if cite != "" {
		u.Sources = []entry.Source{{Citation: cite + ", line " + strconv.Itoa(line)}}
	}
	return signers.Sign(u)
}

// reportType is the entry type of an incident report.
const reportType = "report"

// checker checks rows against the record as the report's fold would
// (vocab.ReportBody.Fold), caching what many rows share.
type checker struct {
	ctx context.Context
	ask *state.Asker
	ag  vocab.Entity
	av  vocab.AgreementView
	// parties and reporters hold, for each reference a row has used, its
	// problem ("" if none).
	parties, reporters map[string]string
}

// agreement finds the agreement the reports are under.
func (c *checker) agreement(ref string) error {
	if strings.TrimSpace(ref) == "" {
		return problem.New(problem.Invalid, "--agreement", "is required: the agreement the imported incidents are reported under")
	}
	ag, err := c.resolve(ref, vocab.Agreement)
	if err != nil {
		return problem.New(problem.KindOf(err), "--agreement", "%s", err)
	}
	c.ag = ag
	return vocab.ViewOf(ag, &c.av)
}

// reportedBy checks the reporter every row is reported by, if one is
// named, and that rows will have a reporter if the agreement names who
// may report.
func (c *checker) reportedBy(opts *ReadOptions) error {
	if opts.ReportedBy != "" {
		if msg := c.reporter(opts.ReportedBy); msg != "" {
			return problem.New(problem.Invalid, "--reported-by", "%s", msg)
		}
		r, _ := c.resolve(opts.ReportedBy, vocab.Actor, vocab.Party)
		opts.ReportedBy = r.Key()
		return nil
	}
	if len(c.av.Reporters) > 0 && len(opts.Reporters) == 0 {
		return problem.New(problem.Invalid, "--reported-by", "is required: %s names who may report (%s)", c.ag.Label(), strings.Join(c.av.Reporters, ", "))
	}
	return nil
}

// keys maps each name of m to the key of the entity it refers to, where it
// finds one; where not, the rows that use it will say why.
func (c *checker) keys(m map[string]string, kinds ...string) map[string]string {
	out := make(map[string]string, len(m))
	for name, ref := range m {
		out[name] = ref
		if e, err := c.resolve(ref, kinds...); err == nil {
			out[name] = e.Key()
		}
	}
	return out
}

// row checks a report that reads well, returning its problems.
func (c *checker) row(line int, b vocab.ReportBody) ([]RowError, error) {
	var errs []RowError
	e, err := c.ask.Entity(c.ctx, vocab.Report+"/"+b.ID)
	if err != nil && problem.KindOf(err) != problem.NotFound {
		return nil, err
	}
	if e.ID != "" {
		errs = append(errs, RowError{Line: line, Field: "event_id_cnty", Message: fmt.Sprintf(
			"report %q is already on the record (entry %d): give the row another id, or leave it out", b.ID, e.Declared)})
	}
	if a := b.Incidents[0].Against; a != "" {
		msg, ok := c.parties[a]
		if !ok {
			msg = c.party(a)
			c.parties[a] = msg
		}
		if msg != "" {
			errs = append(errs, RowError{Line: line, Field: "actor1", Message: msg})
		}
	}
	if by := b.ReportedBy; by != "" {
		msg, ok := c.reporters[by]
		if !ok {
			msg = c.reporter(by)
			c.reporters[by] = msg
		}
		if msg != "" {
			errs = append(errs, RowError{Line: line, Field: "actor2", Message: msg})
		}
	} else if len(c.av.Reporters) > 0 {
		errs = append(errs, RowError{Line: line, Field: "actor2", Message: fmt.Sprintf(
			"names no reporter mapped to a party or actor, and %s names who may report (%s)", c.ag.Label(), strings.Join(c.av.Reporters, ", "))})
	}
	return errs, nil
}

// party is what is wrong with alleging an incident against ref, or "".
func (c *checker) party(ref string) string {
	p, err := c.resolve(ref, vocab.Party)
	if err != nil {
		return err.Error()
	}
	if len(c.av.Parties) > 0 && !slices.Contains(c.av.Parties, p.Key()) {
		return fmt.Sprintf("%s is not a party to %s (%s)", p.Label(), c.ag.Label(), strings.Join(c.av.Parties, ", "))
	}
	return ""
}

// reporter is what is wrong with ref reporting under the agreement, or "".
func (c *checker) reporter(ref string) string {
	r, err := c.resolve(ref, vocab.Actor, vocab.Party)
	if err != nil {
		return err.Error()
	}
	if len(c.av.Reporters) > 0 && !slices.Contains(c.av.Reporters, r.Key()) {
		return fmt.Sprintf("%s may not report under %s: its reporters are %s", r.Label(), c.ag.Label(), strings.Join(c.av.Reporters, ", "))
	}
	return ""
}

// resolve finds the entity ref names, as the record's questions do.
func (c *checker) resolve(ref string, kinds ...string) (vocab.Entity, error) {
	return c.ask.Resolve(c.ctx, "", strings.TrimSpace(ref), kinds...)
}

// twice reads an input twice: first as it comes, second from the start.
type twice struct {
	first  io.Reader
	second func() (io.Reader, error)
}

// rereadable makes r readable twice: by seeking back if it can, else by
// keeping a copy, as the first pass reads it, in a temporary file under
// dir (or fallback). cleanup removes the copy.
func rereadable(r io.Reader, dir, fallback string) (twice, func(), error) {
	if s, ok := r.(io.ReadSeeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			return twice{first: r, second: func() (io.Reader, error) {
				_, err := s.Seek(start, io.SeekStart)
				return r, err
			}}, func() {}, nil
		}
	}
	if dir == "" {
		dir = fallback
	}
	tmp, err := os.CreateTemp(dir, "incidents-import-*.csv")
	if err != nil {
		return twice{}, nil, fmt.Errorf("keep the input for the second pass: %w", err)
	}
	cleanup := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	return twice{first: io.TeeReader(r, tmp), second: func() (io.Reader, error) {
		_, err := tmp.Seek(0, io.SeekStart)
		return tmp, err
	}}, cleanup, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
