package server

import (
	"net/http"
	"strconv"

	"parley/internal/problem"
	"parley/internal/state"
)

// askParams are the query parameters of GET /api/v1/ask/{question}, besides
// the question's own argument and filters.
var askParams = map[string]bool{"as_of": true, "known_at": true, "limit": true}

// ask answers a question with the same parameters as `parley ask`: as_of,
// known_at (a time or #N), limit, the question's argument (proposal or
// talks) and its filters (from, to, by, about, confidence).
func (s *Server) ask(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("question")
	qu, ok := state.QuestionNamed(name)
	if !ok {
		_, err := s.rec.Ask.Answer(r.Context(), state.Query{Question: name}, nil)
		return err
	}
	v := r.URL.Query()
	q := state.Query{Question: name, AsOf: v.Get("as_of"), KnownAt: v.Get("known_at"), Params: map[string]string{}}
	for key := range v {
		switch {
		case askParams[key]:
		case key == qu.Arg:
			q.Arg = v.Get(key)
		default:
			q.Params[key] = v.Get(key)
		}
	}
	for key := range q.Params {
		known := false
		for _, x := range state.Questions {
			for _, p := range x.Params {
				known = known || p == key
			}
		}
		if !known {
			return problem.New(problem.Invalid, key, "is not a parameter of %s (it takes as_of, known_at, limit%s)", name, paramList(qu))
		}
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return problem.New(problem.Invalid, "limit", "%q is not a number of rows (at least 1)", l)
		}
		q.Limit = n
	}
	answer, err := s.rec.Ask.Answer(r.Context(), q, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, answer)
}

func paramList(q state.Question) string {
	s := ""
	if q.Arg != "" {
		s += ", " + q.Arg
	}
	for _, p := range q.Params {
		s += ", " + p
	}
	return s
}
