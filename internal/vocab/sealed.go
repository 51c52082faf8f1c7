package vocab

import (
	"parley/internal/entry"
)

// SealedType is the type of the public trace of a confidential channel
// entry. Only the operator appends it, when a member posts to a channel
// through the server.
const SealedType = "sealed"

// Sealed is what the public log shows of an entry posted to a confidential
// channel: a commitment to it and nothing else, not the channel, not the
// author. The commitment is the hex SHA-256 of a 32-byte random salt
// followed by the signed inner entry's leaf bytes; the channel's members,
// who can decrypt the salt and the entry, check it against this entry, and
// anyone they later show the plaintext to can too.
type Sealed struct {
	Commitment string `json:"commitment"`
}

var sealedType = entry.Type{
	Name: SealedType,
	Doc:  "the commitment to an entry posted to a confidential channel (operator only)",
	New:  func() entry.Body { return new(Sealed) },
	// Only the operator posts a sealed entry, for a member of a channel:
	// an author's own would name them as the poster.
	OperatorOnly: true,
}

// Validate requires the commitment to be 64 lower-case hex digits.
func (s *Sealed) Validate() error {
	if !IsCommitment(s.Commitment) {
		return invalid(`"commitment" must be 64 lower-case hex digits (a SHA-256), not %.80q`, s.Commitment)
	}
	return nil
}

// IsCommitment reports whether c is 64 lower-case hex digits.
func IsCommitment(c string) bool {
	if len(c) != 64 {
		return false
	}
	for i := range len(c) {
		if !('0' <= c[i] && c[i] <= '9' || 'a' <= c[i] && c[i] <= 'f') {
			return false
		}
	}
	return true
}

// Fold puts a line on the timeline and derives nothing else: what the entry
// says is for the channel's members only. A sealed entry carries nothing
// but its commitment: no sources, and it corrects nothing.
func (s *Sealed) Fold(f *Fold) error {
	if f.Entry.Corrects != nil || len(f.Entry.Sources) > 0 {
		return invalid("a sealed entry carries only its commitment: no sources, and it corrects nothing")
	}
	f.Story("a confidential entry (commitment %s)", s.Commitment)
	return nil
}
