// Package entry defines parley's unit of record: a typed, sourced statement
// of fact, encoded as canonical JSON (RFC 8785) and signed by its author with
// Ed25519.
//
// The signature covers the canonical bytes of the entry. The signed form of an
// entry, {"entry":…,"sig":…} in canonical JSON, is what the Merkle tree commits
// to, so the tree commits to the signature as well as to the content.
package entry

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/problem"
)

// DefaultMaxBody is the largest body, in canonical bytes, that a record accepts
// unless configured otherwise.
const DefaultMaxBody = 1 << 20

// An Entry is one fact put on the record by one author.
type Entry struct {
	// Type names the kind of entry, such as "note" or "key.register"; the
	// registry decides which types exist and how their bodies are checked.
	Type string `json:"type"`
	// Body is the type's content, a JSON object.
	Body jsontext.Value `json:"body"`
	// Time is the time the entry describes (when it was said or happened).
	Time time.Time `json:"time"`
	// Recorded is the time the author put the entry on the record.
	Recorded time.Time `json:"recorded"`
	// Sources are what the entry rests on: a link or citation and the span quoted.
	Sources []Source `json:"sources,omitempty"`
	// Author is the signing key's name and hash, "name+hash" as in a
	// signed-note verifier key.
	Author string `json:"author"`
	// Corrects is the index of an earlier entry this one corrects, if any.
	// Nothing is changed in place: the correction is itself an entry.
	Corrects *int64 `json:"corrects,omitempty"`
}

// A Source is where a fact comes from.
type Source struct {
	URL      string `json:"url,omitempty"`
	Citation string `json:"citation,omitempty"`
	Quote    string `json:"quote,omitempty"`
}

// Signed is an entry with its author's signature, as received, stored and
// exported. Canonical holds the exact bytes that were signed.
type Signed struct {
	Entry     Entry
	Canonical []byte // RFC 8785 form of Entry: the signed message
	Sig       []byte // Ed25519 signature over Canonical
}

// wire is the JSON form of a signed entry.
type wire struct {
	Entry jsontext.Value `json:"entry"`
	Sig   string         `json:"sig"`
}

// sigEncoding decodes strictly, so that one signature has exactly one text.
var sigEncoding = base64.StdEncoding.Strict()

// Canonical returns the RFC 8785 canonical form of the JSON text b.
// It refuses invalid or truncated JSON and duplicate object names.
func Canonical(b []byte) ([]byte, error) {
	v := jsontext.Value(bytes.Clone(b))
	if err := v.Canonicalize(); err != nil {
		return nil, err
	}
	return v, nil
}

// Encode returns the canonical bytes of e.
func Encode(e *Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode entry: %w", err)
	}
	return Canonical(b)
}

// Object encodes v (a body struct or map) as a JSON object for an entry's Body.
func Object(v any) (jsontext.Value, error) {
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	if jsontext.Value(b).Kind() != '{' {
		return nil, fmt.Errorf("encode body: %T is not a JSON object", v)
	}
	return jsontext.Value(b), nil
}

// KeyID returns the "name+hash" identifier of a signed-note key, as it appears
// in an entry's Author field and at the start of a verifier key.
func KeyID(name string, hash uint32) string {
	return name + "+" + fmt.Sprintf("%08x", hash)
}

// ParseKeyID splits a "name+hash" identifier.
func ParseKeyID(id string) (name string, hash uint32, err error) {
	name, h, ok := strings.Cut(id, "+")
	if !ok || !validKeyName(name) || len(h) != 8 || strings.ToLower(h) != h {
		return "", 0, fmt.Errorf("key %q is not of the form name+hash (8 lower-case hex digits)", id)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return "", 0, fmt.Errorf("key %q is not of the form name+hash (8 hex digits)", id)
	}
	return name, uint32(v), nil
}

