package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/record"
	"parley/internal/tlog"
)

// sourceList collects --source and --quote flags in order: a --quote
// belongs to the --source before it.
type sourceList struct{ list []entry.Source }

func (s *sourceList) String() string { return "" }

func (s *sourceList) Set(v string) error {
	if v == "" {
		return errors.New("empty source")
	}
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		s.list = append(s.list, entry.Source{URL: v})
	} else {
		s.list = append(s.list, entry.Source{Citation: v})
	}
	return nil
}

type quoteFlag struct{ s *sourceList }

func (q quoteFlag) String() string { return "" }

func (q quoteFlag) Set(v string) error {
	if len(q.s.list) == 0 {
		return errors.New("--quote must follow the --source it quotes")
	}
	q.s.list[len(q.s.list)-1].Quote = v
	return nil
}

// parseTime reads an RFC 3339 time, or a bare date (midnight UTC).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2025-03-11T14:00:00Z) or a date (2025-03-11)", v)
}

type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string { return "" }

func (f timeFlag) Set(v string) error {
	t, err := parseTime(v)
	*f.t = t
	return err
}

type optIndex struct{ v *int64 }

func (f optIndex) String() string { return "" }

func (f optIndex) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not an entry index", s)
	}
	*f.v = n
	return nil
}

func runAdd(ctx context.Context, e *env, args []string) error {
	fs, dir := flags(e, "add")
	as := fs.String("as", "", "the author key to sign with (a name under DIR/keys)")
	body := fs.String("body", "", "the entry's body: a JSON object, @FILE, or @- for standard input")
	batch := fs.String("batch", "", "append every entry of a JSON Lines file (or - for standard input) as one unit")
	var (
		at       time.Time
		sources  sourceList
		corrects int64 = -1
	)
	fs.Var(timeFlag{&at}, "time", "the time the entry describes (RFC 3339 or a date; default now)")
	fs.Var(&sources, "source", "a source: a URL or a citation (repeat for several)")
	fs.Var(quoteFlag{&sources}, "quote", "the quoted span of the --source before it")
	fs.Var(optIndex{&corrects}, "corrects", "the index of the earlier entry this one corrects")
	pos, err := parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	if *batch != "" {
		if len(pos) > 0 || *body != "" {
			return usageErr("add: --batch takes its entries from the file: give no TYPE or --body")
		}
		if e.server != "" {
			return addBatchRemote(ctx, e, *dir, *batch, *as)
		}
		return addBatch(ctx, e, *dir, *batch, *as)
	}
	if len(pos) == 0 {
		return usageErr("add: give the entry TYPE (see `parley types`), or --batch FILE")
	}
	if *as == "" {
		return usageErr("add: say which key signs the entry with --as NAME")
	}
	if *body == "" {
		return usageErr("add: give the entry's body with --body JSON or --body @FILE")
	}
	raw, err := readArg(e, *body)
	if err != nil {
		return fmt.Errorf("add: --body: %w", err)
	}
	if !jsontext.Value(raw).IsValid() {
		var v any
		return problem.New(problem.Invalid, "add: --body", "%s", entry.DescribeJSON(json.Unmarshal(raw, &v)))
	}
	u := record.Unsigned{Type: pos[0], Body: jsontext.Value(raw), Time: at, Sources: sources.list}
	if corrects >= 0 {
		u.Corrects = &corrects
	}
	if e.server != "" {
		return addRemote(ctx, e, *dir, u, *as)
	}
	r, err := e.open(ctx, *dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Signer(*as); err != nil {
		return fmt.Errorf("add: %w", err)
	}
	s, err := r.Signers(*as).Sign(u)
	if err != nil {
		return fmt.Errorf("add %s: nothing appended: %w", pos[0], err)
	}
	res, err := r.Log.Append(ctx, []*entry.Signed{s})
	if err != nil {
		var ref *tlog.Refusal
		if errors.As(err, &ref) {
			err = ref.Err
		}
		return fmt.Errorf("add %s: nothing appended: %w", pos[0], err)
	}
	report(e.stdout, res[0])
	return nil
}

func report(w io.Writer, a tlog.Appended) {
	if a.Duplicate {
		fmt.Fprintf(w, "already on the record as entry %d (%x); nothing appended\n", a.Index, a.Hash)
		return
	}
	fmt.Fprintf(w, "appended entry %d (%x)\n", a.Index, a.Hash)
}

// readArg reads a flag's value: literal text, @FILE, or @- for stdin.
func readArg(e *env, v string) ([]byte, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return []byte(v), nil
	}
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	return os.ReadFile(name)
}

