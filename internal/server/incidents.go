package server

import (
	"context"
	"fmt"

	"github.com/go-json-experiment/json"

	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/vocab"
)

// monitorTypes are the entry types a monitor may append: incident reports
// and their review.
var monitorTypes = map[string]bool{"report": true, "review": true, "duplicate": true}

// reviewTypes are the types only monitors append.
var reviewTypes = map[string]bool{"review": true, "duplicate": true}

// mayMonitor applies the monitoring rules the log cannot see: only monitors
// review; no one reviews an incident reported with a key of their own
// account; and every file an entry names as evidence must be stored here.
func (s *Server) mayMonitor(ctx context.Context, c caller, se *entry.Signed) error {
	typ := se.Entry.Type
	if reviewTypes[typ] && c.role != account.Monitor && c.role != account.Admin {
		return problem.New(problem.Forbidden, "type", "only monitors review incidents; %s is %s", c.account.Name, c.role)
	}
	var body struct {
		Incident  string           `json:"incident"`
		Evidence  []vocab.Evidence `json:"evidence"`
		Incidents []struct {
			Evidence []vocab.Evidence `json:"evidence"`
		} `json:"incidents"`
	}
	if !monitorTypes[typ] || json.Unmarshal(se.Entry.Body, &body) != nil {
		return nil // the vocabulary refuses a malformed body, where it is
	}
	if typ == "review" && c.role == account.Monitor {
		if err := s.notOwnReport(ctx, c, body.Incident); err != nil {
			return err
		}
	}
	check := func(where string, ev []vocab.Evidence) error {
		for i, e := range ev {
			if s.evidence != nil && !s.evidenceHas(e.SHA256) {
				return problem.New(problem.Invalid, fmt.Sprintf("%s/%d/sha256", where, i),
					"no file with SHA-256 %s is stored here: upload it first (POST /api/v1/evidence)", e.SHA256)
			}
		}
		return nil
	}
	if err := check("body/evidence", body.Evidence); err != nil {
		return err
	}
	for i, in := range body.Incidents {
		if err := check(fmt.Sprintf("body/incidents/%d/evidence", i), in.Evidence); err != nil {
			return err
		}
	}
	return nil
}

// notOwnReport refuses a review of an incident reported with a key held by
// the reviewer's own account.
func (s *Server) notOwnReport(ctx context.Context, c caller, ref string) error {
	for _, key := range []string{ref, vocab.Incident + "/" + ref} {
		e, err := s.rec.Ask.Entity(ctx, key)
		if err != nil || e.Kind != vocab.Incident {
			continue
		}
		var v vocab.IncidentView
		if err := vocab.ViewOf(e, &v); err != nil {
			return err
		}
		if k, ok := s.rec.Log.Key(v.Author); ok && k.Holder == Holder(c.account.Name) {
			return problem.New(problem.Forbidden, "body/incident", "%s reported incident %s (with key %s), so another monitor reviews it", c.account.Name, e.ID, v.Author)
		}
		return nil
	}
	return nil
}
