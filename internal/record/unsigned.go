package record

import (
	"errors"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/entry"
	"parley/internal/problem"
)

// Unsigned is an entry as a person writes it, before it is signed: a line of
// a batch file or of the seed case. The recording time is filled in when it
// is signed.
type Unsigned struct {
	Type     string         `json:"type"`
	Body     jsontext.Value `json:"body"`
	Time     time.Time      `json:"time,omitzero"`
	Sources  []entry.Source `json:"sources,omitempty"`
	Corrects *int64         `json:"corrects,omitempty"`
	// As names the key that signs it, when a file mixes authors.
	As string `json:"as,omitempty"`
}

// ParseUnsigned decodes one unsigned entry, refusing unknown members.
func ParseUnsigned(line []byte) (Unsigned, error) {
	var u Unsigned
	if err := json.Unmarshal(line, &u, json.RejectUnknownMembers(true)); err != nil {
		return u, problem.New(problem.Invalid, "", "unsigned entry: %s (expected type, body, and optionally time, sources, corrects, as)",
			entry.DescribeJSON(err))
	}
	if u.Type == "" {
		return u, problem.New(problem.Invalid, "", `unsigned entry has no "type"`)
	}
	return u, nil
}

// A Signers signs unsigned entries with the author keys of a data
// directory, reading each key once.
type Signers struct {
	dir  string
	now  func() time.Time
	keys map[string]note.Signer
	// Default signs entries that do not name their key.
	Default string
}

// Signers returns a Signers over the record's keys, recording entries at
// the log's clock; its default key is as (may be empty).
func (r *Record) Signers(as string) *Signers {
	return &Signers{dir: r.Dir, now: r.Log.Now, keys: map[string]note.Signer{}, Default: as}
}

// KeySigners returns a Signers over the keys in dir/keys without opening a
// record there: a client signs with them and sends the entries to a server.
func KeySigners(dir, as string) *Signers {
	return &Signers{dir: dir, now: func() time.Time { return time.Now().UTC() }, keys: map[string]note.Signer{}, Default: as}
}

// Key returns the signer called name, or the default for "".
func (s *Signers) Key(name string) (note.Signer, error) {
	if name == "" {
		name = s.Default
	}
	if name == "" {
		return nil, errors.New(`an unsigned entry needs --as NAME, or "as" on its line, to sign it`)
	}
	if k, ok := s.keys[name]; ok {
		return k, nil
	}
	k, err := LoadSigner(s.dir, name)
	if err != nil {
		return nil, err
	}
	s.keys[name] = k
	return k, nil
}

// Sign signs u with the key it names (or the default), recorded now; an
// entry without a time describes now.
func (s *Signers) Sign(u Unsigned) (*entry.Signed, error) {
	k, err := s.Key(u.As)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if u.Time.IsZero() {
		u.Time = now
	}
	return entry.Sign(entry.Entry{Type: u.Type, Body: u.Body, Time: u.Time.UTC(), Recorded: now,
		Sources: u.Sources, Corrects: u.Corrects}, k)
}