// validKeyName reports whether name is a signed-note key name: non-empty,
// printable, with no space or '+'.
func validKeyName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r == '+' || r == 0x7f || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Sign sets e's author to signer and signs the canonical encoding of e.
func Sign(e Entry, signer note.Signer) (*Signed, error) {
	e.Author = KeyID(signer.Name(), signer.KeyHash())
	if err := e.check(0); err != nil {
		return nil, err
	}
	c, err := Encode(&e)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(c)
	if err != nil {
		return nil, fmt.Errorf("sign entry: %w", err)
	}
	return &Signed{Entry: e, Canonical: c, Sig: sig}, nil
}

// Verify checks s's signature with v, which must be the author's key.
func (s *Signed) Verify(v note.Verifier) error {
	if KeyID(v.Name(), v.KeyHash()) != s.Entry.Author {
		return problem.New(problem.Tampered, "", "entry is signed by %s, not by %s", s.Entry.Author, KeyID(v.Name(), v.KeyHash()))
	}
	if !v.Verify(s.Canonical, s.Sig) {
		return problem.New(problem.Tampered, "", "signature by %s does not verify", s.Entry.Author)
	}
	return nil
}

// Hash is the entry's identity: the SHA-256 of its canonical bytes. Submitting
// an entry with a hash already on the record appends nothing.
func (s *Signed) Hash() [32]byte { return sha256.Sum256(s.Canonical) }

// HashHex is Hash in hexadecimal, for display.
func (s *Signed) HashHex() string { h := s.Hash(); return hex.EncodeToString(h[:]) }

