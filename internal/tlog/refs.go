package tlog

import (
	"parley/internal/entry"
	"parley/internal/problem"
)

// checkRefs refuses an entry at index that corrects or names an entry not
// before it: the record only ever points backwards.
func checkRefs(index int64, s *entry.Signed, body entry.Body) error {
	if c := s.Entry.Corrects; c != nil && (*c < 0 || *c >= index) {
		return problem.New(problem.Invalid, "", "corrects entry %d, which is not before it: there is no such entry yet (this entry is %d)", *c, index)
	}
	r, ok := body.(entry.Referrer)
	if !ok {
		return nil
	}
	for _, ref := range r.Refs() {
		if ref < 0 || ref >= index {
			return problem.New(problem.Invalid, "", "%s body names entry %d, which is not before it (this entry is %d)", s.Entry.Type, ref, index)
		}
	}
	return nil
}
