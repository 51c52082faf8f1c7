package server

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"testing"

	"parley/internal/account"
	"parley/internal/state"
)

// TestDailyReportAPI asks for the seed case's daily report, and is refused
// with a problem naming the parameter when the date is missing or wrong.
func TestDailyReportAPI(t *testing.T) {
	ls := startLive(t, Options{}, true)
	tok := ls.users[account.Reader].token
	var rep state.DailyReport
	ls.do(call{method: "GET", path: "/api/v1/reports/daily?date=2025-03-22", token: tok}).want(t, http.StatusOK, "daily report").decode(t, &rep)
	if rep.Date != "2025-03-22" || len(rep.List) == 0 || rep.Agreement.Agreement.Key == "" {
		t.Errorf("daily report of 2025-03-22: date %q, %d incidents listed, agreement %q", rep.Date, len(rep.List), rep.Agreement.Agreement.Key)
	}
	for _, c := range []struct{ query, where string }{
		{"", "date"},
		{"?date=yesterday", "date"},
		{"?date=2025-03-22&as_of=soon", "as_of"},
		{"?date=2025-03-22&known_at=%23x", "known_at"},
	} {
		p := ls.do(call{method: "GET", path: "/api/v1/reports/daily" + c.query, token: tok}).problem(t, http.StatusBadRequest, "invalid")
		if p.Where != c.where {
			t.Errorf("GET /api/v1/reports/daily%s: where %q, want %q", c.query, p.Where, c.where)
		}
	}
	ls.do(call{method: "GET", path: "/api/v1/reports/daily?date=2025-03-22&agreement=no-such", token: tok}).problem(t, http.StatusNotFound, "not-found")
}

// TestDailyReportSchema holds the document's DailyReport schema to the Go
// type the route encodes.
func TestDailyReportSchema(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for p := range doc.Components.Schemas["DailyReport"].Properties {
		documented = append(documented, p)
	}
	slices.Sort(documented)
	if fields := jsonFields(reflect.TypeOf(state.DailyReport{})); !slices.Equal(documented, fields) {
		t.Errorf("schema DailyReport has %v; state.DailyReport has %v", documented, fields)
	}
}
