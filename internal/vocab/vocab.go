// Package vocab is the negotiation's vocabulary: the entry types a record
// accepts beyond the log core's own key entries, one file per type, each with
// its body, its validation and the entries it refers to.
package vocab

import (
	"parley/internal/entry"
	"parley/internal/tlog"
)

// Types returns a registry holding the log core's key types and every type
// of the vocabulary.
func Types() (*entry.Registry, error) {
	r := entry.NewRegistry()
	if err := tlog.RegisterTypes(r); err != nil {
		return nil, err
	}
	if err := Register(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Register adds the vocabulary's types to r.
func Register(r *entry.Registry) error {
	for _, t := range []entry.Type{noteType, actorType, partyType, talksType, meetingType, messageType, relayType,
		statementType, proposalType, positionType, assessmentType, accusationType, requestType, rosterType,
		actionType, trackType, retractionType, sealedType, agreementType, reportType, reviewType, duplicateType} {
		if err := r.Register(t); err != nil {
			return err
		}
	}
	return nil
}
