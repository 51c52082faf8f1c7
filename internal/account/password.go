package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ArgonParams are the costs of hashing a password with argon2id. They are
// written into each hash, so that they can be raised later without
// invalidating the passwords already set.
type ArgonParams struct {
	Time    uint32 // passes over the memory
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32 // bytes of hash
}

// defaultArgon returns OWASP's recommended minimum for argon2id: 19 MiB of
// memory, two passes, one thread, a 32-byte hash.
func defaultArgon() ArgonParams {
	return ArgonParams{Time: 2, Memory: 19 * 1024, Threads: 1, KeyLen: 32}
}

// FastArgon is for tests only: cheap parameters.
var FastArgon = ArgonParams{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}

// saltLen is the length of a password's random salt, in bytes.
const saltLen = 16

// orDefault fills the zero fields of p with the defaults, and raises the
// memory and key length to the least that checkPassword accepts.
func (p ArgonParams) orDefault() ArgonParams {
	d := defaultArgon()
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	p.Memory = max(p.Memory, 8*uint32(p.Threads))
	p.KeyLen = max(p.KeyLen, minKey)
	return p
}

// b64 is the encoding of salts and hashes in the PHC string format.
var b64 = base64.RawStdEncoding

// hashPassword hashes password with a new random salt and returns it in the
// PHC string format: $argon2id$v=19$m=MEMORY,t=TIME,p=THREADS$SALT$HASH.
func hashPassword(password string, p ArgonParams) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// burnHash spends the time of checking password against a hash made with
// p, and learns nothing: it stands in for the check when there is no
// account to check against, so that timing does not tell.
func burnHash(password string, p ArgonParams) {
	argon2.IDKey([]byte(password), make([]byte, saltLen), p.Time, p.Memory, p.Threads, p.KeyLen)
}

// checkPassword reports whether password hashes to the PHC string phc, with
// the parameters and salt phc gives. A malformed phc is an error, not a
// mismatch: it means the stored hash is damaged.
func checkPassword(password, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Bounds on the parameters read from a stored hash, so that a damaged one
// neither panics nor asks for unbounded memory or time.
const (
	maxMemory = 4 << 20 // KiB: 4 GiB
	maxTime   = 100
	minKey    = 16
	maxKey    = 1024
	minSalt   = 8
)

// parsePHC reads an argon2id hash in the PHC string format.
func parsePHC(phc string) (p ArgonParams, salt, key []byte, err error) {
	fail := func(format string, args ...any) (ArgonParams, []byte, []byte, error) {
		return ArgonParams{}, nil, nil, fmt.Errorf("stored password hash: "+format, args...)
	}
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[0] != "" {
		return fail("want $argon2id$v=19$m=…,t=…,p=…$salt$hash, got %d fields", len(f)-1)
	}
	if f[1] != "argon2id" {
		return fail("algorithm is %q, want argon2id", f[1])
	}
	if f[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return fail("version is %q, want v=%d", f[2], argon2.Version)
	}
	params := map[string]uint64{}
	for kv := range strings.SplitSeq(f[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return fail("parameter %q is not name=number", kv)
		}
		if _, dup := params[k]; dup {
			return fail("parameter %q given twice", k)
		}
		params[k] = n
	}
	m, t, threads := params["m"], params["t"], params["p"]
	if len(params) != 3 || m == 0 || t == 0 || threads == 0 {
		return fail("parameters are %q, want m=…,t=…,p=…", f[3])
	}
	switch {
	case threads > 255:
		return fail("p=%d, at most 255", threads)
	case m < 8*threads || m > maxMemory:
		return fail("m=%d, want between 8×p and %d KiB", m, maxMemory)
	case t > maxTime:
		return fail("t=%d, at most %d", t, maxTime)
	}
	if salt, err = b64.DecodeString(f[4]); err != nil || len(salt) < minSalt {
		return fail("salt is not at least %d bytes of unpadded base64", minSalt)
	}
	if key, err = b64.DecodeString(f[5]); err != nil || len(key) < minKey || len(key) > maxKey {
		return fail("hash is not %d to %d bytes of unpadded base64", minKey, maxKey)
	}
	p = ArgonParams{Time: uint32(t), Memory: uint32(m), Threads: uint8(threads), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}
