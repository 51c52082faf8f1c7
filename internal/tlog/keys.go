package tlog

import (
	"fmt"
	"maps"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"parley/internal/entry"
	"parley/internal/problem"
)

// The entry types the log core itself understands: who may write.
const (
	KeyRegister = "key.register"
	KeyRevoke   = "key.revoke"
)

// KeyRegisterBody registers an author's public key so that entries signed by
// it are accepted. Only the operator may register keys.
type KeyRegisterBody struct {
	// Key is the signed-note verifier key, "name+hash+base64".
	Key string `json:"key"`
	// Holder says who holds the key, in words ("Kremlin press office").
	Holder string `json:"holder,omitempty"`
}

// Validate checks that Key is an Ed25519 verifier key.
func (b *KeyRegisterBody) Validate() error {
	if b.Key == "" {
		return fmt.Errorf(`"key" is required: a verifier key of the form name+hash+base64`)
	}
	if _, err := entry.NewVerifier(b.Key); err != nil {
		return fmt.Errorf(`"key" is not a signed-note verifier key (name+hash+base64): %v`, err)
	}
	return nil
}

// ID returns the "name+hash" identifier of the registered key.
func (b *KeyRegisterBody) ID() string {
	name, rest, _ := strings.Cut(b.Key, "+")
	hash, _, _ := strings.Cut(rest, "+")
	return name + "+" + hash
}

// KeyRevokeBody revokes a key: entries it signs after the revocation are refused.
type KeyRevokeBody struct {
	// Key is the "name+hash" identifier of the key revoked.
	Key    string `json:"key"`
	Reason string `json:"reason,omitempty"`
}

// Validate checks the key identifier.
func (b *KeyRevokeBody) Validate() error {
	if _, _, err := entry.ParseKeyID(b.Key); err != nil {
		return fmt.Errorf(`"key": %v`, err)
	}
	return nil
}

// RegisterTypes adds the log core's own types to r.
func RegisterTypes(r *entry.Registry) error {
	for _, t := range []entry.Type{
		{Name: KeyRegister, Doc: "register an author's public key (operator only)", New: func() entry.Body { return new(KeyRegisterBody) }, OperatorOnly: true},
		{Name: KeyRevoke, Doc: "revoke an author's key (operator only)", New: func() entry.Body { return new(KeyRevokeBody) }, OperatorOnly: true},
	} {
		if err := r.Register(t); err != nil {
			return err
		}
	}
	return nil
}

// A Key is an author key as the log knows it.
type Key struct {
	ID         string // name+hash
	VKey       string // name+hash+base64
	Holder     string
	Registered int64 // index of its key.register entry
	Revoked    int64 // index of its key.revoke entry, or -1
	verifier   note.Verifier
}

// Verifier returns the key's signature verifier.
func (k *Key) Verifier() note.Verifier { return k.verifier }

// keyring is the set of registered keys, folded from key entries in order.
type keyring struct {
	operator string // ID of the operator key
	keys     map[string]*Key
	// operatorOnly are the types only the operator may sign.
	operatorOnly map[string]bool
}

func newKeyring(operator string, types *entry.Registry) *keyring {
	only := map[string]bool{KeyRegister: true, KeyRevoke: true}
	for _, t := range types.Types() {
		if t.OperatorOnly {
			only[t.Name] = true
		}
	}
	return &keyring{operator: operator, keys: map[string]*Key{}, operatorOnly: only}
}

func (k *keyring) clone() *keyring {
	c := &keyring{operator: k.operator, keys: maps.Clone(k.keys), operatorOnly: k.operatorOnly}
	return c
}

// admit checks that the author of s may append it at index.
func (k *keyring) admit(index int64, s *entry.Signed) error {
	author := s.Entry.Author
	key, ok := k.keys[author]
	switch {
	case index == 0:
		if s.Entry.Type != KeyRegister || author != k.operator {
			return problem.New(problem.Unauthorized, "", "the first entry must be the operator (%s) registering its own key", k.operator)
		}
		return nil
	case !ok:
		return problem.New(problem.Unauthorized, "", "author key %s is not registered", author)
	case key.Revoked >= 0 && key.Revoked < index:
		return problem.New(problem.Unauthorized, "", "author key %s was revoked at entry %d", author, key.Revoked)
	}
	if k.operatorOnly[s.Entry.Type] && author != k.operator {
		return problem.New(problem.Unauthorized, "", "only the operator (%s) may write %s entries", k.operator, s.Entry.Type)
	}
	return nil
}

// apply folds a key entry at index into the keyring. The caller has admitted it.
// Keys are updated copy-on-write, so a clone taken earlier is unaffected.
func (k *keyring) apply(index int64, s *entry.Signed, body entry.Body) error {
	switch b := body.(type) {
	case *KeyRegisterBody:
		id := b.ID()
		if old, dup := k.keys[id]; dup {
			return problem.New(problem.Conflict, "", "key %s is already registered (entry %d)", id, old.Registered)
		}
		if index == 0 && id != k.operator {
			return problem.New(problem.Unauthorized, "", "the first entry must register the operator key %s, not %s", k.operator, id)
		}
		v, err := entry.NewVerifier(b.Key)
		if err != nil {
			return problem.New(problem.Invalid, "", "key %s: %v", id, err)
		}
		k.keys[id] = &Key{ID: id, VKey: b.Key, Holder: b.Holder, Registered: index, Revoked: -1, verifier: v}
	case *KeyRevokeBody:
		old, ok := k.keys[b.Key]
		switch {
		case !ok:
			return problem.New(problem.NotFound, "", "cannot revoke %s: no such key is registered", b.Key)
		case b.Key == k.operator:
			return problem.New(problem.Invalid, "", "the operator key cannot be revoked")
		case old.Revoked >= 0:
			return problem.New(problem.Conflict, "", "key %s was already revoked at entry %d", b.Key, old.Revoked)
		}
		c := *old
		c.Revoked = index
		k.keys[b.Key] = &c
	}
	return nil
}

// verifier returns the verifier for the key id, if registered.
func (k *keyring) verifier(id string) (note.Verifier, bool) {
	key, ok := k.keys[id]
	if !ok {
		return nil, false
	}
	return key.verifier, true
}
