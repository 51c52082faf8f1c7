package channel_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"

	"parley/internal/channel"
	"parley/internal/entry"
	"parley/internal/problem"
)

func signedNote(t *testing.T, text string) *entry.Signed {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, "author")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := entry.Object(map[string]string{"text": text})
	at := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	s, err := entry.Sign(entry.Entry{Type: "note", Body: body, Time: at, Recorded: at}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func identity(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSealOpen(t *testing.T) {
	s := signedNote(t, "a confidential note")
	a, b, outsider := identity(t), identity(t), identity(t)
	commitment, ct, err := channel.Seal(s, []string{a.Recipient().String(), b.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(commitment) != 64 || strings.ToLower(commitment) != commitment {
		t.Errorf("commitment %q is not 64 lower-case hex digits", commitment)
	}
	if bytes.Contains(ct, []byte("confidential")) {
		t.Error("the ciphertext holds the plaintext")
	}
	if n, err := channel.Recipients(ct); err != nil || n != 2 {
		t.Errorf("Recipients = %d, %v; want 2", n, err)
	}
	for _, id := range []*age.X25519Identity{a, b} {
		o, err := channel.Open(ct, id)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if o.Commitment != commitment || !bytes.Equal(o.Entry.Leaf(), s.Leaf()) {
			t.Errorf("opened %s with commitment %s, want %s with %s", o.Entry.Leaf(), o.Commitment, s.Leaf(), commitment)
		}
		sum := sha256.Sum256(append(append([]byte{}, o.Salt...), s.Leaf()...))
		if hex.EncodeToString(sum[:]) != commitment || len(o.Salt) != channel.SaltSize {
			t.Errorf("the commitment is not hex(SHA-256(salt || leaf))")
		}
	}
	if _, err := channel.Open(ct, outsider); !errors.Is(err, channel.ErrNotForYou) {
		t.Errorf("Open by an outsider = %v, want ErrNotForYou", err)
	}

	// The same entry sealed twice has two commitments: the salt hides it.
	again, _, err := channel.Seal(s, []string{a.Recipient().String()})
	if err != nil || again == commitment {
		t.Errorf("sealed twice: %s and %s, %v; want two commitments", commitment, again, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	id := identity(t)
	seal := func(plaintext string) []byte {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(plaintext))
		w.Close()
		return buf.Bytes()
	}
	leaf := signedNote(t, "x").Leaf()
	salt := base64.StdEncoding.EncodeToString(make([]byte, channel.SaltSize))
	good, _ := json.Marshal(channel.Plaintext{Salt: salt, Entry: leaf})
	if _, err := channel.Open(seal(string(good)), id); err != nil {
		t.Fatalf("a well-formed plaintext: %v", err)
	}
	for name, pt := range map[string]string{
		"NotJSON":     "hello",
		"ShortSalt":   `{"salt":"AAAA","entry":` + string(leaf) + `}`,
		"NoEntry":     `{"salt":"` + salt + `"}`,
		"ExtraMember": `{"salt":"` + salt + `","entry":` + string(leaf) + `,"channel":"x"}`,
		"BadSig":      `{"salt":"` + salt + `","entry":` + strings.Replace(string(leaf), `"sig":"`, `"sig":"A`, 1) + `}`,
	} {
		if _, err := channel.Open(seal(pt), id); err == nil || problem.KindOf(err) == problem.Internal {
			t.Errorf("%s: Open = %v, want a refusal", name, err)
		}
	}
	if _, err := channel.Recipients([]byte("not age")); err == nil {
		t.Error("Recipients accepts what is not an age file")
	}
}