// Leaf returns the bytes the Merkle tree commits to: the canonical JSON of
// {"entry": <canonical entry>, "sig": <base64 signature>}.
func (s *Signed) Leaf() []byte {
	var b bytes.Buffer
	b.Grow(len(s.Canonical) + 100)
	b.WriteString(`{"entry":`)
	b.Write(s.Canonical)
	b.WriteString(`,"sig":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(s.Sig))
	b.WriteString(`"}`)
	return b.Bytes()
}

// MarshalJSON writes the signed wire form.
func (s *Signed) MarshalJSON() ([]byte, error) { return s.Leaf(), nil }

// Parse decodes a signed entry in wire form ({"entry":…,"sig":…}). The entry
// need not be canonical on the wire: it is canonicalised, and the signature
// must cover the canonical form. Parse checks the shape of the entry and the
// size of its body (maxBody canonical bytes; 0 means DefaultMaxBody) but not
// the signature, the author's standing or the body's type rules.
func Parse(data []byte, maxBody int) (*Signed, error) {
	if !jsontext.Value(data).IsValid() {
		return nil, problem.New(problem.Invalid, "", "malformed JSON: %s", jsonError(data))
	}
	var w wire
	if err := json.Unmarshal(data, &w, json.RejectUnknownMembers(true)); err != nil {
		return nil, problem.New(problem.Invalid, "", "signed entry: %s", DescribeJSON(err))
	}
	return FromParts(w.Entry, w.Sig, maxBody)
}

// FromParts decodes a signed entry from its two parts: the entry's JSON and
// the base64 signature.
func FromParts(e jsontext.Value, sigText string, maxBody int) (*Signed, error) {
	if len(e) == 0 {
		return nil, problem.New(problem.Invalid, "", `signed entry has no "entry"`)
	}
	if sigText == "" {
		return nil, problem.New(problem.Invalid, "", `signed entry has no "sig": entries must be signed by their author`)
	}
	sig, err := decodeSig(sigText)
	if err != nil {
		return nil, err
	}
	s, err := ParseEntry(e, maxBody)
	if err != nil {
		return nil, err
	}
	s.Sig = sig
	return s, nil
}

// decodeSig decodes a signature's one valid text: strict base64 of 64 bytes.
func decodeSig(text string) ([]byte, error) {
	sig, err := sigEncoding.DecodeString(text)
	if err != nil || len(sig) != 64 || sigEncoding.EncodeToString(sig) != text {
		return nil, problem.New(problem.Invalid, "", `"sig" is not a base64 Ed25519 signature (64 bytes)`)
	}
	return sig, nil
}

// ParseEntry decodes an unsigned entry and computes its canonical bytes.
func ParseEntry(data []byte, maxBody int) (*Signed, error) {
	c, err := Canonical(data)
	if err != nil {
		return nil, problem.New(problem.Invalid, "", "malformed JSON: %s", jsonError(data))
	}
	return parseCanonical(c, maxBody)
}

// FromCanonical is FromParts for an entry already known to be in canonical
// form (it was cut from a canonical line), which saves canonicalising it again.
func FromCanonical(c jsontext.Value, sigText string, maxBody int) (*Signed, error) {
	sig, err := decodeSig(sigText)
	if err != nil {
		return nil, err
	}
	s, err := parseCanonical(c, maxBody)
	if err != nil {
		return nil, err
	}
	s.Sig = sig
	return s, nil
}

func parseCanonical(c []byte, maxBody int) (*Signed, error) {
	var e Entry
	if err := json.Unmarshal(c, &e, json.RejectUnknownMembers(true)); err != nil {
		return nil, problem.New(problem.Invalid, "", "entry: %s", DescribeJSON(err))
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if err := e.check(maxBody); err != nil {
		return nil, err
	}
	return &Signed{Entry: e, Canonical: c}, nil
}

// check verifies the shape every entry must have, whatever its type. A
// maxBody of 0 sets no limit on the body.
func (e *Entry) check(maxBody int) error {
	switch {
	case e.Type == "":
		return problem.New(problem.Invalid, "", `entry has no "type"`)
	case len(e.Body) == 0:
		return problem.New(problem.Invalid, "", `entry has no "body"`)
	case e.Body.Kind() != '{':
		return problem.New(problem.Invalid, "", `"body" must be a JSON object`)
	case maxBody > 0 && len(e.Body) > maxBody:
		return problem.New(problem.TooLarge, "", "body is %d bytes, over the limit of %d", len(e.Body), maxBody)
	case e.Time.IsZero():
		return problem.New(problem.Invalid, "", `entry has no "time" (the time it describes, RFC 3339)`)
	case e.Recorded.IsZero():
		return problem.New(problem.Invalid, "", `entry has no "recorded" time (RFC 3339)`)
	case e.Author == "":
		return problem.New(problem.Invalid, "", `entry has no "author"`)
	}
	if _, _, err := ParseKeyID(e.Author); err != nil {
		return problem.New(problem.Invalid, "", `"author": %v`, err)
	}
	if e.Corrects != nil && *e.Corrects < 0 {
		return problem.New(problem.Invalid, "", `"corrects" must be the index of an earlier entry, not %d`, *e.Corrects)
	}
	for i, s := range e.Sources {
		if s.URL == "" && s.Citation == "" {
			return problem.New(problem.Invalid, "", "sources[%d] has neither a url nor a citation", i)
		}
	}
	return nil
}

// jsonError describes where JSON text stops being valid.
func jsonError(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil {
		return "invalid JSON"
	}
	return DescribeJSON(err)
}

// NewVerifier parses a signed-note verifier key (name+hash+base64) and
// insists on its one canonical spelling: a lower-case hash and strict base64
// with no line breaks, so that one key has exactly one text.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	name, rest, _ := strings.Cut(vkey, "+")
	hash, b64, _ := strings.Cut(rest, "+")
	raw, err := sigEncoding.DecodeString(b64)
	if err != nil || hash != fmt.Sprintf("%08x", v.KeyHash()) || sigEncoding.EncodeToString(raw) != b64 || !validKeyName(name) {
		return nil, fmt.Errorf("verifier key %q is not in canonical form (name+8 lower-case hex digits+strict base64)", vkey)
	}
	return v, nil
}