// addBatch appends every line of a JSON Lines file as one unit. A line is
// either a signed entry ({"entry":…,"sig":…}), appended as it is, or an
// unsigned one ({"type":…,"body":…}), signed with --as.
func addBatch(ctx context.Context, e *env, dir, file, as string) error {
	data, err := readArg(e, "@"+file)
	if err != nil {
		return fmt.Errorf("add --batch: %w", err)
	}
	r, err := e.open(ctx, dir)
	if err != nil {
		return err
	}
	defer r.Close()
	var (
		signers = r.Signers(as)
		entries []*entry.Signed
		lines   []int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4*entry.DefaultMaxBody+1<<16)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		where := fmt.Sprintf("%s line %d", file, n)
		s, err := batchLine(line, signers)
		if err != nil {
			return fmt.Errorf("%s: nothing appended: %w", where, err)
		}
		entries = append(entries, s)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("add --batch %s: %w", file, err)
	}
	if len(entries) == 0 {
		return problem.New(problem.Invalid, file, "no entries in the file")
	}
	res, err := r.Log.Append(ctx, entries)
	if err != nil {
		var ref *tlog.Refusal
		if errors.As(err, &ref) {
			return fmt.Errorf("%s line %d: nothing appended: %w", file, lines[ref.Pos], ref.Err)
		}
		return fmt.Errorf("add --batch %s: nothing appended: %w", file, err)
	}
	added, dup := 0, 0
	first, last := int64(-1), int64(-1)
	for _, a := range res {
		if a.Duplicate {
			dup++
			continue
		}
		added++
		if first < 0 {
			first = a.Index
		}
		last = a.Index
	}
	switch {
	case added == 0 && dup == 1:
		fmt.Fprintf(e.stdout, "the entry was already on the record as entry %d; nothing appended\n", res[0].Index)
	case added == 0:
		fmt.Fprintf(e.stdout, "all %d entries were already on the record; nothing appended\n", dup)
	case added == 1 && dup == 0:
		fmt.Fprintf(e.stdout, "appended entry %d\n", first)
	case dup == 0:
		fmt.Fprintf(e.stdout, "appended %d entries (%d to %d)\n", added, first, last)
	default:
		fmt.Fprintf(e.stdout, "appended %d entries (%d to %d); %d were already on the record\n", added, first, last, dup)
	}
	return nil
}

// signedLine is a signed entry in a batch file: the wire form, or a line of
// `parley log --json` (whose hash, if present, must match).
type signedLine struct {
	Entry jsontext.Value `json:"entry"`
	Sig   string         `json:"sig"`
	Index *int64         `json:"index,omitempty"`
	Hash  string         `json:"hash,omitempty"`
}

// batchLine decodes one line of a batch file.
func batchLine(line []byte, signers *record.Signers) (*entry.Signed, error) {
	var members map[string]jsontext.Value
	if err := json.Unmarshal(line, &members); err != nil {
		if !jsontext.Value(line).IsValid() {
			return nil, problem.New(problem.Invalid, "", "%s", entry.DescribeJSON(err))
		}
		return nil, problem.New(problem.Invalid, "", "each line must be a JSON object")
	}
	_, hasSig := members["sig"]
	_, hasEntry := members["entry"]
	if hasSig || hasEntry {
		var sl signedLine
		if err := json.Unmarshal(line, &sl, json.RejectUnknownMembers(true)); err != nil {
			return nil, problem.New(problem.Invalid, "", "signed entry: %s (expected entry and sig)", entry.DescribeJSON(err))
		}
		s, err := entry.FromParts(sl.Entry, sl.Sig, 0)
		if err != nil {
			return nil, err
		}
		if sl.Hash != "" && sl.Hash != s.HashHex() {
			return nil, problem.New(problem.Tampered, "", "the line's hash %s is not the hash of its entry (%s)", sl.Hash, s.HashHex())
		}
		return s, nil
	}
	u, err := record.ParseUnsigned(line)
	if err != nil {
		return nil, err
	}
	return signers.Sign(u)
}
