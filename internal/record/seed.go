package record

import (
	"bufio"
	"bytes"
	"context"
	"fmt"

	"parley/examples"
	"parley/internal/entry"
	"parley/internal/problem"
)

// LoadSeed puts the seed case on the record, the ceasefire's first week
// after it: it registers the keys of its authors, then signs and appends its
// entries as one unit. It returns the number of entries appended.
func (r *Record) LoadSeed(ctx context.Context) (int, error) {
	total := 0
	for _, part := range []struct {
		name    string
		authors [][2]string
		data    []byte
	}{{"seed.jsonl", examples.SeedAuthors, examples.Seed}, {"ceasefire.jsonl", examples.CeasefireAuthors, examples.Ceasefire}} {
		n, err := r.loadPart(ctx, part.name, part.authors, part.data)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// loadPart registers the authors' keys, then signs and appends the
// entries of data as one unit.
func (r *Record) loadPart(ctx context.Context, name string, authors [][2]string, data []byte) (int, error) {
	for _, a := range authors {
		if _, _, err := r.NewKey(ctx, a[0], a[1]); err != nil && problem.KindOf(err) != problem.Conflict {
			return 0, fmt.Errorf("seed key %s: %w", a[0], err)
		}
	}
	signers := r.Signers("")
	var entries []*entry.Signed
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		u, err := ParseUnsigned(sc.Bytes())
		if err == nil {
			var s *entry.Signed
			if s, err = signers.Sign(u); err == nil {
				entries = append(entries, s)
			}
		}
		if err != nil {
			return 0, fmt.Errorf("%s line %d: %w", name, n, err)
		}
	}
	if _, err := r.Log.Append(ctx, entries); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return len(entries), nil
}
