package server

import (
	"net/http"

	"parley/internal/state"
)

// The monitoring's API: reports made from the incidents on the record.

// dailyReport answers GET /api/v1/reports/daily: the day's incidents under
// an agreement (date, agreement, as_of, known_at), as `parley report daily`
// makes it.
func (s *Server) dailyReport(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	rep, err := s.rec.Ask.DailyQuery(r.Context(), state.DailyQuery{
		Date: v.Get("date"), Agreement: v.Get("agreement"), AsOf: v.Get("as_of"), KnownAt: v.Get("known_at"),
	}, nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}
