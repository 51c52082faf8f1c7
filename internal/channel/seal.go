// Package channel is the cryptography of confidential channels, shared by
// the CLI and the tests: sealing a signed entry for a channel's members and
// opening it again.
//
// A member signs an ordinary entry with their own key (the inner entry),
// picks a 32-byte random salt, and commits to the entry with
//
//	commitment = hex(SHA-256(salt || leaf))
//
// where leaf is the inner entry's signed wire form, entry.Signed.Leaf(). The
// plaintext {"salt": base64, "entry": leaf} is encrypted with age, in the
// binary format, to the X25519 recipients of every member. The server keeps
// the ciphertext and the operator puts only the commitment on the public log
// (a sealed entry). The salt keeps the commitment from being confirmed by
// guessing the entry; showing the salt and the entry later proves the
// entry was on the record, at the sealed entry's index, all along.
package channel

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"parley/internal/entry"
	"parley/internal/problem"
)

// SaltSize is the length of a commitment's salt, in bytes.
const SaltSize = 32

// MaxPlaintext is the largest plaintext Open reads: an entry of the largest
// body, signed and salted, with room to spare.
const MaxPlaintext = 4 * entry.DefaultMaxBody

// Plaintext is what a channel entry's ciphertext holds.
type Plaintext struct {
	// Salt is the commitment's salt, 32 random bytes in standard base64.
	Salt string `json:"salt"`
	// Entry is the signed inner entry in its wire form, {"entry":…,"sig":…}.
	Entry jsontext.Value `json:"entry"`
}

// Commit returns the commitment to leaf with salt: hex(SHA-256(salt || leaf)).
func Commit(salt, leaf []byte) string {
	h := sha256.New()
	h.Write(salt)
	h.Write(leaf)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal encrypts the signed entry s to recipients (age X25519 recipients,
// "age1…") and returns its commitment and the ciphertext, a binary age file.
func Seal(s *entry.Signed, recipients []string) (commitment string, ciphertext []byte, err error) {
	if len(recipients) == 0 {
		return "", nil, errors.New("seal: no recipients")
	}
	rs := make([]age.Recipient, len(recipients))
	for i, r := range recipients {
		x, err := age.ParseX25519Recipient(r)
		if err != nil {
			return "", nil, fmt.Errorf("seal: recipient %d (%.80q): %w", i, r, err)
		}
		rs[i] = x
	}
	salt := make([]byte, SaltSize)
	rand.Read(salt)
	leaf := s.Leaf()
	pt, err := json.Marshal(Plaintext{Salt: base64.StdEncoding.EncodeToString(salt), Entry: leaf}, json.Deterministic(true))
	if err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rs...)
	if err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(pt); err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", nil, fmt.Errorf("seal: %w", err)
	}
	return Commit(salt, leaf), buf.Bytes(), nil
}

// ErrNotForYou is returned by Open when the ciphertext is not encrypted to
// any of the identities given: it was posted while the identity's account
// was not a member.
var ErrNotForYou = errors.New("not encrypted to this identity")

// An Opened is a channel entry decrypted: the inner signed entry and the
// commitment recomputed from it. The caller checks the commitment against
// the public log and the signature against the author's registered key.
type Opened struct {
	Entry      *entry.Signed
	Commitment string
	Salt       []byte
}

// Open decrypts ciphertext with ids and decodes the plaintext. It returns
// ErrNotForYou if no identity can decrypt it, and a Tampered refusal if the
// plaintext is not a salt and a signed entry.
func Open(ciphertext []byte, ids ...age.Identity) (Opened, error) {
	rd, err := age.Decrypt(bytes.NewReader(ciphertext), ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return Opened{}, ErrNotForYou
		}
		return Opened{}, problem.New(problem.Tampered, "ciphertext", "not a readable age file: %v", err)
	}
	pt, err := io.ReadAll(io.LimitReader(rd, MaxPlaintext+1))
	if err != nil {
		return Opened{}, problem.New(problem.Tampered, "ciphertext", "decrypting: %v", err)
	}
	if len(pt) > MaxPlaintext {
		return Opened{}, problem.New(problem.TooLarge, "ciphertext", "the plaintext is over %d bytes", MaxPlaintext)
	}
	var p Plaintext
	if err := json.Unmarshal(pt, &p, json.RejectUnknownMembers(true)); err != nil {
		return Opened{}, problem.New(problem.Tampered, "plaintext", "not {\"salt\", \"entry\"}: %s", entry.DescribeJSON(err))
	}
	salt, err := base64.StdEncoding.Strict().DecodeString(p.Salt)
	if err != nil || len(salt) != SaltSize {
		return Opened{}, problem.New(problem.Tampered, "plaintext/salt", "the salt is not %d bytes in base64", SaltSize)
	}
	s, err := entry.Parse(p.Entry, 0)
	if err != nil {
		return Opened{}, problem.At("plaintext/entry", err)
	}
	return Opened{Entry: s, Commitment: Commit(salt, s.Leaf()), Salt: salt}, nil
}

// ageHeader is the first line of a binary age file.
const ageHeader = "age-encryption.org/v1\n"

// Recipients returns how many X25519 recipients ciphertext is encrypted
// to, read from its header, or an error if it is not a binary age file.
// The server checks it against a channel's members; it cannot tell who the
// recipients are.
func Recipients(ciphertext []byte) (int, error) {
	if !bytes.HasPrefix(ciphertext, []byte(ageHeader)) {
		return 0, errors.New("not a binary age file (it must start with \"age-encryption.org/v1\")")
	}
	hdr, err := age.ExtractHeader(bytes.NewReader(ciphertext))
	if err != nil {
		return 0, fmt.Errorf("not a well-formed age file: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(hdr))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "-> X25519 ") {
			n++
		}
	}
	return n, nil
}

// NewIdentity makes an age X25519 identity and returns it as the text of
// an identity file, as age-keygen writes one, with its recipient.
func NewIdentity(now time.Time) (file, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	r := id.Recipient().String()
	file = fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", now.UTC().Format(time.RFC3339), r, id)
	return file, r, nil
}

// ParseIdentities reads an identity file, as NewIdentity or age-keygen
// writes one.
func ParseIdentities(file []byte) ([]age.Identity, error) {
	return age.ParseIdentities(bytes.NewReader(file))
}
