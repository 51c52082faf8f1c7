package server

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"parley/internal/account"
	"parley/internal/entry"
)

// signed signs an entry of typ with body, as internal/entry signs entries.
func signed(t *testing.T, signer note.Signer, typ, body string) *entry.Signed {
	t.Helper()
	at := time.Date(2025, 3, 25, 12, 0, 0, 0, time.UTC)
	se, err := entry.Sign(entry.Entry{Type: typ, Body: []byte(body), Time: at, Recorded: at,
		Sources: []entry.Source{{Citation: "a test"}}}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return se
}

// TestMonitoringOverHTTP: monitors file and review incident reports; an
// editor may report but not review; a monitor may not review what their own
// account reported, with any of its keys; evidence must be stored first.
func TestMonitoringOverHTTP(t *testing.T) {
	ls := startLive(t, Options{}, true)
	mon := ls.users[account.Monitor]
	other := ls.newUser("monitor-2", account.Monitor)
	ed := ls.users[account.Editor]
	first, second, otherKey, edKey := ls.newKey(mon), ls.newKey(mon), ls.newKey(other), ls.newKey(ed)

	post := func(u *testUser, se *entry.Signed) reply {
		return ls.do(call{method: "POST", path: "/api/v1/entries", token: u.token, body: se.Leaf()})
	}
	file := []byte("a photograph of a crater")
	hash := fmt.Sprintf("%x", sha256.Sum256(file))
	report := func(id, evidence string) string {
		return `{"id":"` + id + `","agreement":"ceasefire-2025-03","reported_by":"monitoring-mission","evidence":[` + evidence + `],"incidents":[` +
			`{"time":"2025-03-25T10:00:00Z","place":"Toretsk","lat":48.4,"lon":37.8,"categories":["shelling"],"against":"russia"}]}`
	}

	// Evidence not stored here: refused, nothing appended.
	size := ls.size()
	p := post(mon, signed(t, first, "report", report("h1", `{"sha256":"`+hash+`"}`))).problem(t, http.StatusBadRequest, "invalid")
	if !strings.Contains(p.Where, "evidence/0/sha256") || ls.size() != size {
		t.Errorf("a report naming unstored evidence: where %q, size %d → %d", p.Where, size, ls.size())
	}
	ls.do(call{method: "POST", path: "/api/v1/evidence?name=crater.jpg", token: mon.token, body: file, contentType: "image/jpeg"}).
		want(t, http.StatusCreated, "upload the evidence")
	post(mon, signed(t, first, "report", report("h1", `{"sha256":"`+hash+`","name":"crater.jpg"}`))).want(t, http.StatusCreated, "a monitor reports")
	post(ed, signed(t, edKey, "report", report("h2", ""))).want(t, http.StatusCreated, "an editor reports")

	review := `{"incident":"h1.1","status":"under-review","reasoning":"patrol report"}`
	// The same account with another key: refused by the server.
	p = post(mon, signed(t, second, "review", review)).problem(t, http.StatusForbidden, "forbidden")
	if !strings.Contains(p.Detail, "another monitor reviews it") {
		t.Errorf("a review of one's own report: %q", p.Detail)
	}
	post(ed, signed(t, edKey, "review", `{"incident":"h2.1","status":"under-review","reasoning":"x"}`)).problem(t, http.StatusForbidden, "forbidden")
	post(other, signed(t, otherKey, "review", review)).want(t, http.StatusCreated, "another monitor reviews")
	post(other, signed(t, otherKey, "review", `{"incident":"h1.1","status":"verified","reasoning":"craters"}`)).want(t, http.StatusCreated, "and verifies")
	post(other, signed(t, otherKey, "duplicate", `{"incident":"h2.1","same_as":"h1.1","reason":"same shelling"}`)).want(t, http.StatusCreated, "and marks a duplicate")

	var comp struct {
		Verified   int `json:"verified"`
		Duplicates int `json:"duplicates"`
	}
	ls.do(call{method: "GET", path: "/api/v1/ask/compliance", token: ls.users[account.Reader].token}).want(t, http.StatusOK, "ask compliance").decode(t, &comp)
	if comp.Verified != 7 || comp.Duplicates != 2 {
		t.Errorf("compliance over HTTP: %d verified, %d duplicates; want 7 and 2", comp.Verified, comp.Duplicates)
	}
}
