package server

import (
	"parley/internal/account"
	"parley/internal/entry"
	"parley/internal/problem"
	"parley/internal/vocab"
)

// monitorTypes are the entry types a monitor may append: incident reports
// and their review.
var monitorTypes = map[string]bool{"report": true, "review": true, "duplicate": true}

// reviewTypes are the types only monitors (and admins, who may relay anyone's
// signed entries) submit.
var reviewTypes = map[string]bool{"review": true, "duplicate": true}

// mayMonitor applies the monitoring rules that need the server: only
// monitors review, and every file an entry names as evidence must be stored
// here. (No one reviewing their own report, by any key they hold, is the
// log's rule: package vocab.)
func (s *Server) mayMonitor(c caller, se *entry.Signed) error {
	typ := se.Entry.Type
	if reviewTypes[typ] && c.role != account.Monitor && c.role != account.Admin {
		return problem.New(problem.Forbidden, "type", "only monitors review incidents; %s is %s", c.account.Name, c.role)
	}
	if !monitorTypes[typ] {
		return nil
	}
	body, err := s.rec.Types().Decode(&se.Entry)
	if err != nil {
		return nil // the log refuses a malformed body, naming the field
	}
	for _, ref := range vocab.EvidenceNamed(body) {
		ok, err := s.evidenceHas(ref.SHA256)
		if err != nil {
			return err
		}
		if !ok {
			return problem.New(problem.Invalid, "body/"+ref.Where,
				"no file with SHA-256 %s is stored here: upload it first (POST /api/v1/evidence)", ref.SHA256)
		}
	}
	return nil
}
