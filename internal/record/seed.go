package record

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/examples"
	"parley/internal/entry"
	"parley/internal/problem"
)

// seedLine is one line of the seed case: an unsigned entry and the key that
// signs it.
type seedLine struct {
	As      string         `json:"as"`
	Type    string         `json:"type"`
	Time    time.Time      `json:"time"`
	Sources []entry.Source `json:"sources"`
	Body    jsontext.Value `json:"body"`
}

// LoadSeed puts the seed case on the record: it registers the keys of its
// authors, then signs and appends its entries as one unit. It returns the
// number of entries appended.
func (r *Record) LoadSeed(ctx context.Context) (int, error) {
	signers := map[string]note.Signer{}
	for _, a := range examples.SeedAuthors {
		if _, _, err := r.NewKey(ctx, a[0], a[1]); err != nil && problem.KindOf(err) != problem.Conflict {
			return 0, fmt.Errorf("seed key %s: %w", a[0], err)
		}
		s, err := r.Signer(a[0])
		if err != nil {
			return 0, err
		}
		signers[a[0]] = s
	}
	var entries []*entry.Signed
	sc := bufio.NewScanner(bytes.NewReader(examples.Seed))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l seedLine
		if err := json.Unmarshal(sc.Bytes(), &l, json.RejectUnknownMembers(true)); err != nil {
			return 0, fmt.Errorf("seed line %d: %s", n, entry.DescribeJSON(err))
		}
		signer, ok := signers[l.As]
		if !ok {
			return 0, fmt.Errorf("seed line %d: no key %q", n, l.As)
		}
		now := r.Log.Now()
		s, err := entry.Sign(entry.Entry{Type: l.Type, Body: l.Body, Time: l.Time.UTC(), Recorded: now, Sources: l.Sources}, signer)
		if err != nil {
			return 0, fmt.Errorf("seed line %d: %w", n, err)
		}
		entries = append(entries, s)
	}
	if _, err := r.Log.Append(ctx, entries); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	return len(entries), nil
}
