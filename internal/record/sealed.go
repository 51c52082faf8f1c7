package record

import (
	"context"

	"parley/internal/problem"
	"parley/internal/tlog"
	"parley/internal/vocab"
)

// Seal appends, signed by the operator, the public trace of an entry posted
// to a confidential channel: a sealed entry holding its commitment and
// nothing else. The server calls it; the entry itself, encrypted, is kept
// off the log.
func (r *Record) Seal(ctx context.Context, commitment string) (tlog.Appended, error) {
	if r.operator == nil {
		return tlog.Appended{}, tlog.ErrReadOnly
	}
	body := vocab.Sealed{Commitment: commitment}
	if err := body.Validate(); err != nil {
		return tlog.Appended{}, problem.At("commitment", err)
	}
	return r.operatorAppend(ctx, vocab.SealedType, body)
}
