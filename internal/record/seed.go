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

// LoadSeed puts the seed case on the record: it registers the keys of its
// authors, then signs and appends its entries as one unit. It returns the
// number of entries appended.
func (r *Record) LoadSeed(ctx context.Context) (int, error) {
	for _, a := range examples.SeedAuthors {
		if _, _, err := r.NewKey(ctx, a[0], a[1]); err != nil && problem.KindOf(err) != problem.Conflict {
			return 0, fmt.Errorf("seed key %s: %w", a[0], err)
		}
	}
	signers := r.Signers("")
	var entries []*entry.Signed
	sc := bufio.NewScanner(bytes.NewReader(examples.Seed))
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
			return 0, fmt.Errorf("seed line %d: %w", n, err)
		}
	}
	if _, err := r.Log.Append(ctx, entries); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	return len(entries), nil
}
