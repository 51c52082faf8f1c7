package export

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/go-json-experiment/json"

	"parley/internal/entry"
	"parley/internal/state"
	"parley/internal/store"
	"parley/internal/vocab"
)

// IncidentRows yields every incident on the record as it stands now, of
// every agreement, oldest first by the time it happened: the latest
// incident fact of each, with the name of the party it is alleged against
// and the entry that last changed it (its report, or a review). It holds
// one incident at a time, so an export of a million incidents streams
// rather than gathering them; state.Asker.Incidents answers the same rows,
// a page at a time, for one agreement.
//
// The incident's name is made as the record makes it (category, place,
// date), not looked up.
func IncidentRows(ctx context.Context, st Store) iter.Seq2[state.IncidentRow, error] {
	return func(yield func(state.IncidentRow, error) bool) {
		names := map[string]string{}
		var last struct {
			index int64
			basis state.Basis
		}
		last.index = -1
		for f, err := range facts(ctx, st, store.FactQuery{Kind: vocab.FactIncident, Latest: true}) {
			if err != nil {
				yield(state.IncidentRow{}, err)
				return
			}
			var v vocab.IncidentView
			if err := json.Unmarshal(f.Data, &v); err != nil {
				yield(state.IncidentRow{}, fmt.Errorf("incident %s (entry %d): %w", f.Object, f.Index, err))
				return
			}
			against, err := entityName(ctx, st, names, v.Against)
			if err != nil {
				yield(state.IncidentRow{}, err)
				return
			}
			if last.index != f.Index {
				b, err := basisOf(ctx, st, f.Index)
				if err != nil {
					yield(state.IncidentRow{}, err)
					return
				}
				last.index, last.basis = f.Index, b
			}
			row := state.IncidentRow{Incident: state.Ref{Key: f.Object, Name: incidentName(v)}, IncidentView: v,
				Against: state.Ref{Key: v.Against, Name: against}, Basis: last.basis}
			if !yield(row, nil) {
				return
			}
		}
	}
}

// incidentName is the name the record gives an incident.
func incidentName(v vocab.IncidentView) string {
	label := ""
	if len(v.Categories) > 0 {
		c, _ := vocab.CategoryOf(v.Categories[0])
		label = c.Label
	}
	return fmt.Sprintf("%s, %s, %s", label, v.Place, v.Time.Format(time.DateOnly))
}

// entityName is the name of the entity key, or the key if the record has
// no such entity (as for vocab.Unattributed); names caches them.
func entityName(ctx context.Context, st Store, names map[string]string, key string) (string, error) {
	if key == "" {
		return "", nil
	}
	if n, ok := names[key]; ok {
		return n, nil
	}
	var e vocab.Entity
	err := st.Facts(ctx, store.FactQuery{Kind: vocab.FactEntity, Subject: key, Latest: true}, func(f store.Fact) error {
		return json.Unmarshal(f.Data, &e)
	})
	if err != nil {
		return "", fmt.Errorf("entity %s: %w", key, err)
	}
	name := e.Name
	if e.ID == "" {
		name = key
	}
	names[key] = name
	return name, nil
}

// basisOf reads what the entry at index says of itself.
func basisOf(ctx context.Context, st Store, index int64) (state.Basis, error) {
	b := state.Basis{Index: index}
	found := false
	err := st.Leaves(ctx, index, index+1, func(l store.Leaf) error {
		s, err := entry.Parse(l.Data, 0)
		if err != nil {
			return err
		}
		b.Time, b.Author, b.Sources = s.Entry.Time, s.Entry.Author, s.Entry.Sources
		found = true
		return nil
	})
	if err != nil {
		return b, fmt.Errorf("entry %d: %w", index, err)
	}
	if !found {
		return b, fmt.Errorf("entry %d: it has facts but is not on the log", index)
	}
	return b, nil
}
