package account

import (
	"strings"
	"testing"
	"time"
)

// TestDefaultArgon checks that a service with no Argon option hashes with
// OWASP's parameters, and that the hash holds a 16-byte salt and a 32-byte
// key.
func TestDefaultArgon(t *testing.T) {
	st := newStore(t)
	s := New(st, Options{})
	if _, err := s.Create(t.Context(), "alice", pw, Reader, ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, hash, err := st.Account(t.Context(), "alice")
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(hash, prefix) {
		t.Fatalf("hash %q does not start with %q", hash, prefix)
	}
	p, salt, key, err := parsePHC(hash)
	if err != nil || len(salt) != 16 || len(key) != 32 || p != (ArgonParams{Time: 2, Memory: 19456, Threads: 1, KeyLen: 32}) {
		t.Errorf("parsePHC(%q) = %+v, %d-byte salt, %d-byte key, %v", hash, p, len(salt), len(key), err)
	}
	if _, _, _, err := s.SignIn(t.Context(), "alice", pw, ""); err != nil {
		t.Errorf("SignIn: %v", err)
	}
}

// TestParametersFromHash checks that a password is checked with the
// parameters its hash was made with, not the service's current ones.
func TestParametersFromHash(t *testing.T) {
	st := newStore(t)
	cheap := New(st, Options{Argon: FastArgon})
	if _, err := cheap.Create(t.Context(), "alice", pw, Reader, ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	costlier := New(st, Options{Argon: ArgonParams{Time: 3, Memory: 128, Threads: 2, KeyLen: 16}})
	if _, _, _, err := costlier.SignIn(t.Context(), "alice", pw, ""); err != nil {
		t.Errorf("SignIn after the parameters changed: %v", err)
	}
	if err := costlier.SetPassword(t.Context(), "alice", pw+pw); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if _, hash, _ := st.Account(t.Context(), "alice"); !strings.HasPrefix(hash, "$argon2id$v=19$m=128,t=3,p=2$") {
		t.Errorf("new hash %q does not use the new parameters", hash)
	}
	if _, _, _, err := cheap.SignIn(t.Context(), "alice", pw+pw, ""); err != nil {
		t.Errorf("SignIn with the new password: %v", err)
	}
}

func TestCheckPassword(t *testing.T) {
	good := hashPassword(pw, FastArgon)
	if ok, err := checkPassword(pw, good); !ok || err != nil {
		t.Errorf("checkPassword(right) = %v, %v", ok, err)
	}
	if ok, err := checkPassword(pw+" ", good); ok || err != nil {
		t.Errorf("checkPassword(wrong) = %v, %v", ok, err)
	}
	if again := hashPassword(pw, FastArgon); again == good {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	f := strings.Split(good, "$")
	salt, key := f[4], f[5]
	damaged := []struct {
		name, hash, says string
	}{
		{"empty", "", "fields"},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "fields"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, "argon2i"},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, "version"},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, "fields"},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, "parameters"},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, "parameters"},
		{"missing memory", "$argon2id$v=19$t=1,p=1$" + salt + "$" + key, "parameters"},
		{"extra parameter", "$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + key, "parameters"},
		{"repeated parameter", "$argon2id$v=19$m=64,m=64,t=1$" + salt + "$" + key, "twice"},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, "name=number"},
		{"huge memory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key, "m="},
		{"too little memory", "$argon2id$v=19$m=8,t=1,p=4$" + salt + "$" + key, "m="},
		{"too many threads", "$argon2id$v=19$m=4096,t=1,p=300$" + salt + "$" + key, "p="},
		{"too many passes", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key, "t="},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key, "salt"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key, "salt"},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA", "hash"},
	}
	for _, d := range damaged {
		t.Run(d.name, func(t *testing.T) {
			ok, err := checkPassword(pw, d.hash)
			if ok || err == nil || !strings.Contains(err.Error(), d.says) {
				t.Errorf("checkPassword = %v, %v; want an error saying %q", ok, err, d.says)
			}
		})
	}
}

func TestLimiterBounded(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute, 3)
	steps := []struct {
		advance time.Duration
		key     string
		want    []string // the keys remembered afterwards
	}{
		{0, "a", []string{"a"}},
		{time.Second, "b", []string{"a", "b"}},
		{time.Second, "c", []string{"a", "b", "c"}},
		{time.Second, "a", []string{"a", "b", "c"}},
		{time.Second, "d", []string{"a", "c", "d"}}, // b failed last longest ago
		{2 * time.Minute, "e", []string{"e"}},       // all the others are past the window
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if wait := l.acquire(now, st.key); wait != 0 {
			t.Fatalf("step %d: acquire(%s) waits %v", i, st.key, wait)
		}
		if len(l.fails) != len(st.want) {
			t.Errorf("step %d: %d keys remembered, want %v", i, len(l.fails), st.want)
		}
		for _, k := range st.want {
			if _, ok := l.fails[k]; !ok {
				t.Errorf("step %d: key %s forgotten, want %v", i, k, st.want)
			}
		}
	}
}
