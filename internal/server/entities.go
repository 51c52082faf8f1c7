package server

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"

	"parley/internal/problem"
	"parley/internal/store"
	"parley/internal/vocab"
)

// EntityRef is an entity as a picker lists it: the key entries refer to it
// by, and its name.
type EntityRef struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// EntityList is the entities of one kind; Truncated says there were more
// than the limit.
type EntityList struct {
	Entities  []EntityRef `json:"entities"`
	Truncated bool        `json:"truncated,omitzero"`
}

// listEntities lists the entities of a kind on the record now, by name,
// those whose id or name starts with q (any case) if q is given: what a
// form offers to pick from.
func (s *Server) listEntities(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	kind := q.Get("kind")
	if !slices.Contains(vocab.Kinds, kind) {
		return problem.New(problem.Invalid, "kind", "%.40q is not a kind of entity: give one of %s", kind, strings.Join(vocab.Kinds, ", "))
	}
	limit, err := intParam(r, "limit", maxPage)
	if err != nil {
		return err
	}
	if limit == 0 || limit > maxPage {
		limit = maxPage
	}
	prefix := strings.ToLower(strings.TrimSpace(q.Get("q")))
	out := EntityList{Entities: []EntityRef{}}
	err = s.rec.Store().Facts(r.Context(), store.FactQuery{Kind: vocab.FactEntity, Latest: true, Tags: []string{kind}}, func(f store.Fact) error {
		var e vocab.Entity
		if err := json.Unmarshal(f.Data, &e); err != nil {
			return err
		}
		if prefix == "" || strings.HasPrefix(strings.ToLower(e.ID), prefix) || strings.HasPrefix(strings.ToLower(e.Name), prefix) ||
			strings.HasPrefix(strings.ToLower(e.Key()), prefix) {
			out.Entities = append(out.Entities, EntityRef{Key: e.Key(), Name: e.Name})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(out.Entities, func(a, b EntityRef) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Key, b.Key))
	})
	if int64(len(out.Entities)) > limit {
		out.Entities, out.Truncated = out.Entities[:limit], true
	}
	return writeJSON(w, http.StatusOK, out)
}
